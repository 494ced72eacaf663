//! `Process`: Python's `multiprocessing.Process`, over a real `fork(2)`.
//!
//! ```ignore
//! let mut p = Process::new(move || piao("alex", seconds)).named("alex");
//! let pid = p.start()?;  // fork: the closure runs in a new pid
//! p.join()?;             // the caller waits for *that* child, and reaps it
//! assert_eq!(p.exitcode(), Some(0));
//! ```
//!
//! The subclass style of the tutorial (override `run`) is the [`Worker`] trait, which the same
//! `Process` runs. What the API does, and where it differs from Python:
//! - `start()` forks; the child runs the target, then does what Python's child does on its way
//!   out (terminates its daemon children, joins the others; a note says which), and leaves
//!   with `_exit`.
//! - The target may return `()` or a `Result`, so child code can use `?`. A panic or an `Err`
//!   becomes exit code 1 in that child, as an uncaught exception does in Python.
//! - In the parent, `start()` drops the target once the child is forked (CPython deletes
//!   `_target` and its arguments there too): a socket moved into the closure is then closed in
//!   the parent, by ownership, and lives on only in the child.
//! - `start()` holds a *pidfd* for the child, a descriptor that names that one process and no
//!   other. `is_alive`, `join`, `terminate` and `kill` go through it, so a handle never signals
//!   a recycled pid, even if the child was reaped behind its back (`reap_any_ended`).
//! - `join()` is the only call that reaps. `is_alive()` and `exitcode()` look without reaping
//!   (`waitid` with `WNOWAIT`), so a finished child that nobody joined stays visible as a
//!   zombie (僵尸进程) in `/proc`. (Python's `is_alive()`, `exitcode`, `active_children()` and
//!   every `start()` quietly reap the children that have ended.)
//! - A process that runs other threads cannot fork: refused with an error. The lab's `Thread`s
//!   count, and so does every other thread the kernel counts (`std::thread::scope`'s).
//! - `join()` reports its wait (`wait`/`woke` events) when the child has not ended yet.
//! - Misuse is an error value with Python's message, never a panic.

use std::fmt;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{SigHandler, Signal, kill, signal};
use nix::sys::wait::{Id, WaitPidFlag, WaitStatus, waitid, waitpid};
pub use nix::unistd::Pid;
use nix::unistd::{ForkResult, fork, getpid};

use super::name::Name;
use crate::runtime::context;
use crate::runtime::event::Kind;
use crate::runtime::lifeline;
use crate::runtime::outcome::TargetResult;
use crate::runtime::procfs;
use crate::runtime::wait;

/// The subclass style: implement `run` (and optionally `name`), then `Process::from_worker`.
pub trait Worker {
    /// The work, run in the child by `start()`, or in the caller by `Process::run()`.
    fn run(&mut self);
    /// A name of the worker's choosing; `None` keeps the default, `<class name>-N`.
    fn name(&self) -> Option<String> {
        None
    }
    /// What Python would call the subclass: an unnamed worker is `Piao-5`, as an unnamed
    /// instance of `class Piao(Process)` is in Python. By default the type's own name, without
    /// its module path (`Piao`, not `proclab::lessons::spawn_worker::Piao`).
    fn class_name(&self) -> &'static str {
        short_type_name(std::any::type_name::<Self>())
    }
}

/// `a::b::Piao` -> `Piao`; `a::Pool<a::Job>` -> `Pool`.
fn short_type_name(full: &'static str) -> &'static str {
    let path = full.split('<').next().unwrap_or(full);
    path.rsplit("::").next().unwrap_or(path)
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
    /// `start()` in a process where other threads run (how many).
    ThreadsRunning(usize),
    /// `join()` on a child that something else reaped without recording its exit code (with
    /// `SIGCHLD` ignored, the kernel reaps every child itself).
    ReapedElsewhere,
    /// The kernel refused: the system call, and its error number.
    System(&'static str, Errno),
}

impl fmt::Display for ProcessError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            ProcessError::StartedTwice => write!(f, "cannot start a process twice"),
            ProcessError::JoinNotStarted => write!(f, "can only join a started process"),
            ProcessError::JoinNotChild => write!(f, "can only join a child process"),
            ProcessError::DaemonAfterStart => {
                // Python's message, word for word.
                write!(f, "process has already started")
            }
            ProcessError::DaemonHasChildren => {
                write!(f, "daemonic processes are not allowed to have children")
            }
            ProcessError::ThreadsRunning(threads) => write!(
                f,
                "cannot fork while {threads} other thread(s) run: a fork copies only the \
                 calling thread, and a lock another thread holds would stay locked forever in \
                 the child"
            ),
            ProcessError::ReapedElsewhere => write!(
                f,
                "the child was reaped by someone else and its exit code is lost (is SIGCHLD \
                 ignored?)"
            ),
            ProcessError::System(call, errno) => {
                // The kernel's name for the error, then its cause and remedy in words.
                write!(
                    f,
                    "cannot {call} ({}): {}",
                    errno_name(*errno),
                    crate::runtime::errno::describe(*errno)
                )
            }
        }
    }
}

impl std::error::Error for ProcessError {}

/// The symbolic name of an error number: `EAGAIN`, `ECHILD` ...
pub fn errno_name(errno: Errno) -> String {
    let debug = format!("{errno:?}");
    debug.rsplit("::").next().unwrap_or(&debug).to_string()
}

/// What a process's target is stored as: it may be called more than once (`run()`, as in
/// Python), and says whether it failed.
type Target = Box<dyn FnMut() -> Result<(), String>>;

/// A child process: created, then started (forked), then joined (reaped).
pub struct Process {
    /// Kept without the heap when short (see `name::Name`), like the identity.
    name: Name,
    /// Python's `_identity`: `2` for the second process created by the main process, `2:1`
    /// for the first created by that one. Default names are `Process-<identity>`.
    identity: Name,
    daemon: bool,
    /// Dropped by `start()` in the parent, once the child has its own copy.
    target: Option<Target>,
    /// The process that created this handle: only it may join the child.
    creator: Pid,
    child: Option<Child>,
    exitcode: Option<i32>,
}

/// A started child, as its handle knows it.
struct Child {
    pid: Pid,
    /// A descriptor for this one process (`pidfd_open`); `None` on kernels before 5.3, or when
    /// the process is out of descriptors.
    pidfd: Option<OwnedFd>,
}

/// A child this process started and has not reaped yet.
struct Unreaped {
    pid: Pid,
    name: Name,
    daemon: bool,
}

/// What this process knows of the processes it started. A forked child replaces its copy
/// first: its parent's children are not its own.
struct Family {
    /// Every child started and not yet reaped by this process.
    unreaped: Vec<Unreaped>,
    /// Processes created here, for default names. They follow Python: `Process-N` counts the
    /// processes created here (`Piao-N` for an unnamed worker of type `Piao`, on the same
    /// count); in a child named `Process-2`, its own children are `Process-2:1` ...
    created: u32,
    /// This process's own place in that numbering: `2` in `Process-2`, empty in the first.
    identity: Name,
}

// One static for all three, aligned so that it lies on one page: a new child writes it first
// thing, and its parent at every fork; a page each would be two page copies instead of one.
//
// `.data.new_child`: the section of every static a new child writes (this one, its name and
// daemon flag in `context`, its parent's pid in `lifeline`, the forking server's flag). Left
// to themselves, the ones that start as zeros went to `.bss`, a page away from this one, and
// a new child copied both pages. Named alike, they are laid out together in `.data` (within
// 400 bytes when measured, on one page): one page copied. `bench spawn` counts the faults.
#[unsafe(link_section = ".data.new_child")]
static FAMILY: OnePage<Mutex<Family>> = OnePage(Mutex::new(Family {
    unreaped: Vec::new(),
    created: 0,
    identity: Name::empty(),
}));

/// A static that must not straddle a page boundary: no bigger than its alignment, it lies
/// within one page.
#[repr(align(128))]
struct OnePage<T>(T);

const _: () = assert!(std::mem::size_of::<OnePage<Mutex<Family>>>() <= 128);

// Exit codes of children reaped by `reap_any_ended` or `finish_children` rather than through
// their own handle: (the reaping process, the child, its code). A handle looks here only when
// the kernel says its child is already reaped (ECHILD), so that a later `join()` still gets
// the right code. A server reaps thousands of handlers it keeps no handles for, so only the
// last `REAPED_ELSEWHERE_KEPT` are kept. The reaping process is part of each entry because a
// forked child inherits a copy of this table, and its own children may get pids that were its
// parent's children's once.
static REAPED_ELSEWHERE: Mutex<Vec<(Pid, Pid, i32)>> = Mutex::new(Vec::new());
const REAPED_ELSEWHERE_KEPT: usize = 1024;

fn reaped_elsewhere_table() -> std::sync::MutexGuard<'static, Vec<(Pid, Pid, i32)>> {
    REAPED_ELSEWHERE.lock().unwrap_or_else(|e| e.into_inner())
}

#[unsafe(link_section = ".text.hot.new_child")]
fn with_family<T>(f: impl FnOnce(&mut Family) -> T) -> T {
    f(&mut FAMILY.0.lock().unwrap_or_else(|e| e.into_inner()))
}

fn with_unreaped<T>(f: impl FnOnce(&mut Vec<Unreaped>) -> T) -> T {
    with_family(|family| f(&mut family.unreaped))
}

/// How many children this process started and has not reaped yet (running, or zombies),
/// whether or not their handles still exist.
pub fn children_not_reaped() -> usize {
    with_unreaped(|unreaped| unreaped.len())
}

/// Forgets the child `pid`, reaped by something other than its handle, from the list of
/// unreaped children, and keeps its exit code for its handle if it still has one.
fn forget_reaped_elsewhere(pid: Pid, code: i32) {
    with_unreaped(|unreaped| unreaped.retain(|child| child.pid != pid));
    let mut table = reaped_elsewhere_table();
    if table.len() >= REAPED_ELSEWHERE_KEPT {
        table.remove(0);
    }
    table.push((getpid(), pid, code));
}

fn next_identity() -> Name {
    with_family(|family| {
        family.created += 1;
        if family.identity.is_empty() {
            Name::formatted(format_args!("{}", family.created))
        } else {
            Name::formatted(format_args!("{}:{}", family.identity, family.created))
        }
    })
}

impl Process {
    /// A process that will run `target`; capture its arguments in the closure. The target
    /// returns `()` or a `Result` (an `Err` ends the child with exit code 1).
    pub fn new<R: TargetResult>(mut target: impl FnMut() -> R + 'static) -> Process {
        let identity = next_identity();
        Process {
            name: Name::formatted(format_args!("Process-{identity}")),
            identity,
            daemon: false,
            target: Some(Box::new(move || target().into_result())),
            creator: getpid(),
            child: None,
            exitcode: None,
        }
    }

    /// A process that will run a [`Worker`], named as the worker chooses, or else after its
    /// type and the same counter as `Process-N`: `Piao-5` (Python names an unnamed instance
    /// of a subclass after its class).
    pub fn from_worker(mut worker: impl Worker + 'static) -> Process {
        let name = worker.name();
        let class = worker.class_name();
        let process = Process::new(move || worker.run());
        let name = name.unwrap_or_else(|| format!("{class}-{}", process.identity));
        process.named(&name)
    }

    /// Gives the process a name of our choosing instead of `Process-N`.
    pub fn named(mut self, name: &str) -> Process {
        self.name = Name::new(name);
        self
    }

    pub fn name(&self) -> &str {
        self.name.as_str()
    }

    pub fn daemon(&self) -> bool {
        self.daemon
    }

    /// Marks the process as a daemon (守护进程): its parent terminates it when its own work is
    /// done, instead of waiting for it. Only before `start()`.
    pub fn set_daemon(&mut self, daemon: bool) -> Result<(), ProcessError> {
        if self.child.is_some() {
            return Err(ProcessError::DaemonAfterStart);
        }
        self.daemon = daemon;
        Ok(())
    }

    /// The child's pid, once started.
    pub fn pid(&self) -> Option<Pid> {
        self.child.as_ref().map(|child| child.pid)
    }

    /// Runs the target here, in the caller's own process, and blocks until it returns: no
    /// fork, no new pid. (What `start()` does in the child.) After `start()` the target is
    /// gone from this process, and `run()` does nothing, as in Python.
    pub fn run(&mut self) -> Result<(), String> {
        match &mut self.target {
            Some(target) => target(),
            None => Ok(()),
        }
    }

    /// Forks a child that runs the target, and returns its pid at once in the parent.
    #[unsafe(link_section = ".text.hot.new_child")]
    pub fn start(&mut self) -> Result<Pid, ProcessError> {
        if self.child.is_some() {
            return Err(ProcessError::StartedTwice);
        }
        if context::is_daemon() {
            return Err(ProcessError::DaemonHasChildren);
        }
        let threads = other_threads();
        if threads > 0 {
            return Err(ProcessError::ThreadsRunning(threads));
        }
        // Nothing buffered may be copied into the child, or it would be written twice.
        flush_stdio();
        // The parent's record of the child is allocated now: after the fork, every heap page
        // the parent writes while the child still shares it is copied.
        let mut record = Unreaped {
            pid: Pid::from_raw(0),
            name: self.name.clone(),
            daemon: self.daemon,
        };
        with_unreaped(|unreaped| unreaped.reserve(1));
        let forked_at = context::now();
        let parent = getpid();
        // SAFETY: no other thread runs (checked just above), so no lock held by another
        // thread is copied into the child locked. The child only runs the target and
        // then leaves through `_exit`, never returning into the parent's code.
        match unsafe { fork() } {
            Err(errno) => Err(ProcessError::System("fork", errno)),
            Ok(ForkResult::Child) => {
                lifeline::follow_the_run(parent.as_raw());
                self.be_the_child()
            }
            Ok(ForkResult::Parent { child: pid }) => {
                // The child has its own copy of the target and of everything it owns; the
                // parent's copy goes now (a connection moved into it is closed here).
                self.target = None;
                record.pid = pid;
                with_unreaped(|unreaped| unreaped.push(record));
                self.child = Some(Child {
                    pid,
                    pidfd: pidfd_open(pid),
                });
                // Stamped with the moment before the fork: the child may say `start` before
                // this line is written, and must not look as if it started first.
                context::emit_spawn(forked_at, pid.as_raw(), self.name.as_str());
                Ok(pid)
            }
        }
    }

    /// The child's side of `start()`: never returns.
    #[unsafe(link_section = ".text.hot.new_child")]
    fn be_the_child(&mut self) -> ! {
        // Nothing here calls the allocator: in a freshly forked child every page touched for
        // the first time is a page fault (the allocator's code, and heap pages shared with the
        // parent copy-on-write), and those faults are most of what a `Process` costs on top
        // of a bare fork. So the parent's family is forgotten rather than dropped (dropping its
        // records would write to every heap page they sit on, each then copied for this
        // child), and the identity is moved in, not copied.
        let parents = with_family(|family| {
            let own = Family {
                unreaped: Vec::new(),
                created: 0,
                identity: std::mem::take(&mut self.identity),
            };
            std::mem::replace(family, own)
        });
        std::mem::forget(parents);
        context::set_name(self.name.as_str());
        context::set_daemon(self.daemon);
        context::emit_start();
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| self.run()));
        // Like an uncaught exception in a Python child, a panic (already reported by the
        // panic hook) or an error becomes exit code 1.
        let code = match outcome {
            Ok(Ok(())) => 0,
            Ok(Err(error)) => {
                context::emit(Kind::Error { text: error });
                1
            }
            Err(_) => 1,
        };
        exit(code)
    }

    /// Waits for the child to end and reaps it; returns its exit code.
    pub fn join(&mut self) -> Result<i32, ProcessError> {
        self.joinable()?;
        if let Some(code) = self.exitcode {
            return Ok(code);
        }
        // Ended already (a zombie): collect it without a wait to report.
        if let Some(code) = self.reap_if_ended()? {
            return Ok(code);
        }
        let waiting = wait::begin("join", self.name.as_str());
        self.reap(Some(waiting))
    }

    /// Like `join`, but gives up after `timeout` (scaled by `--speed`): `Ok(None)` means the
    /// child is still running (and `exitcode()` is still `None`).
    pub fn join_timeout(&mut self, timeout: Duration) -> Result<Option<i32>, ProcessError> {
        self.joinable()?;
        if self.exitcode.is_some() || self.has_ended() {
            return self.join().map(Some);
        }
        let waiting = wait::begin("join", self.name.as_str());
        let ended = wait_for_any(&[&*self], context::scaled(timeout)).contains(&0);
        if !ended {
            waiting.end(false);
            return Ok(None);
        }
        self.reap(Some(waiting)).map(Some)
    }

    /// True from `start()` until the child ends (a zombie is not alive). Does not reap.
    pub fn is_alive(&self) -> bool {
        self.child.is_some() && self.exitcode.is_none() && !self.has_ended()
    }

    /// `None` while running (or never started), then the exit status, or `-N` after death by
    /// signal N. Does not reap.
    pub fn exitcode(&self) -> Option<i32> {
        if self.exitcode.is_some() {
            return self.exitcode;
        }
        let child = self.child.as_ref()?;
        let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
        match waitid(child.id(), flags) {
            Err(Errno::ECHILD) => self.reaped_elsewhere(),
            status => status.ok().and_then(exitcode_of),
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
        let Some(child) = &self.child else {
            return Ok(());
        };
        // Once reaped, the pid may already belong to some other process: never signal it.
        if self.exitcode.is_some() {
            return Ok(());
        }
        let sent = match &child.pidfd {
            // The pidfd names this child only: if it has been reaped meanwhile, this fails
            // with ESRCH instead of reaching a stranger.
            Some(pidfd) => {
                // SAFETY: pidfd_send_signal takes a pidfd, a signal, a null siginfo and flags.
                let result = unsafe {
                    libc::syscall(
                        libc::SYS_pidfd_send_signal,
                        pidfd.as_raw_fd(),
                        signal as i32,
                        std::ptr::null::<libc::siginfo_t>(),
                        0,
                    )
                };
                if result == 0 {
                    Ok(())
                } else {
                    Err(Errno::last())
                }
            }
            // Without a pidfd, only the pid: check it was not reaped behind our back.
            None if self.reaped_elsewhere().is_some() => Ok(()),
            None => kill(child.pid, signal),
        };
        match sent {
            Ok(()) | Err(Errno::ESRCH) => Ok(()),
            Err(errno) => Err(ProcessError::System("kill", errno)),
        }
    }

    fn joinable(&self) -> Result<(), ProcessError> {
        if self.child.is_none() {
            return Err(ProcessError::JoinNotStarted);
        }
        if self.creator != getpid() {
            return Err(ProcessError::JoinNotChild);
        }
        Ok(())
    }

    /// Whether the child has ended (a zombie has), without reaping it.
    fn has_ended(&self) -> bool {
        match &self.child {
            None => false,
            Some(child) => match &child.pidfd {
                Some(pidfd) => {
                    let mut fds = [PollFd::new(pidfd.as_fd(), PollFlags::POLLIN)];
                    matches!(poll(&mut fds, PollTimeout::ZERO), Ok(n) if n > 0)
                }
                None => self.exitcode().is_some(),
            },
        }
    }

    /// The exit code, if something else reaped the child (kept for this handle).
    fn reaped_elsewhere(&self) -> Option<i32> {
        let (me, pid) = (getpid(), self.pid()?);
        reaped_elsewhere_table()
            .iter()
            .find(|(reaper, reaped, _)| (*reaper, *reaped) == (me, pid))
            .map(|(_, _, code)| *code)
    }

    /// Reaps the child if it has ended, without blocking: `Ok(None)` while it runs.
    fn reap_if_ended(&mut self) -> Result<Option<i32>, ProcessError> {
        let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG;
        let status = match &self.child {
            Some(child) => waitid(child.id(), flags),
            None => return Err(ProcessError::JoinNotStarted),
        };
        match status {
            Ok(WaitStatus::StillAlive) | Err(Errno::EINTR) => Ok(None),
            _ => self.record(status, None).map(Some),
        }
    }

    /// Blocks until the child has ended, and reaps it. `waiting`, the wait the caller reported,
    /// is ended as soon as the child is collected.
    fn reap(&mut self, waiting: Option<wait::Waiting>) -> Result<i32, ProcessError> {
        loop {
            let status = match &self.child {
                Some(child) => waitid(child.id(), WaitPidFlag::WEXITED),
                None => return Err(ProcessError::JoinNotStarted),
            };
            if matches!(status, Err(Errno::EINTR) | Ok(WaitStatus::StillAlive)) {
                continue;
            }
            return self.record(status, waiting);
        }
    }

    /// Takes in what `waitid` said of the ended child: its exit code, reported as an `exit`
    /// event; or, if someone else reaped it, the code they kept for this handle. `waiting`, the
    /// caller's wait for the child, ends here, in the same write as the `exit` when there is
    /// one: the wait ended at the moment the exit was seen.
    fn record(
        &mut self,
        status: nix::Result<WaitStatus>,
        waiting: Option<wait::Waiting>,
    ) -> Result<i32, ProcessError> {
        let pid = self.pid().ok_or(ProcessError::JoinNotStarted)?;
        let code = match (status, status.ok().and_then(exitcode_of)) {
            (Ok(_), Some(code)) => {
                with_unreaped(|unreaped| unreaped.retain(|child| child.pid != pid));
                report_exit(pid, code, waiting);
                code
            }
            (status, _) => {
                if let Some(waiting) = waiting {
                    waiting.ended(match status {
                        Err(Errno::EINTR) => crate::runtime::wait::Ended::Interrupted,
                        _ => crate::runtime::wait::Ended::Error,
                    });
                }
                match status {
                    Err(Errno::ECHILD) => {
                        let code = self
                            .reaped_elsewhere()
                            .ok_or(ProcessError::ReapedElsewhere)?;
                        reaped_elsewhere_table().retain(|(_, reaped, _)| *reaped != pid);
                        code
                    }
                    Err(errno) => return Err(ProcessError::System("waitid", errno)),
                    Ok(_) => return Err(ProcessError::System("waitid", Errno::EINVAL)),
                }
            }
        };
        self.exitcode = Some(code);
        Ok(code)
    }
}

impl Child {
    /// How `waitid` names this child: by its pidfd when it has one.
    fn id(&self) -> Id<'_> {
        match &self.pidfd {
            Some(pidfd) => Id::PIDFd(pidfd.as_fd()),
            None => Id::Pid(self.pid),
        }
    }
}

/// How many threads besides the calling one this process runs: the lab's own `Thread`s
/// started and not joined, and any other the kernel counts (`std::thread::scope`'s, a
/// library's), which the lab cannot see start.
///
/// A thread just joined is still counted by the kernel for a moment: `join` returns as soon as
/// the thread has cleared its id, and the kernel counts it until it has finished exiting
/// (most times right after a `std::thread::scope`). So threads the lab does not know of are
/// counted again, giving the CPU to them, for up to 100 ms before they count. The usual case,
/// no other thread, costs one `stat` of `/proc/self/task`.
fn other_threads() -> usize {
    let of_the_lab = context::threads_not_joined();
    if of_the_lab > 0 {
        return of_the_lab;
    }
    let deadline = Instant::now() + Duration::from_millis(100);
    loop {
        // Without `/proc`, the lab's own count is all there is to go by.
        let others = procfs::threads_of_this_process().map_or(0, |all| all.saturating_sub(1));
        if others == 0 || Instant::now() >= deadline {
            return others;
        }
        std::thread::yield_now();
    }
}

/// Reports that child `pid` was reaped with exit code `code`: an `exit` event, which also ends
/// `waiting`, the wait for it that someone reported, in the same write (the wait ended at the
/// moment the exit was seen).
fn report_exit(pid: Pid, code: i32, waiting: Option<wait::Waiting>) {
    let exit = Kind::Exit {
        child: pid.as_raw(),
        exitcode: code,
        is_thread: false,
    };
    match waiting {
        Some(waiting) => {
            waiting.end_with(&exit);
        }
        None => context::emit(exit),
    }
}

/// Python's `multiprocessing.connection.wait` for processes: blocks until at least one of
/// `processes` has ended, or `timeout` passes (taken as it is: scale it with
/// `context::scaled` for a lesson's pace), without reaping any. Returns the indices of those
/// that have ended (none after a timeout). Each child is watched through its pidfd, which
/// becomes readable when that process ends.
pub fn wait_for_any(processes: &[&Process], timeout: Duration) -> Vec<usize> {
    let deadline = Instant::now() + timeout;
    loop {
        let ended: Vec<usize> = (0..processes.len())
            .filter(|&i| processes[i].child.is_some() && !processes[i].is_alive())
            .collect();
        let left = deadline.saturating_duration_since(Instant::now());
        if !ended.is_empty() || left.is_zero() {
            return ended;
        }
        let pidfds: Vec<PollFd> = processes
            .iter()
            .filter_map(|p| p.child.as_ref()?.pidfd.as_ref())
            .map(|fd| PollFd::new(fd.as_fd(), PollFlags::POLLIN))
            .collect();
        if pidfds.len() == processes.len() {
            let mut pidfds = pidfds;
            let _ = poll(&mut pidfds, poll_timeout(left));
        } else {
            // Without a pidfd for each (old kernel, no descriptors left): look every 2 ms.
            std::thread::sleep(left.min(Duration::from_millis(2)));
        }
    }
}

/// `wait_for_any` as a visible wait (`wait`/`woke` events on the names of `processes`), with
/// `timeout` scaled by `--speed`: what a lesson calls.
pub fn wait(processes: &[&Process], timeout: Duration) -> Vec<usize> {
    let names: Vec<&str> = processes.iter().map(|p| p.name()).collect();
    let waiting = wait::begin("join", &names.join(", "));
    let ended = wait_for_any(processes, context::scaled(timeout));
    waiting.end(!ended.is_empty());
    ended
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
#[unsafe(link_section = ".text.hot.new_child")]
pub fn finish_children() -> Vec<Finished> {
    if with_unreaped(|unreaped| unreaped.is_empty()) {
        // The usual case, and on every child's way out: touch no more code than needed.
        return Vec::new();
    }
    // A pid in this list is a child not yet reaped: it cannot have been recycled, so it is
    // safe to signal by pid.
    let daemons: Vec<Pid> = with_unreaped(|unreaped| {
        unreaped
            .iter()
            .filter(|child| child.daemon)
            .map(|child| child.pid)
            .collect()
    });
    let mut terminated = Vec::new();
    for pid in daemons {
        if peek_exitcode(pid).is_none() && kill(pid, Signal::SIGTERM).is_ok() {
            terminated.push(pid);
        }
    }
    reap_all_unreaped(&terminated)
}

/// Python's `signal.signal(signal.SIGCHLD, signal.SIG_IGN)`: from now on the kernel reaps this
/// process's children itself as they end, so none stays a zombie (僵尸进程), and none can be
/// joined for its exit code (`join` then says `ReapedElsewhere`).
pub fn ignore_sigchld() -> nix::Result<()> {
    // SAFETY: SIG_IGN installs no handler code: nothing runs in signal context.
    unsafe { signal(Signal::SIGCHLD, SigHandler::SigIgn) }.map(drop)
}

/// Reaps children of this process that have ended, whichever they are (`waitpid(-1, WNOHANG)`
/// in a loop, since several `SIGCHLD`s coalesce into one), reports an `exit` event for each and
/// returns (pid, exitcode) of each. With `block`, first waits for one child to end. A server
/// calls this from its accept loop: it never joins its handlers one by one, it collects
/// whichever have finished. A handle of a child reaped here still learns its exit code.
pub fn reap_any_ended(block: bool) -> Vec<(Pid, i32)> {
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
                    forget_reaped_elsewhere(pid, code);
                    report_exit(pid, code, None);
                    reaped.push((pid, code));
                    flags = Some(WaitPidFlag::WNOHANG);
                }
            }
        }
    }
}

/// Ends every child this process has not joined yet (`SIGKILL`) and reaps them: used when a
/// lesson fails or is stopped, so that nothing it started outlives it.
pub fn kill_children() -> Vec<Finished> {
    let running: Vec<Pid> = with_unreaped(|unreaped| unreaped.iter().map(|c| c.pid).collect());
    let mut killed = Vec::new();
    for pid in running {
        if peek_exitcode(pid).is_none() && kill(pid, Signal::SIGKILL).is_ok() {
            killed.push(pid);
        }
    }
    reap_all_unreaped(&killed)
}

/// Reaps every child still in the list, waiting for each in turn.
fn reap_all_unreaped(signalled: &[Pid]) -> Vec<Finished> {
    let mut finished = Vec::new();
    loop {
        let Some((pid, name, daemon)) =
            with_unreaped(|unreaped| unreaped.first().map(|c| (c.pid, c.name.clone(), c.daemon)))
        else {
            return finished;
        };
        // A wait to report only if the child is still running: not if it has ended, nor if
        // the kernel has already reaped it (SIGCHLD ignored), when there is nothing to wait for.
        let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
        let running = matches!(waitid(Id::Pid(pid), flags), Ok(WaitStatus::StillAlive));
        let waiting = running.then(|| wait::begin("join", name.as_str()));
        let status = loop {
            match waitpid(pid, None) {
                Err(Errno::EINTR) => continue,
                other => break other,
            }
        };
        let code = status.ok().and_then(exitcode_of);
        match code {
            Some(code) => {
                forget_reaped_elsewhere(pid, code);
                report_exit(pid, code, waiting);
                finished.push(Finished {
                    pid: pid.as_raw(),
                    name: name.to_string(),
                    daemon,
                    signalled: signalled.contains(&pid),
                    exitcode: code,
                });
            }
            // Reaped behind the lab's back (SIGCHLD ignored): nothing more to learn.
            None => {
                if let Some(waiting) = waiting {
                    waiting.ended(crate::runtime::wait::Ended::Error);
                }
                with_unreaped(|unreaped| unreaped.retain(|child| child.pid != pid));
            }
        }
    }
}

/// One sentence on what `exit` did with the children it finished, for a note.
fn describe_finished(finished: &[Finished]) -> String {
    let each: Vec<String> = finished
        .iter()
        .map(|child| {
            let (name, pid) = (&child.name, child.pid);
            let code = crate::runtime::event::describe_exitcode(child.exitcode);
            match (child.daemon, child.signalled) {
                (true, true) => crate::text!(
                    en: "terminated its daemon child {name} (pid {pid}, exitcode {code})",
                    zh: "终止了它的守护子进程 {name}（pid {pid}，退出码 {code}）",
                ),
                (true, false) => crate::text!(
                    en: "reaped its daemon child, which had already ended, {name} (pid {pid}, \
                         exitcode {code})",
                    zh: "回收了它已经结束的守护子进程 {name}（pid {pid}，退出码 {code}）",
                ),
                (false, _) => crate::text!(
                    en: "waited for its child {name} (pid {pid}, exitcode {code})",
                    zh: "等待了它的子进程 {name}（pid {pid}，退出码 {code}）",
                ),
            }
        })
        .collect();
    let me = context::name();
    let each = each.join(&crate::text!(en: ", then ", zh: "，然后"));
    crate::text!(
        en: "On its way out, {me} {each}: what Python's exit does with the children a process \
             has not joined.",
        zh: "{me} 在退出时{each}：这就是 Python 的 exit 对一个进程还没 join 的子进程所做的事。",
    )
}

/// Leaves this child process with `code`, as `sys.exit(code)` does in a Python child: its own
/// children are finished first, its output flushed, and then `_exit`, which skips the parent's
/// clean-up code that `fork` copied into this process.
#[unsafe(link_section = ".text.hot.new_child")]
pub fn exit(code: i32) -> ! {
    // Python's interpreter waits for its non-daemon threads at exit; daemon threads end with
    // the process, at `_exit`.
    // (The counter is read here, so that a process that never started a thread, every forked
    // child, does not even run the registry's code on its way out.)
    if context::threads_not_joined() > 0 {
        crate::threading::thread::join_remaining();
    }
    let finished = finish_children();
    if !finished.is_empty() {
        context::emit(Kind::Note {
            text: describe_finished(&finished),
        });
    }
    context::emit_done(code);
    flush_stdio();
    // SAFETY: `_exit` ends the process at once; it is always safe to call.
    unsafe { libc::_exit(code) }
}

/// Flushes standard output. (Rust's standard error is not buffered: nothing to flush there.)
#[unsafe(link_section = ".text.hot.new_child")]
fn flush_stdio() {
    use std::io::Write;
    let _ = std::io::stdout().flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worker_is_named_after_its_type_without_the_path() {
        assert_eq!(
            short_type_name("proclab::lessons::spawn_worker::Piao"),
            "Piao"
        );
        assert_eq!(short_type_name("lab::Pool<lab::Job>"), "Pool");
        assert_eq!(short_type_name("Piao"), "Piao");
        struct Piao;
        impl Worker for Piao {
            fn run(&mut self) {}
        }
        assert_eq!(Piao.class_name(), "Piao");
    }
}
