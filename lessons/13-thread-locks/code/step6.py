# Lesson 13, step 6: a Lock taken again by its holder waits for itself;
# an RLock (递归锁) knows its owner and counts. The tutorial's cure,
# mutexA = mutexB = RLock(), is one lock under two names: two separate
# RLocks deadlock as two Locks do.
from threading import Thread, Lock, RLock
import os
import time

SPEED = float(os.environ.get('PROCLAB_SPEED', 1))


def func1(a, b):
    with a:
        with b:
            pass


def func2(a, b, name, out):
    with b:
        time.sleep(1 / SPEED)
        if a.acquire(timeout=2 / SPEED):
            a.release()
            out.append('%s done' % name)
        else:
            out.append('%s timed out waiting for mutexA' % name)


def two_threads(a, b):
    out = []

    def run(name):
        func1(a, b)
        func2(a, b, name, out)

    t1 = Thread(target=run, args=('Thread-1',))
    t1.start()
    time.sleep(0.3 / SPEED)  # Thread-1 holds mutexB in func2
    t2 = Thread(target=func1, args=(a, b))
    t2.start()
    t1.join()
    t2.join()
    return out


if __name__ == '__main__':
    lock = Lock()
    lock.acquire()
    print('Lock taken again by its holder: acquire(timeout=1) -> %s'
          % lock.acquire(timeout=1 / SPEED))
    rlock = RLock()
    rlock.acquire()
    rlock.acquire()
    print('RLock taken twice: %s' % ('count=2' in repr(rlock)))
    rlock.release()
    rlock.release()
    mutexA = mutexB = RLock()  # the tutorial's cure
    print('mutexA = mutexB = RLock(): %s' % two_threads(mutexA, mutexB))
    mutexA, mutexB = RLock(), RLock()
    print('two RLocks: %s' % two_threads(mutexA, mutexB))
