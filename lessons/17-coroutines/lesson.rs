//! Lesson 17: coroutines, many tasks on one thread.
//!
//! What the student sees: three tasks (alex, wupeiqi, yuanhao) take turns on the main
//! process's one thread, switching only where they wait; the echo service on the same thread,
//! a task per connection; a task that calls a plain, blocking `sleep` stalling every other
//! task (and the same task with the executor's `sleep`, stalling none); then the echo service
//! on this lesson's executor, on tokio's current-thread runtime and on lesson 16's epoll
//! server, each one thread in its own process, under the same load in this run: the requests
//! per second each reaches, against the 1000+ the tutorial asks for.
//!
//! The executor is `executor.rs` beside this file (a run queue, futures, wakers, an epoll
//! reactor). System calls: `epoll_create1`/`epoll_ctl`/`epoll_wait` (the reactor), non-blocking
//! `accept`/`recv`/`send`, `nanosleep` (the blocking sleep), `fork` for the three servers,
//! `/proc/<pid>/task` to count their threads.

#[path = "executor.rs"]
mod executor;

use std::cell::RefCell;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsFd, BorrowedFd};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::lesson::prelude::*;
use nix::sys::epoll::EpollFlags;

use crate::multiprocessing::process::Process;
use crate::threading::Thread;
use crate::tools::echo::{self, CHUNK};
use crate::tools::models::{self, Options};

const TASKS: [&str; 3] = ["alex", "wupeiqi", "yuanhao"];

pub fn run(lab: &mut Lab) -> Result<()> {
    lab.step("Tasks take turns on one thread")?;
    let naps: Vec<Vec<Duration>> = TASKS
        .iter()
        .map(|_| {
            (0..3)
                .map(|_| Duration::from_millis(lab.rng().random_range(2..=6) * 100))
                .collect()
        })
        .collect();
    tasks_take_turns(&naps);

    lab.step("The echo service on one thread")?;
    echo_on_one_thread()?;

    lab.step("A task that blocks stalls them all")?;
    let blocked = blocking_task_stalls_the_others(true);
    let cooperative = blocking_task_stalls_the_others(false);
    note!(
        en: "With a plain sleep of {block} inside a task, the tickers' longest gap between two \
             ticks was {blocked}; with the executor's sleep, {cooperative}. A coroutine gives \
             the thread up only at an await: a call that blocks the thread (time.sleep, a \
             blocking recv, a database driver that does its own I/O) blocks every task. That \
             is why gevent monkey-patches the standard library (gevent.monkey.patch_all()): it \
             replaces time.sleep, socket and friends with versions that yield to its loop, so \
             code written for threads waits cooperatively.",
        zh: "任务里调用普通的 sleep（{block}）时，计时任务两次滴答之间最长隔了 {blocked}；换成执行器\
             的 sleep，只隔了 {cooperative}。协程只在 await 处交出线程：一个会阻塞线程的调用\
             （time.sleep、阻塞的 recv、自己做 I/O 的数据库驱动）会阻塞所有任务。这就是 gevent \
             要给标准库打猴子补丁 (monkey patch) 的原因（gevent.monkey.patch_all()）：它把 \
             time.sleep、socket 等换成会让出给它的事件循环的版本，于是为线程写的代码也能协作式地\
             等待。",
        block = describe(context::scaled(BLOCK)),
        blocked = describe(blocked),
        cooperative = describe(cooperative),
    );

    lab.step("The same service on the executor, tokio and epoll")?;
    let rates = three_servers_under_the_same_load()?;

    lab.step("1000+ requests a second?")?;
    closing_question(&rates);
    Ok(())
}

/// Three tasks, each working in three parts with a nap between them.
fn tasks_take_turns(naps: &[Vec<Duration>]) {
    let began = Instant::now();
    let slept: Duration = naps.iter().flatten().sum();
    for (name, naps) in TASKS.iter().zip(naps.to_vec()) {
        executor::spawn(name, async move {
            for (part, nap) in naps.into_iter().enumerate() {
                say!(
                    "{name} works on part {} (then naps {})",
                    part + 1,
                    describe(context::scaled(nap))
                );
                executor::sleep(nap).await;
            }
            say!("{name} is done");
        });
    }
    let polls = executor::run();
    let pid = nix::unistd::getpid();
    note!(
        en: "Three tasks, one process (pid {pid}) and one thread: every line above carries the \
             same pid and no thread id of its own, only the task's name. {slept} of napping \
             took {wall} of wall time: while one task naps, another runs. The executor polled \
             the tasks {polls} times: once to start each, and once after each wait. A task \
             left the thread only at an await (the `sleep` waits drawn on the timeline), never \
             in the middle of its work.",
        zh: "三个任务，一个进程（pid {pid}），一个线程：上面每一行都带着同一个 pid，没有自己的线程 \
             id，只有任务的名字。小睡加起来共 {slept}，实际只用了 {wall}：一个任务小睡时，另一个\
             在运行。执行器一共轮询了这些任务 {polls} 次：每个任务开始时一次，之后每次等待结束\
             再一次。任务只在 await 处离开线程（时间线上画出的 `sleep` 等待），从不在干活干到一半\
             时离开。",
        slept = describe(context::scaled(slept)),
        wall = describe(began.elapsed()),
    );
}

/// The echo server as a task, a task per connection, and the three clients as tasks: all on
/// this thread.
fn echo_on_one_thread() -> Result<()> {
    let listener = echo::listen_on(SocketAddr::from(([127, 0, 0, 1], 0)), true)?;
    listener.set_nonblocking(true)?;
    let address = listener.local_addr()?;
    let replies = Rc::new(RefCell::new(Vec::new()));
    executor::spawn("server", async move {
        if let Err(error) = echo_server(listener, TASKS.len()).await {
            say!("the server failed: {error}");
        }
    });
    for name in TASKS {
        let replies = replies.clone();
        executor::spawn(name, async move {
            match echo_client(name, address).await {
                Ok(reply) => replies.borrow_mut().push(reply),
                Err(error) => say!("{name} failed: {error}"),
            }
        });
    }
    executor::run();
    let got = replies.borrow().len();
    if got != TASKS.len() {
        return Err(Error::lesson(format!(
            "{got} of {} clients got their reply",
            TASKS.len()
        )));
    }
    note!(
        en: "One thread ran the server, a task per connection and the three clients: {tasks} \
             tasks. Each stopped only at accept, recv or send when the socket was not ready \
             (the waits drawn), and the reactor's epoll_wait was the only place the thread \
             itself blocked.",
        zh: "一个线程运行了服务器、每个连接一个的任务和三个客户端：共 {tasks} 个任务。每个任务只在\
             套接字没有就绪时停在 accept、recv 或 send 处（画出来的那些等待），而反应器的 \
             epoll_wait 是线程本身唯一阻塞的地方。",
        tasks = 1 + 2 * TASKS.len(),
    );
    Ok(())
}

/// Accepts `connections` connections, spawning a task for each.
async fn echo_server(listener: TcpListener, connections: usize) -> io::Result<()> {
    for number in 1..=connections {
        let (stream, peer) = accept(&listener).await?;
        say!("connection from {peer}: task conn-{number}");
        executor::spawn(&format!("conn-{number}"), async move {
            if let Err(error) = echo_connection(stream).await {
                say!("{peer}: {error}");
            }
        });
    }
    Ok(())
}

/// What a connection's task does: the handler of lesson 4, with awaits.
async fn echo_connection(stream: TcpStream) -> io::Result<u64> {
    let mut buffer = [0u8; CHUNK];
    let mut bytes = 0;
    loop {
        let received = read(&stream, &mut buffer).await?;
        if received == 0 {
            return Ok(bytes);
        }
        bytes += received as u64;
        buffer[..received].make_ascii_uppercase();
        write_all(&stream, &buffer[..received]).await?;
    }
}

async fn echo_client(name: &str, address: SocketAddr) -> io::Result<String> {
    // On loopback, connect completes at once (the kernel does the handshake), so a plain
    // connect does not stall the other tasks.
    let stream = TcpStream::connect(address)?;
    stream.set_nonblocking(true)?;
    let request = format!("hello from {name}");
    write_all(&stream, request.as_bytes()).await?;
    let mut reply = vec![0u8; request.len()];
    let mut got = 0;
    while got < reply.len() {
        let n = read(&stream, &mut reply[got..]).await?;
        if n == 0 {
            return Err(io::Error::other("the server closed the connection"));
        }
        got += n;
    }
    let reply = String::from_utf8_lossy(&reply).into_owned();
    say!("{name} sent \"{request}\" and got \"{reply}\"");
    Ok(reply)
}

/// How long the sleeper sleeps, and the tickers' period (both scaled).
const BLOCK: Duration = Duration::from_secs(1);
const TICK: Duration = Duration::from_millis(200);

/// Two tickers and a sleeper; the sleeper's sleep blocks the thread (`blocking`) or is the
/// executor's. Returns the longest gap between two ticks of a ticker.
fn blocking_task_stalls_the_others(blocking: bool) -> Duration {
    let ticks: Rc<RefCell<Vec<(&str, Instant)>>> = Rc::default();
    for ticker in ["tick-a", "tick-b"] {
        let ticks = ticks.clone();
        executor::spawn(ticker, async move {
            for _ in 0..8 {
                ticks.borrow_mut().push((ticker, Instant::now()));
                executor::sleep(TICK).await;
            }
        });
    }
    let sleeper = if blocking {
        "blocking-sleeper"
    } else {
        "sleeper"
    };
    executor::spawn(sleeper, async move {
        executor::sleep(TICK * 2).await;
        let began = Instant::now();
        if blocking {
            say!(
                en: "{sleeper} calls a plain sleep of {}: the thread stops here",
                zh: "{sleeper} 调用普通的 sleep，{}：整个线程停在这里",
                describe(context::scaled(BLOCK))
            );
            std::thread::sleep(context::scaled(BLOCK));
        } else {
            say!(
                en: "{sleeper} awaits the executor's sleep of {}",
                zh: "{sleeper} await 执行器的 sleep，{}",
                describe(context::scaled(BLOCK))
            );
            executor::sleep(BLOCK).await;
        }
        say!(
            en: "{sleeper} is back after {}",
            zh: "{sleeper} 过了 {} 回来了",
            describe(began.elapsed())
        );
    });
    executor::run();
    let ticks = ticks.borrow();
    let mut longest = Duration::ZERO;
    for ticker in ["tick-a", "tick-b"] {
        let times: Vec<Instant> = ticks
            .iter()
            .filter(|(t, _)| *t == ticker)
            .map(|(_, at)| *at)
            .collect();
        for pair in times.windows(2) {
            longest = longest.max(pair[1] - pair[0]);
        }
    }
    say!(
        en: "the tickers ticked every {}; the longest gap between two ticks: {}",
        zh: "两个计时器每 {} 跳一次；两次跳动之间最长隔了 {}",
        describe(context::scaled(TICK)),
        describe(longest)
    );
    longest
}

/// The three servers, their requests per second, and their threads.
struct Rate {
    name: &'static str,
    per_second: f64,
    threads: usize,
}

/// Load: clients at once, each doing round trips of 16 bytes for a while.
const LOAD_CLIENTS: usize = 4;

fn three_servers_under_the_same_load() -> Result<Vec<Rate>> {
    // Every server first (a process with threads running must not fork), then the load on
    // each in turn, from threads of the main process.
    let mut servers = Vec::new();
    for name in ["executor", "tokio", "epoll"] {
        let listener = echo::listen_on(SocketAddr::from(([127, 0, 0, 1], 0)), true)?;
        let address = listener.local_addr()?;
        let mut server = Process::new(move || serve_with(name, &listener)).named(name);
        server.start()?;
        servers.push((name, address, server));
    }
    // A second, scaled, but at least 300 ms: long enough for a figure that means something.
    let duration = context::scaled(Duration::from_secs(2)).max(Duration::from_millis(300));
    let mut rates = Vec::new();
    for (name, address, server) in &mut servers {
        let pid = server.pid().expect("started");
        let (done, threads) = load(*address, duration, pid)?;
        let per_second = done as f64 / duration.as_secs_f64();
        // The outcomes read the rate before ` requests/s` or after `每秒 `.
        say!(
            en: "{name}: {done} round trips in {} from {LOAD_CLIENTS} clients: {per_second:.0} \
                 requests/s, {threads} thread(s)",
            zh: "{name}：{LOAD_CLIENTS} 个客户端在 {} 内完成了 {done} 次往返：每秒 \
                 {per_second:.0} 个请求，{threads} 个线程",
            describe(duration)
        );
        let code = server.join()?;
        if code != 0 {
            return Err(Error::lesson(format!("the {name} server failed")));
        }
        rates.push(Rate {
            name,
            per_second,
            threads,
        });
    }
    Ok(rates)
}

/// What each server process runs: the same protocol, three implementations, one thread each.
fn serve_with(name: &str, listener: &TcpListener) -> Result<()> {
    match name {
        "executor" => {
            executor::show_waits(false);
            listener.set_nonblocking(true)?;
            let listener = listener.try_clone()?;
            executor::spawn("server", async move {
                if let Err(error) = echo_server(listener, LOAD_CLIENTS).await {
                    say!("the server failed: {error}");
                }
            });
            executor::run();
            Ok(())
        }
        "tokio" => tokio_echo_server(listener.try_clone()?, LOAD_CLIENTS).map_err(Error::from),
        _ => {
            let options = Options {
                max_clients: LOAD_CLIENTS,
                connections: Some(LOAD_CLIENTS),
                idle_timeout: None,
                write_timeout: None,
                show_waits: false,
                announce: LOAD_CLIENTS,
            };
            models::epoll::serve(listener, &options).map(|_| ())
        }
    }
}

/// The echo service on tokio's current-thread runtime: one thread, tokio's own epoll reactor.
fn tokio_echo_server(listener: TcpListener, connections: usize) -> io::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    listener.set_nonblocking(true)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let mut handlers = Vec::new();
        for number in 1..=connections {
            let (mut stream, peer) = listener.accept().await?;
            say!("connection from {peer}: tokio task {number}");
            handlers.push(tokio::spawn(async move {
                let mut buffer = [0u8; CHUNK];
                loop {
                    let received = stream.read(&mut buffer).await?;
                    if received == 0 {
                        return Ok::<(), io::Error>(());
                    }
                    buffer[..received].make_ascii_uppercase();
                    stream.write_all(&buffer[..received]).await?;
                }
            }));
        }
        for handler in handlers {
            handler.await.map_err(io::Error::other)??;
        }
        Ok(())
    })
}

/// `LOAD_CLIENTS` threads, each with its own connection, doing round trips for `duration`;
/// returns the round trips done, and the server's threads read from /proc meanwhile.
fn load(address: SocketAddr, duration: Duration, server: nix::unistd::Pid) -> Result<(u64, usize)> {
    let done = Arc::new(AtomicU64::new(0));
    let mut clients = Vec::new();
    for number in 1..=LOAD_CLIENTS {
        let done = done.clone();
        let mut stream = TcpStream::connect(address)?;
        stream.set_nodelay(true)?;
        // Not scaled: the servers answer at once; this only keeps a broken one from hanging us.
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        let mut client = Thread::new(move || -> io::Result<()> {
            // `duration` is scaled by the caller.
            let deadline = Instant::now() + duration;
            let mut reply = [0u8; 16];
            while Instant::now() < deadline {
                stream.write_all(b"abcdefghijklmnop")?;
                stream.read_exact(&mut reply)?;
                if &reply != b"ABCDEFGHIJKLMNOP" {
                    return Err(io::Error::other("a reply was not the request upper-cased"));
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
            Ok(())
        })
        .named(&format!("load-{number}"));
        client.start().map_err(|e| Error::System(e.to_string()))?;
        clients.push(client);
    }
    std::thread::sleep(duration / 2);
    let threads = std::fs::read_dir(format!("/proc/{server}/task")).map_or(0, |d| d.count());
    for client in &mut clients {
        if client.join().map_err(|e| Error::System(e.to_string()))? != 0 {
            return Err(Error::lesson(format!("{} failed", client.name())));
        }
    }
    Ok((done.load(Ordering::Relaxed), threads))
}

fn closing_question(rates: &[Rate]) {
    let lines: Vec<String> = rates
        .iter()
        .map(|r| {
            text!(
                en: "{name} {rate:.0} requests/s on {threads} thread(s) ({round_trip:.0} µs a \
                     round trip, client included)",
                zh: "{name} 每秒 {rate:.0} 个请求，{threads} 个线程（一次往返 {round_trip:.0} µs，\
                     含客户端）",
                name = r.name,
                rate = r.per_second,
                threads = r.threads,
                round_trip = 1e6 / r.per_second.max(1.0),
            )
        })
        .collect();
    let slowest = rates.iter().map(|r| r.per_second).fold(f64::MAX, f64::min);
    note!(
        en: "The tutorial asks how a Python service reaches 1000+ requests a second. Here, on \
             this machine, in this run: {lines}. The slowest of the three did {times:.0} times \
             1000 with a single thread: at 1000 requests a second a request may take 1 ms, and \
             an echo on one thread that never blocks takes a few µs of it. The model is what \
             matters: one thread that only ever waits in epoll. CPython's asyncio (an epoll \
             loop too) pays the interpreter on every request, but the same model gets it past \
             1000 as well, as long as no task blocks the loop.",
        zh: "教程问：一个 Python 服务怎样做到每秒 1000+ 个请求？在这台机器上、这次运行中：\
             {lines}。三者中最慢的一个，单线程也做到了 1000 的 {times:.0} 倍：每秒 1000 个请求，\
             一个请求可以花 1 ms，而一个从不阻塞的单线程回显只用去其中几 µs。关键在模型：一个只\
             在 epoll 里等待的线程。CPython 的 asyncio（也是一个 epoll 循环）处理每个请求都要付出\
             解释器的开销，但同样的模型也能让它超过 1000，只要没有任务阻塞事件循环。",
        lines = lines.join(&text!(en: "; ", zh: "；")),
        times = slowest / 1000.0,
    );
}

// The socket calls tasks await: each tries the non-blocking call, and only when the kernel
// says `EAGAIN` (`WouldBlock`) waits for the socket with the executor's reactor.

/// Runs `attempt` (a non-blocking call) until it does not say `WouldBlock`, waiting for the
/// socket in between: the only places where a task built on these calls stops.
async fn retry<T>(
    socket: BorrowedFd<'_>,
    interest: EpollFlags,
    on: &'static str,
    mut attempt: impl FnMut() -> io::Result<T>,
) -> io::Result<T> {
    loop {
        match attempt() {
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                executor::ready(socket, interest, on).await;
            }
            result => return result,
        }
    }
}

/// `accept` for a non-blocking listener; the connection it returns is non-blocking too.
pub async fn accept(listener: &TcpListener) -> io::Result<(TcpStream, SocketAddr)> {
    let socket = listener.as_fd();
    let (stream, peer) = retry(socket, EpollFlags::EPOLLIN, "accept", || listener.accept()).await?;
    stream.set_nonblocking(true)?;
    Ok((stream, peer))
}

/// `recv` on a non-blocking stream: 0 bytes is the end.
pub async fn read(mut stream: &TcpStream, buffer: &mut [u8]) -> io::Result<usize> {
    let socket = stream.as_fd();
    retry(socket, EpollFlags::EPOLLIN, "recv", || stream.read(buffer)).await
}

/// `send` until all of `bytes` is sent.
pub async fn write_all(mut stream: &TcpStream, mut bytes: &[u8]) -> io::Result<()> {
    let socket = stream.as_fd();
    while !bytes.is_empty() {
        let sent = retry(socket, EpollFlags::EPOLLOUT, "send", || stream.write(bytes)).await?;
        bytes = &bytes[sent..];
    }
    Ok(())
}
