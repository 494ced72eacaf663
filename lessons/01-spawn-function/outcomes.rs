//! What lesson 1 measures in a run, read from its events (for `--repeat` and `--predict`).
//!
//! - Step 1: which line comes first, the main process's 主进程 or alex's "alex is done".
//! - Step 2: the order the three children ended in, and whether the three sleeps took about
//!   the longest sleep (they overlapped) or about their sum (one after another).

use crate::outcomes::prelude::*;

pub fn measure(run: &Record) -> Vec<Measured> {
    let mut found = Vec::new();
    // Step 1. `start()` returns at once: the main process's line is normally first.
    if let Some(main_line) = run.first_say("主进程") {
        let alex_done = run.first_say("alex is done");
        let first = match alex_done {
            Some(done) if done.t < main_line.t => "alex is done",
            _ => "主进程",
        };
        found.push(measured(1, "which line comes first", first));
    }
    // Step 2. Each child's life, from its `start` to its `done`, as the child reported them.
    let mut lives = Vec::new();
    for name in ["alex", "wupeiqi", "yuanhao"] {
        let Some(pid) = run.pid_of(name) else {
            continue;
        };
        let started = run
            .all()
            .find(|e| e.pid == pid && matches!(e.kind, Kind::Start));
        let ended = run
            .all()
            .find(|e| e.pid == pid && matches!(e.kind, Kind::Done { .. }));
        if let (Some(started), Some(ended)) = (started, ended) {
            lives.push((name, started.t, ended.t));
        }
    }
    if lives.len() == 3 {
        let mut order = lives.clone();
        order.sort_by(|a, b| a.2.total_cmp(&b.2));
        let names: Vec<&str> = order.iter().map(|(name, ..)| *name).collect();
        found.push(measured(2, "order the children ended", names.join(", ")));

        let first_start = lives.iter().map(|l| l.1).fold(f64::INFINITY, f64::min);
        let last_end = lives.iter().map(|l| l.2).fold(0.0, f64::max);
        let took_in_all = last_end - first_start;
        let sum: f64 = lives.iter().map(|(_, start, end)| end - start).sum();
        let longest = lives
            .iter()
            .map(|(_, start, end)| end - start)
            .fold(0.0, f64::max);
        // Whichever of the two the time taken in all is nearer to.
        let answer = if (took_in_all - longest).abs() <= (sum - took_in_all).abs() {
            "about the longest sleep"
        } else {
            "about the sum of the sleeps"
        };
        found.push(measured(2, "the three sleeps took in all", answer));
    }
    found
}
