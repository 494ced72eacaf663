# Lesson 11, step 5: the tutorial's daemon thread examples: in a child
# process, egon (a daemon) sleeps 2 s, then says hello; foo (a daemon)
# works 0.5 s; bar (not a daemon) works 1 s. The child's main thread
# returns at once; the process waits for bar, not for the daemons.
# Rendered anew, sleeps after PROCLAB_SPEED.
from multiprocessing import Process
from threading import Thread
import os
import time

SPEED = float(os.environ.get('PROCLAB_SPEED', 1))


def sayhi(name):
    time.sleep(2 / SPEED)
    print('%s say hello' % name)


def foo():
    print('foo 123')
    time.sleep(0.5 / SPEED)
    print('end foo')


def bar():
    print('bar 456')
    time.sleep(1 / SPEED)
    print('end bar')


def child():
    egon = Thread(target=sayhi, args=('egon',), daemon=True)
    t1 = Thread(target=foo, daemon=True)
    t2 = Thread(target=bar)
    egon.start()
    t1.start()
    t2.start()
    print('main-------')
    # returning: Python waits for bar, then the daemons end with it


if __name__ == '__main__':
    p = Process(target=child)
    p.start()
    p.join()
    print('child exitcode %s' % p.exitcode)
