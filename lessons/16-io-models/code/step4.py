# Lesson 16, step 4: non-blocking I/O (非阻塞 I/O) and a busy loop: one
# thread, every socket O_NONBLOCK, trying accept() and recv() on each in
# turn, round and round. It answers everybody, and nothing tells it when
# to try: it counts its turns, and how many found nothing to do. Then an
# idle half second, with no client: the CPU the busy loop burns against
# a blocking server's. Not in the tutorial as code (it describes it).
from multiprocessing import Process, Value
import os
import socket
import threading
import time

SPEED = float(os.environ.get('PROCLAB_SPEED', 1))


def busy_server(s, turns, idle_turns):
    s.setblocking(False)
    conns = []
    while True:
        turns.value += 1
        did_something = False
        try:
            conn, addr = s.accept()
            conn.setblocking(False)
            conns.append(conn)
            did_something = True
        except BlockingIOError:  # EAGAIN: nobody yet
            pass
        for conn in list(conns):
            try:
                data = conn.recv(1024)
            except BlockingIOError:
                continue
            except ConnectionResetError:
                data = b''
            did_something = True
            if not data:
                conns.remove(conn)
                conn.close()
            else:
                conn.sendall(data.upper())
        if not did_something:
            idle_turns.value += 1


def blocking_server(s):
    while True:
        conn, addr = s.accept()  # asleep until a client comes
        conn.close()


def cpu_seconds(pid):
    with open('/proc/%d/stat' % pid) as stat:
        fields = stat.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def client(port, name, began, done):
    c = socket.create_connection(('127.0.0.1', port))
    for line in [name + ' line 1', name + ' line 2']:
        time.sleep(0.5 / SPEED)  # a person typing
        c.sendall(line.encode())
        c.recv(1024)
    c.close()
    done[name] = (time.monotonic() - began) * SPEED


def listening():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))  # a free port
    s.listen(128)
    return s, s.getsockname()[1]


if __name__ == '__main__':
    s, port = listening()
    turns, idle_turns = Value('q', 0, lock=False), Value('q', 0, lock=False)
    srv = Process(target=busy_server, args=(s, turns, idle_turns))
    srv.start()
    s.close()
    # until it answers (a spawned server takes a while to start)
    probe = socket.create_connection(('127.0.0.1', port))
    probe.sendall(b'up?')
    probe.recv(1024)
    probe.close()
    began, done = time.monotonic(), {}
    threads = [threading.Thread(target=client, args=(port, name, began, done))
               for name in ['alex', 'wupeiqi', 'yuanhao']]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print('talkers done after: %s' % ', '.join(
        '%s %.1f s' % (name, done[name]) for name in sorted(done)))
    print('busy loop: %d turns, %d found nothing to do'
          % (turns.value, idle_turns.value))
    s, port = listening()
    idle = Process(target=blocking_server, args=(s,))
    idle.start()
    s.close()
    # until the blocking server accepts (a spawned one takes a while)
    probe = socket.create_connection(('127.0.0.1', port))
    probe.recv(1)  # the end: it accepted and closed
    probe.close()
    before = cpu_seconds(srv.pid), cpu_seconds(idle.pid)
    time.sleep(0.5)
    after = cpu_seconds(srv.pid), cpu_seconds(idle.pid)
    print('an idle half second: the busy loop used %.2f s of CPU, the '
          'blocking server %.2f s' % (after[0] - before[0],
                                      after[1] - before[1]))
    for p in [srv, idle]:
        p.terminate()
        p.join()
