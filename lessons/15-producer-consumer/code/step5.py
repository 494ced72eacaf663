# Lesson 15, step 5: one sentinel for three consumers. One consumer gets
# it and stops; the other two wait in get() for ever. The main thread
# watches them stuck for a second, then puts two more None. Rendered
# anew from the tutorial's producer/consumer.
from threading import Thread
from queue import Queue
import os
import time

SPEED = float(os.environ.get('PROCLAB_SPEED', 1))


def consumer(q, name):
    while True:
        res = q.get()
        if res is None:
            print('%s got None, stops' % name)
            break
        time.sleep(0.1 / SPEED)
        print('%s served %s' % (name, res))


if __name__ == '__main__':
    q = Queue()
    consumers = [Thread(target=consumer, args=(q, name))
                 for name in ['alex', 'wupeiqi', 'yuanhao']]
    for t in consumers:
        t.start()
    for i in range(6):
        q.put('order-%d' % i)
    q.put(None)  # the mistake: one sentinel for three
    time.sleep(1)
    stuck = [t for t in consumers if t.is_alive()]
    print('after 1 s: %d consumers still waiting in get()' % len(stuck))
    for _ in stuck:
        q.put(None)  # FIX: one sentinel per consumer
    for t in consumers:
        t.join()
    print('all consumers stopped')
