# Exercise 5: three consumers eat from one queue (队列); the producer
# says "no more" with a sentinel (哨兵), None. Run it: the program never
# ends. Make every consumer stop by itself once the 包子 are all eaten,
# each 包子 eaten exactly once.
from multiprocessing import Process, Queue
import os

ITEMS = int(os.environ.get('PROCLAB_ITEMS', 12))  # the lab may pick


def consumer(q, name):
    while True:
        res = q.get()
        if res is None:  # the sentinel: nothing more will come
            break
        print('%s 吃 %s' % (name, res))


def producer(q):
    for i in range(ITEMS):
        q.put('包子%d' % i)
    q.put(None)  # "no more"


if __name__ == '__main__':
    q = Queue()
    consumers = [Process(target=consumer, args=(q, name), name=name)
                 for name in ('alex', 'wupeiqi', 'yuanhao')]
    for c in consumers:
        c.start()
    producer(q)
    for c in consumers:
        c.join()
    print('主进程: every consumer ended')
