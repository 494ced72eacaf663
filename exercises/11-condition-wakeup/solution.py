# Exercise 11, a solution: wait for the state, not for a notify. A
# notify that comes while nobody waits is lost (the first 包子 was on the
# shelf before the eater came); the shelf is not. wait_for(predicate)
# looks at the shelf first and waits only while it is empty, and looks
# again after every wake-up.
from threading import Thread, Condition
import os
import time

SPEED = float(os.environ.get('PROCLAB_SPEED', 1))
ITEMS = int(os.environ.get('PROCLAB_ITEMS', 5))  # the lab may pick
shelf = ['包子0']  # made before the shop opened


def cook(con):
    for i in range(1, ITEMS):
        time.sleep(0.05 / SPEED)
        with con:
            shelf.append('包子%d' % i)
            con.notify()
    with con:
        shelf.append(None)  # "no more"
        con.notify()


def eater(con):
    while True:
        with con:
            con.wait_for(lambda: shelf)  # while shelf == []: wait()
            res = shelf.pop(0)
        if res is None:
            break
        print('eater 吃 %s' % res)


if __name__ == '__main__':
    con = Condition()
    threads = [Thread(target=eater, args=(con,), name='eater'),
               Thread(target=cook, args=(con,), name='cook')]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print('the shelf is empty: %s' % (shelf == []))
