//! The echo service with a thread per connection (多线程).
//!
//! The server's own thread accepts; for each connection it starts a `Thread` (the lab's
//! `threading.Thread`) that talks with blocking calls until the client closes, exactly as a
//! forked handler does, but inside the server's process: same pid, its own thread id, the
//! same memory and descriptor table. No fork, so no copy of the process per client; the
//! kernel still schedules each thread, and each has a stack of its own.
//!
//! The server joins each thread that has ended (the thread's `exit` event), as the forking
//! server reaps its handlers: a thread that is never joined keeps its stack. (The C twin,
//! `server_thread.c`, detaches its threads instead: nobody joins them, and nobody hears of
//! their end.)

use std::io;
use std::net::TcpListener;
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout};

use crate::error::{Error, Result};
use crate::multiprocessing::process::poll_timeout;
use crate::runtime::wait;
use crate::say;
use crate::threading::Thread;
use crate::tools::echo;
use crate::tools::models::{
    Options, Reserve, Served, apply_timeouts, is_out_of_descriptors, retry_accept, say_closed,
    talk_visibly,
};

/// How many handler threads are talking: the accepting thread waits on it at the limit.
struct Live {
    count: Mutex<usize>,
    ended: Condvar,
}

impl Live {
    fn lock(&self) -> std::sync::MutexGuard<'_, usize> {
        self.count.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub fn serve(listener: &TcpListener, options: &Options) -> Result<Served> {
    listener.set_nonblocking(true)?;
    let live = Arc::new(Live {
        count: Mutex::new(0),
        ended: Condvar::new(),
    });
    let bytes = Arc::new(AtomicU64::new(0));
    let mut served = Served::default();
    let mut handlers: Vec<Thread> = Vec::new();
    let mut reserve = Reserve::new();
    let mut refusing = false;
    while options.connections.is_none_or(|n| served.connections < n) {
        if !options.busy_at_limit() {
            wait_below_limit(&live, options);
        }
        let (mut connection, peer) =
            accept_joining(listener, &mut handlers, options, &mut reserve, &mut served)?;
        let talking = *live.lock();
        if talking >= options.max_clients {
            // `serve`: whoever comes at the limit is told at once, not left waiting behind
            // clients that may never leave.
            if !refusing {
                say!(
                    "{talking} handler threads are live, the limit (--max-clients): new \
                     connections are told the server is busy until one ends"
                );
                refusing = true;
            }
            echo::refuse(connection);
            served.refused += 1;
            continue;
        }
        refusing = false;
        apply_timeouts(&connection, options)?;
        served.connections += 1;
        let announce = served.connections <= options.announce;
        let open = {
            let mut count = live.lock();
            *count += 1;
            *count
        };
        served.most_open = served.most_open.max(open);
        let (live_here, bytes_here, show_waits) = (live.clone(), bytes.clone(), options.show_waits);
        let mut handler = Thread::new(move || {
            let conversation = if show_waits {
                talk_visibly(&mut connection, &peer.to_string())
            } else {
                echo::talk(&mut connection)
            };
            // Closed now, before the count goes down: the limit counts open connections.
            drop(connection);
            bytes_here.fetch_add(conversation.bytes, Ordering::Relaxed);
            if announce {
                say_closed(peer, &conversation, 0);
            }
            *live_here.lock() -= 1;
            live_here.ended.notify_one();
        })
        .named(&format!("handler-{}", served.connections));
        if let Err(error) = handler.start() {
            // Out of threads (EAGAIN): this client is turned away (its connection went with
            // the target), the others carry on.
            *live.lock() -= 1;
            say!("cannot start a thread for {peer} ({error}): connection closed");
            continue;
        }
        if announce {
            say!(
                "connection from {peer}: thread {} of this server, {open} talking",
                handler.name()
            );
        }
        handlers.push(handler);
    }
    for handler in &mut handlers {
        handler.join().map_err(|e| Error::System(e.to_string()))?;
    }
    served.bytes = bytes.load(Ordering::Relaxed);
    Ok(served)
}

/// Accepts the next connection; while it waits, joins the handler threads that end (it
/// looks every 100 ms while any is running), so that an ended thread's stack is freed even
/// when no client comes.
fn accept_joining(
    listener: &TcpListener,
    handlers: &mut Vec<Thread>,
    options: &Options,
    reserve: &mut Reserve,
    served: &mut Served,
) -> Result<(std::net::TcpStream, std::net::SocketAddr)> {
    let mut waiting = None;
    let accepted = loop {
        join_ended(handlers)?;
        match listener.accept() {
            Ok(accepted) => break accepted,
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
            Err(error) if is_out_of_descriptors(&error) => {
                // Told it is busy with the descriptor kept in reserve; else the handlers go
                // on while this thread waits a moment.
                if reserve.turn_away_one(listener) {
                    served.refused += 1;
                } else if retry_accept(&error) {
                    continue;
                }
            }
            Err(error) if retry_accept(&error) => continue,
            Err(error) => return Err(error.into()),
        }
        if options.show_waits && waiting.is_none() {
            waiting = Some(wait::begin("accept", "listening socket"));
        }
        let timeout = if handlers.is_empty() {
            PollTimeout::NONE
        } else {
            poll_timeout(Duration::from_millis(100))
        };
        let mut ready = [PollFd::new(listener.as_fd(), PollFlags::POLLIN)];
        match nix::poll::poll(&mut ready, timeout) {
            Ok(_) | Err(Errno::EINTR) => {}
            Err(errno) => return Err(errno.into()),
        }
    };
    if let Some(waiting) = waiting {
        waiting.end(true);
    }
    Ok(accepted)
}

/// Joins the handler threads that have ended, so that their stacks are freed.
fn join_ended(handlers: &mut Vec<Thread>) -> Result<()> {
    let mut index = handlers.len();
    while index > 0 {
        index -= 1;
        if !handlers[index].is_alive() {
            let mut handler = handlers.swap_remove(index);
            handler.join().map_err(|e| Error::System(e.to_string()))?;
        }
    }
    Ok(())
}

/// At the limit, waits until a handler ends (the next clients wait in the listen queue).
fn wait_below_limit(live: &Live, options: &Options) {
    let mut count = live.lock();
    if *count < options.max_clients {
        return;
    }
    say!(
        "{count} handler threads are live, the limit (--max-clients): new connections wait in \
         the listen queue until one ends"
    );
    let waiting = options
        .show_waits
        .then(|| wait::begin("condition", "a free slot"));
    while *count >= options.max_clients {
        count = live.ended.wait(count).unwrap_or_else(|e| e.into_inner());
    }
    if let Some(waiting) = waiting {
        waiting.end(true);
    }
}
