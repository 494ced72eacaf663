# Lesson 14, step 5: woken is not the same as ready. Two eaters wait
# with "if not buns: wait()"; the chef puts one bun and notify_all():
# both wake, and the second takes a bun that is not there (IndexError).
# With wait_for(lambda: buns), the second checks again and waits for
# the next bun. Not in the tutorial as code.
from threading import Thread, Condition
import time

buns = []
waiting = 0


def eater_if(plate, name):
    global waiting
    with plate:
        if not buns:
            waiting += 1
            plate.wait()
            waiting -= 1
        try:
            print('%s ate %s' % (name, buns.pop()))
        except IndexError:
            print('%s: IndexError, the plate is empty' % name)


def eater_while(plate, name):
    global waiting
    with plate:
        waiting += 1
        plate.wait_for(lambda: buns)  # while not buns: wait()
        waiting -= 1
        print('%s ate %s' % (name, buns.pop()))


def serve(plate, eaters, bun_count):
    global waiting
    waiting = 0
    for t in eaters:
        t.start()
    while True:  # until both wait
        with plate:
            if waiting == 2:
                break
        time.sleep(0.01)
    for i in range(bun_count):
        with plate:
            buns.append('包子%d' % i)
            plate.notify_all()
        time.sleep(0.1)
    for t in eaters:
        t.join()


if __name__ == '__main__':
    plate = Condition()
    serve(plate, [Thread(target=eater_if, args=(plate, 'eater-%d' % i))
                  for i in (1, 2)], 1)
    serve(plate, [Thread(target=eater_while, args=(plate, 'eater-%d' % i))
                  for i in (3, 4)], 2)
