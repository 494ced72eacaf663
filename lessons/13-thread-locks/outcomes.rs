//! What lesson 13 measures in a run, read from its events (for `--repeat`).
//!
//! - Steps 1 and 2: how many of the ten updates of `n` were lost, without the lock and with it.
//!   Each thread says `temp = X, n = Y`; the first value read is where `n` started, each line
//!   one update, and `print(n)` where it ended.
//! - Step 3: in how many of the twenty quick rounds without the lock updates were lost (from
//!   the main thread's line for each round).
//! - Step 4: which thread hit the deadlock's timeout and gave up (the other one then finished).
//! - Step 5: how many of the two threads finished, with the locks taken in one global order.
//! - Step 6: what a plain Lock's second `acquire()` by the thread that holds it returned.
//! - Step 7: what a Lock's `release()` by a thread other than the one that took it did.

use crate::outcomes::prelude::*;

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
    // "round 3: lost 2 without the lock, 0 with it", in Chinese
    // "第 3 轮：不加锁丢了 2 次更新，加锁丢了 0 次".
    let rounds: Vec<i64> = run
        .says_in_step(3)
        .filter(|(_, text)| text.starts_with("round ") || text.starts_with("第 "))
        .filter_map(|(_, text)| {
            number_after(text, ": lost").or_else(|| number_after(text, "不加锁丢了"))
        })
        .collect();
    if !rounds.is_empty() {
        let with_losses = rounds.iter().filter(|&&lost| lost > 0).count();
        found.push(measured(
            3,
            "rounds that lost updates without the lock",
            with_losses,
        ));
    }
    if run.steps() >= 4 {
        let gave_up = run
            .says_in_step(4)
            .find(|(_, text)| text.contains("gives up"))
            .map(|(event, _)| event.thread.clone().unwrap_or_else(|| event.name.clone()));
        let who = gave_up.unwrap_or_else(|| "none (no deadlock)".to_string());
        found.push(measured(4, "the thread that gave up in the deadlock", who));
    }
    if run.steps() >= 5 {
        let finished = run
            .says_in_step(5)
            .filter(|(_, text)| text.starts_with("Thread-") && text.ends_with(" done"))
            .count();
        found.push(measured(
            5,
            "threads that finished in one global order",
            finished,
        ));
    }
    // "lock.acquire() again, same thread: False"
    if let Some((_, text)) = run
        .says_in_step(6)
        .find(|(_, text)| text.starts_with("lock.acquire() again, same thread:"))
    {
        let returned = text.rsplit(": ").next().unwrap_or_default();
        found.push(measured(
            6,
            "a Lock's second acquire() by its holder returned",
            returned,
        ));
    }
    // "lock.release() by another thread: released" (or ": error: ...")
    if let Some((_, text)) = run
        .says_in_step(7)
        .find(|(_, text)| text.starts_with("lock.release() by another thread:"))
    {
        let what = if text.contains(": error:") {
            "error"
        } else {
            "released"
        };
        found.push(measured(7, "a Lock released by another thread", what));
    }
    found
}
