# The looser claims of lessons 2 and 10: Pool.map's default chunks, get() on a task lost to
# terminate(), and join() of a process never started (an assert: `python -O` drops it).
import multiprocessing as mp
import sys
import time
from multiprocessing.pool import Pool


def ident(x):
    return x


def slow(x):
    time.sleep(5)
    return x


if __name__ == "__main__":
    if sys.argv[1:] == ["join"]:
        try:
            mp.Process(target=print).join()
        except Exception as error:
            print(f"join() before start(): {type(error).__name__}")
        sys.exit()
    with Pool(2) as pool:
        result = pool.map_async(ident, range(1000))
        print("map chunksize for 1000 items on 2 workers:", result._chunksize)
        result.get()
    pool = Pool(2)
    lost = pool.apply_async(slow, (1,))
    time.sleep(0.3)
    pool.terminate()
    try:
        lost.get(timeout=1.0)
        print("get() after terminate(): returned")
    except mp.TimeoutError:
        print("get() after terminate(): TimeoutError, ready()", lost.ready())
