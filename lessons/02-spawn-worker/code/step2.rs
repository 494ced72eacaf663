//! Lesson 2, step 2: start() runs the worker in a new process; run()
//! called directly is an ordinary call, in the caller's process.
//! Run it alone: `cargo run --example step -- 2 2`.

use std::thread::sleep;
use std::time::Duration;

use nix::unistd::{getpid, getppid};
use proclab::multiprocessing::{Process, ProcessError, Worker};

struct Piao {
    name: String,
}

impl Worker for Piao {
    fn run(&mut self) {
        println!(
            "{} runs in pid {}, parent {}",
            self.name,
            getpid(),
            getppid()
        );
        sleep(Duration::from_secs(1));
    }

    fn name(&self) -> Option<String> {
        Some(self.name.clone())
    }
}

fn piao(name: &str) -> Process {
    Process::from_worker(Piao {
        name: name.to_string(),
    })
}

pub fn main() -> Result<(), ProcessError> {
    println!("main process is pid {}", getpid());
    let mut p = piao("run-direct");
    // No new process: the main process does the work, and waits for it.
    p.run().expect("the worker's run does not fail");
    // A new process does it.
    p.start()?;
    p.join()?;
    // Mistakes are error values, with Python's messages.
    if let Err(error) = piao("never-started").join() {
        println!("join() on a process never started: {error}");
    }
    if let Err(error) = p.start() {
        println!("start() a second time: {error}");
    }
    Ok(())
}
