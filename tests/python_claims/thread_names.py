# Lesson 11, step 6: which default names CPython gives threads. A named thread draws no
# number from threading._counter(); a target with a __name__ is added in brackets; a target
# without one (functools.partial) and a subclass without a target add nothing.
import functools
import threading


def sayhi(num):
    pass


class MyThread(threading.Thread):
    def run(self):
        pass


threads = [
    threading.Thread(target=sayhi, args=(1,)),
    threading.Thread(target=sayhi, args=(2,), name="yuanhao"),
    threading.Thread(target=sayhi, args=(3,)),
    threading.Thread(target=functools.partial(sayhi, 4)),
    MyThread(),
    MyThread(name="named-subclass"),
    threading.Thread(target=lambda: None),
]
print(threading.current_thread().name)
for thread in threads:
    print(thread.name)
