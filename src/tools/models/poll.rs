//! The echo service on one thread with `poll` (I/O multiplexing, 多路复用).
//!
//! Every socket is non-blocking, and the thread blocks in one place only: `poll`, handed the
//! list of every socket and what it waits for on each (`POLLIN`: something to read, or a
//! connection to accept; `POLLOUT`: room to send a kept reply). The kernel puts the thread to
//! sleep until at least one of them is ready, and marks which. Then the thread does what each
//! ready socket allows, without waiting, and polls again.
//!
//! The list is rebuilt and handed over whole at every call, and the kernel checks every entry
//! each time: with 10,000 connections of which 10 are busy, each `poll` still walks 10,000.
//! `epoll.rs` keeps the list in the kernel instead. (`select`, the oldest of the three, is
//! `poll` with bitmaps of a fixed size: descriptors numbered 1024 and above do not fit.)
//!
//! Level-triggered: a socket with unread bytes is reported again at the next `poll`, so one
//! `recv` per wake-up is enough.

use std::io;
use std::net::TcpListener;
use std::os::fd::AsFd;
use std::time::Instant;

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout};

use crate::error::Result;
use crate::runtime::wait;
use crate::tools::models::connection::{Connection, Turn};
use crate::tools::models::{
    Accepting, Options, PAUSE_WHEN_OUT_OF_DESCRIPTORS, Reserve, Served, accept_ready, farewell,
    sweep_interval, wait_timeout,
};

pub fn serve(listener: &TcpListener, options: &Options) -> Result<Served> {
    serve_as(listener, options, "watched by this thread's poll list")
}

/// `serve`, with `how` a new connection is announced (`serve --model iterative` is this
/// server with a limit of one).
pub fn serve_as(listener: &TcpListener, options: &Options, how: &str) -> Result<Served> {
    listener.set_nonblocking(true)?;
    let mut connections: Vec<Connection> = Vec::new();
    let mut served = Served::default();
    let mut reserve = Reserve::new();
    // Out of descriptors: the listening socket is left alone until then.
    let mut paused_until: Option<Instant> = None;
    let sweep = sweep_interval(options);
    let mut last_sweep = Instant::now();
    while !options.all_served(served.connections, connections.len()) {
        if paused_until.is_some_and(|until| Instant::now() >= until) {
            paused_until = None;
        }
        // The list for this call: the listening socket first (left out at a lesson's limit,
        // or it would be reported ready at every call while we do not accept), then one entry
        // per connection.
        let watch_listener = paused_until.is_none()
            && (options.busy_at_limit()
                || options.may_accept(served.connections, connections.len()));
        let mut list: Vec<PollFd> = Vec::with_capacity(connections.len() + 1);
        if watch_listener {
            list.push(PollFd::new(listener.as_fd(), PollFlags::POLLIN));
        }
        for connection in &connections {
            let wanted = if connection.wants_to_write() {
                PollFlags::POLLOUT
            } else {
                PollFlags::POLLIN
            };
            list.push(PollFd::new(connection.stream.as_fd(), wanted));
        }
        let wait = match paused_until {
            Some(_) => Some(sweep.map_or(PAUSE_WHEN_OUT_OF_DESCRIPTORS, |every| {
                every.min(PAUSE_WHEN_OUT_OF_DESCRIPTORS)
            })),
            None => sweep,
        };
        match poll_visibly(&mut list, options, wait_timeout(wait)) {
            Ok(_) | Err(Errno::EINTR) => {}
            Err(errno) => return Err(errno.into()),
        }
        let ready: Vec<PollFlags> = list
            .iter()
            .map(|entry| entry.revents().unwrap_or(PollFlags::empty()))
            .collect();
        drop(list);
        let (listener_ready, for_connections) = if watch_listener {
            (!ready[0].is_empty(), &ready[1..])
        } else {
            (false, &ready[..])
        };
        // Serve the connections first (their indexes match the list), then accept.
        let mut ended = Vec::new();
        for (index, (connection, flags)) in connections.iter_mut().zip(for_connections).enumerate()
        {
            let mut turn = Turn::Open;
            if flags.contains(PollFlags::POLLOUT) {
                turn = connection.on_writable();
            }
            let readable = PollFlags::POLLIN | PollFlags::POLLHUP | PollFlags::POLLERR;
            if matches!(turn, Turn::Open)
                && flags.intersects(readable)
                && connection.wants_to_read()
            {
                turn = connection.on_readable();
            }
            if let Turn::Closed(error) = turn {
                ended.push((index, error));
            }
        }
        if !ended.is_empty() {
            // A descriptor is free again: accept at once if we were out of them.
            paused_until = None;
        }
        // Remove from the back, so that the earlier indexes stay right.
        for (index, error) in ended.into_iter().rev() {
            let connection = connections.swap_remove(index);
            farewell(&connection, error, &mut served);
        }
        if listener_ready {
            let open = connections.len();
            let accepting = accept_ready(
                listener,
                open,
                &mut served,
                options,
                &mut reserve,
                how,
                |c| {
                    connections.push(c);
                    Ok(())
                },
            )?;
            if let Accepting::OutOfDescriptors = accepting {
                paused_until = Some(Instant::now() + PAUSE_WHEN_OUT_OF_DESCRIPTORS);
            }
        }
        if sweep.is_some_and(|every| last_sweep.elapsed() >= every) {
            last_sweep = Instant::now();
            close_timed_out(&mut connections, &mut served, options);
        }
    }
    Ok(served)
}

/// `poll`; with `show_waits`, a call that has to block is reported (a first call with timeout
/// 0 tells whether it would).
fn poll_visibly(
    list: &mut [PollFd],
    options: &Options,
    timeout: PollTimeout,
) -> std::result::Result<i32, Errno> {
    if options.show_waits {
        let count = nix::poll::poll(list, PollTimeout::ZERO)?;
        if count > 0 {
            return Ok(count);
        }
        let waiting = wait::begin("poll", &format!("{} sockets", list.len()));
        let result = nix::poll::poll(list, timeout);
        waiting.ended(match result {
            Ok(0) => crate::runtime::wait::Ended::TimedOut,
            Ok(_) => crate::runtime::wait::Ended::Got,
            Err(Errno::EINTR) => crate::runtime::wait::Ended::Interrupted,
            Err(_) => crate::runtime::wait::Ended::Error,
        });
        return result;
    }
    nix::poll::poll(list, timeout)
}

fn close_timed_out(connections: &mut Vec<Connection>, served: &mut Served, options: &Options) {
    let now = Instant::now();
    let mut index = connections.len();
    while index > 0 {
        index -= 1;
        if let Some(why) = connections[index].timed_out(options, now) {
            let connection = connections.swap_remove(index);
            farewell(
                &connection,
                Some(io::Error::new(io::ErrorKind::TimedOut, why)),
                served,
            );
        }
    }
}
