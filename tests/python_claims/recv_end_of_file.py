# Lesson 16: a recv() on a connection the other end has closed returns b'' at once: the end
# of file, not a time-out, even with a timeout set. A timeout is a different ending
# (socket.timeout), and so is an error (a reset).
import socket
import time

listener = socket.create_server(("127.0.0.1", 0))
client = socket.create_connection(listener.getsockname())
server, _ = listener.accept()
server.settimeout(2.0)

client.close()
began = time.monotonic()
data = server.recv(1024)
print(f"peer closed: recv returned {data!r} after less than 1 s: {time.monotonic() - began < 1.0}")

other = socket.create_connection(listener.getsockname())
quiet, _ = listener.accept()
quiet.settimeout(0.1)
try:
    quiet.recv(1024)
except TimeoutError as error:
    print("peer silent: recv raised", type(error).__name__)
for s in (server, other, quiet, listener):
    s.close()
