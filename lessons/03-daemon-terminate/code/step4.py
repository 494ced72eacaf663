# Lesson 3, step 4: a zombie, is_alive() and exitcode, and five exit
# codes. Not in the tutorial as code. It says exitcode is None while
# running and -N after signal N; after a normal end it is the exit
# status (0, or sys.exit's).
from multiprocessing import get_context
import sys
import time

# FIX: fork, whatever Python's default start method. Under forkserver (the
# default on Linux from Python 3.14) the fork server is every child's
# parent and reaps it at once: no zombie to see.
Process = get_context('fork').Process


def state(pid):
    try:
        with open('/proc/%d/stat' % pid) as stat:
            return stat.read().rsplit(')', 1)[1].split()[0]
    except FileNotFoundError:
        return 'gone'


def leave_with_3():
    sys.exit(3)


if __name__ == '__main__':
    p = Process(target=time.sleep, args=(0.3,), name='returns')
    print('before start(): is_alive() %s, exitcode %s'
          % (p.is_alive(), p.exitcode))
    p.start()
    print('while it runs: is_alive() %s, exitcode %s'
          % (p.is_alive(), p.exitcode))
    time.sleep(1)
    print('ended, not joined: %s in /proc' % state(p.pid))
    print('after it ended: is_alive() %s, exitcode %s'
          % (p.is_alive(), p.exitcode))
    # Python's is_alive() reaps
    print('after is_alive(): %s in /proc' % state(p.pid))
    p.join()
    never = Process(target=time.sleep, args=(60,), name='never-started')
    exits_3 = Process(target=leave_with_3, name='exits-3')
    terminated = Process(target=time.sleep, args=(60,),
                         name='terminated')
    killed = Process(target=time.sleep, args=(60,), name='killed')
    for child in [exits_3, terminated, killed]:
        child.start()
    terminated.terminate()
    killed.kill()
    for child in [exits_3, terminated, killed]:
        child.join()
    children = [never, p, exits_3, terminated, killed]
    print('exitcode: ' + ', '.join('%s %s' % (c.name, c.exitcode)
                                   for c in children))
