# Lesson 4, step 5: why the tutorial sets SO_REUSEADDR. The side that
# closes first keeps the connection in TIME_WAIT for a minute, and the
# port with it.
from socket import *
import sys

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8081


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
    s = socket(AF_INET, SOCK_STREAM)
    s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
    s.bind(('127.0.0.1', PORT))
    s.listen(5)
    c = create_connection(('127.0.0.1', PORT))
    coon, addr = s.accept()
    # the server hangs up first: its side goes to TIME_WAIT
    coon.close()
    c.recv(1024)
    c.close()
    s.close()  # the server stops
    print('without SO_REUSEADDR: %s' % bind(False))
    print('with SO_REUSEADDR: %s' % bind(True))
