# The tutorial's forking echo server, leaving nothing behind: the server
# reaps each handler as it ends (on SIGCHLD), and closes its copy of each
# connection once the handler has its own.
from socket import *
from multiprocessing import get_context, active_children
import os
import signal

# fork, whatever Python's default start method: under forkserver the
# handlers would be the fork server's children, and it reaps them.
Process = get_context('fork').Process

PORT = int(os.environ.get('PROCLAB_PORT', 8081))


def talk(conn):
    while True:
        data = conn.recv(1024)
        if not data:
            break
        conn.send(data.upper())
    conn.close()


def reap(signum, frame):
    # active_children() joins every handler that has ended: its zombie is
    # reaped, and its Process object, with the pipe it watches the child
    # by, is let go. (SIGCHLD ignored would reap too, but multiprocessing
    # would then never learn its children ended, and keep those pipes.)
    active_children()


if __name__ == '__main__':
    signal.signal(signal.SIGCHLD, reap)
    s = socket(AF_INET, SOCK_STREAM)
    s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
    s.bind(('127.0.0.1', PORT))
    s.listen(5)
    print('serving on 127.0.0.1:%d' % PORT)
    while True:
        conn, addr = s.accept()
        Process(target=talk, args=(conn,)).start()
        conn.close()  # the handler has its own copy; the server needs none
