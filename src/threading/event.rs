//! Python's `threading.Event` (事件): one flag that threads can wait for.
//!
//! ```ignore
//! let connected = Arc::new(Event::new().named("db-ready"));
//! // in the checker:  connected.set();
//! // in a worker:     if connected.wait_timeout(Duration::from_millis(500)) { ... }
//! ```
//!
//! `set` raises the flag and wakes every thread waiting for it; `clear` lowers it; `wait`
//! returns at once while it is raised, and otherwise sleeps until someone sets it (or the
//! timeout, scaled by `--speed`, runs out: then it returns false, as Python's does).
//!
//! A flag under a mutex and a condition variable. Only a thread that really has to wait
//! reports it (`wait`/`woke` events, kind `event`).

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::runtime::context;
use crate::runtime::wait;

pub struct Event {
    name: String,
    flag: Mutex<bool>,
    /// Signalled, to every waiter at once, when the flag is set.
    raised: Condvar,
}

impl Default for Event {
    fn default() -> Event {
        Event::new()
    }
}

impl Event {
    /// A new event, its flag down.
    pub fn new() -> Event {
        Event {
            name: "event".to_string(),
            flag: Mutex::new(false),
            raised: Condvar::new(),
        }
    }

    /// A name for the event, shown in the `wait` events and on the timeline.
    pub fn named(mut self, name: &str) -> Event {
        self.name = name.to_string();
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    fn flag(&self) -> MutexGuard<'_, bool> {
        self.flag.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Raises the flag and wakes every thread waiting for it.
    pub fn set(&self) {
        *self.flag() = true;
        self.raised.notify_all();
    }

    /// Lowers the flag: from now on `wait` blocks again.
    pub fn clear(&self) {
        *self.flag() = false;
    }

    pub fn is_set(&self) -> bool {
        *self.flag()
    }

    /// Waits until the flag is raised. Returns true (as Python's `wait()` without a timeout).
    pub fn wait(&self) -> bool {
        self.wait_until(None)
    }

    /// Waits until the flag is raised or `timeout` (scaled by `--speed`) has passed: true if
    /// the flag is up, false if the time ran out (`wait(timeout)`).
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        self.wait_until(Some(timeout))
    }

    fn wait_until(&self, timeout: Option<Duration>) -> bool {
        let mut raised = self.flag();
        if *raised {
            return true;
        }
        let waiting = wait::begin("event", &self.name);
        let deadline = timeout.map(|timeout| Instant::now() + context::scaled(timeout));
        // Checked again after every wake-up: a condition variable may wake a thread for
        // nothing.
        while !*raised {
            raised = match deadline {
                None => self.raised.wait(raised).unwrap_or_else(|e| e.into_inner()),
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    self.raised
                        .wait_timeout(raised, left)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
        }
        let got = *raised;
        drop(raised);
        waiting.end(got);
        got
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_wakes_a_waiter_and_clear_lowers_the_flag() {
        let event = Event::new();
        assert!(!event.is_set());
        std::thread::scope(|scope| {
            let waiter = scope.spawn(|| event.wait());
            event.set();
            assert!(waiter.join().unwrap());
        });
        assert!(event.is_set());
        assert!(event.wait());
        event.clear();
        assert!(!event.is_set());
    }
}
