//! One client of a server that never blocks (the busy loop, poll, epoll): its non-blocking
//! socket, and the part of a reply the socket could not take yet.
//!
//! A blocking server sends a reply with `write_all`, which waits until the kernel has taken it
//! all. A server that watches many clients with one thread must not wait for one of them: it
//! sends what the socket takes now (`send` may take part of it, or nothing, `EAGAIN`), keeps
//! the rest, and asks to be told when the socket is writable again. While a reply is kept, it
//! reads nothing more from that client: a client that does not read its replies stalls only
//! itself (back-pressure, 背压), and what the server keeps per client stays under one chunk.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::tools::echo::{CHUNK, Conversation};
use crate::tools::models::Options;

/// After a turn: is the connection still open?
pub enum Turn {
    Open,
    /// The client closed it (`None`), or an error ended it.
    Closed(Option<io::Error>),
}

pub struct Connection {
    pub stream: TcpStream,
    pub peer: SocketAddr,
    /// Reply bytes the socket did not take yet.
    pending: Vec<u8>,
    /// Since when the oldest of them waits (for the write timeout).
    pending_since: Option<Instant>,
    /// When the client last sent something (for the idle timeout).
    last_heard: Instant,
    pub reads: u64,
    pub bytes: u64,
    /// How many times a reply could not be sent whole.
    pub kept: u64,
    /// Whether the server announced it (and so announces its end).
    pub announced: bool,
}

impl Connection {
    /// Wraps an accepted connection, made non-blocking.
    pub fn new(stream: TcpStream, peer: SocketAddr) -> io::Result<Connection> {
        stream.set_nonblocking(true)?;
        Ok(Connection {
            stream,
            peer,
            pending: Vec::new(),
            pending_since: None,
            last_heard: Instant::now(),
            reads: 0,
            bytes: 0,
            kept: 0,
            announced: false,
        })
    }

    /// A reply is waiting for the socket to be writable.
    pub fn wants_to_write(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Nothing is kept: the server may read the next request.
    pub fn wants_to_read(&self) -> bool {
        self.pending.is_empty()
    }

    /// The socket is (said to be) readable: one `recv` of at most `CHUNK` bytes, and the reply
    /// sent as far as the socket takes it. A `recv` that finds nothing (`EAGAIN`) is no harm:
    /// the busy loop calls this whether or not anything came.
    pub fn on_readable(&mut self) -> Turn {
        let mut buffer = [0u8; CHUNK];
        let received = match self.stream.read(&mut buffer) {
            Ok(0) => return Turn::Closed(None),
            Ok(n) => n,
            Err(error)
                if matches!(
                    error.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) =>
            {
                return Turn::Open;
            }
            Err(error) => return Turn::Closed(Some(error)),
        };
        self.last_heard = Instant::now();
        self.reads += 1;
        self.bytes += received as u64;
        buffer[..received].make_ascii_uppercase();
        self.pending.extend_from_slice(&buffer[..received]);
        self.send_pending(true)
    }

    /// The socket is writable: send what was kept.
    pub fn on_writable(&mut self) -> Turn {
        self.send_pending(false)
    }

    fn send_pending(&mut self, fresh: bool) -> Turn {
        while !self.pending.is_empty() {
            match self.stream.write(&self.pending) {
                Ok(n) => {
                    self.pending.drain(..n);
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => break,
                // EPIPE or ECONNRESET: the client is gone (Rust ignores SIGPIPE).
                Err(error) => return Turn::Closed(Some(error)),
            }
        }
        if self.pending.is_empty() {
            self.pending_since = None;
        } else if fresh {
            self.kept += 1;
            self.pending_since = Some(Instant::now());
        }
        Turn::Open
    }

    /// Why this connection should be closed now, if a timeout of `options` has passed.
    pub fn timed_out(&self, options: &Options, now: Instant) -> Option<&'static str> {
        let over = |since: Instant, limit: Option<Duration>| {
            limit.is_some_and(|limit| now.duration_since(since) >= limit)
        };
        if self
            .pending_since
            .is_some_and(|since| over(since, options.write_timeout))
        {
            Some("its reply could not be sent within the write timeout")
        } else if self.pending.is_empty() && over(self.last_heard, options.idle_timeout) {
            Some("it sent nothing within the idle timeout")
        } else {
            None
        }
    }

    /// The conversation so far, as the blocking servers report theirs.
    pub fn conversation(&self, error: Option<io::Error>) -> Conversation {
        Conversation {
            messages: self.reads,
            bytes: self.bytes,
            error,
        }
    }
}
