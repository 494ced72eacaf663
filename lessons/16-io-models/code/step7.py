# Lesson 16, step 7: what each model cost, side by side: the servers of
# steps 1, 2, 3 and 6, each holding the same 20 connections, measured
# from /proc (processes, threads, descriptors). Not in the tutorial as
# code.
from multiprocessing import Process
import os
import socket
import time

from step1 import server as blocking, held, serving
from step2 import server as a_process_each
from step3 import server as a_thread_each
from step6 import server as with_epoll


if __name__ == '__main__':
    for name, server in [('blocking', blocking),
                         ('a process each', a_process_each),
                         ('a thread each', a_thread_each),
                         ('epoll', with_epoll)]:
        s = socket.socket()
        s.bind(('127.0.0.1', 0))
        s.listen(128)
        port = s.getsockname()[1]
        srv = Process(target=server, args=(s,))
        srv.start()
        s.close()
        serving(port)
        answered, cost = held(port, srv.pid)
        print('%s: %d of 20 answered; %s' % (name, answered, cost))
        srv.terminate()
        srv.join()
