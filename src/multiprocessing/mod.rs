//! Python's `multiprocessing`, over real Linux processes: the API a lesson reads.

pub mod process;
pub mod shared;
pub mod synchronize;

pub mod event;
pub mod managers;
pub mod pool;
pub mod sharedctypes;

pub use process::{Pid, Process, ProcessError, Worker};
pub use synchronize::{Lock, Semaphore, SyncError};
