# A process named alex (start method from argv: fork, spawn or forkserver), joined, then a
# thread with Python's default name, joined. Used by tests/trace.rs.
import multiprocessing
import sys
import threading
import time


def task(name):
    print(f"{name} is running in {multiprocessing.current_process().name}")
    time.sleep(0.1)


def sayhi():
    print(f"hi from {threading.current_thread().name}")


if __name__ == "__main__":
    multiprocessing.set_start_method(sys.argv[1])
    p = multiprocessing.Process(target=task, args=("alex",), name="alex")
    p.start()
    p.join()
    t = threading.Thread(target=sayhi)
    t.start()
    t.join()
    print("main done")
