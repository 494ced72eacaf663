# Lesson 12, step 4: threads without the GIL. The CPython here (3.11)
# always has one: sys._is_gil_enabled() exists only from 3.13, where a
# separate free-threaded build (python3.13t) runs Python threads in
# parallel. What runs in parallel under the GIL: C code that releases
# it, as hashlib does for large data. Not in the tutorial as code.
from threading import Thread
import hashlib
import os
import sys
import time

DATA = b'x' * (64 * 1024 * 1024)


def digest(cpu, i):
    began = time.thread_time()
    hashlib.sha256(DATA).hexdigest()  # releases the GIL while it hashes
    cpu[i] = time.thread_time() - began


if __name__ == '__main__':
    gil = getattr(sys, '_is_gil_enabled', None)
    print('sys._is_gil_enabled: %s'
          % ('absent: this build always has a GIL' if gil is None
             else gil()))
    workers = min(os.cpu_count(), 4)
    cpu = [0.0] * workers
    threads = [Thread(target=digest, args=(cpu, i)) for i in range(workers)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    print('%d threads hashing: %.2f s wall, %.2f s of CPU: %.1f CPUs busy'
          % (workers, wall, sum(cpu), sum(cpu) / wall))
