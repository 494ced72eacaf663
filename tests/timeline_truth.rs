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

/// Lesson 12's notes promise the workers' lanes taking turns on the GIL. On the lab screen's
/// timeline of step 3 ("N threads under one GIL"), at 80x24 and the zoom the view picks for a
/// step (its window filling the width), zoomed in with + when that leaves the workers fewer
/// than 16 columns, the two workers' lanes alternate: where one runs the other waits,
/// several times over.
#[test]
fn lesson_12s_gil_turns_are_seen_at_the_steps_zoom() {
    use proclab::view::screen::draw;
    use proclab::view::screen::keys::Key;
    use proclab::view::screen::state::State;
    use proclab::view::theme::{Theme, ThemeName};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    let lab = Lab::new();
    let input = "\n".repeat(12);
    let events = events_of(
        &lab,
        &[
            "run", "12", "--json", "--step", "--speed", "20", "--seed", "4",
        ],
        &input,
    );
    // Step 3's timeline on the lab screen, `zoom` times zoomed in (+) and `pan` times moved
    // on (→).
    let (columns, rows) = (80u16, 24u16);
    let theme = Theme::new(ThemeName::Dark);
    let screen_of = |zoom: usize, pan: usize| -> Vec<String> {
        let mut state = State::new(None, 5);
        for event in &events {
            state.add(event);
        }
        while state.pages[state.on_screen].index > 3 {
            state.key(Key::Left, 80);
        }
        assert_eq!(state.pages[state.on_screen].index, 3);
        state.key(Key::Char('l'), 80);
        for _ in 0..zoom {
            state.key(Key::Char('+'), 80);
        }
        for _ in 0..pan {
            state.key(Key::Right, 80);
        }
        let mut terminal = Terminal::new(TestBackend::new(columns, rows)).unwrap();
        terminal
            .draw(|frame| draw::draw(frame, &mut state, &theme))
            .unwrap();
        let buffer = terminal.backend().buffer();
        (0..rows)
            .map(|y| (0..columns).map(|x| buffer[(x, y)].symbol()).collect())
            .collect()
    };
    // The lanes of the two threads that took turns on the GIL in step 3, by their ids (the
    // step runs worker-1 alone first; step 4 has a worker-1 and a worker-2 of its own).
    let mut step = 0;
    let mut turn_takers: Vec<i32> = Vec::new();
    for event in &events {
        match &event.kind {
            Kind::Step { index, .. } => step = *index,
            Kind::Wait { on, .. } if step == 3 && on == "gil" => {
                let tid = event.tid.expect("a thread waits for the GIL");
                if !turn_takers.contains(&tid) {
                    turn_takers.push(tid);
                }
            }
            _ => {}
        }
    }
    if turn_takers.len() < 2 {
        eprintln!(
            "skipped: only {} thread(s) waited for the GIL in this run (a busy machine ran the \
             workers one after the other)",
            turn_takers.len()
        );
        return;
    }
    assert_eq!(
        turn_takers.len(),
        2,
        "the two workers wait for the GIL in step 3"
    );
    let lane = |screen: &[String], tid: i32| -> Option<Vec<char>> {
        let id = format!(" {tid} ");
        let row = screen
            .iter()
            .find(|row| row.contains(&id) && row.contains('│'))?;
        let cells = row.split_once('│').map_or("", |(_, rest)| rest);
        Some(cells.trim_end_matches([' ', '│']).chars().collect())
    };
    // At the step's own zoom first. The step also runs the job alone first and in CPython
    // after (seconds, more on a busy machine), so the two workers may be a few columns of
    // it: then zoomed in (+) and moved on (→) as a teacher would, until they share 16.
    let mut found = None;
    'search: for zoom in 0..=6 {
        for pan in 0..=(2usize << zoom) {
            let screen = screen_of(zoom, pan);
            let (Some(one), Some(two)) =
                (lane(&screen, turn_takers[0]), lane(&screen, turn_takers[1]))
            else {
                continue;
            };
            let together = one
                .iter()
                .zip(&two)
                .filter(|(a, b)| **a != ' ' && **b != ' ')
                .count();
            if together >= 16 {
                if zoom > 0 {
                    eprintln!("the workers' turns were seen after + {zoom} time(s), → {pan}");
                }
                found = Some((screen, one, two));
                break 'search;
            }
        }
    }
    let (screen, one, two) = found.expect("the two workers' lanes, 16 columns together");
    // How many times the GIL changed hands in the step, from the events: a machine busy
    // enough gives the waiting thread so little CPU that the turns are few and long.
    let mut step = 0;
    let mut handovers = 0;
    for event in &events {
        match &event.kind {
            Kind::Step { index, .. } => step = *index,
            Kind::Woke { on, got: true, .. } if step == 3 && on == "gil" => handovers += 1,
            _ => {}
        }
    }
    if handovers < 8 {
        eprintln!(
            "skipped: the GIL changed hands only {handovers} times in this run (a busy \
             machine), too few to judge its turns on the timeline"
        );
        return;
    }
    // Columns where one worker runs while the other waits for the GIL, and the changes of
    // turn between them.
    let mut turns = 0;
    let mut last_runner = None;
    for (a, b) in one.iter().zip(&two) {
        let runner = match (a, b) {
            ('█', '▒') => Some(1),
            ('▒', '█') => Some(2),
            _ => None,
        };
        if runner.is_some() && last_runner.is_some() && runner != last_runner {
            turns += 1;
        }
        if runner.is_some() {
            last_runner = runner;
        }
    }
    // Three at least: a turn may fall across two columns, or share one with the next, and a
    // busy machine makes some turns long; but the turns are there to be seen.
    assert!(
        turns >= 3,
        "{turns} changes of turn between the workers' lanes ({handovers} handovers):\n{}",
        screen.join("\n")
    );
}
