# Lesson 4, step 4: the tutorial's server as written never closes its
# copy of a connection: the conversation ends for the client only when
# the next accept() rebinds coon, that is, when another client connects.
from socket import *
from multiprocessing import Process
import sys

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8081


def talk(coon, addr):
    while True:
        data = coon.recv(1024)
        if not data: break
        coon.send(data.upper())
    coon.close()


def server(s):
    while True:
        # rebinding coon closes the previous connection's copy
        coon, addr = s.accept()
        Process(target=talk, args=(coon, addr)).start()
        # the tutorial's server does not close coon here


if __name__ == '__main__':
    s = socket(AF_INET, SOCK_STREAM)
    s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
    s.bind(('127.0.0.1', PORT))
    s.listen(5)
    srv = Process(target=server, args=(s,))
    srv.start()
    s.close()
    alex = create_connection(('127.0.0.1', PORT))
    alex.send(b'bye')
    print('alex got %s' % alex.recv(1024).decode())
    # "I am done": the handler reads the end and exits
    alex.shutdown(SHUT_WR)
    alex.settimeout(1)
    try:
        alex.recv(1024)
        print('alex: the conversation ended')
    except timeout:
        print('alex: no end after 1 s: the server still holds its copy')
    alex.settimeout(10)
    wupeiqi = create_connection(('127.0.0.1', PORT))
    print('wupeiqi connected; alex reads %r: the end' % alex.recv(1024))
    # wupeiqi's handler is up once it answers: terminating the server
    # while it starts one (slow under spawn) would leave a half-started
    # child to complain
    wupeiqi.send(b'hi')
    wupeiqi.recv(1024)
    wupeiqi.close()
    alex.close()
    srv.terminate()
    srv.join()
