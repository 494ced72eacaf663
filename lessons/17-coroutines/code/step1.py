# Lesson 17, step 1: coroutines (协程) take turns on one thread. Three
# asyncio tasks, alex, wupeiqi and yuanhao, each work on three parts
# with a random nap after each (await asyncio.sleep): their lines
# interleave, all from one thread of one process. Not in the tutorial as
# code (its coroutines use gevent); the naps follow PROCLAB_SPEED.
import asyncio
import os
import random
import threading

SPEED = float(os.environ.get('PROCLAB_SPEED', 1))


async def task(name):
    for part in range(1, 4):
        print('%s: part %d (pid %d, thread %d)'
              % (name, part, os.getpid(), threading.get_native_id()))
        await asyncio.sleep(random.uniform(0.1, 0.5) / SPEED)  # switch


async def main():
    await asyncio.gather(*(task(name)
                           for name in ['alex', 'wupeiqi', 'yuanhao']))


if __name__ == '__main__':
    asyncio.run(main())
