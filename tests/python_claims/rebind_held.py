# A handler still holding a connection on the port makes a new bind to that port fail without
# SO_REUSEADDR, and succeed with it. But a handler that also kept its inherited copy of the
# listening socket (the tutorial's handlers do) keeps the port listening: then the bind fails
# either way.
import multiprocessing as mp
import socket
import sys

port = int(sys.argv[1])


def hold(coon, server, close_listener, ready):
    if close_listener:
        server.close()
    ready.set()
    coon.recv(1)  # until the client goes


def bind(reuse):
    s = socket.socket()
    if reuse:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(('127.0.0.1', port))
        return "bound"
    except OSError as error:
        return error.strerror
    finally:
        s.close()


if __name__ == '__main__':
    for close_listener in [True, False]:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(('127.0.0.1', port))
        server.listen(5)
        client = socket.create_connection(('127.0.0.1', port))
        coon, _ = server.accept()
        ready = mp.Event()
        handler = mp.Process(target=hold, args=(coon, server, close_listener, ready))
        handler.start()
        ready.wait()
        coon.close()
        server.close()  # the server is gone; its handler still holds a connection on the port
        kept = "closed" if close_listener else "kept"
        print(f"handler {kept} the listening socket: "
              f"without SO_REUSEADDR: {bind(False)}; with SO_REUSEADDR: {bind(True)}", flush=True)
        client.shutdown(socket.SHUT_RDWR)  # the handler inherited a copy of it: end it for all
        client.close()
        handler.join()
