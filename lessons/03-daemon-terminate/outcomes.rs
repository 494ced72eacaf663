//! What lesson 3 measures in a run, read from its events (for `--repeat` and `--predict`).
//!
//! - Step 1: how far the daemon `counter` counted before its parent's work ended (a race
//!   between two timers), and the exit code it was given.
//! - Step 3: who the orphan's parent is after `terminate()` killed its own parent: read from
//!   the `state` event of `/proc/<grandchild>/stat` that follows the kill.

use crate::outcomes::{Record, measured};
use crate::runtime::event::{Kind, Measured, describe_exitcode};

pub fn measure(run: &Record) -> Vec<Measured> {
    let mut found = Vec::new();
    let last_count = run
        .says_in_step(1)
        .filter(|(e, _)| e.name == "counter")
        .filter_map(|(_, text)| crate::outcomes::number_after(text, "counter:"))
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
    found
}
