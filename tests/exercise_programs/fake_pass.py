# Exercise 1's starter, still one child after the other, printing what a
# passing check would print. The lab must not believe it.
from multiprocessing import Process
import time


def piao(seconds):
    time.sleep(seconds)


if __name__ == '__main__':
    print('PASS')
    print('✔ exercise 1 passed: the three children overlapped')
    for seconds in (0.2, 0.2, 0.2):
        p = Process(target=piao, args=(seconds,))
        p.start()
        p.join()
    print('0 zombies; all three children overlapped. PASS')
