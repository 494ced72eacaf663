# join(timeout) returns after the timeout whether or not the child has ended; it raises
# nothing. The child is still alive and its exitcode still None.
import time
from multiprocessing import Process

if __name__ == '__main__':
    p = Process(target=time.sleep, args=(1,))
    p.start()
    began = time.monotonic()
    result = p.join(0.2)
    print(f"join(0.2) returned {result} after {time.monotonic() - began:.1f} s: "
          f"is_alive() {p.is_alive()}, exitcode {p.exitcode}")
    p.join()
    print(f"join() returned after {time.monotonic() - began:.1f} s: "
          f"is_alive() {p.is_alive()}, exitcode {p.exitcode}")
