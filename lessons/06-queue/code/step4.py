# Lesson 6, step 4: the tutorial's JoinableQueue version, inside a
# process called shop: the producer p1 puts its baozi and waits in
# q.join() until each was task_done(); the consumers loop for ever, as
# daemons, and end with shop. Rendered anew, sleeps after PROCLAB_SPEED.
from multiprocessing import Process, JoinableQueue
import os
import random
import time

SPEED = float(os.environ.get('PROCLAB_SPEED', 1))


def consumer(q, name):
    while True:
        res = q.get()
        time.sleep(random.uniform(0.1, 0.3) / SPEED)
        print('%s 吃 %s' % (name, res))
        q.task_done()  # one fewer not done


def producer(q):
    for i in range(6):
        q.put('包子%s' % i)
    q.join()  # until every baozi is eaten, not only taken
    print('p1: q.join() returned, all eaten')


def shop():
    q = JoinableQueue()
    p1 = Process(target=producer, args=(q,))
    c1 = Process(target=consumer, args=(q, 'alex'))
    c2 = Process(target=consumer, args=(q, 'wupeiqi'))
    c1.daemon = True  # no sentinel: they end with shop
    c2.daemon = True
    p1.start()
    c1.start()
    c2.start()
    p1.join()
    print('shop: p1 is done; returning ends the consumers')


if __name__ == '__main__':
    p = Process(target=shop, name='shop')
    p.start()
    p.join()
    print('主进程: shop exitcode %s' % p.exitcode)
