# Under the spawn start method a child re-imports the main module, so work done at module level
# (the tutorial's server binds there) runs again in the child: the bind fails there. Under fork
# the child shares the parent's state as it was, and nothing runs again.
import multiprocessing as mp
import socket
import sys

s = socket.socket()
try:
    s.bind(('127.0.0.1', int(sys.argv[1])))
    s.listen(5)
    print(f"{mp.current_process().name}: module level: bound port {sys.argv[1]}", flush=True)
except OSError as error:
    print(f"{mp.current_process().name}: module level: {error.strerror}", flush=True)
    raise


def child():
    print(f"{mp.current_process().name}: child runs, socket {s.getsockname()}", flush=True)


if __name__ == '__main__':
    for method in ["fork", "spawn"]:
        p = mp.get_context(method).Process(target=child, name=method + "-child")
        p.start()
        p.join()
        print(f"{method}: exitcode {p.exitcode}", flush=True)
