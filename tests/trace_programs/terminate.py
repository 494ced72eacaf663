# terminate(): the parent sends SIGTERM to a child that sleeps; the child dies of it and the
# parent's join reaps it with exitcode -15. Used by tests/trace.rs.
import multiprocessing
import time


def task():
    print("working")
    time.sleep(10)


if __name__ == "__main__":
    multiprocessing.set_start_method("fork")
    p = multiprocessing.Process(target=task)
    p.start()
    time.sleep(0.2)
    p.terminate()
    p.join()
    print("exitcode", p.exitcode)
