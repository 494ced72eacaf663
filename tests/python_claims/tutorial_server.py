# The tutorial's server (section 五), with ASCII quotes and the port from the command line.
import sys
from socket import *
from multiprocessing import Process

s = socket(AF_INET, SOCK_STREAM)
s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
s.bind(('127.0.0.1', int(sys.argv[1])))
s.listen(5)
print('start running...', flush=True)


def talk(coon, addr):
    while True:
        try:
            data = coon.recv(1024)
            if not data: break
            coon.send(data.upper())
        except Exception:
            break
    coon.close()


if __name__ == '__main__':
    while True:
        coon, addr = s.accept()
        p = Process(target=talk, args=(coon, addr))
        p.start()
    s.close()
