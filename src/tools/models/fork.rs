//! A process per connection: lesson 4's forking server, and `serve --model fork`.
//!
//! [`serve_forking`] accepts connections and forks one *handler* process per connection
//! ([`start_handler`]). The handler closes the listening socket it inherited, the server
//! closes its copy of the connection, and the server reaps (回收) its handlers as they end
//! (`SIGCHLD`, then `waitpid(-1, WNOHANG)` in the accept loop), so no zombie piles up. Each
//! handler runs [`echo::talk`], the service every model shares.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, ppoll};
use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, SigmaskHow, Signal};

use crate::error::{Error, Result};
use crate::multiprocessing::process::{self, Pid, Process};
use crate::runtime::context;
use crate::say;
use crate::tools::echo::{self, Guarded};
use crate::tools::models::{Options, Served};

/// The forking server with the models' [`Options`]: lesson 16's (until `options.connections`
/// have come, handlers waiting at the limit) and `serve --model fork`'s (until Ctrl-C, with
/// the guards that its timeouts give).
pub fn serve(listener: &TcpListener, options: &Options) -> Result<Served> {
    let guarded = (options.idle_timeout.is_some() || options.write_timeout.is_some())
        .then(|| Guarded::or_defaults(options.idle_timeout, options.write_timeout));
    let lives = serve_forking(
        listener,
        &ServerOptions {
            max_clients: options.max_clients,
            reap: true,
            connections: options.connections,
            observe_handlers: false,
            guarded,
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

/// Forks a handler process for `connection`, which runs [`echo::talk`] and says how it went. The
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
        let conversation = echo::talk(&mut connection);
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

/// One handler of a server that stopped by itself: when it was forked and when reaped.
#[derive(Debug, Clone)]
pub struct HandlerLife {
    pub pid: Pid,
    pub forked_at: f64,
    /// `None` if the server did not reap it.
    pub reaped_at: Option<f64>,
}

// Written by the server whenever a handler ends, while its other handlers share the page: on
// the page of what a new child writes (see `FAMILY` in `multiprocessing::process`), which
// the server writes at every fork anyway.
#[unsafe(link_section = ".data.new_child")]
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
    // The handlers not yet reaped are counted by the process module, which keeps a record of
    // each child anyway: a list of their pids here too would be one more heap page the server
    // writes at every fork, and every such page is copied for the handler that shares it.
    let mut accepted = 0usize;
    let mut at_limit = false;
    let mut refused = 0u64;
    // A lesson's server gives up on a failing accept() or fork() after this long; `serve`
    // keeps trying, since handlers that end free what it lacks.
    let mut failing_since: Option<Instant> = None;
    let patience = context::scaled(Duration::from_secs(5));
    loop {
        if options.reap && CHILD_ENDED.swap(false, Ordering::SeqCst) {
            reap_handlers(&mut lives, false);
        }
        if options.connections == Some(accepted) {
            break;
        }
        let live = process::children_not_reaped();
        let busy = live >= options.max_clients;
        if busy && !at_limit {
            let then = if options.guarded.is_some() {
                "new connections are told so and closed"
            } else {
                "new connections wait in the listen queue"
            };
            say!("{live} handlers are live, the limit (--max-clients): {then} until one ends");
            at_limit = true;
        }
        if busy && options.guarded.is_none() {
            if !options.reap {
                return Err(Error::lesson(
                    "handler limit reached by a server that never reaps",
                ));
            }
            reap_handlers(&mut lives, true);
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
            echo::refuse(connection);
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
        while process::children_not_reaped() > 0 {
            reap_handlers(&mut lives, true);
        }
        nix::sys::signal::sigprocmask(SigmaskHow::SIG_UNBLOCK, Some(&sigchld), None)?;
    }
    Ok(lives)
}

fn reap_handlers(lives: &mut [HandlerLife], block: bool) {
    for (pid, _) in process::reap_any_ended(block) {
        if let Some(life) = lives.iter_mut().find(|l| l.pid == pid) {
            life.reaped_at = Some(context::elapsed());
        }
    }
}
