# Exercise 7, a solution: d['count'] -= 1 through a Manager is two
# requests to its server, a get and then a set; another process's set
# can come between them and be overwritten. A Lock (锁) passed to every
# process makes the get and the set one step that nobody interrupts.
from multiprocessing import Process, Manager, Barrier, Lock
import os

PROCESSES = 100


def take_one(d, ready, lock):
    ready.wait()  # all together, however long each took to start
    with lock:  # the get and the set, with nobody else between them
        d['count'] -= 1


if __name__ == '__main__':
    with Manager() as m:  # the manager's server process keeps d
        d = m.dict({'count': PROCESSES})
        ready = Barrier(PROCESSES, timeout=30)
        lock = Lock()
        p_l = [Process(target=take_one, args=(d, ready, lock))
               for _ in range(PROCESSES)]
        for p in p_l:
            p.start()
        for p in p_l:
            p.join()
        print("d['count'] = %d" % d['count'])
        with open(os.environ.get('PROCLAB_RESULT', 'count.txt'), 'w') as f:
            f.write('%d\n' % d['count'])
