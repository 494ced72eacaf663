//! Lesson 2, step 3: default names, `Process-N`, `Piao-N` for an
//! unnamed worker of type `Piao`, `Process-1:1` for the first child of
//! `Process-1`.
//! Run it alone: `cargo run --example step -- 2 3`.

use proclab::multiprocessing::{Process, ProcessError, Worker};
use proclab::runtime::context;

/// Python's `print(current_process().name)`.
fn say_my_name() {
    println!("{}: my name", context::name());
}

fn with_a_child() -> Result<(), ProcessError> {
    let mut grandchild = Process::new(say_my_name);
    grandchild.start()?;
    grandchild.join()?;
    Ok(())
}

struct Piao;

impl Worker for Piao {
    fn run(&mut self) {
        say_my_name();
    }
}

pub fn main() -> Result<(), ProcessError> {
    let mut a = Process::new(with_a_child);
    let mut b = Process::new(say_my_name);
    let mut c = Process::from_worker(Piao);
    let mut d = Process::new(say_my_name).named("yuanhao");
    println!("{} {} {} {}", a.name(), b.name(), c.name(), d.name());
    for p in [&mut a, &mut b, &mut c, &mut d] {
        p.start()?;
        p.join()?;
    }
    Ok(())
}
