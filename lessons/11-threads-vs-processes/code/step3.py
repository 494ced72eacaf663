# Lesson 11, step 3: the tutorial's global n = 100 (section 2.x), set to
# 0 by work(): in a child process the change stays in the child; in a
# thread, main sees it. Rendered anew.
from multiprocessing import Process
from threading import Thread

n = 100


def work():
    global n
    n = 0


if __name__ == '__main__':
    p = Process(target=work)
    p.start()
    p.join()
    print('after a process set n = 0, main reads n = %d' % n)
    t = Thread(target=work)
    t.start()
    t.join()
    print('after a thread set n = 0, main reads n = %d' % n)
