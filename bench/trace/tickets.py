# The tutorial's ticket-buying example (lesson 5, with the lock): ten buyers check the tickets
# left in a file, and buy one under a lock. bench/trace.sh traces it when the lesson's own
# lessons/05-process-lock/code/step2.py is not there.
import json
import os
import sys
import tempfile
import time
from multiprocessing import Lock, Process, set_start_method


def search(name, path):
    with open(path) as f:
        print(f"{name} sees {json.load(f)['count']} tickets left")


def get(name, path):
    with open(path) as f:
        data = json.load(f)
    time.sleep(0.1)  # the network's delay, as in the tutorial
    if data["count"] > 0:
        data["count"] -= 1
        with open(path, "w") as f:
            json.dump(data, f)
        print(f"{name} bought a ticket")
    else:
        print(f"{name}: no ticket left")


def task(name, path, lock):
    search(name, path)
    with lock:
        get(name, path)


if __name__ == "__main__":
    set_start_method("fork")  # the tutorial's start method on Linux (before Python 3.14)
    path = os.path.join(tempfile.mkdtemp(), "tickets.json")
    with open(path, "w") as f:
        json.dump({"count": 3}, f)
    lock = Lock()
    buyers = [Process(target=task, args=(f"buyer-{i}", path, lock)) for i in range(10)]
    for p in buyers:
        p.start()
    for p in buyers:
        p.join()
    os.remove(path)
    os.rmdir(os.path.dirname(path))
    sys.exit(0)
