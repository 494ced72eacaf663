//! What lesson 5 measures in a run, read from its events (for `--repeat` and `--predict`).
//!
//! - Steps 1 and 2: how many of the ten buyers were told 购票成功 for the one ticket, without
//!   the lock and with it (counted from the buyers' own lines).
//! - Step 3: in how many of the twenty quick rounds without the lock the ticket was sold more
//!   than once (from the main process's line for each round).

use crate::outcomes::prelude::*;

pub fn measure(run: &Record) -> Vec<Measured> {
    let mut found = Vec::new();
    for (step, what) in [
        (1, "tickets sold without the lock"),
        (2, "tickets sold with the lock"),
    ] {
        if run.steps() < step {
            continue;
        }
        let sold = run
            .says_in_step(step)
            .filter(|(_, text)| text.contains("bought the ticket"))
            .count();
        found.push(measured(step, what, sold));
    }
    // "round 3 without the lock: 4 of 4 buyers got the one ticket", in Chinese
    // "第 3 轮，不加锁：4 个买家（共 4 个）买到了那一张票".
    let rounds: Vec<i64> = run
        .numbers_said(3, &["without the lock:", "不加锁："])
        .map(|(_, sold)| sold)
        .collect();
    if !rounds.is_empty() {
        let oversold = rounds.iter().filter(|&&got| got > 1).count();
        found.push(measured(
            3,
            "rounds that sold the ticket more than once, without the lock",
            format!("{oversold} of {}", rounds.len()),
        ));
    }
    found
}
