//! What lesson 9 measures in a run, read from its events (for `--repeat` and `--predict`).
//!
//! - Step 1: how many of the seven users had to wait for a seat (a `wait` on the semaphore),
//!   and the most that were inside at once (from the users' own `gets a seat (N inside)`).
//! - Step 2: whether one green woke every car that was waiting for it: the cars asleep in a
//!   `wait` on the event when the light said `light: green` must all have woken by the next
//!   `light: red`. And what police0's `wait(timeout)` returned (from its own lines).

use std::collections::BTreeSet;

use crate::outcomes::prelude::*;

pub fn measure(run: &Record) -> Vec<Measured> {
    let mut found = Vec::new();
    if run.steps() >= 1 {
        let waited: BTreeSet<i32> = run
            .in_step(1)
            .filter(|e| matches!(&e.kind, Kind::Wait { on, .. } if on == "semaphore"))
            .map(|e| e.pid)
            .collect();
        found.push(measured(1, "users who waited for a seat", waited.len()));
        let most = run
            .says_in_step(1)
            .filter_map(|(_, text)| number_after(text, "gets a seat ("))
            .max();
        if let Some(most) = most {
            found.push(measured(1, "most users inside at once", most));
        }
    }
    if run.steps() >= 2
        && let Some(light) = run.pid_of("light")
    {
        // The cars asleep in wait() right now, and those asleep when the light last turned
        // green; a car still asleep at the next red was not woken by that green's set().
        let mut asleep: BTreeSet<i32> = BTreeSet::new();
        let mut asleep_at_green: BTreeSet<i32> = BTreeSet::new();
        let mut were_waiting_at_a_green = false;
        let mut one_left_asleep = false;
        for event in run.in_step(2) {
            match &event.kind {
                Kind::Say { text } if event.pid == light && text == "light: green" => {
                    asleep_at_green = asleep.clone();
                    were_waiting_at_a_green |= !asleep.is_empty();
                }
                Kind::Say { text } if event.pid == light && text == "light: red" => {
                    one_left_asleep |= asleep_at_green.intersection(&asleep).next().is_some();
                    asleep_at_green.clear();
                }
                Kind::Wait { on, .. } if on == "event" => {
                    asleep.insert(event.pid);
                }
                Kind::Woke { on, .. } if on == "event" => {
                    asleep.remove(&event.pid);
                }
                _ => {}
            }
        }
        let woken = if one_left_asleep {
            "not all of them"
        } else if were_waiting_at_a_green {
            "all of them"
        } else {
            "none was waiting"
        };
        found.push(measured(2, "cars one green woke, of those waiting", woken));
        let police = |line: &str| {
            run.says_in_step(2)
                .any(|(_, text)| text == format!("police0: {line}"))
        };
        let returned = if police("still red, driving through anyway") {
            "False"
        } else if police("red; waiting at most 1 s") {
            "True"
        } else {
            "not called (green on arrival)"
        };
        found.push(measured(2, "police0's wait(timeout) returned", returned));
    }
    found
}
