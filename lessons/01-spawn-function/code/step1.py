# Lesson 1, step 1: the tutorial's first way (section 四),
# Process(target=..., kwargs=...). Corrected: ASCII quotes (the web
# page's curly quotes are a SyntaxError).
from multiprocessing import Process
import time
import random


def piao(name):
    print('%s is piaoing' % name)
    time.sleep(random.randint(1, 3))
    print('%s is piao end' % name)


if __name__ == '__main__':
    # FIX: three names; the page gives all three children
    # kwargs={'name': 'alex'}.
    p1 = Process(target=piao, kwargs={'name': 'alex'})
    p2 = Process(target=piao, kwargs={'name': 'wupeiqi'})
    p3 = Process(target=piao, kwargs={'name': 'yuanhao'})
    p1.start()
    p2.start()
    p3.start()
    print('主进程')
