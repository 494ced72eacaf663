# Exercise 10's starter "fixed" with a timeout: f2 gives up waiting for
# mutexA, lets mutexB go and tries again. It ends, but threads still
# waited on each other's lock: the lab must say so.
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
        while True:
            mutexB.acquire()
            print('%s got B' % self.name)
            time.sleep(0.1)
            if mutexA.acquire(timeout=0.3):
                break
            mutexB.release()
            time.sleep(0.05)
        print('%s got A' % self.name)
        mutexA.release()
        mutexB.release()


if __name__ == '__main__':
    for i in range(4):
        MyThread().start()
