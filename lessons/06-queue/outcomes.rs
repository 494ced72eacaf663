//! What lesson 6 measures in a run, read from its events (for `--repeat` and `--predict`).
//!
//! - Step 1: what `put("baozi 4", timeout)` on the full `Queue(3)` did: waited and then
//!   failed with `queue.Full`, failed at once, or succeeded (from main's line and its `wait`).
//! - Step 2: in how many of the twenty rounds a consumer that was told "not empty" then got
//!   `queue.Empty` (from main's line for each round).
//! - Step 3: how many times the producer waited for a free place (its `wait` events on the
//!   queue).
//! - Step 4: how many baozi had been eaten when `p1`'s `join()` returned (the consumers'
//!   lines before p1's "all eaten").
//! - Step 5: in how many of the rounds on a bare pipe the two long messages arrived torn.

use crate::outcomes::prelude::*;

pub fn measure(run: &Record) -> Vec<Measured> {
    let mut found = Vec::new();

    // Step 1: "put(\"baozi 4\", timeout): error: queue.Full", and whether main waited first.
    let put_nowait = run
        .says_in_step(1)
        .find(|(_, text)| text.starts_with("put_nowait("));
    let put_timeout = run
        .says_in_step(1)
        .find(|(_, text)| text.starts_with("put(\"baozi 4\", timeout)"));
    if let (Some((before, _)), Some((after, text))) = (put_nowait, put_timeout) {
        let waited = run.in_step(1).any(|e| {
            e.pid == after.pid
                && e.t > before.t
                && e.t < after.t
                && matches!(&e.kind, Kind::Wait { on, .. } if on == "queue")
        });
        let what = match (text.ends_with("queue.Full"), waited) {
            (true, true) => "it waits, then fails with queue.Full",
            (true, false) => "it fails at once with queue.Full",
            (false, _) => "it succeeds",
        };
        found.push(measured(1, "put with a timeout on a full queue", what));
    }

    // Step 2: "round 7: 2 of 2 saw empty() = false; 1 of them then got queue.Empty"
    let rounds: Vec<i64> = run
        .says_in_step(2)
        .filter(|(_, text)| text.starts_with("round ") || text.starts_with("第 "))
        .filter_map(|(_, text)| {
            number_after(text, "empty() = false;").or_else(|| number_after(text, "其中"))
        })
        .collect();
    if !rounds.is_empty() {
        let misled = rounds.iter().filter(|&&none| none > 0).count();
        found.push(measured(
            2,
            "rounds in which a consumer told 'not empty' found nothing",
            misled,
        ));
    }

    // Step 3: each time a put() of the producer found no free place, it reported a wait.
    if let Some(producer) = run.pid_of("producer") {
        let waits = run
            .all()
            .filter(|e| e.pid == producer && e.tid.is_none())
            .filter(|e| matches!(&e.kind, Kind::Wait { on, .. } if on == "queue"))
            .count();
        found.push(measured(3, "times the producer waited for room", waits));
    }

    // Step 4: the consumers' "ate" lines that came before p1's join() returned.
    if let Some(returned) = run.first_say("p1: all eaten, leaving") {
        let eaten = run
            .says_in_step(4)
            .filter(|(e, text)| e.t < returned.t && text.contains(": ate baozi "))
            .count();
        found.push(measured(4, "baozi eaten when join() returned", eaten));
    }

    // Step 5: "bare pipe: 5 of 5 rounds torn; pieces per round: ..."
    if let Some((_, torn)) = run.numbers_said(5, &["bare pipe:", "裸管道："]).next() {
        found.push(measured(5, "rounds torn on a bare pipe", torn));
    }
    found
}
