# Exercise 3's starter "fixed" with SIGCHLD ignored and the server's copy of
# each connection closed: the kernel reaps the handlers, but multiprocessing
# never learns they ended and keeps the pipe it watches each one by. The lab
# must count those descriptors as leaked.
from socket import *
from multiprocessing import get_context
import os
import signal

Process = get_context('fork').Process

PORT = int(os.environ.get('PROCLAB_PORT', 8081))


def talk(conn):
    while True:
        data = conn.recv(1024)
        if not data:
            break
        conn.send(data.upper())
    conn.close()


if __name__ == '__main__':
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    s = socket(AF_INET, SOCK_STREAM)
    s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
    s.bind(('127.0.0.1', PORT))
    s.listen(5)
    while True:
        conn, addr = s.accept()
        Process(target=talk, args=(conn,)).start()
        conn.close()
