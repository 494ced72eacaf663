# Lesson 2, step 3: default names. Not in the tutorial as code.
from multiprocessing import Process, current_process


def say_my_name():
    print('%s: my name' % current_process().name)


def with_a_child():
    grandchild = Process(target=say_my_name)
    grandchild.start()
    grandchild.join()


class Piao(Process):
    def run(self):
        say_my_name()


if __name__ == '__main__':
    a = Process(target=with_a_child)
    b = Process(target=say_my_name)
    c = Piao()  # FIX: named after its class, Piao-3, not Process-3
    d = Process(target=say_my_name, name='yuanhao')
    print(a.name, b.name, c.name, d.name)
    for p in [a, b, c, d]:
        p.start()
        p.join()
