# Exercise 8: a room with three places and seven visitors, each a
# process; a visitor stays a while (time.sleep) inside. Run it: everyone
# goes in at once. Make it so that at most three are inside at any
# moment, and the room is full (three) at some moment. The lab counts
# who is inside from each visitor's sleep, as the kernel sees it.
from multiprocessing import Process, Semaphore, Barrier
import os
import time

SPEED = float(os.environ.get('PROCLAB_SPEED', 1))


def visit(name, arrive):
    arrive.wait()  # all together, however long each took to start
    room = Semaphore(3)  # three places
    with room:  # acquire(); release() on the way out
        print('%s is in the room' % name)
        time.sleep(0.3 / SPEED)  # the stay: this is "inside"
        print('%s leaves' % name)


if __name__ == '__main__':
    arrive = Barrier(7, timeout=30)
    visitors = [Process(target=visit, args=('visitor-%d' % i, arrive),
                        name='visitor-%d' % i)
                for i in range(1, 8)]
    for p in visitors:
        p.start()
    for p in visitors:
        p.join()
