# Lesson 16, step 1: blocking I/O (阻塞 I/O), one client at a time:
# lesson 4's iterative server, the tutorial's upper-casing echo. alex,
# wupeiqi and yuanhao talk at once (two lines each); then 20 connections
# are held open. Not in the tutorial as code. The pauses follow
# PROCLAB_SPEED (the lab's --speed).
from multiprocessing import Process
import os
import socket
import threading
import time

SPEED = float(os.environ.get('PROCLAB_SPEED', 1))


def server(s):
    while True:
        conn, addr = s.accept()  # blocks
        while True:
            try:
                data = conn.recv(1024)  # blocks: nobody else is read
                if not data:
                    break
                conn.sendall(data.upper())
            except ConnectionError:  # a client that left unread replies
                break
        conn.close()


def client(port, name, began, done):
    c = socket.create_connection(('127.0.0.1', port))
    for line in [name + ' line 1', name + ' line 2']:
        time.sleep(0.5 / SPEED)  # a person typing
        c.sendall(line.encode())
        c.recv(1024)
    c.close()
    done[name] = (time.monotonic() - began) * SPEED


def serving(port):
    """Until the server answers (a spawned one takes a while to start)."""
    c = socket.create_connection(('127.0.0.1', port))
    c.sendall(b'up?')
    c.recv(1024)
    c.close()


def talkers(port):
    """alex, wupeiqi and yuanhao talk at once: each one's time."""
    began, done = time.monotonic(), {}
    threads = [threading.Thread(target=client, args=(port, name, began, done))
               for name in ['alex', 'wupeiqi', 'yuanhao']]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return ', '.join('%s %.1f s' % (name, done[name]) for name in sorted(done))


def held(port, server_pid, count=20):
    """Hold count connections open; say how many got their PING back
    within 2 s, and what the server has while they are open."""
    conns = [socket.create_connection(('127.0.0.1', port))
             for _ in range(count)]
    for c in conns:
        c.sendall(b'ping')
    answered, deadline = 0, time.monotonic() + 2
    for c in conns:
        c.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            answered += c.recv(1024) == b'PING'
        except socket.timeout:
            pass
    cost = cost_of(server_pid)
    for c in conns:
        c.close()
    return answered, cost


def cost_of(pid):
    """Processes (the server and its children), threads and descriptors
    of the server, from /proc."""
    children = 0
    for entry in filter(str.isdigit, os.listdir('/proc')):
        try:
            with open('/proc/%s/stat' % entry) as stat:
                if int(stat.read().rsplit(')', 1)[1].split()[1]) == pid:
                    children += 1
        except OSError:
            continue
    threads = len(os.listdir('/proc/%d/task' % pid))
    fds = len(os.listdir('/proc/%d/fd' % pid))
    return '%d processes, %d threads, %d descriptors' % (1 + children,
                                                         threads, fds)


if __name__ == '__main__':
    s = socket.socket()
    s.bind(('127.0.0.1', 0))  # a free port
    s.listen(128)
    port = s.getsockname()[1]
    srv = Process(target=server, args=(s,))
    srv.start()
    s.close()
    serving(port)
    print('talkers done after: %s' % talkers(port))
    answered, cost = held(port, srv.pid)
    print('20 held: %d answered within 2 s; the server: %s' % (answered, cost))
    srv.terminate()
    srv.join()
