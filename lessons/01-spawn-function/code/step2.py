# Lesson 1, step 2: the three children sleep at the same time. Not in
# the tutorial as code: its first example, timed. The parent draws the
# sleeps and hands each child its own, so that it can add them up.
from multiprocessing import Process, Barrier
import time
import random


def piao(name, seconds, ready):
    ready.wait()
    print('%s is piaoing' % name)
    time.sleep(seconds)
    print('%s is piao end' % name)


if __name__ == '__main__':
    names = ['alex', 'wupeiqi', 'yuanhao']
    sleeps = {name: random.randint(1, 3) for name in names}
    # the three and main set off together, however long each child took
    # to start (a spawned one takes a while)
    ready = Barrier(4, timeout=30)
    children = [Process(target=piao,
                        kwargs={'name': name, 'seconds': seconds,
                                'ready': ready})
                for name, seconds in sleeps.items()]
    for p in children:
        p.start()
    ready.wait()
    began = time.monotonic()
    for p in children:
        p.join()
    wall = time.monotonic() - began
    print('%d s of sleeping in %.1f s: the longest sleep was %d s'
          % (sum(sleeps.values()), wall, max(sleeps.values())))
