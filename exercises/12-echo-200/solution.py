# Exercise 12, a solution: I/O multiplexing (I/O多路复用) with selectors,
# which uses epoll on Linux: one thread waits in one place for whichever
# socket is ready, the listening one (a new client) or any connection
# (a line to answer), so no client waits for another. A reply is small
# here; a server for big ones would keep what send() could not take and
# wait for the socket to be writable (lesson 16, steps 5 and 6).
import os
import selectors
import socket

PORT = int(os.environ.get('PROCLAB_PORT', 8081))  # the lab picks one


def accept(sel, server):
    conn, addr = server.accept()
    conn.setblocking(False)
    sel.register(conn, selectors.EVENT_READ, answer)


def answer(sel, conn):
    try:
        data = conn.recv(1024)  # ready: this does not block
        if data:
            conn.sendall(data.upper())
            return
    except (ConnectionError, BlockingIOError):  # gone, or stuck unread
        pass
    sel.unregister(conn)  # the client hung up
    conn.close()


if __name__ == '__main__':
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(('127.0.0.1', PORT))
    server.listen(256)
    server.setblocking(False)
    sel = selectors.DefaultSelector()  # epoll on Linux
    sel.register(server, selectors.EVENT_READ, accept)
    print('listening on 127.0.0.1:%d' % PORT)
    while True:
        for key, _ in sel.select():  # blocks until something is ready
            key.data(sel, key.fileobj)
