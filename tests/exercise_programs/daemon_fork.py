# Exercise 2's starter "fixed" behind multiprocessing's back: the daemon
# forks its helpers with os.fork(). The lab must see the daemon's children.
from multiprocessing import Process
import os
import time


def heartbeat():
    n = 0
    while True:
        n += 1
        pid = os.fork()
        if pid == 0:
            print('log: beat %d' % n)
            time.sleep(1)   # outlives the daemon: an orphan
            os._exit(0)
        time.sleep(0.1)


if __name__ == '__main__':
    hb = Process(target=heartbeat, name='heartbeat', daemon=True)
    hb.start()
    print('main: working')
    time.sleep(0.3)
    print('main: done')
