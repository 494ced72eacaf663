# Lesson 17, step 3: a task that blocks stalls them all. Two tickers
# tick every 0.2 s; a third task sleeps one second, first with
# time.sleep (the thread sleeps: no task runs), then with await
# asyncio.sleep (the tickers keep their pace). The longest gap between
# two ticks, each way. gevent's monkey.patch_all() replaces time.sleep
# for the same reason; asyncio patches nothing. Not in the tutorial as
# code; the times follow PROCLAB_SPEED.
import asyncio
import os
import time

SPEED = float(os.environ.get('PROCLAB_SPEED', 1))


async def ticker(ticks, stop):
    while not stop.is_set():
        ticks.append(time.monotonic())
        await asyncio.sleep(0.2 / SPEED)


async def sleeper(blocking):
    await asyncio.sleep(0.3 / SPEED)
    if blocking:
        time.sleep(1 / SPEED)  # the whole thread sleeps
    else:
        await asyncio.sleep(1 / SPEED)  # only this task waits
    await asyncio.sleep(0.3 / SPEED)


async def longest_gap(blocking):
    ticks, stop = [], asyncio.Event()
    tickers = [asyncio.create_task(ticker(ticks, stop)) for _ in range(2)]
    await sleeper(blocking)
    stop.set()
    await asyncio.gather(*tickers)
    ticks.sort()
    return max(b - a for a, b in zip(ticks, ticks[1:])) * SPEED


async def main():
    print('time.sleep(1): the longest gap between ticks %.2f s'
          % await longest_gap(True))
    print('await asyncio.sleep(1): the longest gap between ticks %.2f s'
          % await longest_gap(False))


if __name__ == '__main__':
    asyncio.run(main())
