# Lesson 17, step 4: the same service two ways, each a server process
# with one thread: asyncio (coroutines on its epoll loop) and lesson
# 16's epoll loop written by hand. Each is loaded in turn by the same
# clients, in another process: four connections doing 16-byte round
# trips for half a second. Not in the tutorial as code.
from multiprocessing import Process, Queue
import asyncio
import os
import select
import socket
import threading
import time


async def talk(reader, writer):
    while data := await reader.read(1024):
        writer.write(data.upper())
        await writer.drain()
    writer.close()


def asyncio_server(s):
    async def serve():
        server = await asyncio.start_server(talk, sock=s)
        await server.serve_forever()
    asyncio.run(serve())


def epoll_server(s):
    s.setblocking(False)
    ep = select.epoll()
    ep.register(s, select.EPOLLIN)
    conns = {}
    while True:
        for fd, event in ep.poll():
            if fd == s.fileno():
                conn, addr = s.accept()
                conn.setblocking(False)
                conns[conn.fileno()] = conn
                ep.register(conn, select.EPOLLIN)
                continue
            conn = conns[fd]
            data = conn.recv(1024)
            if data:
                conn.sendall(data.upper())  # 16 bytes: always room
            else:
                ep.unregister(conn)
                del conns[fd]
                conn.close()


def round_trips(port, seconds, counts):
    c = socket.create_connection(('127.0.0.1', port))
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    n, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        c.sendall(b'0123456789abcdef')
        got = b''
        while len(got) < 16:
            got += c.recv(1024)
        n += 1
    c.close()
    counts.append(n)


def load(port, result):
    counts = []
    clients = [threading.Thread(target=round_trips, args=(port, 0.5, counts))
               for _ in range(4)]
    for t in clients:
        t.start()
    for t in clients:
        t.join()
    result.put(sum(counts) / 0.5)


if __name__ == '__main__':
    for name, server in [('asyncio', asyncio_server),
                         ('epoll loop', epoll_server)]:
        s = socket.socket()
        s.bind(('127.0.0.1', 0))
        s.listen(128)
        port = s.getsockname()[1]
        srv = Process(target=server, args=(s,))
        srv.start()
        s.close()
        socket.create_connection(('127.0.0.1', port)).close()  # it is up
        result = Queue()
        loader = Process(target=load, args=(port, result))
        loader.start()
        rate = result.get()
        threads = len(os.listdir('/proc/%d/task' % srv.pid))
        loader.join()
        srv.terminate()
        srv.join()
        print('%s: %.0f round trips a second; the server has %d thread(s)'
              % (name, rate, threads))
