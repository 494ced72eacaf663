# Lesson 12, step 1: the job, the tutorial's countdown (while n > 0:
# n -= 1), sized to take about 0.1 s on one thread here, and this
# machine: its CPUs and CPython's switch interval. Not in the tutorial
# as code.
import os
import sys
import time


def countdown(n):
    while n > 0:
        n -= 1


def job_size(seconds=0.1):
    """The n that one thread counts down in about `seconds`."""
    n = 100000
    while True:
        began = time.perf_counter()
        countdown(n)
        took = time.perf_counter() - began
        if took > 0.02:
            return int(n * seconds / took)
        n *= 2


if __name__ == '__main__':
    n = job_size()
    began = time.perf_counter()
    countdown(n)
    print('the job: counting down %d, %.2f s on one thread'
          % (n, time.perf_counter() - began))
    print('CPUs: %d; sys.getswitchinterval(): %s'
          % (os.cpu_count(), sys.getswitchinterval()))
