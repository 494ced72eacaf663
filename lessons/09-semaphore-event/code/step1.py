# Lesson 9, step 1: the tutorial's Semaphore (section 1.8): a room with
# three places and seven users. Rendered anew: a room, not a toilet; the
# users count themselves in and out in shared memory, arrive together,
# and their stays follow PROCLAB_SPEED (the lab's --speed).
from multiprocessing import Process, Semaphore, Value, Barrier
import os
import random
import time

SPEED = float(os.environ.get('PROCLAB_SPEED', 1))


def go_in(sem, user, inside, most, arrive):
    arrive.wait()  # together, however long each took to start
    with sem:  # acquire(); release() on the way out
        with inside.get_lock():
            inside.value += 1
            most.value = max(most.value, inside.value)
            print('%s gets a seat (%d inside)' % (user, inside.value))
        time.sleep(random.randint(1, 3) / SPEED)
        with inside.get_lock():
            inside.value -= 1
            print('%s leaves' % user)


if __name__ == '__main__':
    sem = Semaphore(3)
    inside, most = Value('i', 0), Value('i', 0)
    arrive = Barrier(7, timeout=30)
    users = [Process(target=go_in,
                     args=(sem, 'user%d' % i, inside, most, arrive))
             for i in range(7)]
    for p in users:
        p.start()
    for p in users:
        p.join()
    print('the most inside at once: %d' % most.value)
