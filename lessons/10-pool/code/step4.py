# Lesson 10, step 4: a thousand tiny tasks (add one), through a pool
# and with a process per task, timed. The processes of the second way
# are bare os.fork() + os._exit() + os.waitpid(), each leaving its
# answer in shared memory: the cheapest a process can be. They go first,
# while the main process has no other thread (a Pool starts three).
# Not in the tutorial as code.
from multiprocessing import Pool, Array
import os
import time

# two hundred, not the lab's thousand: a Python fork costs milliseconds
# (a thousand take seconds)
N = 200


def add_one(n):
    return n + 1


if __name__ == '__main__':
    answers = Array('i', N, lock=False)  # shared with forked children
    began = time.perf_counter()
    for n in range(N):
        pid = os.fork()
        if pid == 0:
            answers[n] = add_one(n)
            os._exit(0)
        os.waitpid(pid, 0)
    forked = time.perf_counter() - began
    assert list(answers) == list(range(1, N + 1))
    with Pool(4) as p:
        p.map(add_one, range(4))  # the workers are up (spawn is slow)
        began = time.perf_counter()
        results = p.map(add_one, range(N))
        pooled = time.perf_counter() - began
    assert results == list(range(1, N + 1))
    print('pool of 4: %d tasks in %.3f s' % (N, pooled))
    print('a process each: %d tasks in %.3f s' % (N, forked))
    print('a process each is %.0f times slower' % (forked / pooled))
