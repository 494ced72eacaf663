//! Lesson 4: socket concurrency, one process per connection.
//!
//! What the student sees: a server process listening on 127.0.0.1 forks a *handler* process for
//! every connection it accepts; three clients (alex, wupeiqi, yuanhao) talk to it at the same
//! time with random pauses, each served by its own handler, a child of the server, and the
//! handlers' lives overlap. The same clients then queue up behind an iterative server that does
//! not fork. Then five pitfalls, each live: handlers nobody reaps pile up as zombies (unless
//! `SIGCHLD` is ignored, and the kernel reaps); a server that keeps its copy of a connection
//! hides the end of the conversation from the client; a port whose old connection is in
//! `TIME_WAIT`, or whose handlers are still connected, cannot be bound again without
//! `SO_REUSEADDR` (nor with it, while a handler keeps the listening socket); and TCP is a byte
//! stream, so the tutorial's one `recv(1024)` per line falls a reply behind.
//!
//! System calls: `socket`, `setsockopt(SO_REUSEADDR)`, `bind`, `listen`, `accept`, `fork` (one
//! handler per connection), `read`/`write` on the connection, `shutdown` (half-close),
//! `close`, `waitpid` (reaping, after `SIGCHLD`), `/proc/<pid>/stat` for parents and zombies,
//! `/proc/net/tcp` for the `TIME_WAIT` entry. The server and client themselves are in
//! `src/echo.rs`, shared with `proclab serve` and `proclab client`.

use std::io::{self, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, Ordering::SeqCst};
use std::time::{Duration, Instant};

use crate::lesson::prelude::*;
use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, poll};
use nix::unistd::{Pid, getpid};

use crate::multiprocessing::process::{self, Process, poll_timeout};
use crate::runtime::procfs::TcpSocket;
use crate::runtime::socket;
use crate::tools::echo;
use crate::tools::models::fork::{self, ServerOptions};

const CLIENTS: [&str; 3] = ["alex", "wupeiqi", "yuanhao"];

/// 127.0.0.1 and port 0: the kernel picks a free (ephemeral) port.
fn loopback_any_port() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

pub fn run(lab: &mut Lab) -> Result<()> {
    // Each client pauses before each of its two lines: 1 to 3 s, drawn here so that one seed
    // replays the same run, and the same pauses serve both servers of steps 1 and 2.
    let pauses: Vec<Vec<Duration>> = CLIENTS
        .iter()
        .map(|_| {
            (0..2)
                .map(|_| Duration::from_millis(lab.rng().random_range(10..=30) * 100))
                .collect()
        })
        .collect();

    lab.step("One handler process per connection")?;
    let forking_times = forking_server_with_clients(&pauses)?;

    lab.step("An iterative server makes clients wait")?;
    let iterative_times = iterative_server_with_clients(&pauses)?;
    let rows: Vec<String> = CLIENTS
        .iter()
        .enumerate()
        .map(|(i, name)| {
            format!(
                "{name} {} / {}",
                describe(forking_times[i]),
                describe(iterative_times[i])
            )
        })
        .collect();
    // How much longer each client took with the iterative server: its wait for the earlier
    // conversations to end.
    let (longest_wait, who) = (0..CLIENTS.len())
        .map(|i| {
            (
                iterative_times[i].saturating_sub(forking_times[i]),
                CLIENTS[i],
            )
        })
        .max()
        .unwrap_or_default();
    let rows = rows.join(&text!(en: ", ", zh: "；"));
    let longer = describe(longest_wait);
    let verdict = if longest_wait > context::scaled(Duration::from_millis(500)) {
        text!(
            en: "With the iterative server {who} took {longer} longer: it was connected, but the \
                 server was busy with an earlier client and read nothing from it until that \
                 client hung up. With a handler per connection nobody waited for anybody.",
            zh: "在迭代式服务器上，{who} 多用了 {longer}：它已经连上了，但服务器正忙着一个更早的\
                 客户端，在那个客户端挂断之前一点也没读它发来的东西。每个连接一个处理进程时，\
                 谁也不用等谁。"
        )
    } else {
        text!(
            en: "On this run no client took much longer with the iterative server (at most \
                 {longer}): the pauses happened to keep the conversations from meeting.",
            zh: "这次运行中，没有哪个客户端在迭代式服务器上多用很多时间（最多 {longer}）：\
                 停顿碰巧让几段对话没有撞在一起。"
        )
    };
    note!(
        en: "Each client's time from start to end, forking server / iterative server: {rows}. \
             {verdict}",
        zh: "每个客户端从开始到结束的用时，多进程服务器 / 迭代式服务器：{rows}。{verdict}",
    );

    lab.step("Zombies pile up unless the server reaps")?;
    zombies_without_and_with_reaping()?;

    lab.step("The server must close its copy of the connection")?;
    server_keeps_its_copy()?;

    lab.step("Binding a port in TIME_WAIT needs SO_REUSEADDR")?;
    bind_again_after_time_wait()?;

    lab.step("Handlers still connected keep the port too")?;
    rebind_while_a_handler_holds_the_port()?;

    lab.step("TCP is a byte stream: one read per line falls behind")?;
    one_read_per_line_falls_behind()
}

/// Starts a server process that runs `body` on a listening socket made here, by the main
/// process. The socket moves into the server's target; `start()` drops the target in the
/// main process once the server is forked, which closes the main process's copy: from then on
/// only the server listens.
fn start_server(listener: TcpListener, body: impl Fn(&TcpListener) + 'static) -> Result<Process> {
    let mut server = Process::new(move || body(&listener)).named("server");
    server.start()?;
    Ok(server)
}

/// A client process: connects, then for each pause waits, sends a line and reads the reply.
fn start_client(name: &'static str, address: SocketAddr, pauses: Vec<Duration>) -> Result<Process> {
    // An error in `converse` ends the client with exit code 1, as an exception would.
    let mut client = Process::new(move || converse(name, address, &pauses)).named(name);
    client.start()?;
    Ok(client)
}

fn converse(name: &str, address: SocketAddr, pauses: &[Duration]) -> io::Result<()> {
    let began = Instant::now();
    let mut connection = TcpStream::connect(address)?;
    say!("{name} connected from {}", connection.local_addr()?);
    for (i, &pause) in pauses.iter().enumerate() {
        context::sleep(pause);
        // The pause is said as the program states it, with what it really is at this speed.
        let request = format!("{name} line {} (paused {})", i + 1, stated(pause));
        connection.write_all(request.as_bytes())?;
        let reply = echo::read_reply(&mut connection, request.len())?
            .ok_or_else(|| io::Error::other("the server closed the connection"))?;
        say!(
            "{name} sent \"{request}\" and got \"{}\" back, {} since it connected",
            String::from_utf8_lossy(&reply),
            describe(began.elapsed())
        );
    }
    // Dropping the connection closes it: the handler reads 0 bytes and ends.
    Ok(())
}

/// Starts the three clients at once and returns how long each took, start to end, measured by
/// watching them end (`process::wait`, Python's `connection.wait`) without reaping them; then
/// joins them.
fn run_clients(address: SocketAddr, pauses: &[Vec<Duration>]) -> Result<Vec<Duration>> {
    let started = Instant::now();
    let mut clients = Vec::new();
    for (i, &name) in CLIENTS.iter().enumerate() {
        clients.push(start_client(name, address, pauses[i].clone())?);
    }
    let mut ended: Vec<Option<Duration>> = vec![None; clients.len()];
    // Scaled, as the clients' pauses are: at --speed 0.05 three clients in line behind one
    // another take minutes (an unscaled minute left their times at zero).
    let deadline = Instant::now() + context::scaled(Duration::from_secs(60));
    while ended.iter().any(Option::is_none) && Instant::now() < deadline {
        let running: Vec<usize> = (0..clients.len()).filter(|&i| ended[i].is_none()).collect();
        let watched: Vec<&Process> = running.iter().map(|&i| &clients[i]).collect();
        for index in process::wait(&watched, Duration::from_secs(60)) {
            ended[running[index]] = Some(started.elapsed());
        }
    }
    for client in &mut clients {
        let code = client.join()?;
        if code != 0 {
            return Err(Error::lesson(format!(
                "client {} failed (exit code {code})",
                client.name()
            )));
        }
    }
    Ok(ended.into_iter().map(Option::unwrap_or_default).collect())
}

fn forking_server_with_clients(pauses: &[Vec<Duration>]) -> Result<Vec<Duration>> {
    let listener = echo::listen_on(loopback_any_port(), true)?;
    let address = listener.local_addr()?;
    say!(
        "the main process is listening on {address} (port chosen by the kernel, SO_REUSEADDR set)"
    );
    let mut server = start_server(listener, |listener| {
        let options = ServerOptions {
            max_clients: 16,
            reap: true,
            connections: Some(CLIENTS.len()),
            observe_handlers: true,
            guarded: None,
        };
        match fork::serve_forking(listener, &options) {
            Ok(lives) => note_overlap(&lives),
            Err(error) => say!("the server failed: {error}"),
        }
    })?;
    let server_pid = server.pid().expect("started");
    note!(
        en: "The server is pid {server_pid}. It got the listening socket from the main process \
             through fork, and the main process closed its own copy: only the server accepts. \
             For each connection it forks a handler and goes straight back to accept().",
        zh: "服务器是 pid {server_pid}。它通过 fork 从主进程那里继承了监听套接字，主进程则关闭了\
             自己的那份：只有服务器在接受连接。每来一个连接，它就 fork 一个处理进程 (handler)，\
             然后立刻回到 accept()。",
    );
    let times = run_clients(address, pauses)?;
    server.join()?;
    Ok(times)
}

/// Said by the server once its handlers are all reaped: did their lives overlap?
fn note_overlap(lives: &[fork::HandlerLife]) {
    let server_pid = getpid().as_raw();
    let spans: Vec<String> = lives
        .iter()
        .map(|l| {
            text!(
                en: "{pid} from {forked:.3} s to {reaped:.3} s",
                zh: "{pid} 从 {forked:.3} s 到 {reaped:.3} s",
                pid = l.pid,
                forked = l.forked_at,
                reaped = l.reaped_at.unwrap_or(f64::NAN)
            )
        })
        .collect();
    let last_forked = lives.iter().map(|l| l.forked_at).fold(0.0, f64::max);
    let first_reaped = lives
        .iter()
        .filter_map(|l| l.reaped_at)
        .fold(f64::MAX, f64::min);
    let mut pids: Vec<Pid> = lives.iter().map(|l| l.pid).collect();
    pids.sort();
    pids.dedup();
    let connections = lives.len();
    let verdict = if last_forked < first_reaped {
        text!(
            en: "The handler lifetimes overlapped: all {connections} were alive at once from \
                 {last_forked:.3} s to {first_reaped:.3} s, so no client waited for another.",
            zh: "各个处理进程的生命期重叠了：从 {last_forked:.3} s 到 {first_reaped:.3} s，\
                 {connections} 个全都同时活着，所以没有哪个客户端在等另一个。"
        )
    } else {
        text!(
            en: "On this run the handler lifetimes did not all overlap.",
            zh: "这次运行中，各个处理进程的生命期没有全部重叠。"
        )
    };
    let handlers = pids.len();
    let spans = spans.join(&text!(en: "; ", zh: "；"));
    note!(
        en: "{connections} connections, {handlers} different handler pids, every one a child of \
             the server {server_pid}, each reaped by it: {spans}. {verdict}",
        zh: "{connections} 个连接，{handlers} 个不同的处理进程 pid，每一个都是服务器 {server_pid} \
             的子进程，每一个都由它回收：{spans}。{verdict}",
    );
}

fn iterative_server_with_clients(pauses: &[Vec<Duration>]) -> Result<Vec<Duration>> {
    let listener = echo::listen_on(loopback_any_port(), true)?;
    let address = listener.local_addr()?;
    let mut server = start_server(listener, |listener| {
        if let Err(error) = echo::serve_iterative(listener, CLIENTS.len()) {
            say!("the server failed: {error}");
        }
    })?;
    note!(
        en: "An iterative server {pid} on {address}: it talks to one client itself until that \
             client hangs up, and only then accepts the next. The other clients are connected \
             (the kernel completed their handshake and queued them) but nobody reads what they \
             send.",
        zh: "{address} 上的迭代式服务器 {pid}：它亲自和一个客户端对话，直到那个客户端挂断，\
             然后才 accept 下一个。其他客户端已经连上了（内核替它们完成了握手，把它们排进了\
             队列），可是没有人读它们发来的东西。",
        pid = server.pid().expect("started"),
    );
    let times = run_clients(address, pauses)?;
    server.join()?;
    Ok(times)
}

/// Waits until every pid has ended, as /proc shows it (a zombie: ended, not reaped), for at
/// most a few seconds each. The server has no `Process` handles for its handlers: it reaps
/// them by pid (`reap_any_ended`), as a forking server does.
fn wait_all_ended(pids: &[Pid]) {
    for &pid in pids {
        // Not scaled: the clients of step 3 do not pause, so this waits for the kernel alone.
        wait::poll_until(Duration::from_secs(5), || {
            procfs::stat(pid).filter(|stat| stat.state == 'Z')
        });
    }
}

/// How a server of step 3 deals with its handlers that have ended.
#[derive(Clone, Copy, PartialEq)]
enum Reaping {
    /// Not at all: they stay zombies.
    Never,
    /// `SIGCHLD`, then `waitpid(-1, WNOHANG)` in the accept loop.
    OnSigchld,
    /// `SIGCHLD` set to `SIG_IGN`: the kernel reaps them itself.
    KernelReaps,
}

fn zombies_without_and_with_reaping() -> Result<()> {
    for reaping in [Reaping::Never, Reaping::OnSigchld, Reaping::KernelReaps] {
        let listener = echo::listen_on(loopback_any_port(), true)?;
        let address = listener.local_addr()?;
        let mut server = start_server(listener, move |listener| {
            if reaping == Reaping::KernelReaps {
                if let Err(errno) = process::ignore_sigchld() {
                    say!("the server failed: signal: {errno}");
                    return;
                }
                say!("SIGCHLD set to SIG_IGN: the kernel will reap this server's children");
            }
            let reap = reaping == Reaping::OnSigchld;
            let options = ServerOptions {
                max_clients: 16,
                reap,
                connections: Some(CLIENTS.len()),
                observe_handlers: false,
                guarded: None,
            };
            let lives = match fork::serve_forking(listener, &options) {
                Ok(lives) => lives,
                Err(error) => {
                    say!("the server failed: {error}");
                    return;
                }
            };
            let pids: Vec<Pid> = lives.iter().map(|l| l.pid).collect();
            match reaping {
                // The handlers end when their clients hang up; wait for that, without reaping.
                Reaping::Never => wait_all_ended(&pids),
                // Wait until the kernel has removed them (a reaped child leaves /proc).
                Reaping::KernelReaps => wait_all_gone(&pids),
                Reaping::OnSigchld => {}
            }
            count_zombies(reaping);
            if reaping == Reaping::KernelReaps {
                // Nobody can collect an exit status any more: wait() finds no child at all.
                let error = nix::sys::wait::wait()
                    .err()
                    .map_or("none".to_string(), |errno| {
                        format!("{} ({})", process::errno_name(errno), errno.desc())
                    });
                say!("waitpid for any child now fails: {error}");
            }
            if reaping == Reaping::Never {
                // Clean up before leaving: collect them now (any wait would do).
                let reaped = process::reap_any_ended(false);
                say!(
                    "the server reaps them now: {} handler(s) collected",
                    reaped.len()
                );
                count_zombies(Reaping::OnSigchld);
            }
        })?;
        // The clients talk briefly, without pauses, one after the other.
        for &name in &CLIENTS {
            let mut client = start_client(name, address, vec![Duration::ZERO])?;
            client.join()?;
        }
        server.join()?;
    }
    Ok(())
}

/// Waits until every pid has left /proc (it was reaped), for at most a few seconds each.
fn wait_all_gone(pids: &[Pid]) {
    for &pid in pids {
        // Not scaled: the clients of step 3 do not pause, so this waits for the kernel alone.
        wait::poll_until(Duration::from_secs(5), || {
            procfs::stat(pid).is_none().then_some(())
        });
    }
}

/// Counts the server's zombie children in /proc and says what that means.
fn count_zombies(reaping: Reaping) {
    let server_pid = getpid();
    let zombies = procfs::zombie_children(server_pid);
    for zombie in &zombies {
        procfs::observe(zombie.pid);
    }
    let pids: Vec<String> = zombies.iter().map(|z| z.pid.to_string()).collect();
    let count = zombies.len();
    if reaping == Reaping::KernelReaps {
        note!(
            en: "zombies counted in /proc: {count} (children of server {server_pid} in state Z). \
                 This server never called waitpid, yet nothing is left: with SIGCHLD set to \
                 SIG_IGN the kernel reaps each child the moment it ends, the third way to leave \
                 no zombie. The price: no exit status is kept for anybody (Python's exitcode \
                 stays None after join() in such a process).",
            zh: "在 /proc 里数到的僵尸进程：{count} 个（服务器 {server_pid} 的处于状态 Z 的子进程）。\
                 这个服务器从没调用 waitpid，却什么也没留下：SIGCHLD 设为 SIG_IGN 后，内核在每个\
                 子进程结束的那一刻亲自回收它，这是不留僵尸进程的第三种办法。代价是：谁的退出\
                 状态都不保留（在这样的进程里，Python 的 exitcode 在 join() 之后仍是 None）。",
        );
    } else if reaping == Reaping::OnSigchld {
        note!(
            en: "zombies counted in /proc: {count} (children of server {server_pid} in state Z). \
                 Every handler that ended was reaped with waitpid, so none is left as a zombie.",
            zh: "在 /proc 里数到的僵尸进程：{count} 个（服务器 {server_pid} 的处于状态 Z 的子进程）。\
                 每个结束了的处理进程都已经用 waitpid 回收，所以没有一个留下来成为僵尸进程。",
        );
    } else {
        let pids = pids.join(&text!(en: ", ", zh: "、"));
        note!(
            en: "zombies counted in /proc: {count} (children of server {server_pid} in state Z: \
                 {pids}). These handlers have ended, but the server never called waitpid for \
                 them: each stays in the process table, holding its exit status, for as long as \
                 the server runs. (The tutorial's server never joins its handlers either; \
                 CPython reaps the ones already ended only when it starts the next, so those \
                 that end after the last connection stay zombies, one per client when they all \
                 came at once.)",
            zh: "在 /proc 里数到的僵尸进程 (zombie process)：{count} 个（服务器 {server_pid} \
                 的处于状态 Z 的子进程：{pids}）。这些处理进程已经结束，但服务器从没为它们调用 \
                 waitpid：只要服务器还在运行，它们每一个都留在进程表里，保存着自己的退出状态。\
                 （教程的服务器也从不 join 它的处理进程；CPython 只在启动下一个时才回收已经\
                 结束的那些，所以在最后一个连接之后结束的都会留成僵尸进程，客户端同时到来时\
                 就是每个客户端一个。）",
        );
    }
}

fn server_keeps_its_copy() -> Result<()> {
    // Here the main process plays the server, so that we can see exactly which descriptors it
    // holds. A pipe lets the client say "I have waited and seen nothing".
    let listener = echo::listen_on(loopback_any_port(), true)?;
    let address = listener.local_addr()?;
    let (timed_out_reader, timed_out_writer) = nix::unistd::pipe()?;
    let wait = Duration::from_secs(1);
    // The write end moves into alex's target: after the fork only alex holds it.
    let mut client =
        Process::new(move || wait_for_the_end(address, wait, &timed_out_writer)).named("alex");
    client.start()?;

    let (connection, peer) = accept_from(&listener, &client)?;
    // The mistake, made on purpose: the handler gets a duplicate of the connection's
    // descriptor, and the main process keeps the original open.
    let mut handler = fork::start_handler(
        connection.try_clone()?,
        peer,
        listener.as_raw_fd(),
        "handler",
    )?;
    let handler_pid = handler.pid().expect("started");
    let code = handler.join()?;
    note!(
        en: "Handler {handler_pid} read the end of alex's requests, closed its descriptor and \
             exited (exitcode {code}). But the main process still holds descriptor {fd} for the \
             same connection: the kernel sends the end of the conversation (FIN) only when the \
             last descriptor of a connection is closed.",
        zh: "处理进程 {handler_pid} 读到了 alex 请求的结束，关闭了自己的描述符并退出（exitcode \
             {code}）。但主进程仍然持有同一个连接的描述符 {fd}：只有当一个连接的最后一个描述符\
             被关闭时，内核才发出对话的结束 (FIN)。",
        fd = connection.as_raw_fd(),
    );
    let mut ready = [PollFd::new(timed_out_reader.as_fd(), PollFlags::POLLIN)];
    match poll(
        &mut ready,
        poll_timeout(context::scaled(Duration::from_secs(30))),
    ) {
        Ok(1) => {}
        Ok(_) | Err(Errno::EINTR) => return Err(Error::lesson("alex never reported back")),
        Err(errno) => return Err(errno.into()),
    }
    let closed_at = Instant::now();
    drop(connection);
    say!("the main process closes its copy of the connection now");
    let code = client.join()?;
    note!(
        en: "Alex saw no end within its wait, and then the end arrived right after the main \
             process closed its copy ({later} later, alex exited with {code}). The tutorial's \
             server never closes its copy itself: CPython closes it only when the next accept() \
             rebinds the variable, so until another client connects, a conversation its handler \
             ends is not ended for the client. The fix is one line: close (drop) the connection \
             in the server right after the fork.",
        zh: "alex 在它等待的时间里没有看到结束；主进程关闭自己那份之后，结束马上就到了\
             （{later} 之后，alex 以 {code} 退出）。教程的服务器自己从不关闭它那份：CPython \
             要等下一次 accept() 重新绑定那个变量时才关闭它，所以在另一个客户端连上之前，\
             处理进程结束了的对话，对客户端来说并没有结束。解决办法只要一行：在服务器里，\
             fork 之后立刻关闭 (drop) 这个连接。",
        later = describe(closed_at.elapsed()),
    );
    Ok(())
}

/// Accepts `client`'s connection, but not for ever: if the client ends first (it could not
/// connect: out of descriptors, say) or nothing comes within a --speed-scaled 30 s, the step
/// fails instead of waiting in accept() for a connection that will never come.
fn accept_from(listener: &TcpListener, client: &Process) -> Result<(TcpStream, SocketAddr)> {
    let deadline = Instant::now() + context::scaled(Duration::from_secs(30));
    loop {
        let mut ready = [PollFd::new(listener.as_fd(), PollFlags::POLLIN)];
        // Not scaled: a tick of the loop, whose deadline (above) is scaled.
        match poll(&mut ready, poll_timeout(Duration::from_millis(10))) {
            Ok(1) => return Ok(listener.accept()?),
            Ok(_) | Err(Errno::EINTR) => {}
            Err(errno) => return Err(errno.into()),
        }
        if let Some(code) = client.exitcode() {
            return Err(Error::lesson(format!(
                "{} ended (exitcode {code}) before it connected",
                client.name()
            )));
        }
        if Instant::now() > deadline {
            return Err(Error::lesson(format!("{} never connected", client.name())));
        }
    }
}

/// Alex's side of step 4: one round trip, then "I am done sending" (a half-close), then wait
/// for the server to be done too.
fn wait_for_the_end(address: SocketAddr, wait: Duration, timed_out: &OwnedFd) -> io::Result<()> {
    let mut connection = TcpStream::connect(address)?;
    connection.write_all(b"bye")?;
    let reply = echo::read_reply(&mut connection, 3)?.unwrap_or_default();
    say!(
        "alex sent \"bye\" and got \"{}\"",
        String::from_utf8_lossy(&reply)
    );
    echo::stop_sending(&connection)?;
    match echo::wait_for_end(&mut connection, context::scaled(wait))? {
        Some(after) => say!(
            "alex: the server ended the conversation after {}",
            describe(after)
        ),
        None => say!(
            "alex: no end of the conversation after waiting {}: the connection is still open",
            describe(context::scaled(wait))
        ),
    }
    nix::unistd::write(timed_out, b"!")?;
    match echo::wait_for_end(&mut connection, context::scaled(Duration::from_secs(30)))? {
        Some(after) => say!(
            "alex: end of the conversation (read returned 0 bytes) {} after reporting",
            describe(after)
        ),
        None => say!("alex: still no end of the conversation"),
    }
    Ok(())
}

fn bind_again_after_time_wait() -> Result<()> {
    // The old server set SO_REUSEADDR, as servers do: Linux lets a new socket share a port with
    // a TIME_WAIT entry only when both the old socket and the new one set it.
    let listener = echo::listen_on(loopback_any_port(), true)?;
    let address = listener.local_addr()?;
    let port = address.port();
    let mut client = TcpStream::connect(address)?;
    let (server_side, _) = listener.accept()?;
    // The server hangs up first: the side that closes first is the one that waits in TIME_WAIT.
    drop(server_side);
    let mut byte = [0u8; 1];
    let got = io::Read::read(&mut client, &mut byte)?;
    drop(client);
    drop(listener);
    say!(
        "a server on port {port} accepted a connection and hung up first; \
         the client read {got} bytes (the end) and closed too; the server stopped listening"
    );
    // The last ACK crosses loopback at once; look for the entry for up to a second (not
    // scaled: the kernel's time, not the lesson's).
    let deadline = Instant::now() + Duration::from_secs(1);
    let mut states = procfs::tcp_sockets(port);
    while !states.iter().any(TcpSocket::is_time_wait) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
        states = procfs::tcp_sockets(port);
    }
    let in_time_wait = states.iter().any(TcpSocket::is_time_wait);
    let entries = if states.is_empty() {
        text!(en: "no entry", zh: "没有条目")
    } else {
        states
            .iter()
            .map(|socket| {
                let name = if socket.is_time_wait() {
                    "TIME_WAIT"
                } else {
                    "other"
                };
                text!(
                    en: "state {} ({name}), remote {}",
                    zh: "状态 {} ({name})，对端 {}",
                    socket.state,
                    socket.remote
                )
            })
            .collect::<Vec<_>>()
            .join(&text!(en: "; ", zh: "；"))
    };
    say!(
        en: "/proc/net/tcp for local port {port}: {entries}",
        zh: "/proc/net/tcp 中本地端口 {port} 的条目：{entries}"
    );
    let without = echo::listen_on(address, false);
    let with = echo::listen_on(address, true);
    let outcome = |result: &io::Result<TcpListener>| match result {
        Ok(_) => "succeeded".to_string(),
        Err(error) if error.raw_os_error() == Some(libc::EADDRINUSE) => {
            "failed with EADDRINUSE (Address already in use)".to_string()
        }
        Err(error) => format!("failed: {error}"),
    };
    say!(
        "bind to {address} without SO_REUSEADDR: {}",
        outcome(&without)
    );
    say!("bind to {address} with SO_REUSEADDR: {}", outcome(&with));
    let seen = if in_time_wait {
        text!(
            en: "The kernel still keeps port {port}'s last connection in TIME_WAIT (read above).",
            zh: "内核仍把端口 {port} 的上一个连接保留在 TIME_WAIT 状态（见上面读到的）。"
        )
    } else {
        text!(
            en: "On this run no TIME_WAIT entry for port {port} was seen.",
            zh: "这次运行中没有看到端口 {port} 的 TIME_WAIT 记录。"
        )
    };
    let without = in_a_note(&outcome(&without));
    let with = in_a_note(&outcome(&with));
    note!(
        en: "{seen} Binding the port again without SO_REUSEADDR {without}; with it, {with}. That \
             is why servers, the tutorial's included, set SO_REUSEADDR before bind: a restarted \
             server must not wait a minute for its old connections to expire. (Linux lets the \
             new socket share the port with the old connection only when both set \
             SO_REUSEADDR; the old server here did.) The TIME_WAIT entry belongs to no process; \
             the kernel drops it by itself after 60 s.",
        zh: "{seen}不设 SO_REUSEADDR 再次绑定这个端口，{without}；设了它，{with}。这就是服务器\
             （包括教程的）在 bind 之前设置 SO_REUSEADDR 的原因：重启的服务器不能等上一分钟，\
             等它的旧连接过期。（只有双方都设了 SO_REUSEADDR，Linux 才让新套接字和旧连接共用\
             这个端口；这里的旧服务器设了。）TIME_WAIT 记录不属于任何进程；内核在 60 s \
             之后自己删掉它。",
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Step 6: a handler still connected keeps the port, as TIME_WAIT does.

fn rebind_while_a_handler_holds_the_port() -> Result<()> {
    // First the lab's handler, which closes its copy of the listening socket; then one that
    // keeps it, as the tutorial's handlers do (nothing in them closes it).
    for keeps_listener in [false, true] {
        let listener = echo::listen_on(loopback_any_port(), true)?;
        let address = listener.local_addr()?;
        let port = address.port();
        // The main process is the client here: it holds the other end of the conversation.
        let mut client = TcpStream::connect(address)?;
        let (mut connection, peer) = listener.accept()?;
        let mut handler = if keeps_listener {
            let kept = listener.try_clone()?;
            let mut handler = Process::new(move || {
                // The tutorial's handler: its copy of the listening socket stays open.
                let _listening = &kept;
                echo::talk(&mut connection);
            })
            .named("tutorial-handler");
            handler.start()?;
            handler
        } else {
            fork::start_handler(connection, peer, listener.as_raw_fd(), "handler")?
        };
        // One round trip: once the reply is back, the handler is in its conversation (and the
        // lab's handler has closed its copy of the listening socket).
        client.write_all(b"ready?")?;
        echo::read_reply(&mut client, 6)?;
        // The server is gone: only the handler holds anything on the port now.
        drop(listener);
        let held: Vec<String> = procfs::tcp_sockets(port)
            .iter()
            .map(|socket| describe_tcp_state(&socket.state).to_string())
            .collect();
        let without = bind_outcome(echo::listen_on(address, false));
        let with = bind_outcome(echo::listen_on(address, true));
        let handler_pid = handler.pid().expect("started");
        say!(
            en: "server gone, {} {handler_pid} still connected; port {port} in /proc/net/tcp: {}",
            zh: "服务器已退出，{} {handler_pid} 仍连着；/proc/net/tcp 中端口 {port}：{}",
            handler.name(),
            held.join(&text!(en: ", ", zh: "、"))
        );
        say!("bind to {address} without SO_REUSEADDR: {without}");
        say!("bind to {address} with SO_REUSEADDR: {with}");
        // The handler was forked while the main process held the client's end, so it has a
        // copy of that too: closing ours would not end the conversation. shutdown() does, for
        // every copy.
        client.shutdown(std::net::Shutdown::Both)?;
        drop(client);
        handler.join()?;
        let (without_said, with_said) = (in_a_note(&without), in_a_note(&with));
        if keeps_listener {
            let binds = if with == without {
                text!(
                    en: "with SO_REUSEADDR or without: both binds {with_said}",
                    zh: "设不设 SO_REUSEADDR 都一样：两次绑定都{with_said}"
                )
            } else {
                text!(
                    en: "without SO_REUSEADDR it {without_said}, with it {with_said}",
                    zh: "不设 SO_REUSEADDR 时{without_said}，设了时{with_said}"
                )
            };
            let held = held.join(&text!(en: " and ", zh: " 和 "));
            note!(
                en: "tutorial-handler ({handler_pid}) kept its inherited copy of the listening \
                     socket, as the tutorial's handlers do: the port is still {held} in the \
                     kernel's eyes, and a new server cannot bind it, {binds}. Until every such \
                     handler has ended, the old program still owns the port: another reason for \
                     a handler to close the listening socket.",
                zh: "tutorial-handler（{handler_pid}）像教程的处理进程那样，留着继承来的监听套接字\
                     副本：在内核看来，这个端口仍是 {held}，新的服务器绑定不了它，{binds}。\
                     直到每一个这样的处理进程都结束之前，这个端口仍归旧程序所有：这是处理进程\
                     应该关闭监听套接字的又一个理由。",
            );
        } else {
            let held = held.join(", ");
            note!(
                en: "The server stopped listening, but its handler {handler_pid} is still in a \
                     conversation on port {port} ({held}). Binding the port again without \
                     SO_REUSEADDR {without_said}; with it, {with_said}. A server restarted while \
                     its old handlers still talk is the second reason the tutorial sets \
                     SO_REUSEADDR, beside TIME_WAIT.",
                zh: "服务器停止了监听，但它的处理进程 {handler_pid} 仍在端口 {port} 上对话\
                     （{held}）。不设 SO_REUSEADDR 再次绑定这个端口，{without_said}；设了它，\
                     {with_said}。在旧的处理进程还在对话时重启服务器，这是教程设置 \
                     SO_REUSEADDR 的第二个原因，除了 TIME_WAIT 之外。",
            );
        }
    }
    Ok(())
}

/// What became of a bind, in a few words (the listener, if any, is closed again at once).
fn bind_outcome(result: io::Result<TcpListener>) -> String {
    match result {
        Ok(_) => "succeeded".to_string(),
        Err(error) if error.raw_os_error() == Some(libc::EADDRINUSE) => {
            "failed with EADDRINUSE (Address already in use)".to_string()
        }
        Err(error) => format!("failed: {error}"),
    }
}

/// A bind's outcome, as `bind_outcome` puts it in the program's output, in the words of a note
/// in the language of the run.
fn in_a_note(outcome: &str) -> String {
    if outcome == "succeeded" {
        text!(en: "{outcome}", zh: "成功了")
    } else if outcome.contains("EADDRINUSE") {
        text!(en: "{outcome}", zh: "失败了，错误是 `EADDRINUSE`（地址已被占用）")
    } else {
        text!(en: "{outcome}", zh: "失败了（{outcome}）")
    }
}

/// The name of a state of /proc/net/tcp.
fn describe_tcp_state(state: &str) -> &'static str {
    match state {
        "01" => "ESTABLISHED",
        "06" => "TIME_WAIT",
        "08" => "CLOSE_WAIT",
        "0A" => "LISTEN",
        _ => "another state",
    }
}

// ---------------------------------------------------------------------------------------------
// Step 7: TCP keeps no boundaries between messages.

process_shared! {
    /// What the tutorial's client got for each of its lines: how many bytes, and the first one.
    #[derive(Default)]
    struct ByteStreamRecord {
        got: [AtomicU32; 3],
        first_byte: [AtomicU8; 3],
        /// Whether the client that reads whole replies got each one right.
        whole_replies_right: AtomicBool,
    }
}

/// The lines both clients send: one longer than the 1024 bytes a read takes, then two short.
fn stream_lines() -> [Vec<u8>; 3] {
    [vec![b'a'; 1500], b"b".to_vec(), b"c".to_vec()]
}

fn one_read_per_line_falls_behind() -> Result<()> {
    let listener = echo::listen_on(loopback_any_port(), true)?;
    let address = listener.local_addr()?;
    let mut server = start_server(listener, |listener| {
        let options = ServerOptions {
            max_clients: 4,
            reap: true,
            connections: Some(2),
            observe_handlers: false,
            guarded: None,
        };
        if let Err(error) = fork::serve_forking(listener, &options) {
            say!("the server failed: {error}");
        }
    })?;
    let record = SharedMemory::new(ByteStreamRecord::default())?;
    let in_alex = record.clone();
    let mut alex = Process::new(move || one_read_per_line(address, &in_alex)).named("alex");
    alex.start()?;
    alex.join()?;
    let in_wupeiqi = record.clone();
    let mut wupeiqi =
        Process::new(move || read_whole_replies(address, &in_wupeiqi)).named("wupeiqi");
    wupeiqi.start()?;
    wupeiqi.join()?;
    server.join()?;

    let got: Vec<u32> = record.got.iter().map(|n| n.load(SeqCst)).collect();
    let first: Vec<char> = record
        .first_byte
        .iter()
        .map(|b| b.load(SeqCst) as char)
        .collect();
    let behind = got[0] < 1500 && first[1] == 'A';
    let behind = if behind {
        text!(
            en: ", the rest of the previous reply: alex printed it as the answer to \"b\", one \
                 reply behind",
            zh: "，也就是上一个回复剩下的部分：alex 把它当成了对 b 的回答打印出来，落后了一个回复"
        )
    } else {
        String::new()
    };
    let fixed = if record.whole_replies_right.load(SeqCst) {
        text!(
            en: "every reply whole and in step",
            zh: "每个回复都完整，而且一一对应"
        )
    } else {
        text!(
            en: "yet some reply came out wrong",
            zh: "可还是有回复出了错"
        )
    };
    let left = 1500u32.saturating_sub(got[0]);
    let (got_a, got_b, got_c) = (got[0], got[1], got[2]);
    let (first_b, first_c) = (first[1], first[2]);
    note!(
        en: "alex, the tutorial's client, reads once, up to 1024 bytes, per line. Its 1500-byte \
             line came back as {got_a} bytes; the other {left} stayed in the socket. The read \
             for \"b\" then returned {got_b} bytes starting with '{first_b}'{behind}. TCP is a \
             byte stream (字节流): it keeps no boundaries between what was sent, and a read \
             returns whatever has arrived, up to its size. alex caught up at \"c\" ({got_c} \
             byte(s), '{first_c}') only because the leftover and the next reply fitted in one \
             read; with longer lines it stays behind. wupeiqi reads until it has as many bytes \
             as it sent (the server sends back exactly that many): {fixed}.",
        zh: "alex 是教程里的那种客户端，每行只读一次，最多 1024 字节。它那行 1500 字节的内容\
             回来时是 {got_a} 字节；另外 {left} 字节留在了套接字里。接着为 b 做的那次读取\
             返回了 {got_b} 字节，开头是 {first_b}{behind}。TCP 是字节流 (byte stream)：\
             它不保留发送内容之间的边界，一次读取返回已经到达的任何东西，最多到读取的大小。\
             alex 到 c 时跟上了（{got_c} 字节，'{first_c}'），只是因为剩下的部分和下一个\
             回复一次就读完了；行更长的话，它会一直落后。wupeiqi 一直读到收到的字节数和它\
             发出的一样多（服务器发回的正好是这么多）：{fixed}。",
    );
    Ok(())
}

/// How many bytes are waiting to be read on `connection` (`ioctl(FIONREAD)`).
fn available(connection: &TcpStream) -> usize {
    socket::bytes_waiting(connection).unwrap_or(0)
}

/// The tutorial's client: send a line, then one `recv(1024)`. Before reading it waits until
/// everything the server will send back has arrived (as when a person types the next line),
/// so that what one read returns does not depend on the timing of this run.
fn one_read_per_line(address: SocketAddr, record: &ByteStreamRecord) -> io::Result<()> {
    let mut connection = TcpStream::connect(address)?;
    let (mut sent, mut received) = (0usize, 0usize);
    for (i, line) in stream_lines().iter().enumerate() {
        connection.write_all(line)?;
        sent += line.len();
        let all_there = wait::poll_until(context::scaled(Duration::from_secs(10)), || {
            (available(&connection) >= sent - received).then_some(())
        });
        if all_there.is_none() {
            return Err(io::Error::other("the replies did not arrive"));
        }
        let mut buffer = [0u8; 1024];
        let got = io::Read::read(&mut connection, &mut buffer)?;
        received += got;
        record.got[i].store(got as u32, SeqCst);
        record.first_byte[i].store(buffer[0], SeqCst);
        say!(
            "alex sent {} and got {}",
            preview(line),
            preview(&buffer[..got])
        );
    }
    Ok(())
}

/// The fix: read until the whole reply is in.
fn read_whole_replies(address: SocketAddr, record: &ByteStreamRecord) -> io::Result<()> {
    let mut connection = TcpStream::connect(address)?;
    let mut all_right = true;
    for line in stream_lines() {
        connection.write_all(&line)?;
        let reply = echo::read_reply(&mut connection, line.len())?.unwrap_or_default();
        all_right &= reply == line.to_ascii_uppercase();
        say!(
            "wupeiqi sent {} and got {}",
            preview(&line),
            preview(&reply)
        );
    }
    record.whole_replies_right.store(all_right, SeqCst);
    Ok(())
}

/// `1500 bytes "aaaaaaaa..."`: a length and the first few bytes.
fn preview(bytes: &[u8]) -> String {
    let shown = String::from_utf8_lossy(&bytes[..bytes.len().min(8)]);
    let more = if bytes.len() > 8 { "..." } else { "" };
    format!("{} byte(s) \"{shown}{more}\"", bytes.len())
}
