//! The echo service on one thread with `epoll` (Linux's multiplexing call).
//!
//! With `poll`, the server hands the kernel its whole list of sockets at every call, and the
//! kernel checks each one: the work grows with the number of connections, busy or not. With
//! `epoll` the kernel keeps the list (the *interest set*, 兴趣列表): the server adds a socket once
//! (`epoll_ctl(ADD)`), changes what it waits for when that changes (`MOD`), and each
//! `epoll_wait` returns only the sockets that are ready. 10,000 quiet connections cost a
//! wait nothing.
//!
//! Level-triggered (水平触发, the default, used here): a socket is reported as long as it is
//! ready, so reading one chunk per wake-up is enough: what is left is reported again at the
//! next `epoll_wait`. Edge-triggered (`EPOLLET`, 边缘触发) reports a socket only when it
//! *becomes* ready: the server must then read (and accept) until `EAGAIN`, or the rest waits
//! until the client sends more, which may be never.
//!
//! The key of each socket in the set is its descriptor number, so the wake-up says which
//! connection it is.

use std::collections::HashMap;
use std::io;
use std::net::TcpListener;
use std::os::fd::{AsFd, AsRawFd};
use std::time::Instant;

use nix::errno::Errno;
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags};

use crate::error::Result;
use crate::runtime::wait;
use crate::tools::models::connection::{Connection, Turn};
use crate::tools::models::{
    Accepting, Options, PAUSE_WHEN_OUT_OF_DESCRIPTORS, Reserve, Served, accept_ready, farewell,
    sweep_interval, wait_timeout,
};

/// The listening socket's key in the set: no connection has this descriptor number.
const LISTENER: u64 = u64::MAX;

/// What a connection waits for: to be readable, or (while a reply is kept) writable.
fn interest(connection: &Connection) -> EpollFlags {
    if connection.wants_to_write() {
        EpollFlags::EPOLLOUT
    } else {
        EpollFlags::EPOLLIN
    }
}

pub fn serve(listener: &TcpListener, options: &Options) -> Result<Served> {
    listener.set_nonblocking(true)?;
    let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)?;
    epoll.add(
        listener.as_fd(),
        EpollEvent::new(EpollFlags::EPOLLIN, LISTENER),
    )?;
    let mut listening = true;
    let mut connections: HashMap<u64, Connection> = HashMap::new();
    let mut served = Served::default();
    let mut reserve = Reserve::new();
    // Out of descriptors: the listening socket is left alone until then.
    let mut paused_until: Option<Instant> = None;
    let mut ready = vec![EpollEvent::empty(); 256];
    let sweep = sweep_interval(options);
    let mut last_sweep = Instant::now();
    while !options.all_served(served.connections, connections.len()) {
        if paused_until.is_some_and(|until| Instant::now() >= until) {
            paused_until = None;
        }
        // At a lesson's limit, or out of descriptors, the listening socket leaves the set:
        // level-triggered, it would be reported ready again and again while we do not accept.
        let watch_listener = paused_until.is_none()
            && (options.busy_at_limit()
                || options.may_accept(served.connections, connections.len()));
        if listening != watch_listener {
            if watch_listener {
                epoll.add(
                    listener.as_fd(),
                    EpollEvent::new(EpollFlags::EPOLLIN, LISTENER),
                )?;
            } else {
                epoll.delete(listener.as_fd())?;
            }
            listening = watch_listener;
        }
        let wait = match paused_until {
            Some(_) => Some(sweep.map_or(PAUSE_WHEN_OUT_OF_DESCRIPTORS, |every| {
                every.min(PAUSE_WHEN_OUT_OF_DESCRIPTORS)
            })),
            None => sweep,
        };
        let count = match wait_for_events(&epoll, &mut ready, options, connections.len(), wait) {
            Ok(count) => count,
            Err(Errno::EINTR) => 0,
            Err(errno) => return Err(errno.into()),
        };
        for event in &ready[..count] {
            let key = event.data();
            if key == LISTENER {
                let open = connections.len();
                let how = "watched by this thread's epoll set";
                let accepting = accept_ready(
                    listener,
                    open,
                    &mut served,
                    options,
                    &mut reserve,
                    how,
                    |c| {
                        let key = c.stream.as_raw_fd() as u64;
                        epoll.add(c.stream.as_fd(), EpollEvent::new(EpollFlags::EPOLLIN, key))?;
                        connections.insert(key, c);
                        Ok(())
                    },
                )?;
                if let Accepting::OutOfDescriptors = accepting {
                    paused_until = Some(Instant::now() + PAUSE_WHEN_OUT_OF_DESCRIPTORS);
                }
                continue;
            }
            let Some(connection) = connections.get_mut(&key) else {
                continue;
            };
            let flags = event.events();
            let before = interest(connection);
            let mut turn = Turn::Open;
            if flags.contains(EpollFlags::EPOLLOUT) {
                turn = connection.on_writable();
            }
            let readable = EpollFlags::EPOLLIN | EpollFlags::EPOLLHUP | EpollFlags::EPOLLERR;
            if matches!(turn, Turn::Open)
                && flags.intersects(readable)
                && connection.wants_to_read()
            {
                turn = connection.on_readable();
            }
            match turn {
                Turn::Open => {
                    let after = interest(connection);
                    if after != before {
                        epoll
                            .modify(connection.stream.as_fd(), &mut EpollEvent::new(after, key))?;
                    }
                }
                Turn::Closed(error) => {
                    // Closing the descriptor takes it out of the set too; deleting first says so.
                    let connection = connections.remove(&key).expect("present");
                    let _ = epoll.delete(connection.stream.as_fd());
                    farewell(&connection, error, &mut served);
                    // A descriptor is free again: accept at once if we were out of them.
                    paused_until = None;
                }
            }
        }
        if sweep.is_some_and(|every| last_sweep.elapsed() >= every) {
            last_sweep = Instant::now();
            close_timed_out(&epoll, &mut connections, &mut served, options);
        }
    }
    Ok(served)
}

/// `epoll_wait`; with `show_waits`, a wait that has to block is reported (a first call with
/// timeout 0 tells whether it would).
fn wait_for_events(
    epoll: &Epoll,
    ready: &mut [EpollEvent],
    options: &Options,
    open: usize,
    sweep: Option<std::time::Duration>,
) -> std::result::Result<usize, Errno> {
    if options.show_waits {
        let count = epoll.wait(ready, nix::poll::PollTimeout::ZERO)?;
        if count > 0 {
            return Ok(count);
        }
        let waiting = wait::begin("epoll_wait", &format!("{} sockets", open + 1));
        let result = epoll.wait(ready, wait_timeout(sweep));
        waiting.ended(match result {
            Ok(0) => crate::runtime::wait::Ended::TimedOut,
            Ok(_) => crate::runtime::wait::Ended::Got,
            Err(Errno::EINTR) => crate::runtime::wait::Ended::Interrupted,
            Err(_) => crate::runtime::wait::Ended::Error,
        });
        return result;
    }
    epoll.wait(ready, wait_timeout(sweep))
}

fn close_timed_out(
    epoll: &Epoll,
    connections: &mut HashMap<u64, Connection>,
    served: &mut Served,
    options: &Options,
) {
    let now = Instant::now();
    let expired: Vec<(u64, &'static str)> = connections
        .iter()
        .filter_map(|(&key, c)| c.timed_out(options, now).map(|why| (key, why)))
        .collect();
    for (key, why) in expired {
        let connection = connections.remove(&key).expect("present");
        let _ = epoll.delete(connection.stream.as_fd());
        farewell(
            &connection,
            Some(io::Error::new(io::ErrorKind::TimedOut, why)),
            served,
        );
    }
}
