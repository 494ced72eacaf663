# Four threads, two locks. f1 takes mutexA then mutexB; f2 takes them the
# other way round, with a nap in between. Run it: it never ends.
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
        mutexB.acquire()
        print('%s got B' % self.name)
        time.sleep(0.1)
        mutexA.acquire()
        print('%s got A' % self.name)
        mutexA.release()
        mutexB.release()


if __name__ == '__main__':
    for i in range(4):
        MyThread().start()
