# Exercise 9 with a Pool that does nothing: the thousand tasks run in
# the main process, one after the other. Few processes, and fast
# enough on many machines; but not one task ran in a worker.
from multiprocessing import Pool
import time


def task(n):
    time.sleep(0.002)
    return n * n


if __name__ == '__main__':
    with Pool() as pool:
        total = sum(task(n) for n in range(1000))
    print('sum of the squares: %d' % total)
