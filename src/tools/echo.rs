//! The upper-casing echo service of lesson 4, `proclab serve` and `proclab client`.
//!
//! The tutorial's server, done right:
//! - [`listen_on`] makes the listening socket (套接字): `socket`, `setsockopt(SO_REUSEADDR)`
//!   when asked, `bind`, `listen`.
//! - [`serve_forking`] accepts connections and forks one *handler* process per connection
//!   ([`start_handler`]). The handler closes the listening socket it inherited, the server
//!   closes its copy of the connection, and the server reaps (回收) its handlers as they end
//!   (`SIGCHLD`, then `waitpid(-1, WNOHANG)` in the accept loop), so no zombie piles up.
//! - [`talk`] is what a handler does: read at most [`CHUNK`] bytes, send them back upper-cased,
//!   until the client closes. A buffer of fixed size: a client cannot make it grow.
//! - [`serve_iterative`] is the same service without `fork`: one client at a time.
//! - [`run_client`] is the tutorial's client: a `>>:` prompt, one line sent, one reply printed.
//!
//! The service is plain TCP bytes, so `nc` and the tutorial's own Python programs work with it.

use std::io::{self, BufRead, IsTerminal, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, ppoll};
use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, SigmaskHow, Signal};
use nix::sys::socket::{self, AddressFamily, Backlog, SockFlag, SockType, SockaddrStorage};

use crate::error::{Error, Result};
use crate::multiprocessing::process::{self, Pid, Process};
use crate::runtime::context;
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
fn send_within_timeout(connection: &mut TcpStream, bytes: &[u8]) -> io::Result<()> {
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

/// Forks a handler process for `connection`, which runs [`talk`] and says how it went. The
/// connection moves into the handler's target, and `start()` drops the target in the server
/// once the handler is forked: the server's copy is closed then, as it must be, or the client
/// never sees the conversation end (lesson 4, step 4, shows what happens otherwise).
pub fn start_handler(
    mut connection: TcpStream,
    peer: SocketAddr,
    listener: RawFd,
    name: &str,
) -> Result<Process> {
    let mut handler = Process::new(move || {
        // The handler does not accept connections: it closes its copy of the listening socket.
        let _ = nix::unistd::close(listener);
        // SIGCHLD was blocked by the server (see `serve_forking`); a fork copies the mask.
        let _ =
            nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None);
        let conversation = talk(&mut connection);
        match conversation.error {
            None => say!(
                "{peer} closed the connection: {} bytes in {} reads, all sent back upper-cased",
                conversation.bytes,
                conversation.messages
            ),
            Some(error) => say!(
                "{peer}: conversation ended by an error after {} bytes: {error}",
                conversation.bytes
            ),
        }
    })
    .named(name);
    handler.start()?;
    Ok(handler)
}

/// How a forking server runs.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// At most this many live handlers; beyond it, new connections wait in the listen queue.
    pub max_clients: usize,
    /// Reap handlers as they end. The lesson turns it off to show zombies piling up.
    pub reap: bool,
    /// Stop accepting after this many connections (the lesson); `None`: serve until stopped.
    pub connections: Option<usize>,
    /// Also read each new handler's parent from `/proc` (the lesson; a cost `serve` skips).
    pub observe_handlers: bool,
    /// `proclab serve`'s protection against idle, slow and non-reading clients; `None` in the
    /// lesson, where every client is one of ours.
    pub guarded: Option<Guarded>,
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

/// One handler of a server that stopped by itself: when it was forked and when reaped.
#[derive(Debug, Clone)]
pub struct HandlerLife {
    pub pid: Pid,
    pub forked_at: f64,
    /// `None` if the server did not reap it.
    pub reaped_at: Option<f64>,
}

static CHILD_ENDED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigchld(_: libc::c_int) {
    // Only a flag: the reaping happens in the accept loop.
    CHILD_ENDED.store(true, Ordering::SeqCst);
}

/// The forking server: accepts connections and forks a handler for each. Returns when
/// `options.connections` have been accepted (never, for `proclab serve`), with the life of every
/// handler; when reaping, it waits for them all to end first.
pub fn serve_forking(listener: &TcpListener, options: &ServerOptions) -> Result<Vec<HandlerLife>> {
    let server_pid = nix::unistd::getpid();
    // While it reaps, SIGCHLD stays blocked except inside `ppoll`, which unblocks it and waits
    // in one step: a handler that ends just before the server starts waiting still wakes it.
    let mut sigchld = SigSet::empty();
    sigchld.add(Signal::SIGCHLD);
    if options.reap {
        let action = SigAction::new(
            SigHandler::Handler(on_sigchld),
            SaFlags::SA_NOCLDSTOP,
            SigSet::empty(),
        );
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        unsafe { nix::sys::signal::sigaction(Signal::SIGCHLD, &action) }?;
        nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&sigchld), None)?;
    }
    listener.set_nonblocking(true)?;
    let keep_lives = options.connections.is_some();
    let mut lives: Vec<HandlerLife> = Vec::new();
    let mut live: Vec<Pid> = Vec::new();
    let mut accepted = 0usize;
    let mut at_limit = false;
    let mut refused = 0u64;
    // A lesson's server gives up on a failing accept() or fork() after this long; `serve`
    // keeps trying, since handlers that end free what it lacks.
    let mut failing_since: Option<Instant> = None;
    let patience = context::scaled(Duration::from_secs(5));
    loop {
        if options.reap && CHILD_ENDED.swap(false, Ordering::SeqCst) {
            reap_handlers(&mut live, &mut lives, false);
        }
        if options.connections == Some(accepted) {
            break;
        }
        let busy = live.len() >= options.max_clients;
        if busy && !at_limit {
            let then = if options.guarded.is_some() {
                "new connections are told so and closed"
            } else {
                "new connections wait in the listen queue"
            };
            say!(
                "{} handlers are live, the limit (--max-clients): {then} until one ends",
                live.len()
            );
            at_limit = true;
        }
        if busy && options.guarded.is_none() {
            if !options.reap {
                return Err(Error::lesson(
                    "handler limit reached by a server that never reaps",
                ));
            }
            reap_handlers(&mut live, &mut lives, true);
            continue;
        }
        if !busy && at_limit {
            if refused > 0 {
                say!("a handler ended: serving again ({refused} connections refused meanwhile)");
            }
            at_limit = false;
            refused = 0;
        }
        // Wait for a connection, or for a handler to end (SIGCHLD interrupts the wait).
        let mut ready = [PollFd::new(listener.as_fd(), PollFlags::POLLIN)];
        let unblocked = options.reap.then(SigSet::empty);
        match ppoll(&mut ready, None, unblocked) {
            Ok(_) | Err(Errno::EINTR) => {}
            Err(errno) => return Err(errno.into()),
        }
        let (connection, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(error) => match error.raw_os_error().map(Errno::from_raw) {
                Some(Errno::EAGAIN | Errno::EINTR | Errno::ECONNABORTED) => continue,
                // Out of descriptors or memory: say so, let handlers finish, try again.
                Some(errno @ (Errno::EMFILE | Errno::ENFILE | Errno::ENOBUFS | Errno::ENOMEM)) => {
                    let since = *failing_since.get_or_insert_with(Instant::now);
                    if options.connections.is_some() && since.elapsed() >= patience {
                        return Err(Error::lesson(format!(
                            "accept() kept failing for {} s: {}",
                            patience.as_secs_f64(),
                            crate::runtime::errno::describe(errno)
                        )));
                    }
                    say!(
                        "accept failed: {}; retrying in 100 ms",
                        crate::runtime::errno::describe(errno)
                    );
                    std::thread::sleep(Duration::from_millis(100));
                    continue;
                }
                _ => return Err(error.into()),
            },
        };
        if busy {
            refuse(connection);
            refused += 1;
            continue;
        }
        if let Some(guarded) = options.guarded {
            // The handler inherits the socket with its timeouts: a read that waits longer
            // than idle_timeout, or a write longer than write_timeout, fails with EAGAIN.
            connection.set_read_timeout(Some(guarded.idle_timeout))?;
            connection.set_write_timeout(Some(guarded.write_timeout))?;
        }
        accepted += 1;
        let forked_at = context::elapsed();
        // The connection moves into the handler: the server's copy is closed as soon as the
        // handler is forked (or with the handler's target, if the fork fails).
        let handler = match start_handler(connection, peer, listener.as_raw_fd(), "handler") {
            Ok(handler) => handler,
            // Out of processes (EAGAIN) or memory: this client is turned away, the server and
            // the other handlers carry on (a lesson's server gives up after a while).
            Err(error) => {
                say!(
                    "cannot fork a handler for {peer} ({error}): connection closed; retrying in 100 ms"
                );
                let since = *failing_since.get_or_insert_with(Instant::now);
                if options.connections.is_some() && since.elapsed() >= patience {
                    return Err(Error::lesson(format!(
                        "fork() kept failing for {} s: {error}",
                        patience.as_secs_f64()
                    )));
                }
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        failing_since = None;
        let pid = handler.pid().expect("started");
        live.push(pid);
        if keep_lives {
            lives.push(HandlerLife {
                pid,
                forked_at,
                reaped_at: None,
            });
        }
        say!("connection from {peer}: handler {pid}, a child of this server ({server_pid})");
        if options.observe_handlers {
            crate::runtime::procfs::observe(pid);
        }
    }
    if options.reap {
        while !live.is_empty() {
            reap_handlers(&mut live, &mut lives, true);
        }
        nix::sys::signal::sigprocmask(SigmaskHow::SIG_UNBLOCK, Some(&sigchld), None)?;
    }
    Ok(lives)
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

fn reap_handlers(live: &mut Vec<Pid>, lives: &mut [HandlerLife], block: bool) {
    for (pid, _) in process::reap_any_ended(block) {
        live.retain(|&p| p != pid);
        if let Some(life) = lives.iter_mut().find(|l| l.pid == pid) {
            life.reaped_at = Some(context::elapsed());
        }
    }
}

/// `proclab serve`: the forking server until Ctrl-C, with the lab's annotations.
pub fn serve(listener: TcpListener, max_clients: usize, guarded: Guarded) -> Result<()> {
    let address = listener.local_addr()?;
    say!(
        "listening on {address} (SO_REUSEADDR set), one handler process per connection, at most \
         {max_clients} at once (more are told the server is busy); a handler hangs up after {} s \
         without a byte from its client, or {} s of its replies unread; Ctrl-C stops the server \
         and every handler",
        guarded.idle_timeout.as_secs_f64(),
        guarded.write_timeout.as_secs_f64()
    );
    warn_if_reachable(address);
    let options = ServerOptions {
        max_clients,
        reap: true,
        connections: None,
        observe_handlers: false,
        guarded: Some(guarded),
    };
    serve_forking(&listener, &options).map(|_| ())
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
