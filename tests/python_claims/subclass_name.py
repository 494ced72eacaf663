# An unnamed instance of a subclass of Process is named after the class, with the counter
# that every Process created so far has advanced.
from multiprocessing import Process


class Piao(Process):
    def run(self):
        pass


if __name__ == '__main__':
    made = [Process() for _ in range(4)]
    print(Piao().name)
    print(Process().name)
