# Lesson 4, step 2: an iterative server, no fork: it talks to one client
# at a time, and the others wait. Not in the tutorial as code.
from socket import *
from multiprocessing import Process, Barrier
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
        # no Process: the next client waits until this one is done
        talk(coon, addr)


def client(name, go):
    # all three set off together, however long each took to start
    go.wait()
    began = time.monotonic()
    c = socket(AF_INET, SOCK_STREAM)
    c.connect(('127.0.0.1', PORT))
    for cmd in [name + ' line 1', name + ' line 2']:
        time.sleep(0.5)
        c.send(cmd.encode('utf-8'))
        c.recv(1024)
    c.close()
    print('%s done after %.1f s' % (name, time.monotonic() - began))


if __name__ == '__main__':
    s = socket(AF_INET, SOCK_STREAM)
    s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
    s.bind(('127.0.0.1', PORT))
    s.listen(5)
    srv = Process(target=server, args=(s,))
    srv.start()
    s.close()
    # the three and main; a client that died breaks it after 30 s
    go = Barrier(4, timeout=30)
    clients = [Process(target=client, args=(name, go))
               for name in ['alex', 'wupeiqi', 'yuanhao']]
    for c in clients:
        c.start()
    go.wait()
    for c in clients:
        c.join()
    srv.terminate()
    srv.join()
