//! Lesson 4, step 6: a handler still connected also keeps the port: a
//! new server binds it only with SO_REUSEADDR. A handler that keeps its
//! copy of the listening socket (the tutorial's) keeps the port
//! listening: then no bind works. The port: the first argument, or
//! 8081.
//! Run it alone: `cargo run --example step -- 4 6`.

use std::error::Error;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};

use proclab::multiprocessing::{Process, Semaphore};
use proclab::tools::echo::listen_on;

fn talk(coon: &mut TcpStream) {
    let mut data = [0u8; 1024];
    while let Ok(n @ 1..) = coon.read(&mut data) {
        if coon.write_all(&data[..n].to_ascii_uppercase()).is_err() {
            break;
        }
    }
}

fn bind(address: SocketAddr, reuse: bool) -> String {
    match listen_on(address, reuse) {
        Ok(_) => "bound".to_string(),
        Err(error) => error.to_string(),
    }
}

pub fn main() -> Result<(), Box<dyn Error>> {
    let port: u16 =
        std::env::args().nth(1).map_or(Ok(8081), |p| p.parse())?;
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    for close_listener in [true, false] {
        let s = listen_on(address, true)?;
        let c = TcpStream::connect(address)?;
        let (mut coon, _addr) = s.accept()?;
        // Python's Event: the handler says it is ready.
        let ready = Semaphore::new(0)?;
        let ready_in_handler = ready.clone();
        // The listening socket moves into the handler's closure: the
        // handler holds the only copy after start().
        let mut listening = Some(s);
        let mut handler = Process::new(move || {
            if close_listener {
                // A handler has no use for the listening socket.
                listening.take();
            }
            let _ = ready_in_handler.release();
            talk(&mut coon);
        });
        // start() drops the main process's copies of coon and of the
        // listening socket: the server is gone, its handler is still
        // connected.
        handler.start()?;
        ready.acquire()?;
        let who = if close_listener {
            "handler"
        } else {
            "tutorial's handler"
        };
        println!(
            "{who}: without SO_REUSEADDR: {}; with: {}",
            bind(address, false),
            bind(address, true)
        );
        // The handler has a copy of c too: end the connection for all
        // copies.
        c.shutdown(Shutdown::Both)?;
        handler.join()?;
    }
    Ok(())
}
