# Lesson 3, step 2: the two daemon rules (section 二: set daemon before
# start(), and a daemon may not start children). Not in the tutorial as
# code.
from multiprocessing import Process
import time


def nothing():
    pass


def tries_to_start_a_child():
    # AssertionError, uncaught: ends this process
    Process(target=nothing).start()


if __name__ == '__main__':
    late = Process(target=time.sleep, args=(0.5,))
    late.start()
    try:
        late.daemon = True
    except AssertionError as error:
        print('daemon after start(): %s' % error)
    late.join()
    d = Process(target=tries_to_start_a_child)
    d.daemon = True
    d.start()
    d.join()
    print('a daemon that started a child: exitcode %s' % d.exitcode)
