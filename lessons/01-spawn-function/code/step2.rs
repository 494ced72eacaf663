//! Lesson 1, step 2: the three children sleep at the same time.
//! Run it alone: `cargo run --example step -- 1 2`.

use std::thread::sleep;
use std::time::{Duration, Instant};

use proclab::multiprocessing::{Process, ProcessError};

struct Kwargs {
    name: &'static str,
    seconds: u64,
}

fn piao(kwargs: Kwargs) {
    println!("{} is piaoing", kwargs.name);
    sleep(Duration::from_secs(kwargs.seconds));
    println!("{} is piao end", kwargs.name);
}

pub fn main() -> Result<(), ProcessError> {
    // The parent draws the sleeps, so that it can add them up
    // afterwards.
    let sleeps: Vec<(&str, u64)> = ["alex", "wupeiqi", "yuanhao"]
        .into_iter()
        .map(|name| (name, rand::random_range(1..=3)))
        .collect();
    let began = Instant::now();
    let mut children: Vec<Process> = sleeps
        .iter()
        .map(|&(name, seconds)| {
            Process::new(move || piao(Kwargs { name, seconds }))
        })
        .collect();
    for p in &mut children {
        p.start()?;
    }
    for p in &mut children {
        p.join()?;
    }
    let total: u64 = sleeps.iter().map(|&(_, seconds)| seconds).sum();
    let longest = sleeps
        .iter()
        .map(|&(_, seconds)| seconds)
        .max()
        .unwrap_or(0);
    println!(
        "{total} s of sleeping in {:.1} s: the longest sleep was {longest} s",
        began.elapsed().as_secs_f64()
    );
    Ok(())
}
