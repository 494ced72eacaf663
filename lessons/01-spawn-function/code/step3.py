# Lesson 1, step 3: join() waits for one child and reaps it. The
# tutorial lists p.join() but its example never calls it; here it does.
from multiprocessing import Process
import time
import random


def piao(name):
    print('%s is piaoing' % name)
    time.sleep(random.randint(1, 3))
    print('%s is piao end' % name)


if __name__ == '__main__':
    children = [Process(target=piao, kwargs={'name': name}, name=name)
                for name in ['alex', 'wupeiqi', 'yuanhao']]
    for p in children:
        p.start()
    for p in children:
        # FIX: join() makes the caller wait for that child, not "the
        # main thread".
        p.join()
        print('%s joined, exitcode %s' % (p.name, p.exitcode))
    print('all children are done')
