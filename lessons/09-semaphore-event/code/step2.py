# Lesson 9, step 2: the tutorial's traffic light (红绿灯, section 1.8): a
# light process switches an Event every 3 s, forever; cars come at
# random times, drive on green, wait() on red; a police car (警车) waits
# one second at most, wait(1), then goes anyway. Rendered anew: the
# times follow PROCLAB_SPEED (the lab's --speed), everyone's clock
# starts together at a Barrier, and main terminates the light when every
# car is through.
from multiprocessing import Process, Event, Barrier
import os
import random
import time

SPEED = float(os.environ.get('PROCLAB_SPEED', 1))


def since(start):
    return '%4.1f s' % ((time.monotonic() - start) * SPEED)


def light(e, ready):
    ready.wait()
    start = time.monotonic()
    while True:
        print('%s: light green' % since(start))
        e.set()
        time.sleep(3 / SPEED)
        print('%s: light red' % since(start))
        e.clear()
        time.sleep(3 / SPEED)


def car(e, name, arrives, ready):
    ready.wait()
    start = time.monotonic()
    time.sleep(arrives / SPEED)
    if e.is_set():
        print('%s: %s finds green, drives on' % (since(start), name))
        return
    print('%s: %s finds red, waits' % (since(start), name))
    e.wait()  # until the next set(); one set() wakes every car
    print('%s: %s drives on green' % (since(start), name))


def police_car(e, name, arrives, ready):
    ready.wait()
    start = time.monotonic()
    time.sleep(arrives / SPEED)
    if e.wait(1 / SPEED):  # True: it turned green; False: time ran out
        print('%s: %s drives on green' % (since(start), name))
    else:
        print('%s: %s waited 1 s, goes anyway' % (since(start), name))


if __name__ == '__main__':
    e = Event()
    ready = Barrier(8, timeout=30)  # the light, six cars and main
    lights = Process(target=light, args=(e, ready))
    cars = [Process(target=car,
                    args=(e, 'car%d' % i, random.uniform(0.5, 8.5), ready))
            for i in range(5)]
    # the police car comes while the light is red (3 s to 6 s)
    cars.append(Process(target=police_car,
                        args=(e, '警车', random.uniform(3.5, 4.0), ready)))
    lights.start()
    for c in cars:
        c.start()
    ready.wait()
    for c in cars:
        c.join()
    lights.terminate()  # the light never stops by itself
    lights.join()
    print('every car is through; the light exitcode %s' % lights.exitcode)
