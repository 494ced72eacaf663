# Three children, each sleeping its own time. They should sleep at the
# same time, but the whole takes as long as the three sleeps added up.
from multiprocessing import Process
import time


def piao(name, seconds):
    print('%s is piaoing' % name)
    time.sleep(seconds)
    print('%s is piao end' % name)


if __name__ == '__main__':
    sleeps = {'alex': 0.6, 'wupeiqi': 0.8, 'yuanhao': 1.0}
    began = time.monotonic()
    for name, seconds in sleeps.items():
        p = Process(target=piao, args=(name, seconds), name=name)
        p.start()
        p.join()
    print('main: %.1f s in all' % (time.monotonic() - began))
