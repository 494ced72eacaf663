# Lesson 8, step 4: the same increment, timed: under a Value's lock in
# shared memory, and as a get and a set through a Manager's dict. Not in
# the tutorial as code.
from multiprocessing import Manager, Value
import time

N = 2000


if __name__ == '__main__':
    counter = Value('i', 0)
    began = time.perf_counter()
    for _ in range(N):
        with counter.get_lock():
            counter.value += 1
    shared = (time.perf_counter() - began) / N
    with Manager() as m:
        d = m.dict({'count': 0})
        began = time.perf_counter()
        for _ in range(N):
            d['count'] += 1
        managed = (time.perf_counter() - began) / N
    print('shared memory: %.2f us an increment' % (shared * 1e6))
    print('manager: %.1f us an increment (two round trips)'
          % (managed * 1e6))
    print('the manager is %.0f times slower' % (managed / shared))
