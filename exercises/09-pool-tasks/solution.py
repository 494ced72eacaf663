# Exercise 9, a solution: Pool() starts one worker per CPU once; map()
# cuts the thousand tasks into chunks and hands them to the workers, so
# the cost of starting a process is paid a few times, not a thousand.
from multiprocessing import Pool
import time

TASKS = 1000


def task(n):
    time.sleep(0.002)  # the tiny wait
    return n * n


if __name__ == '__main__':
    with Pool() as pool:  # os.cpu_count() workers
        total = sum(pool.map(task, range(TASKS)))
    print('sum of the squares: %d' % total)
