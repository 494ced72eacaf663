//! The lab screen (the full-screen view of `run --step`) drawn on ratatui's `TestBackend`:
//! its layout at 80x24 (the design size), 120x40, 200x50 and the 60x16 minimum; what each key
//! does, and above all what it must not do (an Enter typed while a step runs, or on an
//! earlier page, answers nothing), with events made here; then the real binary in a real
//! terminal (tmux) at 80x24, every lesson in both languages.

mod common;

use std::time::{Duration, Instant};

use common::Lab;
use common::tmux::Tmux;
use proclab::runtime::event::{Event, Kind, Prompt};
use proclab::view::notes::Notes;
use proclab::view::screen::draw;
use proclab::view::screen::keys::Key;
use proclab::view::screen::state::State;
use proclab::view::theme::{Theme, ThemeName};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const NOTES: &str = "# Lesson\n\n## First step\n\nThe notes of the first step say what to \
                     look for.\n\n## Second step\n\nThe second step's notes.\n";

fn event(t: f64, name: &str, pid: i32, kind: Kind) -> Event {
    Event {
        t,
        pid,
        ppid: 1,
        tid: None,
        name: name.into(),
        thread: None,
        task: None,
        kind,
    }
}

fn say(t: f64, name: &str, pid: i32, text: &str) -> Event {
    event(
        t,
        name,
        pid,
        Kind::Say {
            text: text.to_string(),
        },
    )
}

fn pause(t: f64) -> Event {
    event(
        t,
        "main",
        10,
        Kind::Pause {
            seconds: 0.5,
            quit: false,
        },
    )
}

fn prompt(t: f64) -> Event {
    event(t, "main", 10, Kind::prompt(Prompt::Enter))
}

/// A run that has shown step 1's title, run it (a crowd of 20 buyers among its lines), and
/// waits at the prompt after it.
fn after_step_one() -> State {
    let mut state = State::new(Some(Notes::parse(NOTES)), 2);
    let mut events = vec![
        event(
            0.0,
            "proclab",
            1,
            Kind::Lesson {
                number: 5,
                slug: "process-lock".into(),
                title: "A lock".into(),
                seed: 7,
                speed: 20.0,
                lang: "en".into(),
            },
        ),
        event(
            0.0,
            "proclab",
            1,
            Kind::Spawn {
                child: 10,
                child_name: "main".into(),
            },
        ),
        event(0.0, "main", 10, Kind::Start),
        event(
            0.01,
            "main",
            10,
            Kind::Step {
                index: 1,
                title: "First step".into(),
            },
        ),
        prompt(0.02),
        pause(0.5),
        say(0.51, "main", 10, "the step's own first line"),
    ];
    for buyer in 0..20 {
        let pid = 100 + buyer;
        let name = format!("buyer-{buyer}");
        events.push(event(
            0.52,
            "main",
            10,
            Kind::Spawn {
                child: pid,
                child_name: name.clone(),
            },
        ));
        events.push(event(0.53, &name, pid, Kind::Start));
        events.push(event(0.54, &name, pid, Kind::Done { code: 0 }));
    }
    events.push(event(
        0.55,
        "main",
        10,
        Kind::Spawn {
            child: 11,
            child_name: "alex".into(),
        },
    ));
    events.push(event(0.56, "alex", 11, Kind::Start));
    events.push(say(0.6, "alex", 11, "alex got the ticket"));
    events.push(event(
        0.61,
        "proclab",
        1,
        Kind::Note {
            text: "Only one buyer got the ticket: the lock let one in at a time.".into(),
        },
    ));
    events.push(prompt(0.62));
    for event in &events {
        state.add(event);
    }
    state
}

/// The screen as text, one string per row.
fn drawn(state: &mut State, columns: u16, rows: u16) -> Vec<String> {
    let mut terminal = Terminal::new(TestBackend::new(columns, rows)).unwrap();
    let theme = Theme::new(ThemeName::Dark);
    terminal
        .draw(|frame| draw::draw(frame, state, &theme))
        .unwrap();
    let buffer = terminal.backend().buffer();
    (0..rows)
        .map(|y| {
            (0..columns)
                .map(|x| buffer[(x, y)].symbol().to_string())
                .collect::<String>()
        })
        .collect()
}

fn shows(screen: &[String], text: &str) -> bool {
    screen.iter().any(|row| row.contains(text))
}

#[test]
fn at_every_size_the_step_its_story_and_its_result_are_on_one_screen() {
    for (columns, rows) in [(80, 24), (120, 40), (200, 50), (60, 16)] {
        let mut state = after_step_one();
        let screen = drawn(&mut state, columns, rows);
        let all = screen.join("\n");
        assert!(screen[0].contains("Step 1 of 2: First step"), "{all}");
        // The result is pinned, and the footer says what Enter does now.
        assert!(
            shows(&screen, "Result of step 1"),
            "{columns}x{rows}:\n{all}"
        );
        assert!(
            shows(&screen, "Only one buyer got"),
            "{columns}x{rows}:\n{all}"
        );
        assert!(
            screen[rows as usize - 1].contains("Enter: step 2"),
            "{columns}x{rows}:\n{all}"
        );
        // The story: the step's own lines, and the crowd's 60 lifecycle lines as one.
        assert!(
            shows(&screen, "alex got the ticket"),
            "{columns}x{rows}:\n{all}"
        );
        assert!(
            shows(&screen, "60 lines of 20 buyer* lives"),
            "{columns}x{rows}:\n{all}"
        );
        assert!(!shows(&screen, "buyer-3"), "{columns}x{rows}:\n{all}");
        // From 120 columns the notes are beside the output.
        assert_eq!(
            shows(&screen, "say what to"),
            columns >= 120,
            "{columns}x{rows}:\n{all}"
        );
    }
}

#[test]
fn below_the_minimum_one_line_says_so() {
    let mut state = after_step_one();
    let screen = drawn(&mut state, 59, 15);
    assert!(screen[0].contains("59x15 is too small"), "{screen:?}");
    assert!(screen[1..].iter().all(|row| row.trim().is_empty()));
}

#[test]
fn a_shows_every_line_and_f_one_lane() {
    let mut state = after_step_one();
    state.key(Key::Char('a'), 80);
    let screen = drawn(&mut state, 200, 50);
    assert!(shows(&screen, "buyer-19"), "{}", screen.join("\n"));
    state.key(Key::Char('a'), 80);
    state.key(Key::Char('f'), 80);
    let screen = drawn(&mut state, 200, 50);
    assert!(shows(&screen, "[main]"), "{}", screen.join("\n"));
    assert!(!shows(&screen, "alex got"), "{}", screen.join("\n"));
}

/// At the end of a step the output follows its tail; ↑ and PgUp must move up from there
/// (they did nothing: they counted from "past the end", and the draw clamped them back).
#[test]
fn up_and_pgup_scroll_back_from_the_tail() {
    let mut state = after_step_one();
    // Every line: 60 lifecycle lines of the buyers, more than a screen.
    state.key(Key::Char('a'), 80);
    let first_shown = |screen: &[String]| place(screen).map(|(first, _, _)| first);
    let screen = drawn(&mut state, 80, 24);
    let (tail, last, total) = place(&screen).expect("a page taller than the screen");
    assert_eq!(last, total, "it follows its tail:\n{}", screen.join("\n"));
    state.key(Key::Up, 80);
    let screen = drawn(&mut state, 80, 24);
    assert_eq!(
        first_shown(&screen),
        Some(tail - 1),
        "{}",
        screen.join("\n")
    );
    state.key(Key::End, 80);
    drawn(&mut state, 80, 24);
    state.key(Key::PageUp, 80);
    let screen = drawn(&mut state, 80, 24);
    let rows = last - tail + 1;
    assert_eq!(
        first_shown(&screen),
        Some(tail - (rows - 1)),
        "PgUp keeps one row of the screen before:\n{}",
        screen.join("\n")
    );
    // And ↓ back at the tail follows it again.
    state.key(Key::End, 80);
    let screen = drawn(&mut state, 80, 24);
    assert_eq!(first_shown(&screen), Some(tail), "{}", screen.join("\n"));
}

/// Lesson 5's rounds fork buyer-1 to buyer-4 again and again: twenty buyers with four names
/// are a crowd all the same (they were counted by name, as four, and never folded).
#[test]
fn a_crowd_is_counted_by_pid_not_by_name() {
    let mut state = State::new(None, 1);
    state.add(&event(
        0.0,
        "main",
        10,
        Kind::Step {
            index: 1,
            title: "Rounds".into(),
        },
    ));
    state.add(&prompt(0.0));
    state.add(&pause(0.1));
    for round in 0..5 {
        for buyer in 1..=4 {
            let pid = 100 + round * 4 + buyer;
            let name = format!("buyer-{buyer}");
            let t = 0.2 + round as f64 * 0.01;
            state.add(&event(
                t,
                "main",
                10,
                Kind::Spawn {
                    child: pid,
                    child_name: name.clone(),
                },
            ));
            state.add(&event(t, &name, pid, Kind::Start));
            state.add(&event(t, &name, pid, Kind::Done { code: 0 }));
        }
    }
    // The main process's join of a buyer is a line of the buyer's life too.
    let join = |t: f64, woke: bool| {
        let (on, object) = ("join".to_string(), "buyer-4".to_string());
        let kind = match woke {
            false => Kind::Wait { on, object },
            true => Kind::Woke {
                on,
                object,
                after: 0.01,
                got: true,
                ended: None,
            },
        };
        event(t, "main", 10, kind)
    };
    state.add(&join(0.3, false));
    state.add(&join(0.31, true));
    state.add(&say(0.32, "main", 10, "round 5: 1 of 4 got the ticket"));
    state.add(&prompt(0.5));
    let screen = drawn(&mut state, 80, 24);
    assert!(
        shows(&screen, "62 lines of 20 buyer* lives"),
        "{}",
        screen.join("\n")
    );
    assert!(!shows(&screen, "join buyer-4"), "{}", screen.join("\n"));
    assert!(shows(&screen, "round 5: 1 of 4"), "{}", screen.join("\n"));
}

/// A note is Markdown: its code marks are not drawn, on the page or in its result (lesson
/// 12's note said "one `wait` and one `woke` line on `gil`" with the backticks).
#[test]
fn a_note_is_drawn_without_its_markdown_marks() {
    let mut state = State::new(None, 1);
    state.add(&event(
        0.0,
        "main",
        10,
        Kind::Step {
            index: 1,
            title: "GIL".into(),
        },
    ));
    state.add(&prompt(0.0));
    state.add(&pause(0.1));
    state.add(&event(
        0.2,
        "main",
        10,
        Kind::Note {
            text: "each wait is one `wait` and one `woke` line on `gil`".into(),
        },
    ));
    state.add(&prompt(0.3));
    let screen = drawn(&mut state, 80, 24);
    let notes: Vec<&String> = screen
        .iter()
        .filter(|row| row.contains("each wait"))
        .collect();
    assert_eq!(
        notes.len(),
        2,
        "in the output and the result: {}",
        screen.join("\n")
    );
    for row in notes {
        assert!(row.contains("one wait and one woke line on gil"), "{row}");
    }
}

#[test]
fn enter_answers_only_the_prompt_of_the_current_page_and_only_once() {
    let mut state = State::new(Some(Notes::parse(NOTES)), 2);
    state.add(&event(
        0.0,
        "main",
        10,
        Kind::Step {
            index: 1,
            title: "First step".into(),
        },
    ));
    // Typed before the prompt: dropped.
    assert!(state.key(Key::Enter, 80).is_empty());
    state.add(&prompt(0.1));
    assert_eq!(state.key(Key::Enter, 80), b"\n");
    // A second Enter before the main process took the first: nothing more.
    assert!(state.key(Key::Enter, 80).is_empty());
    state.add(&pause(0.6));
    // The step runs: Enter does nothing, and the footer says why.
    assert!(state.key(Key::Enter, 80).is_empty());
    let screen = drawn(&mut state, 80, 24);
    assert!(screen[23].contains("still running"), "{}", screen[23]);
    state.add(&say(0.7, "main", 10, "first"));
    state.add(&prompt(0.8));
    state.add(&pause(0.9));
    state.add(&event(
        1.0,
        "main",
        10,
        Kind::Step {
            index: 2,
            title: "Second step".into(),
        },
    ));
    state.add(&prompt(1.1));
    // Back to step 1's page: its output is there, and Enter does not run step 2 from it.
    state.key(Key::Left, 80);
    let screen = drawn(&mut state, 80, 24);
    assert!(screen[0].contains("Step 1 of 2"), "{}", screen.join("\n"));
    assert!(shows(&screen, "first"), "{}", screen.join("\n"));
    assert!(state.key(Key::Enter, 80).is_empty());
    state.key(Key::Right, 80);
    assert_eq!(state.key(Key::Enter, 80), b"\n");
}

#[test]
fn a_prediction_is_asked_in_the_view_and_answered_with_its_number() {
    let mut state = State::new(None, 1);
    state.add(&event(
        0.0,
        "main",
        10,
        Kind::Step {
            index: 1,
            title: "First step".into(),
        },
    ));
    state.add(&event(
        0.1,
        "main",
        10,
        Kind::Question {
            step: 1,
            question: "How many buyers get a ticket?".into(),
            choices: vec!["1".into(), "2 to 5".into()],
        },
    ));
    state.add(&event(0.1, "main", 10, Kind::prompt(Prompt::Prediction)));
    let screen = drawn(&mut state, 80, 24);
    assert!(shows(&screen, "How many buyers"), "{}", screen.join("\n"));
    assert!(shows(&screen, "2) 2 to 5"), "{}", screen.join("\n"));
    assert!(state.key(Key::Enter, 80).is_empty());
    assert!(state.key(Key::Char('3'), 80).is_empty(), "no third choice");
    assert_eq!(state.key(Key::Char('2'), 80), b"2\n");
    // The prediction is pinned, and only then does Enter run the step.
    state.add(&pause(0.2));
    state.add(&event(
        0.2,
        "main",
        10,
        Kind::Answer {
            step: 1,
            given: Some("2 to 5".into()),
        },
    ));
    state.add(&prompt(0.2));
    let screen = drawn(&mut state, 80, 24);
    assert!(
        shows(&screen, "Your prediction: 2 to 5"),
        "{}",
        screen.join("\n")
    );
    assert!(shows(&screen, "Enter: run step 1"), "{}", screen.join("\n"));
    assert_eq!(state.key(Key::Enter, 80), b"\n");
    state.add(&pause(0.3));
    state.add(&say(0.4, "main", 10, "three buyers got one"));
    let screen = drawn(&mut state, 80, 24);
    assert!(
        shows(&screen, "Your prediction: 2 to 5"),
        "while it runs: {}",
        screen.join("\n")
    );
    state.add(&event(
        0.5,
        "proclab",
        1,
        Kind::Predict {
            step: 1,
            question: "How many buyers get a ticket?".into(),
            choices: vec!["1".into(), "2 to 5".into()],
            given: Some("2 to 5".into()),
            observed: "2 to 5".into(),
            cpython: None,
            right: true,
            why: String::new(),
        },
    ));
    state.add(&prompt(0.5));
    let screen = drawn(&mut state, 80, 24);
    assert!(shows(&screen, "Result of step 1"), "{}", screen.join("\n"));
    assert!(
        shows(&screen, "Your prediction: 2 to 5"),
        "{}",
        screen.join("\n")
    );
    assert!(
        shows(&screen, "Right."),
        "the verdict: {}",
        screen.join("\n")
    );
}

#[test]
fn q_answers_a_prompt_with_q_and_asks_nothing() {
    let mut state = after_step_one();
    assert_eq!(state.key(Key::Char('q'), 80), b"q\n");
    assert!(!state.stop_asked);
    let mut running = State::new(None, 1);
    running.add(&say(0.1, "main", 10, "working"));
    assert!(running.key(Key::Char('q'), 80).is_empty());
    assert!(running.stop_asked, "q while a step runs stops the run");
}

#[test]
fn the_timeline_view_draws_the_step_and_the_keys_list_every_key() {
    let mut state = after_step_one();
    state.key(Key::Char('l'), 80);
    let screen = drawn(&mut state, 80, 24);
    assert!(shows(&screen, "Timeline:"), "{}", screen.join("\n"));
    assert!(shows(&screen, "alex"), "{}", screen.join("\n"));
    state.key(Key::Escape, 80);
    state.key(Key::Char('?'), 80);
    let screen = drawn(&mut state, 80, 24);
    for key in ["Enter", "← → p n", "Tab", "t  l", "+ -", "q "] {
        assert!(shows(&screen, key), "{key}: {}", screen.join("\n"));
    }
}

/// How many steps lesson `number` has: the `## ` sections of its notes.
fn steps_of(number: u32) -> usize {
    let prefix = format!("{number:02}-");
    let lessons = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("lessons");
    let folder = std::fs::read_dir(lessons)
        .unwrap()
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .find(|name| name.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no folder for lesson {number}"));
    common::notes_headings(&folder).len()
}

/// Waits until the screen satisfies `ready`, and returns it.
fn wait_for(tmux: &Tmux, what: &str, ready: impl Fn(&[String]) -> bool) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let screen = tmux.rows();
        if ready(&screen) {
            return screen;
        }
        assert!(
            Instant::now() < deadline,
            "waited in vain for {what}:\n{}",
            screen.join("\n")
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The words of the screen in each language: the title of step `k`, the prompt that runs
/// it, and the prompts after it.
struct Words {
    zh: bool,
}

impl Words {
    fn title(&self, k: usize) -> String {
        match self.zh {
            false => format!("Step {k} of"),
            true => format!("第 {k} 步（共"),
        }
    }
    fn run(&self, k: usize) -> String {
        match self.zh {
            false => format!("Enter: run step {k}"),
            true => format!("Enter：运行第 {k} 步"),
        }
    }
    fn after(&self, k: usize, last: bool) -> String {
        match (self.zh, last) {
            (false, false) => format!("Enter: step {}", k + 1),
            (false, true) => "Enter: finish".into(),
            (true, false) => format!("Enter：第 {} 步", k + 1),
            (true, true) => "Enter：结束".into(),
        }
    }
}

/// The terminal's modes as the shell has them again: lines, and echo.
fn restored(tmux: &Tmux) -> bool {
    let tty = tmux.run(&["display-message", "-p", "#{pane_tty}"]);
    let tty = String::from_utf8_lossy(&tty.stdout).trim().to_string();
    let modes = std::process::Command::new("stty")
        .args(["-F", &tty, "-a"])
        .output()
        .unwrap();
    let modes = String::from_utf8_lossy(&modes.stdout).into_owned();
    let words: Vec<&str> = modes.split_whitespace().collect();
    words.contains(&"icanon") && words.contains(&"echo")
}

/// Runs lesson `number` full screen at 80x24 and checks each step's page: its title, an
/// Enter typed while it runs (right after the one that runs it) skips nothing, its end, the
/// page before it (←) and back (→); at the end, the summary on the normal screen and the
/// terminal as it was. With `read_pages`, each page is also read whole at its step's end
/// (scrolled from top to bottom), and every say line and note of the step must be on it.
fn every_page_of(number: u32, zh: bool, read_pages: bool) {
    let lab = Lab::new();
    let lang = if zh { "zh" } else { "en" };
    let name = format!("{number}-{lang}");
    // The run's own events, for what each step said: its Chrome trace has every say and note.
    let trace = lab.tmp.join(format!("{name}.json"));
    let command = format!(
        "{} run {number} --step --speed 20 --seed 4 --lang {lang} --export {}",
        common::BIN,
        trace.display()
    );
    let Some(tmux) = Tmux::start(&lab, &name, &command, (80, 24)) else {
        eprintln!("skipped: tmux is not installed, so no real terminal to check");
        return;
    };
    let words = Words { zh };
    let steps = steps_of(number);
    // What each step's page showed at its end, scrolled from its top to its bottom.
    let mut pages_read: Vec<String> = Vec::new();
    let footer = |screen: &[String]| screen.get(23).cloned().unwrap_or_default();
    for k in 1..=steps {
        let label = format!("lesson {number} ({lang}) step {k}");
        let screen = wait_for(&tmux, &format!("{label}: its run prompt"), |s| {
            footer(s).contains(&words.run(k))
        });
        assert!(
            screen[0].contains(&words.title(k)),
            "{label}:\n{}",
            screen.join("\n")
        );
        // Two Enters at once: the first runs the step, the second is typed while it runs.
        tmux.run(&["send-keys", "Enter", "Enter"]);
        let last = k == steps;
        let screen = wait_for(&tmux, &format!("{label}: its end"), |s| {
            footer(s).contains(&words.after(k, last))
        });
        assert!(
            screen[0].contains(&words.title(k)),
            "{label}: the Enter typed during the step moved on:\n{}",
            screen.join("\n")
        );
        if read_pages {
            pages_read.push(read_the_page(&tmux, &label));
        }
        if k > 1 {
            tmux.run(&["send-keys", "Left"]);
            wait_for(&tmux, &format!("{label}: the page before"), |s| {
                s[0].contains(&words.title(k - 1))
            });
            tmux.run(&["send-keys", "Right"]);
            wait_for(&tmux, &format!("{label}: its page again"), |s| {
                s[0].contains(&words.title(k)) && footer(s).contains(&words.after(k, last))
            });
        }
        tmux.run(&["send-keys", "Enter"]);
    }
    wait_for(&tmux, &format!("lesson {number} ({lang}): its end"), |s| {
        s.iter().any(|l| l.starts_with("EXITED"))
    });
    let shown = tmux.history(2000);
    assert!(shown.contains("EXITED 0"), "{shown}");
    let tree = if zh { "进程树" } else { "Process tree" };
    assert!(
        shown.contains(tree),
        "the summary is on the normal screen:\n{shown}"
    );
    assert!(
        restored(&tmux),
        "lesson {number} ({lang}): the terminal is not restored"
    );
    // Every say line and note of each step was on its page, or reached by scrolling it.
    let said = match read_pages {
        true => said_in_each_step(&trace),
        false => Vec::new(),
    };
    for (k, said) in said.iter().enumerate() {
        for text in said {
            assert!(
                pages_read[k].contains(&squeezed(text)),
                "lesson {number} ({lang}) step {}: {text:?} is not on its page:\n{}",
                k + 1,
                pages_read[k]
            );
        }
    }
}

/// `text` without its white space, nor the marks of a note's inline Markdown (`code`,
/// *emphasis*), which the screen draws without them: how a line reads whatever its wrapping.
fn squeezed(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '`' | '*'))
        .collect()
}

/// Where the output half is in a page taller than itself, from the line under it
/// (`lines 11–22 of 57`): the first and last lines shown, and how many there are.
fn place(screen: &[String]) -> Option<(usize, usize, usize)> {
    let row = screen.iter().find(|row| row.contains(SCROLL_KEYS))?;
    let numbers: Vec<usize> = row
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    match numbers[..] {
        [first, last, total, ..] => Some((first, last, total)),
        _ => None,
    }
}

/// The keys named in the line under an output taller than its half.
const SCROLL_KEYS: &str = "PgUp PgDn Home End";

/// The page on screen, read whole: from its top (Home), a screen at a time (PgDn) down to
/// its last line, as the line under the output says, each line put in its place; each row
/// without the time and name before its `│`, all squeezed into one string. Then back to its
/// tail (End).
fn read_the_page(tmux: &Tmux, label: &str) -> String {
    let text_of = |row: &String| -> String {
        squeezed(row.split_once("│ ").map_or(row.as_str(), |(_, text)| text))
    };
    let screen = tmux.rows();
    if place(&screen).is_none() {
        // The page fits: it is all on the screen (not the title, row 0, nor the footer).
        return screen[1..screen.len() - 1].iter().map(text_of).collect();
    }
    // The output's rows: under the title, down to the line that says where they are.
    let mut lines: Vec<String> = Vec::new();
    let mut keep = |screen: &[String]| {
        let (first, last, total) = place(screen).expect("where the output is");
        lines.resize(lines.len().max(total), String::new());
        for (i, row) in screen[1..].iter().take(last + 1 - first).enumerate() {
            lines[first - 1 + i] = text_of(row);
        }
    };
    tmux.run(&["send-keys", "Home"]);
    let mut screen = wait_for(tmux, &format!("{label}: the top of its page"), |s| {
        place(s).is_some_and(|(first, _, _)| first == 1)
    });
    keep(&screen);
    while let Some((first, last, total)) = place(&screen)
        && last < total
    {
        tmux.run(&["send-keys", "PgDn"]);
        screen = wait_for(tmux, &format!("{label}: its page further down"), |s| {
            place(s).is_some_and(|(now, _, _)| now > first)
        });
        keep(&screen);
        // PgDn keeps the last row in view. Once, on a loaded 2-CPU machine, the screen
        // after one PgDn began a whole screen further down; the rows skipped are read
        // with ↑ (and the jump said), so that the check below is about what the page
        // holds, not about how it was scrolled.
        let mut now = place(&screen).map_or(0, |(now, _, _)| now);
        while now > last + 1 {
            eprintln!("{label}: after line {last}, the screen began at {now}; reading back");
            let ups = vec!["Up"; now - last];
            tmux.run(&[&["send-keys"][..], &ups[..]].concat());
            screen = wait_for(tmux, &format!("{label}: the rows skipped"), |s| {
                place(s).is_some_and(|(at, _, _)| at != now)
            });
            keep(&screen);
            now = place(&screen).map_or(0, |(now, _, _)| now);
        }
    }
    tmux.run(&["send-keys", "End"]);
    lines.concat()
}

/// The say lines and notes of each step of a run, from its Chrome trace (`--export`).
fn said_in_each_step(trace: &std::path::Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(trace).expect("the run's trace");
    let trace: serde_json::Value = serde_json::from_str(&text).expect("a trace");
    let mut events: Vec<&serde_json::Value> = trace["traceEvents"]
        .as_array()
        .expect("traceEvents")
        .iter()
        .collect();
    events.sort_by(|a, b| a["ts"].as_f64().partial_cmp(&b["ts"].as_f64()).unwrap());
    let mut steps: Vec<Vec<String>> = Vec::new();
    for event in events {
        match event["cat"].as_str() {
            Some("step") => steps.push(Vec::new()),
            Some("say" | "note") => {
                if let (Some(step), Some(text)) = (steps.last_mut(), event["args"]["text"].as_str())
                {
                    step.push(text.to_string());
                }
            }
            _ => {}
        }
    }
    steps
}

#[test]
fn at_80x24_every_page_of_every_lesson_stays_in_both_languages() {
    let mut runs: Vec<(u32, bool)> = (1..=17).flat_map(|n| [(n, false), (n, true)]).collect();
    // The lessons whose pages take longest to read (hundreds of lines: lesson 5's 190
    // buyers, 13's, 16's and 4's clients) are taken first, so that no terminal starts one
    // when the others are nearly done.
    let longest = [4, 16, 13, 5];
    runs.sort_by_key(|(number, _)| longest.iter().position(|n| n == number));
    let runs = std::sync::Arc::new(std::sync::Mutex::new(runs));
    // Once a run has failed, the other terminals take no new run.
    let failed = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Eight terminals at a time, each taking the next run when it is done: the runs mostly
    // wait (for their steps, at --speed 20), so eight share two CPUs well.
    let terminals: Vec<_> = (0..8)
        .map(|_| {
            let (runs, failed) = (runs.clone(), failed.clone());
            std::thread::spawn(move || {
                while !failed.load(std::sync::atomic::Ordering::SeqCst) {
                    // Taken in a statement of its own, so that the lock is not held while
                    // the run is checked.
                    let next = runs.lock().unwrap().pop();
                    let Some((number, zh)) = next else { break };
                    // Reading every page whole costs a PgDn a screen: each lesson's pages
                    // are read in one language, English for odd lessons, Chinese for even.
                    let read_pages = (number % 2 == 1) != zh;
                    let run = std::panic::catch_unwind(|| every_page_of(number, zh, read_pages));
                    if let Err(panic) = run {
                        failed.store(true, std::sync::atomic::Ordering::SeqCst);
                        std::panic::resume_unwind(panic);
                    }
                }
            })
        })
        .collect();
    // Every terminal is joined before a failure is reported: a test that ends while other
    // terminals still run leaves their tmux servers and folders behind (their clean-up is in
    // `Drop`, which never runs once the process exits).
    let ended: Vec<_> = terminals
        .into_iter()
        .map(|terminal| terminal.join())
        .collect();
    for end in ended {
        if let Err(panic) = end {
            std::panic::resume_unwind(panic);
        }
    }
}

#[test]
fn q_and_ctrl_c_give_the_terminal_back_with_the_summary() {
    for (key, said) in [("q", "lesson stopped at step 1"), ("C-c", "interrupted")] {
        let lab = Lab::new();
        let command = format!("{} run 5 --step --speed 20 --seed 4", common::BIN);
        let Some(tmux) = Tmux::start(&lab, &format!("stop-{key}"), &command, (80, 24)) else {
            eprintln!("skipped: tmux is not installed, so no real terminal to check");
            return;
        };
        wait_for(&tmux, "the first prompt", |s| {
            s.get(23).is_some_and(|l| l.contains("Enter: run step 1"))
        });
        if key == "C-c" {
            // Ctrl-C while step 1 runs.
            tmux.run(&["send-keys", "Enter"]);
        }
        tmux.run(&["send-keys", key]);
        wait_for(&tmux, "the end", |s| {
            s.iter().any(|l| l.starts_with("EXITED"))
        });
        let shown = tmux.history(2000);
        assert!(shown.contains(said), "{key}: {shown}");
        assert!(shown.contains("Process tree"), "{key}: {shown}");
        assert!(restored(&tmux), "{key}: the terminal is not restored");
    }
}

/// The supervisor of the run tagged `tag`: its process that no process of the run started
/// (its parent is `timeout`, which carries no tag).
fn supervisor_of(tag: &str) -> Option<i32> {
    let alive = common::alive_of_run(tag);
    let parent = |stat: &str| -> i32 {
        let after_name = &stat[stat.rfind(')').map_or(0, |i| i + 1)..];
        after_name
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    };
    alive
        .iter()
        .find(|(_, stat)| !alive.iter().any(|(pid, _)| *pid == parent(stat)))
        .map(|(pid, _)| *pid)
}

#[test]
fn a_killed_supervisor_gives_the_terminal_back() {
    let lab = Lab::new();
    let command = format!("{} run 5 --step --speed 20 --seed 4", common::BIN);
    let Some(tmux) = Tmux::start(&lab, "kill-9", &command, (80, 24)) else {
        eprintln!("skipped: tmux is not installed, so no real terminal to check");
        return;
    };
    wait_for(&tmux, "the first prompt", |s| {
        s.get(23).is_some_and(|l| l.contains("Enter: run step 1"))
    });
    // Killed while step 1 runs: nothing of the lab can catch SIGKILL.
    tmux.run(&["send-keys", "Enter"]);
    let supervisor = supervisor_of(&lab.tag).expect("the supervisor is running");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(supervisor),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let killed = Instant::now();
    let pane = |format: &str| {
        let shown = tmux.run(&["display-message", "-p", format]);
        String::from_utf8_lossy(&shown.stdout).trim().to_string()
    };
    let given_back = || restored(&tmux) && pane("#{alternate_on}") == "0";
    while !given_back() && killed.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(40));
    }
    assert!(
        restored(&tmux),
        "after kill -9 of the supervisor, the terminal has no echo or no lines"
    );
    assert_eq!(
        pane("#{alternate_on}"),
        "0",
        "still on the alternate screen"
    );
    assert_eq!(pane("#{cursor_flag}"), "1", "the cursor is still hidden");
    lab.wait_until_gone(killed, Duration::from_secs(10));
}

/// Below the lab screen's 60 columns, the line view: at 40 columns every line of the run and
/// every prompt fits, the prompt's keys whole (the 40-column prefix took the whole line, and
/// prompts were cut before their keys).
#[test]
fn at_40_columns_the_line_view_fits_its_lines_and_prompts() {
    let lab = Lab::new();
    for (lang, keys) in [
        ("en", ["Enter: run it", "Enter: step 2", "Enter: tree"]),
        ("zh", ["Enter：运行", "Enter：第 2 步", "Enter：进程树"]),
    ] {
        let mut command = lab.command(&[
            "run", "3", "--step", "--speed", "20", "--seed", "4", "--color", "never", "--lang",
            lang,
        ]);
        command.env("COLUMNS", "40");
        let finished = lab.run_command(command, &"\n".repeat(12));
        assert!(finished.status.success(), "{}", finished.stderr);
        let text = &finished.stdout;
        let tree = if lang == "zh" {
            "进程树（"
        } else {
            "Process tree"
        };
        let run = &text[..text.find(tree).expect("the tree")];
        for line in run.lines() {
            let width = proclab::view::notes::display_width(line);
            assert!(width <= 40, "{lang}: {width} columns: {line:?}");
        }
        for key in keys {
            assert!(run.contains(key), "{lang}: no prompt with {key:?}:\n{run}");
        }
        // A line of the lesson, whole, under its prefix.
        let worker = if lang == "zh" {
            "worker"
        } else {
            "worker: working for 2 s"
        };
        assert!(run.contains(worker), "{lang}:\n{run}");
    }
}
