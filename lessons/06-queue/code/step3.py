# Lesson 6, step 3: the tutorial's baozi (包子) producer and two
# consumers, with a sentinel (None) per consumer. Rendered anew: the
# queue holds two, the producer is faster than the eaters, and the
# sleeps follow PROCLAB_SPEED (the lab's --speed).
from multiprocessing import Process, Queue
import os
import random
import time

SPEED = float(os.environ.get('PROCLAB_SPEED', 1))


def consumer(q, name):
    while True:
        res = q.get()
        if res is None:  # the sentinel: nothing more will come
            break
        time.sleep(random.uniform(0.2, 0.4) / SPEED)
        print('%s 吃 %s' % (name, res))


def producer(q):
    for i in range(10):
        time.sleep(0.05 / SPEED)
        res = '包子%s' % i
        q.put(res)  # waits while the queue holds two already
        print('producer 生产了 %s' % res)


if __name__ == '__main__':
    q = Queue(2)
    p1 = Process(target=producer, args=(q,))
    c1 = Process(target=consumer, args=(q, 'alex'))
    c2 = Process(target=consumer, args=(q, 'wupeiqi'))
    p1.start()
    c1.start()
    c2.start()
    p1.join()
    # FIX: one sentinel per consumer; one for two would leave one of
    # them waiting for ever
    q.put(None)
    q.put(None)
    c1.join()
    c2.join()
    print('主进程: both consumers ended')
