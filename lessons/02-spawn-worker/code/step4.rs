//! Lesson 2, step 4: a fork child is a copy of its parent, state
//! included; a spawn-style child (fork, then exec of this same program)
//! starts from the top, and runs the "module-level" bind again, which
//! fails. The port: the first argument, or the tutorial's 8081.
//! Run it alone: `cargo run --example step -- 2 4`.

use std::error::Error;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::process::Command;

use proclab::multiprocessing::Process;

/// Set in the environment of a spawn-style child, so that it knows it
/// is one (Python passes the same news on the command line of its new
/// interpreter).
const SPAWNED: &str = "LESSON2_SPAWNED_CHILD";

pub fn main() -> Result<(), Box<dyn Error>> {
    let port: u16 = match std::env::args().nth(1) {
        Some(port) => port.parse()?,
        None => 8081,
    };
    let me = if std::env::var_os(SPAWNED).is_some() {
        "spawn-child"
    } else {
        "MainProcess"
    };

    // "Module level": runs in every process that starts this program
    // from the top.
    let listener = match TcpListener::bind(("127.0.0.1", port)) {
        Ok(listener) => {
            println!("{me}: module level: bound port {port}");
            listener
        }
        Err(error) => {
            println!("{me}: module level: {error}");
            std::process::exit(1);
        }
    };
    if me == "spawn-child" {
        // Python's spawn child would run its target now.
        return Ok(());
    }

    // Python's `if __name__ == '__main__':`, the part that starts
    // processes.
    let inherited = listener.try_clone()?;
    let mut forked = Process::new(move || {
        let address = inherited.local_addr().expect("a bound socket");
        println!("fork-child: runs, holding {address}");
    });
    forked.start()?;
    println!("fork: exitcode {}", forked.join()?);

    let mut spawned = Process::new(|| -> std::io::Result<()> {
        // exec replaces this process's program; it returns only if that
        // failed.
        Err(Command::new(std::env::current_exe()?)
            .args(std::env::args().skip(1))
            .env(SPAWNED, "1")
            .exec())
    });
    spawned.start()?;
    println!("spawn: exitcode {}", spawned.join()?);
    Ok(())
}
