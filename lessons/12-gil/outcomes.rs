//! What lesson 12 measures in a run, read from its events (for `--repeat` and `--predict`).
//!
//! - Steps 2, 3 and 4: how many CPUs the N workers kept busy together, on average: their time
//!   on a CPU divided by the wall time, both from the step's line for N workers
//!   (`2 threads with the GIL: wall W ms, on a CPU C ms, ...`). Not the speed-up: a speed-up
//!   compares two runs, and a busy machine may slow one of them and not the other, while time
//!   on a CPU counts only what the workers really ran. Under one GIL the figure stays at one
//!   or below on any machine; over `MORE_THAN_ONE` the workers certainly ran side by side.
//! - Step 5: how long the readers took with the GIL released around each read, against one
//!   thread's reads alone (3 × 500 ms, divided by the run's `--speed`): about as long, or
//!   about N times as long (one thread after another).

use crate::lessons::gil::{READ_TAKES, READS};
use crate::outcomes::prelude::*;

/// CPUs busy on average above which the workers certainly ran at the same time. Under one GIL
/// the figure is at most one, plus a sliver at each handover (the waker and the woken thread
/// both on a CPU for a moment): under 1.1 in every run measured.
const MORE_THAN_ONE: f64 = 1.2;

pub fn measure(run: &Record) -> Vec<Measured> {
    let mut found = Vec::new();
    // The lines are the lab's, in the language of the run: each label in English and Chinese.
    let after = |line: &str, en: &str, zh: &str| {
        decimal_after(line, en).or_else(|| decimal_after(line, zh))
    };
    for (step, labels, what) in [
        (
            2,
            ["processes: wall", "个进程：墙钟时间"],
            "CPUs the processes kept busy",
        ),
        (
            3,
            ["threads with the GIL: wall", "个线程（有 GIL）：墙钟时间"],
            "CPUs the threads with the GIL kept busy",
        ),
        (
            4,
            [
                "threads without a GIL: wall",
                "个线程（没有 GIL）：墙钟时间",
            ],
            "CPUs the threads without a GIL kept busy",
        ),
    ] {
        // The line of the N workers (N is 2 or more): "2 processes: wall ...".
        let line = run.says_in_step(step).map(|(_, text)| text).find(|text| {
            labels.iter().any(|label| text.contains(label)) && !text.starts_with("1 ")
        });
        let Some(line) = line else { continue };
        if let (Some(wall), Some(cpu)) = (
            after(line, "wall ", "墙钟时间 "),
            after(line, "on a CPU ", "在 CPU 上 "),
        ) {
            let busy = cpu / wall.max(1e-9);
            let value = if busy > MORE_THAN_ONE {
                "more than one"
            } else {
                "about one or less"
            };
            found.push(measured(step, what, value));
        }
    }
    // CPython's run of step 3's program, said beside the lab's: "CPython 3.11.7, 2 threads
    // under its GIL: wall 0.17 s (one thread 0.24 s), on a CPU 0.03 s, ...", in Chinese
    // "CPython 3.11.7，2 个线程共用它的 GIL：墙钟时间 0.17 s（...），在 CPU 上 0.03 s，...".
    let cpython = run
        .says_in_step(3)
        .map(|(_, text)| text)
        .find(|text| text.starts_with("CPython ") && text.contains("GIL"));
    if let Some(line) = cpython
        && let (Some(wall), Some(cpu)) = (
            after(line, "wall ", "墙钟时间 "),
            after(line, "on a CPU ", "在 CPU 上 "),
        )
    {
        let value = match cpu / wall.max(1e-9) > MORE_THAN_ONE {
            true => "more than one",
            false => "about one or less",
        };
        found.push(measured(
            3,
            "CPUs the threads with the GIL kept busy (CPython)",
            value,
        ));
    }
    // "2 threads, 3 reads each, GIL released while reading: wall 81.2 ms"
    let speed = run.all().find_map(|e| match &e.kind {
        Kind::Lesson { speed, .. } => Some(*speed),
        _ => None,
    });
    let released = run.says_in_step(5).map(|(_, text)| text).find(|text| {
        text.contains("GIL released while reading") || text.contains("读的时候释放 GIL")
    });
    if let (Some(speed), Some(line)) = (speed, released)
        && let (Some(threads), Some(wall_ms)) =
            (decimal_after(line, ""), after(line, "wall ", "墙钟时间 "))
    {
        let one_thread_ms = READ_TAKES.as_secs_f64() * 1e3 * f64::from(READS) / speed.max(1e-9);
        // Halfway between one thread's time and N threads' one after another.
        let halfway = one_thread_ms * (1.0 + threads) / 2.0;
        let value = if wall_ms < halfway {
            "about one thread's time"
        } else {
            "about N times as long"
        };
        found.push(measured(5, "reads with the GIL released took", value));
    }
    found
}

/// The decimal number that follows `after` in `text` (`"wall 81.2 ms"`, `"wall "` → 81.2).
fn decimal_after(text: &str, after: &str) -> Option<f64> {
    let rest = &text[text.find(after)? + after.len()..];
    let number: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    number.parse().ok()
}
