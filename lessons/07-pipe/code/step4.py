# Lesson 7, step 4: two writers on one end. A write of at most PIPE_BUF
# (4096) bytes goes in whole, so small messages never mix; a large one
# goes in pieces as the pipe empties, and the other writer's pieces land
# in between: the reader gets a corrupt stream. Not in the tutorial as
# code.
from multiprocessing import Process, Pipe, Barrier
import os
import time

LARGE = 200 * 1024


def writer(w, letter, size, count, ready):
    ready.wait()  # both at once, however long each took to start
    for _ in range(count):
        w.send_bytes(letter * size)


def one_round(size, count):
    """Two writers send count messages of size bytes each: how many
    messages the reader got whole, and how many corrupt."""
    r, w = Pipe(duplex=False)
    ready = Barrier(3, timeout=30)  # the two writers and main
    writers = [Process(target=writer, args=(w, letter, size, count, ready))
               for letter in [b'a', b'b']]
    for p in writers:
        p.start()
    w.close()
    ready.wait()
    # a moment late: both writers wait on a full pipe
    time.sleep(0.1)
    # recv_bytes closes the end when it reads a bad length: a copy of
    # it, to read the rest of the stream
    rest = os.dup(r.fileno())
    whole = corrupt = 0
    while True:
        try:
            message = r.recv_bytes(LARGE)  # longer: a length read from data
        except EOFError:
            break
        except OSError:  # "bad message length": the stream is lost
            corrupt += 1
            while os.read(rest, 65536):  # the rest, to the end
                pass
            break
        if len(message) == size and len(set(message)) == 1:
            whole += 1
        else:
            corrupt += 1
    r.close()
    os.close(rest)
    for p in writers:
        p.join()
    return whole, corrupt


if __name__ == '__main__':
    whole, corrupt = one_round(100, 100)
    print('100-byte messages: %d whole, %d corrupt' % (whole, corrupt))
    for n in range(1, 6):
        whole, corrupt = one_round(LARGE, 1)
        print('200 KiB messages, round %d: %d whole, %d corrupt'
              % (n, whole, corrupt))
