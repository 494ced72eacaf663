//! Every lesson, stopped part-way, leaves nothing behind (no process, zombie, temporary file
//! or shared memory): `q` at each step's prompt of `--step`, one run a step, and Ctrl-C at a
//! random moment of a `--json` run (the moment is printed, so a failure can be replayed). One
//! test per lesson folder, so a new lesson is checked with no line added here; what is
//! particular to a lesson (Ctrl-C while its Manager serves, while its orphan runs...) stays in
//! its own `tests/lesson_NN.rs`.

mod common;

use common::Lab;

fn stopped_anywhere(lesson: &str) {
    let lab = Lab::new();
    // A full run first, to know how many steps and events a run has.
    let full = lab.lesson(lesson, &[]);
    let steps = full.of_kind("step").len();
    assert!(steps >= 1, "lesson {lesson} has no step");
    lab.quit_at_each_step(lesson, steps);
    // Before the last tenth of the run, so that it is normally still running; a run that has
    // ended already when the signal comes passes too (it left nothing either).
    let moment = common::random_moment(full.0.len() * 9 / 10);
    eprintln!("lesson {lesson}: Ctrl-C after event {moment}");
    lab.interrupt_after_events(&["run", lesson, "--json", "--speed", "20"], moment);
}

macro_rules! stopped {
    ($($test:ident => $number:literal,)*) => {
        $(
            #[test]
            fn $test() {
                stopped_anywhere($number);
            }
        )*
    };
}

include!(concat!(env!("OUT_DIR"), "/each_lesson.rs"));
each_lesson!(stopped);
