//! Python's `multiprocessing.Lock` and `multiprocessing.Semaphore`: a process-shared POSIX
//! semaphore (`sem_t` in shared memory, see `shared.rs`), which every process forked after it
//! was made can take and give back.
//!
//! ```ignore
//! let lock = Lock::new()?.named("tickets");
//! let in_child = lock.clone();                 // a handle to the same lock, for a child
//! let mut buyer = Process::new(move || -> Result<(), SyncError> {
//!     let _held = in_child.hold()?;            // Python's `with lock:`
//!     buy_ticket();
//!     Ok(())                                    // released here, as the guard drops
//! });
//! ```
//!
//! Blocking is visible: when a process has to wait for a permit, the primitive reports a
//! `wait` event, and a `woke` event once it has it (or gave up), so the timeline draws the
//! wait. Timeouts are lesson durations, scaled by `--speed` like every sleep.
//!
//! As in Python, any process may release the lock (it has no owner), and the kernel does not
//! know who holds it: a holder that dies keeps it held forever (lesson 3, step 5).

use std::fmt;
use std::time::Duration;

use nix::errno::Errno;

use crate::multiprocessing::shared::{Semaphore as SharedSemaphore, SharedMemory};
use crate::runtime::context;
use crate::runtime::wait;

/// Misuse of a lock or semaphore, or the kernel refusing.
#[derive(Debug, Clone, PartialEq)]
pub enum SyncError {
    /// Releasing a lock that is not held (Python's `ValueError`).
    ReleasedTooManyTimes,
    /// A semaphore or lock call failed.
    System(&'static str, Errno),
}

impl fmt::Display for SyncError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            SyncError::ReleasedTooManyTimes => {
                write!(f, "semaphore or lock released too many times")
            }
            SyncError::System(call, errno) => write!(f, "{call}: {errno:?} ({})", errno.desc()),
        }
    }
}

impl std::error::Error for SyncError {}

/// A semaphore with a bound on its value: `Lock` (bound 1) and `BoundedSemaphore`. Unbounded
/// (`Semaphore`) when `bound` is `None`.
#[derive(Clone)]
struct SemLock {
    name: String,
    kind: &'static str,
    bound: Option<u32>,
    sem: SharedMemory<SharedSemaphore>,
}

impl SemLock {
    fn new(kind: &'static str, value: u32, bound: Option<u32>) -> Result<SemLock, SyncError> {
        Ok(SemLock {
            name: kind.to_string(),
            kind,
            bound,
            sem: SharedSemaphore::shared(value)
                .map_err(|errno| SyncError::System("sem_init", errno))?,
        })
    }

    /// Takes a permit; with a `timeout` (scaled by `--speed`) gives up after it: `Ok(false)`.
    fn acquire(&self, timeout: Option<Duration>) -> Result<bool, SyncError> {
        let system = |errno| SyncError::System("sem_wait", errno);
        // Free at once: no wait to show.
        if self.sem.acquire_timeout(Duration::ZERO).map_err(system)? {
            return Ok(true);
        }
        let waiting = wait::begin(self.kind, &self.name);
        let got = match timeout {
            None => self.sem.acquire().map(|()| true),
            Some(timeout) => self.sem.acquire_timeout(context::scaled(timeout)),
        };
        waiting.ended(match got {
            Ok(true) => crate::runtime::wait::Ended::Got,
            Ok(false) => crate::runtime::wait::Ended::TimedOut,
            Err(_) => crate::runtime::wait::Ended::Error,
        });
        got.map_err(system)
    }

    fn release(&self) -> Result<(), SyncError> {
        let value = self
            .sem
            .value()
            .map_err(|errno| SyncError::System("sem_getvalue", errno))?;
        if self.bound.is_some_and(|bound| value >= bound as i32) {
            return Err(SyncError::ReleasedTooManyTimes);
        }
        self.sem
            .release()
            .map_err(|errno| SyncError::System("sem_post", errno))
    }
}

/// Held while it lives: dropping it releases (Python's `with lock:` block ending).
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct Held<'a> {
    lock: &'a SemLock,
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        let _ = self.lock.release();
    }
}

/// `multiprocessing.Lock`: one holder at a time, across processes. Clones are handles to the
/// same lock.
#[derive(Clone)]
pub struct Lock(SemLock);

impl Lock {
    pub fn new() -> Result<Lock, SyncError> {
        SemLock::new("lock", 1, Some(1)).map(Lock)
    }

    /// A name for the lock, shown in the `wait` events and on the timeline.
    pub fn named(mut self, name: &str) -> Lock {
        self.0.name = name.to_string();
        self
    }

    /// Waits until the lock is free and takes it (`lock.acquire()`).
    pub fn acquire(&self) -> Result<(), SyncError> {
        self.0.acquire(None).map(drop)
    }

    /// Like `acquire`, giving up after `timeout`: `Ok(false)` (`lock.acquire(timeout=...)`).
    pub fn acquire_timeout(&self, timeout: Duration) -> Result<bool, SyncError> {
        self.0.acquire(Some(timeout))
    }

    /// Takes the lock only if it is free now (`lock.acquire(block=False)`).
    pub fn try_acquire(&self) -> Result<bool, SyncError> {
        self.0
            .sem
            .acquire_timeout(Duration::ZERO)
            .map_err(|errno| SyncError::System("sem_trywait", errno))
    }

    /// Gives the lock back; an error if it is not held.
    pub fn release(&self) -> Result<(), SyncError> {
        self.0.release()
    }

    /// Takes the lock and holds it until the guard is dropped: Python's `with lock:`.
    pub fn hold(&self) -> Result<Held<'_>, SyncError> {
        self.acquire()?;
        Ok(Held { lock: &self.0 })
    }

    /// Whether the lock is held by someone right now (a snapshot: it may change at once).
    pub fn is_held(&self) -> bool {
        self.0.sem.value().is_ok_and(|value| value == 0)
    }
}

/// `multiprocessing.Semaphore(value)` (and `BoundedSemaphore` with `bounded`): at most `value`
/// holders at once, across processes.
#[derive(Clone)]
pub struct Semaphore(SemLock);

impl Semaphore {
    pub fn new(value: u32) -> Result<Semaphore, SyncError> {
        SemLock::new("semaphore", value, None).map(Semaphore)
    }

    /// `BoundedSemaphore(value)`: releasing above `value` is an error.
    pub fn bounded(value: u32) -> Result<Semaphore, SyncError> {
        SemLock::new("semaphore", value, Some(value)).map(Semaphore)
    }

    pub fn named(mut self, name: &str) -> Semaphore {
        self.0.name = name.to_string();
        self
    }

    pub fn acquire(&self) -> Result<(), SyncError> {
        self.0.acquire(None).map(drop)
    }

    pub fn acquire_timeout(&self, timeout: Duration) -> Result<bool, SyncError> {
        self.0.acquire(Some(timeout))
    }

    pub fn release(&self) -> Result<(), SyncError> {
        self.0.release()
    }

    /// Takes a permit and gives it back when the guard is dropped: `with sem:`.
    pub fn hold(&self) -> Result<Held<'_>, SyncError> {
        self.acquire()?;
        Ok(Held { lock: &self.0 })
    }

    /// Permits free right now (`sem.get_value()`; a snapshot).
    pub fn value(&self) -> i32 {
        self.0.sem.value().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_is_held_once_and_released_once() {
        let lock = Lock::new().unwrap();
        assert!(lock.try_acquire().unwrap());
        assert!(lock.is_held());
        assert!(!lock.try_acquire().unwrap());
        lock.release().unwrap();
        assert_eq!(lock.release(), Err(SyncError::ReleasedTooManyTimes));
        assert_eq!(
            SyncError::ReleasedTooManyTimes.to_string(),
            "semaphore or lock released too many times"
        );
        {
            let _held = lock.hold().unwrap();
            assert!(lock.is_held());
        }
        assert!(!lock.is_held());
    }

    #[test]
    fn a_bounded_semaphore_refuses_one_release_too_many() {
        let seats = Semaphore::bounded(2).unwrap();
        seats.acquire().unwrap();
        assert_eq!(seats.value(), 1);
        seats.release().unwrap();
        assert_eq!(seats.release(), Err(SyncError::ReleasedTooManyTimes));
        let open = Semaphore::new(1).unwrap();
        open.release().unwrap();
        assert_eq!(open.value(), 2);
    }
}
