# Lesson 15, step 4: join() on a queue waits until every item put was
# task_done(), not only taken out. Two workers, six jobs; then a
# sentinel each (an item too, marked done); then one task_done() too
# many. Not in the tutorial as code.
from threading import Thread
from queue import Queue
import os
import time

SPEED = float(os.environ.get('PROCLAB_SPEED', 1))


def worker(q, name):
    while True:
        job = q.get()
        if job is None:
            q.task_done()
            break
        time.sleep(0.2 / SPEED)  # the work
        print('%s finished %s' % (name, job))
        q.task_done()  # after the work, not when taken


if __name__ == '__main__':
    q = Queue()
    workers = [Thread(target=worker, args=(q, 'worker-%d' % i))
               for i in (1, 2)]
    for t in workers:
        t.start()
    for i in range(6):
        q.put('job-%d' % i)
    q.join()
    print('join() returned: all six finished')
    for _ in workers:
        q.put(None)
    for t in workers:
        t.join()
    try:
        q.task_done()
    except ValueError as error:
        print('one more task_done(): ValueError: %s' % error)
