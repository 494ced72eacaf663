# Lesson 6, step 1: the tutorial's q = Queue(3) (section 1.5): put and
# get, and what each does when the queue is full or empty, depending on
# how long the caller will wait. Rendered anew; the errors are printed
# rather than left to end the program.
from multiprocessing import Queue, JoinableQueue
import queue  # where Full and Empty live
import time


def attempt(what, call):
    began = time.monotonic()
    try:
        result = call()
        print('%s: %r' % (what, result))
    except (queue.Full, queue.Empty, ValueError) as error:
        name = type(error).__name__
        if str(error):
            name += ': %s' % error
        print('%s: %s, after %.1f s'
              % (what, name, time.monotonic() - began))


if __name__ == '__main__':
    q = Queue(3)
    q.put(1)
    q.put(2)
    q.put(3)
    print('full(): %s' % q.full())
    attempt('put_nowait(4)', lambda: q.put_nowait(4))  # put(4, False)
    attempt('put(4, timeout=0.5)', lambda: q.put(4, timeout=0.5))
    print('got %s %s %s' % (q.get(), q.get(), q.get()))
    attempt('get_nowait()', lambda: q.get_nowait())  # get(False)
    attempt('get(timeout=0.5)', lambda: q.get(timeout=0.5))
    q.close()
    attempt('put(5) after close()', lambda: q.put(5))
    j = JoinableQueue()
    j.put('包子')
    j.get()
    j.task_done()
    attempt('a second task_done()', lambda: j.task_done())
