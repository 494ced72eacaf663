//! Python's `multiprocessing`, over real Linux processes: the API a lesson reads.
//!
//! - `process`: `Process` and `Worker` (lessons 1-4), `wait` (Python's `connection.wait`).
//! - `synchronize`: `Lock`, `Semaphore` (lessons 5, 9); `event`: `Event` (lesson 9).
//! - `queue`: `Queue`, `JoinableQueue` (lesson 6); `pipe`: `pipe()` and `Connection` (lesson 7).
//! - `sharedctypes`: `Value`, `Array`; `managers`: `Manager` (lesson 8).
//! - `pool`: `Pool` (lesson 10).
//! - `shared`: the anonymous shared memory (and the raw semaphore) the others are built on.

pub mod event;
pub mod managers;
mod name;
pub mod pipe;
pub mod pool;
pub mod process;
pub mod queue;
pub mod shared;
pub mod sharedctypes;
pub mod synchronize;

pub use event::Event;
pub use managers::{DictProxy, ListProxy, Manager, ManagerError};
pub use pipe::{Connection, ConnectionError, pipe};
pub use pool::{AsyncResult, Pool, PoolError, cpu_count};
pub use process::{Pid, Process, ProcessError, Worker};
pub use queue::{JoinableQueue, Queue, QueueError};
pub use sharedctypes::{Array, Value};
pub use synchronize::{Lock, Semaphore, SyncError};
