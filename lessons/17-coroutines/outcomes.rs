//! What lesson 17 measures in a run, read from its events (for `--repeat` and `--predict`).
//!
//! - Step 1: whether the three tasks' naps, on one thread, took about the sum of all the naps
//!   or about the naps of the longest task (from each task's `start` and `done`).
//! - Step 2: on how many threads the server, its connections and the clients ran (the
//!   distinct pid and thread of every event a task emitted).
//! - Step 3: whether the tickers went on while a task slept with a plain, blocking sleep (any
//!   event of theirs between the sleeper's "calls a plain sleep" and "is back" lines).
//! - Step 4: how many of the three one-thread servers passed 1000 requests a second (the main
//!   process's line for each, "...: 57563 requests/s, 1 thread(s)").

use std::collections::BTreeSet;

use crate::outcomes::prelude::*;

const TASKS: [&str; 3] = ["alex", "wupeiqi", "yuanhao"];

pub fn measure(run: &Record) -> Vec<Measured> {
    let mut found = Vec::new();

    // Each task's life in step 1: from its start to its done.
    let lives: Vec<(f64, f64)> = TASKS
        .iter()
        .filter_map(|&name| {
            let mut own = run.in_step(1).filter(|e| e.task.as_deref() == Some(name));
            let started = own.find(|e| matches!(e.kind, Kind::Start))?.t;
            let done = own.find(|e| matches!(e.kind, Kind::Done { .. }))?.t;
            Some((started, done))
        })
        .collect();
    if lives.len() == TASKS.len() {
        let span = lives.iter().map(|l| l.1).fold(0.0, f64::max)
            - lives.iter().map(|l| l.0).fold(f64::INFINITY, f64::min);
        let sum: f64 = lives.iter().map(|l| l.1 - l.0).sum();
        let longest = lives.iter().map(|l| l.1 - l.0).fold(0.0, f64::max);
        let value = if (span - longest).abs() <= (sum - span).abs() {
            "about the longest task's naps"
        } else {
            "about the sum of all the naps"
        };
        found.push(measured(
            1,
            "the naps of the three tasks took in all",
            value,
        ));
    }

    let threads: BTreeSet<(i32, Option<i32>)> = run
        .in_step(2)
        .filter(|e| e.task.is_some())
        .map(|e| (e.pid, e.tid))
        .collect();
    if !threads.is_empty() {
        found.push(measured(2, "threads the tasks ran on", threads.len()));
    }

    // The blocking sleeper says two lines: as it calls the plain sleep, and when it is back.
    let sleeper_said: Vec<f64> = run
        .says_in_step(3)
        .filter(|(e, _)| e.task.as_deref() == Some("blocking-sleeper"))
        .map(|(e, _)| e.t)
        .collect();
    if let [slept, back] = sleeper_said[..] {
        let ticked = run.in_step(3).any(|e| {
            matches!(e.task.as_deref(), Some("tick-a" | "tick-b")) && e.t > slept && e.t < back
        });
        let value = if ticked {
            "they kept ticking"
        } else {
            "they stopped until it woke"
        };
        found.push(measured(3, "the tickers during the blocking sleep", value));
    }

    // "epoll: 115126 round trips in 2.00 s from 4 clients: 57563 requests/s, 1 thread(s)"
    let rates: Vec<f64> = run
        .says_in_step(4)
        .filter(|(e, _)| e.pid == run.main_pid())
        .filter_map(|(_, text)| match text.split_once(" requests/s") {
            Some((before, _)) => before.rsplit(' ').next()?.parse().ok(),
            // In Chinese: "epoll：4 个客户端在 2.00 s 内完成了 115126 次往返：每秒 57563 个请求".
            None => text.split("每秒 ").nth(1)?.split(' ').next()?.parse().ok(),
        })
        .collect();
    if !rates.is_empty() {
        let past = rates.iter().filter(|&&rate| rate > 1000.0).count();
        found.push(measured(
            4,
            "one-thread servers past 1000 requests a second",
            past,
        ));
    }
    found
}
