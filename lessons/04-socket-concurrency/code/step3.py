# Lesson 4, step 3: the tutorial's server never joins its handlers: they
# stay zombies, until its next start() reaps the ones that have ended.
# Three clients connected at once leave three; with SIGCHLD ignored, the
# kernel reaps them.
from socket import *
from multiprocessing import get_context
import os
import signal
import sys
import time

# FIX: fork, whatever Python's default start method. Under forkserver (the
# default on Linux from Python 3.14) the handlers are the fork server's
# children, not the server's, and the fork server reaps them: no zombie.
Process = get_context('fork').Process

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8081


def talk(coon, addr):
    while True:
        data = coon.recv(1024)
        if not data: break
        coon.send(data.upper())
    coon.close()


def server(s, ignore_sigchld):
    if ignore_sigchld:
        # the kernel reaps, nobody waits
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    while True:
        coon, addr = s.accept()
        Process(target=talk, args=(coon, addr)).start()
        coon.close()


def children(pid):
    """The state letters of pid's children, from /proc."""
    states = []
    for entry in filter(str.isdigit, os.listdir('/proc')):
        try:
            with open('/proc/%s/stat' % entry) as stat:
                fields = stat.read().rsplit(')', 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            states.append(fields[0])
    return states


if __name__ == '__main__':
    for ignore_sigchld in [False, True]:
        s = socket(AF_INET, SOCK_STREAM)
        s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
        s.bind(('127.0.0.1', PORT))
        s.listen(5)
        srv = Process(target=server, args=(s, ignore_sigchld))
        srv.start()
        s.close()
        address = ('127.0.0.1', PORT)
        clients = [create_connection(address) for _ in range(3)]
        for c in clients:
            c.send(b'hello')
            c.recv(1024)
        for c in clients:
            c.close()
        # until every handler has ended (a zombie has)
        deadline = time.monotonic() + 10
        while (len(children(srv.pid)) < 3 and not ignore_sigchld
               or any(state != 'Z' for state in children(srv.pid))):
            if time.monotonic() > deadline:
                break
            time.sleep(0.01)
        how = "the tutorial's server"
        if ignore_sigchld:
            how = 'SIGCHLD ignored'
        print('%s: %d zombie(s)' % (how, children(srv.pid).count('Z')))
        srv.terminate()
        srv.join()
