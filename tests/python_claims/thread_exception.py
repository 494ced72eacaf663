# Lesson 14: a Python thread that ends with an uncaught exception has no exit code. The
# exception goes to threading.excepthook (the default prints the traceback on stderr), and
# join() returns None, as for a thread that returned normally.
import threading


def connect():
    raise TimeoutError("链接超时")


hooked = []
threading.excepthook = lambda args: hooked.append(args.exc_type.__name__)
thread = threading.Thread(target=connect, name="conn-2")
thread.start()
print("join() returned", thread.join())
print("excepthook got", hooked)
print("has exitcode:", hasattr(thread, "exitcode"), "is_alive:", thread.is_alive())
