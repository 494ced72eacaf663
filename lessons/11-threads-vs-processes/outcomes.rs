//! What lesson 11 measures in a run, read from its events (for `--repeat` and `--predict`).
//!
//! - Step 1: whether the two threads were still running when the main thread printed their
//!   names (its `Thread-1` line against the threads' `done`).
//! - Step 2: how many different pids the three threads printed.
//! - Step 3: what the main process read for `n` after the child process set it to 0, then
//!   after the thread did (its two `main: n = ...` lines).
//! - Step 4: which is cheaper to create, and how many times, in bins (the two `... µs` lines).
//! - Step 5: whether the daemon thread foo printed `end123`, and egon `egon say hello`.
//! - Step 6: `active_count()` while the three threads waited (the main thread's line).
//! - Step 7: what `join()` before `start()` did.

use std::collections::BTreeSet;

use crate::outcomes::prelude::*;

pub fn measure(run: &Record) -> Vec<Measured> {
    let mut found = Vec::new();
    let main = run.main_pid();
    // Said by the main process's main thread (not by one of its threads).
    let by_main_thread = |e: &Event| e.pid == main && e.tid.is_none();
    let main_said = |step: u32, start: &str| -> Vec<(&Event, &str)> {
        run.says_in_step(step)
            .filter(|(e, text)| by_main_thread(e) && text.starts_with(start))
            .collect()
    };

    if let Some((names_said, _)) = main_said(1, "Thread-").first() {
        let threads_done: Vec<f64> = run
            .in_step(1)
            .filter(|e| e.pid == main && e.tid.is_some() && matches!(e.kind, Kind::Done { .. }))
            .map(|e| e.t)
            .collect();
        if threads_done.len() == 2 {
            let running = if threads_done.iter().all(|&done| done > names_said.t) {
                "still running"
            } else {
                "already done"
            };
            found.push(measured(
                1,
                "the threads when the main thread printed their names",
                running,
            ));
        }
    }

    let thread_pids: BTreeSet<i64> = run
        .says_in_step(2)
        .filter(|(e, text)| e.tid.is_some() && text.starts_with("t-"))
        .filter_map(|(_, text)| number_after(text, ": pid"))
        .collect();
    if !thread_pids.is_empty() {
        found.push(measured(
            2,
            "different pids the three threads printed",
            thread_pids.len(),
        ));
    }

    let n_read: Vec<i64> = main_said(3, "main: n =")
        .iter()
        .filter_map(|(_, text)| number_after(text, "main: n ="))
        .collect();
    if let [after_process, after_thread] = n_read[..] {
        found.push(measured(
            3,
            "n read by main after the process, then after the thread",
            format!("{after_process}, then {after_thread}"),
        ));
    }

    let micros = |start: &str| {
        main_said(4, start)
            .first()
            .and_then(|(_, text)| micros_in(text))
    };
    // The lab's lines, in either language.
    let either = |en: &str, zh: &str| micros(en).or_else(|| micros(zh));
    if let (Some(process), Some(thread)) =
        (either("process (", "进程（"), either("thread (", "线程（"))
    {
        let cheaper = if thread < process {
            "a thread"
        } else {
            "a process"
        };
        found.push(measured(4, "cheaper to create", cheaper));
        // How many threads one process costs, in bins: the ratio spreads widely from run to run.
        let times = (process / thread.max(1e-9)).round() as i64;
        let bin = match times {
            i64::MIN..=1 => "1 or less",
            2..=4 => "2-4",
            5..=9 => "5-9",
            10..=19 => "10-19",
            _ => "20 or more",
        };
        found.push(measured(4, "a process costs, in threads", bin));
    }

    if run.steps() >= 5 {
        let said = |line: &str| run.says_in_step(5).any(|(_, text)| text == line);
        if said("main-------") {
            let yes_no = |yes: bool| if yes { "yes" } else { "no" };
            found.push(measured(5, "foo printed end123", yes_no(said("end123"))));
            found.push(measured(
                5,
                "egon said hello",
                yes_no(said("egon say hello")),
            ));
        }
    }

    if let Some((_, text)) = main_said(6, "active_count() = ").first()
        && let Some(count) = number_after(text, "active_count() =")
    {
        found.push(measured(6, "active_count() while the three waited", count));
    }

    if let Some((_, text)) = main_said(7, "join() before start()").first() {
        let did = if text.starts_with("join() before start(): error") {
            "an error"
        } else {
            "returns at once"
        };
        found.push(measured(7, "join() before start()", did));
    }
    found
}

/// The microseconds in `process (fork + _exit + waitpid): 352.0 µs, 34.0 page faults each`
/// (in Chinese `进程（fork + _exit + waitpid）：352.0 µs，...`).
fn micros_in(text: &str) -> Option<f64> {
    let after = match text.find("): ") {
        Some(at) => &text[at + 3..],
        None => &text[text.find("）：")? + "）：".len()..],
    };
    after.split_whitespace().next()?.parse().ok()
}
