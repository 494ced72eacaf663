//! Python's `multiprocessing`, over real Linux processes: the API a lesson reads.

pub mod pipe;
pub mod process;
pub mod queue;
pub mod shared;
pub mod synchronize;

pub use process::{Pid, Process, ProcessError, Worker};
pub use synchronize::{Lock, Semaphore, SyncError};

pub use pipe::{Connection, ConnectionError, pipe};
pub use queue::{JoinableQueue, Queue, QueueError};
