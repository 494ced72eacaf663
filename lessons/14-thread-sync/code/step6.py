# Lesson 14, step 6: the tutorial's Timer: hello says "hello, world"
# one second after start(); late would fire after four, but main
# cancels it at half a second. A Timer is a Thread: starting it twice is
# a RuntimeError. Rendered anew, times after PROCLAB_SPEED.
from threading import Timer
import os
import time

SPEED = float(os.environ.get('PROCLAB_SPEED', 1))


def hello():
    print('hello, world')


def too_late():
    print('too late')


if __name__ == '__main__':
    began = time.monotonic()
    t = Timer(1 / SPEED, hello)
    late = Timer(4 / SPEED, too_late)
    t.start()
    late.start()
    print('both started after %.2f s' % (time.monotonic() - began))
    time.sleep(0.5 / SPEED)
    late.cancel()
    late.join()
    print('late cancelled; its thread ended after %.1f s'
          % ((time.monotonic() - began) * SPEED))
    t.join()
    try:
        t.start()
    except RuntimeError as error:
        print('start() again: RuntimeError: %s' % error)
