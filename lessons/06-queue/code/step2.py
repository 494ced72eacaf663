# Lesson 6, step 2: empty(), full() and qsize() say how the queue was
# when they looked. One item in a queue, two consumers released at the
# same moment: each asks empty(), and if it says "not empty" calls
# get_nowait(). Twenty rounds, counted. Not in the tutorial as code (it
# says these are unreliable).
from multiprocessing import Process, Queue, Barrier
import queue
import time

ROUNDS = 20


def consumer(q, begin, end, told_wrong):
    for _ in range(ROUNDS):
        begin.wait()
        if not q.empty():
            time.sleep(0.01)  # a moment of other work after looking
            try:
                q.get_nowait()
            except queue.Empty:
                # told "not empty", found nothing: the other got it
                told_wrong.put(1)
        end.wait()


if __name__ == '__main__':
    q, told_wrong = Queue(), Queue()
    # Python's own surprise: put() hands the item to a feeder thread,
    # which writes it into the pipe a moment later
    q.put('包子')
    print('right after put(): empty() says %s' % q.empty())
    q.get()
    # the main process and the two consumers; a dead consumer breaks
    # them after 30 s rather than hanging the others
    begin, end = Barrier(3, timeout=30), Barrier(3, timeout=30)
    consumers = [Process(target=consumer, args=(q, begin, end, told_wrong))
                 for _ in range(2)]
    for c in consumers:
        c.start()
    for _ in range(ROUNDS):
        q.put('包子')
        while q.empty():  # until the feeder thread has written it
            time.sleep(0.001)
        begin.wait()
        end.wait()
    for c in consumers:
        c.join()
    wrong = 0
    while not told_wrong.empty():  # nobody puts any more: true now
        wrong += told_wrong.get()
    print('%d rounds: a consumer told "not empty" found nothing '
          'in %d' % (ROUNDS, wrong))
