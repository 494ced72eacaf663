# Lesson 1, step 2: the three children sleep at the same time. Not in
# the tutorial as code: its first example, timed. The parent draws the
# sleeps and hands each child its own, so that it can add them up.
from multiprocessing import Process
import time
import random


def piao(name, seconds):
    print('%s is piaoing' % name)
    time.sleep(seconds)
    print('%s is piao end' % name)


if __name__ == '__main__':
    names = ['alex', 'wupeiqi', 'yuanhao']
    sleeps = {name: random.randint(1, 3) for name in names}
    began = time.monotonic()
    children = [Process(target=piao,
                        kwargs={'name': name, 'seconds': seconds})
                for name, seconds in sleeps.items()]
    for p in children:
        p.start()
    for p in children:
        p.join()
    wall = time.monotonic() - began
    print('%d s of sleeping in %.1f s: the longest sleep was %d s'
          % (sum(sleeps.values()), wall, max(sleeps.values())))
