# Lesson 12: forking while another thread runs. POSIX allows it (the child gets one thread, a
# copy of the caller); CPython 3.11 does it without a word (3.12 and later warn with a
# DeprecationWarning). The lab refuses it, because a lock the other thread held stays locked
# in the child for ever.
import os
import threading
import warnings

warnings.simplefilter("always")
stop = threading.Event()
thread = threading.Thread(target=stop.wait)
thread.start()
print("parent threads:", len(os.listdir("/proc/self/task")))
with warnings.catch_warnings(record=True) as caught:
    pid = os.fork()
    if pid == 0:
        print("child threads:", len(os.listdir("/proc/self/task")), flush=True)
        os._exit(0)
    os.waitpid(pid, 0)
print("python 3.%d warnings:" % __import__("sys").version_info.minor, [w.category.__name__ for w in caught])
stop.set()
thread.join()
