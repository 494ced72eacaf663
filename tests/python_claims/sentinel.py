# Process.sentinel is the read end of a pipe that only the child holds the write end of, and
# a grandchild inherits that write end: the sentinel is ready only when the grandchild has
# ended too. The child ends after 0.2 s, its child after 3 s.
import multiprocessing as mp
import multiprocessing.connection
import os
import time


def grandchild():
    time.sleep(3)


def child():
    mp.Process(target=grandchild).start()
    time.sleep(0.2)
    os._exit(0)  # leave at once, without waiting for the grandchild


def state(pid):
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0]


if __name__ == '__main__':
    p = mp.Process(target=child)
    began = time.monotonic()
    p.start()
    while state(p.pid) != "Z":
        time.sleep(0.01)
    print(f"child ended after {time.monotonic() - began:.1f} s")
    multiprocessing.connection.wait([p.sentinel])
    print(f"sentinel ready after {time.monotonic() - began:.1f} s")
    p.join()
