# Lesson 14, step 3: the tutorial's Condition example: runners wait;
# notify(2) wakes exactly two, notify_all() the rest, which run one at a
# time (each takes the lock back). Rendered anew: main waits until all
# five are in the line before it notifies.
from threading import Thread, Condition
import os
import time

SPEED = float(os.environ.get('PROCLAB_SPEED', 1))
waiting = 0


def run(con, n):
    global waiting
    with con:
        waiting += 1
        con.wait()  # releases the lock while it sleeps
        waiting -= 1
        print('run the %s thread' % n)


if __name__ == '__main__':
    con = Condition()
    runners = [Thread(target=run, args=(con, i)) for i in range(5)]
    for t in runners:
        t.start()
    while True:  # until all five are in the line
        with con:
            if waiting == 5:
                break
        time.sleep(0.01)
    with con:
        con.notify(2)
    time.sleep(0.5 / SPEED)
    with con:
        print('after notify(2), half a second later: %d still waiting'
              % waiting)
        con.notify_all()
    for t in runners:
        t.join()
