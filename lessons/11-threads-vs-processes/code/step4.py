# Lesson 11, step 4: what it costs to start and end a process, and a
# thread, timed in turns. The process is multiprocessing's, with the
# start method in use (spawn starts a whole new interpreter). Not in the
# tutorial as code.
from multiprocessing import Process, get_start_method
from threading import Thread
import time

ROUNDS = 5


def nothing():
    pass


def timed(kind):
    began = time.perf_counter()
    t = kind(target=nothing)
    t.start()
    t.join()
    return time.perf_counter() - began


if __name__ == '__main__':
    process = thread = 0.0
    for _ in range(ROUNDS):  # in turns: a busy moment hits both
        process += timed(Process)
        thread += timed(Thread)
    process, thread = process / ROUNDS, thread / ROUNDS
    print('a process (%s): %.0f us; a thread: %.0f us'
          % (get_start_method(), process * 1e6, thread * 1e6))
    print('a process costs %.0f times a thread' % (process / thread))
