//! Lesson 4, step 4: a server that keeps its copy of a connection (the
//! tutorial's, as written: its copy closes only when the next accept()
//! replaces it) hides the end of the conversation from the client until
//! another client connects. The port: the first argument, or 8081.
//! Run it alone: `cargo run --example step -- 4 4`.

use std::error::Error;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
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
    // Python's variable `coon`: the server's own copy of the latest
    // connection.
    let mut coon: TcpStream;
    loop {
        let (accepted, _addr) = s.accept()?;
        // Assigning closes the previous connection's copy, as rebinding
        // does in Python.
        coon = accepted;
        let mut for_handler = coon.try_clone()?;
        Process::new(move || talk(&mut for_handler)).start()?;
        // The tutorial's server does not close coon here.
    }
}

pub fn main() -> Result<(), Box<dyn Error>> {
    let port: u16 =
        std::env::args().nth(1).map_or(Ok(8081), |p| p.parse())?;
    let s = TcpListener::bind(("127.0.0.1", port))?;
    let mut srv =
        Process::new(move || server(&s).map_err(|e| e.to_string()));
    srv.start()?;
    let mut alex = TcpStream::connect(("127.0.0.1", port))?;
    alex.write_all(b"bye")?;
    let mut reply = [0u8; 1024];
    let n = alex.read(&mut reply)?;
    println!("alex got {}", String::from_utf8_lossy(&reply[..n]));
    // "I am done": the handler reads the end and exits.
    alex.shutdown(Shutdown::Write)?;
    alex.set_read_timeout(Some(Duration::from_secs(1)))?;
    match alex.read(&mut reply) {
        Err(e)
            if matches!(
                e.kind(),
                ErrorKind::WouldBlock | ErrorKind::TimedOut
            ) =>
        {
            println!(
                "alex: no end after 1 s: the server still holds its copy"
            )
        }
        _ => println!("alex: the conversation ended"),
    }
    alex.set_read_timeout(Some(Duration::from_secs(10)))?;
    let wupeiqi = TcpStream::connect(("127.0.0.1", port))?;
    let n = alex.read(&mut reply)?;
    println!(
        "wupeiqi connected; alex reads {:?}: the end",
        &reply[..n]
    );
    drop(wupeiqi);
    srv.terminate()?;
    srv.join()?;
    Ok(())
}
