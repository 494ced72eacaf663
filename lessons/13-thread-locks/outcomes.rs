//! What lesson 13 measures in a run, read from its events (for `--repeat`).
//!
//! - Steps 1 and 2: how many of the ten updates of `n` were lost, without the lock and with it.
//!   Each thread says `temp = X, n = Y`; the first value read is where `n` started, each line
//!   one update, and `print(n)` where it ended.
//! - Step 4: which thread hit the deadlock's timeout and gave up (the other one then finished).

use crate::outcomes::{Record, measured, number_after};
use crate::runtime::event::Measured;

pub fn measure(run: &Record) -> Vec<Measured> {
    let mut found = Vec::new();
    for (step, what) in [
        (1, "updates lost without the lock"),
        (2, "updates lost with the lock"),
    ] {
        let mut started_at = None;
        let mut updates = 0;
        let mut ended_at = None;
        for (_, text) in run.says_in_step(step) {
            if let Some(read) = number_after(text, "temp =") {
                started_at = Some(started_at.map_or(read, |at: i64| at.max(read)));
                updates += 1;
            } else if let Some(n) = number_after(text, "print(n):") {
                ended_at = Some(n);
            }
        }
        if let (Some(start), Some(end)) = (started_at, ended_at) {
            found.push(measured(step, what, end - (start - updates)));
        }
    }
    if run.steps() >= 4 {
        let gave_up = run
            .says_in_step(4)
            .find(|(_, text)| text.contains("gives up"))
            .map(|(event, _)| event.thread.clone().unwrap_or_else(|| event.name.clone()));
        let who = gave_up.unwrap_or_else(|| "none (no deadlock)".to_string());
        found.push(measured(4, "the thread that gave up in the deadlock", who));
    }
    found
}
