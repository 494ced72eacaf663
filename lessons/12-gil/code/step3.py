# Lesson 12, step 3: the same job split between N threads of one
# process, under its one GIL: never more than one CPU busy, and no
# faster than one thread. Not in the tutorial as code (it says so).
from threading import Thread
import os
import time


def countdown(n, cpu, i):
    began = time.thread_time()
    while n > 0:
        n -= 1
    cpu[i] = time.thread_time() - began  # this thread's CPU time


def job_size(seconds):
    n = 100000
    while True:
        began = time.perf_counter()
        countdown(n, [0], 0)
        took = time.perf_counter() - began
        if took > 0.02:
            return int(n * seconds / took)
        n *= 2


if __name__ == '__main__':
    workers = min(os.cpu_count(), 4)
    n = job_size(0.4)
    began = time.perf_counter()
    countdown(n, [0], 0)
    one = time.perf_counter() - began
    cpu = [0.0] * workers
    threads = [Thread(target=countdown, args=(n // workers, cpu, i))
               for i in range(workers)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    print('1 thread: %.2f s; %d threads: %.2f s wall, %.2f s of CPU: '
          '%.1f CPUs busy' % (one, workers, wall, sum(cpu), sum(cpu) / wall))
