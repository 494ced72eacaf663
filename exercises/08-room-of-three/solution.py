# Exercise 8, a solution: one Semaphore(3) (信号量) for the whole room,
# made once by the main process and handed to every visitor. In the
# starter each visitor made its own Semaphore(3): seven rooms of three
# places, one visitor in each.
from multiprocessing import Process, Semaphore, Barrier
import os
import time

SPEED = float(os.environ.get('PROCLAB_SPEED', 1))


def visit(room, name, arrive):
    arrive.wait()  # all together, however long each took to start
    with room:  # acquire(); release() on the way out
        print('%s is in the room' % name)
        time.sleep(0.3 / SPEED)  # the stay: this is "inside"
        print('%s leaves' % name)


if __name__ == '__main__':
    room = Semaphore(3)  # three places, one room for everybody
    arrive = Barrier(7, timeout=30)
    visitors = [Process(target=visit, args=(room, 'visitor-%d' % i, arrive),
                        name='visitor-%d' % i)
                for i in range(1, 8)]
    for p in visitors:
        p.start()
    for p in visitors:
        p.join()
