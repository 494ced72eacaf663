//! Exercise 3's judge: a forking echo server that leaves nothing behind. The lab is the client
//! (`proclab load --connections`' code): 50 clients one after the other, each one round trip,
//! then closed. Then it asks the kernel, not the server: the server's zombie children, and the
//! connection sockets still open in it (`/proc/<pid>/fd` against `/proc/net/tcp`).

use std::net::{Ipv4Addr, SocketAddr, TcpListener};

use crate::exercise::prelude::*;
use crate::tools::load;

const CLIENTS: u64 = 50;

/// What the driver found, in `/proc` and as the client.
#[derive(Default, Clone)]
struct Found {
    /// The server's pid, once it listened.
    server: Option<i32>,
    answered: u64,
    first_error: Option<String>,
    /// Descriptors the server had open before the clients, and after them.
    fds_before: usize,
    fds_after: usize,
    /// Zombie children of the server once the clients had left.
    zombies: Vec<i32>,
    /// Connection sockets open in the server after the clients left: fd, and its TCP state.
    connections: Vec<(String, String)>,
    /// What the descriptors open after the clients and not before are: `pipe` ×100 ...
    more: Vec<(String, usize)>,
}

pub fn check(judge: &mut Judge) -> Result<Verdict> {
    let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port();
    let found = Arc::new(Mutex::new(Found::default()));
    let driver_found = found.clone();
    let scenario = Scenario::new()
        .env("PROCLAB_PORT", port)
        .driver(move |live| {
            let result = drive(live, port);
            *driver_found.lock().unwrap() = result;
        })
        .stop_when_driven();
    let run = judge.run(scenario)?;
    let found = found.lock().unwrap().clone();
    if let Some(stopped) = run.stopped(1, 3) {
        return Ok(stopped);
    }
    if let Ending::Exited(code) = run.ending {
        let code = describe_exitcode(code);
        let why = run.failed(1, 1).map(|v| v.why).unwrap_or_default();
        return Ok(Verdict::fail(text!(
            en: "the server ended by itself (exit code {code}) before the lab was done with it: \
                 a server serves until it is stopped. {why}",
            zh: "服务器在 proclab 测完之前自己结束了（退出码 {code}）：服务器应该一直服务到被停止。{why}",
        ))
        .hint(1)
        .shown_in_step(1));
    }
    let Some(server) = found.server else {
        return Ok(Verdict::fail(text!(
            en: "the server never listened on 127.0.0.1:{port} (the port in PROCLAB_PORT)",
            zh: "服务器始终没有在 127.0.0.1:{port}（PROCLAB_PORT 给出的端口）上监听",
        ))
        .hint(1)
        .shown_in_step(1));
    };
    if found.answered < CLIENTS {
        let (answered, error) = (found.answered, found.first_error.unwrap_or_default());
        return Ok(Verdict::fail(text!(
            en: "the server answered {answered} of the {CLIENTS} clients: {error}",
            zh: "服务器只回应了 {CLIENTS} 个客户端中的 {answered} 个：{error}",
        ))
        .hint(2)
        .shown_in_step(1));
    }
    // Every problem found is said; the first one's hint leads.
    let mut problems: Vec<(String, usize, u32)> = Vec::new();
    if !found.zombies.is_empty() {
        let described: Vec<String> = found
            .zombies
            .iter()
            .map(|pid| match run.processes.iter().find(|p| p.pid == *pid) {
                Some(life) => {
                    let ended = life.ended.map_or(run.last, |(t, _)| t);
                    text!(
                        en: "pid {pid} ({}) ended at {ended:.2} s and was never waited for",
                        zh: "pid {pid}（{}）在 {ended:.2} 秒结束，从没有被等待",
                        life.name,
                    )
                }
                None => format!("pid {pid}"),
            })
            .collect();
        let (n, described) = (found.zombies.len(), list_of(&described));
        problems.push((
            text!(
                en: "{n} zombie(s) left after {CLIENTS} clients (/proc: children of the server \
                     {server} in state Z): {described}",
                zh: "{CLIENTS} 个客户端之后留下 {n} 个僵尸进程（/proc：服务器 {server} 的 Z 状态\
                     子进程）：{described}",
            ),
            1,
            3,
        ));
    }
    if !found.connections.is_empty() {
        let listed: Vec<String> = found
            .connections
            .iter()
            .map(|(fd, state)| format!("fd {fd} ({state})"))
            .collect();
        let (n, listed) = (found.connections.len(), list_of(&listed));
        problems.push((
            text!(
                en: "the server {server} still held {n} connection socket(s) after all \
                     {CLIENTS} clients had left (/proc/{server}/fd): {listed}",
                zh: "所有 {CLIENTS} 个客户端都走了之后，服务器 {server} 仍持有 {n} 个连接套接字\
                     （/proc/{server}/fd）：{listed}",
            ),
            2,
            4,
        ));
    } else if found.fds_after > found.fds_before {
        let (before, after) = (found.fds_before, found.fds_after);
        let kinds: Vec<String> = found
            .more
            .iter()
            .map(|(kind, n)| format!("{kind} ×{n}"))
            .collect();
        let kinds = list_of(&kinds);
        // multiprocessing keeps a pipe to each child it started, until it has seen it end.
        let pipes = match found.more.iter().any(|(kind, _)| kind == "pipe") {
            true => text!(
                en: " (multiprocessing keeps a pipe to each child it has not seen end)",
                zh: "（multiprocessing 为每个它还没看到结束的子进程保留一个管道）",
            ),
            false => String::new(),
        };
        problems.push((
            text!(
                en: "the server {server} had {after} descriptors open after the clients, \
                     {before} before them (/proc/{server}/fd): {kinds} more, leaked{pipes}",
                zh: "服务器 {server} 在客户端之后开着 {after} 个描述符，之前是 {before} 个\
                     （/proc/{server}/fd）：多出 {kinds}，泄漏了{pipes}",
            ),
            1,
            3,
        ));
    }
    if let Some((_, hint, step)) = problems.first().cloned() {
        let why: Vec<String> = problems.into_iter().map(|(why, _, _)| why).collect();
        return Ok(
            Verdict::fail(why.join(text!(en: "; and ", zh: "；此外").as_str()))
                .hint(hint)
                .shown_in_step(step),
        );
    }
    let handlers = run.children_of(server).len();
    let (before, after) = (found.fds_before, found.fds_after);
    Ok(Verdict::pass(text!(
        en: "{CLIENTS} clients answered by {handlers} handler process(es); afterwards the server \
             {server} had 0 zombie children and no connection socket open, {after} descriptors \
             as before the clients ({before}) (/proc)",
        zh: "{CLIENTS} 个客户端由 {handlers} 个处理进程回应；之后服务器 {server} 没有僵尸子进程，\
             也没有开着的连接套接字，描述符 {after} 个，与客户端来之前（{before} 个）相同（/proc）",
    )))
}

/// The lab's side: wait for the server to listen, send the clients, let the handlers end,
/// then read `/proc`.
fn drive(live: &Live, port: u16) -> Found {
    let mut found = Found::default();
    let listening = || {
        procfs::tcp_sockets(port)
            .iter()
            .any(|socket| socket.state == "0A")
    };
    while !listening() {
        if live.time_left().is_zero() {
            return found;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let Some(server) = live.program_pid() else {
        return found;
    };
    let server = server.as_raw();
    found.server = Some(server);
    let found_before = descriptors(server);
    found.fds_before = found_before.len();
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let time = live.time_left().saturating_sub(Duration::from_secs(3));
    match load::connect_one_by_one(address, CLIENTS, time) {
        Ok((answered, error)) => (found.answered, found.first_error) = (answered, error),
        Err(error) => found.first_error = Some(error.to_string()),
    }
    // The handlers end as their clients leave: at most 2 s for the last ones to finish.
    for _ in 0..40 {
        let running = procfs::all_processes()
            .iter()
            .any(|p| p.ppid.as_raw() == server && p.state != 'Z');
        if !running {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // A server that reaps on SIGCHLD does so a moment after the last handler ends (its
    // handler runs once accept() is interrupted): give it a second to reap and let go of
    // what it held, and judge what is left after that.
    for _ in 0..20 {
        let reaped = procfs::zombie_children(Pid::from_raw(server)).is_empty();
        if reaped && descriptors(server).len() <= found.fds_before {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    found.zombies = procfs::zombie_children(Pid::from_raw(server))
        .iter()
        .map(|p| p.pid.as_raw())
        .collect();
    let before: Vec<String> = found_before.iter().map(|(fd, _)| fd.clone()).collect();
    let fds = descriptors(server);
    found.fds_after = fds.len();
    for (fd, link) in &fds {
        if before.contains(fd) {
            continue;
        }
        let kind = link.split(':').next().unwrap_or("file").to_string();
        match found.more.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, n)) => *n += 1,
            None => found.more.push((kind, 1)),
        }
    }
    let tcp = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
    for (fd, link) in fds {
        let Some(inode) = link
            .strip_prefix("socket:[")
            .and_then(|l| l.strip_suffix(']'))
        else {
            continue;
        };
        // /proc/net/tcp: local address, remote, state, ..., the socket's inode (10th field).
        let row = tcp.lines().skip(1).find_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            (fields.get(9) == Some(&inode)).then(|| fields[3].to_string())
        });
        if let Some(state) = row.filter(|state| state != "0A") {
            let state = match state.as_str() {
                "01" => "ESTABLISHED",
                "08" => "CLOSE_WAIT: its client has left",
                _ => "connected",
            };
            found.connections.push((fd, state.to_string()));
        }
    }
    found
}

/// The server's open descriptors: number, and what each is (`socket:[1234]`).
fn descriptors(pid: i32) -> Vec<(String, String)> {
    let Ok(entries) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let link = std::fs::read_link(entry.path()).ok()?;
            Some((
                entry.file_name().to_string_lossy().into_owned(),
                link.to_string_lossy().into_owned(),
            ))
        })
        .collect()
}
