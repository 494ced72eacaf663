# Lesson 5, step 2: the tutorial's ticket buying with a Lock around the
# purchase: search() stays free, get() is taken one buyer at a time.
# Rendered anew as step 1.
from multiprocessing import Process, Value, Barrier, Lock
import json
import os
import tempfile
import time

SPEED = float(os.environ.get('PROCLAB_SPEED', 1))


def load(db):
    with open(db) as f:
        return json.load(f)


def save(db, dic):
    # FIX: a new file renamed over the old one (step 1 says why)
    new = '%s.%d' % (db, os.getpid())
    with open(new, 'w') as f:
        json.dump(dic, f)
    os.replace(new, db)


def search(db):
    time.sleep(0.3 / SPEED)  # the query goes over the network
    print('剩余票数 %s' % load(db)['count'])


def get(db, sold):
    dic = load(db)
    time.sleep(0.1 / SPEED)  # the network, between reading and writing
    if dic['count'] > 0:
        dic['count'] -= 1
        save(db, dic)
        with sold.get_lock():
            sold.value += 1
        print('购票成功')
    else:
        print('票已售罄')  # sold out


def task(db, sold, ready, lock):
    ready.wait()  # the sale opens when all ten are at their screens
    search(db)
    # FIX: with lock: rather than acquire() and release(): the lock is
    # released on every way out of the block, an exception included
    with lock:
        get(db, sold)


if __name__ == '__main__':
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, 'db.json')
        save(db, {'count': 1})
        sold, ready, lock = Value('i', 0), Barrier(10), Lock()
        buyers = [Process(target=task, args=(db, sold, ready, lock))
                  for _ in range(10)]
        for p in buyers:
            p.start()
        for p in buyers:
            p.join()
        print('tickets sold: %d; db.json says %s'
              % (sold.value, load(db)))
