# Lesson 7, step 3: the tutorial's warning, the reader must close the
# end it does not use. The reader c3 gets both ends, as the tutorial's
# consumer does, and forgets to close the write end: main writes and
# closes its own, and c3 still waits, for itself.
from multiprocessing import Process, Pipe
import os


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


def consumer(ends, name):
    r, w = ends
    # the mistake: w.close() forgotten here
    got = []
    while True:
        if not r.poll(1):
            print('%s (pid %d): no end of file after 1 s; the write end '
                  'is held by %s' % (name, os.getpid(), write_end_holders(r)))
            w.close()  # FIX: the reader closes the end it does not use
        try:
            got.append(r.recv())
        except EOFError:
            print('%s: got %s, then the end of file' % (name, got))
            break


if __name__ == '__main__':
    r, w = Pipe(duplex=False)
    c3 = Process(target=consumer, args=((r, w), 'c3'))
    c3.start()
    r.close()
    for i in range(3):
        w.send('包子%d' % i)
    w.close()
    print('main: wrote 3 and closed its write end')
    c3.join()
