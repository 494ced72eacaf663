//! Python's `multiprocessing.Pipe` and its `Connection`s: a pipe (管道) between processes that
//! carries whole messages.
//!
//! ```ignore
//! let (left, right) = pipe(true)?;                 // Python's `left, right = Pipe()`
//! let mut child = Process::new(move || -> Result<(), ConnectionError> {
//!     let baozi: String = right.recv()?;            // blocks until a message comes
//!     right.send(&format!("ate {baozi}"))
//! });
//! child.start()?;                                   // the parent's `right` is closed here
//! left.send(&"baozi 1")?;
//! let reply: String = left.recv()?;
//! ```
//!
//! What is underneath, and how it differs from Python:
//! - `pipe(true)` (duplex, Python's default) is a Unix socket pair: both ends send and receive.
//!   `pipe(false)` is a plain `pipe(2)`: the first end only receives, the second only sends.
//! - The kernel carries bytes, not messages. A message is framed as Python frames it: a 4-byte
//!   big-endian length, then the bytes, so `recv` returns exactly what one `send` sent. Python
//!   pickles objects; `send`/`recv` here encode them as JSON (`serde_json`), and
//!   `send_bytes`/`recv_bytes` carry raw bytes.
//! - A descriptor is closed when the last handle to it in a process goes: dropping, or
//!   `close()`. Clones of a `Connection` are handles to the *same* descriptor in this process,
//!   as two Python names for one object are; `close()` closes it for all of them. A child
//!   forked while this process holds a descriptor has a copy of it, which only the child can
//!   close: the pitfall of lesson 7.
//! - `recv` reports its wait (`wait`/`woke` on "pipe") when no message is there yet.
//! - Misuse is an error value with Python's message: `connection is read-only`, `handle is
//!   closed` ... and end of file is `ConnectionError::Eof`, Python's `EOFError`.

use std::cell::RefCell;
use std::fmt;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::rc::Rc;
use std::time::Duration;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::socket::{AddressFamily, SockFlag, SockType, socketpair};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::multiprocessing::process::poll_timeout;
use crate::runtime::context;
use crate::runtime::wait;

/// The longest message `recv` accepts (Python's `recv_bytes(maxlength)` has the same check): a
/// length read from a corrupted stream must not make us allocate gigabytes.
pub const MAX_MESSAGE: usize = 16 * 1024 * 1024;

/// What can go wrong with a connection, with Python's message where it has one.
#[derive(Debug, Clone, PartialEq)]
pub enum ConnectionError {
    /// Every copy of the other end is closed and nothing is left to read: Python's `EOFError`.
    Eof,
    /// This handle was closed (Python's `OSError: handle is closed`).
    Closed,
    /// `send` on the receiving end of a one-way pipe.
    ReadOnly,
    /// `recv` on the sending end of a one-way pipe.
    WriteOnly,
    /// `send` when every copy of the other end is closed (`BrokenPipeError`).
    BrokenPipe,
    /// A length header that cannot be right: the stream is not what `send` wrote.
    BadMessageLength(usize),
    /// A message that is not the JSON of the type asked for.
    Decode(String),
    /// The kernel refused: the system call, and its error number.
    System(&'static str, Errno),
}

impl fmt::Display for ConnectionError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            ConnectionError::Eof => write!(
                f,
                "EOFError: end of file, every copy of the other end is closed"
            ),
            ConnectionError::Closed => write!(f, "handle is closed"),
            ConnectionError::ReadOnly => write!(f, "connection is read-only"),
            ConnectionError::WriteOnly => write!(f, "connection is write-only"),
            ConnectionError::BrokenPipe => write!(f, "[Errno 32] Broken pipe"),
            ConnectionError::BadMessageLength(length) => {
                write!(f, "bad message length ({length} bytes)")
            }
            ConnectionError::Decode(error) => write!(f, "cannot decode the message: {error}"),
            ConnectionError::System(call, errno) => write!(f, "{call}: {}", errno.desc()),
        }
    }
}

impl std::error::Error for ConnectionError {}

/// Makes a pipe and returns its two ends (Python's `Pipe(duplex)`). With `duplex`, both ends
/// send and receive; without, the first only receives and the second only sends.
pub fn pipe(duplex: bool) -> Result<(Connection, Connection), ConnectionError> {
    pipe_waiting_as(duplex, "pipe")
}

/// A pipe whose waits are reported as `on` (a `Queue` reports "queue").
pub(crate) fn pipe_waiting_as(
    duplex: bool,
    on: &'static str,
) -> Result<(Connection, Connection), ConnectionError> {
    if duplex {
        let (one, two) = socketpair(
            AddressFamily::Unix,
            SockType::Stream,
            None,
            SockFlag::SOCK_CLOEXEC,
        )
        .map_err(|errno| ConnectionError::System("socketpair", errno))?;
        Ok((
            Connection::new(one, true, true, on),
            Connection::new(two, true, true, on),
        ))
    } else {
        let (read_end, write_end) = nix::unistd::pipe2(OFlag::O_CLOEXEC)
            .map_err(|errno| ConnectionError::System("pipe", errno))?;
        Ok((
            Connection::new(read_end, true, false, on),
            Connection::new(write_end, false, true, on),
        ))
    }
}

/// One end of a pipe. Clones are handles to the same descriptor (see the module's docs).
#[derive(Clone)]
pub struct Connection {
    end: Rc<End>,
}

struct End {
    /// `None` once closed.
    fd: RefCell<Option<OwnedFd>>,
    readable: bool,
    writable: bool,
    name: RefCell<String>,
    /// What a wait on this end is reported as: "pipe", or "queue" for the pipe under a `Queue`.
    waits_on: &'static str,
}

impl Connection {
    fn new(fd: OwnedFd, readable: bool, writable: bool, waits_on: &'static str) -> Connection {
        Connection {
            end: Rc::new(End {
                fd: RefCell::new(Some(fd)),
                readable,
                writable,
                name: RefCell::new(waits_on.to_string()),
                waits_on,
            }),
        }
    }

    /// A name for this end, shown in its `wait` events and on the timeline.
    pub fn named(self, name: &str) -> Connection {
        *self.end.name.borrow_mut() = name.to_string();
        self
    }

    pub fn readable(&self) -> bool {
        self.end.readable
    }

    pub fn writable(&self) -> bool {
        self.end.writable
    }

    /// True once `close()` was called on this descriptor (by any of its handles here).
    pub fn closed(&self) -> bool {
        self.end.fd.borrow().is_none()
    }

    /// The descriptor's number in this process (Python's `fileno()`), while it is open.
    pub fn fileno(&self) -> Option<i32> {
        self.end.fd.borrow().as_ref().map(|fd| fd.as_raw_fd())
    }

    /// Closes this process's copy of the descriptor, for every handle to it here. Other
    /// processes' copies stay open. Closing twice does nothing, as in Python.
    pub fn close(&self) {
        self.end.fd.borrow_mut().take();
    }

    /// Sends `message` encoded as JSON (Python's `send(obj)`, which pickles).
    pub fn send<T: Serialize + ?Sized>(&self, message: &T) -> Result<(), ConnectionError> {
        let bytes =
            serde_json::to_vec(message).map_err(|e| ConnectionError::Decode(e.to_string()))?;
        self.send_bytes(&bytes)
    }

    /// Receives one message sent by `send` and decodes it (Python's `recv()`). Blocks until
    /// one comes; `Err(Eof)` when none can come any more.
    pub fn recv<T: DeserializeOwned>(&self) -> Result<T, ConnectionError> {
        let bytes = self.recv_bytes()?;
        serde_json::from_slice(&bytes).map_err(|e| ConnectionError::Decode(e.to_string()))
    }

    /// Sends `bytes` as one message: its length (4 bytes, big-endian), then the bytes, in one
    /// buffer. A message of up to `PIPE_BUF` bytes in all is then a single `write` that no
    /// other writer can cut into; a longer one may be written in pieces (lessons 6 and 7).
    pub fn send_bytes(&self, bytes: &[u8]) -> Result<(), ConnectionError> {
        // Python checks in this order too: closed first, then the direction.
        if self.closed() {
            return Err(ConnectionError::Closed);
        }
        if !self.end.writable {
            return Err(ConnectionError::ReadOnly);
        }
        let length = u32::try_from(bytes.len())
            .ok()
            .filter(|&length| length as usize <= MAX_MESSAGE)
            .ok_or(ConnectionError::BadMessageLength(bytes.len()))?;
        let mut frame = Vec::with_capacity(4 + bytes.len());
        frame.extend_from_slice(&length.to_be_bytes());
        frame.extend_from_slice(bytes);
        self.with_fd(|fd| write_all(fd, &frame))
    }

    /// Receives one message's bytes (Python's `recv_bytes()`).
    pub fn recv_bytes(&self) -> Result<Vec<u8>, ConnectionError> {
        if self.closed() {
            return Err(ConnectionError::Closed);
        }
        if !self.end.readable {
            return Err(ConnectionError::WriteOnly);
        }
        self.with_fd(|fd| {
            if !ready(fd, PollTimeout::ZERO)? {
                // Nothing there yet: the wait is real, so it is reported.
                let waiting = wait::begin(self.end.waits_on, &self.end.name.borrow());
                let came = ready(fd, PollTimeout::NONE);
                waiting.ended(match came {
                    Ok(_) if hung_up(fd) => crate::runtime::wait::Ended::EndOfFile,
                    Ok(_) => crate::runtime::wait::Ended::Got,
                    Err(_) => crate::runtime::wait::Ended::Error,
                });
                came?;
            }
            let mut header = [0u8; 4];
            read_exact(fd, &mut header)?;
            let length = u32::from_be_bytes(header) as usize;
            if length > MAX_MESSAGE {
                return Err(ConnectionError::BadMessageLength(length));
            }
            let mut message = vec![0u8; length];
            read_exact(fd, &mut message)?;
            Ok(message)
        })
    }

    /// Whether something can be read now (a message, or the end of file), waiting at most
    /// `timeout` (scaled by `--speed`) for it: Python's `poll(timeout)`. A wait is reported
    /// when there is nothing at once.
    pub fn poll(&self, timeout: Duration) -> Result<bool, ConnectionError> {
        if self.closed() {
            return Err(ConnectionError::Closed);
        }
        if !self.end.readable {
            return Err(ConnectionError::WriteOnly);
        }
        self.with_fd(|fd| {
            if ready(fd, PollTimeout::ZERO)? || timeout.is_zero() {
                return ready(fd, PollTimeout::ZERO);
            }
            let waiting = wait::begin(self.end.waits_on, &self.end.name.borrow());
            let came = ready(fd, poll_timeout(context::scaled(timeout)));
            waiting.ended(match came {
                Ok(true) if hung_up(fd) => crate::runtime::wait::Ended::EndOfFile,
                Ok(true) => crate::runtime::wait::Ended::Got,
                Ok(false) => crate::runtime::wait::Ended::TimedOut,
                Err(_) => crate::runtime::wait::Ended::Error,
            });
            came
        })
    }

    /// `poll` with the timeout taken as it is (not scaled), and no wait reported: for a
    /// `Queue`, which reports its own.
    pub(crate) fn poll_quietly(&self, timeout: Option<Duration>) -> Result<bool, ConnectionError> {
        self.with_fd(|fd| ready(fd, timeout.map_or(PollTimeout::NONE, poll_timeout)))
    }

    /// Runs `use_fd` with this process's descriptor, or fails with `Closed`. (The descriptor
    /// stays borrowed for the call: a process runs one call at a time on its main thread, so
    /// no `close()` can come in the middle.)
    fn with_fd<R>(
        &self,
        use_fd: impl FnOnce(BorrowedFd) -> Result<R, ConnectionError>,
    ) -> Result<R, ConnectionError> {
        let end = self.end.fd.borrow();
        let fd = end.as_ref().ok_or(ConnectionError::Closed)?;
        use_fd(fd.as_fd())
    }
}

/// Whether `fd` is readable (data, or the end of file) within `timeout`.
fn ready(fd: BorrowedFd, timeout: PollTimeout) -> Result<bool, ConnectionError> {
    loop {
        let mut fds = [PollFd::new(fd, PollFlags::POLLIN)];
        match poll(&mut fds, timeout) {
            Err(Errno::EINTR) => continue,
            Err(errno) => return Err(ConnectionError::System("poll", errno)),
            Ok(n) => return Ok(n > 0),
        }
    }
}

/// Whether the other end is closed and nothing is left to read: what `poll` says is ready is
/// then the end of file, not a message.
fn hung_up(fd: BorrowedFd) -> bool {
    let mut fds = [PollFd::new(fd, PollFlags::POLLIN)];
    matches!(poll(&mut fds, PollTimeout::ZERO), Ok(n) if n > 0)
        && fds[0].revents().is_some_and(|revents| {
            revents.contains(PollFlags::POLLHUP) && !revents.contains(PollFlags::POLLIN)
        })
}

fn write_all(fd: BorrowedFd, mut bytes: &[u8]) -> Result<(), ConnectionError> {
    while !bytes.is_empty() {
        match nix::unistd::write(fd, bytes) {
            Ok(written) => bytes = &bytes[written..],
            Err(Errno::EINTR) => continue,
            Err(Errno::EPIPE) => return Err(ConnectionError::BrokenPipe),
            Err(errno) => return Err(ConnectionError::System("write", errno)),
        }
    }
    Ok(())
}

/// Reads exactly `buffer.len()` bytes; the end of file before that is `Eof` (as in Python,
/// where a message cut short by the writer's end is an `EOFError` too).
fn read_exact(fd: BorrowedFd, buffer: &mut [u8]) -> Result<(), ConnectionError> {
    let mut filled = 0;
    while filled < buffer.len() {
        match nix::unistd::read(fd, &mut buffer[filled..]) {
            Ok(0) => return Err(ConnectionError::Eof),
            Ok(n) => filled += n,
            Err(Errno::EINTR) => continue,
            Err(errno) => return Err(ConnectionError::System("read", errno)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_messages_both_ways_on_a_duplex_pipe() {
        let (left, right) = pipe(true).unwrap();
        left.send("baozi 1").unwrap();
        left.send_bytes(&[]).unwrap();
        right.send(&vec![1, 2, 3]).unwrap();
        assert_eq!(right.recv::<String>().unwrap(), "baozi 1");
        assert_eq!(right.recv_bytes().unwrap(), Vec::<u8>::new());
        assert_eq!(left.recv::<Vec<i32>>().unwrap(), vec![1, 2, 3]);
    }

    #[test]
    fn one_way_ends_refuse_the_other_direction_and_end_in_eof() {
        let (reader, writer) = pipe(false).unwrap();
        assert_eq!(reader.send("x"), Err(ConnectionError::ReadOnly));
        assert_eq!(writer.recv_bytes(), Err(ConnectionError::WriteOnly));
        assert_eq!(
            ConnectionError::ReadOnly.to_string(),
            "connection is read-only"
        );
        writer.send("last").unwrap();
        let kept = writer.clone();
        writer.close();
        // One close closes the descriptor for every handle to it in this process.
        assert!(kept.closed());
        assert_eq!(kept.send("x"), Err(ConnectionError::Closed));
        assert_eq!(reader.recv::<String>().unwrap(), "last");
        assert_eq!(reader.recv_bytes(), Err(ConnectionError::Eof));
        assert_eq!(reader.poll_quietly(Some(Duration::ZERO)), Ok(true));
    }

    #[test]
    fn sending_to_a_closed_end_is_a_broken_pipe() {
        let (reader, writer) = pipe(false).unwrap();
        drop(reader);
        assert_eq!(writer.send("x"), Err(ConnectionError::BrokenPipe));
    }
}
