//! Python's `threading.Timer` (定时器): run a function once, after a delay, in a thread of its
//! own, unless it is cancelled first.
//!
//! ```ignore
//! let mut timer = Timer::new(Duration::from_secs(1), || say!("hello, world")).named("hello");
//! timer.start()?;     // returns at once; the function runs one second later
//! timer.cancel();     // in time: the function never runs
//! ```
//!
//! A `Timer` is a `Thread` whose target waits on an `Event`, `finished`, for `interval`
//! (scaled by `--speed`): if the wait times out, nobody cancelled, and the function runs; if
//! `cancel` set the event first, the wait ends early and the function is skipped. That is
//! exactly CPython's `Timer.run`, so the timeline shows a timer as a thread blocked on its
//! event for the whole interval.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::time::Duration;

use crate::threading::event::Event;
use crate::threading::thread::{Thread, ThreadError};

pub struct Timer {
    thread: Thread,
    finished: Arc<Event>,
    fired: Arc<AtomicBool>,
}

impl Timer {
    /// A timer that will call `function` `interval` after `start()` (scaled by `--speed`).
    pub fn new(interval: Duration, function: impl FnOnce() + Send + 'static) -> Timer {
        // Named as CPython's attribute is: the wait reads `event finished`.
        let finished = Arc::new(Event::new().named("finished"));
        let fired = Arc::new(AtomicBool::new(false));
        let (in_thread, fired_in_thread) = (finished.clone(), fired.clone());
        let thread = Thread::new(move || {
            // Ends early only if `cancel` sets the event before the interval is over.
            in_thread.wait_timeout(interval);
            if !in_thread.is_set() {
                fired_in_thread.store(true, SeqCst);
                function();
            }
            in_thread.set();
        });
        Timer {
            thread,
            finished,
            fired,
        }
    }

    /// Names the timer's thread. Only before `start()`.
    pub fn named(self, name: &str) -> Timer {
        Timer {
            thread: self.thread.named(name),
            ..self
        }
    }

    pub fn name(&self) -> &str {
        self.thread.name()
    }

    /// Starts the countdown; returns at once. A second `start()` is Python's error.
    pub fn start(&mut self) -> Result<(), ThreadError> {
        self.thread.start()
    }

    /// Stops the timer if its function has not started yet (harmless afterwards).
    pub fn cancel(&self) {
        self.finished.set();
    }

    /// Waits for the timer's thread to end (after the function ran, or after a `cancel`).
    pub fn join(&mut self) -> Result<i32, ThreadError> {
        self.thread.join()
    }

    pub fn set_daemon(&mut self, daemon: bool) -> Result<(), ThreadError> {
        self.thread.set_daemon(daemon)
    }

    pub fn is_alive(&self) -> bool {
        self.thread.is_alive()
    }

    /// Whether the function was called (the lab's addition, for the lesson to report;
    /// Python's `Timer` does not say).
    pub fn fired(&self) -> bool {
        self.fired.load(SeqCst)
    }
}
