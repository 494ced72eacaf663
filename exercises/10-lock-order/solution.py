# Four threads, two locks, one order: every thread takes mutexA before
# mutexB. Whoever holds B already holds A, so nobody can hold B and wait
# for A: the cycle a deadlock needs cannot form.
from threading import Thread, Lock
import time

mutexA = Lock()
mutexB = Lock()


class MyThread(Thread):
    def run(self):
        self.f1()
        self.f2()

    def f1(self):
        mutexA.acquire()
        print('%s got A' % self.name)
        mutexB.acquire()
        print('%s got B' % self.name)
        mutexB.release()
        mutexA.release()

    def f2(self):
        mutexA.acquire()        # the same order as f1: A first, then B
        print('%s got A' % self.name)
        time.sleep(0.1)
        mutexB.acquire()
        print('%s got B' % self.name)
        mutexB.release()
        mutexA.release()


if __name__ == '__main__':
    for i in range(4):
        MyThread().start()
