//! Python's `threading`, over real Linux threads: the API a lesson reads.

pub mod thread;

pub use thread::{Thread, ThreadError};
