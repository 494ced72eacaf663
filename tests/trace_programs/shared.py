# A shared memory block and a named semaphore, made and kept while it sleeps a minute:
# tests/trace.rs kills proclab under it, and the two files under /dev/shm must go with the run.
import multiprocessing
import time
from multiprocessing import shared_memory

if __name__ == "__main__":
    block = shared_memory.SharedMemory(create=True, size=4096)
    # Under spawn a semaphore keeps its name (under fork Python unlinks it at once).
    lock = multiprocessing.get_context("spawn").Lock()
    print("block", block.name, flush=True)
    print("semaphore", lock._semlock.name, flush=True)
    time.sleep(60)
