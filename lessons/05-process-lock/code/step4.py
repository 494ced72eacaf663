# Lesson 5, step 4: join() after each start() sells one ticket too, but
# it makes everything serial, the slow query included; the lock makes
# only get() take turns. The tutorial says the lock makes buying serial
# (串行); here is how much. Each buyer notes when its query ran, and
# the main process counts how many queries ran at once.
from multiprocessing import Process, Value, Barrier, Lock, Array
import json
import os
import tempfile
import time

SPEED = float(os.environ.get('PROCLAB_SPEED', 1))
BUYERS = 10


def load(db):
    with open(db) as f:
        return json.load(f)


def save(db, dic):
    # FIX: a new file renamed over the old one (step 1 says why)
    new = '%s.%d' % (db, os.getpid())
    with open(new, 'w') as f:
        json.dump(dic, f)
    os.replace(new, db)


def search(db, i, spans):
    spans[2 * i] = time.monotonic()
    time.sleep(0.3 / SPEED)  # the query goes over the network
    load(db)
    spans[2 * i + 1] = time.monotonic()


def get(db, sold):
    dic = load(db)
    time.sleep(0.1 / SPEED)  # the network, between reading and writing
    if dic['count'] > 0:
        dic['count'] -= 1
        save(db, dic)
        with sold.get_lock():
            sold.value += 1


def with_lock(db, i, spans, sold, ready, lock):
    ready.wait()  # the sale opens when all ten are at their screens
    search(db, i, spans)
    with lock:
        get(db, sold)


def without_lock(db, i, spans, sold):
    search(db, i, spans)
    get(db, sold)


def most_at_once(spans):
    """The most queries that were running at the same moment."""
    pairs = [(spans[2 * i], spans[2 * i + 1]) for i in range(BUYERS)]
    return max(sum(1 for start, end in pairs if start <= t < end)
               for t, _ in pairs)


if __name__ == '__main__':
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, 'db.json')

        save(db, {'count': 1})
        sold, ready, lock = Value('i', 0), Barrier(BUYERS), Lock()
        spans = Array('d', 2 * BUYERS)
        began = time.monotonic()
        buyers = [Process(target=with_lock,
                          args=(db, i, spans, sold, ready, lock))
                  for i in range(BUYERS)]
        for p in buyers:
            p.start()
        for p in buyers:
            p.join()
        print('lock: %d sold in %.2f s, at most %d queries at once'
              % (sold.value, time.monotonic() - began, most_at_once(spans)))

        save(db, {'count': 1})
        sold, spans = Value('i', 0), Array('d', 2 * BUYERS)
        began = time.monotonic()
        for i in range(BUYERS):
            p = Process(target=without_lock, args=(db, i, spans, sold))
            p.start()
            p.join()  # the next buyer starts when this one is done
        print('join() after each start(): %d sold in %.2f s, '
              'at most %d queries at once'
              % (sold.value, time.monotonic() - began, most_at_once(spans)))
