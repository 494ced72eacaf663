//! `Thread`: Python's `threading.Thread`, over a plain `pthread_create(3)`.
//!
//! ```ignore
//! let mut t = Thread::new(move || work(&shared)).named("worker");
//! t.start()?;      // pthread_create: a new thread in *this* process (same pid, its own tid)
//! t.join()?;       // pthread_join: the caller waits for that thread
//! ```
//!
//! A thread is an actor of its own: its events carry its thread id and its name (`main/worker`
//! in the human view), it says `start` and `done` itself, and whoever joins it reports the
//! join (`exit` with `is_thread`), with the wait in between when it had to wait.
//!
//! Why not `std::thread::spawn`: for every thread it also maps a guard signal stack (`mmap`,
//! `mprotect`, `sigaltstack`, and `munmap` when the thread ends) and reads the thread's stack
//! bounds, about seven system calls a C thread does not make, which nearly doubles the cost
//! of a short thread. When the lab says "a thread costs M µs here", M must be what the kernel
//! and the C library cost, so this type makes exactly the calls a C program makes. (The
//! price: a stack overflow in one of these threads is a plain SIGSEGV, with no message.)
//!
//! Threads and `fork` do not mix: a process that has started threads and not joined them
//! cannot fork any more (`Process::start` refuses: a lock another thread holds would stay
//! locked in the child forever). Lessons start their processes first.
//!
//! Like Python, a process waits for its non-daemon threads before it leaves (`process::exit`
//! joins them), while daemon threads simply end with the process.

use std::ffi::c_void;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use nix::errno::Errno;

use crate::runtime::context;
use crate::runtime::event::Kind;
use crate::runtime::outcome::TargetResult;
use crate::runtime::wait;

/// Misuse of a `Thread`, with the message Python gives for the same mistake.
#[derive(Debug, Clone, PartialEq)]
pub enum ThreadError {
    StartedTwice,
    JoinNotStarted,
    /// A thread joining itself would wait forever.
    JoinSelf,
    /// `set_daemon()` after `start()`.
    DaemonAfterStart,
    /// `pthread_create` or `pthread_join` failed (`EAGAIN`: too many threads).
    System(&'static str, Errno),
}

impl fmt::Display for ThreadError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            ThreadError::StartedTwice => write!(f, "threads can only be started once"),
            ThreadError::JoinNotStarted => write!(f, "cannot join thread before it is started"),
            ThreadError::JoinSelf => write!(f, "cannot join current thread"),
            ThreadError::DaemonAfterStart => {
                write!(f, "cannot set daemon status of active thread")
            }
            ThreadError::System(call, errno) => write!(f, "{call}: {errno:?} ({})", errno.desc()),
        }
    }
}

impl std::error::Error for ThreadError {}

type Target = Box<dyn FnOnce() -> Result<(), String> + Send + 'static>;

/// What the new thread runs: the target wrapped with its reporting; returns the thread's code.
type Run = Box<dyn FnOnce() -> i32 + Send + 'static>;

/// What the new thread and its handle share (and `current::enumerate`, which lists them from
/// `started_threads`).
pub(crate) struct Shared {
    pub(crate) name: String,
    /// Whether the thread reports its own start and end as events.
    reporting: bool,
    /// The thread's id (`gettid`), once it runs; 0 before.
    pub(crate) tid: AtomicI32,
    /// Set as the target returns.
    pub(crate) finished: AtomicBool,
}

/// The subclass style (Python's `class MyThread(Thread)` overriding `run`): implement `run`
/// (and optionally `name`), then `Thread::from_runnable`. The twin of `multiprocessing`'s
/// `Worker`; the value moves into the new thread, so it must be `Send`.
pub trait Runnable: Send + 'static {
    /// The work, run in the new thread by `start()`.
    fn run(&mut self);
    /// A name of the thread's choosing; `None` keeps the default `Thread-N`.
    fn name(&self) -> Option<String> {
        None
    }
}

/// A thread of this process: created, started, joined.
pub struct Thread {
    shared: Arc<Shared>,
    daemon: bool,
    target: Option<Target>,
    handle: Option<libc::pthread_t>,
    /// After `join`: 0, or 1 when the target panicked or returned an error.
    code: Option<i32>,
    /// The N of a default name `Thread-N`, while the thread still has it.
    drawn: Option<u32>,
}

/// Python's `threading._counter()`: default names are `Thread-1`, `Thread-2` ... counting the
/// threads of this process created *without* a name (a named thread draws no number).
static UNNAMED: AtomicU32 = AtomicU32::new(0);

/// Python's default name: `Thread-N`, and `Thread-N (target)` when the target is a function
/// (`Thread(target=sayhi)` is `Thread-1 (sayhi)`). A Rust closure carries its arguments, as a
/// `functools.partial` does, and like a partial it has no `__name__`: plain `Thread-N`.
fn default_name<F>(number: u32) -> String {
    let target = std::any::type_name::<F>();
    match target.rsplit("::").next() {
        Some(function) if !target.contains('{') => format!("Thread-{number} ({function})"),
        _ => format!("Thread-{number}"),
    }
}

/// Threads started by this process (with their daemon flag), as `Thread::start` lists them.
/// Finished ones are dropped from the list when the next thread starts.
static STARTED: Mutex<Vec<(Arc<Shared>, bool)>> = Mutex::new(Vec::new());

pub(crate) fn started_threads() -> MutexGuard<'static, Vec<(Arc<Shared>, bool)>> {
    STARTED.lock().unwrap_or_else(|e| e.into_inner())
}

/// Called by `Thread::start` once the thread exists.
fn started(shared: Arc<Shared>, daemon: bool) {
    let mut threads = started_threads();
    threads.retain(|(thread, _)| !thread.finished.load(Ordering::SeqCst));
    threads.push((shared, daemon));
}

/// Non-daemon threads started and not joined yet: the process joins them on its way out.
static NOT_JOINED: Mutex<Vec<(libc::pthread_t, Arc<Shared>)>> = Mutex::new(Vec::new());

impl Thread {
    /// A thread that will run `target`; capture its arguments in the closure. The target
    /// returns `()` or a `Result` (an `Err` is reported, as Python prints a thread's exception).
    pub fn new<R: TargetResult, F: FnOnce() -> R + Send + 'static>(target: F) -> Thread {
        let number = UNNAMED.fetch_add(1, Ordering::Relaxed) + 1;
        Thread {
            shared: Arc::new(Shared {
                name: default_name::<F>(number),
                reporting: true,
                tid: AtomicI32::new(0),
                finished: AtomicBool::new(false),
            }),
            daemon: false,
            target: Some(Box::new(move || target().into_result())),
            handle: None,
            code: None,
            drawn: Some(number),
        }
    }

    /// A thread that runs a `Runnable`'s `run` (the subclass style).
    pub fn from_runnable(mut runnable: impl Runnable) -> Thread {
        let chosen = runnable.name();
        let thread = Thread::new(move || runnable.run());
        match chosen {
            Some(name) => thread.named(&name),
            None => thread,
        }
    }

    /// Names the thread: its events carry the name, and the kernel shows its first 15 bytes in
    /// `/proc/<pid>/task/<tid>/comm`. Only before `start()`.
    ///
    /// In Python a thread given its name (`Thread(target=f, name="x")`) draws no number for a
    /// default one; here `new` drew it, so it goes back to the counter. (That holds when the
    /// thread is named as it is created, as the lessons do; a thread created after it and
    /// before the naming keeps its number, and the counter then skips this one.)
    pub fn named(mut self, name: &str) -> Thread {
        if let Some(shared) = Arc::get_mut(&mut self.shared) {
            shared.name = name.to_string();
            if let Some(number) = self.drawn.take() {
                let _ = UNNAMED.compare_exchange(
                    number,
                    number - 1,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                );
            }
        }
        self
    }

    /// A thread that reports nothing: no `start`, `done` or join events. For measuring what a
    /// bare thread costs (`proclab bench spawn`), where the events would be counted too.
    pub fn without_events(mut self) -> Thread {
        if let Some(shared) = Arc::get_mut(&mut self.shared) {
            shared.reporting = false;
        }
        self
    }

    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// Marks the thread as a daemon: the process does not wait for it on its way out, and it
    /// ends with the process. Only before `start()`.
    pub fn set_daemon(&mut self, daemon: bool) -> Result<(), ThreadError> {
        if self.handle.is_some() {
            return Err(ThreadError::DaemonAfterStart);
        }
        self.daemon = daemon;
        Ok(())
    }

    pub fn daemon(&self) -> bool {
        self.daemon
    }

    /// The thread's id in the kernel (Python's `native_id`): `None` until it has started
    /// running.
    pub fn native_id(&self) -> Option<i32> {
        Some(self.shared.tid.load(Ordering::SeqCst)).filter(|&tid| tid != 0)
    }

    /// True from when it starts running until its target returns.
    pub fn is_alive(&self) -> bool {
        self.handle.is_some() && self.code.is_none() && !self.shared.finished.load(Ordering::SeqCst)
    }

    /// Starts the thread; returns at once.
    pub fn start(&mut self) -> Result<(), ThreadError> {
        let Some(target) = self.target.take() else {
            return Err(ThreadError::StartedTwice);
        };
        let shared = self.shared.clone();
        let run: Run = Box::new(move || run_in_new_thread(&shared, target));
        // The closure travels to the new thread as a raw pointer (a C function gets one
        // `void *` argument); `run_target` turns it back into the box and owns it from then on.
        let argument = Box::into_raw(Box::new(run)).cast::<c_void>();
        // Listed by `enumerate()` from now on, before it runs, so that its own first call of
        // `current_thread()` finds it (Python lists a thread once `start()` returns).
        started(self.shared.clone(), self.daemon);
        let mut handle: libc::pthread_t = 0;
        // SAFETY: `handle` is valid for writing, the attributes are the defaults (null), and
        // `run_target` is a C-ABI function that takes exactly the pointer we pass.
        let status =
            unsafe { libc::pthread_create(&mut handle, std::ptr::null(), run_target, argument) };
        if status != 0 {
            // SAFETY: the thread was not created, so the box is still ours to free.
            drop(unsafe { Box::from_raw(argument.cast::<Run>()) });
            // Never ran: off the list of threads alive.
            self.shared.finished.store(true, Ordering::SeqCst);
            return Err(ThreadError::System(
                "pthread_create",
                Errno::from_raw(status),
            ));
        }
        context::count_thread(true);
        self.handle = Some(handle);
        if !self.daemon {
            not_joined().push((handle, self.shared.clone()));
        }
        Ok(())
    }

    /// Waits until the thread has finished: `Ok(0)`, or `Ok(1)` if its target panicked or
    /// returned an error (reported on the thread's own lines, as Python prints a thread's
    /// exception).
    pub fn join(&mut self) -> Result<i32, ThreadError> {
        if let Some(code) = self.code {
            return Ok(code);
        }
        let handle = self.handle.ok_or(ThreadError::JoinNotStarted)?;
        // SAFETY: pthread_self and pthread_equal only read thread ids.
        if unsafe { libc::pthread_equal(handle, libc::pthread_self()) } != 0 {
            return Err(ThreadError::JoinSelf);
        }
        not_joined().retain(|(other, _)| *other != handle);
        let code = join_pthread(handle, &self.shared)?;
        self.code = Some(code);
        Ok(code)
    }
}

fn not_joined() -> std::sync::MutexGuard<'static, Vec<(libc::pthread_t, Arc<Shared>)>> {
    NOT_JOINED.lock().unwrap_or_else(|e| e.into_inner())
}

/// `pthread_join`, with the wait and the join reported as events.
fn join_pthread(handle: libc::pthread_t, shared: &Shared) -> Result<i32, ThreadError> {
    let reporting = shared.reporting;
    let waiting = (reporting && !shared.finished.load(Ordering::SeqCst))
        .then(|| wait::begin("join", &shared.name));
    let mut result: *mut c_void = std::ptr::null_mut();
    // SAFETY: `handle` is a thread we created and have neither joined nor detached.
    let status = unsafe { libc::pthread_join(handle, &mut result) };
    if status != 0 {
        if let Some(waiting) = waiting {
            waiting.ended(wait::Ended::Error);
        }
        return Err(ThreadError::System("pthread_join", Errno::from_raw(status)));
    }
    context::count_thread(false);
    // The thread's code came back as the pointer-sized result of its C function.
    let code = result as usize as i32;
    let exit = Kind::Exit {
        child: shared.tid.load(Ordering::SeqCst),
        exitcode: code,
        is_thread: true,
    };
    match waiting {
        // The wait's end and the join in one write (see `Waiting::end_with`).
        Some(waiting) => {
            waiting.end_with(&exit);
        }
        None if reporting => context::emit(exit),
        None => {}
    }
    Ok(code)
}

/// Joins every non-daemon thread this process started and has not joined: what a process
/// does on its way out, as Python's interpreter does at exit. Returns how many it joined.
pub fn join_remaining() -> usize {
    // The usual case, and on every child process's way out (a process that forks has no
    // threads): look at one counter and touch nothing else.
    if context::threads_not_joined() == 0 {
        return 0;
    }
    let remaining: Vec<(libc::pthread_t, Arc<Shared>)> = std::mem::take(&mut *not_joined());
    for (handle, shared) in &remaining {
        let _ = join_pthread(*handle, shared);
    }
    remaining.len()
}

impl Drop for Thread {
    fn drop(&mut self) {
        // A daemon thread that is never joined must be detached, or its stack is never freed.
        // (A non-daemon one stays in `NOT_JOINED`: the process joins it on its way out.)
        if let (Some(handle), None, true) = (self.handle, self.code, self.daemon) {
            // SAFETY: a thread we created and have not joined or detached.
            unsafe { libc::pthread_detach(handle) };
        }
    }
}

/// The new thread's side: names itself, reports its start, runs the target, reports its end.
/// Returns its code: 0, or 1 after a panic or an error.
fn run_in_new_thread(shared: &Shared, target: Target) -> i32 {
    // SAFETY: gettid takes no arguments and cannot fail.
    let tid = unsafe { libc::gettid() };
    shared.tid.store(tid, Ordering::SeqCst);
    if shared.reporting {
        context::set_thread_name(&shared.name);
        context::emit_start();
    }
    let outcome = panic::catch_unwind(AssertUnwindSafe(target));
    let code = match outcome {
        Ok(Ok(())) => 0,
        Ok(Err(error)) => {
            if shared.reporting {
                context::emit(Kind::Error { text: error });
            }
            1
        }
        Err(_) => 1,
    };
    if shared.reporting {
        context::emit_done(code);
    }
    shared.finished.store(true, Ordering::SeqCst);
    code
}

/// What the new thread runs: takes back the boxed closure and calls it, and hands its code to
/// `pthread_join` as the thread's result (a C thread returns a pointer; 0 is null). A panic
/// must not unwind out of a C function: `run_in_new_thread` catches the target's.
extern "C" fn run_target(argument: *mut c_void) -> *mut c_void {
    // SAFETY: `start` made this pointer with `Box::into_raw` and gave it to this thread only.
    let run = unsafe { Box::from_raw(argument.cast::<Run>()) };
    let code = panic::catch_unwind(AssertUnwindSafe(run)).unwrap_or(1);
    code as usize as *mut c_void
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU32;

    #[test]
    fn runs_joins_and_reports_failures() {
        let count = Arc::new(AtomicU32::new(0));
        let in_thread = count.clone();
        let mut thread = Thread::new(move || {
            in_thread.fetch_add(1, Ordering::SeqCst);
        })
        .without_events();
        assert_eq!(thread.join(), Err(ThreadError::JoinNotStarted));
        thread.start().unwrap();
        assert_eq!(thread.start(), Err(ThreadError::StartedTwice));
        assert_eq!(thread.join(), Ok(0));
        assert_eq!(count.load(Ordering::SeqCst), 1);
        assert!(thread.native_id().is_some());

        let mut fails = Thread::new(|| -> Result<(), String> { Err("no".into()) }).without_events();
        fails.start().unwrap();
        assert_eq!(fails.join(), Ok(1));
    }
}
