# Lesson 2, step 2: start() runs run() in a new process; run() called
# directly is an ordinary call, in the caller's process. Not in the
# tutorial as code.
from multiprocessing import get_context
import time
import os

# FIX: fork, whatever Python's default start method. Under forkserver (the
# default on Linux from Python 3.14) a fork server process is every
# child's parent, and os.getppid() would print its pid, not the main
# process's.
Process = get_context('fork').Process


class Piao(Process):
    def __init__(self, name):
        super().__init__()
        self.name = name

    def run(self):
        print('%s runs in pid %d, parent %d'
              % (self.name, os.getpid(), os.getppid()))
        time.sleep(1)


if __name__ == '__main__':
    print('main process is pid %d' % os.getpid())
    p = Piao('run-direct')
    # no new process: the main process does the work, and waits for it
    p.run()
    p.start()  # a new process does it
    p.join()
    try:
        Piao('never-started').join()
    except AssertionError as error:
        print('join() on a process never started: %s' % error)
    try:
        p.start()
    except AssertionError as error:
        print('start() a second time: %s' % error)
