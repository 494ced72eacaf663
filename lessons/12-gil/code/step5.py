# Lesson 12, step 5: I/O-bound threads under the GIL: CPython releases
# it around every blocking call, so while one thread waits another
# runs. Each thread reads three times (a sleep, after PROCLAB_SPEED).
# Not in the tutorial as code.
from threading import Thread
import os
import time

SPEED = float(os.environ.get('PROCLAB_SPEED', 1))


def io_bound():
    for _ in range(3):
        time.sleep(0.2 / SPEED)  # a blocking read: the GIL is free


def timed(workers):
    threads = [Thread(target=io_bound) for _ in range(workers)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - began


if __name__ == '__main__':
    print('1 thread: %.2f s; 4 threads: %.2f s' % (timed(1), timed(4)))
