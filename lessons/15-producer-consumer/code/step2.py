# Lesson 15, step 2: the same three puts into each kind of queue, and
# three gets: Queue (先进先出), LifoQueue (后进先出), PriorityQueue
# (smallest first). Not in the tutorial as code (it lists them).
import queue

if __name__ == '__main__':
    for kind in [queue.Queue, queue.LifoQueue, queue.PriorityQueue]:
        q = kind()
        for item in [(20, 'a'), (10, 'b'), (30, 'c')]:
            q.put(item)
        print('%s: %s' % (kind.__name__, [q.get() for _ in range(3)]))
    q = queue.PriorityQueue()
    for n, item in enumerate(['first', 'second', 'third']):
        # FIX: a counter after the priority keeps the order they were
        # put, among items of the same priority
        q.put((1, n, item))
    print('same priority, with a counter: %s'
          % [q.get()[2] for _ in range(3)])
