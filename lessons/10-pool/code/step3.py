# Lesson 10, step 3: a task that fails does not kill its worker: the
# error comes back at get(). close() refuses new tasks, join() waits for
# the workers; terminate() ends them at once, and a task in progress is
# lost. Not in the tutorial as code.
from multiprocessing import Pool, TimeoutError
import time


def fails(n):
    raise ValueError('task %d failed' % n)


def slow(n):
    time.sleep(60)
    return n


def square(n):
    return n * n


def attempt(what, call):
    try:
        print('%s: %r' % (what, call()))
    except (ValueError, TimeoutError) as error:
        name = type(error).__name__
        if str(error):
            name += ': %s' % error
        print('%s: %s' % (what, name))


if __name__ == '__main__':
    p = Pool(2)
    result = p.apply_async(fails, args=(1,))
    attempt('get() on a failed task', result.get)
    attempt('map() after it', lambda: p.map(square, range(4)))
    attempt('join() a running pool', p.join)
    p.close()
    attempt('apply() after close()', lambda: p.apply(square, args=(2,)))
    p.join()
    p = Pool(2)
    lost = p.apply_async(slow, args=(1,))
    time.sleep(0.2)  # it is running
    p.terminate()  # SIGTERM to every worker
    # FIX: get() without a timeout would wait for ever
    attempt('get(1) on a task lost to terminate()', lambda: lost.get(1))
    p.join()
