//! What lesson 3 measures in a run, read from its events (for `--repeat` and `--predict`).
//!
//! - Step 1: how far the daemon `counter` counted before its parent's work ended (a race
//!   between two timers), and the exit code it was given.
//! - Step 2: the exit code of the daemon that tried to start a child (refused: 1).
//! - Step 3: who the orphan's parent is after `terminate()` killed its own parent: read from
//!   the `state` event of `/proc/<grandchild>/stat` that follows the kill.
//! - Step 4: what `/proc` shows for `returns` once it has ended and before it is joined: the
//!   `state` event that follows its "after it ended" line.
//! - Step 5: which of the two locks the next taker got once its holder was terminated, from
//!   the takers' own lines.

use crate::outcomes::prelude::*;

pub fn measure(run: &Record) -> Vec<Measured> {
    let mut found = Vec::new();
    let last_count = run
        .numbers_said(1, &["counter:"])
        .filter(|(e, _)| e.name == "counter")
        .map(|(_, count)| count)
        .max();
    if let Some(count) = last_count {
        found.push(measured(1, "the daemon counted to", count));
    }
    if let Some(code) = run.pid_of("counter").and_then(|pid| run.exitcode_of(pid)) {
        found.push(measured(
            1,
            "the daemon's exitcode",
            describe_exitcode(code),
        ));
    }
    if let Some(code) = run.pid_of("daemon").and_then(|pid| run.exitcode_of(pid)) {
        found.push(measured(
            2,
            "the exitcode of the daemon that starts a child",
            code,
        ));
    }
    // Step 3: `doomed` is terminated; its child `grandchild` lives on. Its parent, as /proc
    // gave it in the first reading after doomed was reaped.
    let doomed = run.pid_of("doomed");
    let grandchild = run.pid_of("grandchild");
    if let (Some(doomed), Some(grandchild)) = (doomed, grandchild) {
        let reaped = run
            .all()
            .find(|e| matches!(e.kind, Kind::Exit { child, .. } if child == doomed));
        let new_parent = reaped.and_then(|reaped| {
            run.all()
                .filter(|e| e.t >= reaped.t)
                .find_map(|e| match &e.kind {
                    Kind::State {
                        of,
                        ppid_of: Some(parent),
                        ..
                    } if *of == grandchild => Some(*parent),
                    _ => None,
                })
        });
        if let Some(parent) = new_parent {
            found.push(measured(3, "the orphan's new parent", run.name_of(parent)));
        }
    }
    // Step 4: /proc/<returns> read after is_alive() and exitcode, before join().
    let returns = run.pid_of("returns");
    let ended = run.first_say("after it ended: is_alive()");
    if let (Some(returns), Some(ended)) = (returns, ended) {
        let state = run
            .all()
            .filter(|e| e.t >= ended.t)
            .find_map(|e| match &e.kind {
                Kind::State { of, state, .. } if *of == returns => Some(state.clone()),
                _ => None,
            });
        if let Some(state) = state {
            let shown = match state.as_str() {
                "Z" => "Z (zombie)".to_string(),
                "gone" => "nothing: it is gone".to_string(),
                "S" => "S (sleeping)".to_string(),
                other => other.to_string(),
            };
            found.push(measured(
                4,
                "what /proc shows for returns before join()",
                shown,
            ));
        }
    }
    // Step 5: "taker: got the lock ..." or "taker: gave up ...", and the same of flock-taker.
    let got = |who: &str| -> Option<bool> {
        run.says_in_step(5)
            .filter(|(e, _)| e.name == who)
            .find_map(|(_, text)| {
                if text.contains(": got the") {
                    Some(true)
                } else if text.contains(": gave up") {
                    Some(false)
                } else {
                    None
                }
            })
    };
    if let (Some(semaphore), Some(flock)) = (got("taker"), got("flock-taker")) {
        let which = match (semaphore, flock) {
            (true, true) => "both",
            (true, false) => "only the semaphore",
            (false, true) => "only the flock",
            (false, false) => "neither",
        };
        found.push(measured(5, "the locks the next taker gets", which));
    }
    found
}
