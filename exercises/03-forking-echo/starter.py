# The tutorial's forking echo server: one handler process per connection,
# each upper-casing what its client sends. It serves, but after its
# clients have gone it leaves zombies (僵尸进程) behind, and it keeps a
# connection it no longer needs.
from socket import *
from multiprocessing import get_context
import os

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


if __name__ == '__main__':
    s = socket(AF_INET, SOCK_STREAM)
    s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
    s.bind(('127.0.0.1', PORT))
    s.listen(5)
    print('serving on 127.0.0.1:%d' % PORT)
    while True:
        conn, addr = s.accept()
        Process(target=talk, args=(conn,)).start()
