# Exercise 7: a hundred processes each take one from a count that a
# Manager (管理器) keeps, d['count'] -= 1, so 100 should end at 0. Run
# it: the count ends above 0, and not the same every run. Make it exact.
# The lab reads the count from the file named in PROCLAB_RESULT.
from multiprocessing import Process, Manager, Barrier
import os

PROCESSES = 100


def take_one(d, ready):
    ready.wait()  # all together, however long each took to start
    d['count'] -= 1


if __name__ == '__main__':
    with Manager() as m:  # the manager's server process keeps d
        d = m.dict({'count': PROCESSES})
        ready = Barrier(PROCESSES, timeout=30)
        p_l = [Process(target=take_one, args=(d, ready))
               for _ in range(PROCESSES)]
        for p in p_l:
            p.start()
        for p in p_l:
            p.join()
        print("d['count'] = %d" % d['count'])
        with open(os.environ.get('PROCLAB_RESULT', 'count.txt'), 'w') as f:
            f.write('%d\n' % d['count'])
