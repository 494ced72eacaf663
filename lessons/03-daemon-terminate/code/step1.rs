//! Lesson 3, step 1: a daemon child ends with its parent's work; a
//! non-daemon child is waited for.
//! Run it alone: `cargo run --example step -- 3 1`.

use std::thread::sleep;
use std::time::Duration;

use proclab::multiprocessing::{Process, ProcessError};

fn count() {
    let mut n = 0;
    loop {
        n += 1;
        println!("counter: {n}");
        sleep(Duration::from_millis(250));
    }
}

fn work() {
    println!("worker: working for 2 s");
    sleep(Duration::from_secs(2));
    println!("worker: done");
}

fn parent() -> Result<(), ProcessError> {
    let mut counter = Process::new(count);
    counter.set_daemon(true)?; // before start(), or an error
    let mut worker = Process::new(work);
    counter.start()?;
    worker.start()?;
    sleep(Duration::from_secs(1));
    println!("parent: main work done, returning");
    // On its way out the child terminates its daemon child and waits
    // for the other, as Python's does.
    Ok(())
}

pub fn main() -> Result<(), ProcessError> {
    let mut p = Process::new(parent);
    p.start()?;
    println!("parent exitcode {}", p.join()?);
    Ok(())
}
