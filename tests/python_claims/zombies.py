# How many zombies the tutorial's server keeps, and how many descriptors: N clients one after
# the other, then N connected at once, then one more (the port and N on the command line).
import os
import socket
import subprocess
import sys
import time

port, n = int(sys.argv[1]), int(sys.argv[2])
here = os.path.dirname(os.path.abspath(__file__))
server = subprocess.Popen([sys.executable, os.path.join(here, "tutorial_server.py"), str(port)],
                          stdout=subprocess.PIPE, text=True)
server.stdout.readline()  # 'start running...'


def zombies():
    found = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] == "Z" and int(fields[1]) == server.pid:
            found += 1
    return found


def settled():
    # Let the last handlers end and the count stop moving.
    before = -1
    while zombies() != before:
        before = zombies()
        time.sleep(0.3)
    return before


def descriptors():
    return len(os.listdir(f"/proc/{server.pid}/fd"))


def handlers_running():
    """The server's children that have not ended yet (not in state Z)."""
    running = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[1]) == server.pid:
            running += 1
    return running


def talk(connection):
    connection.send(b"hi")
    assert connection.recv(1024) == b"HI"


try:
    for _ in range(n):
        with socket.create_connection(("127.0.0.1", port)) as c:
            talk(c)
        # Each client is gone, and its handler has ended, before the next one comes.
        while handlers_running():
            time.sleep(0.005)
    print(f"{n} clients one after the other: {settled()} zombie(s)")
    clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(n)]
    for c in clients:
        talk(c)
    for c in clients:
        c.close()
    print(f"{n} clients at once: {settled()} zombie(s), {descriptors()} descriptors")
    with socket.create_connection(("127.0.0.1", port)) as c:
        talk(c)
    print(f"one more client: {settled()} zombie(s)")
finally:
    server.kill()
    server.wait()
