# Lesson 13, step 1: the tutorial's global n = 100 and work(), which
# reads n, pauses, and writes back one less. Ten threads (the tutorial
# starts a hundred): n should end at 90. Rendered anew, the pause
# follows PROCLAB_SPEED (the lab's --speed).
from threading import Thread
import os
import time

SPEED = float(os.environ.get('PROCLAB_SPEED', 1))
n = 100


def work():
    global n
    temp = n
    time.sleep(0.1 / SPEED)
    n = temp - 1


if __name__ == '__main__':
    l = []
    for i in range(10):
        t = Thread(target=work)
        l.append(t)
        t.start()
    for t in l:
        t.join()
    print('n = %d (ten threads each took one off 100)' % n)
