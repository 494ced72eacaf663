//! Python's `multiprocessing`, over real Linux processes: the API a lesson reads.

pub mod process;
pub mod shared;

pub use process::{Process, ProcessError, Worker};
