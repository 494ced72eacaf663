# Exercise 9: a thousand tiny tasks, each a short wait (like asking a
# server for a price) and a square. Run it: a process is started for
# every task. Do the same work with a Pool (进程池): a few processes
# that take the tasks one after the other. The lab counts the processes
# and compares the time with its own solution's, on this machine.
from multiprocessing import Process, Queue
import time

TASKS = 1000


def task(n):
    time.sleep(0.002)  # the tiny wait
    return n * n


def run_one(n, results):
    results.put(task(n))


if __name__ == '__main__':
    results = Queue()
    p_l = [Process(target=run_one, args=(n, results))
           for n in range(TASKS)]
    for p in p_l:
        p.start()
    total = sum(results.get() for _ in range(TASKS))
    for p in p_l:
        p.join()
    print('sum of the squares: %d' % total)
