# Lessons 12 and 13: where CPython 3.11 lets another thread have the GIL. Not between any two
# bytecodes: at certain instructions only (a backward jump, a call, a function's start). So
# `n -= 1` in a loop (load, subtract, store, with no such instruction inside) loses no update,
# while a call between the load and the store gives a switch a place to happen.
import sys
import threading

sys.setswitchinterval(1e-6)  # ask for a switch as often as possible
THREADS, TIMES = 4, 1_000_000
n = 0


def minus_in_place():
    global n
    for _ in range(TIMES):
        n -= 1


def minus_with_a_call_between():
    global n
    for _ in range(TIMES // 4):
        temp = n
        abs(0)
        n = temp - 1


for work, times in ((minus_in_place, TIMES), (minus_with_a_call_between, TIMES // 4)):
    n = THREADS * times
    threads = [threading.Thread(target=work) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(f"{work.__name__}: {THREADS} x {times}: lost", "none" if n == 0 else "some")
