# Lesson 8, step 2: the unlocked race of step 1, twenty times: one
# correct run proves nothing. Each adder adds 3000 here: Python's
# additions are slow beside the lab's, and a thousand seldom collide. The same ten adders play every round
# (starting 200 processes takes longer than the rounds under spawn): a
# Barrier starts a round when main and the ten are ready, another ends
# it. Not in the tutorial as code.
from multiprocessing import Process, Value, Barrier

ROUNDS = 20


def add(counter, begin, end):
    for _ in range(ROUNDS):
        begin.wait()
        for _ in range(3000):
            counter.value += 1
        end.wait()


if __name__ == '__main__':
    counter = Value('i', 0)
    # main and the ten; a dead adder breaks them after 30 s
    begin, end = Barrier(11, timeout=30), Barrier(11, timeout=30)
    adders = [Process(target=add, args=(counter, begin, end))
              for _ in range(10)]
    for p in adders:
        p.start()
    totals = []
    for _ in range(ROUNDS):
        counter.value = 0
        begin.wait()
        end.wait()
        totals.append(counter.value)
    for p in adders:
        p.join()
    print('totals: %s' % ' '.join(map(str, totals)))
    short = [t for t in totals if t < 30000]
    print('%d of %d rounds short of 30000; the worst %d'
          % (len(short), ROUNDS, min(totals)))
