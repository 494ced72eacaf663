# Lesson 13, step 5: the fix, one global order: mutexA before mutexB,
# in func2 as in func1. Threads still wait for each other, but every
# wait ends. Rendered anew from the tutorial's MyThread.
from threading import Thread, Lock
import os
import time

SPEED = float(os.environ.get('PROCLAB_SPEED', 1))
mutexA, mutexB = Lock(), Lock()


class MyThread(Thread):
    def run(self):
        self.func1()
        self.func2()

    def func1(self):
        with mutexA:
            with mutexB:
                print('%s func1 拿到A、B' % self.name)

    def func2(self):
        # FIX: mutexA first, as everywhere
        with mutexA:
            with mutexB:
                print('%s func2 拿到A、B' % self.name)
                time.sleep(2 / SPEED)


if __name__ == '__main__':
    l = [MyThread() for _ in range(2)]
    l[0].start()
    time.sleep(0.5 / SPEED)
    l[1].start()
    for t in l:
        t.join()
    print('both threads ended')
