# A producer and a consumer joined by a pipe. A read sees the end of file
# only once every copy of the write end is closed: main's, and the one the
# consumer got with (r, w) (a copy under fork, spawn and forkserver alike).
from multiprocessing import Process, Pipe
import time


def consumer(ends, name):
    r, w = ends
    w.close()               # the consumer only reads: close its write end
    while True:
        try:
            baozi = r.recv()
        except EOFError:
            print('%s: end of file, nothing more will come' % name)
            break
        print('%s ate %s' % (name, baozi))


if __name__ == '__main__':
    r, w = Pipe(duplex=False)
    c1 = Process(target=consumer, args=((r, w), 'c1'), name='c1')
    c1.start()
    r.close()               # main only writes
    for i in range(3):
        w.send('包子%d' % i)
        time.sleep(0.1)
    w.close()               # main is done writing
    c1.join()
    print('main: done')
