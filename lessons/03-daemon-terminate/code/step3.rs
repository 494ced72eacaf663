//! Lesson 3, step 3: terminate() kills one process; its child lives on
//! as an orphan, with a new parent.
//! Run it alone: `cargo run --example step -- 3 3`.

use std::thread::sleep;
use std::time::Duration;

use nix::unistd::getppid;
use proclab::multiprocessing::{Process, ProcessError};

fn report_parent() {
    for _ in 0..8 {
        println!("grandchild: my parent is {}", getppid());
        sleep(Duration::from_millis(250));
    }
}

fn doomed() -> Result<(), ProcessError> {
    let mut grandchild = Process::new(report_parent);
    // Even a daemon: only a parent that leaves normally ends it.
    grandchild.set_daemon(true)?;
    grandchild.start()?;
    sleep(Duration::from_secs(60));
    Ok(())
}

pub fn main() -> Result<(), ProcessError> {
    let mut p = Process::new(doomed);
    let pid = p.start()?;
    sleep(Duration::from_millis(600));
    println!("terminating doomed, pid {pid}");
    p.terminate()?;
    println!("doomed exitcode {}", p.join()?);
    // The orphan goes on printing, with its new parent.
    sleep(Duration::from_millis(1500));
    Ok(())
}
