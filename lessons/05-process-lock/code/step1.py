# Lesson 5, step 1: the tutorial's ticket buying (抢票, section 1.4),
# without a lock. Ten buyers, one ticket left in db.json. Rendered anew:
# db.json lives in a temporary directory and goes at the end, the delays
# follow PROCLAB_SPEED (the lab's --speed), and the main process counts
# the tickets sold (the file cannot tell).
from multiprocessing import Process, Value, Barrier
import json
import os
import tempfile
import time

SPEED = float(os.environ.get('PROCLAB_SPEED', 1))


def load(db):
    with open(db) as f:
        return json.load(f)


def save(db, dic):
    # FIX: the tutorial's json.dump(dic, open(db, 'w')) empties the file
    # before writing it, and a buyer reading meanwhile finds nothing
    # (JSONDecodeError). Write a new file and rename it over the old one.
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


def task(db, sold, ready):
    # the sale opens when all ten are at their screens, however long
    # each took to start (a spawned child takes a while)
    ready.wait()
    search(db)
    get(db, sold)


if __name__ == '__main__':
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, 'db.json')
        save(db, {'count': 1})
        sold, ready = Value('i', 0), Barrier(10)
        buyers = [Process(target=task, args=(db, sold, ready))
                  for _ in range(10)]
        for p in buyers:
            p.start()
        for p in buyers:
            p.join()
        print('tickets sold: %d; db.json says %s'
              % (sold.value, load(db)))
