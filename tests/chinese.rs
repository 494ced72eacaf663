//! Every lesson in Chinese (`--lang zh`), through the real binary: each `step` and `note`
//! event reads as Chinese, the `lesson` event says `lang: zh`, and the run is the same run as
//! in English: the same steps, the same kinds of events, and the same outcomes measured (what
//! `--repeat` counts and `--predict` answers with). (That every lesson *has* its Chinese notes
//! is a unit test in `src/lessons.rs`.)

mod common;

use std::collections::BTreeSet;

use common::Lab;
use proclab::i18n::reads_as_chinese;
use proclab::outcomes::{self, Record};
use proclab::runtime::event::Event;

/// Runs lesson `number` in both languages with one seed and compares them.
fn same_lesson_in_chinese(number: &str) {
    let lab = Lab::new();
    let chinese = lab.lesson(number, &["--lang", "zh", "--seed", "7"]);
    let english = lab.lesson(number, &["--lang", "en", "--seed", "7"]);

    let lesson = chinese.find("lesson", |_| true);
    assert_eq!(lesson["lang"], "zh");
    assert!(
        reads_as_chinese(lesson["title"].as_str().unwrap()),
        "{lesson}"
    );
    assert_eq!(english.find("lesson", |_| true)["lang"], "en");

    for kind in ["step", "note"] {
        for event in chinese.of_kind(kind) {
            let text = event[if kind == "step" { "title" } else { "text" }]
                .as_str()
                .unwrap();
            assert!(
                reads_as_chinese(text),
                "lesson {number}: a {kind} that does not read as Chinese: {text:?}"
            );
        }
    }
    assert_eq!(
        chinese.of_kind("step").len(),
        english.of_kind("step").len(),
        "lesson {number}: steps"
    );
    let kinds = |events: &common::Events| -> BTreeSet<String> {
        events
            .0
            .iter()
            .map(|e| e["kind"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(kinds(&chinese), kinds(&english), "lesson {number}: kinds");

    // The lesson's outcomes, measured from each run's events: the same things are measured
    // in both languages (their values may differ where the lesson races).
    let measured = |events: &common::Events| -> Vec<(u32, String)> {
        let events: Vec<Event> = events
            .0
            .iter()
            .map(|e| serde_json::from_value(e.clone()).unwrap())
            .collect();
        let lesson = proclab::lessons::find(number).unwrap();
        let record = Record::new(&events);
        let mut found: Vec<(u32, String)> = outcomes::measure_of(lesson)(&record)
            .into_iter()
            .map(|m| (m.step, m.what))
            .collect();
        found.sort();
        found
    };
    let in_english = measured(&english);
    assert!(!in_english.is_empty(), "lesson {number} measured nothing");
    assert_eq!(measured(&chinese), in_english, "lesson {number}: outcomes");
}

/// One test per lesson (every folder under `lessons/`), so that they run side by side.
macro_rules! in_chinese {
    ($($test:ident => $number:literal,)*) => {
        $(
            #[test]
            fn $test() {
                same_lesson_in_chinese($number);
            }
        )*
    };
}

include!(concat!(env!("OUT_DIR"), "/each_lesson.rs"));
each_lesson!(in_chinese);
