# Lesson 1, step 4: join(timeout) gives up waiting; the child runs on.
# The tutorial lists p.join([timeout]) and no example of it.
from multiprocessing import Process
import time


def piao(name):
    print('%s is piaoing' % name)
    time.sleep(2)
    print('%s is piao end' % name)


if __name__ == '__main__':
    p = Process(target=piao, kwargs={'name': 'alex'})
    p.start()
    # returns None after 0.5 s: no error, whether or not the child ended
    p.join(0.5)
    print('after join(0.5): is_alive() %s, exitcode %s'
          % (p.is_alive(), p.exitcode))
    p.join()
    print('after join(): is_alive() %s, exitcode %s'
          % (p.is_alive(), p.exitcode))
