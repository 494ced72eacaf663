# Lesson 4, step 7: TCP is a byte stream. The tutorial's client reads
# one recv(1024) per line: a reply longer than that leaves it a reply
# behind.
from socket import *
from multiprocessing import Process
import sys
import time

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8081


def talk(coon, addr):
    while True:
        data = coon.recv(1024)
        if not data: break
        coon.send(data.upper())
    coon.close()


def server(s):
    while True:
        coon, addr = s.accept()
        Process(target=talk, args=(coon, addr)).start()
        coon.close()


def recv_all(c, size):
    """FIX: read until the whole reply is in.

    The server sends back as many bytes as it got."""
    data = b''
    while len(data) < size:
        chunk = c.recv(1024)
        if not chunk: break
        data += chunk
    return data


if __name__ == '__main__':
    s = socket(AF_INET, SOCK_STREAM)
    s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
    s.bind(('127.0.0.1', PORT))
    s.listen(5)
    srv = Process(target=server, args=(s,))
    srv.start()
    s.close()
    for name in ['alex', 'wupeiqi']:
        c = create_connection(('127.0.0.1', PORT))
        for cmd in ['a' * 1500, 'b', 'c']:
            c.send(cmd.encode('utf-8'))
            if name == 'alex':
                # as a person typing: the whole reply has arrived
                time.sleep(0.3)
                data = c.recv(1024)  # the tutorial's client
            else:
                data = recv_all(c, len(cmd))
            first = data[:1].decode()
            print('%s sent %d x %s, got %d bytes starting %s'
                  % (name, len(cmd), cmd[0], len(data), first))
        c.close()
    srv.terminate()
    srv.join()
