# With SIGCHLD set to SIG_IGN the kernel reaps every child itself as it ends: no zombie, ever.
# The price: nobody can learn a child's exit status (waitpid fails with ECHILD), so
# multiprocessing's exitcode stays None after join().
import multiprocessing as mp
import os
import signal
import time


def child_states():
    """The states of this process's children, from /proc."""
    me = str(os.getpid())
    states = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == me:
            states.append(fields[0])
    return states


def after_they_ended():
    """Zombies once every child has ended (a zombie has; a reaped child is gone)."""
    deadline = time.monotonic() + 10
    while any(state != "Z" for state in child_states()) and time.monotonic() < deadline:
        time.sleep(0.01)
    return child_states().count("Z")


if __name__ == '__main__':
    for handling in ["default", "ignored"]:
        if handling == "ignored":
            signal.signal(signal.SIGCHLD, signal.SIG_IGN)
        # Each sleeps a little, so that none has ended when the next start() runs (start() reaps).
        children = [mp.Process(target=time.sleep, args=(0.3,)) for _ in range(3)]
        for p in children:
            p.start()
        print(f"SIGCHLD {handling}: {after_they_ended()} zombie(s) after 3 children ended")
        for p in children:
            p.join()
        print(f"SIGCHLD {handling}: exitcodes {[p.exitcode for p in children]}")
