//! Python's `threading`, over real Linux threads: the API a lesson reads.

pub mod lock;
pub mod thread;

pub use lock::{Lock, ReleaseUnlocked};
pub use thread::{Thread, ThreadError};
pub mod condition;
pub mod event;
pub mod queue;
pub mod semaphore;
pub mod timer;

pub use condition::{Condition, ConditionError};
pub use event::Event;
pub use semaphore::{BoundedSemaphore, ReleasedTooManyTimes, Semaphore};
pub use timer::Timer;
