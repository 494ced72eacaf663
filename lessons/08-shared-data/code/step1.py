# Lesson 8, step 1: Value('i', 0) in shared memory; ten processes each
# do counter.value += 1 a thousand times, first without a lock, then
# with counter.get_lock(). An Array counts each adder's tries in its own
# slot. Not in the tutorial as code (section 1.7 says shared data is not
# safe without a lock).
from multiprocessing import Process, Value, Array, Barrier


def add(counter, tries, i, ready, locked):
    ready.wait()  # a starting gun: a start takes longer than the work
    for _ in range(1000):
        if locked:
            with counter.get_lock():
                counter.value += 1
        else:
            # read, then write: two steps, each under the lock alone
            counter.value += 1
        tries[i] += 1  # this slot is this adder's only


def race(locked):
    counter, tries = Value('i', 0), Array('i', 10)
    ready = Barrier(10, timeout=30)
    adders = [Process(target=add, args=(counter, tries, i, ready, locked))
              for i in range(10)]
    for p in adders:
        p.start()
    for p in adders:
        p.join()
    return counter.value, sum(tries)


if __name__ == '__main__':
    total, tries = race(locked=False)
    print('no lock: counter.value = %d after %d additions' % (total, tries))
    total, tries = race(locked=True)
    print('with get_lock(): counter.value = %d after %d additions'
          % (total, tries))
