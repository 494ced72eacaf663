//! Python's `threading.current_thread()`, `enumerate()`, `active_count()` and `main_thread()`:
//! which threads this process has, seen from the inside.
//!
//! ```ignore
//! say!("I am {}", current_thread().name());   // "MainThread" on the process's first thread
//! let names: Vec<String> = enumerate().iter().map(|t| t.name().to_string()).collect();
//! assert_eq!(active_count(), names.len());
//! ```
//!
//! Python's semantics: the thread a process starts with is `MainThread` (its thread id is the
//! pid); a thread is listed from the moment `start()` returns until its target has returned,
//! daemon threads included, threads never started or already finished not. Python returns the
//! `Thread` objects themselves; here the `Thread` belongs to whoever started it, so these
//! functions return a snapshot of each (`ThreadInfo`).

use std::sync::atomic::Ordering;

use super::thread::{Shared, ThreadError, started_threads};
use crate::runtime::context;

/// The name Python gives a process's first thread.
pub const MAIN_THREAD_NAME: &str = "MainThread";

/// One thread, as `current_thread()` or `enumerate()` saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct ThreadInfo {
    name: String,
    /// `None` for a thread started a moment ago that has not yet run its first instruction.
    native_id: Option<i32>,
    daemon: bool,
    is_main: bool,
}

impl ThreadInfo {
    /// `MainThread`, `Thread-3`, or the name it was given.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its id in the kernel (`gettid`): Python's `native_id`. The main thread's is the pid.
    pub fn native_id(&self) -> Option<i32> {
        self.native_id
    }

    pub fn daemon(&self) -> bool {
        self.daemon
    }

    pub fn is_main(&self) -> bool {
        self.is_main
    }
}

/// What `current_thread()` returns: the calling thread, seen from itself.
#[derive(Debug, Clone, PartialEq)]
pub struct CurrentThread(ThreadInfo);

impl std::ops::Deref for CurrentThread {
    type Target = ThreadInfo;
    fn deref(&self) -> &ThreadInfo {
        &self.0
    }
}

impl CurrentThread {
    /// `current_thread().join()`: always an error, because a thread that waited for its own end
    /// would wait forever (Python: `RuntimeError: cannot join current thread`). Joining another
    /// thread is done through the `Thread` handle of whoever started it.
    pub fn join(&self) -> Result<i32, ThreadError> {
        Err(ThreadError::JoinSelf)
    }
}

fn gettid() -> i32 {
    nix::unistd::gettid().as_raw()
}

fn main_thread_info() -> ThreadInfo {
    ThreadInfo {
        name: MAIN_THREAD_NAME.to_string(),
        native_id: Some(nix::unistd::getpid().as_raw()),
        daemon: false,
        is_main: true,
    }
}

fn info(shared: &Shared, daemon: bool) -> ThreadInfo {
    ThreadInfo {
        name: shared.name.clone(),
        native_id: Some(shared.tid.load(Ordering::SeqCst)).filter(|&tid| tid != 0),
        daemon,
        is_main: false,
    }
}

/// Python's `threading.main_thread()`: the thread the process started with.
pub fn main_thread() -> ThreadInfo {
    main_thread_info()
}

/// Python's `threading.current_thread()`: the calling thread.
pub fn current_thread() -> CurrentThread {
    let me = gettid();
    if me == nix::unistd::getpid().as_raw() {
        return CurrentThread(main_thread_info());
    }
    let threads = started_threads();
    let seen = match threads
        .iter()
        .find(|(thread, _)| thread.tid.load(Ordering::SeqCst) == me)
    {
        Some((thread, daemon)) => info(thread, *daemon),
        // A thread not started by `Thread` (Python calls these dummy threads).
        None => ThreadInfo {
            name: context::thread_name().unwrap_or_else(|| format!("Dummy-{me}")),
            native_id: Some(me),
            daemon: true,
            is_main: false,
        },
    };
    CurrentThread(seen)
}

/// Python's `threading.enumerate()`: every thread alive now, the main thread first.
pub fn enumerate() -> Vec<ThreadInfo> {
    let mut alive = vec![main_thread_info()];
    alive.extend(
        started_threads()
            .iter()
            .filter(|(thread, _)| !thread.finished.load(Ordering::SeqCst))
            .map(|(thread, daemon)| info(thread, *daemon)),
    );
    alive
}

/// Python's `threading.active_count()`: how many `enumerate()` lists.
pub fn active_count() -> usize {
    enumerate().len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::threading::Thread;
    use std::sync::mpsc;

    #[test]
    fn lists_running_threads_and_names_the_main_one() {
        // Unit tests run on threads of the test harness, not on a process's first thread.
        let (tell, told) = mpsc::channel();
        let (finish, finished) = mpsc::channel::<()>();
        let mut thread = Thread::new(move || {
            tell.send(current_thread()).unwrap();
            let _ = finished.recv();
        })
        .named("lister")
        .without_events();
        thread.start().unwrap();
        let seen = told.recv().unwrap();
        assert_eq!(seen.name(), "lister");
        assert_eq!(seen.join(), Err(ThreadError::JoinSelf));
        assert!(enumerate().iter().any(|t| t.name() == "lister"));
        assert_eq!(enumerate()[0].name(), MAIN_THREAD_NAME);
        finish.send(()).unwrap();
        thread.join().unwrap();
        assert!(!enumerate().iter().any(|t| t.name() == "lister"));
    }
}
