//! `proclab run N --predict`: before a step runs, the lab asks the question the step answers,
//! with choices; once the step has run, it answers it from this run's events and says whether
//! the prediction was right.

use crate::runtime::event::{Event, Kind};

/// The text the human view shows for the events of predictions (and of `--repeat`, which the
/// human view of a run never receives, but every kind has its words).
pub fn shown(event: &Event) -> String {
    match &event.kind {
        Kind::Question {
            step,
            question,
            choices,
        } => {
            let mut text = format!("Predict, before step {step} runs: {question}");
            for (i, choice) in choices.iter().enumerate() {
                text.push_str(&format!("\n  {}) {choice}", i + 1));
            }
            text
        }
        Kind::Answer { given, .. } => match given {
            Some(given) => format!("Your prediction: {given}"),
            None => "No prediction (input ended).".to_string(),
        },
        Kind::Predict { .. } => String::new(),
        Kind::Outcome {
            run, seed, ended, ..
        } => format!("run {run} (seed {seed}) {ended}"),
        Kind::Summary { runs, asked, .. } => format!("{runs} of {asked} runs made"),
        _ => String::new(),
    }
}
