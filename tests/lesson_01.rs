//! Lesson 1 through the real binary: three children, their parents, overlap, join.

mod common;

use common::{Lab, PREDICTION_RUNS, lang_args, notes_headings, step_titles, t};
use proclab::i18n::reads_as_chinese;

#[test]
fn three_children_of_main_that_overlap_and_exit_zero() {
    let lab = Lab::new();
    let events = lab.lesson("1", &["--seed", "11"]);
    let main = events.main_pid();
    assert_eq!(events.0[0]["kind"], "lesson");
    assert_eq!(events.0[0]["number"], 1);
    assert_eq!(events.0[0]["seed"], 11);
    assert_eq!(events.0.last().unwrap()["kind"], "end");

    let names = ["alex", "wupeiqi", "yuanhao"];
    let pids: Vec<i64> = names.iter().map(|n| events.pid_of(n)).collect();
    assert!(
        pids[0] != pids[1] && pids[1] != pids[2] && pids[0] != pids[2],
        "{pids:?}"
    );
    for (&pid, name) in pids.iter().zip(names) {
        assert_ne!(pid, main);
        // Every event a child emits carries the main process as its parent.
        let start = events.find("start", |e| e["pid"] == pid);
        assert_eq!(start["ppid"], main, "{name}");
        assert_eq!(start["name"], name);
        // /proc agreed while it ran.
        let state = events.find("state", |e| e["of"] == pid);
        assert_eq!(state["ppid_of"], main, "{name}");
        assert_eq!(events.exitcode_of(pid), 0, "{name}");
        // The fork is stamped with the moment before it: never after the child's own start.
        let forked = events.find("spawn", |e| e["child"] == pid)["t"]
            .as_f64()
            .unwrap();
        assert!(
            forked <= start["t"].as_f64().unwrap(),
            "{name}: forked after it started"
        );
        assert_eq!(events.find("exit", |e| e["child"] == pid)["pid"], main);
    }

    // Waiting is visible: the main process reports blocking until a child ends, and waking.
    let waits = events.of_kind("wait");
    let woke = events.of_kind("woke");
    assert!(
        waits.iter().any(|e| e["pid"] == main && e["on"] == "join"),
        "{}",
        events.dump()
    );
    assert!(woke.iter().all(|e| e["after"].as_f64().unwrap() >= 0.0));
    assert_eq!(waits.len(), woke.len(), "every wait ends");

    // The main process's line comes before any child is done.
    let main_line = events.position("say", |e| e["text"] == "主进程 / main process");
    assert_eq!(events.0[main_line]["pid"], main);
    for &pid in &pids {
        let done = events.position("say", |e| {
            e["pid"] == pid && e["text"].as_str().unwrap().ends_with("is done")
        });
        assert!(
            main_line < done,
            "a child finished before the main process's line"
        );
    }

    // The children's lifetimes overlap: each started before any of them was done.
    let last_start = pids
        .iter()
        .map(|&p| events.time_of("start", p))
        .fold(0.0, f64::max);
    let first_done = pids
        .iter()
        .map(|&p| events.time_of("done", p))
        .fold(f64::MAX, f64::min);
    assert!(
        last_start < first_done,
        "no overlap: {last_start} >= {first_done}"
    );

    // Wall time near the longest sleep, not the sum (at speed 20, sleeps of 50-150 ms).
    let wall_note = events.find("note", |e| {
        e["text"].as_str().unwrap().contains("of wall time")
    });
    assert!(
        wall_note["text"]
            .as_str()
            .unwrap()
            .contains("lives overlapped. That is concurrency"),
        "{wall_note}"
    );

    // join() reaps: /proc has no entry afterwards.
    for &pid in &pids {
        let gone = events.position("state", |e| e["of"] == pid && e["state"] == "gone");
        let reaped = events.position("exit", |e| e["child"] == pid);
        assert!(reaped < gone);
    }
    assert_eq!(step_titles(&events), notes_headings("01-spawn-function"));
}

#[test]
fn the_same_seed_replays_the_same_sleeps() {
    let lab = Lab::new();
    let sleeps = |seed: &str| -> Vec<String> {
        lab.lesson("spawn-function", &["--seed", seed])
            .texts("say")
            .into_iter()
            .filter(|t| t.contains("sleeping"))
            .collect()
    };
    let first = sleeps("5");
    // Three random sleeps, and step 4's fixed one.
    assert_eq!(first.len(), 4);
    let mut again = sleeps("5");
    let mut sorted_first = first.clone();
    sorted_first.sort();
    again.sort();
    assert_eq!(sorted_first, again);
}

#[test]
fn join_with_a_timeout_returns_with_the_child_alive() {
    let lab = Lab::new();
    let events = lab.lesson("1", &[]);
    let main = events.main_pid();
    let step_4 = events.position("step", |e| e["index"] == 4);
    let alex = events.0[step_4..]
        .iter()
        .find(|e| e["kind"] == "spawn" && e["child_name"] == "alex")
        .expect("step 4 starts alex")["child"]
        .as_i64()
        .unwrap();
    let after_timeout = events.find("say", |e| {
        e["pid"] == main
            && e["text"]
                .as_str()
                .unwrap()
                .starts_with("join(timeout) returned")
    });
    assert!(
        after_timeout["text"]
            .as_str()
            .unwrap()
            .ends_with("is_alive() true, exitcode None"),
        "{after_timeout}"
    );
    // It gave up: the wait on alex ended without getting it, then a second join reaped it.
    events.find("woke", |e| {
        e["pid"] == main && e["object"] == "alex" && e["got"] == false
    });
    assert_eq!(events.exitcode_of(alex), 0);
    let note = events.find("note", |e| {
        e["text"]
            .as_str()
            .unwrap()
            .starts_with("join(timeout) gave up")
    });
    assert!(
        note["text"]
            .as_str()
            .unwrap()
            .contains(&format!("(pid {alex}) was still alive")),
        "{note}"
    );
}

/// `--predict`, with two seeds in English and once in Chinese: each answer is what this run's
/// own events say, shown in the run's language (the Chinese questions, choices and
/// explanations are those of `questions.zh.md`).
#[test]
fn predictions_are_answered_from_the_runs_own_events() {
    let lab = Lab::new();
    for (seed, chinese) in PREDICTION_RUNS {
        let run = lab.predicted("1", seed, "1\n2\n", lang_args(chinese));

        // Step 1: which line came first, the main process's or alex's "alex is done".
        let main_line = t(run.find("say", |e| e["text"] == "主进程 / main process"));
        let alex_done = t(run.find("say", |e| e["text"] == "alex is done"));
        let first = if alex_done < main_line {
            "alex is done"
        } else {
            "主进程"
        };
        run.assert_answer(1, (first, first), first, chinese);

        // Step 2: the three lives, from each child's start to its done, against the time in
        // all: closer to the longest life, or to their sum?
        let lives: Vec<(f64, f64)> = ["alex", "wupeiqi", "yuanhao"]
            .iter()
            .map(|name| {
                let pid = run.pid_of(name);
                (run.time_of("start", pid), run.time_of("done", pid))
            })
            .collect();
        let span = lives.iter().map(|l| l.1).fold(0.0, f64::max)
            - lives.iter().map(|l| l.0).fold(f64::INFINITY, f64::min);
        let sum: f64 = lives.iter().map(|l| l.1 - l.0).sum();
        let longest = lives.iter().map(|l| l.1 - l.0).fold(0.0, f64::max);
        let overlapped = (span - longest).abs() <= (sum - span).abs();
        let choice = if overlapped {
            ("about the longest sleep", "约等于最长的那次睡眠")
        } else {
            ("about the sum of the sleeps", "约等于各次睡眠之和")
        };
        run.assert_answer(2, choice, choice.0, chinese);
        assert_eq!(run.verdict(2)["right"], overlapped);

        if chinese {
            assert_eq!(
                run.verdict(1)["choices"],
                serde_json::json!(["主进程", "alex is done"])
            );
            for step in [1, 2] {
                let verdict = run.verdict(step);
                for field in ["question", "why"] {
                    let text = verdict[field].as_str().unwrap();
                    assert!(reads_as_chinese(text), "step {step} {field}: {text:?}");
                }
            }
        }
    }
}
