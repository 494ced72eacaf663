#!/usr/bin/env python3
"""Kill proclab's supervisor with SIGKILL at random moments and count what is left behind.

Each run gets its own TMPDIR and a marker in its environment (PROCLAB_KILL_TAG), as the test
harness does. After the kill, the script watches /proc for living processes carrying the
marker and the TMPDIR for files, and records how long until both are gone (it gives up at
3 s and counts what is still there as left behind, then kills it).

    bench/kill_at_random.py target/release/proclab [RUNS_PER_CASE] [SPEED]

Cases: lessons 1-4 at --speed SPEED (default 5), and `serve` with 8 clients connected (half of
them mid-conversation). Prints one line per case and a total. Loopback ports above 20000.
"""

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

GIVE_UP = 3.0


def alive_with(tag):
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                if f"PROCLAB_KILL_TAG={tag}".encode() not in f.read().split(b"\0"):
                    continue
            with open(f"/proc/{entry}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            found.append(int(entry))
    return found


def wait_gone(tag, tmp, since):
    """Seconds until nothing of the run is alive and TMPDIR is empty; None past GIVE_UP."""
    while True:
        alive = alive_with(tag)
        files = os.listdir(tmp)
        if not alive and not files:
            return time.monotonic() - since
        if time.monotonic() - since > GIVE_UP:
            for pid in alive:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            return None
        time.sleep(0.005)


def start(binary, args, tag, tmp):
    env = dict(os.environ, TMPDIR=tmp, PROCLAB_KILL_TAG=tag)
    return subprocess.Popen(
        [binary, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def lesson_run(binary, lesson, speed, lasts, tag, tmp):
    proc = start(binary, ["run", lesson, "--json", "--speed", str(speed)], tag, tmp)
    time.sleep(random.uniform(0, lasts))
    proc.send_signal(signal.SIGKILL)
    killed = time.monotonic()
    proc.wait()
    return wait_gone(tag, tmp, killed), 0


def serve_run(binary, tag, tmp):
    port = free_port()
    proc = start(binary, ["serve", "--port", str(port), "--json"], tag, tmp)
    clients = []
    deadline = time.monotonic() + 10
    while len(clients) < 8:
        try:
            clients.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)
    for client in clients[::2]:
        client.sendall(b"hello")
        assert client.recv(5) == b"HELLO"
    time.sleep(random.uniform(0, 0.3))
    proc.send_signal(signal.SIGKILL)
    killed = time.monotonic()
    proc.wait()
    gone = wait_gone(tag, tmp, killed)
    for client in clients:
        client.close()
    return gone, len(clients)


def main():
    binary = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    speed = float(sys.argv[3]) if len(sys.argv) > 3 else 5.0
    # How long each lesson runs at speed 1 (seconds, measured); scaled by --speed.
    lessons = {"1": 1.0, "2": 4.0, "3": 7.0, "4": 12.7}
    cases = [(f"lesson {n}", n) for n in lessons] + [("serve, 8 clients", None)]
    total_runs = total_left = total_connections = 0
    for name, lesson in cases:
        times, left, connections = [], 0, 0
        for i in range(runs):
            tag = f"kill-{os.getpid()}-{name.replace(' ', '')}-{i}"
            tmp = tempfile.mkdtemp(prefix="proclab-kill-")
            try:
                if lesson is None:
                    gone, tried = serve_run(binary, tag, tmp)
                else:
                    gone, tried = lesson_run(
                        binary, lesson, speed, lessons[lesson] / speed, tag, tmp)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            connections += tried
            if gone is None:
                left += 1
            else:
                times.append(gone)
        times.sort()
        worst = f"{times[-1] * 1000:.0f} ms" if times else "-"
        median = f"{times[len(times) // 2] * 1000:.0f} ms" if times else "-"
        print(f"{name:<18} runs {runs:>4}  kills {runs:>4}  connections {connections:>5}  "
              f"left behind {left}  gone after: median {median}, worst {worst}", flush=True)
        total_runs += runs
        total_left += left
        total_connections += connections
    print(f"{'total':<18} runs {total_runs:>4}  kills {total_runs:>4}  connections "
          f"{total_connections:>5}  left behind {total_left}")


if __name__ == "__main__":
    main()
