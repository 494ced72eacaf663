//! Python's `threading.Semaphore` and `threading.BoundedSemaphore`: a counter of free seats
//! (信号量) shared by the threads of one process.
//!
//! ```ignore
//! let seats = Arc::new(Semaphore::new(5).named("seats"));
//! let in_thread = seats.clone();
//! Thread::new(move || { let _seat = in_thread.hold(); use_the_room(); });  // `with seats:`
//! ```
//!
//! `acquire` takes a seat, waiting while there is none; `release` gives one back. Nothing
//! records *who* holds a seat: any thread may release, and a plain `Semaphore` lets the count
//! grow past where it started. `BoundedSemaphore` refuses that, with Python's `ValueError`.
//!
//! Built like `Lock` (see `lock.rs`): a counter under a mutex, and a condition variable to
//! sleep on. A thread that has to wait for a seat reports the wait (`wait`/`woke` events, kind
//! `semaphore`); one that finds a seat free takes it without a word. Timeouts are scaled by
//! `--speed`.

use std::fmt;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::runtime::context;
use crate::runtime::wait;

/// `BoundedSemaphore.release()` above the starting value (Python's `ValueError: Semaphore
/// released too many times`).
#[derive(Debug, Clone, PartialEq)]
pub struct ReleasedTooManyTimes;

impl fmt::Display for ReleasedTooManyTimes {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "Semaphore released too many times")
    }
}

impl std::error::Error for ReleasedTooManyTimes {}

/// `threading.Semaphore(value)`: at most `value` holders at once.
pub struct Semaphore {
    name: String,
    /// Seats free right now.
    value: Mutex<u32>,
    /// Signalled each time a seat is given back.
    released: Condvar,
}

impl Semaphore {
    /// A semaphore with `value` free seats (Python's default is 1).
    pub fn new(value: u32) -> Semaphore {
        Semaphore {
            name: "semaphore".to_string(),
            value: Mutex::new(value),
            released: Condvar::new(),
        }
    }

    /// A name for the semaphore, shown in the `wait` events and on the timeline.
    pub fn named(mut self, name: &str) -> Semaphore {
        self.name = name.to_string();
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    fn count(&self) -> MutexGuard<'_, u32> {
        self.value.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes a seat, waiting as long as it takes.
    pub fn acquire(&self) {
        self.take(None);
    }

    /// Takes a seat, giving up after `timeout` (scaled by `--speed`): false if it did
    /// (`acquire(timeout=...)`).
    pub fn acquire_timeout(&self, timeout: Duration) -> bool {
        self.take(Some(timeout))
    }

    /// Takes a seat only if one is free now (`acquire(blocking=False)`).
    pub fn try_acquire(&self) -> bool {
        let mut free = self.count();
        if *free == 0 {
            return false;
        }
        *free -= 1;
        true
    }

    fn take(&self, timeout: Option<Duration>) -> bool {
        let mut free = self.count();
        if *free > 0 {
            *free -= 1;
            return true;
        }
        // Every seat is taken: this wait is worth showing.
        let waiting = wait::begin("semaphore", &self.name);
        let deadline = timeout.map(|timeout| Instant::now() + context::scaled(timeout));
        // A loop, not a single wait: a condition variable may wake a thread for nothing, and
        // another thread may have taken the seat first. The count is checked again each time.
        while *free == 0 {
            free = match deadline {
                None => self.released.wait(free).unwrap_or_else(|e| e.into_inner()),
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    self.released
                        .wait_timeout(free, left)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
        }
        let got = *free > 0;
        if got {
            *free -= 1;
        }
        drop(free);
        waiting.end(got);
        got
    }

    /// Gives a seat back (any thread may, even one that took none).
    pub fn release(&self) {
        let mut free = self.count();
        *free += 1;
        self.released.notify_one();
    }

    /// Takes a seat and keeps it until the guard is dropped: Python's `with sem:`.
    pub fn hold(&self) -> Seat<'_> {
        self.acquire();
        Seat { semaphore: self }
    }

    /// Seats free right now (a snapshot; Python keeps it in `_value`).
    pub fn value(&self) -> u32 {
        *self.count()
    }
}

/// A seat of a `Semaphore`, given back when it is dropped.
#[must_use = "the seat is given back as soon as the guard is dropped"]
pub struct Seat<'a> {
    semaphore: &'a Semaphore,
}

impl Drop for Seat<'_> {
    fn drop(&mut self) {
        self.semaphore.release();
    }
}

/// `threading.BoundedSemaphore(value)`: a `Semaphore` whose count may never go above
/// `value`. Releasing more often than acquiring is almost always a bug, and this one says so.
pub struct BoundedSemaphore {
    semaphore: Semaphore,
    bound: u32,
}

impl BoundedSemaphore {
    pub fn new(value: u32) -> BoundedSemaphore {
        BoundedSemaphore {
            semaphore: Semaphore::new(value).named("bounded-semaphore"),
            bound: value,
        }
    }

    pub fn named(mut self, name: &str) -> BoundedSemaphore {
        self.semaphore.name = name.to_string();
        self
    }

    pub fn name(&self) -> &str {
        self.semaphore.name()
    }

    pub fn acquire(&self) {
        self.semaphore.acquire();
    }

    pub fn acquire_timeout(&self, timeout: Duration) -> bool {
        self.semaphore.acquire_timeout(timeout)
    }

    pub fn try_acquire(&self) -> bool {
        self.semaphore.try_acquire()
    }

    /// Gives a seat back; an error if every seat is already free.
    pub fn release(&self) -> Result<(), ReleasedTooManyTimes> {
        let mut free = self.semaphore.count();
        if *free >= self.bound {
            return Err(ReleasedTooManyTimes);
        }
        *free += 1;
        self.semaphore.released.notify_one();
        Ok(())
    }

    /// `with sem:` (the seat is given back with `release`, which cannot fail here: the guard
    /// holds a seat).
    pub fn hold(&self) -> BoundedSeat<'_> {
        self.acquire();
        BoundedSeat { semaphore: self }
    }

    pub fn value(&self) -> u32 {
        self.semaphore.value()
    }
}

/// A seat of a `BoundedSemaphore`, given back when it is dropped.
#[must_use = "the seat is given back as soon as the guard is dropped"]
pub struct BoundedSeat<'a> {
    semaphore: &'a BoundedSemaphore,
}

impl Drop for BoundedSeat<'_> {
    fn drop(&mut self) {
        let _ = self.semaphore.release();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seats_are_counted_and_a_bounded_one_refuses_an_extra_release() {
        let seats = Semaphore::new(2);
        assert!(seats.try_acquire());
        assert!(seats.try_acquire());
        assert!(!seats.try_acquire());
        seats.release();
        {
            let _seat = seats.hold();
            assert_eq!(seats.value(), 0);
        }
        assert_eq!(seats.value(), 1);
        // A plain semaphore grows past its start.
        seats.release();
        seats.release();
        assert_eq!(seats.value(), 3);

        let bounded = BoundedSemaphore::new(1);
        assert_eq!(bounded.release(), Err(ReleasedTooManyTimes));
        assert!(bounded.try_acquire());
        std::thread::scope(|scope| {
            scope.spawn(|| bounded.release().unwrap());
        });
        assert_eq!(bounded.value(), 1);
        assert_eq!(
            ReleasedTooManyTimes.to_string(),
            "Semaphore released too many times"
        );
    }
}
