//! What lesson 4 measures in a run, read from its events (for `--repeat` and `--predict`).
//!
//! - Step 1: which process forked the handlers (the parent of every handler process).

use crate::outcomes::{Record, measured};
use crate::runtime::event::{Kind, Measured};

pub fn measure(run: &Record) -> Vec<Measured> {
    let mut parents: Vec<String> = run
        .in_step(1)
        .filter(|e| matches!(&e.kind, Kind::Spawn { child_name, .. } if child_name == "handler"))
        .map(|e| e.name.clone())
        .collect();
    parents.dedup();
    let mut found = Vec::new();
    if !parents.is_empty() {
        found.push(measured(1, "the handlers' parent", parents.join(", ")));
    }
    found
}
