//! Lesson 4, step 7: TCP is a byte stream. One read of up to 1024 bytes
//! per line (the tutorial's client) leaves a long reply half read, and
//! the client a reply behind; reading until the whole reply is in keeps
//! it in step. The port: the first argument, or 8081.
//! Run it alone: `cargo run --example step -- 4 7`.

use std::error::Error;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread::sleep;
use std::time::Duration;

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
        Process::new(move || talk(&mut coon)).start()?;
    }
}

pub fn main() -> Result<(), Box<dyn Error>> {
    let port: u16 =
        std::env::args().nth(1).map_or(Ok(8081), |p| p.parse())?;
    let s = TcpListener::bind(("127.0.0.1", port))?;
    let mut srv =
        Process::new(move || server(&s).map_err(|e| e.to_string()));
    srv.start()?;
    for name in ["alex", "wupeiqi"] {
        let mut c = TcpStream::connect(("127.0.0.1", port))?;
        for cmd in ["a".repeat(1500), "b".to_string(), "c".to_string()]
        {
            c.write_all(cmd.as_bytes())?;
            let data = if name == "alex" {
                // As a person typing: the whole reply has arrived. Then
                // the tutorial's one read.
                sleep(Duration::from_millis(300));
                let mut buffer = [0u8; 1024];
                let n = c.read(&mut buffer)?;
                buffer[..n].to_vec()
            } else {
                // The fix: read until the whole reply is in (as many
                // bytes as were sent).
                let mut reply = vec![0u8; cmd.len()];
                c.read_exact(&mut reply)?;
                reply
            };
            let first =
                String::from_utf8_lossy(&data[..data.len().min(1)])
                    .to_string();
            println!(
                "{name} sent {} x {}, got {} bytes starting {first}",
                cmd.len(),
                &cmd[..1],
                data.len()
            );
        }
    }
    srv.terminate()?;
    srv.join()?;
    Ok(())
}
