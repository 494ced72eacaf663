//! What lesson 10 measures in a run, read from its events (for `--repeat` and `--predict`).
//!
//! - Step 1: how long the five `apply()` calls took, counted in tasks (one task is `work`'s
//!   1 s, divided by the run's `--speed`): from the step's start to the main process's
//!   `apply: [...]` line.
//! - Step 2: in which process the callback ran (the pid in its own `callback:` line), and the
//!   order of `map`'s results (its `map: [...]` line).
//! - Step 3: the exit codes of the second pool's workers, reaped after `terminate()`.
//! - Step 4: which way did the 1000 tiny tasks faster (the main process's `pool: ...` line).

use std::collections::BTreeSet;

use crate::lessons::pool::WORK_TIME;
use crate::outcomes::prelude::*;

pub fn measure(run: &Record) -> Vec<Measured> {
    let mut found = Vec::new();
    let speed = run
        .all()
        .find_map(|e| match &e.kind {
            Kind::Lesson { speed, .. } => Some(*speed),
            _ => None,
        })
        .unwrap_or(1.0);
    let step_began = |step: u32| {
        run.all().find_map(|e| match &e.kind {
            Kind::Step { index, .. } if *index == step => Some(e.t),
            _ => None,
        })
    };
    let said = |step: u32, start: &str| {
        run.says_in_step(step)
            .find(|(e, text)| e.pid == run.main_pid() && text.starts_with(start))
    };

    if let (Some(began), Some((applied, _))) = (step_began(1), said(1, "apply: ")) {
        let one_task = WORK_TIME.as_secs_f64() / speed;
        let tasks = ((applied.t - began) / one_task).round() as i64;
        found.push(measured(1, "five apply() calls took, in tasks", tasks));
    }

    if let Some((_, text)) = said(2, "callback: ") {
        let pid = number_after(text, "in pid");
        let ran_in = if pid == Some(run.main_pid() as i64) {
            "the main process"
        } else {
            "a worker"
        };
        found.push(measured(2, "where the callback ran", ran_in));
    }
    if let Some((_, text)) = said(2, "map: ") {
        let squares: Vec<String> = (0..6).map(|n: u64| (n * n).to_string()).collect();
        let order = if text == format!("map: [{}]", squares.join(", ")) {
            "the order of the inputs"
        } else {
            "another order"
        };
        found.push(measured(2, "the order of map()'s results", order));
    }

    // The children forked in step 3 are the second pool's workers (the first pool's were
    // forked in step 1).
    let forked: BTreeSet<i32> = run
        .in_step(3)
        .filter_map(|e| match &e.kind {
            Kind::Spawn { child, .. } => Some(*child),
            _ => None,
        })
        .collect();
    let codes: BTreeSet<i32> = forked
        .iter()
        .filter_map(|&pid| run.exitcode_of(pid))
        .collect();
    let codes: Vec<String> = codes.iter().map(i32::to_string).collect();
    if !codes.is_empty() {
        found.push(measured(
            3,
            "exit code of the workers after terminate()",
            codes.join(", "),
        ));
    }

    // "pool: 1000 tasks in 15 ms; a process per task: 143 ms", in Chinese
    // "进程池：1000 个任务用了 15 ms；每个任务一个进程：143 ms".
    if let Some((_, text)) = said(4, "pool: ").or_else(|| said(4, "进程池："))
        && let Some((pool, per_process)) = text
            .split_once("; a process per task: ")
            .or_else(|| text.split_once("；每个任务一个进程："))
        && let (Some(pool), Some(per_process)) = (
            seconds(
                pool.rsplit(" in ")
                    .next()
                    .and_then(|time| time.rsplit("用了 ").next())
                    .unwrap_or(""),
            ),
            seconds(per_process),
        )
    {
        let faster = if pool <= per_process {
            "the pool"
        } else {
            "a process per task"
        };
        found.push(measured(4, "faster for 1000 tiny tasks", faster));
    }
    found
}

/// A duration as `describe` writes it (`15 ms`, `2.34 s`), in seconds.
fn seconds(text: &str) -> Option<f64> {
    let (number, unit) = text.trim().split_once(' ')?;
    let number: f64 = number.parse().ok()?;
    match unit {
        "ms" => Some(number / 1000.0),
        "s" => Some(number),
        _ => None,
    }
}
