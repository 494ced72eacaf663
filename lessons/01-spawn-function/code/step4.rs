//! Lesson 1, step 4: join_timeout() gives up waiting; the child runs
//! on.
//! Run it alone: `cargo run --example step -- 1 4`.

use std::thread::sleep;
use std::time::Duration;

use proclab::multiprocessing::{Process, ProcessError};

fn piao(name: &str) {
    println!("{name} is piaoing");
    sleep(Duration::from_secs(2));
    println!("{name} is piao end");
}

/// An exit code as Python prints it: `None` or the number.
fn python(exitcode: Option<i32>) -> String {
    exitcode.map_or("None".to_string(), |code| code.to_string())
}

pub fn main() -> Result<(), ProcessError> {
    let mut p = Process::new(|| piao("alex")).named("alex");
    p.start()?;
    // Ok(None): the time ran out and the child is still running.
    p.join_timeout(Duration::from_millis(500))?;
    println!(
        "after join(0.5): is_alive() {}, exitcode {}",
        p.is_alive(),
        python(p.exitcode())
    );
    p.join()?;
    println!(
        "after join(): is_alive() {}, exitcode {}",
        p.is_alive(),
        python(p.exitcode())
    );
    Ok(())
}
