//! The upper-casing echo service of lesson 4, `proclab serve` and `proclab client`.
//!
//! The tutorial's server, done right:
//! - [`listen_on`] makes the listening socket (套接字): `socket`, `setsockopt(SO_REUSEADDR)`
//!   when asked, `bind`, `listen`.
//! - the forking server that serves it, one *handler* process per connection, is a model
//!   beside the others: `models::fork`.
//! - [`talk`] is what a handler does: read at most [`CHUNK`] bytes, send them back upper-cased,
//!   until the client closes. A buffer of fixed size: a client cannot make it grow.
//! - [`serve_iterative`] is the same service without `fork`: one client at a time.
//! - [`run_client`] is the tutorial's client: a `>>:` prompt, one line sent, one reply printed.
//!
//! The service is plain TCP bytes, so `nc` and the tutorial's own Python programs work with it.

use std::io::{self, BufRead, IsTerminal, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use nix::sys::socket::{self, AddressFamily, Backlog, SockFlag, SockType, SockaddrStorage};

use crate::error::{Error, Result};
use crate::{note, say};

/// How much a handler reads at a time: the tutorial's `recv(1024)`.
pub const CHUNK: usize = 1024;
/// The tutorial's port.
pub const DEFAULT_PORT: u16 = 8081;
/// Default bound on live handlers (`--max-clients`).
pub const DEFAULT_MAX_CLIENTS: usize = 256;
/// Default `--idle-timeout`: a handler whose client sends nothing for this long hangs up.
pub const DEFAULT_IDLE_TIMEOUT_S: f64 = 30.0;
/// Default `--write-timeout`: a handler whose client does not read its replies for this long
/// hangs up.
pub const DEFAULT_WRITE_TIMEOUT_S: f64 = 10.0;
/// What a connection beyond `--max-clients` is told before it is closed.
pub const BUSY: &str =
    "proclab serve is busy: every handler is taken (--max-clients); try again later\n";

/// A listening TCP socket on `address`. With `reuse_address`, `SO_REUSEADDR` is set before
/// `bind`, so that a port whose old connections linger in `TIME_WAIT` can be bound again.
/// (Rust's own `TcpListener::bind` always sets it; lesson 4 needs to show the difference, so the
/// socket is made by hand.)
pub fn listen_on(address: SocketAddr, reuse_address: bool) -> io::Result<TcpListener> {
    let family = match address {
        SocketAddr::V4(_) => AddressFamily::Inet,
        SocketAddr::V6(_) => AddressFamily::Inet6,
    };
    let socket = socket::socket(family, SockType::Stream, SockFlag::SOCK_CLOEXEC, None)?;
    if reuse_address {
        socket::setsockopt(&socket, socket::sockopt::ReuseAddr, &true)?;
    }
    socket::bind(socket.as_raw_fd(), &SockaddrStorage::from(address))?;
    // The kernel's largest queue (SOMAXCONN): connections that arrive faster than the server
    // accepts them wait there instead of being refused.
    socket::listen(&socket, Backlog::MAXCONN)?;
    Ok(TcpListener::from(socket))
}

/// How a conversation with one client ended, and how much was said.
#[derive(Debug, Default)]
pub struct Conversation {
    /// Reads that returned data (a client's line may arrive in one read or several).
    pub messages: u64,
    pub bytes: u64,
    /// `None`: the client closed the connection; otherwise the error that ended it.
    pub error: Option<io::Error>,
}

/// A handler's work: read at most `CHUNK` bytes, send them back upper-cased, until the client
/// closes (a read of 0 bytes). Any byte is fine: only ASCII letters change.
pub fn talk(connection: &mut TcpStream) -> Conversation {
    let mut buffer = [0u8; CHUNK];
    let mut conversation = Conversation::default();
    loop {
        let received = match connection.read(&mut buffer) {
            Ok(0) => return conversation,
            Ok(n) => n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => {
                conversation.error = Some(timed_out(error, connection.read_timeout(), "sent"));
                return conversation;
            }
        };
        conversation.messages += 1;
        conversation.bytes += received as u64;
        buffer[..received].make_ascii_uppercase();
        // A client that vanished makes this fail with EPIPE or ECONNRESET (Rust ignores
        // SIGPIPE): the handler ends its conversation, nothing crashes.
        if let Err(error) = send_within_timeout(connection, &buffer[..received]) {
            conversation.error = Some(timed_out(error, connection.write_timeout(), "read"));
            return conversation;
        }
    }
}

/// Sends all of `bytes` within the socket's write timeout (`SO_SNDTIMEO`), counted for the
/// whole reply. The kernel counts it for each `write` call, and a call that sent part of the
/// reply before the time was up returns what it sent: `write_all` would then wait the whole
/// timeout again for the rest, and a client that reads nothing would hold its handler for
/// twice the timeout.
pub fn send_within_timeout(connection: &mut TcpStream, bytes: &[u8]) -> io::Result<()> {
    let Some(timeout) = connection.write_timeout()? else {
        return connection.write_all(bytes);
    };
    let deadline = Instant::now() + timeout;
    let mut sent = 0;
    let outcome = loop {
        if sent == bytes.len() {
            break Ok(());
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break Err(io::Error::from(io::ErrorKind::WouldBlock));
        }
        // At least a microsecond: a zero timeout would mean "wait for ever".
        connection.set_write_timeout(Some(left.max(Duration::from_micros(1))))?;
        match connection.write(&bytes[sent..]) {
            Ok(0) => break Err(io::Error::from(io::ErrorKind::WriteZero)),
            Ok(n) => sent += n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => break Err(error),
        }
    };
    // Put back, so that the error names the timeout the client was given.
    connection.set_write_timeout(Some(timeout))?;
    outcome
}

/// A read or write that ran into the socket's timeout (`SO_RCVTIMEO`, `SO_SNDTIMEO`: the
/// kernel says `EAGAIN`) is named for what it is: a client that `did` nothing for that long.
fn timed_out(error: io::Error, timeout: io::Result<Option<Duration>>, did: &str) -> io::Error {
    match (error.kind(), timeout) {
        (io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut, Ok(Some(timeout))) => io::Error::new(
            io::ErrorKind::TimedOut,
            format!(
                "the client {did} nothing for {} s: the handler hung up",
                timeout.as_secs_f64()
            ),
        ),
        _ => error,
    }
}

/// How `proclab serve` keeps a crowd from denying service to a well-behaved client: a handler
/// hangs up on a client that sends nothing for `idle_timeout`, or does not read its replies
/// for `write_timeout`; and at `max_clients` a new connection is told the server is busy and
/// closed, instead of waiting in the listen queue behind others that may never leave.
#[derive(Debug, Clone, Copy)]
pub struct Guarded {
    pub idle_timeout: Duration,
    pub write_timeout: Duration,
}

impl Guarded {
    /// `serve`'s guards: these timeouts, or the defaults where none is given.
    pub fn or_defaults(idle_timeout: Option<Duration>, write_timeout: Option<Duration>) -> Guarded {
        let or_default = |timeout: Option<Duration>, seconds| {
            timeout.unwrap_or(Duration::from_secs_f64(seconds))
        };
        Guarded {
            idle_timeout: or_default(idle_timeout, DEFAULT_IDLE_TIMEOUT_S),
            write_timeout: or_default(write_timeout, DEFAULT_WRITE_TIMEOUT_S),
        }
    }
}

/// Tells a connection beyond `--max-clients` that the server is busy, and closes it, without
/// ever waiting for the client: the server's accept loop must not stall on anybody.
pub fn refuse(connection: TcpStream) {
    let _ = connection.set_nonblocking(true);
    let _ = (&connection).write(BUSY.as_bytes());
    let _ = connection.shutdown(Shutdown::Write);
    // What the client sent already is read and dropped: closing a socket with unread data
    // resets the connection (RST), and the client might lose the busy line.
    let mut scratch = [0u8; CHUNK];
    while matches!((&connection).read(&mut scratch), Ok(n) if n > 0) {}
}

/// The iterative server: no fork, so it talks to one client at a time, and the next one waits
/// (connected, in the listen queue) until the current one has closed.
pub fn serve_iterative(listener: &TcpListener, connections: usize) -> Result<()> {
    for _ in 0..connections {
        let (mut connection, peer) = listener.accept()?;
        say!("connection from {peer}: served here, by the server itself");
        let conversation = talk(&mut connection);
        say!(
            "{peer} closed the connection after {} bytes; next client",
            conversation.bytes
        );
    }
    Ok(())
}

/// Reads the reply to a message of `length` bytes: the server sends back as many bytes as it
/// got, maybe in several pieces. `None` if the server closed the connection first.
pub fn read_reply(connection: &mut TcpStream, length: usize) -> io::Result<Option<Vec<u8>>> {
    let mut reply = vec![0u8; length];
    let mut got = 0;
    while got < length {
        match connection.read(&mut reply[got..]) {
            Ok(0) => return Ok(None),
            Ok(n) => got += n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        }
    }
    Ok(Some(reply))
}

/// Half-closes `connection` (no more sending) and waits at most `timeout` for the other side to
/// close too: `Some(after)` when the end of the conversation (EOF) arrived, `None` if not.
pub fn wait_for_end(connection: &mut TcpStream, timeout: Duration) -> io::Result<Option<Duration>> {
    let began = Instant::now();
    let deadline = began + timeout;
    let mut scratch = [0u8; CHUNK];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(None);
        }
        connection.set_read_timeout(Some(left))?;
        match connection.read(&mut scratch) {
            Ok(0) => return Ok(Some(began.elapsed())),
            Ok(_) => continue,
            Err(error)
                if matches!(
                    error.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) =>
            {
                continue;
            }
            Err(error) => return Err(error),
        }
    }
}

/// Closes the sending direction only: the other side reads EOF, and can still send to us.
pub fn stop_sending(connection: &TcpStream) -> io::Result<()> {
    connection.shutdown(Shutdown::Write)
}

/// `proclab client`: connects to `host:port`; sends each non-empty line of input and prints the
/// reply. With a terminal, prompts `>>:` as the tutorial's client does.
pub fn run_client(host: &str, port: u16) -> Result<()> {
    let mut connection = connect(host, port)?;
    // A server that accepted but never answers must not hang the client for ever.
    connection.set_read_timeout(Some(Duration::from_secs(30)))?;
    let interactive = io::stdin().is_terminal();
    let stdin = io::stdin();
    let mut input = stdin.lock();
    let mut out = io::stdout();
    let mut line = String::new();
    loop {
        if interactive {
            write!(out, ">>:")?;
            out.flush()?;
        }
        line.clear();
        if input.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let message = line.trim();
        if message.is_empty() {
            continue;
        }
        connection
            .write_all(message.as_bytes())
            .map_err(|e| Error::System(format!("sending to {host}:{port}: {e}")))?;
        let reply = match read_reply(&mut connection, message.len()) {
            Ok(Some(reply)) => reply,
            Ok(None) => {
                // A busy server says so before it closes: pass its words on.
                let mut said = String::new();
                let _ = connection.read_to_string(&mut said);
                let said = said.trim();
                return Err(Error::System(if said.is_empty() {
                    format!("{host}:{port} closed the connection")
                } else {
                    format!("{host}:{port} closed the connection: {said}")
                }));
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                return Err(Error::System(format!(
                    "no reply from {host}:{port} within 30 s"
                )));
            }
            Err(e) => return Err(Error::System(format!("reading from {host}:{port}: {e}"))),
        };
        let upper = message.to_ascii_uppercase();
        let head = &reply[..reply.len().min(BUSY.len())];
        if reply != upper.as_bytes() && BUSY.as_bytes().starts_with(head) {
            return Err(Error::System(format!("{host}:{port}: {}", BUSY.trim_end())));
        }
        writeln!(out, "{}", String::from_utf8_lossy(&reply))?;
        out.flush()?;
    }
}

/// Connects to the first address of `host` that answers, within 5 s each.
pub fn connect(host: &str, port: u16) -> Result<TcpStream> {
    let addresses = (host, port)
        .to_socket_addrs()
        .map_err(|e| Error::System(format!("cannot resolve {host}: {e}")))?;
    let mut last = None;
    for address in addresses {
        match TcpStream::connect_timeout(&address, Duration::from_secs(5)) {
            Ok(connection) => return Ok(connection),
            Err(error) => last = Some(error),
        }
    }
    Err(Error::System(match last {
        Some(error) => format!("cannot reach a server at {host}:{port}: {error}"),
        None => format!("cannot resolve {host}: no address"),
    }))
}

/// A server that others can reach says so: every model of `serve` listens on loopback unless
/// told otherwise.
pub(crate) fn warn_if_reachable(address: SocketAddr) {
    if address.ip().is_unspecified() {
        note!(
            en: "WARNING: listening on every network interface ({address}): other machines on \
                 the network can connect to this server.",
            zh: "警告：正在所有网络接口上监听（{address}）：网络上的其他机器也能连接这个服务器。",
        );
    } else if !address.ip().is_loopback() {
        note!(
            en: "WARNING: {address} is not a loopback address: other machines on the network \
                 can connect to this server.",
            zh: "警告：{address} 不是回环地址（loopback）：网络上的其他机器也能连接这个服务器。",
        );
    }
}
