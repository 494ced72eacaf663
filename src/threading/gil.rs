//! A model of CPython's global interpreter lock (GIL, 全局解释器锁). Rust has no GIL: this one is
//! built here, on purpose, so that lesson 12 can show what CPython's does to threads.
//!
//! ```ignore
//! let gil = Gil::new();                       // one per "interpreter", i.e. per process
//! let mut running = gil.acquire();            // a thread must hold it to run Python code
//! for _ in 0..units {
//!     do_some_bytecodes();
//!     running.check();                        // gives it away if another thread asked for it
//! }
//! running.allow_threads(|| context::sleep(d)); // released around blocking I/O
//! ```
//!
//! It follows CPython's own algorithm (`Python/ceval_gil.c`, the "new GIL" of Python 3.2 on):
//! - A thread that wants the GIL while another holds it waits on a condition variable for at
//!   most the *switch interval* (`sys.getswitchinterval()`, 5 ms by default). If it is still
//!   held after that, and nobody else got it meanwhile, the waiter sets a *drop request*.
//! - The holder looks at the drop request between two small units of work (CPython checks its
//!   "eval breaker" between bytecodes) and, when it is set, releases the GIL and waits until
//!   another thread has really taken it (CPython's `FORCE_SWITCHING`), so that it cannot take
//!   it straight back. Then it queues for the GIL again.
//! - Around a blocking call (a sleep, a read from a socket) the holder releases it and takes it
//!   back afterwards (`Py_BEGIN_ALLOW_THREADS` ... `Py_END_ALLOW_THREADS`).
//!
//! What the model leaves out: the real one is taken by the interpreter itself, not by the
//! program; and CPython also drops it for signals, pending calls and garbage collection.
//!
//! Every time a thread has to wait for the GIL it reports it (`wait`/`woke` on `gil`), like any
//! lock of the lab: one pair of events per handover. So a CPU-bound run of `T` seconds between
//! `N` threads reports about `T / switch interval` handovers; lessons keep `T` to a few dozen
//! intervals so the events stay countable.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

use crate::runtime::wait;

/// CPython's default switch interval: `sys.getswitchinterval()` is `0.005`.
pub const DEFAULT_SWITCH_INTERVAL: Duration = Duration::from_millis(5);

/// The state behind the GIL's own mutex.
#[derive(Debug, Default)]
struct State {
    locked: bool,
    /// How many times the GIL has been taken: a waiter compares it before and after waiting to
    /// tell whether anyone else got the GIL meanwhile (CPython's `switch_number`).
    switch_number: u64,
}

pub struct Gil {
    name: String,
    switch_interval: Duration,
    state: Mutex<State>,
    /// Signalled when the GIL is released: a waiter may take it.
    released: Condvar,
    /// Signalled when the GIL is taken: the thread that was asked to release it waits for this.
    taken: Condvar,
    /// Set by a waiter that waited a whole switch interval in vain; the holder reads it
    /// between units of work (CPython's `gil_drop_request`).
    drop_request: AtomicBool,
    /// Handovers forced by a drop request, for the lesson's notes.
    forced_switches: AtomicU64,
    /// Times a thread had to wait to take the GIL (each one is a `wait` event).
    waits: AtomicU64,
}

impl Default for Gil {
    fn default() -> Gil {
        Gil::new()
    }
}

impl Gil {
    /// A GIL with CPython's switch interval, 5 ms. It is not scaled by `--speed`: it is a
    /// property of the interpreter, not of the lesson's pace.
    pub fn new() -> Gil {
        Gil {
            name: "GIL".to_string(),
            switch_interval: DEFAULT_SWITCH_INTERVAL,
            state: Mutex::new(State::default()),
            released: Condvar::new(),
            taken: Condvar::new(),
            drop_request: AtomicBool::new(false),
            forced_switches: AtomicU64::new(0),
            waits: AtomicU64::new(0),
        }
    }

    /// Python's `sys.setswitchinterval(seconds)`, before the GIL is shared.
    pub fn with_switch_interval(mut self, interval: Duration) -> Gil {
        self.switch_interval = interval.max(Duration::from_micros(1));
        self
    }

    /// Python's `sys.getswitchinterval()`.
    pub fn switch_interval(&self) -> Duration {
        self.switch_interval
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// How many times the GIL changed hands because a waiter asked for it.
    pub fn forced_switches(&self) -> u64 {
        self.forced_switches.load(Ordering::SeqCst)
    }

    /// How many times a thread had to wait for the GIL.
    pub fn waits(&self) -> u64 {
        self.waits.load(Ordering::SeqCst)
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes the GIL for the calling thread (waiting, visibly, if another thread holds it), and
    /// holds it until the returned `Running` is dropped.
    pub fn acquire(&self) -> Running<'_> {
        let state = self.state();
        if state.locked {
            let waiting = wait::begin("gil", &self.name);
            self.waits.fetch_add(1, Ordering::SeqCst);
            self.take(state);
            waiting.end(true);
        } else {
            self.take(state);
        }
        Running { gil: self }
    }

    /// CPython's `take_gil`: waits, a switch interval at a time, until the GIL is free, asking
    /// the holder to drop it when a whole interval passed without any switch; then takes it.
    fn take(&self, mut state: MutexGuard<'_, State>) {
        while state.locked {
            let switches_before = state.switch_number;
            let (after, timeout) = self
                .released
                .wait_timeout(state, self.switch_interval)
                .unwrap_or_else(|e| e.into_inner());
            state = after;
            if timeout.timed_out() && state.locked && state.switch_number == switches_before {
                self.drop_request.store(true, Ordering::SeqCst);
            }
        }
        state.locked = true;
        state.switch_number += 1;
        // Whoever was asked to drop it can go on now: the switch has happened.
        self.drop_request.store(false, Ordering::SeqCst);
        self.taken.notify_all();
    }

    /// CPython's `drop_gil`. When the release was forced by a drop request, waits until some
    /// other thread has taken the GIL, so that the caller cannot take it straight back.
    fn drop_gil(&self, forced: bool) {
        let mut state = self.state();
        state.locked = false;
        let switches_before = state.switch_number;
        self.released.notify_one();
        if forced {
            while state.switch_number == switches_before {
                state = self.taken.wait(state).unwrap_or_else(|e| e.into_inner());
            }
        }
    }
}

/// The calling thread holds the GIL while this lives ("is running Python code").
#[must_use = "the GIL is released as soon as this is dropped"]
pub struct Running<'a> {
    gil: &'a Gil,
}

impl Running<'_> {
    /// The interpreter's periodic check between two units of work (CPython's eval breaker):
    /// if a waiting thread has asked for the GIL, hand it over and queue for it again. This is
    /// where a CPU-bound thread is made to take turns.
    pub fn check(&mut self) {
        if !self.gil.drop_request.load(Ordering::SeqCst) {
            return;
        }
        // From here until it has the GIL back, this thread is blocked on it.
        let waiting = wait::begin("gil", &self.gil.name);
        self.gil.waits.fetch_add(1, Ordering::SeqCst);
        self.gil.forced_switches.fetch_add(1, Ordering::SeqCst);
        self.gil.drop_gil(true);
        self.gil.take(self.gil.state());
        waiting.end(true);
    }

    /// Runs `blocking` (a sleep, a read ...) with the GIL released, then takes it back:
    /// `Py_BEGIN_ALLOW_THREADS` ... `Py_END_ALLOW_THREADS`, what CPython does around every
    /// blocking system call. Other threads run meanwhile.
    pub fn allow_threads<T>(&mut self, blocking: impl FnOnce() -> T) -> T {
        self.gil.drop_gil(false);
        let result = blocking();
        let state = self.gil.state();
        if state.locked {
            let waiting = wait::begin("gil", &self.gil.name);
            self.gil.waits.fetch_add(1, Ordering::SeqCst);
            self.gil.take(state);
            waiting.end(true);
        } else {
            self.gil.take(state);
        }
        result
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.gil.drop_gil(false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::time::Instant;

    /// Two threads that spin under the GIL are never inside at the same time, and the GIL
    /// changes hands between them.
    #[test]
    fn one_thread_at_a_time_and_they_take_turns() {
        let gil = Gil::new().with_switch_interval(Duration::from_millis(1));
        let inside = AtomicUsize::new(0);
        let most_inside = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..2 {
                scope.spawn(|| {
                    let mut running = gil.acquire();
                    let until = Instant::now() + Duration::from_millis(30);
                    while Instant::now() < until {
                        let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                        most_inside.fetch_max(now, Ordering::SeqCst);
                        std::hint::spin_loop();
                        inside.fetch_sub(1, Ordering::SeqCst);
                        running.check();
                    }
                });
            }
        });
        assert_eq!(most_inside.load(Ordering::SeqCst), 1);
        assert!(gil.forced_switches() >= 1, "{}", gil.forced_switches());
    }
}
