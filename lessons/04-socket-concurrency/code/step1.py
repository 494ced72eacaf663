# Lesson 4, step 1: the tutorial's server (section 五), one process per
# connection, with three of its clients talking at once. Corrected:
# ASCII quotes; the port is the first argument, or the tutorial's 8081.
from socket import *
from multiprocessing import Process
import sys
import time

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8081


def talk(coon, addr):
    while True:
        try:
            data = coon.recv(1024)
            if not data: break
            coon.send(data.upper())
        except Exception:
            break
    coon.close()


def server(s):
    while True:
        coon, addr = s.accept()
        print('connection from', addr)
        p = Process(target=talk, args=(coon, addr))
        p.start()
        # FIX: close the server's copy, or the client never sees the end
        coon.close()


def client(name):
    c = socket(AF_INET, SOCK_STREAM)
    c.connect(('127.0.0.1', PORT))
    for cmd in [name + ' line 1', name + ' line 2']:
        time.sleep(0.5)
        c.send(cmd.encode('utf-8'))
        data = c.recv(1024)
        print(data.decode('utf-8'))
    c.close()


if __name__ == '__main__':
    # FIX: the bind moves under the main guard (lesson 2, step 4)
    s = socket(AF_INET, SOCK_STREAM)
    s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
    s.bind(('127.0.0.1', PORT))
    s.listen(5)
    print('start running...')
    srv = Process(target=server, args=(s,))
    srv.start()
    s.close()  # only the server accepts now
    clients = [Process(target=client, args=(name,))
               for name in ['alex', 'wupeiqi', 'yuanhao']]
    for c in clients:
        c.start()
    for c in clients:
        c.join()
    srv.terminate()  # the tutorial's server runs until Ctrl-C
    srv.join()
