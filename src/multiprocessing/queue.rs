//! Python's `multiprocessing.Queue` and `JoinableQueue`: a queue (队列) between processes,
//! made of a pipe and locks.
//!
//! ```ignore
//! let q: Queue<Option<String>> = Queue::new(3)?.named("baozi");   // Python's Queue(3)
//! let in_consumer = q.clone();
//! let mut consumer = Process::new(move || -> Result<(), QueueError> {
//!     while let Some(baozi) = in_consumer.get()? {   // None is the sentinel: stop
//!         say!("ate {baozi}");
//!     }
//!     Ok(())
//! });
//! consumer.start()?;
//! q.put(&Some("baozi 1".to_string()))?;
//! q.put(&None)?;
//! ```
//!
//! What is underneath, the way Python builds it (`multiprocessing/queues.py`):
//! - a one-way pipe (`pipe.rs`) that carries each message framed by its length;
//! - a *write lock*: a message longer than `PIPE_BUF` (4096 bytes on Linux) may be written in
//!   pieces, and two writers at once would interleave their pieces. With the lock, one message
//!   is written whole before the next begins;
//! - a *read lock*, so that one reader reads a whole message before the next reader starts;
//! - for a bounded queue, a semaphore that counts the free places: `put` takes one (and waits,
//!   visibly, when there is none: the queue is full), `get` gives one back.
//!
//! The difference from Python: Python's `put` only appends to a buffer in the putting process,
//! and a *feeder thread* writes the buffer into the pipe later; so `put` returns at once even
//! when the pipe is full, and an object put is not in the pipe yet when `put` returns. This
//! `put` writes into the pipe itself, in the caller: no thread (a process with a thread running
//! could not fork safely), and a message is in the pipe when `put` returns. The price: when the
//! pipe's buffer (64 KiB by default) is full, `put` on an unbounded queue waits for a reader.
//!
//! Python pickles the objects it puts; here they are encoded as JSON (`serde`), so a queue
//! carries any type that derives `Serialize` and `Deserialize`: `String`, numbers, a struct,
//! and `Option<T>`, whose `None` plays the part of Python's sentinel `None`.
//!
//! Every process forked after the queue was made shares it; `clone()` gives a handle for a
//! child's closure. Waits are reported (`wait`/`woke` on "queue"), and the timeouts are lesson
//! durations, scaled by `--speed`.

use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::atomic::{AtomicI64, AtomicU32, Ordering};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::multiprocessing::pipe::{Connection, ConnectionError, pipe_waiting_as};
use crate::multiprocessing::shared::{Semaphore, SharedMemory};
use crate::runtime::context;
use crate::runtime::wait;

/// What can go wrong with a queue, as Python reports it.
#[derive(Debug, Clone, PartialEq)]
pub enum QueueError {
    /// `put` found no free place in time (Python's `queue.Full`).
    Full,
    /// `get` found nothing in time (Python's `queue.Empty`).
    Empty,
    /// `put` or `get` after `close()` in this process.
    Closed(String),
    /// `task_done()` more often than items were put.
    TaskDoneTooManyTimes,
    /// The pipe underneath failed (a message that cannot be decoded, say).
    Connection(ConnectionError),
    /// The kernel refused.
    System(&'static str, Errno),
}

impl fmt::Display for QueueError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            QueueError::Full => write!(f, "queue.Full"),
            QueueError::Empty => write!(f, "queue.Empty"),
            QueueError::Closed(name) => write!(f, "Queue {name} is closed"),
            QueueError::TaskDoneTooManyTimes => write!(f, "task_done() called too many times"),
            QueueError::Connection(error) => write!(f, "{error}"),
            QueueError::System(call, errno) => write!(f, "{call}: {}", errno.desc()),
        }
    }
}

impl std::error::Error for QueueError {}

impl From<ConnectionError> for QueueError {
    fn from(error: ConnectionError) -> QueueError {
        QueueError::Connection(error)
    }
}

/// `multiprocessing.Queue(maxsize)` carrying messages of type `T`. Clones are handles to the
/// same queue.
pub struct Queue<T> {
    shared: Rc<QueueParts>,
    message: PhantomData<fn(T) -> T>,
}

impl<T> Clone for Queue<T> {
    fn clone(&self) -> Self {
        Queue {
            shared: Rc::clone(&self.shared),
            message: PhantomData,
        }
    }
}

/// The parts of a queue, shared by its handles in one process.
struct QueueParts {
    name: String,
    maxsize: usize,
    reader: Connection,
    writer: Connection,
    read_lock: SharedMemory<Semaphore>,
    write_lock: SharedMemory<Semaphore>,
    /// Free places, for a bounded queue (`None`: unbounded).
    free_places: Option<SharedMemory<Semaphore>>,
    /// Messages put and not yet got, for `qsize()`.
    items: SharedMemory<AtomicI64>,
    /// `close()` was called in this process.
    closed: Cell<bool>,
}

/// A semaphore taken, given back when dropped (on every way out of a `put` or `get`).
struct Taken<'a>(&'a Semaphore);

impl Drop for Taken<'_> {
    fn drop(&mut self) {
        let _ = self.0.release();
    }
}

/// How long a call may wait: for ever, not at all, or until a deadline.
#[derive(Clone, Copy)]
enum Patience {
    Forever,
    None,
    Until(Instant),
}

impl Patience {
    /// From a lesson timeout (scaled by `--speed`).
    fn from_timeout(timeout: Duration) -> Patience {
        Patience::Until(Instant::now() + context::scaled(timeout))
    }

    fn left(self) -> Option<Duration> {
        match self {
            Patience::Forever => None,
            Patience::None => Some(Duration::ZERO),
            Patience::Until(deadline) => Some(deadline.saturating_duration_since(Instant::now())),
        }
    }
}

impl<T: Serialize + DeserializeOwned> Queue<T> {
    /// A queue of at most `maxsize` messages; 0 means no bound, as in Python.
    pub fn new(maxsize: usize) -> Result<Queue<T>, QueueError> {
        let (reader, writer) = pipe_waiting_as(false, "queue")?;
        let semaphore =
            |value| Semaphore::shared(value).map_err(|errno| QueueError::System("sem_init", errno));
        let free_places = match maxsize {
            0 => None,
            n => Some(semaphore(u32::try_from(n).unwrap_or(u32::MAX))?),
        };
        Ok(Queue {
            shared: Rc::new(QueueParts {
                name: "queue".to_string(),
                maxsize,
                reader,
                writer,
                read_lock: semaphore(1)?,
                write_lock: semaphore(1)?,
                free_places,
                items: SharedMemory::new(AtomicI64::new(0))
                    .map_err(|errno| QueueError::System("mmap", errno))?,
                closed: Cell::new(false),
            }),
            message: PhantomData,
        })
    }

    /// A name for the queue, shown in its `wait` events and on the timeline. Call it before
    /// cloning the queue.
    pub fn named(mut self, name: &str) -> Queue<T> {
        if let Some(parts) = Rc::get_mut(&mut self.shared) {
            parts.name = name.to_string();
        }
        self
    }

    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// `maxsize` as given (0: unbounded).
    pub fn maxsize(&self) -> usize {
        self.shared.maxsize
    }

    /// Puts `message`, waiting as long as it takes for a free place (`q.put(obj)`).
    pub fn put(&self, message: &T) -> Result<(), QueueError> {
        self.put_with(message, Patience::Forever)
    }

    /// Puts `message`, waiting at most `timeout` for a free place: `Err(Full)` after it
    /// (`q.put(obj, timeout=...)`).
    pub fn put_timeout(&self, message: &T, timeout: Duration) -> Result<(), QueueError> {
        self.put_with(message, Patience::from_timeout(timeout))
    }

    /// Puts `message` only if there is a free place now, else `Err(Full)` (`q.put_nowait`).
    pub fn put_nowait(&self, message: &T) -> Result<(), QueueError> {
        self.put_with(message, Patience::None)
    }

    /// Gets the next message, waiting as long as it takes (`q.get()`).
    pub fn get(&self) -> Result<T, QueueError> {
        self.get_with(Patience::Forever)
    }

    /// Gets the next message, waiting at most `timeout`: `Err(Empty)` after it
    /// (`q.get(timeout=...)`).
    pub fn get_timeout(&self, timeout: Duration) -> Result<T, QueueError> {
        self.get_with(Patience::from_timeout(timeout))
    }

    /// Gets a message only if one is there now, else `Err(Empty)` (`q.get_nowait()`).
    pub fn get_nowait(&self) -> Result<T, QueueError> {
        self.get_with(Patience::None)
    }

    /// How many messages are in the queue: put and not yet got. Only a hint: another process
    /// may put or get between this answer and whatever the caller does with it.
    pub fn qsize(&self) -> usize {
        self.shared.items.load(Ordering::SeqCst).max(0) as usize
    }

    /// Whether the pipe has nothing to read right now. Only a hint, as `qsize()`.
    pub fn empty(&self) -> bool {
        !matches!(
            self.shared.reader.poll_quietly(Some(Duration::ZERO)),
            Ok(true)
        )
    }

    /// Whether every place of a bounded queue is taken right now. Only a hint, as `qsize()`.
    pub fn full(&self) -> bool {
        self.shared
            .free_places
            .as_ref()
            .is_some_and(|free| free.value().is_ok_and(|value| value <= 0))
    }

    /// This process will put and get no more: its ends of the pipe are closed, and `put` and
    /// `get` here are errors from now on. Other processes are not told anything (a consumer
    /// blocked in `get` stays blocked): that is what a sentinel is for.
    pub fn close(&self) {
        self.shared.closed.set(true);
        self.shared.reader.close();
        self.shared.writer.close();
    }

    fn check_open(&self) -> Result<(), QueueError> {
        if self.shared.closed.get() {
            return Err(QueueError::Closed(self.shared.name.clone()));
        }
        Ok(())
    }

    fn put_with(&self, message: &T, patience: Patience) -> Result<(), QueueError> {
        self.check_open()?;
        let bytes = serde_json::to_vec(message)
            .map_err(|e| QueueError::Connection(ConnectionError::Decode(e.to_string())))?;
        let parts = &self.shared;
        // A place in a bounded queue: taken by `put`, given back by the `get` that takes the
        // message out, so it is not released here but forgotten.
        if let Some(free) = &parts.free_places
            && !self.take(free, patience)?
        {
            return Err(QueueError::Full);
        }
        let written = {
            // The write lock: no other writer between the first and last byte of this message.
            self.take(&parts.write_lock, Patience::Forever)?;
            let _held = Taken(&parts.write_lock);
            parts.writer.send_bytes(&bytes)
        };
        match written {
            Ok(()) => {
                parts.items.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }
            Err(error) => {
                if let Some(free) = &parts.free_places {
                    let _ = free.release();
                }
                Err(error.into())
            }
        }
    }

    fn get_with(&self, patience: Patience) -> Result<T, QueueError> {
        self.check_open()?;
        let parts = &self.shared;
        // The read lock first (Python does the same): one reader at a time reads a whole
        // message. Then wait for a message to be there.
        if !self.take(&parts.read_lock, patience)? {
            return Err(QueueError::Empty);
        }
        let bytes = {
            let _held = Taken(&parts.read_lock);
            if !self.message_there(patience)? {
                return Err(QueueError::Empty);
            }
            parts.reader.recv_bytes()?
        };
        parts.items.fetch_sub(1, Ordering::SeqCst);
        if let Some(free) = &parts.free_places {
            free.release()
                .map_err(|errno| QueueError::System("sem_post", errno))?;
        }
        serde_json::from_slice(&bytes)
            .map_err(|e| QueueError::Connection(ConnectionError::Decode(e.to_string())))
    }

    /// Takes a permit of `semaphore`: at once if it can, else waiting as `patience` allows, and
    /// then the wait is reported. False if it gave up.
    fn take(&self, semaphore: &Semaphore, patience: Patience) -> Result<bool, QueueError> {
        let failed = |errno| QueueError::System("sem_wait", errno);
        if semaphore.acquire_timeout(Duration::ZERO).map_err(failed)? {
            return Ok(true);
        }
        let waiting = match patience {
            Patience::None => return Ok(false),
            _ => wait::begin("queue", &self.shared.name),
        };
        let got = match patience.left() {
            None => semaphore.acquire().map(|()| true),
            Some(left) => semaphore.acquire_timeout(left),
        };
        waiting.ended(match got {
            Ok(true) => crate::runtime::wait::Ended::Got,
            Ok(false) => crate::runtime::wait::Ended::TimedOut,
            Err(_) => crate::runtime::wait::Ended::Error,
        });
        got.map_err(failed)
    }

    /// Whether a message is (or comes, as `patience` allows) in the pipe; a wait is reported.
    fn message_there(&self, patience: Patience) -> Result<bool, QueueError> {
        let reader = &self.shared.reader;
        if reader.poll_quietly(Some(Duration::ZERO))? {
            return Ok(true);
        }
        let waiting = match patience {
            Patience::None => return Ok(false),
            _ => wait::begin("queue", &self.shared.name),
        };
        let came = reader.poll_quietly(patience.left());
        waiting.ended(match came {
            Ok(true) => crate::runtime::wait::Ended::Got,
            Ok(false) => crate::runtime::wait::Ended::TimedOut,
            Err(_) => crate::runtime::wait::Ended::Error,
        });
        Ok(came?)
    }
}

/// `multiprocessing.JoinableQueue`: a `Queue` that also counts the messages not yet *done*:
/// `put` adds one, `task_done()` (called by a consumer when it has finished with a message it
/// got) takes one away, and `join()` waits until none is left.
pub struct JoinableQueue<T> {
    queue: Queue<T>,
    /// Messages put and not yet marked done. A futex word: `join` sleeps on it in the kernel
    /// until `task_done` brings it to 0 and wakes every sleeper (Python uses a condition
    /// variable; a futex is what such things are made of on Linux).
    unfinished: SharedMemory<AtomicU32>,
}

impl<T> Clone for JoinableQueue<T> {
    fn clone(&self) -> Self {
        JoinableQueue {
            queue: self.queue.clone(),
            unfinished: self.unfinished.clone(),
        }
    }
}

impl<T: Serialize + DeserializeOwned> JoinableQueue<T> {
    pub fn new(maxsize: usize) -> Result<JoinableQueue<T>, QueueError> {
        Ok(JoinableQueue {
            queue: Queue::new(maxsize)?,
            unfinished: SharedMemory::new(AtomicU32::new(0))
                .map_err(|errno| QueueError::System("mmap", errno))?,
        })
    }

    pub fn named(self, name: &str) -> JoinableQueue<T> {
        JoinableQueue {
            queue: self.queue.named(name),
            unfinished: self.unfinished,
        }
    }

    pub fn put(&self, message: &T) -> Result<(), QueueError> {
        self.counted(|| self.queue.put(message))
    }

    pub fn put_timeout(&self, message: &T, timeout: Duration) -> Result<(), QueueError> {
        self.counted(|| self.queue.put_timeout(message, timeout))
    }

    pub fn put_nowait(&self, message: &T) -> Result<(), QueueError> {
        self.counted(|| self.queue.put_nowait(message))
    }

    pub fn get(&self) -> Result<T, QueueError> {
        self.queue.get()
    }

    pub fn get_timeout(&self, timeout: Duration) -> Result<T, QueueError> {
        self.queue.get_timeout(timeout)
    }

    pub fn get_nowait(&self) -> Result<T, QueueError> {
        self.queue.get_nowait()
    }

    pub fn qsize(&self) -> usize {
        self.queue.qsize()
    }

    pub fn empty(&self) -> bool {
        self.queue.empty()
    }

    pub fn full(&self) -> bool {
        self.queue.full()
    }

    pub fn close(&self) {
        self.queue.close()
    }

    /// Messages put and not yet marked done (a snapshot).
    pub fn unfinished(&self) -> u32 {
        self.unfinished.load(Ordering::SeqCst)
    }

    /// A consumer says it has finished with a message it got (`q.task_done()`). More calls
    /// than messages put is an error, with Python's message.
    pub fn task_done(&self) -> Result<(), QueueError> {
        let before = self
            .unfinished
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .map_err(|_| QueueError::TaskDoneTooManyTimes)?;
        if before == 1 {
            futex_wake_all(&self.unfinished);
        }
        Ok(())
    }

    /// Waits until every message put has been marked done (`q.join()`).
    pub fn join(&self) {
        if self.unfinished() == 0 {
            return;
        }
        let waiting = wait::begin("queue", self.queue.name());
        loop {
            let left = self.unfinished();
            if left == 0 {
                break;
            }
            // Sleeps only if the count is still `left`: a `task_done` in between is not missed.
            futex_wait(&self.unfinished, left);
        }
        waiting.end(true);
    }

    /// Counts a message as unfinished before it is put (so that a quick consumer's
    /// `task_done` never finds the count at 0), and uncounts it if the put failed.
    fn counted(&self, put: impl FnOnce() -> Result<(), QueueError>) -> Result<(), QueueError> {
        self.unfinished.fetch_add(1, Ordering::SeqCst);
        let result = put();
        if result.is_err() && self.unfinished.fetch_sub(1, Ordering::SeqCst) == 1 {
            futex_wake_all(&self.unfinished);
        }
        result
    }
}

/// Sleeps in the kernel while `word` still holds `expected` (or until a wake-up or a signal).
/// Not the private kind of futex: the word is in memory shared by several processes.
fn futex_wait(word: &AtomicU32, expected: u32) {
    // SAFETY: FUTEX_WAIT reads the u32 at `word`, which is valid and aligned; no timeout.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT,
            expected,
            std::ptr::null::<libc::timespec>(),
        );
    }
}

/// Wakes every process sleeping on `word`.
fn futex_wake_all(word: &AtomicU32) {
    // SAFETY: FUTEX_WAKE only uses the address of `word` as a key.
    unsafe {
        libc::syscall(libc::SYS_futex, word.as_ptr(), libc::FUTEX_WAKE, i32::MAX);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bounded_queue_in_one_process() {
        let q: Queue<Option<String>> = Queue::new(2).unwrap().named("q");
        q.put_nowait(&Some("a".into())).unwrap();
        q.put(&None).unwrap();
        assert!(q.full());
        assert_eq!(q.qsize(), 2);
        assert_eq!(q.put_nowait(&None), Err(QueueError::Full));
        assert_eq!(q.get_nowait().unwrap(), Some("a".to_string()));
        assert_eq!(q.get().unwrap(), None);
        assert!(q.empty());
        assert_eq!(q.get_nowait(), Err(QueueError::Empty));
        q.close();
        assert_eq!(q.put(&None), Err(QueueError::Closed("q".into())));
        assert_eq!(q.get_nowait().unwrap_err().to_string(), "Queue q is closed");
    }

    #[test]
    fn task_done_counts_down_and_refuses_one_too_many() {
        let q: JoinableQueue<u32> = JoinableQueue::new(0).unwrap();
        q.put(&1).unwrap();
        assert_eq!(q.unfinished(), 1);
        assert_eq!(q.get().unwrap(), 1);
        q.task_done().unwrap();
        q.join();
        assert_eq!(q.task_done(), Err(QueueError::TaskDoneTooManyTimes));
        assert_eq!(
            QueueError::TaskDoneTooManyTimes.to_string(),
            "task_done() called too many times"
        );
    }
}
