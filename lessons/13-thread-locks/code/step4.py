# Lesson 13, step 4: the tutorial's deadlock (死锁): MyThread's func1
# takes mutexA then mutexB; func2 takes mutexB, sleeps, then mutexA. Two
# threads (the tutorial starts ten), the second a moment after the
# first. Rendered anew: every acquire has a timeout, and the threads
# write down what each holds and waits for, so the one that times out
# can print the wait-for graph (等待图) and give up, which lets the
# other finish. The tutorial's program just hangs.
from threading import Thread, Lock, current_thread
import os
import time

SPEED = float(os.environ.get('PROCLAB_SPEED', 1))
mutexA, mutexB = Lock(), Lock()
names = {id(mutexA): 'mutexA', id(mutexB): 'mutexB'}
holds, waits = {}, {}  # thread name: lock names


def take(lock):
    me = current_thread().name
    waits[me] = names[id(lock)]
    if not lock.acquire(timeout=3 / SPEED):
        print(' ; '.join('%s holds %s, waits for %s'
                         % (t, ', '.join(holds.get(t, [])), waits[t])
                         for t in sorted(waits)))
        raise TimeoutError('%s gave up waiting for %s'
                           % (me, names[id(lock)]))
    del waits[me]
    holds.setdefault(me, []).append(names[id(lock)])
    print('%s 拿到%s' % (me, names[id(lock)]))


def let_go(lock):
    holds[current_thread().name].remove(names[id(lock)])
    lock.release()


class MyThread(Thread):
    def run(self):
        try:
            self.func1()
            self.func2()
        except TimeoutError as error:
            for name in list(holds.get(self.name, [])):
                let_go(mutexA if name == 'mutexA' else mutexB)
            print(error)

    def func1(self):
        take(mutexA)
        take(mutexB)
        let_go(mutexB)
        let_go(mutexA)

    def func2(self):
        take(mutexB)
        time.sleep(2 / SPEED)
        take(mutexA)
        let_go(mutexA)
        let_go(mutexB)


if __name__ == '__main__':
    t1 = MyThread()
    t1.start()
    time.sleep(0.5 / SPEED)  # t1 is asleep in func2, holding mutexB
    t2 = MyThread()
    t2.start()
    t1.join()
    t2.join()
    print('both threads ended')
