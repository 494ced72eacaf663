//! Python's `threading`, over real Linux threads: the API a lesson reads.

pub mod lock;
pub mod thread;

pub use lock::{Lock, ReleaseUnlocked};
pub use thread::{Thread, ThreadError};
