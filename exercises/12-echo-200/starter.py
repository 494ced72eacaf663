# Exercise 12: the upper-casing echo server, one client at a time: it
# talks to a client until that client hangs up, and only then accepts
# the next. Run it, then `proclab load --port 8081 --hold 200`: the
# first client is answered, the second gets no reply while the first
# stays. Make it serve 200 clients at once: the lab connects 200 of
# them, all kept open, and each must get its reply.
import os
import socket

PORT = int(os.environ.get('PROCLAB_PORT', 8081))  # the lab picks one


def talk(conn):
    while True:
        try:
            data = conn.recv(1024)  # blocks: nobody else is served
        except ConnectionError:  # a client that left replies unread
            break
        if not data:  # the client hung up
            break
        conn.sendall(data.upper())
    conn.close()


if __name__ == '__main__':
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(('127.0.0.1', PORT))
    server.listen(256)
    print('listening on 127.0.0.1:%d' % PORT)
    while True:
        conn, addr = server.accept()
        talk(conn)
