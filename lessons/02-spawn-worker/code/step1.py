# Lesson 2, step 1: the tutorial's second way (section 四), a subclass of
# Process. Corrected: ASCII quotes (the web page's curly quotes are a
# SyntaxError).
from multiprocessing import get_context
import time
import random
import os

# FIX: fork, whatever Python's default start method. Under forkserver (the
# default on Linux from Python 3.14) a fork server process is every
# child's parent, and os.getppid() would print its pid, not the main
# process's.
Process = get_context('fork').Process


class Piao(Process):
    def __init__(self, name):
        # Process's own attributes must be set up first
        super().__init__()
        self.name = name

    def run(self):  # what start() runs in the new process
        print(os.getppid(), os.getpid())
        print('%s is piaoing' % self.name)
        time.sleep(random.randint(1, 3))
        print('%s is piao end' % self.name)


if __name__ == '__main__':
    p1 = Piao('alex')
    p2 = Piao('wupeiqi')
    p3 = Piao('yuanhao')
    p1.start()
    p2.start()
    p3.start()
    print('主进程', os.getpid())
