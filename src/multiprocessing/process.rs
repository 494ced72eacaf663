//! `Process`: Python's `multiprocessing.Process`, over a real `fork(2)`.
//!
//! ```ignore
//! let mut p = Process::new(move || piao("alex", seconds)).named("alex");
//! p.start()?;          // fork: the closure runs in a new pid
//! p.join()?;           // waitpid: the caller waits for *that* child, and reaps it
//! assert_eq!(p.exitcode(), Some(0));
//! ```
//!
//! The subclass style of the tutorial (override `run`) is the [`Worker`] trait, which the same
//! `Process` runs. What the API does, and where it differs from Python:
//! - `start()` forks; the child runs the target, then does what Python's child does on its way
//!   out (terminates its daemon children, joins the others; a note says which), and leaves
//!   with `_exit`.
//! - A panic in the target becomes exit code 1 in that child, as an exception does in Python.
//! - `join()` is the only call that reaps. `is_alive()` and `exitcode()` look without reaping
//!   (`waitid` with `WNOWAIT`), so a finished child that nobody joined stays visible as a
//!   zombie (僵尸进程) in `/proc`. (Python's `is_alive()` quietly reaps.)
//! - Misuse is an error value with Python's message, never a panic.

use std::fmt;
use std::os::fd::{AsFd, FromRawFd, OwnedFd};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{Id, WaitPidFlag, WaitStatus, waitid, waitpid};
use nix::unistd::{ForkResult, Pid, fork, getpid};

use crate::runtime::context;
use crate::runtime::event::Kind;

/// The subclass style: implement `run` (and optionally `name`), then `Process::from_worker`.
pub trait Worker {
    /// The work, run in the child by `start()`, or in the caller by `Process::run()`.
    fn run(&mut self);
    /// A name of the worker's choosing; `None` keeps the default `Process-N`.
    fn name(&self) -> Option<String> {
        None
    }
}

/// Misuse of a `Process`, with the message Python gives for the same mistake.
#[derive(Debug, Clone, PartialEq)]
pub enum ProcessError {
    /// `start()` on a process that was already started.
    StartedTwice,
    /// `join()` on a process that was never started.
    JoinNotStarted,
    /// `join()` from a process that is not the child's parent.
    JoinNotChild,
    /// `set_daemon()` after `start()`.
    DaemonAfterStart,
    /// `start()` inside a daemon process.
    DaemonHasChildren,
    /// The kernel refused: `fork`, `waitpid` or `kill` failed.
    System(&'static str, Errno),
}

impl fmt::Display for ProcessError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            ProcessError::StartedTwice => write!(f, "cannot start a process twice"),
            ProcessError::JoinNotStarted => write!(f, "can only join a started process"),
            ProcessError::JoinNotChild => write!(f, "can only join a child process"),
            ProcessError::DaemonAfterStart => {
                write!(f, "process has already started: set daemon before start()")
            }
            ProcessError::DaemonHasChildren => {
                write!(f, "daemonic processes are not allowed to have children")
            }
            ProcessError::System(call, errno) => {
                write!(
                    f,
                    "{call} failed: {}",
                    crate::runtime::errno::describe(*errno)
                )
            }
        }
    }
}

impl std::error::Error for ProcessError {}

/// A child process: created, then started (forked), then joined (reaped).
pub struct Process {
    name: String,
    /// Python's `_identity`: `2` for the second process created by the main process, `2:1`
    /// for the first created by that one. Default names are `Process-<identity>`.
    identity: String,
    daemon: bool,
    target: Box<dyn FnMut()>,
    /// The process that created this handle: only it may join the child.
    creator: Pid,
    pid: Option<Pid>,
    exitcode: Option<i32>,
}

/// A child this process started and has not reaped yet.
struct Unreaped {
    pid: Pid,
    name: String,
    daemon: bool,
}

// Every child started and not yet reaped by this process. A forked child empties its copy
// first: its parent's children are not its own.
static UNREAPED: Mutex<Vec<Unreaped>> = Mutex::new(Vec::new());

// Default names follow Python: `Process-N` counts the processes created here; in a child named
// `Process-2`, its own children are `Process-2:1`, `Process-2:2` ...
static CREATED: AtomicU32 = AtomicU32::new(0);
static IDENTITY: Mutex<String> = Mutex::new(String::new());

// Exit codes of children reaped by `finish_children` or `kill_children` rather than through
// their own handle, so that a later `join()` on that handle still gets the right code.
static REAPED_ELSEWHERE: Mutex<Vec<(Pid, i32)>> = Mutex::new(Vec::new());

fn unreaped() -> std::sync::MutexGuard<'static, Vec<Unreaped>> {
    UNREAPED.lock().unwrap_or_else(|e| e.into_inner())
}

fn next_identity() -> String {
    let count = CREATED.fetch_add(1, Ordering::Relaxed) + 1;
    let own = IDENTITY.lock().unwrap_or_else(|e| e.into_inner());
    if own.is_empty() {
        count.to_string()
    } else {
        format!("{own}:{count}")
    }
}

impl Process {
    /// A process that will run `target`; capture its arguments in the closure.
    pub fn new(target: impl FnMut() + 'static) -> Process {
        let identity = next_identity();
        Process {
            name: format!("Process-{identity}"),
            identity,
            daemon: false,
            target: Box::new(target),
            creator: getpid(),
            pid: None,
            exitcode: None,
        }
    }

    /// A process that will run a [`Worker`], named as the worker chooses.
    pub fn from_worker(mut worker: impl Worker + 'static) -> Process {
        let chosen = worker.name();
        let process = Process::new(move || worker.run());
        match chosen {
            Some(name) => process.named(&name),
            None => process,
        }
    }

    /// Gives the process a name of our choosing instead of `Process-N`.
    pub fn named(mut self, name: &str) -> Process {
        self.name = name.to_string();
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn daemon(&self) -> bool {
        self.daemon
    }

    /// Marks the process as a daemon (守护进程): its parent terminates it when its own work is
    /// done, instead of waiting for it. Only before `start()`.
    pub fn set_daemon(&mut self, daemon: bool) -> Result<(), ProcessError> {
        if self.pid.is_some() {
            return Err(ProcessError::DaemonAfterStart);
        }
        self.daemon = daemon;
        Ok(())
    }

    /// The child's pid, once started.
    pub fn pid(&self) -> Option<i32> {
        self.pid.map(Pid::as_raw)
    }

    /// Runs the target here, in the caller's own process, and blocks until it returns: no
    /// fork, no new pid. (What `start()` does in the child.)
    pub fn run(&mut self) {
        (self.target)();
    }

    /// Forks a child that runs the target, and returns at once in the parent.
    pub fn start(&mut self) -> Result<(), ProcessError> {
        if self.pid.is_some() {
            return Err(ProcessError::StartedTwice);
        }
        if context::is_daemon() {
            return Err(ProcessError::DaemonHasChildren);
        }
        // Nothing buffered may be copied into the child, or it would be written twice.
        flush_stdio();
        // SAFETY: the lab's processes are single-threaded when they fork (thread lessons never
        // fork after starting threads), so no lock held by another thread is copied into the
        // child locked. The child only runs the target and then leaves through `_exit`, never
        // returning into the parent's code.
        match unsafe { fork() } {
            Err(errno) => Err(ProcessError::System("fork", errno)),
            Ok(ForkResult::Child) => self.be_the_child(),
            Ok(ForkResult::Parent { child }) => {
                self.pid = Some(child);
                unreaped().push(Unreaped {
                    pid: child,
                    name: self.name.clone(),
                    daemon: self.daemon,
                });
                context::emit(Kind::Spawn {
                    child: child.as_raw(),
                    child_name: self.name.clone(),
                });
                Ok(())
            }
        }
    }

    /// The child's side of `start()`: never returns.
    fn be_the_child(&mut self) -> ! {
        // Nothing here calls the allocator: in a freshly forked child every page touched for
        // the first time is a page fault (the allocator's code, and heap pages shared with the
        // parent copy-on-write), and those faults are most of what a `Process` costs on top
        // of a bare fork. So the parent's list is forgotten rather than cleared (dropping its
        // records would write to every heap page they sit on, each then copied for this
        // child), and the identity is moved in, not copied.
        std::mem::forget(std::mem::take(&mut *unreaped()));
        CREATED.store(0, Ordering::Relaxed);
        std::mem::swap(
            &mut *IDENTITY.lock().unwrap_or_else(|e| e.into_inner()),
            &mut self.identity,
        );
        context::set_name(&self.name);
        context::set_daemon(self.daemon);
        context::emit(Kind::Start);
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| (self.target)()));
        // A panic was already reported by the panic hook; like an uncaught exception in a
        // Python child, it becomes exit code 1.
        let code = if outcome.is_ok() { 0 } else { 1 };
        exit(code)
    }

    /// Waits for the child to end and reaps it; returns its exit code.
    pub fn join(&mut self) -> Result<i32, ProcessError> {
        let pid = self.joinable()?;
        if let Some(code) = self.exitcode {
            return Ok(code);
        }
        loop {
            match waitpid(pid, None) {
                Err(Errno::EINTR) => continue,
                Err(Errno::ECHILD) => return Ok(self.reaped_elsewhere(pid)),
                Err(errno) => return Err(ProcessError::System("waitpid", errno)),
                Ok(status) => match exitcode_of(status) {
                    Some(code) => return Ok(self.record_reaped(pid, code)),
                    None => continue,
                },
            }
        }
    }

    /// Like `join`, but gives up after `timeout` (scaled by `--speed`): `Ok(None)` means the
    /// child is still running.
    pub fn join_timeout(&mut self, timeout: Duration) -> Result<Option<i32>, ProcessError> {
        let pid = self.joinable()?;
        if self.exitcode.is_some() {
            return Ok(self.exitcode);
        }
        if !wait_until_ended(&[pid], context::scaled(timeout)).contains(&0) {
            return Ok(None);
        }
        self.join().map(Some)
    }

    /// True from `start()` until the child ends (a zombie is not alive). Does not reap.
    pub fn is_alive(&self) -> bool {
        match (self.pid, self.exitcode) {
            (Some(pid), None) => peek_exitcode(pid).is_none(),
            _ => false,
        }
    }

    /// `None` while running (or never started), then the exit status, or `-N` after death by
    /// signal N. Does not reap.
    pub fn exitcode(&self) -> Option<i32> {
        match (self.pid, self.exitcode) {
            (_, Some(code)) => Some(code),
            (Some(pid), None) => peek_exitcode(pid),
            (None, None) => None,
        }
    }

    /// Sends `SIGTERM`. The child gets no chance to clean up after itself (the default action
    /// simply ends it): its own children live on as orphans, a lock it holds stays held.
    pub fn terminate(&self) -> Result<(), ProcessError> {
        self.signal(Signal::SIGTERM)
    }

    /// Sends `SIGKILL`, which cannot be caught or ignored.
    pub fn kill(&self) -> Result<(), ProcessError> {
        self.signal(Signal::SIGKILL)
    }

    fn signal(&self, signal: Signal) -> Result<(), ProcessError> {
        // Once reaped, the pid may already belong to some other process: never signal it.
        match (self.pid, self.exitcode) {
            (Some(pid), None) => {
                kill(pid, signal).map_err(|errno| ProcessError::System("kill", errno))
            }
            _ => Ok(()),
        }
    }

    fn joinable(&self) -> Result<Pid, ProcessError> {
        let pid = self.pid.ok_or(ProcessError::JoinNotStarted)?;
        if self.creator != getpid() {
            return Err(ProcessError::JoinNotChild);
        }
        Ok(pid)
    }

    fn record_reaped(&mut self, pid: Pid, code: i32) -> i32 {
        self.exitcode = Some(code);
        unreaped().retain(|child| child.pid != pid);
        context::emit(Kind::Exit {
            child: pid.as_raw(),
            exitcode: code,
        });
        code
    }

    fn reaped_elsewhere(&mut self, pid: Pid) -> i32 {
        let code = REAPED_ELSEWHERE
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|(reaped_pid, _)| *reaped_pid == pid)
            .map(|(_, code)| *code);
        // No record means the child was reaped behind the lab's back (SIGCHLD ignored).
        let code = code.unwrap_or(0);
        self.exitcode = Some(code);
        code
    }
}

/// Waits until at least one of `pids` has ended, or `timeout` passes, without reaping any:
/// returns the indices of those that have ended. Each child is watched through a pidfd, a file
/// descriptor that becomes readable when that process ends (Python's `Process.sentinel`).
pub fn wait_until_ended(pids: &[Pid], timeout: Duration) -> Vec<usize> {
    let deadline = Instant::now() + timeout;
    let pidfds: Option<Vec<OwnedFd>> = pids.iter().map(|&pid| pidfd_open(pid)).collect();
    let Some(pidfds) = pidfds else {
        return wait_by_peeking(pids, deadline);
    };
    let mut watched: Vec<PollFd> = pidfds
        .iter()
        .map(|fd| PollFd::new(fd.as_fd(), PollFlags::POLLIN))
        .collect();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match poll(&mut watched, poll_timeout(left)) {
            Ok(0) => return Vec::new(),
            Ok(_) => {
                return (0..watched.len())
                    .filter(|&i| watched[i].any().unwrap_or(false))
                    .collect();
            }
            Err(Errno::EINTR) if left > Duration::ZERO => continue,
            Err(_) => return wait_by_peeking(pids, deadline),
        }
    }
}

/// The same without pidfds (kernels before 5.3): look every few milliseconds.
fn wait_by_peeking(pids: &[Pid], deadline: Instant) -> Vec<usize> {
    loop {
        let ended: Vec<usize> = (0..pids.len())
            .filter(|&i| peek_exitcode(pids[i]).is_some())
            .collect();
        if !ended.is_empty() || Instant::now() >= deadline {
            return ended;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// A poll(2) timeout in whole milliseconds, rounded up so that a short wait is not zero.
pub fn poll_timeout(wait: Duration) -> PollTimeout {
    let millis = wait.as_micros().div_ceil(1000).min(i32::MAX as u128);
    PollTimeout::try_from(millis as i32).unwrap_or(PollTimeout::MAX)
}

/// A pidfd for `pid` (Linux 5.3 and later), or `None` where the kernel has none.
fn pidfd_open(pid: Pid) -> Option<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid.as_raw(), 0) };
    // SAFETY: on success the descriptor is new and ours alone.
    (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// The exit code of a child that has ended, without reaping it (`WNOWAIT`).
fn peek_exitcode(pid: Pid) -> Option<i32> {
    let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
    waitid(Id::Pid(pid), flags).ok().and_then(exitcode_of)
}

/// Python's `exitcode` from a wait status: the status, or `-N` for death by signal N.
pub fn exitcode_of(status: WaitStatus) -> Option<i32> {
    match status {
        WaitStatus::Exited(_, code) => Some(code),
        WaitStatus::Signaled(_, signal, _) => Some(-(signal as i32)),
        _ => None,
    }
}

/// What `finish_children` (or `kill_children`) did with one child.
#[derive(Debug, Clone, PartialEq)]
pub struct Finished {
    pub pid: i32,
    pub name: String,
    pub daemon: bool,
    /// True when this process had to end the child with a signal (it was still running).
    pub signalled: bool,
    pub exitcode: i32,
}

/// What a process does on its way out, as Python's does: terminate its daemon children that
/// are still running, then join every child it has not joined yet. Returns what it did.
pub fn finish_children() -> Vec<Finished> {
    if unreaped().is_empty() {
        // The usual case, and on every child's way out: touch no more code than needed.
        return Vec::new();
    }
    let daemons: Vec<Pid> = unreaped()
        .iter()
        .filter(|child| child.daemon)
        .map(|child| child.pid)
        .collect();
    let mut terminated = Vec::new();
    for pid in daemons {
        if peek_exitcode(pid).is_none() && kill(pid, Signal::SIGTERM).is_ok() {
            terminated.push(pid);
        }
    }
    reap_all_unreaped(&terminated)
}

/// Reaps children of this process that have ended, whichever they are (`waitpid(-1, WNOHANG)`
/// in a loop, since several `SIGCHLD`s coalesce into one), reports an `exit` event for each and
/// returns (pid, exitcode) of each. With `block`, first waits for one child to end. A server
/// calls this from its accept loop: it never joins its handlers one by one, it collects
/// whichever have finished.
pub fn reap_any_ended(block: bool) -> Vec<(i32, i32)> {
    let mut reaped = Vec::new();
    let mut flags = if block {
        None
    } else {
        Some(WaitPidFlag::WNOHANG)
    };
    loop {
        match waitpid(None, flags) {
            Err(Errno::EINTR) => continue,
            Ok(WaitStatus::StillAlive) | Err(_) => return reaped,
            Ok(status) => {
                if let (Some(pid), Some(code)) = (status.pid(), exitcode_of(status)) {
                    unreaped().retain(|child| child.pid != pid);
                    context::emit(Kind::Exit {
                        child: pid.as_raw(),
                        exitcode: code,
                    });
                    reaped.push((pid.as_raw(), code));
                    flags = Some(WaitPidFlag::WNOHANG);
                }
            }
        }
    }
}

/// Ends every child this process has not joined yet (`SIGKILL`) and reaps them: used when a
/// lesson fails or is stopped, so that nothing it started outlives it.
pub fn kill_children() -> Vec<Finished> {
    let mut killed = Vec::new();
    for child in unreaped().iter() {
        if peek_exitcode(child.pid).is_none() && kill(child.pid, Signal::SIGKILL).is_ok() {
            killed.push(child.pid);
        }
    }
    reap_all_unreaped(&killed)
}

fn reap_all_unreaped(signalled: &[Pid]) -> Vec<Finished> {
    let mut finished = Vec::new();
    loop {
        let Some((pid, name, daemon)) = unreaped()
            .first()
            .map(|c| (c.pid, c.name.clone(), c.daemon))
        else {
            return finished;
        };
        let mut handle = Process {
            name: name.clone(),
            identity: String::new(),
            daemon,
            target: Box::new(|| {}),
            creator: getpid(),
            pid: Some(pid),
            exitcode: None,
        };
        match handle.join() {
            Ok(code) => {
                REAPED_ELSEWHERE
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((pid, code));
                finished.push(Finished {
                    pid: pid.as_raw(),
                    name,
                    daemon,
                    signalled: signalled.contains(&pid),
                    exitcode: code,
                });
            }
            Err(_) => {
                unreaped().retain(|child| child.pid != pid);
            }
        }
    }
}

/// One sentence on what `exit` did with the children it finished, for a note.
fn describe_finished(finished: &[Finished]) -> String {
    let each: Vec<String> = finished
        .iter()
        .map(|child| {
            let what = match (child.daemon, child.signalled) {
                (true, true) => "terminated its daemon child",
                (true, false) => "reaped its daemon child, which had already ended,",
                (false, _) => "waited for its child",
            };
            format!(
                "{what} {} (pid {}, exitcode {})",
                child.name,
                child.pid,
                crate::runtime::event::describe_exitcode(child.exitcode)
            )
        })
        .collect();
    format!(
        "On its way out, {} {}: what Python's exit does with the children a process has not \
         joined.",
        context::name(),
        each.join(", then ")
    )
}

/// Leaves this child process with `code`, as `sys.exit(code)` does in a Python child: its own
/// children are finished first, its output flushed, and then `_exit`, which skips the parent's
/// clean-up code that `fork` copied into this process.
pub fn exit(code: i32) -> ! {
    let finished = finish_children();
    if !finished.is_empty() {
        context::emit(Kind::Note {
            text: describe_finished(&finished),
        });
    }
    context::emit(Kind::Done { code });
    flush_stdio();
    // SAFETY: `_exit` ends the process at once; it is always safe to call.
    unsafe { libc::_exit(code) }
}

/// Flushes standard output. (Rust's standard error is not buffered: nothing to flush there.)
fn flush_stdio() {
    use std::io::Write;
    let _ = std::io::stdout().flush();
}
