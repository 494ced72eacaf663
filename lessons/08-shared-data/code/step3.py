# Lesson 8, step 3: the tutorial's Manager example (section 1.7): the
# count in a dict that the manager's server process owns goes down by
# one a hundred times, d['count'] -= 1, without a lock and then with
# one. Rendered anew: ten processes do ten each (the tutorial starts a
# hundred, which takes a minute under spawn), all at once, and each
# appends its pid to a manager list when done.
from multiprocessing import Process, Manager, Lock, Barrier
import os


def work(d, done, ready, lock):
    ready.wait()  # together, however long each took to start
    for _ in range(10):
        if lock is None:
            d['count'] -= 1  # a get and a set: two requests
        else:
            with lock:
                d['count'] -= 1
    done.append(os.getpid())


if __name__ == '__main__':
    with Manager() as m:  # starts the server; shuts it down at the end
        for how, lock in [('no lock', None), ('lock', Lock())]:
            d, done = m.dict({'count': 100}), m.list()
            ready = Barrier(10, timeout=30)
            p_l = [Process(target=work, args=(d, done, ready, lock))
                   for _ in range(10)]
            for p in p_l:
                p.start()
            for p in p_l:
                p.join()
            print("%s: d['count'] = %d; %d processes did their part"
                  % (how, d['count'], len(set(done))))
