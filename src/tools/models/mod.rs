//! The upper-casing echo service of lesson 4, served five ways: lesson 16's I/O models (I/O模型)
//! and `proclab serve --model`.
//!
//! Every model speaks the same protocol (read at most [`CHUNK`] bytes, send them back
//! upper-cased, until the client closes) and differs only in *how it waits*:
//! - [`Model::Iterative`] (here): blocking calls, one client at a time (lesson 4's iterative
//!   server);
//! - [`Model::Fork`]: a process per connection, lesson 4's server (`echo::serve_forking`);
//! - [`Model::Thread`] (`thread.rs`): a thread per connection, each blocking in its own `recv`;
//! - `nonblocking.rs`: every socket `O_NONBLOCK`, one thread asking each in turn, round and
//!   round, even when nothing happens (a busy loop: the lesson shows what it burns; `serve`
//!   does not offer it);
//! - [`Model::Poll`] (`poll.rs`) and [`Model::Epoll`] (`epoll.rs`): one thread, non-blocking
//!   sockets, and one system call that waits for whichever is ready (I/O multiplexing,
//!   多路复用). `connection.rs` is what they keep per client: the reply not yet sent.
//!
//! `cost.rs` reads what a server costs while it serves (processes, threads, descriptors,
//! memory, CPU) from `/proc`.
//!
//! Bounds and timeouts are [`Options`], the same for every model, so that `serve` keeps its
//! promises whichever model it runs.

pub mod connection;
pub mod cost;
pub mod epoll;
pub mod nonblocking;
pub mod poll;
pub mod thread;

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::time::Duration;

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags};
use nix::sys::resource::{Resource, getrlimit, setrlimit};

use crate::error::Result;
use crate::multiprocessing::process::poll_timeout;
use crate::runtime::wait;
use crate::say;
use crate::tools::echo::{self, ServerOptions};

pub use crate::tools::echo::CHUNK;

/// How a server waits for its clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Model {
    /// Blocking calls, one client at a time: the next waits in the listen queue.
    Iterative,
    /// A process per connection (lesson 4's server).
    Fork,
    /// A thread per connection.
    Thread,
    /// One thread, `poll(2)` over every socket.
    Poll,
    /// One thread, an `epoll` set kept by the kernel.
    Epoll,
}

impl Model {
    /// How the listening line describes it.
    pub fn describe(self) -> &'static str {
        match self {
            Model::Iterative => "one client at a time, served by the server itself",
            Model::Fork => "one handler process per connection",
            Model::Thread => "one handler thread per connection",
            Model::Poll => "one thread watching every connection with poll",
            Model::Epoll => "one thread watching every connection with epoll",
        }
    }
}

/// Bounds and timeouts, the same for every model.
#[derive(Debug, Clone)]
pub struct Options {
    /// At most this many connections served at once; the next ones wait in the listen queue.
    pub max_clients: usize,
    /// Stop once this many connections have come and gone (a lesson); `None`: until stopped.
    pub connections: Option<usize>,
    /// A connection that sends nothing for this long is closed (`None`: never).
    pub idle_timeout: Option<Duration>,
    /// A reply that cannot be sent for this long closes its connection (`None`: never).
    pub write_timeout: Option<Duration>,
    /// Report each wait (`accept`, `recv`, `poll`, `epoll_wait`) as `wait`/`woke` events. On
    /// in the lessons; off in `proclab serve`, where a loaded server would report hundreds of
    /// thousands of them.
    pub show_waits: bool,
    /// Say "connection from ..." and "... closed" for at most this many connections (the rest
    /// are served silently, and counted).
    pub announce: usize,
}

impl Options {
    /// `proclab serve`'s: until Ctrl-C, every connection announced, waits not reported, and
    /// the idle and write timeouts that keep a crowd from denying service.
    pub fn for_serve(max_clients: usize, guarded: echo::Guarded) -> Options {
        Options {
            max_clients,
            connections: None,
            idle_timeout: Some(guarded.idle_timeout),
            write_timeout: Some(guarded.write_timeout),
            show_waits: false,
            announce: usize::MAX,
        }
    }

    /// True once the lesson's number of connections has come and gone.
    fn all_served(&self, accepted: usize, open: usize) -> bool {
        self.connections.is_some_and(|n| accepted >= n) && open == 0
    }

    /// True while another connection may be accepted.
    fn may_accept(&self, accepted: usize, open: usize) -> bool {
        open < self.max_clients && self.connections.is_none_or(|n| accepted < n)
    }
}

/// What a model's server did, for the lesson's notes.
#[derive(Debug, Default, Clone)]
pub struct Served {
    pub connections: usize,
    pub bytes: u64,
    /// Most connections open at once.
    pub most_open: usize,
    /// Replies (or parts) that the socket could not take at once, kept and sent later.
    pub kept_replies: u64,
    /// Times round the loop, and how many of those found nothing to do (the busy loop).
    pub turns: u64,
    pub idle_turns: u64,
}

/// `proclab serve --model M`: serves until Ctrl-C, annotated as `serve` is.
pub fn serve(model: Model, listener: TcpListener, options: Options) -> Result<()> {
    if model == Model::Fork {
        // Lesson 4's server, with serve's guards.
        let guarded = echo::Guarded {
            idle_timeout: options
                .idle_timeout
                .unwrap_or(Duration::from_secs_f64(echo::DEFAULT_IDLE_TIMEOUT_S)),
            write_timeout: options
                .write_timeout
                .unwrap_or(Duration::from_secs_f64(echo::DEFAULT_WRITE_TIMEOUT_S)),
        };
        return echo::serve(listener, options.max_clients, guarded);
    }
    let address = listener.local_addr()?;
    say!(
        "listening on {address} (SO_REUSEADDR set), {}, at most {} at once; Ctrl-C stops the \
         server",
        model.describe(),
        options.max_clients
    );
    echo::warn_if_reachable(address);
    if matches!(model, Model::Poll | Model::Epoll)
        && let Some((before, after)) = raise_open_files_limit(options.max_clients)?
    {
        say!(
            "raised the soft limit on open files from {before} to {after}, so that \
             {} connections fit",
            options.max_clients
        );
    }
    match model {
        Model::Iterative => serve_iterative(&listener, &options).map(|_| ()),
        Model::Thread => thread::serve(&listener, &options).map(|_| ()),
        Model::Poll => poll::serve(&listener, &options).map(|_| ()),
        Model::Epoll => epoll::serve(&listener, &options).map(|_| ()),
        Model::Fork => unreachable!("served above"),
    }
}

/// Lesson 4's lesson-mode forking server, with `Options`.
pub fn serve_forking(listener: &TcpListener, options: &Options) -> Result<Served> {
    let lives = echo::serve_forking(
        listener,
        &ServerOptions {
            max_clients: options.max_clients,
            reap: true,
            connections: Some(options.connections.unwrap_or(usize::MAX)),
            observe_handlers: false,
            guarded: None,
        },
    )?;
    // Most handlers alive at once: at each fork, how many forked ones were not yet reaped.
    let most_open = lives
        .iter()
        .map(|life| {
            lives
                .iter()
                .filter(|other| {
                    other.forked_at <= life.forked_at
                        && other.reaped_at.is_none_or(|reaped| reaped > life.forked_at)
                })
                .count()
        })
        .max()
        .unwrap_or(0);
    Ok(Served {
        connections: lives.len(),
        most_open,
        ..Served::default()
    })
}

/// A server that holds N connections needs N descriptors and a few more: raise the soft
/// limit on open files up to N + 32 when it is lower (never above the hard limit), as
/// `proclab load --hold` does. Returns (before, after) when it raised it.
pub fn raise_open_files_limit(connections: usize) -> Result<Option<(u64, u64)>> {
    let needed = connections as u64 + 32;
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE)?;
    if soft >= needed {
        return Ok(None);
    }
    let raised = needed.min(hard);
    if raised <= soft {
        return Ok(None);
    }
    setrlimit(Resource::RLIMIT_NOFILE, raised, hard)?;
    Ok(Some((soft, raised)))
}

/// The iterative server: accepts one connection, talks until the client closes, accepts the
/// next. The others wait, connected, in the listen queue.
pub fn serve_iterative(listener: &TcpListener, options: &Options) -> Result<Served> {
    let mut served = Served::default();
    listener.set_nonblocking(true)?;
    while options.may_accept(served.connections, 0) {
        let (mut connection, peer) = accept(listener, options.show_waits)?;
        served.connections += 1;
        served.most_open = 1;
        let announce = served.connections <= options.announce;
        if announce {
            say!("connection from {peer}: served here, by the server itself");
        }
        apply_timeouts(&connection, options)?;
        let conversation = if options.show_waits {
            talk_visibly(&mut connection, &peer.to_string())
        } else {
            echo::talk(&mut connection)
        };
        served.bytes += conversation.bytes;
        if announce {
            say!(
                "{peer} closed the connection after {} bytes; next client",
                conversation.bytes
            );
        }
    }
    Ok(served)
}

/// Accepts one connection on a non-blocking listener, waiting (in `poll`) when none is
/// there; with `show_waits` the wait is reported as `accept`. The connection it returns is
/// blocking (on Linux, `accept` does not pass `O_NONBLOCK` on).
pub fn accept(listener: &TcpListener, show_waits: bool) -> io::Result<(TcpStream, SocketAddr)> {
    loop {
        match listener.accept() {
            Ok(accepted) => return Ok(accepted),
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
            Err(error) if retry_accept(&error) => {}
            Err(error) => return Err(error),
        }
        let waiting = show_waits.then(|| wait::begin("accept", "listening socket"));
        let mut ready = [PollFd::new(listener.as_fd(), PollFlags::POLLIN)];
        let outcome = nix::poll::poll(&mut ready, nix::poll::PollTimeout::NONE);
        if let Some(waiting) = waiting {
            waiting.end(outcome.is_ok());
        }
        match outcome {
            Ok(_) | Err(Errno::EINTR) => {}
            Err(errno) => return Err(errno.into()),
        }
    }
}

/// Errors after which `accept` is simply tried again: the client gave up before we took it,
/// or we are out of descriptors or memory for a moment (a short pause, then again).
pub fn retry_accept(error: &io::Error) -> bool {
    match error.raw_os_error().map(Errno::from_raw) {
        Some(Errno::EINTR | Errno::ECONNABORTED) => true,
        Some(Errno::EMFILE | Errno::ENFILE | Errno::ENOBUFS | Errno::ENOMEM) => {
            say!("accept failed ({error}); retrying in 100 ms");
            std::thread::sleep(Duration::from_millis(100));
            true
        }
        _ => false,
    }
}

/// The idle and write timeouts, on a blocking connection: a `read` or `write` that waits
/// longer fails with `WouldBlock`, which ends the conversation.
pub fn apply_timeouts(connection: &TcpStream, options: &Options) -> io::Result<()> {
    connection.set_read_timeout(options.idle_timeout)?;
    connection.set_write_timeout(options.write_timeout)
}

/// `echo::talk`, with every `recv` that has to wait reported as a wait (for the lessons).
/// First a non-blocking peek (`MSG_DONTWAIT`): only a receive that would block is a wait.
pub fn talk_visibly(connection: &mut TcpStream, peer: &str) -> echo::Conversation {
    use std::io::{Read, Write};
    let mut buffer = [0u8; CHUNK];
    let mut conversation = echo::Conversation::default();
    loop {
        let mut probe = [0u8; 1];
        let would_block = matches!(
            nix::sys::socket::recv(
                std::os::fd::AsRawFd::as_raw_fd(connection),
                &mut probe,
                nix::sys::socket::MsgFlags::MSG_DONTWAIT | nix::sys::socket::MsgFlags::MSG_PEEK,
            ),
            Err(Errno::EAGAIN)
        );
        let waiting = would_block.then(|| wait::begin("recv", peer));
        let received = connection.read(&mut buffer);
        if let Some(waiting) = waiting {
            // The end of the conversation (0 bytes) is something got too.
            waiting.end(received.is_ok());
        }
        let received = match received {
            Ok(0) => return conversation,
            Ok(n) => n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => {
                conversation.error = Some(error);
                return conversation;
            }
        };
        conversation.messages += 1;
        conversation.bytes += received as u64;
        buffer[..received].make_ascii_uppercase();
        if let Err(error) = connection.write_all(&buffer[..received]) {
            conversation.error = Some(error);
            return conversation;
        }
    }
}

/// How a connection's end is said, the same in every model.
pub fn say_closed(peer: SocketAddr, conversation: &echo::Conversation, kept: u64) {
    let kept = if kept > 0 {
        format!(
            "; {kept} time(s) the reply could not be sent whole and the rest was kept until \
             the socket was writable"
        )
    } else {
        String::new()
    };
    match &conversation.error {
        None => say!(
            "{peer} closed the connection: {} bytes in {} reads, all sent back upper-cased{kept}",
            conversation.bytes,
            conversation.messages
        ),
        Some(error) => say!(
            "{peer}: conversation ended by an error after {} bytes: {error}{kept}",
            conversation.bytes
        ),
    }
}

/// The timeout for a wait that must also wake for the next timeout check: `None` (wait for
/// ever) when the options have no timeouts.
fn sweep_interval(options: &Options) -> Option<Duration> {
    let shortest = [options.idle_timeout, options.write_timeout]
        .into_iter()
        .flatten()
        .min()?;
    // Checked a few times per timeout: a connection is closed at most a quarter late.
    Some((shortest / 4).max(Duration::from_millis(10)))
}

/// `poll_timeout` for an optional wait.
fn wait_timeout(wait: Option<Duration>) -> nix::poll::PollTimeout {
    wait.map_or(nix::poll::PollTimeout::NONE, poll_timeout)
}

/// A connection a non-blocking server has just accepted: counted, announced (the first
/// `options.announce`), made non-blocking. `None` if it could not be made non-blocking (it is
/// closed then).
fn welcome(
    stream: TcpStream,
    peer: SocketAddr,
    served: &mut Served,
    options: &Options,
    open_before: usize,
    how: &str,
) -> Option<connection::Connection> {
    served.connections += 1;
    served.most_open = served.most_open.max(open_before + 1);
    let mut connection = connection::Connection::new(stream, peer).ok()?;
    if served.connections <= options.announce {
        connection.announced = true;
        say!("connection from {peer}: {how}, with {open_before} other connection(s) open");
    }
    Some(connection)
}

/// A connection that ended: its bytes counted, its end said if its start was.
fn farewell(connection: &connection::Connection, error: Option<io::Error>, served: &mut Served) {
    served.bytes += connection.bytes;
    served.kept_replies += connection.kept;
    if connection.announced {
        say_closed(
            connection.peer,
            &connection.conversation(error),
            connection.kept,
        );
    }
}
