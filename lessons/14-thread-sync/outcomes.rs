//! What lesson 14 measures in a run, read from its events (for `--repeat` and `--predict`).
//! Everything happens in threads of the main process, so each line is told apart by the
//! thread that said it (`guest-3`, `conn-1` ...), never by a process.
//!
//! - Step 1: the most guests inside at once (from each guest's "got a seat (N inside)"), and
//!   how many guests had to wait for a seat (their waits on the semaphore `seats`).
//! - Step 2: which connectors got through ("connected"), and how many tries conn-1 made.
//! - Step 3: how many runners ran after notify(2), before the main thread said notify_all().
//! - Step 4: what waiter-1's plain wait() did: notified, or gave up at its timeout.
//! - Step 5: how many buns the plate held after the two eaters that check with `if`.
//! - Step 6: which of the two timers' functions ran.

use std::collections::BTreeSet;

use crate::outcomes::prelude::*;

pub fn measure(run: &Record) -> Vec<Measured> {
    let mut found = Vec::new();
    if run.steps() >= 1 {
        let most_inside = says_of(run, 1, |thread| thread.starts_with("guest-"))
            .filter_map(|text| number_after(text, "got a seat ("))
            .max();
        if let Some(most) = most_inside {
            found.push(measured(1, "most guests inside at once", most));
        }
        let waited: BTreeSet<&str> = run
            .in_step(1)
            .filter(|e| matches!(&e.kind, Kind::Wait { on, object } if on == "semaphore" && object == "seats"))
            .filter_map(thread_of)
            .collect();
        found.push(measured(1, "guests that waited for a seat", waited.len()));
    }
    if run.steps() >= 2 {
        let connected = |name: &str| says_of(run, 2, |t| t == name).any(|text| text == "connected");
        let through = match (connected("conn-1"), connected("conn-2")) {
            (true, true) => "both",
            (true, false) => "only conn-1",
            (false, true) => "only conn-2",
            (false, false) => "neither",
        };
        found.push(measured(2, "connectors that got through", through));
        let tries = says_of(run, 2, |t| t == "conn-1")
            .filter_map(|text| number_after(text, "try"))
            .max();
        if let Some(tries) = tries {
            found.push(measured(2, "tries conn-1 made", tries));
        }
    }
    if run.steps() >= 3 {
        // The runners' lines up to the main thread's "notify_all()".
        let mut ran = 0;
        let mut notified_all = false;
        for (event, text) in run.says_in_step(3) {
            if event.thread.is_none() && text == "notify_all()" {
                notified_all = true;
                break;
            }
            if text.starts_with("run the thread:") {
                ran += 1;
            }
        }
        if notified_all {
            found.push(measured(3, "runners that ran after notify(2)", ran));
        }
    }
    if run.steps() >= 4 {
        let waited = says_of(run, 4, |t| t == "waiter-1").find_map(|text| {
            if text.starts_with("wait() was notified") {
                Some("wait() is notified")
            } else if text.starts_with("wait() gave up") || text.starts_with("wait() 等了") {
                Some("wait() waits until its timeout")
            } else {
                None
            }
        });
        if let Some(waited) = waited {
            found.push(measured(4, "what waiter-1's wait() did", waited));
        }
    }
    if run.steps() >= 5 {
        let left = says_of(run, 5, |t| t == "eater-1" || t == "eater-2")
            .filter_map(|text| number_after(text, "took a bun:"))
            .min();
        if let Some(left) = left {
            found.push(measured(5, "buns left after the two if-eaters", left));
        }
    }
    if run.steps() >= 6 {
        let hello = says_of(run, 6, |t| t == "hello").any(|text| text == "hello, world");
        let late = says_of(run, 6, |t| t == "late").any(|text| text.starts_with("too late"));
        let ran = match (hello, late) {
            (true, true) => "both",
            (true, false) => "only hello",
            (false, true) => "only late",
            (false, false) => "neither",
        };
        found.push(measured(6, "timer functions that ran", ran));
    }
    found
}

/// The name of the thread that emitted `event`, when it is not a process's main thread.
fn thread_of(event: &Event) -> Option<&str> {
    event.thread.as_deref()
}

/// What the threads whose names pass `which` said in step `step`.
fn says_of<'a>(
    run: &'a Record,
    step: u32,
    which: impl Fn(&str) -> bool + 'a,
) -> impl Iterator<Item = &'a str> + 'a {
    run.says_in_step(step)
        .filter(move |(event, _)| thread_of(event).is_some_and(&which))
        .map(|(_, text)| text)
}
