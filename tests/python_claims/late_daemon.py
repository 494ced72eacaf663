# daemon set after start(): refused with an AssertionError, whose message this prints; under
# `python -O` the assert is gone, the flag changes in the parent only (the child's copy was
# fixed at fork), and the parent, which reads p.daemon when it exits, terminates the child
# instead of waiting for it.
import multiprocessing as mp
import time


def work():
    print(f"child: my daemon flag is {mp.current_process().daemon}")
    time.sleep(1)
    print("child: finished my work")


if __name__ == '__main__':
    p = mp.Process(target=work)
    p.start()
    time.sleep(0.3)
    try:
        p.daemon = True
        print(f"parent: late daemon = True accepted, p.daemon is {p.daemon}")
    except AssertionError as error:
        print(f"parent: late daemon = True: AssertionError: {error}")
    # Returning from here: Python's exit joins non-daemons and terminates daemons.
