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
    Options, Served, farewell, retry_accept, sweep_interval, wait_timeout, welcome,
};

pub fn serve(listener: &TcpListener, options: &Options) -> Result<Served> {
    listener.set_nonblocking(true)?;
    let mut connections: Vec<Connection> = Vec::new();
    let mut served = Served::default();
    let sweep = sweep_interval(options);
    let mut last_sweep = Instant::now();
    while !options.all_served(served.connections, connections.len()) {
        let may_accept = options.may_accept(served.connections, connections.len());
        // The list for this call: the listening socket first (left out at the limit, or it
        // would be reported ready at every call while we do not accept), then one entry per
        // connection.
        let mut list: Vec<PollFd> = Vec::with_capacity(connections.len() + 1);
        if may_accept {
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
        match poll_visibly(&mut list, options, wait_timeout(sweep)) {
            Ok(_) | Err(Errno::EINTR) => {}
            Err(errno) => return Err(errno.into()),
        }
        let ready: Vec<PollFlags> = list
            .iter()
            .map(|entry| entry.revents().unwrap_or(PollFlags::empty()))
            .collect();
        drop(list);
        let (listener_ready, for_connections) = if may_accept {
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
        // Remove from the back, so that the earlier indexes stay right.
        for (index, error) in ended.into_iter().rev() {
            let connection = connections.swap_remove(index);
            farewell(&connection, error, &mut served);
        }
        if listener_ready {
            accept_ready(listener, &mut connections, &mut served, options)?;
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
        waiting.end(matches!(result, Ok(n) if n > 0));
        return result;
    }
    nix::poll::poll(list, timeout)
}

fn accept_ready(
    listener: &TcpListener,
    connections: &mut Vec<Connection>,
    served: &mut Served,
    options: &Options,
) -> Result<()> {
    while options.may_accept(served.connections, connections.len()) {
        let (stream, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(error) if retry_accept(&error) => continue,
            Err(error) => return Err(error.into()),
        };
        let open = connections.len();
        if let Some(connection) = welcome(
            stream,
            peer,
            served,
            options,
            open,
            "watched by this thread's poll list",
        ) {
            connections.push(connection);
        }
    }
    Ok(())
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
