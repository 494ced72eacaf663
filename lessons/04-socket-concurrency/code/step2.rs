//! Lesson 4, step 2: an iterative server, no fork: it talks to one
//! client at a time, and the others wait. The port: the first argument,
//! or 8081.
//! Run it alone: `cargo run --example step -- 4 2`.

use std::error::Error;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread::sleep;
use std::time::{Duration, Instant};

use proclab::multiprocessing::Process;

fn talk(coon: &mut TcpStream) {
    let mut data = [0u8; 1024];
    while let Ok(n @ 1..) = coon.read(&mut data) {
        if coon.write_all(&data[..n].to_ascii_uppercase()).is_err() {
            break;
        }
    }
}

fn server(s: &TcpListener) -> Result<(), Box<dyn Error>> {
    loop {
        let (mut coon, _addr) = s.accept()?;
        // No Process: the next client waits until this one is done.
        talk(&mut coon);
    }
}

fn client(name: &str, port: u16) -> Result<(), Box<dyn Error>> {
    let began = Instant::now();
    let mut c = TcpStream::connect(("127.0.0.1", port))?;
    for cmd in [format!("{name} line 1"), format!("{name} line 2")] {
        sleep(Duration::from_millis(500));
        c.write_all(cmd.as_bytes())?;
        // the reply: as many bytes as sent
        c.read_exact(&mut vec![0u8; cmd.len()])?;
    }
    drop(c);
    println!(
        "{name} done after {:.1} s",
        began.elapsed().as_secs_f64()
    );
    Ok(())
}

pub fn main() -> Result<(), Box<dyn Error>> {
    let port: u16 =
        std::env::args().nth(1).map_or(Ok(8081), |p| p.parse())?;
    let s = TcpListener::bind(("127.0.0.1", port))?;
    let mut srv =
        Process::new(move || server(&s).map_err(|e| e.to_string()));
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
    srv.terminate()?;
    srv.join()?;
    Ok(())
}
