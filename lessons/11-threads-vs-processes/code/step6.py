# Lesson 11, step 6: current_thread(), enumerate() and active_count(),
# with their default names: Thread-N (target) from Python 3.10. Not in
# the tutorial as code (it lists them).
import threading
import os
import time

SPEED = float(os.environ.get('PROCLAB_SPEED', 1))


def sayhi():
    print('in sayhi: current_thread() is %s'
          % threading.current_thread().name)
    time.sleep(0.5 / SPEED)


if __name__ == '__main__':
    main = threading.current_thread()
    print('main: %s, native id %d, pid %d'
          % (main.name, main.native_id, os.getpid()))
    t = threading.Thread(target=sayhi)
    d = threading.Thread(target=sayhi, daemon=True, name='my-daemon')
    t.start()
    d.start()
    print('enumerate(): %s' % [x.name for x in threading.enumerate()])
    print('active_count(): %d' % threading.active_count())
    t.join()
    d.join()
    print('after join: active_count() %d' % threading.active_count())
