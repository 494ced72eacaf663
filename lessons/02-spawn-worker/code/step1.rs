//! Lesson 2, step 1: the subclass style, a `Worker` (the tutorial's
//! subclass of Process).
//! Run it alone: `cargo run --example step -- 2 1`.

use std::thread::sleep;
use std::time::Duration;

use nix::unistd::{getpid, getppid};
use proclab::multiprocessing::process::{
    self, Process, ProcessError, Worker,
};

struct Piao {
    name: String,
}

impl Worker for Piao {
    /// What start() runs in the new process.
    fn run(&mut self) {
        println!("{} {}", getppid(), getpid());
        println!("{} is piaoing", self.name);
        sleep(Duration::from_secs(rand::random_range(1..=3)));
        println!("{} is piao end", self.name);
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
    let mut p1 = piao("alex");
    let mut p2 = piao("wupeiqi");
    let mut p3 = piao("yuanhao");
    p1.start()?;
    p2.start()?;
    p3.start()?;
    println!("主进程 {}", getpid());
    // What Python does when the main module ends: wait for the children
    // not joined yet.
    process::exit(0)
}
