//! Waiting, made visible. Every primitive of the lab that can block (a lock, a queue, a join,
//! an accept ...) reports the wait itself: a `wait` event when it is about to block, and a
//! `woke` event when the wait is over, with how long it lasted and whether it got what it
//! waited for. The timeline draws the span between them as blocked, so "B waited 2 s for A's
//! lock" is seen, not read.
//!
//! A primitive that can get what it wants at once (a free lock) should take it without a
//! `wait`: only real blocking is drawn.
//!
//! ```ignore
//! if !self.try_acquire() {
//!     let waiting = wait::begin("lock", &self.name);
//!     let got = self.acquire_blocking(timeout);
//!     waiting.end(got);
//! }
//! ```

use std::time::{Duration, Instant};

use crate::runtime::context;
use crate::runtime::event::Kind;

/// A wait in progress: `end` reports it over.
#[must_use = "a wait must be ended with `end`, or the timeline shows the actor blocked forever"]
pub struct Waiting {
    on: &'static str,
    object: String,
    began: Instant,
}

/// Reports that the calling actor is about to block on `object`, a thing of kind `on`
/// (`"lock"`, `"queue"`, `"join"`, `"accept"` ...).
pub fn begin(on: &'static str, object: &str) -> Waiting {
    context::emit_wait(on, object);
    Waiting {
        on,
        object: object.to_string(),
        began: Instant::now(),
    }
}

impl Waiting {
    /// Reports the wait over: `got` is false when it timed out (or what it waited on was
    /// closed). Returns how long it lasted.
    pub fn end(self, got: bool) -> Duration {
        let after = self.began.elapsed();
        context::emit_woke(self.on, &self.object, after.as_secs_f64(), got);
        after
    }
}

impl Waiting {
    /// Reports the wait over, got, and `then` with it in the same write: what the wait was
    /// for, seen at the moment it ended (a join's `exit`). Returns how long the wait lasted.
    pub fn end_with(self, then: &Kind) -> Duration {
        let after = self.began.elapsed();
        context::emit_woke_then(self.on, &self.object, after.as_secs_f64(), then);
        after
    }
}

/// Runs `block` as one visible wait: `wait` before it, `woke` after, `got` from its result.
pub fn visibly<T>(
    on: &'static str,
    object: &str,
    block: impl FnOnce() -> T,
    got: impl Fn(&T) -> bool,
) -> T {
    let waiting = begin(on, object);
    let result = block();
    waiting.end(got(&result));
    result
}

/// Asks `check` every few milliseconds until it gives a value or `timeout` passes (the
/// timeout is taken as it is, not scaled: pass `context::scaled(...)` for a lesson's pace).
/// For things the kernel does on its own time and tells nobody about: a re-parenting read from
/// `/proc`, a state letter that changes.
pub fn poll_until<T>(timeout: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check() {
            return Some(value);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}
