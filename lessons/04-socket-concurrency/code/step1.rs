//! Lesson 4, step 1: the tutorial's server, one process per connection,
//! with three clients talking at once. The port: the first argument, or
//! the tutorial's 8081.
//! Run it alone: `cargo run --example step -- 4 1`.

use std::error::Error;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread::sleep;
use std::time::Duration;

use proclab::multiprocessing::process::{self, Process};

/// The handler: echo each chunk upper-cased until the client hangs up.
fn talk(coon: &mut TcpStream) {
    let mut data = [0u8; 1024];
    loop {
        match coon.read(&mut data) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if coon
                    .write_all(&data[..n].to_ascii_uppercase())
                    .is_err()
                {
                    break;
                }
            }
        }
    }
}

fn server(s: &TcpListener) -> Result<(), Box<dyn Error>> {
    loop {
        let (mut coon, addr) = s.accept()?;
        println!("connection from {addr}");
        let mut p = Process::new(move || talk(&mut coon));
        // start() drops the closure here, and the server's copy of the
        // connection with it.
        p.start()?;
        // What Python's start() does first: collect the handlers that
        // have ended.
        process::reap_any_ended(false);
    }
}

fn client(name: &str, port: u16) -> Result<(), Box<dyn Error>> {
    let mut c = TcpStream::connect(("127.0.0.1", port))?;
    for cmd in [format!("{name} line 1"), format!("{name} line 2")] {
        sleep(Duration::from_millis(500));
        c.write_all(cmd.as_bytes())?;
        let mut data = [0u8; 1024];
        let n = c.read(&mut data)?;
        println!("{}", String::from_utf8_lossy(&data[..n]));
    }
    Ok(())
}

pub fn main() -> Result<(), Box<dyn Error>> {
    let port: u16 =
        std::env::args().nth(1).map_or(Ok(8081), |p| p.parse())?;
    // std sets SO_REUSEADDR itself
    let s = TcpListener::bind(("127.0.0.1", port))?;
    println!("start running...");
    let mut srv =
        Process::new(move || server(&s).map_err(|e| e.to_string()));
    // and drops the main process's copy of the socket: only the server
    // accepts
    srv.start()?;
    let mut clients: Vec<Process> = ["alex", "wupeiqi", "yuanhao"]
        .into_iter()
        .map(|name| {
            Process::new(move || {
                client(name, port).map_err(|e| e.to_string())
            })
        })
        .collect();
    for c in &mut clients {
        c.start()?;
    }
    for c in &mut clients {
        c.join()?;
    }
    srv.terminate()?; // the tutorial's server runs until Ctrl-C
    srv.join()?;
    Ok(())
}
