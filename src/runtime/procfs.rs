//! Reading process state from `/proc`, the kernel's own view of every process.
//!
//! `/proc/<pid>/stat` is one line: `pid (comm) state ppid pgrp ...`. The name (`comm`) may hold
//! spaces and parentheses, so it is found between the first `(` and the *last* `)`.

use std::fs;

use nix::unistd::Pid;

use crate::i18n::Text;
use crate::runtime::context;
use crate::runtime::event::Kind;

/// One line of `/proc/<pid>/stat`, the fields the lab uses.
#[derive(Debug, Clone, PartialEq)]
pub struct Stat {
    pub pid: Pid,
    /// The kernel's name for the process (at most 15 bytes).
    pub comm: String,
    /// `R` running, `S` sleeping, `D` waiting on I/O, `T` stopped, `Z` zombie ...
    pub state: char,
    pub ppid: Pid,
    /// The process group.
    pub pgrp: Pid,
}

/// How many threads this process has, as the kernel counts them: all of them, the lab's
/// `Thread`s, `std::thread`'s (a `scope`'s too) and any a library started; `None` if `/proc`
/// cannot be read. `Process::start` asks before every fork, so this is one `stat` call with no
/// text to format or parse: the kernel gives `/proc/self/task` a link count of 2 plus one per
/// thread (the same count as field 20 of `/proc/self/stat`).
pub fn threads_of_this_process() -> Option<usize> {
    let task = nix::sys::stat::stat(c"/proc/self/task").ok()?;
    (task.st_nlink as usize).checked_sub(2)
}

/// Reads `/proc/<pid>/stat`; `None` once the process is gone (reaped).
pub fn stat(pid: Pid) -> Option<Stat> {
    parse_stat(&fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

fn parse_stat(line: &str) -> Option<Stat> {
    let open = line.find('(')?;
    let close = line.rfind(')')?;
    let pid = Pid::from_raw(line[..open].trim().parse().ok()?);
    let comm = line[open + 1..close].to_string();
    let mut rest = line[close + 1..].split_whitespace();
    let state = rest.next()?.chars().next()?;
    let ppid = Pid::from_raw(rest.next()?.parse().ok()?);
    let pgrp = Pid::from_raw(rest.next()?.parse().ok()?);
    Some(Stat {
        pid,
        comm,
        state,
        ppid,
        pgrp,
    })
}

/// Every process on the machine, as far as `/proc` shows them right now.
pub fn all_processes() -> Vec<Stat> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .map(Pid::from_raw)
        .filter_map(stat)
        .collect()
}

/// Every process below `ancestor` in the process tree (children, their children ...).
pub fn descendants(ancestor: Pid) -> Vec<Stat> {
    let everyone = all_processes();
    let mut found: Vec<Stat> = Vec::new();
    let mut frontier = vec![ancestor];
    while let Some(parent) = frontier.pop() {
        for process in everyone.iter().filter(|p| p.ppid == parent) {
            if !found.iter().any(|f| f.pid == process.pid) {
                frontier.push(process.pid);
                found.push(process.clone());
            }
        }
    }
    found
}

/// The direct children of `parent` that are zombies right now.
pub fn zombie_children(parent: Pid) -> Vec<Stat> {
    all_processes()
        .into_iter()
        .filter(|p| p.ppid == parent && p.state == 'Z')
        .collect()
}

/// Reads the state of `pid` from `/proc` and reports it as a `state` event; returns what it
/// read (`None`: the process is gone).
pub fn observe(pid: Pid) -> Option<Stat> {
    let seen = stat(pid);
    context::emit(Kind::State {
        of: pid.as_raw(),
        state: seen
            .as_ref()
            .map_or("gone".to_string(), |s| s.state.to_string()),
        ppid_of: seen.as_ref().map(|s| s.ppid.as_raw()),
    });
    seen
}

/// One IPv4 TCP socket from `/proc/net/tcp`.
#[derive(Debug, Clone, PartialEq)]
pub struct TcpSocket {
    pub local_port: u16,
    /// The remote address, as the kernel writes it (hex).
    pub remote: String,
    /// The state as the kernel numbers it: `01` ESTABLISHED, `06` TIME_WAIT, `0A` LISTEN ...
    pub state: String,
}

impl TcpSocket {
    pub fn is_time_wait(&self) -> bool {
        self.state == "06"
    }
}

/// The IPv4 TCP sockets on this machine whose local port is `port` (`/proc/net/tcp`).
pub fn tcp_sockets(port: u16) -> Vec<TcpSocket> {
    let table = fs::read_to_string("/proc/net/tcp").unwrap_or_default();
    table
        .lines()
        .skip(1)
        .filter_map(parse_tcp_line)
        .filter(|s| s.local_port == port)
        .collect()
}

fn parse_tcp_line(line: &str) -> Option<TcpSocket> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let local = fields.get(1)?;
    let local_port = u16::from_str_radix(local.split(':').nth(1)?, 16).ok()?;
    Some(TcpSocket {
        local_port,
        remote: fields.get(2)?.to_string(),
        state: fields.get(3)?.to_string(),
    })
}

/// What a state letter means, for notes, in the language of the run.
pub fn describe_state(state: char) -> &'static str {
    let meaning = match state {
        'R' => Text {
            en: "running",
            zh: "运行中",
        },
        'S' => Text {
            en: "sleeping: waiting for an event",
            zh: "睡眠：在等待某个事件",
        },
        'D' => Text {
            en: "waiting, uninterruptibly",
            zh: "不可中断的等待",
        },
        'T' | 't' => Text {
            en: "stopped",
            zh: "已暂停",
        },
        'Z' => Text {
            en: "zombie: exited, not yet reaped",
            zh: "僵尸：已退出，还没被回收",
        },
        'X' => Text {
            en: "dead",
            zh: "已死亡",
        },
        'I' => Text {
            en: "idle",
            zh: "空闲",
        },
        _ => Text {
            en: "unknown",
            zh: "未知",
        },
    };
    meaning.get()
}

/// The last minute's load average and the number of CPUs, when the load is over twice the
/// CPUs: a machine so busy that a process may be kept off the CPU for most of a second, where
/// timing cannot be judged (an exercise's time limit, a test's timing claim).
pub fn overloaded() -> Option<(f64, usize)> {
    let load: f64 = std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    (load > 2.0 * cpus as f64).then_some((load, cpus))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The link count of `/proc/self/task` and field 20 of `/proc/self/stat` agree (read a few
    /// times: the test harness may start or end a thread between the two reads).
    #[test]
    fn the_thread_count_is_the_kernels() {
        let agree = (0..100).any(|_| {
            let counted = threads_of_this_process();
            let line = fs::read_to_string("/proc/self/stat").unwrap();
            let after_name = &line[line.rfind(')').unwrap() + 2..];
            let field_20: usize = after_name.split(' ').nth(17).unwrap().parse().unwrap();
            counted == Some(field_20) && threads_of_this_process() == Some(field_20)
        });
        assert!(agree);
    }

    #[test]
    fn parses_a_name_with_spaces_and_parentheses() {
        let line = "42 (my (odd) name) S 7 42 42 0 -1 4194560";
        assert_eq!(
            parse_stat(line),
            Some(Stat {
                pid: Pid::from_raw(42),
                comm: "my (odd) name".into(),
                state: 'S',
                ppid: Pid::from_raw(7),
                pgrp: Pid::from_raw(42),
            })
        );
    }

    #[test]
    fn reads_this_process() {
        let me = stat(nix::unistd::getpid()).expect("our own stat");
        assert_eq!(me.ppid, nix::unistd::getppid());
        assert!(stat(Pid::from_raw(-5)).is_none());
    }

    #[test]
    fn parses_a_tcp_line() {
        let line = "   1: 0100007F:1F91 0100007F:D2B4 06 00000000:00000000 03:00000F9B 00000000     0        0 0 3 0000000000000000";
        let socket = parse_tcp_line(line).expect("a socket");
        assert_eq!(socket.local_port, 0x1F91);
        assert!(socket.is_time_wait());
    }
}
