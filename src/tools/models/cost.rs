//! What a server costs while it serves, read from `/proc` (the kernel's own accounts):
//! processes (the server and its descendants), threads (`/proc/<pid>/task`), open descriptors
//! (`/proc/<pid>/fd`), memory (PSS, `/proc/<pid>/smaps_rollup`: each page divided among the
//! processes that share it, so a tree's figures add up) and CPU time (`/proc/<pid>/stat`).

use std::fs;

use nix::unistd::Pid;

use crate::runtime::procfs;

/// One reading of a server's whole process tree.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Cost {
    pub processes: usize,
    pub threads: usize,
    pub descriptors: usize,
    /// Proportional set size, in KiB.
    pub pss_kib: u64,
    /// CPU time in clock ticks: user + system, of the server and of its ended (reaped)
    /// children.
    pub cpu_ticks: u64,
}

impl Cost {
    /// The larger of each figure (CPU: the later reading, which is the larger).
    pub fn most(self, other: Cost) -> Cost {
        Cost {
            processes: self.processes.max(other.processes),
            threads: self.threads.max(other.threads),
            descriptors: self.descriptors.max(other.descriptors),
            pss_kib: self.pss_kib.max(other.pss_kib),
            cpu_ticks: self.cpu_ticks.max(other.cpu_ticks),
        }
    }
}

/// Reads the cost of `root` and everything below it; `None` once `root` is gone.
pub fn of_tree(root: Pid) -> Option<Cost> {
    let root_cpu = cpu_ticks(root)?;
    let mut cost = Cost {
        cpu_ticks: root_cpu,
        ..Cost::default()
    };
    let below = procfs::descendants(root);
    for pid in std::iter::once(root).chain(below.iter().map(|p| p.pid)) {
        cost.processes += 1;
        cost.threads += count_entries(&format!("/proc/{pid}/task")).max(1);
        cost.descriptors += count_entries(&format!("/proc/{pid}/fd"));
        cost.pss_kib += pss_kib(pid).unwrap_or(0);
        if pid != root {
            // A live child's own time (its ended children count in its cutime already).
            cost.cpu_ticks += own_cpu_ticks(pid).unwrap_or(0);
        }
    }
    Some(cost)
}

/// Clock ticks per second (`sysconf(_SC_CLK_TCK)`, 100 on Linux): the unit of `/proc/<pid>/stat`'s
/// times.
pub fn ticks_per_second() -> u64 {
    // SAFETY: sysconf only reads a constant of the system.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 { ticks as u64 } else { 100 }
}

/// `utime + stime + cutime + cstime` of `pid`: its CPU time and that of its reaped children.
pub fn cpu_ticks(pid: Pid) -> Option<u64> {
    let fields = stat_fields(pid)?;
    Some(fields[11..15].iter().sum())
}

/// `utime + stime` of `pid` alone (every thread of it).
pub fn own_cpu_ticks(pid: Pid) -> Option<u64> {
    let fields = stat_fields(pid)?;
    Some(fields[11] + fields[12])
}

/// The numeric fields of `/proc/<pid>/stat` after the name, from field 3 (the state, read as
/// 0) on: index 11 is field 14, `utime`.
fn stat_fields(pid: Pid) -> Option<Vec<u64>> {
    let line = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &line[line.rfind(')')? + 1..];
    Some(
        after_name
            .split_whitespace()
            .map(|field| field.parse().unwrap_or(0))
            .collect::<Vec<u64>>(),
    )
    .filter(|fields| fields.len() > 15)
}

fn pss_kib(pid: Pid) -> Option<u64> {
    let rollup = fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    let line = rollup.lines().find(|line| line.starts_with("Pss:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn count_entries(dir: &str) -> usize {
    fs::read_dir(dir).map_or(0, |entries| entries.count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let me = nix::unistd::getpid();
        let cost = of_tree(me).expect("our own /proc entry");
        assert!(cost.processes >= 1 && cost.threads >= 1 && cost.descriptors >= 3);
        assert!(cost.pss_kib > 0);
        assert!(cpu_ticks(me).is_some());
        assert_eq!(of_tree(Pid::from_raw(-5)), None);
    }
}
