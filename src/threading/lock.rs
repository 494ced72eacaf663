//! Python's `threading.Lock`: one holder at a time among the threads of one process.
//!
//! ```ignore
//! let lock = Arc::new(Lock::new().named("counter"));
//! let in_thread = lock.clone();
//! Thread::new(move || { let _held = in_thread.hold(); add_one(); });  // `with lock:`
//! ```
//!
//! Built from a mutex-protected flag and a condition variable, so that it behaves as
//! Python's does and unlike Rust's `Mutex`: it guards no data of its own, any thread may
//! release it, and releasing it when it is free is an error. A thread that has to wait for
//! it reports the wait (`wait`/`woke` events). Timeouts are scaled by `--speed`.

use std::fmt;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::runtime::context;
use crate::runtime::wait;

/// Releasing a lock nobody holds (Python's `RuntimeError: release unlocked lock`).
#[derive(Debug, Clone, PartialEq)]
pub struct ReleaseUnlocked;

impl fmt::Display for ReleaseUnlocked {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "release unlocked lock")
    }
}

impl std::error::Error for ReleaseUnlocked {}

pub struct Lock {
    name: String,
    locked: Mutex<bool>,
    freed: Condvar,
}

impl Default for Lock {
    fn default() -> Lock {
        Lock::new()
    }
}

impl Lock {
    pub fn new() -> Lock {
        Lock {
            name: "lock".to_string(),
            locked: Mutex::new(false),
            freed: Condvar::new(),
        }
    }

    /// A name for the lock, shown in the `wait` events and on the timeline.
    pub fn named(mut self, name: &str) -> Lock {
        self.name = name.to_string();
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    fn flag(&self) -> MutexGuard<'_, bool> {
        self.locked.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until the lock is free and takes it.
    pub fn acquire(&self) {
        self.take(None);
    }

    /// Like `acquire`, giving up after `timeout` (scaled by `--speed`): false if it did.
    pub fn acquire_timeout(&self, timeout: Duration) -> bool {
        self.take(Some(timeout))
    }

    /// Takes the lock only if it is free now (`acquire(blocking=False)`).
    pub fn try_acquire(&self) -> bool {
        let mut locked = self.flag();
        if *locked {
            return false;
        }
        *locked = true;
        true
    }

    fn take(&self, timeout: Option<Duration>) -> bool {
        let mut locked = self.flag();
        if !*locked {
            *locked = true;
            return true;
        }
        // Held by someone: this wait is worth showing. The event is written with the flag's
        // mutex held; writing an event never waits for another thread of the lab.
        let waiting = wait::begin("lock", &self.name);
        let deadline = timeout.map(|timeout| Instant::now() + context::scaled(timeout));
        while *locked {
            locked = match deadline {
                None => self.freed.wait(locked).unwrap_or_else(|e| e.into_inner()),
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    self.freed
                        .wait_timeout(locked, left)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
        }
        let got = !*locked;
        if got {
            *locked = true;
        }
        drop(locked);
        waiting.end(got);
        got
    }

    /// Gives the lock back (any thread may); an error if it is free.
    pub fn release(&self) -> Result<(), ReleaseUnlocked> {
        let mut locked = self.flag();
        if !*locked {
            return Err(ReleaseUnlocked);
        }
        *locked = false;
        self.freed.notify_one();
        Ok(())
    }

    /// Takes the lock and holds it until the guard is dropped: Python's `with lock:`.
    pub fn hold(&self) -> Held<'_> {
        self.acquire();
        Held { lock: self }
    }

    /// Whether some thread holds it right now (Python's `locked()`; a snapshot).
    pub fn locked(&self) -> bool {
        *self.flag()
    }
}

/// Held while it lives: dropping it releases.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct Held<'a> {
    lock: &'a Lock,
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        let _ = self.lock.release();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_once_released_once_by_anyone() {
        let lock = Lock::new();
        assert!(lock.try_acquire());
        assert!(!lock.try_acquire());
        assert!(lock.locked());
        std::thread::scope(|scope| {
            scope.spawn(|| lock.release().unwrap());
        });
        assert_eq!(lock.release(), Err(ReleaseUnlocked));
        assert_eq!(ReleaseUnlocked.to_string(), "release unlocked lock");
        {
            let _held = lock.hold();
            assert!(lock.locked());
        }
        assert!(!lock.locked());
    }
}
