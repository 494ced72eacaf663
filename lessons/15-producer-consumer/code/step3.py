# Lesson 15, step 3: back-pressure (背压). Two pairs at once, each a fast
# producer putting twelve items and a slow consumer (0.25 s each): one
# pair shares Queue(3), the other Queue() with no limit. Not in the
# tutorial as code.
from threading import Thread
from queue import Queue
import os
import time

SPEED = float(os.environ.get('PROCLAB_SPEED', 1))


def fast(q, name, began, peak):
    for i in range(12):
        q.put(i)  # Queue(3): waits while three are in
        peak[name] = max(peak.get(name, 0), q.qsize())
    print('%s done putting after %.2f s'
          % (name, (time.monotonic() - began) * SPEED))


def slow(q):
    for _ in range(12):
        q.get()
        time.sleep(0.25 / SPEED)


if __name__ == '__main__':
    began, peak = time.monotonic(), {}
    threads = []
    for name, q in [('fast-3', Queue(3)), ('fast-0', Queue())]:
        threads += [Thread(target=fast, args=(q, name, began, peak)),
                    Thread(target=slow, args=(q,))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print('the most in each queue: fast-3 %d, fast-0 %d'
          % (peak['fast-3'], peak['fast-0']))
