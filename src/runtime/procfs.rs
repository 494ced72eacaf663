//! Reading process state from `/proc`, the kernel's own view of every process.
//!
//! `/proc/<pid>/stat` is one line: `pid (comm) state ppid pgrp ...`. The name (`comm`) may hold
//! spaces and parentheses, so it is found between the first `(` and the *last* `)`.

use std::fs;

use crate::runtime::context;
use crate::runtime::event::Kind;

/// One line of `/proc/<pid>/stat`, the fields the lab uses.
#[derive(Debug, Clone, PartialEq)]
pub struct Stat {
    pub pid: i32,
    /// The kernel's name for the process (at most 15 bytes).
    pub comm: String,
    /// `R` running, `S` sleeping, `D` waiting on I/O, `T` stopped, `Z` zombie ...
    pub state: char,
    pub ppid: i32,
    /// The process group.
    pub pgrp: i32,
}

/// Reads `/proc/<pid>/stat`; `None` once the process is gone (reaped).
pub fn stat(pid: i32) -> Option<Stat> {
    parse_stat(&fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

fn parse_stat(line: &str) -> Option<Stat> {
    let open = line.find('(')?;
    let close = line.rfind(')')?;
    let pid = line[..open].trim().parse().ok()?;
    let comm = line[open + 1..close].to_string();
    let mut rest = line[close + 1..].split_whitespace();
    let state = rest.next()?.chars().next()?;
    let ppid = rest.next()?.parse().ok()?;
    let pgrp = rest.next()?.parse().ok()?;
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
        .filter_map(stat)
        .collect()
}

/// Every process below `ancestor` in the process tree (children, their children ...).
pub fn descendants(ancestor: i32) -> Vec<Stat> {
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
pub fn zombie_children(parent: i32) -> Vec<Stat> {
    all_processes()
        .into_iter()
        .filter(|p| p.ppid == parent && p.state == 'Z')
        .collect()
}

/// Reads the state of `pid` from `/proc` and reports it as a `state` event; returns what it
/// read (`None`: the process is gone).
pub fn observe(pid: i32) -> Option<Stat> {
    let seen = stat(pid);
    context::emit(Kind::State {
        of: pid,
        state: seen
            .as_ref()
            .map_or("gone".to_string(), |s| s.state.to_string()),
        ppid_of: seen.as_ref().map(|s| s.ppid),
    });
    seen
}

/// What a state letter means, for notes.
pub fn describe_state(state: char) -> &'static str {
    match state {
        'R' => "running",
        'S' => "sleeping: waiting for an event",
        'D' => "waiting, uninterruptibly",
        'T' | 't' => "stopped",
        'Z' => "zombie: exited, not yet reaped",
        'X' => "dead",
        'I' => "idle",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_name_with_spaces_and_parentheses() {
        let line = "42 (my (odd) name) S 7 42 42 0 -1 4194560";
        assert_eq!(
            parse_stat(line),
            Some(Stat {
                pid: 42,
                comm: "my (odd) name".into(),
                state: 'S',
                ppid: 7,
                pgrp: 42,
            })
        );
    }

    #[test]
    fn reads_this_process() {
        let me = stat(std::process::id() as i32).expect("our own stat");
        assert_eq!(me.ppid, nix::unistd::getppid().as_raw());
        assert!(stat(-5).is_none());
    }
}
