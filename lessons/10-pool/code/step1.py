# Lesson 10, step 1: the tutorial's pool (section 1.9): Pool() makes one
# worker per CPU; work(n) prints its pid, takes a second and returns
# n*n. Five tasks with apply (synchronous: each waits for its result),
# five with apply_async (sent together; get() waits). Rendered anew,
# the second follows PROCLAB_SPEED (the lab's --speed).
from multiprocessing import Pool
import os
import time

SPEED = float(os.environ.get('PROCLAB_SPEED', 1))


def work(n):
    print('%s run' % os.getpid())
    time.sleep(1 / SPEED)
    return n ** 2


if __name__ == '__main__':
    print('main %d; %d CPUs' % (os.getpid(), os.cpu_count()))
    p = Pool()  # os.cpu_count() workers
    began = time.monotonic()
    res_l = [p.apply(work, args=(i,)) for i in range(5)]
    print('apply: %s in %.1f s' % (res_l, (time.monotonic() - began) * SPEED))
    began = time.monotonic()
    results = [p.apply_async(work, args=(i,)) for i in range(5)]
    res_l = [res.get() for res in results]
    print('apply_async: %s in %.1f s'
          % (res_l, (time.monotonic() - began) * SPEED))
    p.close()
    p.join()
