//! Lesson 4, step 5: why the tutorial sets SO_REUSEADDR. The side that
//! closes first keeps the connection in TIME_WAIT for a minute, and the
//! port with it. The port: the first argument, or 8081.
//! (std's `TcpListener::bind` always sets SO_REUSEADDR; the lab's
//! `listen_on` lets us choose.)
//! Run it alone: `cargo run --example step -- 4 5`.

use std::error::Error;
use std::io::Read;
use std::net::{SocketAddr, TcpStream};

use proclab::tools::echo::listen_on;

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
    let s = listen_on(address, true)?;
    let mut c = TcpStream::connect(address)?;
    let (coon, _addr) = s.accept()?;
    drop(coon); // the server hangs up first: its side goes to TIME_WAIT
    c.read_to_end(&mut Vec::new())?; // the end: the server has hung up
    drop(c);
    drop(s); // the server stops
    println!("without SO_REUSEADDR: {}", bind(address, false));
    println!("with SO_REUSEADDR: {}", bind(address, true));
    Ok(())
}
