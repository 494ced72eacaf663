//! The upper-casing echo service of lesson 4, served five ways: lesson 16's I/O models (I/O模型)
//! and `proclab serve --model`.
//!
//! Every model speaks the same protocol (read at most [`CHUNK`] bytes, send them back
//! upper-cased, until the client closes) and differs only in *how it waits*:
//! - [`Model::Iterative`] (here): blocking calls, one client at a time (lesson 4's iterative
//!   server);
//! - [`Model::Fork`] (`fork.rs`): a process per connection, lesson 4's server;
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
pub mod fork;
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
use crate::tools::echo;

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

    /// At the limit, is a new connection accepted, told the server is busy and closed at once?
    /// Yes for a server that runs until stopped (`proclab serve`: a crowd of idle or slow
    /// clients must not make a newcomer wait); no for a lesson's server, which serves a known
    /// number of its own clients, and lets them wait in the listen queue.
    pub fn busy_at_limit(&self) -> bool {
        self.connections.is_none()
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
    /// Connections told the server was busy (at the limit, or out of descriptors).
    pub refused: u64,
}

/// `proclab serve --model M`: serves until Ctrl-C, annotated as `serve` is.
pub fn serve(model: Model, listener: TcpListener, mut options: Options) -> Result<()> {
    say_listening(model, &listener, &mut options)?;
    match model {
        Model::Fork => fork::serve(&listener, &options),
        Model::Thread => thread::serve(&listener, &options),
        Model::Epoll => epoll::serve(&listener, &options),
        Model::Poll => poll::serve_as(&listener, &options, "watched by this thread's poll list"),
        Model::Iterative => poll::serve_as(&listener, &options, "served by the server itself"),
    }
    .map(|_| ())
}

/// Says how a server listens (and, for `iterative`, sets its limits first); raises the limit
/// on open files as far as `--max-clients` needs, or warns that it cannot.
fn say_listening(model: Model, listener: &TcpListener, options: &mut Options) -> Result<()> {
    if model == Model::Iterative {
        // One client at a time, and whoever else comes is told at once that the server is
        // busy (it watches its listening socket while it talks, with poll); a client that
        // goes quiet, or stops reading, loses its turn within seconds.
        options.max_clients = 1;
        options.idle_timeout = options.idle_timeout.map(|t| t.min(ITERATIVE_PATIENCE));
        options.write_timeout = options.write_timeout.map(|t| t.min(ITERATIVE_PATIENCE));
    }
    let address = listener.local_addr()?;
    if model == Model::Fork {
        let guarded = echo::Guarded::or_defaults(options.idle_timeout, options.write_timeout);
        say!(
            "listening on {address} (SO_REUSEADDR set), {}, at most {} at once (more are told \
             the server is busy); a handler hangs up after {} s without a byte from its client, \
             or {} s of its replies unread; Ctrl-C stops the server and every handler",
            model.describe(),
            options.max_clients,
            guarded.idle_timeout.as_secs_f64(),
            guarded.write_timeout.as_secs_f64()
        );
    } else {
        say!(
            "listening on {address} (SO_REUSEADDR set), {}, at most {} at once (more are told \
             the server is busy); Ctrl-C stops the server",
            model.describe(),
            options.max_clients
        );
    }
    echo::warn_if_reachable(address);
    if model == Model::Fork {
        // Each handler is a process with its own descriptors: the server keeps only the
        // listening socket, so its limit on open files needs no raising.
        return Ok(());
    }
    if model == Model::Iterative {
        say!(
            "this server talks with one client at a time: the others are told it is busy; a \
             client that sends nothing, or reads nothing, for {} s is hung up on",
            ITERATIVE_PATIENCE.as_secs_f64()
        );
    }
    match raise_open_files_limit(options.max_clients)? {
        Limit::Enough => {}
        Limit::Raised { before, after } => say!(
            "raised the soft limit on open files from {before} to {after}, so that {} \
             connections fit",
            options.max_clients
        ),
        Limit::TooLow { limit, needed } => say!(
            "WARNING: the limit on open files is {limit} and cannot be raised (ulimit -Hn), but \
             {} connections need about {needed}: past it, new connections are told the server \
             is busy",
            options.max_clients
        ),
    }
    Ok(())
}

/// `serve --model iterative`'s idle and write timeouts, at most: the one client it talks
/// with holds everybody else off.
const ITERATIVE_PATIENCE: Duration = Duration::from_secs(3);

/// What a server could do about the limit on open files.
pub enum Limit {
    /// It was high enough.
    Enough,
    /// The soft limit was raised.
    Raised { before: u64, after: u64 },
    /// The hard limit is below what the server needs.
    TooLow { limit: u64, needed: u64 },
}

/// A server that holds N connections needs N descriptors and a few more: raise the soft
/// limit on open files up to N + 32 when it is lower (never above the hard limit), as
/// `proclab load --hold` does.
pub fn raise_open_files_limit(connections: usize) -> Result<Limit> {
    let needed = connections as u64 + 32;
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE)?;
    if soft >= needed {
        return Ok(Limit::Enough);
    }
    let raised = needed.min(hard);
    if raised > soft {
        setrlimit(Resource::RLIMIT_NOFILE, raised, hard)?;
    }
    Ok(if raised < needed {
        Limit::TooLow {
            limit: raised.max(soft),
            needed,
        }
    } else {
        Limit::Raised {
            before: soft,
            after: raised,
        }
    })
}

/// A descriptor kept in reserve for the moment `accept` fails for want of descriptors
/// (`EMFILE`): the server closes it, accepts the waiting client with the one freed, tells it
/// the server is busy and closes it, then takes its reserve again. Without it, the client
/// would stay in the listen queue, reported ready at every wait, and never told anything.
pub struct Reserve(Option<std::fs::File>);

impl Default for Reserve {
    fn default() -> Reserve {
        Reserve::new()
    }
}

impl Reserve {
    pub fn new() -> Reserve {
        Reserve(std::fs::File::open("/dev/null").ok())
    }

    /// Turns one waiting client away with the reserve; false if there was none to use, or
    /// nobody to turn away.
    pub fn turn_away_one(&mut self, listener: &TcpListener) -> bool {
        if self.0.take().is_none() {
            self.0 = std::fs::File::open("/dev/null").ok();
            return false;
        }
        let turned_away = match listener.accept() {
            Ok((stream, _)) => {
                echo::refuse(stream);
                true
            }
            Err(_) => false,
        };
        self.0 = std::fs::File::open("/dev/null").ok();
        turned_away
    }
}

/// What accepting the waiting connections ended with.
pub enum Accepting {
    /// Nobody is left waiting (or the lesson's limit is reached).
    Done,
    /// Out of descriptors, and the reserve did not help: stop watching the listening socket
    /// for a moment (it would be reported ready at every wait), and serve the others.
    OutOfDescriptors,
}

/// At most this many connections are accepted (or refused) in one go: the connections
/// already open are served between two rounds, however many newcomers keep coming.
const ACCEPT_ROUND: usize = 64;

/// How long a server out of descriptors leaves its listening socket alone before trying
/// again (sooner when one of its connections closes).
pub const PAUSE_WHEN_OUT_OF_DESCRIPTORS: Duration = Duration::from_millis(100);

/// Accepts the connections waiting on a non-blocking listener, for the servers that watch
/// every connection from one thread (`poll`, `epoll`, and `serve`'s iterative): each is
/// welcomed and handed to `keep`; at the limit, each is told the server is busy and closed
/// (`busy_at_limit`), or left waiting.
pub fn accept_ready(
    listener: &TcpListener,
    open: usize,
    served: &mut Served,
    options: &Options,
    reserve: &mut Reserve,
    how: &str,
    mut keep: impl FnMut(connection::Connection) -> Result<()>,
) -> Result<Accepting> {
    let mut open = open;
    for _ in 0..ACCEPT_ROUND {
        let may_accept = options.may_accept(served.connections, open);
        if !may_accept && !options.busy_at_limit() {
            break;
        }
        let (stream, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(error) => match error.raw_os_error().map(Errno::from_raw) {
                Some(Errno::EAGAIN) => break,
                Some(Errno::EINTR | Errno::ECONNABORTED) => continue,
                Some(Errno::EMFILE | Errno::ENFILE | Errno::ENOBUFS | Errno::ENOMEM) => {
                    if is_out_of_descriptors(&error) && reserve.turn_away_one(listener) {
                        served.refused += 1;
                        continue;
                    }
                    say!(
                        "accept failed ({error}): serving the {open} open connection(s), and \
                         trying again in {} ms",
                        PAUSE_WHEN_OUT_OF_DESCRIPTORS.as_millis()
                    );
                    return Ok(Accepting::OutOfDescriptors);
                }
                _ => return Err(error.into()),
            },
        };
        if !may_accept {
            echo::refuse(stream);
            served.refused += 1;
            continue;
        }
        if let Some(connection) = welcome(stream, peer, served, options, open, how) {
            keep(connection)?;
            open += 1;
        }
    }
    Ok(Accepting::Done)
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
            waiting.ended(match outcome {
                Ok(_) => crate::runtime::wait::Ended::Got,
                Err(Errno::EINTR) => crate::runtime::wait::Ended::Interrupted,
                Err(_) => crate::runtime::wait::Ended::Error,
            });
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

/// `accept` failed for want of descriptors (this process's, or the system's).
pub fn is_out_of_descriptors(error: &io::Error) -> bool {
    matches!(
        error.raw_os_error().map(Errno::from_raw),
        Some(Errno::EMFILE | Errno::ENFILE)
    )
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
    use std::io::Read;
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
            // Bytes, the end of file (the client closed), a timeout or an error.
            waiting.ended(crate::runtime::wait::Ended::of_read(&received));
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
        if let Err(error) = echo::send_within_timeout(connection, &buffer[..received]) {
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
            "{peer} closed the connection: {} bytes in {} {}, all sent back upper-cased{kept}",
            conversation.bytes,
            conversation.messages,
            if conversation.messages == 1 {
                "read"
            } else {
                "reads"
            }
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
