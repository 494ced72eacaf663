# Lesson 7, step 2: the end of file comes when every copy of the write
# end is closed, the parent's included. Done right, main closes its copy
# after start(), and the reader c1 gets the end of file when the
# producer ends; forgotten, the reader c2 waits until main closes it.
# Not in the tutorial as code (it says to close unused ends).
from multiprocessing import Process, Pipe, Event
import os


def producer(w):
    for i in range(3):
        w.send('包子%d' % i)


def write_end_holders(end):
    """The pids that hold the write end of end's pipe, from /proc."""
    inode = os.fstat(end.fileno()).st_ino
    holders = set()
    for pid in filter(str.isdigit, os.listdir('/proc')):
        try:
            fds = os.listdir('/proc/%s/fd' % pid)
        except OSError:  # gone, or not ours to read
            continue
        for fd in fds:
            try:
                link = os.readlink('/proc/%s/fd/%s' % (pid, fd))
                if link != 'pipe:[%d]' % inode:
                    continue
                with open('/proc/%s/fdinfo/%s' % (pid, fd)) as info:
                    flags = int(info.read().split('flags:')[1].split()[0], 8)
            except OSError:  # closed meanwhile
                continue
            if flags & os.O_ACCMODE == os.O_WRONLY:
                holders.add(int(pid))
    return sorted(holders)


def reader(name, r, w, waiting):
    if w is not None:
        w.close()  # the reader's own copy (step 3 is about it)
    got = []
    while True:
        if not r.poll(1):
            print('%s: no end of file after 1 s; the write end is held '
                  'by %s' % (name, write_end_holders(r)))
            waiting.set()
            r.poll(None)
        try:
            got.append(r.recv())
        except EOFError:
            print('%s: got %s, then the end of file' % (name, got))
            break


if __name__ == '__main__':
    print('main is pid %d' % os.getpid())
    # right: main closes its copy of the write end after start()
    r, w = Pipe(duplex=False)
    p = Process(target=producer, args=(w,))
    p.start()
    w.close()
    waiting = Event()
    c1 = Process(target=reader, args=('c1', r, None, waiting))
    c1.start()
    p.join()
    c1.join()
    # the mistake: main keeps its copy, until c2 has waited a second
    r, w = Pipe(duplex=False)
    p = Process(target=producer, args=(w,))
    c2 = Process(target=reader, args=('c2', r, w, waiting))
    p.start()
    c2.start()
    p.join()
    waiting.wait()
    print('main: closing its copy of the write end')
    w.close()
    c2.join()
