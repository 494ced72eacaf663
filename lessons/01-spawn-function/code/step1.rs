//! Lesson 1, step 1: three children from one function, the tutorial's
//! first way.
//! Run it alone: `cargo run --example step -- 1 1`.

use std::thread::sleep;
use std::time::Duration;

use proclab::multiprocessing::process::{self, Process, ProcessError};

/// The target, with its keyword arguments as a struct with named
/// fields.
struct Kwargs {
    name: &'static str,
}

fn piao(kwargs: Kwargs) {
    println!("{} is piaoing", kwargs.name);
    sleep(Duration::from_secs(rand::random_range(1..=3)));
    println!("{} is piao end", kwargs.name);
}

pub fn main() -> Result<(), ProcessError> {
    let mut p1 = Process::new(|| piao(Kwargs { name: "alex" }));
    let mut p2 = Process::new(|| piao(Kwargs { name: "wupeiqi" }));
    let mut p3 = Process::new(|| piao(Kwargs { name: "yuanhao" }));
    p1.start()?;
    p2.start()?;
    p3.start()?;
    println!("主进程");
    // What Python does when the main module ends: wait for the children
    // not joined yet.
    process::exit(0)
}
