//! Lesson 1, step 3: join() waits for one child and reaps it.
//! Run it alone: `cargo run --example step -- 1 3`.

use std::thread::sleep;
use std::time::Duration;

use proclab::multiprocessing::{Process, ProcessError};

fn piao(name: &str) {
    println!("{name} is piaoing");
    sleep(Duration::from_secs(rand::random_range(1..=3)));
    println!("{name} is piao end");
}

pub fn main() -> Result<(), ProcessError> {
    let mut children: Vec<Process> = ["alex", "wupeiqi", "yuanhao"]
        .into_iter()
        .map(|name| Process::new(move || piao(name)).named(name))
        .collect();
    for p in &mut children {
        p.start()?;
    }
    for p in &mut children {
        // The caller waits for that one child, then collects its exit
        // status (reaps it).
        let code = p.join()?;
        println!("{} joined, exitcode {code}", p.name());
    }
    println!("all children are done");
    Ok(())
}
