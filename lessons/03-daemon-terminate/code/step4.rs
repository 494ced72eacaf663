//! Lesson 3, step 4: a zombie, is_alive() and exitcode, and five exit
//! codes. The lab's is_alive() only looks: the zombie is still there
//! after it (Python's reaps it).
//! Run it alone: `cargo run --example step -- 3 4`.

use std::thread::sleep;
use std::time::Duration;

use proclab::multiprocessing::process::{
    self, Pid, Process, ProcessError,
};

/// The state letter of `pid` in /proc, or `gone`.
fn state(pid: Pid) -> String {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .next()
            .unwrap_or("?")
            .to_string(),
        Err(_) => "gone".to_string(),
    }
}

/// An exit code as Python prints it: `None` or the number.
fn python(exitcode: Option<i32>) -> String {
    exitcode.map_or("None".to_string(), |code| code.to_string())
}

/// Python's `sys.exit(3)`. (A target that never returns is a `fn`
/// declared to return `()`.)
fn leave_with_3() {
    process::exit(3)
}

fn sleep_a_minute() {
    sleep(Duration::from_secs(60));
}

pub fn main() -> Result<(), ProcessError> {
    let mut p = Process::new(|| sleep(Duration::from_millis(300)))
        .named("returns");
    println!(
        "before start(): is_alive() {}, exitcode {}",
        p.is_alive(),
        python(p.exitcode())
    );
    let pid = p.start()?;
    println!(
        "while it runs: is_alive() {}, exitcode {}",
        p.is_alive(),
        python(p.exitcode())
    );
    sleep(Duration::from_secs(1));
    println!("ended, not joined: {} in /proc", state(pid));
    println!(
        "after it ended: is_alive() {}, exitcode {}",
        p.is_alive(),
        python(p.exitcode())
    );
    println!("after is_alive(): {} in /proc", state(pid));
    p.join()?;
    let never = Process::new(sleep_a_minute).named("never-started");
    let mut exits_3 = Process::new(leave_with_3).named("exits-3");
    let mut terminated =
        Process::new(sleep_a_minute).named("terminated");
    let mut killed = Process::new(sleep_a_minute).named("killed");
    for child in [&mut exits_3, &mut terminated, &mut killed] {
        child.start()?;
    }
    terminated.terminate()?;
    killed.kill()?;
    for child in [&mut exits_3, &mut terminated, &mut killed] {
        child.join()?;
    }
    let codes: Vec<String> =
        [&never, &p, &exits_3, &terminated, &killed]
            .iter()
            .map(|c| format!("{} {}", c.name(), python(c.exitcode())))
            .collect();
    println!("exitcode: {}", codes.join(", "));
    Ok(())
}
