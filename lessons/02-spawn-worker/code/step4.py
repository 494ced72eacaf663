# Lesson 2, step 4: section 三's rule, if __name__ == '__main__':, and
# start methods. Module-level code (the tutorial's server binds here)
# runs again in a spawn child. The port: the first argument, or the
# tutorial's 8081.
import multiprocessing as mp
import socket
import sys

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8081


def me():
    return mp.current_process().name


s = socket.socket()
try:
    s.bind(('127.0.0.1', PORT))
    print('%s: module level: bound port %d' % (me(), PORT))
except OSError as error:
    print('%s: module level: %s' % (me(), error.strerror))
    raise  # ends a spawn child with exitcode 1


def child():
    print('%s: runs, holding %s' % (me(), s.getsockname()))


# FIX: what starts processes goes here, or spawn runs it again
if __name__ == '__main__':
    for method in ['fork', 'spawn']:
        context = mp.get_context(method)
        p = context.Process(target=child, name=method + '-child')
        p.start()
        p.join()
        print('%s: exitcode %s' % (method, p.exitcode))
