# Lesson 11, step 7: three mistakes, each a RuntimeError with Python's
# message. Not in the tutorial as code.
import threading


def attempt(what, call):
    try:
        call()
        print('%s: no error' % what)
    except RuntimeError as error:
        print('%s: RuntimeError: %s' % (what, error))


def joins_itself():
    attempt('current_thread().join()',
            threading.current_thread().join)


if __name__ == '__main__':
    t = threading.Thread(target=lambda: None)
    attempt('join() before start()', t.join)
    t.start()
    t.join()
    attempt('start() twice', t.start)
    t = threading.Thread(target=joins_itself)
    t.start()
    t.join()
