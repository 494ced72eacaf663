# Lesson 14, step 2: the tutorial's Event example: check "checks mysql"
# for 3-4 s, then set(); the connectors wait(0.5) per try. conn-1 tries
# up to twenty times; conn-2 gives up after two and raises the
# tutorial's TimeoutError('链接超时'). Rendered anew, the times after
# PROCLAB_SPEED (the lab's --speed).
from threading import Thread, Event, current_thread
import os
import random
import time

SPEED = float(os.environ.get('PROCLAB_SPEED', 1))


def conn_mysql(event, tries):
    count = 1
    while not event.is_set():
        if count > tries:
            # uncaught: ends this thread (Python prints it on stderr)
            raise TimeoutError('链接超时')
        print('<%s> 第%s次尝试链接' % (current_thread().name, count))
        event.wait(0.5 / SPEED)  # True once set, False after 0.5 s
        count += 1
    print('<%s> 链接成功' % current_thread().name)


def check_mysql(event):
    print('\033[45m[%s] 正在检查mysql\033[0m' % current_thread().name)
    time.sleep(random.uniform(3, 4) / SPEED)
    event.set()


if __name__ == '__main__':
    event = Event()
    conn1 = Thread(target=conn_mysql, args=(event, 20), name='conn-1')
    conn2 = Thread(target=conn_mysql, args=(event, 2), name='conn-2')
    check = Thread(target=check_mysql, args=(event,), name='check')
    conn1.start()
    conn2.start()
    check.start()
    for t in [conn1, conn2, check]:
        t.join()
