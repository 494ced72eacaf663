# Lesson 17, step 2: the tutorial's upper-casing echo server as
# coroutines, asyncio.start_server: a task per connection, the three
# clients tasks too, all on one thread. Not in the tutorial as code; the
# pauses follow PROCLAB_SPEED (the lab's --speed).
import asyncio
import os

SPEED = float(os.environ.get('PROCLAB_SPEED', 1))


async def talk(reader, writer):  # one task per connection
    while True:
        data = await reader.read(1024)  # switches while nothing came
        if not data:
            break
        writer.write(data.upper())
        await writer.drain()
    writer.close()


async def client(port, name):
    reader, writer = await asyncio.open_connection('127.0.0.1', port)
    for line in [name + ' line 1', name + ' line 2']:
        await asyncio.sleep(0.5 / SPEED)
        writer.write(line.encode())
        print((await reader.read(1024)).decode())
    writer.close()
    await writer.wait_closed()


async def main():
    server = await asyncio.start_server(talk, '127.0.0.1', 0)
    port = server.sockets[0].getsockname()[1]
    await asyncio.gather(*(client(port, name)
                           for name in ['alex', 'wupeiqi', 'yuanhao']))
    print('threads in this process: %d'
          % len(os.listdir('/proc/%d/task' % os.getpid())))
    server.close()
    await server.wait_closed()


if __name__ == '__main__':
    asyncio.run(main())
