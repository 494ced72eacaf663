# Lesson 9: what multiprocessing.Event and Semaphore are made of in CPython 3.11, and where a
# waiter sleeps.
import multiprocessing as mp
import os
import platform
import time

event = mp.Event()
cond = event._cond
print("Event:", type(event._flag).__name__, "+", type(cond).__name__)
print(
    "Condition:",
    type(cond._lock).__name__,
    "+",
    ", ".join(
        type(getattr(cond, name)).__name__
        for name in ("_sleeping_count", "_woken_count", "_wait_semaphore")
    ),
)

# A process waiting on the event: its system call, from /proc (202 is futex on x86_64, 98 on
# aarch64), and its state.
waiter = mp.Process(target=event.wait)
waiter.start()
time.sleep(0.5)
with open(f"/proc/{waiter.pid}/syscall") as f:
    number = int(f.read().split()[0])
futex = {"x86_64": 202, "aarch64": 98}.get(platform.machine())
with open(f"/proc/{waiter.pid}/stat") as f:
    state = f.read().rsplit(")", 1)[1].split()[0]
print("waiter:", "in futex" if number == futex else f"in system call {number}", "state", state)
event.set()
waiter.join()

# The bound: a Lock is a semaphore that may not go above 1; a Semaphore has no bound.
lock = mp.Lock()
lock.acquire()
lock.release()
try:
    lock.release()
    print("Lock: second release accepted")
except ValueError as error:
    print("Lock: second release:", error)
semaphore = mp.Semaphore(1)
semaphore.acquire()
semaphore.release()
semaphore.release()
print("Semaphore(1): released twice, value", semaphore.get_value())
