//! Lesson 1: three children from one function.
//!
//! What the student sees: the main process (主进程) forks three children that run the same
//! function with different arguments; `start()` returns at once, so the main process's own
//! line comes before any child is done; the three sleeps overlap, so the wall time is close to
//! the longest sleep, not their sum; `join()` waits for one child and reaps it;
//! `join(timeout)` returns when the time is up, with the child still alive.
//!
//! System calls: `fork` (in `Process::start`), `pidfd_open` + `poll` to watch the children end
//! without reaping them, `waitpid` (in `Process::join`), and `/proc/<pid>/stat` to confirm each
//! child's parent.

use std::time::{Duration, Instant};

use rand::RngExt;

use crate::runtime::context;
use crate::error::Result;
use crate::lab::{Lab, describe};
use crate::multiprocessing::process::{self, Process};
use crate::runtime::procfs;
use crate::{note, say};

pub const TITLE: &str = "Spawning processes from a function";
pub const TEACHES: &str = "Process(target, kwargs), start() returns at once, overlap, join()";
pub const NOTES: &str = include_str!("notes.md");

/// The target's arguments. A struct with named fields is Rust's keyword arguments: it plays
/// the part of the tutorial's `kwargs={'name': 'alex'}`.
struct WorkArgs {
    name: &'static str,
    sleep: Duration,
}

/// The target: what each child runs. It runs in the child's own process.
fn work(args: WorkArgs) {
    say!(
        "{} is working (sleeping {} s)",
        args.name,
        args.sleep.as_secs()
    );
    context::sleep(args.sleep);
    say!("{} is done", args.name);
}

pub fn run(lab: &mut Lab) -> Result<()> {
    let main_pid = nix::unistd::getpid();
    let names = ["alex", "wupeiqi", "yuanhao"];

    lab.step("Three children from one function")?;
    // The parent draws the random sleeps (1 to 3 s, as in the tutorial) so that one seed
    // replays the same run; each child gets its own as an argument.
    let sleeps: Vec<Duration> = names
        .iter()
        .map(|_| Duration::from_secs(lab.rng().random_range(1..=3)))
        .collect();
    let mut children: Vec<Process> = names
        .iter()
        .zip(&sleeps)
        .map(|(&name, &sleep)| Process::new(move || work(WorkArgs { name, sleep })).named(name))
        .collect();
    let started_at = Instant::now();
    let mut pids = Vec::new();
    for child in &mut children {
        pids.push(child.start()?);
    }
    let start_calls_took = started_at.elapsed();
    say!("主进程 / main process");
    let still_running = children.iter().filter(|c| c.is_alive()).count();
    note!(
        "The three start() calls returned after {} in all: start() forks and comes straight \
         back, it does not wait for the child. When the main process printed its line, {} of \
         the 3 children were still running.",
        describe(start_calls_took),
        still_running
    );
    let mut parents_seen = Vec::new();
    for (child, &pid) in children.iter().zip(&pids) {
        if let Some(stat) = procfs::observe(pid) {
            parents_seen.push(format!(
                "{} is pid {pid} with parent {}",
                child.name(),
                stat.ppid
            ));
        }
    }
    let all_ours = children.iter().zip(&pids).all(|(child, &pid)| {
        procfs::stat(pid).is_some_and(|s| s.ppid == main_pid) || !child.is_alive()
    });
    note!(
        "Read from /proc: {}. {} Each child is a new process (进程) with its own pid; its parent \
         pid (父进程 id) is the process that forked it.",
        parents_seen.join("; "),
        if all_ours {
            format!("Every parent pid is {main_pid}, the main process.")
        } else {
            "Not every parent pid is the main process's: something re-parented a child.".into()
        }
    );

    lab.step("They run at the same time")?;
    // Python's `multiprocessing.connection.wait`: wake up as soon as any of the children
    // still running has ended, note when, and wait for the rest (without reaping them).
    let mut finish_order: Vec<(usize, Duration)> = Vec::new();
    while finish_order.len() < children.len() {
        let running: Vec<usize> = (0..children.len())
            .filter(|i| !finish_order.iter().any(|(done, _)| done == i))
            .collect();
        let watched: Vec<&Process> = running.iter().map(|&i| &children[i]).collect();
        for ended in process::wait(&watched, Duration::from_secs(30)) {
            finish_order.push((running[ended], started_at.elapsed()));
        }
    }
    let wall = started_at.elapsed();
    let slept: Duration = sleeps.iter().map(|&s| context::scaled(s)).sum();
    let longest = sleeps
        .iter()
        .map(|&s| context::scaled(s))
        .max()
        .unwrap_or_default();
    let order: Vec<String> = finish_order
        .iter()
        .map(|(i, at)| {
            format!(
                "{} (slept {} s, ended at {})",
                names[*i],
                sleeps[*i].as_secs(),
                describe(*at)
            )
        })
        .collect();
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let verdict = if wall < slept.mul_f64(0.9) {
        format!(
            "close to the longest sleep ({}), not the sum: the children's lives overlapped. \
             That is concurrency (并发). Parallelism (并行), running at the same instant on \
             different CPUs ({cpus} here), cannot be told from sleeps: a sleeping process uses \
             no CPU at all.",
            describe(longest)
        )
    } else {
        "about the sum: on this run the children did not overlap (a very busy machine?).".into()
    };
    note!(
        "{} of sleeping done in {} of wall time: {verdict} They ended in this order: {}.",
        describe(slept),
        describe(wall),
        order.join(", ")
    );

    lab.step("join() waits for a child and reaps it")?;
    for (child, &pid) in children.iter_mut().zip(&pids) {
        let before = procfs::stat(pid).map(|s| s.state);
        let join_began = Instant::now();
        let code = child.join()?;
        let waited = join_began.elapsed();
        let after = procfs::observe(pid);
        let how = match before {
            Some('Z') => format!(
                "returned after {}: {} had already ended and was waiting as a zombie (僵尸进程, \
                 state Z in /proc) for its parent to collect its exit status",
                describe(waited),
                child.name()
            ),
            _ => format!("waited {} for {} to end", describe(waited), child.name()),
        };
        note!(
            "join() on {} (pid {pid}) {how}. It got exitcode {code} (退出码), and {}.",
            child.name(),
            if after.is_none() {
                "now /proc has no entry for the pid: the child is reaped (回收)"
            } else {
                "yet /proc still lists the pid"
            }
        );
    }
    let codes: Vec<String> = children
        .iter()
        .map(|c| {
            format!(
                "{} {}",
                c.name(),
                c.exitcode().map_or("none".into(), |c| c.to_string())
            )
        })
        .collect();
    say!("all children are done");
    note!(
        "All three are joined ({}). join() makes the *caller* wait for *that one* child; the \
         tutorial says it makes \"the main thread\" wait, which is only true because here the \
         caller happens to be the main process's only thread.",
        codes.join(", ")
    );

    lab.step("join(timeout) gives up; the child runs on")?;
    join_with_a_timeout()
}

/// Step 4, Python's `p.join(0.5)`: the wait ends when the time is up, whether or not the child
/// has; nothing says which, so the caller asks `is_alive()` or `exitcode` afterwards.
fn join_with_a_timeout() -> Result<()> {
    let patience = Duration::from_millis(500);
    let sleep = Duration::from_secs(2);
    let mut alex = Process::new(move || work(WorkArgs { name: "alex", sleep })).named("alex");
    let pid = alex.start()?;
    let began = Instant::now();
    // `None`: the time ran out first. (Python's join returns None either way.)
    let ended_in_time = alex.join_timeout(patience)?;
    let waited = began.elapsed();
    let (alive, code) = (alex.is_alive(), alex.exitcode());
    say!(
        "join(timeout) returned after {}: is_alive() {alive}, exitcode {}",
        describe(waited),
        python(code)
    );
    let state = procfs::observe(pid).map_or('?', |stat| stat.state);
    let code = alex.join()?;
    let total = began.elapsed();
    say!(
        "join() returned after {}: is_alive() {}, exitcode {code}",
        describe(total),
        alex.is_alive()
    );
    let verdict = match ended_in_time {
        None => format!(
            "join(timeout) gave up after {} (timeout {}; alex sleeps {}) and returned without \
             an error: alex (pid {pid}) was still alive (state {state} in /proc), its exitcode \
             still None",
            describe(waited),
            describe(context::scaled(patience)),
            describe(context::scaled(sleep))
        ),
        Some(code) => format!("alex ended within the timeout (exitcode {code})"),
    };
    note!(
        "{verdict}. A timeout is not an ending: only the join() without one, {} after the \
         start, waited for the end and reaped alex (exitcode {code}). The tutorial lists \
         join([timeout]) but shows no example of it.",
        describe(total)
    );
    Ok(())
}

/// An exitcode as Python prints it: `None`, `0`, `-15`.
fn python(exitcode: Option<i32>) -> String {
    exitcode.map_or("None".to_string(), |code| code.to_string())
}
