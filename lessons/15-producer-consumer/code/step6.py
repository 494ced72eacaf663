# Lesson 15, step 6: items a second from one producer thread to one
# consumer thread through Queue(1), Queue(10), Queue(100) and Queue(),
# and how often each thread went to sleep in the kernel (voluntary
# context switches, from /proc/thread-self/status). Not in the tutorial
# as code.
from threading import Thread
from queue import Queue
import time

N = 20000


def switches():
    with open('/proc/thread-self/status') as status:
        for line in status:
            if line.startswith('voluntary_ctxt_switches:'):
                return int(line.split()[1])


def producer(q, slept):
    before = switches()
    for i in range(N):
        q.put(i)
    q.put(None)
    slept.append(switches() - before)


def consumer(q, slept):
    before = switches()
    while q.get() is not None:
        pass
    slept.append(switches() - before)


if __name__ == '__main__':
    for size in [1, 10, 100, 0]:
        q, slept = Queue(size), []
        threads = [Thread(target=producer, args=(q, slept)),
                   Thread(target=consumer, args=(q, slept))]
        began = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        took = time.perf_counter() - began
        print('Queue(%d): %.0f items/s, %d sleeps'
              % (size, N / took, sum(slept)))
