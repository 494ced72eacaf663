//! Lesson 16: I/O models, the echo service five ways.
//!
//! What the student sees: the tutorial's upper-casing echo server, served by six server
//! processes one after the other (blocking and one client at a time; a process per
//! connection; a thread per connection; non-blocking sockets in a busy loop; one thread with
//! `poll`; one thread with `epoll`), each facing the same clients: alex, wupeiqi and yuanhao
//! (two lines each, with random pauses), "bulk" (256 KiB sent at once, read back only after
//! a pause) and then 20 connections held open at once, each sending "ping". While each server
//! serves them the main process reads from `/proc` what it costs: processes, threads,
//! descriptors, memory, CPU. The busy loop's CPU while idle is measured beside a blocking
//! server's over the same idle second.
//!
//! The servers are in `src/tools/models/` (one small file each), shared with
//! `proclab serve --model`. Here they report their waits (`accept`, `recv`, `poll`,
//! `epoll_wait`) so that the timeline draws them; `serve` does not (see its `Options`).
//!
//! System calls: `socket`/`bind`/`listen`/`accept`, `fork` and `pthread_create` for the
//! handlers, `fcntl(O_NONBLOCK)`, `recv`/`send` and their `EAGAIN`, `poll`, `epoll_create1`,
//! `epoll_ctl`, `epoll_wait`; `/proc/<pid>/{stat,task,fd,smaps_rollup}` for the costs.

use std::io::{self, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use crate::lesson::prelude::*;
use nix::poll::{PollFd, PollFlags};
use nix::unistd::Pid;

use crate::multiprocessing::process::{Process, poll_timeout};
use crate::threading::Thread;
use crate::tools::echo;
use crate::tools::models::cost::{self, Cost};
use crate::tools::models::{self, Options, Served};

/// The clients who talk: two lines each, after random pauses.
const TALKERS: [&str; 3] = ["alex", "wupeiqi", "yuanhao"];
/// What "bulk" sends at once, and reads back only after a pause.
const BULK_BYTES: usize = 256 * 1024;
/// Connections then held open at once, each sending one "ping".
const HELD: usize = 20;

/// The six servers, in the order of the steps.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Iterative,
    Forking,
    Threads,
    BusyLoop,
    Poll,
    Epoll,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Iterative => "iterative",
            Kind::Forking => "forking",
            Kind::Threads => "threads",
            Kind::BusyLoop => "busy-loop",
            Kind::Poll => "poll",
            Kind::Epoll => "epoll",
        }
    }

    /// Runs this server on `listener` until `options.connections` have come and gone.
    fn serve(self, listener: &TcpListener, options: &Options) -> Result<Served> {
        match self {
            Kind::Iterative => models::serve_iterative(listener, options),
            Kind::Forking => models::fork::serve(listener, options),
            Kind::Threads => models::thread::serve(listener, options),
            Kind::BusyLoop => models::nonblocking::serve(listener, options),
            Kind::Poll => models::poll::serve(listener, options),
            Kind::Epoll => models::epoll::serve(listener, options),
        }
    }
}

/// What one server did and cost in its step.
struct Measured {
    kind: Kind,
    /// The most of each figure while it served (CPU: all it used).
    cost: Cost,
    /// How long it served, from its start to its end.
    served_for: Duration,
    /// From the clients' start until the last talker was done.
    talkers_took: Duration,
    /// How many of the held connections had their "PING" back while all were open.
    held_answered: usize,
    /// Memory (PSS, KiB) the held connections added: measured just before they were opened,
    /// and while all were open.
    held_added_kib: u64,
}

pub fn run(lab: &mut Lab) -> Result<()> {
    // Each talker pauses before each of its two lines: 0.3 to 0.9 s, drawn here so that one
    // seed replays the run, and the same pauses serve every server.
    let pauses: Vec<Vec<Duration>> = TALKERS
        .iter()
        .map(|_| {
            (0..2)
                .map(|_| Duration::from_millis(lab.rng().random_range(3..=9) * 100))
                .collect()
        })
        .collect();
    let mut all = Vec::new();

    lab.step("Blocking, one client at a time")?;
    all.push(serve_and_measure(Kind::Iterative, &pauses)?);

    lab.step("A process per connection")?;
    all.push(serve_and_measure(Kind::Forking, &pauses)?);

    lab.step("A thread per connection")?;
    all.push(serve_and_measure(Kind::Threads, &pauses)?);

    lab.step("Non-blocking sockets and a busy loop")?;
    all.push(serve_and_measure(Kind::BusyLoop, &pauses)?);
    idle_cpu_busy_loop_against_blocking()?;

    lab.step("One thread waits on every socket: poll")?;
    all.push(serve_and_measure(Kind::Poll, &pauses)?);

    lab.step("epoll: the kernel keeps the list")?;
    all.push(serve_and_measure(Kind::Epoll, &pauses)?);

    lab.step("What each model cost")?;
    compare(&all);
    Ok(())
}

fn loopback_any_port() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// Starts the server of `kind` in its own process, lets every client at it, reads its cost
/// from `/proc` all along, and says what it saw.
fn serve_and_measure(kind: Kind, pauses: &[Vec<Duration>]) -> Result<Measured> {
    let listener = echo::listen_on(loopback_any_port(), true)?;
    let address = listener.local_addr()?;
    let options = Options {
        max_clients: 64,
        connections: Some(TALKERS.len() + 1 + HELD),
        idle_timeout: None,
        write_timeout: None,
        show_waits: true,
        // The talkers and bulk are announced; the held connections are served silently.
        announce: TALKERS.len() + 1,
    };
    // The listening socket moves into the server; the main process's copy closes at start().
    let mut server = Process::new(move || -> Result<()> {
        let served = kind.serve(&listener, &options)?;
        say_served(kind, &served);
        Ok(())
    })
    .named(kind.name());
    let began = Instant::now();
    let server_pid = server.start()?;

    // The clients are threads of the main process, started after the fork (a process with
    // threads running must not fork) and joined before the next one.
    let mut clients: Vec<Thread> = Vec::new();
    for (i, &name) in TALKERS.iter().enumerate() {
        let my_pauses = pauses[i].clone();
        let mut client = Thread::new(move || converse(name, address, &my_pauses)).named(name);
        client.start().map_err(|e| Error::System(e.to_string()))?;
        clients.push(client);
    }
    let mut bulk = Thread::new(move || send_bulk(address)).named("bulk");
    bulk.start().map_err(|e| Error::System(e.to_string()))?;

    let mut cost = Cost::default();
    let mut talkers_took = None;
    while clients.iter().chain([&bulk]).any(Thread::is_alive) {
        if talkers_took.is_none() && !clients.iter().any(Thread::is_alive) {
            talkers_took = Some(began.elapsed());
        }
        if let Some(now) = cost::of_tree(server_pid) {
            cost = cost.most(now);
        }
        std::thread::sleep(Duration::from_millis(3));
    }
    let talkers_took = talkers_took.unwrap_or_else(|| began.elapsed());
    for client in clients.iter_mut().chain([&mut bulk]) {
        let code = client.join().map_err(|e| Error::System(e.to_string()))?;
        if code != 0 {
            return Err(Error::lesson(format!("client {} failed", client.name())));
        }
    }

    let before_hold = cost::of_tree(server_pid).unwrap_or_default();
    let (held_answered, held_cost) = hold_connections(address, server_pid)?;
    cost = cost.most(held_cost);
    let code = server.join()?;
    if code != 0 {
        return Err(Error::lesson(format!(
            "the {} server failed (exit code {code})",
            kind.name()
        )));
    }
    let measured = Measured {
        kind,
        cost,
        served_for: began.elapsed(),
        talkers_took,
        held_answered,
        held_added_kib: held_cost.pss_kib.saturating_sub(before_hold.pss_kib),
    };
    note_cost(&measured, server_pid);
    Ok(measured)
}

/// A talker: connects, then for each pause waits, sends a line and reads the reply.
fn converse(name: &str, address: SocketAddr, pauses: &[Duration]) -> io::Result<()> {
    let began = Instant::now();
    let mut connection = TcpStream::connect(address)?;
    for (i, &pause) in pauses.iter().enumerate() {
        context::sleep(pause);
        let request = format!("{name} line {}", i + 1);
        connection.write_all(request.as_bytes())?;
        let reply = echo::read_reply(&mut connection, request.len())?
            .ok_or_else(|| io::Error::other("the server closed the connection"))?;
        say!(
            "{name} sent \"{request}\" and got \"{}\" after {}",
            String::from_utf8_lossy(&reply),
            describe(began.elapsed())
        );
    }
    Ok(())
}

/// "bulk": 256 KiB sent at once by a helper thread while bulk itself reads nothing for a
/// while; then it reads it all back and checks it.
fn send_bulk(address: SocketAddr) -> io::Result<()> {
    let connection = connect_with_small_receive_buffer(address)?;
    let bulk_bytes = BULK_BYTES;
    let message: Vec<u8> = (0..bulk_bytes).map(|i| b'a' + (i % 26) as u8).collect();
    let mut sending = connection.try_clone()?;
    // The sending side is a plain helper thread, scoped so it is joined here: it blocks in
    // `write_all` while the server, which stops reading what it cannot send, lets it.
    std::thread::scope(|scope| -> io::Result<()> {
        let message = &message;
        let writer = scope.spawn(move || sending.write_all(message));
        // Half a second (scaled), but at least 100 ms: on a busy machine the server must get
        // the CPU while bulk is not reading, or nothing piles up.
        let pause = context::scaled(Duration::from_millis(500)).max(Duration::from_millis(100));
        std::thread::sleep(pause);
        let mut reading = connection.try_clone()?;
        let reply = echo::read_reply(&mut reading, bulk_bytes)?
            .ok_or_else(|| io::Error::other("the server closed the connection"))?;
        writer
            .join()
            .map_err(|_| io::Error::other("the writer panicked"))??;
        if reply != message.to_ascii_uppercase() {
            return Err(io::Error::other(
                "the bulk reply was not the message upper-cased",
            ));
        }
        say!(
            en: "bulk sent {} KiB at once, read nothing for {}, then got all {} KiB back \
                 upper-cased",
            zh: "bulk 一次发出 {} KiB，接着 {} 什么也不读，然后收回了全部 {} KiB，都已转成大写",
            bulk_bytes / 1024,
            describe(pause),
            reply.len() / 1024
        );
        Ok(())
    })
}

/// A connection that looks like a client on a slow link: a receive buffer of 4 KiB (the
/// kernel doubles it, and no longer grows it by itself) and segments of at most 1024 bytes
/// (`TCP_MAXSEG`). The server's send buffer is sized from the segments (on loopback they would
/// be 64 KiB, and its buffer megabytes), so with these it stays small too: bulk's replies
/// soon fill it, and the server has replies it cannot send whole.
fn connect_with_small_receive_buffer(address: SocketAddr) -> io::Result<TcpStream> {
    use nix::sys::socket::{self, AddressFamily, SockFlag, SockType, SockaddrIn, sockopt};
    let SocketAddr::V4(v4) = address else {
        return Err(io::Error::other("loopback is IPv4 here"));
    };
    let socket = socket::socket(
        AddressFamily::Inet,
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    socket::setsockopt(&socket, sockopt::RcvBuf, &4096)?;
    socket::setsockopt(&socket, sockopt::TcpMaxSeg, &1024)?;
    socket::connect(
        std::os::fd::AsRawFd::as_raw_fd(&socket),
        &SockaddrIn::from(v4),
    )?;
    Ok(TcpStream::from(socket))
}

/// Opens `HELD` connections at once, sends "ping" on each, and waits (a bounded time) for
/// every "PING": how many came back while all were open, and the server's cost then.
fn hold_connections(address: SocketAddr, server: Pid) -> Result<(usize, Cost)> {
    let mut held = Vec::with_capacity(HELD);
    for _ in 0..HELD {
        let mut connection = TcpStream::connect(address)?;
        connection.write_all(b"ping")?;
        held.push(connection);
    }
    // A blocking server answers the first only. So the wait ends when no new PING has come
    // for a (scaled) second, at least 250 ms (a busy machine forks slowly), or after 5 s.
    let quiet = context::scaled(Duration::from_secs(1)).max(Duration::from_millis(250));
    // Not scaled: the answers follow no sleep of the lesson's, and a blocking server's never come.
    let give_up = Instant::now() + Duration::from_secs(5);
    let mut last_answer = Instant::now();
    let mut answered = vec![false; HELD];
    while answered.iter().any(|a| !a) {
        let deadline = (last_answer + quiet).min(give_up);
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        let mut list: Vec<PollFd> = held
            .iter()
            .zip(&answered)
            .filter(|(_, done)| !**done)
            .map(|(c, _)| PollFd::new(c.as_fd(), PollFlags::POLLIN))
            .collect();
        // `left`: to the quiet second (scaled) or to giving up, whichever comes first.
        let _ = nix::poll::poll(&mut list, poll_timeout(left));
        let ready: Vec<bool> = list.iter().map(|p| p.any().unwrap_or(false)).collect();
        drop(list);
        let waiting: Vec<usize> = (0..HELD).filter(|&i| !answered[i]).collect();
        for (index, is_ready) in waiting.into_iter().zip(ready) {
            if is_ready {
                let reply = echo::read_reply(&mut held[index], 4)?;
                if reply.as_deref() != Some(b"PING".as_slice()) {
                    return Err(Error::lesson(format!("a held connection got {reply:?}")));
                }
                answered[index] = true;
                last_answer = Instant::now();
            }
        }
    }
    let cost = cost::of_tree(server).unwrap_or_default();
    // Closing them all lets the server finish (the blocking one serves the rest now, one by
    // one: each has its "ping" waiting, then the end).
    drop(held);
    Ok((answered.iter().filter(|&&a| a).count(), cost))
}

/// Said by the server itself as it ends: the lab's count of what it did, in the reader's
/// language (the outcomes read the number after `at most` or `最多`).
fn say_served(kind: Kind, served: &Served) {
    let (name, connections, most_open) = (kind.name(), served.connections, served.most_open);
    let mut text = text!(
        en: "{name} served {connections} connections, at most {most_open} open at once",
        zh: "{name} 服务了 {connections} 个连接，同时打开的最多 {most_open} 个",
    );
    let kept = served.kept_replies;
    if kept > 0 {
        text.push_str(&text!(
            en: "; {kept} times a reply could not be sent whole, and the rest was kept and sent \
                 when the socket became writable",
            zh: "；有 {kept} 次回复没能一次发完，剩下的部分先留着，等套接字可写时再发",
        ));
    }
    let (turns, idle) = (served.turns, served.idle_turns);
    if turns > 0 {
        text.push_str(&text!(
            en: "; it went round its loop {turns} times, {idle} of them finding nothing to do",
            zh: "；它的循环转了 {turns} 圈，其中 {idle} 圈无事可做",
        ));
    }
    say!("{text}");
}

fn ms(ticks: u64) -> u64 {
    ticks * 1000 / cost::ticks_per_second()
}

fn note_cost(m: &Measured, server: Pid) {
    let c = m.cost;
    let how = match m.kind {
        Kind::Iterative => text!(
            en: "It served one client at a time: the others were connected (the kernel queued \
                 them) but nothing read what they sent until the one before hung up.",
            zh: "它一次只服务一个客户端：其他客户端已经连上了（内核把它们放进了队列），但在前一个\
                 挂断之前，没有人读它们发来的东西。",
        ),
        Kind::Forking => text!(
            en: "Every connection had a process of its own: a fork, a copy of the server's page \
                 tables and descriptors, a reap when it ended.",
            zh: "每个连接都有自己的进程：一次 fork，复制一份服务器的页表和文件描述符，结束时还要\
                 回收 (reap)。",
        ),
        Kind::Threads => text!(
            en: "Every connection had a thread of its own in the server's process: no copy of \
                 the process, but a stack and a kernel task each, and each blocks in its own \
                 recv.",
            zh: "每个连接在服务器进程里都有自己的线程：不用复制进程，但每个线程要一个栈和一个内核\
                 任务，各自阻塞在自己的 recv 里。",
        ),
        Kind::BusyLoop => text!(
            en: "One thread served everybody by asking every socket in turn, round and round; \
                 it never blocked, so it used the CPU the whole time it ran.",
            zh: "一个线程服务所有人，办法是一圈又一圈地轮流询问每个套接字；它从不阻塞，所以运行\
                 期间一直占着 CPU。",
        ),
        Kind::Poll => text!(
            en: "One thread served everybody, sleeping in poll until some socket was ready; \
                 each call handed the kernel the whole list.",
            zh: "一个线程服务所有人，睡在 poll 里，直到某个套接字就绪；每次调用都把整个列表交给\
                 内核。",
        ),
        Kind::Epoll => text!(
            en: "One thread served everybody, sleeping in epoll_wait; the kernel kept the list \
                 and returned only the ready sockets.",
            zh: "一个线程服务所有人，睡在 epoll_wait 里；列表由内核保管，只返回已经就绪的\
                 套接字。",
        ),
    };
    note!(
        en: "{name} (pid {server}) while serving, read from /proc: at most {processes} \
             process(es), {threads} thread(s), {descriptors} descriptors, {pss} KiB of memory \
             (PSS); {cpu} ms of CPU in {served_for} of serving. The three talkers were done \
             after {talkers_took}; {answered} of the {HELD} held connections had their PING \
             back while all were open. {how}",
        zh: "{name}（pid {server}）服务期间，从 /proc 读到：最多 {processes} 个进程、\
             {threads} 个线程、{descriptors} 个文件描述符、{pss} KiB 内存 (PSS)；服务了 \
             {served_for}，用了 {cpu} ms 的 CPU。三个对话的客户端在 {talkers_took} 后结束；\
             {HELD} 个保持打开的连接全部开着时，有 {answered} 个拿回了它的 PING。{how}",
        name = m.kind.name(),
        processes = c.processes,
        threads = c.threads,
        descriptors = c.descriptors,
        pss = c.pss_kib,
        cpu = ms(c.cpu_ticks),
        served_for = describe(m.served_for),
        talkers_took = describe(m.talkers_took),
        answered = m.held_answered,
    );
}

/// A busy-loop server and a blocking server, both idle, measured over the same second.
fn idle_cpu_busy_loop_against_blocking() -> Result<()> {
    let mut servers = Vec::new();
    let mut addresses = Vec::new();
    for kind in [Kind::BusyLoop, Kind::Iterative] {
        let listener = echo::listen_on(loopback_any_port(), true)?;
        addresses.push(listener.local_addr()?);
        let options = Options {
            max_clients: 1,
            connections: Some(1),
            idle_timeout: None,
            write_timeout: None,
            show_waits: true,
            announce: 0,
        };
        let mut server = Process::new(move || -> Result<()> {
            kind.serve(&listener, &options)?;
            Ok(())
        })
        .named(&format!("idle-{}", kind.name()));
        server.start()?;
        servers.push(server);
    }
    // One second, scaled by --speed, but never under 500 ms: the kernel counts CPU time in
    // ticks of 10 ms, and a window of a few ticks would say little.
    let window = context::scaled(Duration::from_secs(1)).max(Duration::from_millis(500));
    let pids: Vec<Pid> = servers.iter().map(|s| s.pid().expect("started")).collect();
    // Let both settle into their loop (or their wait) first.
    std::thread::sleep(Duration::from_millis(20));
    let before: Vec<u64> = pids
        .iter()
        .map(|&p| cost::own_cpu_ticks(p).unwrap_or(0))
        .collect();
    let opened = Instant::now();
    std::thread::sleep(window);
    let after: Vec<u64> = pids
        .iter()
        .map(|&p| cost::own_cpu_ticks(p).unwrap_or(0))
        .collect();
    let measured = opened.elapsed();
    let used: Vec<u64> = before.iter().zip(&after).map(|(b, a)| a - b).collect();
    // One connection each, closed at once, ends them.
    for address in &addresses {
        drop(TcpStream::connect(address)?);
    }
    for server in &mut servers {
        server.join()?;
    }
    let share = |ticks: u64| 100.0 * ms(ticks) as f64 / measured.as_secs_f64() / 1000.0;
    note!(
        en: "Both servers idle, no client at all, over the same {window}: the busy loop (pid \
             {busy}) used {busy_ms} ms of CPU ({busy_ticks} ticks of utime + stime in \
             /proc/{busy}/stat, {busy_share:.0}% of one CPU); the blocking server (pid \
             {blocking}) used {blocking_ms} ms ({blocking_ticks} ticks, {blocking_share:.0}%). \
             The blocking one sleeps in accept until the kernel wakes it; the busy loop asks \
             again and again, and burns a CPU to learn that nothing happened.",
        zh: "两个服务器都空闲着，一个客户端也没有，在同样的 {window} 里：忙轮询服务器（pid \
             {busy}）用了 {busy_ms} ms 的 CPU（/proc/{busy}/stat 里 utime + stime 共 \
             {busy_ticks} 个时钟滴答，占一个 CPU 的 {busy_share:.0}%）；阻塞服务器（pid \
             {blocking}）用了 {blocking_ms} ms（{blocking_ticks} 个滴答，\
             {blocking_share:.0}%）。阻塞的那个睡在 accept 里，等内核把它唤醒；忙轮询的那个\
             一遍又一遍地问，烧掉一个 CPU，只为得知什么也没发生。",
        window = describe(measured),
        busy = pids[0],
        busy_ms = ms(used[0]),
        busy_ticks = used[0],
        busy_share = share(used[0]),
        blocking = pids[1],
        blocking_ms = ms(used[1]),
        blocking_ticks = used[1],
        blocking_share = share(used[1]),
    );
    Ok(())
}

/// The final table: each model's cost side by side.
fn compare(all: &[Measured]) {
    let rows: Vec<String> = all
        .iter()
        .map(|m| {
            text!(
                en: "{}: processes {}, threads {}, descriptors {}, PSS {} KiB, CPU {} ms; held \
                     connections answered {}/{HELD}",
                zh: "{}：进程 {} 个，线程 {} 个，文件描述符 {} 个，PSS {} KiB，CPU {} ms；\
                     保持着的连接得到回答的有 {}/{HELD}",
                m.kind.name(),
                m.cost.processes,
                m.cost.threads,
                m.cost.descriptors,
                m.cost.pss_kib,
                ms(m.cost.cpu_ticks),
                m.held_answered
            )
        })
        .collect();
    for row in &rows {
        say!("{row}");
    }
    let find = |kind: Kind| all.iter().find(|m| m.kind == kind);
    if let (Some(fork), Some(threads), Some(epoll)) =
        (find(Kind::Forking), find(Kind::Threads), find(Kind::Epoll))
    {
        let per_connection = |m: &Measured| format!("{:.1}", m.held_added_kib as f64 / HELD as f64);
        note!(
            en: "The same {clients} clients, six ways. While {HELD} were held, the forking \
                 server was {fork_processes} processes, the threaded one {threads} threads in \
                 one process, and the epoll server one thread with {descriptors} descriptors. \
                 Measured in each server just before the {HELD} connections came and while all \
                 were open, each held connection added about {fork_kib} KiB of memory (PSS) \
                 with processes, {threads_kib} KiB with threads and {epoll_kib} KiB with epoll \
                 (the kernel's own socket buffers are not in these figures). The busy loop \
                 answered as well as poll and epoll, and paid in CPU. bench/compare.sh holds \
                 10,000 connections on `proclab serve --model epoll`.",
            zh: "同样的 {clients} 个客户端，六种服务方式。{HELD} 个连接保持打开时，多进程服务器是 \
                 {fork_processes} 个进程，多线程服务器是一个进程里的 {threads} 个线程，epoll \
                 服务器是一个线程加 {descriptors} 个文件描述符。在每个服务器里测两次（那 {HELD} \
                 个连接到来之前，以及它们全部打开时），每个保持打开的连接大约增加这么多内存 \
                 (PSS)：用进程 {fork_kib} KiB，用线程 {threads_kib} KiB，用 epoll {epoll_kib} \
                 KiB（内核自己的套接字缓冲区不算在这些数字里）。忙轮询应答得和 poll、epoll \
                 一样好，代价是 CPU。bench/compare.sh 在 `proclab serve --model epoll` 上保持 \
                 10,000 个连接。",
            clients = TALKERS.len() + 1 + HELD,
            fork_processes = fork.cost.processes,
            threads = threads.cost.threads,
            descriptors = epoll.cost.descriptors,
            fork_kib = per_connection(fork),
            threads_kib = per_connection(threads),
            epoll_kib = per_connection(epoll),
        );
    }
}
