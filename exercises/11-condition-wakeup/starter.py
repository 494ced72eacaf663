# Exercise 11: a cook puts 包子 on a shelf and calls notify(); an eater
# waits on the Condition (条件变量) and eats one for each wake-up. One
# 包子 is on the shelf before anyone waits. Run it: the eater never
# gets to the end. Make the eater eat every 包子 and stop at the None
# the cook puts last, whenever the 包子 come.
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
            con.wait()  # until the cook says there is something
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
