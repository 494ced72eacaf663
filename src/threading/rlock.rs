//! Python's `threading.RLock`, the re-entrant (recursive) lock, 递归锁: the thread that holds it
//! may take it again without blocking, and it is free again only when that thread has released
//! it as many times as it took it.
//!
//! ```ignore
//! let lock = RLock::new().named("account");
//! let _outer = lock.hold();   // taken: owner = this thread, count 1
//! let _inner = lock.hold();   // the same thread again: count 2, no waiting
//! ```
//!
//! Unlike a `Lock`, an `RLock` knows its owner (the thread id that took it), so only the owner
//! may release it: any other thread gets Python's `RuntimeError: cannot release un-acquired
//! lock`, as does releasing it when nobody holds it. A thread that has to wait for it reports
//! the wait (`wait`/`woke` on `rlock`). Timeouts are scaled by `--speed`.

use std::fmt;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::runtime::context;
use crate::runtime::wait;

/// Releasing an `RLock` the calling thread does not hold (Python's `RuntimeError: cannot
/// release un-acquired lock`).
#[derive(Debug, Clone, PartialEq)]
pub struct ReleaseUnowned;

impl fmt::Display for ReleaseUnowned {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "cannot release un-acquired lock")
    }
}

impl std::error::Error for ReleaseUnowned {}

/// Who holds the lock, and how many times.
#[derive(Debug, Default)]
struct Ownership {
    /// The owner's thread id (`gettid`), or `None` when the lock is free.
    owner: Option<i32>,
    /// How many times the owner has taken it without releasing it.
    count: u32,
}

pub struct RLock {
    name: String,
    ownership: Mutex<Ownership>,
    freed: Condvar,
}

impl Default for RLock {
    fn default() -> RLock {
        RLock::new()
    }
}

fn me() -> i32 {
    nix::unistd::gettid().as_raw()
}

impl RLock {
    pub fn new() -> RLock {
        RLock {
            name: "rlock".to_string(),
            ownership: Mutex::new(Ownership::default()),
            freed: Condvar::new(),
        }
    }

    /// A name for the lock, shown in the `wait` events and on the timeline.
    pub fn named(mut self, name: &str) -> RLock {
        self.name = name.to_string();
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    fn state(&self) -> MutexGuard<'_, Ownership> {
        self.ownership.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes the lock: at once if it is free or already this thread's, else waits.
    pub fn acquire(&self) {
        self.take(None);
    }

    /// Like `acquire`, giving up after `timeout` (scaled by `--speed`): false if it did.
    pub fn acquire_timeout(&self, timeout: Duration) -> bool {
        self.take(Some(timeout))
    }

    fn take(&self, timeout: Option<Duration>) -> bool {
        let me = me();
        let mut state = self.state();
        match state.owner {
            None => {
                state.owner = Some(me);
                state.count = 1;
                return true;
            }
            // The owner again: this is what makes it re-entrant. No waiting.
            Some(owner) if owner == me => {
                state.count += 1;
                return true;
            }
            Some(_) => {}
        }
        let waiting = wait::begin("rlock", &self.name);
        let deadline = timeout.map(|timeout| Instant::now() + context::scaled(timeout));
        while state.owner.is_some() {
            state = match deadline {
                None => self.freed.wait(state).unwrap_or_else(|e| e.into_inner()),
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    self.freed
                        .wait_timeout(state, left)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
        }
        let got = state.owner.is_none();
        if got {
            state.owner = Some(me);
            state.count = 1;
        }
        drop(state);
        waiting.end(got);
        got
    }

    /// Gives back one of the owner's acquisitions; the lock is free once all are given back.
    /// An error when the calling thread does not hold it.
    pub fn release(&self) -> Result<(), ReleaseUnowned> {
        let mut state = self.state();
        if state.owner != Some(me()) {
            return Err(ReleaseUnowned);
        }
        state.count -= 1;
        if state.count == 0 {
            state.owner = None;
            self.freed.notify_one();
        }
        Ok(())
    }

    /// Takes the lock and holds it until the guard is dropped: Python's `with rlock:`.
    pub fn hold(&self) -> HeldR<'_> {
        self.acquire();
        HeldR { lock: self }
    }

    /// How many times the calling thread holds it (0 if it does not): what Python shows as
    /// `count=` in the lock's repr.
    pub fn count_held_by_me(&self) -> u32 {
        let state = self.state();
        if state.owner == Some(me()) {
            state.count
        } else {
            0
        }
    }

    /// The owner's thread id, if some thread holds it (a snapshot).
    pub fn owner(&self) -> Option<i32> {
        self.state().owner
    }
}

/// Held while it lives: dropping it releases one acquisition.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct HeldR<'a> {
    lock: &'a RLock,
}

impl Drop for HeldR<'_> {
    fn drop(&mut self) {
        let _ = self.lock.release();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn re_entrant_for_its_owner_and_refused_to_others() {
        let lock = RLock::new();
        assert_eq!(lock.release(), Err(ReleaseUnowned));
        {
            let _outer = lock.hold();
            let _inner = lock.hold();
            assert_eq!(lock.count_held_by_me(), 2);
            std::thread::scope(|scope| {
                scope.spawn(|| {
                    assert_eq!(lock.release(), Err(ReleaseUnowned));
                    assert_eq!(lock.count_held_by_me(), 0);
                });
            });
        }
        assert_eq!(lock.owner(), None);
        assert_eq!(
            ReleaseUnowned.to_string(),
            "cannot release un-acquired lock"
        );
    }
}
