//! Lesson 3, step 5: terminate() a process that holds a lock: a `Lock`
//! (a semaphore in shared memory) stays held, an `flock` is released by
//! the kernel as the holder dies.
//! Run it alone: `cargo run --example step -- 3 5`.

use std::error::Error;
use std::fs::File;
use std::path::PathBuf;
use std::thread::sleep;
use std::time::Duration;

use nix::fcntl::{Flock, FlockArg};
use proclab::multiprocessing::{Lock, Process, Semaphore};

pub fn main() -> Result<(), Box<dyn Error>> {
    // `ready` is Python's Event here: the holder says "I have it".
    let (lock, ready) = (Lock::new()?, Semaphore::new(0)?);
    let (in_holder, ready_in_holder) = (lock.clone(), ready.clone());
    let mut holder =
        Process::new(move || -> Result<(), Box<dyn Error>> {
            in_holder.acquire()?;
            ready_in_holder.release()?;
            sleep(Duration::from_secs(60));
            Ok(())
        });
    holder.start()?;
    ready.acquire()?;
    holder.terminate()?;
    let code = holder.join()?;
    let got = lock.acquire_timeout(Duration::from_secs(1))?;
    println!("Lock holder exitcode {code}; taker got it: {got}");

    let path = std::env::temp_dir()
        .join(format!("lesson-3-{}.lock", std::process::id()));
    let in_holder: PathBuf = path.clone();
    let ready_in_holder = ready.clone();
    let mut holder =
        Process::new(move || -> Result<(), Box<dyn Error>> {
            let _held = Flock::lock(
                File::create(&in_holder)?,
                FlockArg::LockExclusive,
            )
            .map_err(|(_, errno)| errno)?;
            ready_in_holder.release()?;
            sleep(Duration::from_secs(60));
            Ok(())
        });
    holder.start()?;
    ready.acquire()?;
    holder.terminate()?;
    let code = holder.join()?;
    let got = Flock::lock(
        File::create(&path)?,
        FlockArg::LockExclusiveNonblock,
    )
    .is_ok();
    std::fs::remove_file(&path)?;
    println!("flock holder exitcode {code}; taker got it: {got}");
    Ok(())
}
