# 抢票: five buyers, one ticket left in db.json. Each looks at the count,
# then buys: reads the count, waits for the network, writes it back less
# one. The network's delays come from PROCLAB_SEED, which the lab sets for
# each round, so a round can be replayed. Sometimes more than one buyer
# gets the one ticket.
from multiprocessing import Process, Barrier
import json
import os
import random
import tempfile
import time


def load(db):
    with open(db) as f:
        return json.load(f)


def save(db, dic):
    # a new file renamed over the old one: a reader never finds it half written
    new = '%s.%d' % (db, os.getpid())
    with open(new, 'w') as f:
        json.dump(dic, f)
    os.replace(new, db)


def search(db, delay):
    time.sleep(delay)  # the query goes over the network
    print('剩余票数 %s' % load(db)['count'])


def get(db):
    dic = load(db)
    time.sleep(0.03)  # the network, between reading and writing
    if dic['count'] > 0:
        dic['count'] -= 1
        save(db, dic)
        print('购票成功')


def task(db, delay, ready):
    ready.wait()  # the sale opens when all five are at their screens
    search(db, delay)
    get(db)


if __name__ == '__main__':
    rng = random.Random(int(os.environ.get('PROCLAB_SEED', 1)))
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, 'db.json')
        save(db, {'count': 1})
        ready = Barrier(5)
        buyers = [Process(target=task,
                          args=(db, rng.uniform(0.005, 0.02), ready))
                  for _ in range(5)]
        for p in buyers:
            p.start()
        for p in buyers:
            p.join()
        print('db.json says %s' % load(db))
