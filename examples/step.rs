//! Runs one step's Rust program: `cargo run --example step -- 4 1 [ARGS...]` runs
//! `lessons/04-.../code/step1.rs` with `ARGS`, as if it were a program of its own.
//!
//! Every `code/stepK.rs` of every lesson is compiled in here as a module (`build.rs` lists
//! them, so a new lesson's programs need no line anywhere); each keeps its `main`, made `pub`
//! so that this runner can call it. A program reads its arguments from `std::env::args()` as
//! any program does, so the runner does not call it directly: it runs itself again with the
//! step named in `PROCLAB_EXAMPLE_STEP` and only the program's own arguments, and that second
//! start calls the step's `main`. (A step that starts this same program again, as lesson 2's
//! spawn-style child does, so gets the same step.)

use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode};

/// A step program's `main`, its result made an exit status.
type Main = fn() -> ExitCode;

// Every `stepK.rs` as a module, and `STEPS`: lesson, step, `Main`.
include!(concat!(env!("OUT_DIR"), "/steps.rs"));

/// Where the step to run is named, `LESSON.STEP`.
const STEP: &str = "PROCLAB_EXAMPLE_STEP";

fn main() -> ExitCode {
    if let Some(which) = std::env::var_os(STEP) {
        let which = which.to_string_lossy();
        let found = which.split_once('.').and_then(|(lesson, step)| {
            let (lesson, step) = (lesson.parse().ok()?, step.parse().ok()?);
            STEPS.iter().find(|(l, s, _)| (*l, *s) == (lesson, step))
        });
        return match found {
            Some((_, _, main)) => main(),
            None => refuse(&format!("{STEP}={which} names no step")),
        };
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(lesson), Some(step)) = (args.first(), args.get(1)) else {
        return refuse("usage: cargo run --example step -- LESSON STEP [ARGS...]");
    };
    let (Ok(lesson), Ok(step)) = (lesson.parse::<u32>(), step.parse::<usize>()) else {
        return refuse(&format!(
            "'{lesson} {step}' is not a lesson and step number"
        ));
    };
    if !STEPS.iter().any(|(l, s, _)| (*l, *s) == (lesson, step)) {
        let known: Vec<String> = STEPS.iter().map(|(l, s, _)| format!("{l} {s}")).collect();
        return refuse(&format!(
            "lesson {lesson} has no Rust program for step {step}; there are: {}",
            known.join(", ")
        ));
    }
    let error = match std::env::current_exe() {
        Ok(me) => Command::new(me)
            .args(&args[2..])
            .env(STEP, format!("{lesson}.{step}"))
            .exec(),
        Err(error) => error,
    };
    refuse(&format!("cannot run the step: {error}"))
}

fn refuse(why: &str) -> ExitCode {
    eprintln!("step: {why}");
    ExitCode::from(2)
}
