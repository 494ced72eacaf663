# Exercise 5 with one sentinel per consumer, but the consumers eat
# nothing: the main process prints every line a consumer would, names
# and all, and "ok". The lab counts only what the consumers wrote.
from multiprocessing import Process, Queue
import os

ITEMS = int(os.environ.get('PROCLAB_ITEMS', 12))
NAMES = ('alex', 'wupeiqi', 'yuanhao')


def consumer(q, name):
    while q.get() is not None:
        pass


if __name__ == '__main__':
    q = Queue()
    consumers = [Process(target=consumer, args=(q, name), name=name)
                 for name in NAMES]
    for c in consumers:
        c.start()
    for i in range(ITEMS):
        print('%s 吃 包子%d' % (NAMES[i % 3], i))
    for _ in consumers:
        q.put(None)
    for c in consumers:
        c.join()
    print('ok: every 包子 eaten once. PASS')
