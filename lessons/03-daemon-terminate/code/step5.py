# Lesson 3, step 5: terminate() a process that holds a lock. The
# tutorial warns of it (section 二); here it happens: a Lock stays held,
# an flock does not.
from multiprocessing import Process, Lock, Event
import fcntl
import os
import tempfile
import time


def hold_lock(lock, ready):
    lock.acquire()
    ready.set()
    time.sleep(60)


def hold_flock(path, ready):
    f = open(path, 'w')
    fcntl.flock(f, fcntl.LOCK_EX)
    ready.set()
    time.sleep(60)


if __name__ == '__main__':
    lock, ready = Lock(), Event()
    holder = Process(target=hold_lock, args=(lock, ready))
    holder.start()
    ready.wait()
    holder.terminate()
    holder.join()
    print('Lock holder exitcode %s; taker got it: %s'
          % (holder.exitcode, lock.acquire(timeout=1)))
    name = 'lesson-3-%d.lock' % os.getpid()
    path = os.path.join(tempfile.gettempdir(), name)
    ready = Event()
    holder = Process(target=hold_flock, args=(path, ready))
    holder.start()
    ready.wait()
    holder.terminate()
    holder.join()
    with open(path, 'w') as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            got = True
        except BlockingIOError:
            got = False
    os.remove(path)
    print('flock holder exitcode %s; taker got it: %s'
          % (holder.exitcode, got))
