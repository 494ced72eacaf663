# Lesson 10, step 2: map() returns the results in the order of the
# items, whatever order the tasks finish in; a callback runs in the
# parent (主进程), not in the worker. The tutorial's crawler uses it so:
# workers fetch, the parent parses. Rendered anew, with no network.
from multiprocessing import Pool
import os
import random
import time

SPEED = float(os.environ.get('PROCLAB_SPEED', 1))


def work(n):
    time.sleep(random.uniform(0.1, 1) / SPEED)
    print('task %d done in %d' % (n, os.getpid()))
    return n


def parse(result):
    print('callback(%r) runs in %d' % (result, os.getpid()))


if __name__ == '__main__':
    print('main is %d' % os.getpid())
    with Pool(4) as p:
        print('map: %s' % p.map(work, range(8)))
        p.apply_async(work, args=(99,), callback=parse).get()
