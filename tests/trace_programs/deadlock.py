# The tutorial's deadlock: two threads take mutexA and mutexB in opposite orders and wait for
# each other for ever. Used by tests/trace.rs (which ends it with Ctrl-C).
import threading
import time

mutexA = threading.Lock()
mutexB = threading.Lock()


def first():
    with mutexA:
        print("first has mutexA")
        time.sleep(0.1)
        with mutexB:
            print("first has both")


def second():
    with mutexB:
        print("second has mutexB")
        time.sleep(0.1)
        with mutexA:
            print("second has both")


if __name__ == "__main__":
    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
