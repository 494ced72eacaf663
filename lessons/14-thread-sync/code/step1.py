# Lesson 14, step 1: the tutorial's Semaphore(5) between threads: eight
# guests, at most five inside; each stays 1-3 s (after PROCLAB_SPEED).
# And a plain Semaphore released once too often gains a seat; a
# BoundedSemaphore refuses. Rendered anew.
from threading import Thread, Semaphore, BoundedSemaphore, Lock
import os
import random
import time

SPEED = float(os.environ.get('PROCLAB_SPEED', 1))
inside, most, count_lock = 0, 0, Lock()


def guest(sm, name):
    global inside, most
    with sm:
        with count_lock:
            inside += 1
            most = max(most, inside)
        print('%s got a seat' % name)
        time.sleep(random.randint(1, 3) / SPEED)
        print('%s leaves' % name)
        with count_lock:
            inside -= 1


if __name__ == '__main__':
    sm = Semaphore(5)
    guests = [Thread(target=guest, args=(sm, 'guest-%d' % i))
              for i in range(1, 9)]
    for t in guests:
        t.start()
    for t in guests:
        t.join()
    print('the most inside at once: %d' % most)
    plain = Semaphore(5)
    plain.release()  # never acquired: now six seats, and no error
    print('Semaphore(5) released once more: %d seats'
          % sum(plain.acquire(blocking=False) for _ in range(10)))
    try:
        BoundedSemaphore(5).release()
    except ValueError as error:
        print('BoundedSemaphore(5) released once more: ValueError: %s'
              % error)
