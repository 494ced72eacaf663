# Lesson 13, step 3: twenty quick rounds without the lock and twenty
# with it, five threads a round, each arriving after a random delay and
# pausing a random time: one line per round with the updates lost. Not
# in the tutorial as code.
from threading import Thread, Lock
import contextlib
import os
import random
import time

SPEED = float(os.environ.get('PROCLAB_SPEED', 1))
n = 0


def work(lock, arrives, pause):
    global n
    time.sleep(arrives)
    with lock:
        temp = n
        time.sleep(pause)
        n = temp - 1


def one_round(lock):
    global n
    n = 100
    threads = [Thread(target=work,
                      args=(lock, random.uniform(0, 0.05) / SPEED,
                            random.uniform(0, 0.05) / SPEED))
               for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return n - 95  # updates lost


if __name__ == '__main__':
    for how, lock in [('no lock', contextlib.nullcontext()),
                      ('lock', Lock())]:
        for k in range(1, 21):
            print('%s, round %d: %d update(s) lost'
                  % (how, k, one_round(lock)))
