# Lesson 13, step 7: releasing what you do not hold. A free Lock cannot
# be released; an RLock only by its owner; a held Lock by any thread
# (it has no owner). Not in the tutorial as code.
from threading import Thread, Lock, RLock


def attempt(what, call):
    try:
        call()
        print('%s: no error' % what)
    except RuntimeError as error:
        print('%s: RuntimeError: %s' % (what, error))


if __name__ == '__main__':
    attempt('release() a free Lock', Lock().release)
    attempt('release() a free RLock', RLock().release)
    rlock = RLock()
    rlock.acquire()
    t = Thread(target=attempt,
               args=("release() another thread's RLock", rlock.release))
    t.start()
    t.join()
    lock = Lock()
    lock.acquire()
    t = Thread(target=attempt,
               args=("release() another thread's Lock", lock.release))
    t.start()
    t.join()
