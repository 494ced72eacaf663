# Lesson 7, step 1: a duplex pipe (section 1.6). The tutorial's pattern:
# both ends go to the child, and each side closes the end it does not
# use. Its child prints baozi; here the child, adder, sends back the sum
# of each pair. Rendered anew.
from multiprocessing import Process, Pipe


def adder(ends):
    left, right = ends
    left.close()  # main's end: not adder's to use
    while True:
        try:
            a, b = right.recv()
        except EOFError:  # main closed its end: nothing more will come
            right.close()
            print('adder: EOFError, the end')
            break
        right.send(a + b)


if __name__ == '__main__':
    left, right = Pipe()  # duplex: both ends send and receive
    p = Process(target=adder, args=((left, right),))
    p.start()
    right.close()  # adder's end: not main's to use
    for pair in [(1, 2), (30, 40), (500, 600)]:
        left.send(pair)
        print('main: %d + %d = %d' % (pair[0], pair[1], left.recv()))
    left.close()  # adder's recv() raises EOFError
    p.join()
