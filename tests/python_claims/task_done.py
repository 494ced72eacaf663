# Lesson 6: JoinableQueue.task_done() is bounded by the items put, not by the items got.
import multiprocessing as mp

q = mp.JoinableQueue()
q.put(1)
q.put(2)
q.get()
q.task_done()
q.task_done()
print("2 put(), 1 get(), 2 task_done(): ok")
try:
    q.task_done()
    print("a third task_done(): ok")
except ValueError as error:
    print("a third task_done(): error:", error)
