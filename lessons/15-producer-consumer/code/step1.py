# Lesson 15, step 1: the tutorial's steamed-bun shop (包子) with
# threads: the chef makes six buns into a Queue(), alex and wupeiqi eat
# them, and the chef puts None once per eater. Rendered anew, the while
# each takes follows PROCLAB_SPEED (the lab's --speed).
from threading import Thread
from queue import Queue
import os
import random
import time

SPEED = float(os.environ.get('PROCLAB_SPEED', 1))


def producer(q, eaters):
    for i in range(6):
        time.sleep(random.uniform(0.1, 0.5) / SPEED)
        res = '包子%s' % i
        q.put(res)
        print('chef 生产了 %s' % res)
    for _ in range(eaters):
        q.put(None)  # the sentinel: one per eater


def consumer(q, name):
    while True:
        res = q.get()  # sleeps while the queue is empty
        if res is None:
            print('%s goes home' % name)
            break
        time.sleep(random.uniform(0.1, 0.5) / SPEED)
        print('%s 吃 %s' % (name, res))


if __name__ == '__main__':
    q = Queue()
    eaters = [Thread(target=consumer, args=(q, name))
              for name in ['alex', 'wupeiqi']]
    chef = Thread(target=producer, args=(q, len(eaters)))
    for t in eaters + [chef]:
        t.start()
    for t in eaters + [chef]:
        t.join()
