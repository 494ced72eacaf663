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
    // Every line the lab composes is in the reader's language; a `say` that is not reads as
    // one of the lesson's programs printing (the tutorial's lines, Python's messages and
    // values), which stays as the program prints it.
    let program_output = PROGRAM_OUTPUT
        .iter()
        .find(|(lesson, _)| *lesson == number)
        .map_or(&[][..], |(_, patterns)| *patterns);
    for event in chinese.of_kind("say") {
        let text = event["text"].as_str().unwrap();
        assert!(
            reads_as_chinese(text) || program_output.iter().any(|p| glob_matches(p, text)),
            "lesson {number}: a line the lab composed is not in Chinese: {text:?}"
        );
    }
    // The lab is `proclab` in Chinese too: "实验室" read as translationese to a native speaker.
    for event in chinese
        .of_kind("say")
        .iter()
        .chain(chinese.of_kind("note").iter())
    {
        let text = event["text"].as_str().unwrap();
        assert!(
            !text.contains("实验室"),
            "lesson {number}: say proclab, not 实验室: {text:?}"
        );
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

/// Whether `text` matches `pattern`, where `*` stands for any text.
fn glob_matches(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return text == pattern;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if text.len() < first.len() + last.len() || !text.starts_with(first) || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

/// What each lesson's programs print themselves, in English in either language: the
/// tutorial's lines, Python's calls with their values and messages, what a client or a server
/// program reports. Everything else a lesson says is the lab's, and is in Chinese under
/// `--lang zh`.
const PROGRAM_OUTPUT: &[(&str, &[&str])] = &[
    ("1", &["* is done", "all children are done"]),
    (
        "2",
        &[
            "* is done",
            "* is working",
            "parent pid *, my pid *",
            "I am a grandchild",
            "I have a default name",
            "I have a name of my own",
            "fork child: *",
            "join() on a process that was never started: error: *",
            "module level: *",
            "spawn-child * printed: *",
            "start() a second time: error: *",
        ],
    ),
    (
        "3",
        &[
            "counter: *",
            "start() inside a daemon: error: *",
            "doomed: *",
            "exits-3: *",
            "flock-holder: *",
            "flock-taker: *",
            "grandchild: *",
            "holder: *",
            "after it ended: *",
            "before start(): *",
            "exitcode of each: *",
            "set_daemon(true) after start(): error: *（proclab 补充*）",
            "while it runs: *",
            "parent: *",
            "returns: *",
            "taker: *",
            "worker: *",
            "daemon-child: *",
            "I am a daemon's child",
        ],
    ),
    (
        "4",
        &[
            "* connected from *",
            "* sent *",
            "*: end of the conversation *",
            "*: no end of the conversation *",
            "* closed the connection*",
            "a server on port * accepted a connection and hung up first*",
            "bind to *",
            "the main process closes its copy of the connection now",
            "the main process is listening on *",
            "SIGCHLD set to SIG_IGN: *",
            "connection from *",
            "the server reaps them now: *",
            "waitpid for any child now fails: *",
        ],
    ),
    ("5", &["buyer-*: * ticket(s) left", "buyer-*: sold out"]),
    (
        "6",
        &[
            "c*: ate baozi *",
            "c*: got None, *",
            "JoinableQueue: *",
            "get(timeout): error: *",
            "get_nowait(): error: *",
            "got baozi *",
            "main: the producer is done; *",
            "put * into Queue(*): *",
            "put(\"baozi *\", timeout): error: *",
            "put() after close(): error: *",
            "put_nowait(\"baozi *\"): error: *",
            "p1: *",
            "producer: made baozi *",
            "shop: *",
        ],
    ),
    (
        "7",
        &[
            "adder: *",
            "c*: EOFError: *",
            "c*: got *",
            "c3: one of them is me: *",
            "main: *",
        ],
    ),
    (
        "8",
        &[
            "with get_lock(): counter.value = *",
            "with the lock: d['count'] = *",
            "without the lock: counter.value = *",
        ],
    ),
    (
        "9",
        &[
            "car*: *",
            "light: *",
            "police*: *",
            "user* gets a seat (* inside)",
            "user* leaves after * s",
        ],
    ),
    (
        "10",
        &[
            "* finished task * after *",
            "* run (task *)",
            "apply: *",
            "apply_async + get: *",
            "apply_async() after close(): error: *",
            "callback: got * in pid *",
            "get() after terminate(): error: *",
            "get() of task *",
            "map: *",
        ],
    ),
    (
        "11",
        &[
            "*: pid *, thread id *",
            "child process: n = *",
            "123",
            "456",
            "end123",
            "end456",
            "main-------",
            "egon say hello",
            "running on number:*",
            "current_thread()*",
            "thread: n = *",
            "Thread-*",
            "active_count() = *",
            "after join(): active_count() = *",
            "enumerate() = *",
            "join() before start(): error: *",
            "main: n = *",
            "start() a second time: error: *",
        ],
    ),
    (
        "13",
        &[
            "Thread-* done",
            "*: no * after * ms, and a cycle of waits: gives up",
            "rlock.*",
            "lock.*",
            "temp = *, n = *",
            "print(n): *",
        ],
    ),
    (
        "14",
        &[
            "checking mysql (takes * s)",
            "mysql is up: set()",
            "connected",
            "try * to connect",
            "took a bun: * left on the plate",
            "got a seat (* inside), staying * s",
            "leaves",
            "hello, world",
            "run the thread: *",
            "starting up; then I wait for the notify",
            "wait() was notified*",
            "wait_for(ready) returned after *",
            "BoundedSemaphore(*).release(): *",
            "Semaphore(*).release() without an acquire: *",
            "chef: *",
            "hello.start() again: *",
            "late.cancel()",
            "notify() without the lock: *",
            "notify(*)",
            "notify_all()",
            "ready = true; notify(*) woke * thread(s)",
            "wait() without the lock: *",
        ],
    ),
    (
        "15",
        &[
            "got None: *",
            "serves order *",
            "no more buns: put * None",
            "job * done",
            "LifoQueue gives: *",
            "PriorityQueue gives: *",
            "Queue gives: *",
            "put, in this order: *",
            "join() returned; *",
            "put * jobs; *",
            "put * more None",
            "put * orders and one None",
            "task_done() once more: *",
        ],
    ),
    (
        "16",
        &[
            "connection from *",
            "* closed the connection*",
            "* sent \"*\" and got \"*\" after *",
        ],
    ),
    (
        "17",
        &[
            "connection from *",
            "* closed the connection: *",
            "* is done",
            "* sent \"*\" and got \"*\"",
            "* works on part * (then naps * ms)",
        ],
    ),
];

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
