//! What lesson 8 measures in a run, read from its events (for `--repeat`).
//!
//! - Step 1: how many of the ten processes' additions were lost without `get_lock()` and with
//!   it. The total they should reach is the one the locked run reached; the losses spread
//!   widely, so they are counted in bins (0, 1-9, 10-99 ...).

use crate::outcomes::{Record, measured, number_after, order_of_magnitude};
use crate::runtime::event::Measured;

pub fn measure(run: &Record) -> Vec<Measured> {
    let value_after = |label: &str| {
        run.says_in_step(1)
            .find(|(_, text)| text.starts_with(label))
            .and_then(|(_, text)| number_after(text, "="))
    };
    let mut found = Vec::new();
    if let (Some(unlocked), Some(locked)) = (
        value_after("without the lock"),
        value_after("with get_lock()"),
    ) {
        found.push(measured(
            1,
            "updates lost without the lock",
            order_of_magnitude(locked - unlocked),
        ));
        // The total itself, which the lesson states as the ten processes' 10000 additions.
        found.push(measured(1, "counter.value with get_lock()", locked));
    }
    found
}
