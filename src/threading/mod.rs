//! Python's `threading`, over real Linux threads: the API a lesson reads.

pub mod current;
pub mod gil;
pub mod lock;
pub mod rlock;
pub mod thread;

pub use current::{active_count, current_thread, enumerate, main_thread};
pub use gil::Gil;
pub use lock::{Lock, ReleaseUnlocked};
pub use rlock::{RLock, ReleaseUnowned};
pub use thread::{Thread, ThreadError};
