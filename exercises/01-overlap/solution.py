# Three children, each sleeping its own time, all at the same time: every
# start() first, then every join(). The whole takes about the longest sleep.
from multiprocessing import Process
import time


def piao(name, seconds):
    print('%s is piaoing' % name)
    time.sleep(seconds)
    print('%s is piao end' % name)


if __name__ == '__main__':
    sleeps = {'alex': 0.6, 'wupeiqi': 0.8, 'yuanhao': 1.0}
    began = time.monotonic()
    children = [Process(target=piao, args=(name, seconds), name=name)
                for name, seconds in sleeps.items()]
    for p in children:
        p.start()        # returns at once: the child runs on its own
    for p in children:
        p.join()         # only now wait, for each in turn
    print('main: %.1f s in all' % (time.monotonic() - began))
