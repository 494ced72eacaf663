# Lesson 5, step 3: one run proves little, so twenty quick rounds
# without the lock and twenty with it, four buyers a round, each
# clicking "buy" at a random moment, with a random network delay. The buyers say nothing;
# the main process says one line per round. Not in the tutorial as code.
# The same four buyers play every round (starting 160 processes would
# take longer than the rounds under spawn): a Barrier starts a round
# when the main process and the four are ready, another ends it.
from multiprocessing import Process, Value, Barrier, Lock
import json
import os
import random
import tempfile
import time

SPEED = float(os.environ.get('PROCLAB_SPEED', 1))
ROUNDS = 20


def load(db):
    with open(db) as f:
        return json.load(f)


def save(db, dic):
    # FIX: a new file renamed over the old one (step 1 says why)
    new = '%s.%d' % (db, os.getpid())
    with open(new, 'w') as f:
        json.dump(dic, f)
    os.replace(new, db)


def get(db, sold):
    time.sleep(random.uniform(0, 0.1) / SPEED)  # clicks "buy"
    dic = load(db)
    time.sleep(random.uniform(0, 0.1) / SPEED)  # the network
    if dic['count'] > 0:
        dic['count'] -= 1
        save(db, dic)
        with sold.get_lock():
            sold.value += 1


def buyer(db, sold, begin, end, lock):
    for _ in range(ROUNDS):
        begin.wait()
        if lock is None:
            get(db, sold)
        else:
            with lock:
                get(db, sold)
        end.wait()


if __name__ == '__main__':
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, 'db.json')
        for how, lock in [('no lock', None), ('lock', Lock())]:
            sold = Value('i', 0)
            # the main process and the four; a dead buyer breaks them
            # after 30 s rather than hanging the others
            begin, end = Barrier(5, timeout=30), Barrier(5, timeout=30)
            buyers = [Process(target=buyer,
                              args=(db, sold, begin, end, lock))
                      for _ in range(4)]
            for p in buyers:
                p.start()
            for n in range(1, ROUNDS + 1):
                save(db, {'count': 1})
                sold.value = 0
                begin.wait()  # the round starts
                end.wait()    # every buyer is done
                print('%s, round %d: %d ticket(s) sold'
                      % (how, n, sold.value))
            for p in buyers:
                p.join()
