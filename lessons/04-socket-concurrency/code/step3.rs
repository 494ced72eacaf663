//! Lesson 4, step 3: a server that never waits for its handlers keeps
//! them as zombies; with SIGCHLD ignored, the kernel reaps them. The
//! port: the first argument, or 8081.
//! Run it alone: `cargo run --example step -- 4 3`.

use std::error::Error;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread::sleep;
use std::time::{Duration, Instant};

use proclab::multiprocessing::process::{self, Pid, Process};

fn talk(coon: &mut TcpStream) {
    let mut data = [0u8; 1024];
    while let Ok(n @ 1..) = coon.read(&mut data) {
        if coon.write_all(&data[..n].to_ascii_uppercase()).is_err() {
            break;
        }
    }
}

fn server(
    s: &TcpListener,
    ignore_sigchld: bool,
) -> Result<(), Box<dyn Error>> {
    if ignore_sigchld {
        // The kernel reaps, nobody waits: signal(SIGCHLD, SIG_IGN).
        process::ignore_sigchld()?;
    }
    loop {
        let (mut coon, _addr) = s.accept()?;
        // Never joined, never reaped.
        Process::new(move || talk(&mut coon)).start()?;
    }
}

/// The state letters of `pid`'s children, from /proc.
fn children(pid: Pid) -> Vec<String> {
    let mut states = Vec::new();
    for entry in
        std::fs::read_dir("/proc").into_iter().flatten().flatten()
    {
        let Ok(stat) =
            std::fs::read_to_string(entry.path().join("stat"))
        else {
            continue;
        };
        let fields: Vec<&str> = stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect();
        if fields.get(1) == Some(&pid.to_string().as_str()) {
            states.push(fields[0].to_string());
        }
    }
    states
}

pub fn main() -> Result<(), Box<dyn Error>> {
    let port: u16 =
        std::env::args().nth(1).map_or(Ok(8081), |p| p.parse())?;
    for ignore_sigchld in [false, true] {
        let s = TcpListener::bind(("127.0.0.1", port))?;
        let mut srv = Process::new(move || {
            server(&s, ignore_sigchld).map_err(|e| e.to_string())
        });
        let server_pid = srv.start()?;
        let mut clients = Vec::new();
        for _ in 0..3 {
            clients.push(TcpStream::connect(("127.0.0.1", port))?);
        }
        for c in &mut clients {
            c.write_all(b"hello")?;
            c.read_exact(&mut [0u8; 5])?; // "HELLO"
        }
        drop(clients);
        // Until every handler has ended (a zombie has).
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let states = children(server_pid);
            let ended = states.iter().all(|state| state == "Z");
            if (ended && (ignore_sigchld || states.len() == 3))
                || Instant::now() > deadline
            {
                break;
            }
            sleep(Duration::from_millis(10));
        }
        let how = if ignore_sigchld {
            "SIGCHLD ignored"
        } else {
            "the tutorial's server"
        };
        let zombies =
            children(server_pid).iter().filter(|s| *s == "Z").count();
        println!("{how}: {zombies} zombie(s)");
        srv.terminate()?;
        srv.join()?;
    }
    Ok(())
}
