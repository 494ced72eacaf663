# Lesson 4, step 6: a handler still connected also keeps the port: a new
# server binds it only with SO_REUSEADDR. And the tutorial's handlers
# keep their copy of the listening socket too: then the port stays
# listening, and no bind works.
import multiprocessing as mp
from socket import *
import sys

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8081


def talk(coon, s, close_listener, ready):
    if close_listener:
        s.close()  # FIX: a handler has no use for the listening socket
    ready.set()
    while True:
        data = coon.recv(1024)
        if not data: break
        coon.send(data.upper())


def bind(reuse):
    s = socket(AF_INET, SOCK_STREAM)
    if reuse:
        s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
    try:
        s.bind(('127.0.0.1', PORT))
        return 'bound'
    except OSError as error:
        return error.strerror
    finally:
        s.close()


if __name__ == '__main__':
    for close_listener in [True, False]:
        s = socket(AF_INET, SOCK_STREAM)
        s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
        s.bind(('127.0.0.1', PORT))
        s.listen(5)
        c = create_connection(('127.0.0.1', PORT))
        coon, addr = s.accept()
        ready = mp.Event()
        handler = mp.Process(target=talk,
                             args=(coon, s, close_listener, ready))
        handler.start()
        ready.wait()
        coon.close()
        s.close()  # the server is gone; its handler is still connected
        who = 'handler' if close_listener else "tutorial's handler"
        print('%s: without SO_REUSEADDR: %s; with: %s'
              % (who, bind(False), bind(True)))
        # the handler has a copy of c too: end it for all copies
        c.shutdown(SHUT_RDWR)
        c.close()
        handler.join()
