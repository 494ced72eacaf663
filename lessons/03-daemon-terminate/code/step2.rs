//! Lesson 3, step 2: the two daemon rules, as error values with
//! Python's messages.
//! Run it alone: `cargo run --example step -- 3 2`.

use std::thread::sleep;
use std::time::Duration;

use proclab::multiprocessing::{Process, ProcessError};

fn nothing() {}

/// The error ends this process with exit code 1, as Python's uncaught
/// AssertionError does.
fn tries_to_start_a_child() -> Result<(), ProcessError> {
    Process::new(nothing).start()?;
    Ok(())
}

pub fn main() -> Result<(), ProcessError> {
    let mut late = Process::new(|| sleep(Duration::from_millis(500)));
    late.start()?;
    if let Err(error) = late.set_daemon(true) {
        println!("daemon after start(): {error}");
    }
    late.join()?;
    let mut d = Process::new(tries_to_start_a_child);
    d.set_daemon(true)?;
    d.start()?;
    println!("a daemon that started a child: exitcode {}", d.join()?);
    Ok(())
}
