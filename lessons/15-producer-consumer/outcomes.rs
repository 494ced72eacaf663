//! What lesson 15 measures in a run, read from its events (for `--repeat` and `--predict`).
//! Everything happens in threads of the main process, so each line is told apart by the
//! thread that said it (`alex`, `fast-0` ...), never by a process.
//!
//! - Step 1: whether each eater got its buns in the order they were made ("eats 包子N"), and
//!   who ate 包子0.
//! - Step 2: what came out of the PriorityQueue first ("PriorityQueue gives: [...]").
//! - Step 3: the most items each queue held ("... the queue held at most N", said by fast-0
//!   and fast-3).
//! - Step 4: whether the queue's join() returned after every "job N done" line.
//! - Step 5: how many consumers were still alive after the one None ("put N more None").
//! - Step 6: the slowest and the fastest queue ("Queue(1): ... N items/s").

use crate::outcomes::prelude::*;

pub fn measure(run: &Record) -> Vec<Measured> {
    let mut found = Vec::new();
    if run.steps() >= 1 {
        // (eater, bun) in the order the eaters said them.
        let eaten: Vec<(&str, i64)> = run
            .says_in_step(1)
            .filter_map(|(event, text)| {
                let bun = number_after(text, "eats 包子")?;
                Some((event.thread.as_deref()?, bun))
            })
            .collect();
        if !eaten.is_empty() {
            let in_order = ["alex", "wupeiqi"].iter().all(|name| {
                let theirs: Vec<i64> = eaten
                    .iter()
                    .filter(|(eater, _)| eater == name)
                    .map(|&(_, bun)| bun)
                    .collect();
                theirs.windows(2).all(|pair| pair[0] < pair[1])
            });
            let order = if in_order {
                "in the order they were made"
            } else {
                "out of order"
            };
            found.push(measured(1, "the order each eater got its buns in", order));
            if let Some((first, _)) = eaten.iter().find(|&&(_, bun)| bun == 0) {
                found.push(measured(1, "who ate 包子0", first));
            }
        }
    }
    if run.steps() >= 2 {
        // "PriorityQueue gives: [(10, 'b'), (20, 'a'), (30, 'c')]"
        let first = run.says_in_step(2).find_map(|(_, text)| {
            let list = text.strip_prefix("PriorityQueue gives: [")?;
            Some(format!("{})", list.split(')').next()?))
        });
        if let Some(first) = first {
            found.push(measured(2, "first out of the PriorityQueue", first));
        }
    }
    if run.steps() >= 3 {
        for (producer, what) in [
            ("fast-0", "most items in the unbounded queue"),
            ("fast-3", "most items in the bounded queue"),
        ] {
            let most = run
                .says_in_step(3)
                .filter(|(event, _)| event.thread.as_deref() == Some(producer))
                .find_map(|(_, text)| {
                    // The lab's line, in either language.
                    number_after(text, "held at most")
                        .or_else(|| number_after(text, "同时最多有过的条目数："))
                });
            if let Some(most) = most {
                found.push(measured(3, what, most));
            }
        }
    }
    if run.steps() >= 4 {
        // How many "job N done" lines came before "join() returned", and in all.
        let mut jobs_done = 0;
        let mut returned = None;
        for (_, text) in run.says_in_step(4) {
            if text.starts_with("job ") && text.ends_with(" done") {
                jobs_done += 1;
            } else if text.starts_with("join() returned") {
                returned = Some(jobs_done);
            }
        }
        if let Some(done_before) = returned {
            let when = if done_before == jobs_done {
                "after the last job is done"
            } else {
                "as soon as the queue is empty"
            };
            found.push(measured(4, "when the queue's join() returned", when));
        }
    }
    if run.steps() >= 5 {
        let still_alive = run
            .says_in_step(5)
            .filter(|(event, _)| event.thread.is_none())
            .find_map(|(_, text)| {
                let count = text.strip_prefix("put ")?.strip_suffix(" more None")?;
                count.parse::<i64>().ok()
            });
        if let Some(alive) = still_alive {
            found.push(measured(5, "consumers still waiting after one None", alive));
        }
    }
    if run.steps() >= 6 {
        // "Queue(1): 10000 items in 156 ms, 63904 items/s; went to sleep: ...", in Chinese
        // "Queue(1)：10000 个条目用了 156 ms，每秒 63904 个；...".
        let rates: Vec<(&str, f64)> = run
            .says_in_step(6)
            .filter_map(|(_, text)| {
                let (label, rest) = text.split_once(": ").or_else(|| text.split_once("："))?;
                let rate = match rest.split_once(" items/s") {
                    Some((before, _)) => before.rsplit(' ').next()?,
                    None => rest.split("每秒 ").nth(1)?.split(' ').next()?,
                };
                Some((label, rate.parse().ok()?))
            })
            .collect();
        let slowest = rates.iter().min_by(|a, b| a.1.total_cmp(&b.1));
        let fastest = rates.iter().max_by(|a, b| a.1.total_cmp(&b.1));
        if let (Some(slowest), Some(fastest)) = (slowest, fastest) {
            found.push(measured(6, "the slowest queue", slowest.0));
            found.push(measured(6, "the fastest queue", fastest.0));
        }
    }
    found
}
