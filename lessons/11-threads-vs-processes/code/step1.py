# Lesson 11, step 1: the tutorial's two ways to start a thread (section
# 2.1): Thread(target=..., args=...) and a subclass of Thread with run().
# start() returns at once: main prints both names while the threads
# sleep. Rendered anew, the sleep follows PROCLAB_SPEED.
from threading import Thread
import os
import time

SPEED = float(os.environ.get('PROCLAB_SPEED', 1))


def sayhi(num):
    print('running on number: %s' % num)
    time.sleep(3 / SPEED)
    print('sayhi(%s) done' % num)


class MyThread(Thread):
    def __init__(self, num):
        super().__init__()  # Thread's own attributes first
        self.num = num

    def run(self):  # what start() runs in the new thread
        print('running on number: %s' % self.num)
        time.sleep(3 / SPEED)
        print('MyThread(%s) done' % self.num)


if __name__ == '__main__':
    t1 = Thread(target=sayhi, args=(1,))
    t2 = MyThread(2)
    t1.start()
    t2.start()
    print('main: %s and %s started' % (t1.name, t2.name))
    t1.join()
    t2.join()
