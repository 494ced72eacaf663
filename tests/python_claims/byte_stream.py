# TCP is a byte stream: the tutorial's client reads one recv(1024) per line, so a reply longer
# than 1024 bytes arrives in pieces and the client stays one piece behind from then on.
import socket
import sys
import time
from multiprocessing import Process


def talk(coon):
    while True:
        data = coon.recv(1024)
        if not data:
            break
        coon.send(data.upper())
    coon.close()


if __name__ == '__main__':
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('127.0.0.1', int(sys.argv[1])))
    s.listen(5)
    server = Process(target=lambda: talk(s.accept()[0]))
    server.start()
    c = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
    for line in ["a" * 1500, "b", "c"]:
        c.send(line.encode())
        time.sleep(0.2)  # time for the whole reply to arrive
        data = c.recv(1024)
        print(f"sent {len(line)} x {line[0]}, got {len(data)} x {data[:1].decode()}")
    c.close()
    server.join()
