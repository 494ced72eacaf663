# Lesson 11, step 2: two processes each have one thread, whose id is the
# pid; three threads of one process share its pid, each with its own
# thread id, and /proc/<pid>/task/ lists them. Not in the tutorial as
# code.
from multiprocessing import Process
from threading import Thread, Lock, get_native_id
import os


def tasks():
    return sorted(int(t) for t in os.listdir('/proc/%d/task' % os.getpid()))


def process_says():
    print('process: pid %d, thread id %d, task/ %s'
          % (os.getpid(), get_native_id(), tasks()))


def thread_says(held):
    print('thread: pid %d, thread id %d' % (os.getpid(), get_native_id()))
    with held:  # alive until main lets go, so that /proc lists it
        pass


if __name__ == '__main__':
    for _ in range(2):
        p = Process(target=process_says)
        p.start()
        p.join()
    held = Lock()
    held.acquire()
    threads = [Thread(target=thread_says, args=(held,)) for _ in range(3)]
    for t in threads:
        t.start()
    print('main thread: pid %d, thread id %d, task/ %s'
          % (os.getpid(), get_native_id(), tasks()))
    held.release()
    for t in threads:
        t.join()
