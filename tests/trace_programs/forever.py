# A parent and a child that would run for a minute: tests/trace.rs kills proclab under them.
import multiprocessing
import time


def task():
    print("child sleeping")
    time.sleep(60)


if __name__ == "__main__":
    multiprocessing.set_start_method("fork")
    p = multiprocessing.Process(target=task)
    p.start()
    print("parent waiting")
    p.join()
