# main works for 0.6 s. A daemon, heartbeat, beats every 0.1 s while main
# works, and ends with main's work. A daemonic process may not have
# children (they would be left orphans when it is terminated), so it writes
# each log line from a thread of its own instead of a helper process.
from multiprocessing import Process
from threading import Thread
import time


def write_log(line):
    print('log: %s' % line)


def heartbeat():
    n = 0
    while True:
        n += 1
        helper = Thread(target=write_log, args=('beat %d' % n,))
        helper.start()
        helper.join()
        time.sleep(0.1)


if __name__ == '__main__':
    hb = Process(target=heartbeat, name='heartbeat', daemon=True)
    hb.start()
    print('main: working')
    time.sleep(0.6)
    print('main: done')
