//! The echo service with non-blocking sockets and a busy loop (非阻塞 + 轮询): the model that
//! shows why multiplexing exists.
//!
//! With `O_NONBLOCK` set on a socket, a call that would wait returns at once with `EAGAIN`
//! ("try again": Rust's `WouldBlock`) instead. So one thread can serve many clients: try to
//! accept, try to read from each connection, send what came, and go round again. But nothing
//! tells the thread *when* to try: it asks every socket over and over, and while no client
//! sends anything it keeps asking, using a whole CPU to learn that nothing happened. The
//! lesson measures that from `/proc/<pid>/stat`. It never waits, so it reports no waits.

use std::io;
use std::net::TcpListener;

use crate::error::Result;
use crate::tools::models::connection::{Connection, Turn};
use crate::tools::models::{Options, Served, farewell, retry_accept, welcome};

pub fn serve(listener: &TcpListener, options: &Options) -> Result<Served> {
    listener.set_nonblocking(true)?;
    let mut connections: Vec<Connection> = Vec::new();
    let mut served = Served::default();
    while !options.all_served(served.connections, connections.len()) {
        served.turns += 1;
        let mut anything = false;
        if options.may_accept(served.connections, connections.len()) {
            match listener.accept() {
                Ok((stream, peer)) => {
                    anything = true;
                    let open = connections.len();
                    let how = "served by this thread's loop";
                    if let Some(connection) = welcome(stream, peer, &mut served, options, open, how)
                    {
                        connections.push(connection);
                    }
                }
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
                Err(error) if retry_accept(&error) => {}
                Err(error) => return Err(error.into()),
            }
        }
        let mut index = connections.len();
        while index > 0 {
            index -= 1;
            let connection = &mut connections[index];
            let (reads, kept) = (connection.reads, connection.wants_to_write());
            // Ask, whether or not anything came: EAGAIN is the usual answer.
            let turn = if kept {
                connection.on_writable()
            } else {
                connection.on_readable()
            };
            anything |= connection.reads != reads || kept != connection.wants_to_write();
            if let Turn::Closed(error) = turn {
                anything = true;
                let connection = connections.swap_remove(index);
                farewell(&connection, error, &mut served);
            }
        }
        if !anything {
            served.idle_turns += 1;
        }
    }
    Ok(served)
}
