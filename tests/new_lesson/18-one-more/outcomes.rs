//! What the throw-away lesson 18 measures: whether its child said its line.

use crate::outcomes::prelude::*;

pub fn measure(run: &Record) -> Vec<Measured> {
    let said = run.first_say("the new lesson's child runs").is_some();
    vec![measured(1, "the child ran", said)]
}
