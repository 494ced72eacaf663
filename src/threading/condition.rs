//! Python's `threading.Condition` (条件变量): a lock, and a line of threads waiting on it to be
//! told that something has changed.
//!
//! ```ignore
//! let plate = Arc::new(Condition::new().named("plate"));
//! // consumer:                                 // Python:
//! let _held = plate.hold();                    // with plate:
//! plate.wait_for(|| buns.len() > 0)?;          //     plate.wait_for(lambda: buns)
//! eat(take_one_bun());                         //     eat(buns.pop())
//! // producer:
//! let _held = plate.hold();                    // with plate:
//! add_a_bun();                                 //     buns.append(bun)
//! plate.notify(1)?;                            //     plate.notify(1)
//! ```
//!
//! `wait` must be called with the lock held: it puts the caller at the end of the line,
//! releases the lock, sleeps until `notify` picks it, and takes the lock again before it
//! returns. `notify(n)` picks the first `n` threads of the line (exactly `n`, or all of them
//! if fewer are waiting); `notify_all` picks them all. A notify with nobody waiting does
//! nothing at all: it is not remembered for a thread that starts waiting later. That is why a
//! waiter always checks the *state* it waits for, with the lock held, before and after every
//! wait, in a loop: `wait_for(predicate)` is that loop.
//!
//! Built as CPython builds it: each waiter has its own place in a queue, and a notify hands
//! wake-ups to the first `n` places, so nobody else wakes. The lock is the lab's `Lock`
//! (Python's default is an `RLock`; with a plain `Lock`, as here, Python only checks that the
//! lock is held by someone, and so does this). Waiting is reported (`wait`/`woke`, kind
//! `condition`); taking the lock again after a wake-up is a `lock` wait of its own when
//! another thread has it. Timeouts are scaled by `--speed`.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::runtime::context;
use crate::runtime::wait;
use crate::threading::lock::{Held, Lock, ReleaseUnlocked};

/// Misuse of a `Condition`, with Python's messages (its `RuntimeError`s).
#[derive(Debug, Clone, PartialEq)]
pub enum ConditionError {
    /// `wait` without holding the lock.
    WaitUnacquired,
    /// `notify` or `notify_all` without holding the lock.
    NotifyUnacquired,
}

impl fmt::Display for ConditionError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            ConditionError::WaitUnacquired => write!(f, "cannot wait on un-acquired lock"),
            ConditionError::NotifyUnacquired => write!(f, "cannot notify on un-acquired lock"),
        }
    }
}

impl std::error::Error for ConditionError {}

/// The line of waiting threads. Each waiter is a number; `notify` moves numbers from `line`
/// to `picked`, and wakes exactly those threads, each on its own condition variable.
#[derive(Default)]
struct Waiters {
    line: VecDeque<(u64, Arc<Condvar>)>,
    picked: Vec<u64>,
    next_number: u64,
}

pub struct Condition {
    name: String,
    lock: Arc<Lock>,
    waiters: Mutex<Waiters>,
}

impl Default for Condition {
    fn default() -> Condition {
        Condition::new()
    }
}

impl Condition {
    /// A condition with a lock of its own (`Condition()`).
    pub fn new() -> Condition {
        Condition::with_lock(Arc::new(Lock::new().named("condition")))
    }

    /// A condition over a lock the caller already has (`Condition(lock)`): holding the lock
    /// and holding the condition are then the same thing.
    pub fn with_lock(lock: Arc<Lock>) -> Condition {
        Condition {
            name: lock.name().to_string(),
            lock,
            waiters: Mutex::new(Waiters::default()),
        }
    }

    /// A name for the condition, shown in the `wait` events and on the timeline.
    pub fn named(mut self, name: &str) -> Condition {
        self.name = name.to_string();
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    fn waiters(&self) -> MutexGuard<'_, Waiters> {
        self.waiters.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes the condition's lock.
    pub fn acquire(&self) {
        self.lock.acquire();
    }

    /// Gives the condition's lock back.
    pub fn release(&self) -> Result<(), ReleaseUnlocked> {
        self.lock.release()
    }

    /// Takes the lock and holds it until the guard is dropped: Python's `with cond:`.
    pub fn hold(&self) -> Held<'_> {
        self.lock.hold()
    }

    /// Releases the lock, sleeps until a `notify` picks this thread, and takes the lock
    /// again. Returns true (as Python's `wait()` without a timeout).
    pub fn wait(&self) -> Result<bool, ConditionError> {
        self.wait_until(None)
    }

    /// Like `wait`, giving up after `timeout` (scaled by `--speed`): false if nobody picked
    /// this thread in time. The lock is held again either way.
    pub fn wait_timeout(&self, timeout: Duration) -> Result<bool, ConditionError> {
        self.wait_until(Some(context::scaled(timeout)))
    }

    /// Waits until `predicate` is true, checking it (with the lock held) before the first
    /// wait and after every wake-up: Python's `wait_for`. Returns the predicate's last
    /// answer, which is true here.
    pub fn wait_for(&self, mut predicate: impl FnMut() -> bool) -> Result<bool, ConditionError> {
        while !predicate() {
            self.wait_until(None)?;
        }
        Ok(true)
    }

    /// `wait_for(predicate, timeout)`: gives up when `timeout` (scaled) has passed in all,
    /// and returns the predicate's answer then (false if it is still false).
    pub fn wait_for_timeout(
        &self,
        mut predicate: impl FnMut() -> bool,
        timeout: Duration,
    ) -> Result<bool, ConditionError> {
        let deadline = Instant::now() + context::scaled(timeout);
        loop {
            if predicate() {
                return Ok(true);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(false);
            }
            self.wait_until(Some(left))?;
        }
    }

    /// Wakes the first `n` waiting threads (fewer if fewer wait); the others keep waiting.
    /// Returns how many it woke (Python returns nothing; the count is the lab's, to show).
    pub fn notify(&self, n: usize) -> Result<usize, ConditionError> {
        if !self.lock.locked() {
            return Err(ConditionError::NotifyUnacquired);
        }
        let mut waiters = self.waiters();
        let mut woken = 0;
        while woken < n {
            let Some((number, asleep)) = waiters.line.pop_front() else {
                break;
            };
            waiters.picked.push(number);
            asleep.notify_one();
            woken += 1;
        }
        Ok(woken)
    }

    /// Wakes every waiting thread.
    pub fn notify_all(&self) -> Result<usize, ConditionError> {
        self.notify(usize::MAX)
    }

    /// How many threads are waiting right now (a snapshot; Python keeps them in `_waiters`).
    pub fn waiting(&self) -> usize {
        self.waiters().line.len()
    }

    /// The wait itself: `timeout` is already scaled.
    fn wait_until(&self, timeout: Option<Duration>) -> Result<bool, ConditionError> {
        if !self.lock.locked() {
            return Err(ConditionError::WaitUnacquired);
        }
        let asleep = Arc::new(Condvar::new());
        let mut waiters = self.waiters();
        let number = waiters.next_number;
        waiters.next_number += 1;
        waiters.line.push_back((number, asleep.clone()));
        let waiting = wait::begin("condition", &self.name);
        // In the line first, then the lock released: a notify made as soon as the lock is
        // free finds this thread in the line. (Checked above: the lock is held.)
        let _ = self.lock.release();
        let deadline = timeout.map(|timeout| Instant::now() + timeout);
        let picked = loop {
            if let Some(place) = waiters.picked.iter().position(|&n| n == number) {
                waiters.picked.swap_remove(place);
                break true;
            }
            // A condition variable may wake a thread for nothing: only being picked counts.
            waiters = match deadline {
                None => asleep.wait(waiters).unwrap_or_else(|e| e.into_inner()),
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        // Out of the line, so that a later notify does not spend a wake-up on
                        // a thread that has stopped waiting.
                        waiters.line.retain(|(n, _)| *n != number);
                        break false;
                    }
                    asleep
                        .wait_timeout(waiters, left)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
        };
        drop(waiters);
        waiting.end(picked);
        // Woken (or timed out), it needs the lock back before it may look at the state.
        self.lock.acquire();
        Ok(picked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

    #[test]
    fn notify_n_wakes_exactly_n_and_misuse_is_an_error() {
        let condition = Condition::new();
        assert_eq!(condition.wait(), Err(ConditionError::WaitUnacquired));
        assert_eq!(condition.notify(1), Err(ConditionError::NotifyUnacquired));
        assert_eq!(
            ConditionError::WaitUnacquired.to_string(),
            "cannot wait on un-acquired lock"
        );
        let woke = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..3 {
                scope.spawn(|| {
                    let _held = condition.hold();
                    condition.wait().unwrap();
                    woke.fetch_add(1, SeqCst);
                });
            }
            while condition.waiting() < 3 {
                std::thread::yield_now();
            }
            {
                let _held = condition.hold();
                assert_eq!(condition.notify(2), Ok(2));
                assert_eq!(condition.waiting(), 1);
            }
            while woke.load(SeqCst) < 2 {
                std::thread::yield_now();
            }
            std::thread::sleep(Duration::from_millis(20));
            assert_eq!(woke.load(SeqCst), 2);
            let _held = condition.hold();
            assert_eq!(condition.notify_all(), Ok(1));
        });
        assert_eq!(woke.load(SeqCst), 3);
    }
}
