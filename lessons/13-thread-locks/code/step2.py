# Lesson 13, step 2: the same ten threads with a threading.Lock around
# the read-pause-write: n ends at 90, each thread read a different n,
# and the run takes ten pauses instead of one. Rendered anew.
from threading import Thread, Lock
import os
import time

SPEED = float(os.environ.get('PROCLAB_SPEED', 1))
n = 100
seen = []


def work(lock):
    global n
    with lock:  # FIX: with, so that the lock is released however it ends
        temp = n
        seen.append(temp)
        time.sleep(0.1 / SPEED)
        n = temp - 1


if __name__ == '__main__':
    lock = Lock()
    began = time.monotonic()
    l = [Thread(target=work, args=(lock,)) for _ in range(10)]
    for t in l:
        t.start()
    for t in l:
        t.join()
    print('n = %d; the threads read %s' % (n, sorted(seen, reverse=True)))
    print('%.1f pauses long' % ((time.monotonic() - began) * SPEED / 0.1))
