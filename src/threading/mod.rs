//! Python's `threading` (and its `queue` module), over real Linux threads: the API a lesson
//! reads.
//!
//! - `thread`: `Thread` and the `Runnable` trait (lesson 11); `current`: `current_thread()`,
//!   `enumerate()`, `active_count()`.
//! - `lock`: `Lock`; `rlock`: `RLock` (lesson 13).
//! - `semaphore`, `event`, `condition`, `timer`: the rest of Python's synchronisation (lesson 14).
//! - `queue`: `Queue`, `LifoQueue`, `PriorityQueue` (lesson 15).
//! - `gil`: a model of CPython's global interpreter lock (lesson 12).

pub mod condition;
pub mod current;
pub mod event;
pub mod gil;
pub mod lock;
pub mod queue;
pub mod rlock;
pub mod semaphore;
pub mod thread;
pub mod timer;

pub use condition::{Condition, ConditionError};
pub use current::{active_count, current_thread, enumerate, main_thread};
pub use event::Event;
pub use gil::Gil;
pub use lock::{Lock, ReleaseUnlocked};
pub use rlock::{RLock, ReleaseUnowned};
pub use semaphore::{BoundedSemaphore, ReleasedTooManyTimes, Semaphore};
pub use thread::{Thread, ThreadError};
pub use timer::Timer;
