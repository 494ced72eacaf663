//! Measuring what a process and a thread cost, the same way for `proclab bench spawn` and for
//! the lessons that quote the figures (lesson 11): the bare operations (no lab events), their
//! mean time and page faults, and medians over repetitions.

use std::time::Instant;

use nix::sys::resource::{UsageWho, getrusage};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, fork};

use crate::error::{Error, Result};
use crate::threading::Thread;

/// The median of some figures (the mean of the middle two for an even count).
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[middle]
    } else {
        (sorted[middle - 1] + sorted[middle]) / 2.0
    }
}

/// Runs `op` `n` times; returns the mean time of one, in µs, and the page faults per
/// operation of this process and of the children it reaped meanwhile.
pub fn time_per_op(n: usize, op: fn() -> Result<()>) -> Result<(f64, f64)> {
    let faults_before = page_faults()?;
    let started = Instant::now();
    for _ in 0..n {
        op()?;
    }
    let elapsed = started.elapsed();
    let faults = page_faults()? - faults_before;
    Ok((
        elapsed.as_secs_f64() * 1e6 / n as f64,
        faults as f64 / n as f64,
    ))
}

/// Minor page faults so far of this process and of its reaped children.
fn page_faults() -> Result<i64> {
    let own = getrusage(UsageWho::RUSAGE_SELF)?.minor_page_faults();
    let children = getrusage(UsageWho::RUSAGE_CHILDREN)?.minor_page_faults();
    Ok(own + children)
}

/// What the C reference does: fork, `_exit(0)` in the child, `waitpid` in the parent.
pub fn bare_fork() -> Result<()> {
    // SAFETY: this process is single-threaded while it forks (threads are measured after the
    // last fork), and the child does nothing but `_exit`.
    match unsafe { fork() }? {
        ForkResult::Child => unsafe { libc::_exit(0) },
        ForkResult::Parent { child } => match waitpid(child, None)? {
            WaitStatus::Exited(_, 0) => Ok(()),
            status => Err(Error::System(format!(
                "a forked child ended with {status:?}"
            ))),
        },
    }
}

/// The lab's `Thread` (what thread lessons use), without its events: `pthread_create` +
/// `pthread_join`, what a thread costs the kernel and the C library.
pub fn spawn_thread() -> Result<()> {
    let mut thread = Thread::new(|| {}).without_events();
    thread.start()?;
    match thread.join() {
        Ok(0) => Ok(()),
        Ok(_) => Err(Error::System("a benchmark thread panicked".into())),
        Err(error) => Err(Error::System(error.to_string())),
    }
}
