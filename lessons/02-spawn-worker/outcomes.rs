//! What lesson 2 measures in a run, read from its events (for `--repeat` and `--predict`).
//!
//! - Step 1: whose line comes first, the main process's 主进程 or one of the workers' (a race
//!   between a parent carrying on after `fork` and a child starting).
//! - Step 2: which process runs the worker when `run()` is called directly.

use crate::outcomes::prelude::*;

pub fn measure(run: &Record) -> Vec<Measured> {
    let mut found = Vec::new();
    let first_in_step_1 = run
        .says_in_step(1)
        .find(|(e, text)| e.pid != run.main_pid() || text.contains("主进程"));
    if let Some((event, _)) = first_in_step_1 {
        let first = if event.pid == run.main_pid() {
            "主进程".to_string()
        } else {
            event.name.clone()
        };
        found.push(measured(1, "first line of step 1", first));
    }
    // `run()` called directly: the line "run-direct is working" said by whom?
    let direct = run
        .says_in_step(2)
        .find(|(_, text)| text.contains("run-direct is working"));
    if let Some((event, _)) = direct {
        let who = if event.pid == run.main_pid() {
            "the main process"
        } else {
            "a new child process"
        };
        found.push(measured(2, "run() called directly runs in", who));
    }
    found
}
