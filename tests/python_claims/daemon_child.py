# A daemon that starts a child: start() raises AssertionError inside the daemon, and the
# uncaught exception ends the daemon with exit code 1.
import multiprocessing as mp


def nothing():
    pass


def tries():
    mp.Process(target=nothing).start()


if __name__ == '__main__':
    d = mp.Process(target=tries, daemon=True)
    d.start()
    d.join()
    print(f"daemon exitcode: {d.exitcode}")
