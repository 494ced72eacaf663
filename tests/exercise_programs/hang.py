# Exercise 1's starter edited to hang: two threads that each take one
# lock and then wait for the other's (the lab must stop it at its time
# limit and say where each thread waits).
import threading
import time

a = threading.Lock()
b = threading.Lock()


def first():
    with a:
        time.sleep(0.2)
        with b:
            pass


def second():
    with b:
        time.sleep(0.2)
        with a:
            pass


threads = [threading.Thread(target=first), threading.Thread(target=second)]
for t in threads:
    t.start()
for t in threads:
    t.join()
