# Which calls of multiprocessing reap an ended child (collect it with waitpid, so that it is
# no longer a zombie)? One fresh child per call, each given time to end first.
import multiprocessing as mp
import os
import time


def state(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return "gone"


def ended_child():
    p = mp.Process(target=time.sleep, args=(0,))
    p.start()
    while state(p.pid) != "Z":
        time.sleep(0.01)
    return p


if __name__ == '__main__':
    p = ended_child()
    print("nothing called:", state(p.pid))
    p.join()
    for call in ["is_alive()", "exitcode", "active_children()", "another start()"]:
        p = ended_child()
        if call == "is_alive()":
            p.is_alive()
        elif call == "exitcode":
            p.exitcode
        elif call == "active_children()":
            mp.active_children()
        else:
            other = mp.Process(target=time.sleep, args=(0,))
            other.start()
            other.join()
        print(f"after {call}:", state(p.pid))
