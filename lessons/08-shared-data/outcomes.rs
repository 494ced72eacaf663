//! What lesson 8 measures in a run, read from its events (for `--repeat`).
//!
//! - Step 1: how many of the ten processes' additions were lost without `get_lock()` and with
//!   it. The total they should reach is the one the locked run reached; the losses spread
//!   widely, so they are counted in bins (0, 1-9, 10-99 ...).
//! - Step 2: in how many of the twenty quiet runs of the same race updates were lost.
//! - Step 3: in how many of the five runs of `d['count'] -= 1` without a lock the count ended
//!   above 0.
//! - Step 4: how many times as long one increment took through the manager as in shared
//!   memory, in bins (`1 to 9`, `10 to 99` ...), in the lab and in CPython's run of the step's
//!   program (`... (CPython)`, when `python3` is here), which `--predict` judges too.

use crate::outcomes::prelude::*;

pub fn measure(run: &Record) -> Vec<Measured> {
    let value_after = |label: &str| {
        run.says_in_step(1)
            .find(|(_, text)| text.starts_with(label))
            .and_then(|(_, text)| number_after(text, "="))
    };
    let mut found = Vec::new();
    if let (Some(unlocked), Some(locked)) = (
        value_after("without the lock"),
        value_after("with get_lock()"),
    ) {
        found.push(measured(
            1,
            "updates lost without the lock",
            order_of_magnitude(locked - unlocked),
        ));
        // The total itself, which the lesson states as the ten processes' 10000 additions.
        found.push(measured(1, "counter.value with get_lock()", locked));
    }

    // Step 2: "20 runs without the lock: 10000 9248 10000 ...", in Chinese
    // "不加锁的 20 次运行：10000 9248 10000 ...".
    let totals: Option<Vec<i64>> = run.says_in_step(2).find_map(|(_, text)| {
        let listed = text
            .split(" runs without the lock:")
            .nth(1)
            .or_else(|| text.split(" 次运行：").nth(1))?;
        Some(
            listed
                .split_whitespace()
                .filter_map(|total| total.parse().ok())
                .collect(),
        )
    });
    if let Some(totals) = totals.filter(|t| !t.is_empty()) {
        let short = totals.iter().filter(|&&total| total < ADDITIONS).count();
        found.push(measured(2, "runs that lost updates", short));
    }

    // Step 3: "without a lock: d['count'] = 81, 79, 69, 72, 74 (5 runs)", in Chinese
    // "不加锁：d['count'] = 81, 79, 69, 72, 74（共 5 次运行）".
    let lefts: Option<Vec<i64>> = run.says_in_step(3).find_map(|(_, text)| {
        let listed = text
            .strip_prefix("without a lock: d['count'] =")
            .or_else(|| text.strip_prefix("不加锁：d['count'] ="))?;
        let listed = listed.split(" (").next()?.split('（').next()?;
        Some(
            listed
                .split(',')
                .filter_map(|left| left.trim().parse().ok())
                .collect(),
        )
    });
    if let Some(lefts) = lefts.filter(|l| !l.is_empty()) {
        let above = lefts.iter().filter(|&&left| left > 0).count();
        found.push(measured(3, "runs that ended above 0 without a lock", above));
    }

    // Step 4: "one increment: 0.13 µs in shared memory, 513.3 µs through the manager", in
    // Chinese "加一一次：在共享内存里 0.13 µs，经过 manager 513.3 µs".
    let costs = run.says_in_step(4).find_map(|(_, text)| {
        let (shared, rest) = match text.strip_prefix("one increment:") {
            Some(rest) => rest.split_once("µs in shared memory,")?,
            None => text
                .strip_prefix("加一一次：在共享内存里")?
                .split_once("µs，经过 manager")?,
        };
        let manager = rest.split("µs").next()?;
        Some((
            shared.trim().parse::<f64>().ok()?,
            manager.trim().parse::<f64>().ok()?,
        ))
    });
    if let Some((shared, manager)) = costs {
        found.push(measured(
            4,
            "times as long through the manager",
            ratio_bin(shared, manager),
        ));
    }
    // CPython's run of the step's program, said beside the lab's: "CPython 3.11.7, one
    // increment: 2.77 µs in shared memory, 128.0 µs through the manager", in Chinese
    // "CPython 3.11.7，加一一次：在共享内存里 2.77 µs，经过 manager 128.0 µs".
    let cpython = run.says_in_step(4).find_map(|(_, text)| {
        let rest = text.strip_prefix("CPython ")?;
        let (shared, rest) = match rest.split_once(", one increment:") {
            Some((_, rest)) => rest.split_once("µs in shared memory,")?,
            None => rest
                .split_once("，加一一次：在共享内存里")?
                .1
                .split_once("µs，经过 manager")?,
        };
        let manager = rest.split("µs").next()?;
        Some((
            shared.trim().parse::<f64>().ok()?,
            manager.trim().parse::<f64>().ok()?,
        ))
    });
    if let Some((shared, manager)) = cpython {
        found.push(measured(
            4,
            "times as long through the manager (CPython)",
            ratio_bin(shared, manager),
        ));
    }
    found
}

/// How many times as long the manager's increment took, in a bin: the ratio spreads widely
/// from run to run. The lines round shared memory's cost to 0.01 µs: never divide by less.
fn ratio_bin(shared: f64, manager: f64) -> &'static str {
    match manager / shared.max(0.01) {
        r if r < 10.0 => "1 to 9",
        r if r < 100.0 => "10 to 99",
        r if r < 1000.0 => "100 to 999",
        _ => "1000 or more",
    }
}

/// The additions of one race: ten processes, a thousand each (the lesson's `ADDERS` and
/// `ADDS_EACH`).
const ADDITIONS: i64 = 10 * 1000;
