# Exercise 12 solved another way: a thread per connection (lesson 16,
# step 3), which the lab must pass as well as its own selectors server.
import os
import socket
import threading

PORT = int(os.environ.get('PROCLAB_PORT', 8081))


def talk(conn):
    while True:
        try:
            data = conn.recv(1024)
        except ConnectionError:
            break
        if not data:
            break
        conn.sendall(data.upper())
    conn.close()


if __name__ == '__main__':
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(('127.0.0.1', PORT))
    server.listen(256)
    while True:
        conn, addr = server.accept()
        threading.Thread(target=talk, args=(conn,), daemon=True).start()
