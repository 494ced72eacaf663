//! Standard output as the views write it: a reader that does not read must never stop the lab.
//!
//! A plain `write(2)` to a pipe nobody reads blocks for ever, and Rust's `write_all` retries
//! after every `EINTR`, so Ctrl-C could not stop a lab whose output was `proclab serve | less`.
//! [`Output`] waits for standard output with `poll` instead, a little at a time, and looks at
//! [`stopping`] between waits: once the lab has been asked to stop, it gives up after
//! [`STOP_GRACE`] and returns an error, so the clean-up goes ahead.
//!
//! A long-running tool (`proclab serve`) must not even wait: its annotations are the least
//! important thing it does. In [`Mode::Drop`] nothing blocks: what cannot be written now waits
//! in a backlog, and the supervisor stops showing events while the backlog is full
//! ([`backlog`]) and says afterwards how many it left out.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

/// Set (from a signal handler too: it is one atomic store) when the lab must stop.
static STOPPING: AtomicBool = AtomicBool::new(false);
/// Bytes written to an `Output` in drop mode that standard output has not taken yet.
static BACKLOG: AtomicUsize = AtomicUsize::new(0);

/// How long a write may still wait for standard output once the lab is stopping.
pub const STOP_GRACE: Duration = Duration::from_millis(300);
/// Largest single `write(2)`: a pipe that `poll` says is writable takes this much at once.
const WRITE_AT_MOST: usize = 4096;

/// Tells every `Output` that the lab is stopping. Async-signal-safe.
pub fn set_stopping() {
    STOPPING.store(true, Ordering::SeqCst);
}

/// True once the lab is stopping: told so, or a stop signal was caught.
pub fn stopping() -> bool {
    STOPPING.load(Ordering::SeqCst) || crate::runtime::stop::stop_signal().is_some()
}

/// Bytes waiting for standard output (drop mode).
pub fn backlog() -> usize {
    BACKLOG.load(Ordering::SeqCst)
}

/// How an `Output` behaves when standard output is not ready.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    /// Wait (a lesson's output is its point), but never past a stop.
    Wait,
    /// Never wait: keep what does not fit in a backlog (a server's annotations).
    Drop,
}

static DROP_MODE: AtomicBool = AtomicBool::new(false);

/// Chooses how every `Output` of this process behaves; the supervisor sets it once.
pub fn set_mode(mode: Mode) {
    DROP_MODE.store(mode == Mode::Drop, Ordering::SeqCst);
}

/// The process's standard output (descriptor 1), written as described above.
#[derive(Default)]
pub struct Output {
    backlog: Vec<u8>,
    /// When the wait after a stop began: the grace period counts from there.
    stop_seen: Option<Instant>,
}

impl Output {
    pub fn new() -> Output {
        Output::default()
    }
}

/// Waits until standard output takes some bytes, or gives up: `Ok(false)` only when `wait` is
/// false and it is not ready now. `stop_seen` is when the wait after a stop began.
fn ready(stop_seen: &mut Option<Instant>, wait: bool) -> io::Result<bool> {
    // SAFETY: descriptor 1 stays open for the life of the process.
    let stdout = unsafe { std::os::fd::BorrowedFd::borrow_raw(1) };
    // First a look without waiting: the grace period only counts time spent waiting.
    let mut timeout = Duration::ZERO;
    loop {
        let mut fds = [PollFd::new(stdout, PollFlags::POLLOUT)];
        let millis = timeout.as_millis().min(1000) as u16;
        match poll(&mut fds, PollTimeout::from(millis)) {
            Ok(0) if !wait => return Ok(false),
            Ok(0) | Err(Errno::EINTR) => {}
            Ok(_) => return Ok(true),
            Err(errno) => return Err(errno.into()),
        }
        timeout = if stopping() {
            let seen = *stop_seen.get_or_insert_with(Instant::now);
            let left = STOP_GRACE.saturating_sub(seen.elapsed());
            if left.is_zero() {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "standard output is not being read",
                ));
            }
            left.min(Duration::from_millis(50))
        } else {
            Duration::from_millis(50)
        };
    }
}

/// One `write(2)` of at most `WRITE_AT_MOST` bytes, once standard output is ready.
fn write_some(stop_seen: &mut Option<Instant>, bytes: &[u8], wait: bool) -> io::Result<usize> {
    loop {
        if !ready(stop_seen, wait)? {
            return Ok(0);
        }
        let chunk = &bytes[..bytes.len().min(WRITE_AT_MOST)];
        // SAFETY: `chunk` is valid for reading for the duration of the call.
        let written = unsafe { libc::write(1, chunk.as_ptr().cast(), chunk.len()) };
        if written >= 0 {
            return Ok(written as usize);
        }
        let error = io::Error::last_os_error();
        if !matches!(
            error.kind(),
            io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock
        ) {
            return Err(error);
        }
    }
}

impl Output {
    /// Writes as much of the backlog as standard output takes (without waiting, unless `wait`).
    fn drain(&mut self, wait: bool) -> io::Result<()> {
        while !self.backlog.is_empty() {
            let written = write_some(&mut self.stop_seen, &self.backlog, wait)?;
            if written == 0 {
                break;
            }
            self.backlog.drain(..written);
            BACKLOG.store(self.backlog.len(), Ordering::SeqCst);
        }
        Ok(())
    }
}

impl io::Write for Output {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        if DROP_MODE.load(Ordering::SeqCst) {
            self.backlog.extend_from_slice(bytes);
            BACKLOG.store(self.backlog.len(), Ordering::SeqCst);
            self.drain(false)?;
            return Ok(bytes.len());
        }
        write_some(&mut self.stop_seen, bytes, true)
    }

    /// In drop mode: writes what it can now; once the lab is stopping, waits (within the
    /// grace period) for the rest, so that the last lines of a run are not lost needlessly.
    fn flush(&mut self) -> io::Result<()> {
        self.drain(stopping())
    }
}
