# Lesson 12, step 3: how often the GIL changes hands between two CPU-bound threads in CPython:
# about once per switch interval (5 ms), as a waiting thread asks for it after one interval
# and the holder gives way at its next check.
import sys
import threading
import time

RUN = 1.0  # seconds of counting
last = None
switches = 0


def count():
    global last, switches
    me = threading.get_ident()
    end = time.monotonic() + RUN
    while time.monotonic() < end:
        if last != me:
            last = me
            switches += 1


threads = [threading.Thread(target=count) for _ in range(2)]
began = time.monotonic()
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
wall = time.monotonic() - began
per_interval = switches / (wall / sys.getswitchinterval())
print(f"switches per switch interval: {per_interval:.2f}")
