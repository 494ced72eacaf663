//! Waiting, made visible. Every primitive of the lab that can block (a lock, a queue, a join,
//! an accept ...) reports the wait itself: a `wait` event when it is about to block, and a
//! `woke` event when the wait is over, with how long it lasted and whether it got what it
//! waited for. The timeline draws the span between them as blocked, so "B waited 2 s for A's
//! lock" is seen, not read.
//!
//! A primitive that can get what it wants at once (a free lock) should take it without a
//! `wait`: only real blocking is drawn.
//!
//! A wait ends in one of five ways (`Ended`): it got what it waited for, it met the end of
//! file (the other end closed), its timeout ran out, a signal interrupted it, or the call
//! failed. `end(got)` is for waits whose only other end is a time-out (a lock with a
//! timeout); `ended(how)` says which, for the rest.
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
pub use crate::runtime::event::Ended;
use crate::runtime::event::Kind;

/// A wait in progress: `end` reports it over.
#[must_use = "a wait must be ended with `end`, or the timeline shows the actor blocked forever"]
pub struct Waiting {
    on: &'static str,
    object: ObjectName,
    began: Instant,
}

/// The name of what is waited on, kept until the wait ends. A short name (most are) is kept
/// in place rather than on the heap: a join's wait begins while the new child still shares
/// its parent's memory, and each heap page the parent writes then is copied.
enum ObjectName {
    Short {
        bytes: [u8; SHORT_NAME_BYTES],
        len: usize,
    },
    Long(String),
}

const SHORT_NAME_BYTES: usize = 48;

impl ObjectName {
    fn new(name: &str) -> ObjectName {
        if name.len() > SHORT_NAME_BYTES {
            return ObjectName::Long(name.to_string());
        }
        let mut bytes = [0; SHORT_NAME_BYTES];
        bytes[..name.len()].copy_from_slice(name.as_bytes());
        ObjectName::Short {
            bytes,
            len: name.len(),
        }
    }

    fn as_str(&self) -> &str {
        match self {
            // A whole `&str` was copied in: always UTF-8.
            ObjectName::Short { bytes, len } => std::str::from_utf8(&bytes[..*len]).unwrap_or(""),
            ObjectName::Long(name) => name,
        }
    }
}

/// Reports that the calling actor is about to block on `object`, a thing of kind `on`
/// (`"lock"`, `"queue"`, `"join"`, `"accept"` ...).
pub fn begin(on: &'static str, object: &str) -> Waiting {
    context::emit_wait(on, object);
    Waiting {
        on,
        object: ObjectName::new(object),
        began: Instant::now(),
    }
}

impl Waiting {
    /// Reports the wait over, for a wait that either gets what it waits for or times out:
    /// `got` false means its timeout ran out. Returns how long it lasted.
    pub fn end(self, got: bool) -> Duration {
        self.ended(if got { Ended::Got } else { Ended::TimedOut })
    }

    /// Reports the wait over, ended as `how`. Returns how long it lasted.
    pub fn ended(self, how: Ended) -> Duration {
        let after = self.began.elapsed();
        context::emit_woke(self.on, self.object.as_str(), after.as_secs_f64(), how);
        after
    }

    /// Reports the wait over, got, and `then` with it in the same write: what the wait was
    /// for, seen at the moment it ended (a join's `exit`). Returns how long the wait lasted.
    pub fn end_with(self, then: &Kind) -> Duration {
        let after = self.began.elapsed();
        context::emit_woke_then(self.on, self.object.as_str(), after.as_secs_f64(), then);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_object_name_is_kept_whole_short_or_long() {
        let exactly_short = "x".repeat(SHORT_NAME_BYTES);
        let long = "x".repeat(SHORT_NAME_BYTES + 1);
        let chinese = "主进程的队列".repeat(3); // 54 bytes: kept on the heap
        for name in ["", "alex", "主进程", &exactly_short, &long, &chinese] {
            let kept = ObjectName::new(name);
            assert_eq!(kept.as_str(), name);
            let short = matches!(kept, ObjectName::Short { .. });
            assert_eq!(short, name.len() <= SHORT_NAME_BYTES, "{name}");
        }
    }
}
