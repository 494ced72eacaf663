# Lesson 6, step 5: a queue is a pipe plus a lock (管道 + 锁). Two
# writers each write one message of 200 KiB, in one write, into a bare
# pipe while the main process reads: the kernel keeps a write whole only
# up to PIPE_BUF (4096 bytes), so the two are cut and interleaved. The
# same two messages through a Queue arrive whole. Not in the tutorial
# as code.
from multiprocessing import Process, Pipe, Queue, Barrier
import os
import time

SIZE = 200 * 1024


def write_bare(end, letter, ready):
    ready.wait()  # both at once, however long each took to start
    os.write(end.fileno(), letter * SIZE)  # one write call


def put(q, letter):
    q.put(letter * SIZE)


def runs(data):
    """How many runs of one byte the data is made of: 2 when whole."""
    return 1 + sum(1 for a, b in zip(data, data[1:]) if a != b)


def bare_round():
    reader, writer = Pipe(duplex=False)
    ready = Barrier(3, timeout=30)  # the two writers and main
    writers = [Process(target=write_bare, args=(writer, letter, ready))
               for letter in [b'a', b'b']]
    for w in writers:
        w.start()
    writer.close()  # main's copy: the end of file comes when theirs close
    ready.wait()
    # the reader comes a moment late: the pipe (64 KiB) is full, and
    # both writers wait with most of their message still to write
    time.sleep(0.1)
    data = b''
    while True:
        chunk = os.read(reader.fileno(), 65536)
        if not chunk:
            break
        data += chunk
    reader.close()
    for w in writers:
        w.join()
    return data


if __name__ == '__main__':
    # how it goes varies: five rounds
    for n in range(1, 6):
        data = bare_round()
        print('bare pipe, round %d: %d bytes in %d runs of one letter '
              '(2 if whole)' % (n, len(data), runs(data)))
    q = Queue()
    putters = [Process(target=put, args=(q, letter)) for letter in 'ab']
    for p in putters:
        p.start()
    messages = [q.get(), q.get()]
    for p in putters:
        p.join()
    print('Queue: %d messages, %s' % (
        len(messages), ', '.join('%d x %s' % (len(m), set(m).pop())
                                 if len(set(m)) == 1 else 'torn'
                                 for m in messages)))
