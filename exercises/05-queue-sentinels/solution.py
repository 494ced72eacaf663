# Exercise 5, a solution: one sentinel per consumer. A consumer that
# takes a None stops and never takes another, so three consumers need
# three Nones; put after every 包子, they come out of the queue last.
from multiprocessing import Process, Queue
import os

ITEMS = int(os.environ.get('PROCLAB_ITEMS', 12))  # the lab may pick


def consumer(q, name):
    while True:
        res = q.get()
        if res is None:  # the sentinel: nothing more will come
            break
        print('%s 吃 %s' % (name, res))


def producer(q, consumers):
    for i in range(ITEMS):
        q.put('包子%d' % i)
    for _ in range(consumers):
        q.put(None)  # one "no more" for each consumer


if __name__ == '__main__':
    q = Queue()
    consumers = [Process(target=consumer, args=(q, name), name=name)
                 for name in ('alex', 'wupeiqi', 'yuanhao')]
    for c in consumers:
        c.start()
    producer(q, len(consumers))
    for c in consumers:
        c.join()
    print('主进程: every consumer ended')
