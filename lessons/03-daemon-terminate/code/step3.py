# Lesson 3, step 3: terminate() kills one process; its child lives on,
# re-parented.
# FIX: the tutorial says terminate() leaves the children as zombies;
# they are orphans (alive, with a new parent), as this program prints.
from multiprocessing import get_context
import os
import time

# FIX: fork, whatever Python's default start method. Under forkserver (the
# default on Linux from Python 3.14) the fork server, not doomed, would be
# the grandchild's parent, and it lives on: no orphan to see.
Process = get_context('fork').Process


def report_parent():
    for _ in range(8):
        print('grandchild: my parent is %d' % os.getppid())
        time.sleep(0.25)


def doomed():
    grandchild = Process(target=report_parent)
    # even a daemon: only a parent that exits normally ends it
    grandchild.daemon = True
    grandchild.start()
    time.sleep(60)


if __name__ == '__main__':
    p = Process(target=doomed)
    p.start()
    time.sleep(0.6)
    print('terminating doomed, pid %d' % p.pid)
    p.terminate()
    p.join()
    print('doomed exitcode %s' % p.exitcode)
    time.sleep(1.5)  # the orphan goes on printing, with its new parent
