# Lesson 17, step 5: the tutorial's closing question, 1000+ requests a
# second from Python? A ten-line asyncio.start_server echo server,
# loaded for a second by four clients in another process. Not in the
# tutorial as code.
from multiprocessing import Process, Queue
import asyncio
import socket
import threading
import time


async def talk(reader, writer):
    while data := await reader.read(1024):
        writer.write(data.upper())
        await writer.drain()
    writer.close()


def server(s):
    async def serve():
        server = await asyncio.start_server(talk, sock=s)
        await server.serve_forever()
    asyncio.run(serve())


def requests(port, seconds, counts):
    c = socket.create_connection(('127.0.0.1', port))
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    n, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        c.sendall(b'request')
        got = b''
        while len(got) < 7:
            got += c.recv(1024)
        n += 1
    c.close()
    counts.append(n)


def load(port, result):
    counts = []
    clients = [threading.Thread(target=requests, args=(port, 1, counts))
               for _ in range(4)]
    for t in clients:
        t.start()
    for t in clients:
        t.join()
    result.put(sum(counts))


if __name__ == '__main__':
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
    print('asyncio echo server: %d requests in one second' % result.get())
    loader.join()
    srv.terminate()
    srv.join()
