# Lesson 14, step 4: a notify nobody waits for is lost. waiter-1 calls
# wait() without looking at any state, after main's notify: it waits for
# a notify that already came (its timeout ends it; wait() alone would
# wait for ever). waiter-2 waits for the state, wait_for(lambda: ready),
# and does not wait at all. Not in the tutorial as code. An Event holds
# each waiter until the notify is done, so the unlucky order happens
# every run.
from threading import Thread, Condition, Event
import os

SPEED = float(os.environ.get('PROCLAB_SPEED', 1))
ready = False


def waiter_1(con, starting_up):
    starting_up.wait()
    with con:
        woken = con.wait(timeout=1 / SPEED)
    print('waiter-1: wait() -> %s (%s)'
          % (woken, 'woken' if woken else 'timed out'))


def waiter_2(con, starting_up):
    starting_up.wait()
    with con:
        # FIX: wait for the state, not for the notify
        found = con.wait_for(lambda: ready, timeout=1 / SPEED)
    print('waiter-2: wait_for(lambda: ready) -> %s' % found)


if __name__ == '__main__':
    con, starting_up = Condition(), Event()
    threads = [Thread(target=waiter_1, args=(con, starting_up)),
               Thread(target=waiter_2, args=(con, starting_up))]
    for t in threads:
        t.start()
    with con:
        ready = True
        con.notify(1)  # nobody is waiting yet: wakes nobody
    print('main: ready = True, notify(1) sent')
    starting_up.set()
    for t in threads:
        t.join()
