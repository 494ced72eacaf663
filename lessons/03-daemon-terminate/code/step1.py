# Lesson 3, step 1: a daemon child ends with its parent's work; a
# non-daemon child is waited for. Not in the tutorial as code (it
# describes p.daemon in section 二).
from multiprocessing import Process, Event
import time


def count(counting):
    n = 0
    while True:
        n += 1
        print('counter: %d' % n)
        counting.set()
        time.sleep(0.25)


def work():
    print('worker: working for 2 s')
    time.sleep(2)
    print('worker: done')


def parent():
    counting = Event()
    counter = Process(target=count, args=(counting,))
    counter.daemon = True  # before start(), or an AssertionError
    worker = Process(target=work)
    counter.start()
    worker.start()
    # the main work starts once the counter counts (a spawned child
    # takes a moment to start)
    counting.wait()
    time.sleep(1)
    print('parent: main work done, returning')
    # On its way out Python terminates the daemon child and waits for
    # the other.


if __name__ == '__main__':
    p = Process(target=parent)
    p.start()
    p.join()
    print('parent exitcode %s' % p.exitcode)
