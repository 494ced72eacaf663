//! The timeline draws what happened: a process or thread in a lab sleep is drawn asleep, never
//! running, and every lane that has events has marks, even after a `--step` run whose pauses
//! take columns. Checked on the model every drawing reads (`lives.rs`) and on the drawn lanes,
//! from the events of real runs.

mod common;

use common::Lab;
use proclab::runtime::event::{Event, Kind};
use proclab::view::lives::{Doing, Lives};
use proclab::view::timeline;

fn events_of(lab: &Lab, args: &[&str], input: &str) -> Vec<Event> {
    let finished = lab.run(args, input);
    assert!(finished.status.success(), "{}", finished.stderr);
    finished
        .stdout
        .lines()
        .filter_map(Event::from_json)
        .collect()
}

#[test]
fn a_sleeping_actor_is_never_drawn_running() {
    let lab = Lab::new();
    for lesson in ["1", "9", "11", "12"] {
        let events = events_of(&lab, &["run", lesson, "--json", "--speed", "20"], "");
        let lives = Lives::from_events(&events);
        let end = events.last().map_or(0.0, |e| e.t);
        let sleeps: Vec<&Event> = events
            .iter()
            .filter(|e| matches!(e.kind, Kind::Sleep { .. }))
            .collect();
        assert!(!sleeps.is_empty(), "lesson {lesson} sleeps somewhere");
        for sleep in sleeps {
            let Kind::Sleep { seconds } = sleep.kind else {
                unreachable!()
            };
            let (from, until) = (sleep.t, sleep.t + seconds);
            let life = lives.get(&sleep.actor());
            // Running only outside the sleep (an actor may wake into a wait of another kind,
            // or end before the sleep's end: that is no running either).
            for span in life.spans(end) {
                if span.doing == Doing::Running {
                    let inside = span.from.max(from) < span.until.min(until) - 1e-9;
                    assert!(
                        !inside || span.until <= from || span.from >= until,
                        "lesson {lesson}: {} drawn running {:.4}-{:.4} during its sleep \
                         {from:.4}-{until:.4}",
                        sleep.actor_label(),
                        span.from,
                        span.until
                    );
                }
            }
        }
    }
}

#[test]
fn every_lane_has_marks_after_a_step_run() {
    let lab = Lab::new();
    // Lesson 17's tasks live for milliseconds in a run whose prompts take columns of their own.
    let input = "\n".repeat(40);
    let events = events_of(
        &lab,
        &["run", "17", "--json", "--step", "--speed", "20"],
        &input,
    );
    let lives = Lives::from_events(&events);
    for width in [80, 120] {
        let drawn = timeline::timeline(&lives, width, true);
        let lanes: Vec<String> = drawn
            .iter()
            .map(|line| proclab::view::theme::text_of(line))
            .filter(|line| line.ends_with('│') && line.contains(" │"))
            .collect();
        assert!(lanes.len() > 5, "{lanes:?}");
        for lane in &lanes {
            // `label │cells│`: the cells between the first bar and the last.
            let cells = lane.split_once(" │").map_or("", |(_, rest)| rest);
            assert!(
                cells.chars().any(|c| "█▒▁░".contains(c)),
                "a lane without a mark at {width} columns: {lane}"
            );
        }
    }
}
