//! Python's `multiprocessing.Event` (事件): a flag that processes can set, clear and wait for.
//!
//! ```ignore
//! let green = Event::new()?.named("green light");
//! let in_car = green.clone();                  // a handle to the same event, for a child
//! let mut car = Process::new(move || -> Result<(), SyncError> {
//!     in_car.wait()?;                            // blocks until someone calls set()
//!     say!("car: green, driving through");
//!     Ok(())
//! });
//! car.start()?;
//! green.set();                                   // wakes every process waiting for it
//! ```
//!
//! Underneath it is one 32-bit word in anonymous shared memory (0: clear, 1: set) and a
//! *futex* (fast user-space mutex, `futex(2)`): `wait` asks the kernel to put the process to
//! sleep for as long as the word is still 0, and `set` writes 1 and asks the kernel to wake
//! everyone sleeping on that word. While it waits, a process is in state `S` and uses no CPU.
//! The word is not private to one process (no `FUTEX_PRIVATE_FLAG`), so the kernel matches
//! waiters and wakers by the shared page itself, whichever process they are in.
//!
//! Python builds its `Event` from a `Condition` and a `Semaphore`; the behaviour a program sees
//! is the same: `set` wakes all waiters, `clear` makes later waits block again, `wait(timeout)`
//! returns whether the flag was set. One corner differs: if the flag is set and cleared again
//! before a woken waiter gets to run, Python's `wait()` returns `False`, while this one finds
//! the flag clear and goes back to sleep until the next `set` (or its timeout).

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use nix::errno::Errno;

use crate::multiprocessing::shared::SharedMemory;
use crate::multiprocessing::synchronize::SyncError;
use crate::runtime::context;
use crate::runtime::wait;

const CLEAR: u32 = 0;
const SET: u32 = 1;

/// `multiprocessing.Event()`: starts clear. Clones are handles to the same event.
#[derive(Clone)]
pub struct Event {
    name: String,
    flag: SharedMemory<AtomicU32>,
}

impl Event {
    pub fn new() -> Result<Event, SyncError> {
        let flag = SharedMemory::new(AtomicU32::new(CLEAR))
            .map_err(|errno| SyncError::System("mmap", errno))?;
        Ok(Event {
            name: "event".to_string(),
            flag,
        })
    }

    /// A name for the event, shown in the `wait` events and on the timeline.
    pub fn named(mut self, name: &str) -> Event {
        self.name = name.to_string();
        self
    }

    /// Whether the flag is set right now (`event.is_set()`; a snapshot).
    pub fn is_set(&self) -> bool {
        self.flag.load(Ordering::SeqCst) == SET
    }

    /// Sets the flag and wakes every process waiting for it (`event.set()`).
    pub fn set(&self) {
        self.flag.store(SET, Ordering::SeqCst);
        // Wake them all: i32::MAX is the futex way of saying "every waiter".
        futex_wake(&self.flag, i32::MAX);
    }

    /// Clears the flag: waits from now on block until the next `set` (`event.clear()`).
    pub fn clear(&self) {
        self.flag.store(CLEAR, Ordering::SeqCst);
    }

    /// Blocks until the flag is set (`event.wait()`). Returns at once if it is set already.
    pub fn wait(&self) -> Result<bool, SyncError> {
        self.wait_until(None)
    }

    /// Like `wait`, giving up after `timeout` (scaled by `--speed`): returns whether the flag
    /// was set, `false` when the time ran out (`event.wait(timeout)`).
    pub fn wait_timeout(&self, timeout: Duration) -> Result<bool, SyncError> {
        self.wait_until(Some(Instant::now() + context::scaled(timeout)))
    }

    fn wait_until(&self, deadline: Option<Instant>) -> Result<bool, SyncError> {
        if self.is_set() {
            // Nothing to wait for: no wait to show.
            return Ok(true);
        }
        let waiting = wait::begin("event", &self.name);
        let outcome = loop {
            if self.is_set() {
                break Ok(true);
            }
            let left = match deadline {
                None => None,
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break Ok(false);
                    }
                    Some(left)
                }
            };
            // Sleeps only if the word is still CLEAR when the kernel looks: a `set` between
            // our check above and this call is not missed (the kernel returns EAGAIN).
            match futex_wait(&self.flag, CLEAR, left) {
                Ok(()) | Err(Errno::EAGAIN | Errno::EINTR | Errno::ETIMEDOUT) => continue,
                Err(errno) => break Err(SyncError::System("futex", errno)),
            }
        };
        waiting.ended(match outcome {
            Ok(true) => crate::runtime::wait::Ended::Got,
            Ok(false) => crate::runtime::wait::Ended::TimedOut,
            Err(_) => crate::runtime::wait::Ended::Error,
        });
        outcome
    }
}

/// `futex(FUTEX_WAIT)`: sleep while `*word == expected`, at most `timeout`.
fn futex_wait(word: &AtomicU32, expected: u32, timeout: Option<Duration>) -> Result<(), Errno> {
    let timespec = timeout.map(|left| libc::timespec {
        tv_sec: left.as_secs() as libc::time_t,
        tv_nsec: left.subsec_nanos() as _,
    });
    let timeout_ptr = timespec
        .as_ref()
        .map_or(std::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: `word` is a live, aligned 32-bit value in shared memory; the timeout is a valid
    // timespec or null (no timeout); the last two arguments are unused by FUTEX_WAIT.
    let result = unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT,
            expected,
            timeout_ptr,
            std::ptr::null::<u32>(),
            0,
        )
    };
    Errno::result(result).map(drop)
}

/// `futex(FUTEX_WAKE)`: wake up to `count` processes sleeping on `word`.
fn futex_wake(word: &AtomicU32, count: i32) {
    // SAFETY: `word` is a live, aligned 32-bit value; FUTEX_WAKE only reads its address.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE,
            count,
            std::ptr::null::<libc::timespec>(),
            std::ptr::null::<u32>(),
            0,
        );
    }
}
