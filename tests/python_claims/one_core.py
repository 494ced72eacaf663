# Lesson 12, step 2: on one core, N processes cannot finish a CPU-bound job faster than one:
# they take turns on the core, and their time waiting for a CPU is time waiting for each
# other. Prints how many CPUs two processes kept busy together (their CPU time over the wall
# time): never more than one. (Their speed-up over one process is noise, above or below 1,
# whenever the machine is busy.)
import multiprocessing as mp
import os
import resource
import time

os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core, inherited
JOB = 3_000_000


def count_down(n):
    while n > 0:
        n -= 1


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


began, cpu_before = time.monotonic(), children_cpu()
processes = [mp.Process(target=count_down, args=(JOB // 2,)) for _ in range(2)]
for process in processes:
    process.start()
for process in processes:
    process.join()
wall, cpu = time.monotonic() - began, children_cpu() - cpu_before
print(f"cores {len(os.sched_getaffinity(0))}")
print(f"cpus busy {cpu / wall:.2f}")
