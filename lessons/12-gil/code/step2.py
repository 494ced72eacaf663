# Lesson 12, step 2: N processes are N interpreters, each with its own
# GIL: the job split between them runs on N cores at once. Measured:
# the wall time, and the CPU time the workers used (more than the wall
# time when they ran in parallel). Not in the tutorial as code.
from multiprocessing import Pool
import os
import time


def countdown(n):
    began = time.process_time()
    while n > 0:
        n -= 1
    return time.process_time() - began  # this worker's CPU time


def job_size(seconds):
    n = 100000
    while True:
        began = time.perf_counter()
        countdown(n)
        took = time.perf_counter() - began
        if took > 0.02:
            return int(n * seconds / took)
        n *= 2


if __name__ == '__main__':
    workers = min(os.cpu_count(), 4)
    n = job_size(0.4)
    with Pool(workers) as p:
        p.map(countdown, [1] * workers)  # the workers are up
        began = time.perf_counter()
        cpu = sum(p.map(countdown, [n // workers] * workers))
        wall = time.perf_counter() - began
    print('%d processes: %.2f s wall, %.2f s of CPU: %.1f CPUs busy'
          % (workers, wall, cpu, cpu / wall))
