//! Lesson 11 through the real binary: thread ids under one pid, a global shared by threads and
//! copied by processes, the cost of each, daemon threads, Python's introspection functions,
//! the misuse errors, and nothing left after a run, a `q` or a Ctrl-C.

mod common;

use std::collections::BTreeSet;

use common::{
    Events, Lab, PREDICTION_RUNS, answer_shown, lang_args, notes_headings, step_of, step_titles, t,
};
use serde_json::Value;

fn text(event: &Value) -> &str {
    event["text"].as_str().unwrap_or("")
}

/// The say event whose text starts with `prefix`.
#[track_caller]
fn said<'a>(events: &'a Events, prefix: &str) -> &'a Value {
    events.find("say", |e| text(e).starts_with(prefix))
}

#[test]
fn threads_have_distinct_ids_under_one_pid_and_processes_their_own_pids() {
    let lab = Lab::new();
    let events = lab.lesson("11", &[]);
    let main = events.main_pid();
    assert_eq!(
        step_titles(&events),
        notes_headings("11-threads-vs-processes")
    );

    // Step 1: both ways say the tutorial's line, from threads of main.
    for num in [1, 2] {
        let line = said(&events, &format!("running on number:{num}"));
        assert_eq!(line["pid"], main);
        assert!(line["tid"].as_i64().is_some(), "{line}");
    }

    // Step 2: each thread reports the id gettid gave it, which is the tid on its events, under
    // the main pid; all distinct, none the pid.
    let mut tids = Vec::new();
    for name in ["t-alex", "t-wupeiqi", "t-yuanhao"] {
        let line = said(&events, &format!("{name}: pid "));
        assert_eq!(line["pid"], main);
        assert_eq!(
            text(line),
            format!("{name}: pid {main}, thread id {}", line["tid"])
        );
        tids.push(line["tid"].as_i64().unwrap());
    }
    tids.sort();
    tids.dedup();
    assert_eq!(tids.len(), 3);
    assert!(!tids.contains(&main));
    let note = events.find("note", |e| {
        text(e).contains("/proc/") && text(e).contains("task, read while")
    });
    for tid in &tids {
        assert!(text(note).contains(&tid.to_string()), "{note}");
    }
    assert!(text(note).contains("Every thread id is there"), "{note}");
    // The processes: own pids, one task each, whose id is the pid.
    for name in ["alex", "wupeiqi"] {
        let pid = events.pid_of(name);
        assert_ne!(pid, main);
        let line = said(&events, &format!("{name}: pid"));
        assert_eq!(line["pid"], pid);
        assert_eq!(
            text(line),
            format!("{name}: pid {pid}, thread id {pid}; /proc/{pid}/task holds {pid} ({name})")
        );
    }
}

#[test]
fn a_global_is_copied_into_a_child_process_and_shared_with_a_thread() {
    let lab = Lab::new();
    let events = lab.lesson("threads-vs-processes", &[]);
    let main = events.main_pid();
    let child = events.pid_of("child");
    let in_child = said(&events, "child process: n = 0");
    assert_eq!(in_child["pid"], child);
    let in_thread = said(&events, "thread: n = 0");
    assert_eq!(in_thread["pid"], main);
    assert!(in_thread["tid"].is_i64());
    let says = events.texts("say");
    let main_lines: Vec<&String> = says
        .iter()
        .filter(|t| t.starts_with("main: n = "))
        .collect();
    assert_eq!(main_lines.len(), 2, "{main_lines:?}");
    assert!(
        main_lines[0].starts_with("main: n = 100 "),
        "{main_lines:?}"
    );
    assert!(main_lines[1].starts_with("main: n = 0 "), "{main_lines:?}");
    // The same address in all four lines: one variable, copied by fork.
    let address = |t: &str| t[t.find("address").unwrap()..].to_string();
    let first = address(text(in_child));
    for line in [text(in_thread), main_lines[0], main_lines[1]] {
        assert_eq!(address(line), first);
    }
}

#[test]
fn costs_daemons_introspection_and_mistakes() {
    let lab = Lab::new();
    let events = lab.lesson("11", &[]);
    let main = events.main_pid();

    // Step 4: two measured figures, the process dearer than the thread by any sane measure.
    let micros = |prefix: &str| -> f64 {
        let t = text(said(&events, prefix)).to_string();
        let after = &t[t.find("): ").unwrap() + 3..];
        after[..after.find(" µs").unwrap()].parse().unwrap()
    };
    let process = micros("process (fork");
    let thread = micros("thread (pthread_create");
    assert!(process > 0.0 && thread > 0.0);

    // Step 5: foo (daemon, short) finished, bar (not a daemon) finished, egon (daemon, long)
    // started and never said hello nor ended; the process left normally.
    let daemons = events.pid_of("daemons");
    assert_eq!(events.exitcode_of(daemons), 0);
    assert_eq!(said(&events, "end123")["thread"], "foo");
    assert_eq!(said(&events, "end456")["thread"], "bar");
    let egon = events.find("start", |e| e["thread"] == "egon");
    assert_eq!(egon["pid"], daemons);
    assert!(!events.texts("say").iter().any(|t| t == "egon say hello"));
    assert!(!events.of_kind("done").iter().any(|e| e["thread"] == "egon"));
    let main_line = events.position("say", |e| text(e) == "main-------");
    let bar_done = events.position("say", |e| text(e) == "end456");
    assert!(main_line < bar_done);
    assert!(
        text(events.find("note", |e| text(e).contains("egon (thread"))).contains("was alive: true")
    );

    // Step 6: Python's names and counts.
    assert_eq!(
        text(said(&events, "current_thread().name = MainThread")),
        format!("current_thread().name = MainThread, native_id = {main}")
    );
    let listed = text(said(&events, "enumerate() = ["));
    assert!(
        listed.starts_with("enumerate() = [MainThread, Thread-"),
        "{listed}"
    );
    // Python's `_counter()`: the named thread between the two unnamed ones draws no number
    // (CPython 3.11: `tests/python_claims/thread_names.py`).
    let names: Vec<&str> = listed["enumerate() = [".len()..listed.len() - 1]
        .split(", ")
        .collect();
    assert_eq!(names.len(), 4, "{listed}");
    assert_eq!(names[2], "yuanhao", "{listed}");
    let number = |name: &str| -> u32 { name["Thread-".len()..].parse().expect(listed) };
    assert_eq!(number(names[3]), number(names[1]) + 1, "{listed}");
    let note = text(events.find("note", |e| {
        text(e).starts_with("In the main thread current_thread()")
    }));
    assert!(
        note.contains(&format!(
            "{} and {}; yuanhao, created between them, drew no number",
            names[1], names[3]
        )),
        "{note}"
    );
    assert_eq!(
        text(said(&events, "active_count() = ")),
        "active_count() = 4"
    );
    assert_eq!(
        text(said(&events, "after join(): ")),
        "after join(): active_count() = 1"
    );
    let in_thread = events.find("say", |e| {
        e["thread"] == "yuanhao" && text(e).starts_with("current_thread()")
    });
    assert_eq!(
        text(in_thread),
        format!(
            "current_thread().name = yuanhao, native_id = {}",
            in_thread["tid"]
        )
    );

    // Step 7: Python's messages.
    for (prefix, message) in [
        (
            "join() before start()",
            "cannot join thread before it is started",
        ),
        ("start() a second time", "threads can only be started once"),
        ("current_thread().join()", "cannot join current thread"),
    ] {
        assert_eq!(
            text(said(&events, prefix)),
            format!("{prefix}: error: {message}")
        );
    }
}

/// The two Python facts the notes state, checked against the Python here (skipped without it).
#[test]
fn python_names_the_main_thread_and_lets_daemon_threads_die_at_exit() {
    let program = r#"
import threading, time, os
print(threading.current_thread().name, threading.get_native_id() == os.getpid())
def forever():
    while True:
        print("daemon", flush=True); time.sleep(0.02)
threading.Thread(target=forever, daemon=True).start()
threading.Thread(target=lambda: (time.sleep(0.1), print("worker done", flush=True))).start()
"#;
    // (It must exit, status 0, although the daemon's loop never ends.)
    let Some(out) = common::python3_if_here(program, std::time::Duration::from_secs(30)) else {
        return;
    };
    assert!(out.starts_with("MainThread True\n"), "{out}");
    // The daemon ran while the worker did, and the process ended anyway (it exited at all,
    // soon after the worker, although the daemon's loop never ends).
    assert!(
        out.contains("daemon\n") && out.contains("worker done"),
        "{out}"
    );
    let daemon_lines = out.lines().filter(|l| *l == "daemon").count();
    assert!(
        daemon_lines < 20,
        "{daemon_lines} lines: it outlived the worker by far"
    );
}

/// --predict: each answer is what this run's events say, with two seeds in English and once
/// in Chinese.
#[test]
fn each_prediction_is_answered_from_the_runs_own_events() {
    let lab = Lab::new();
    for (seed, chinese) in PREDICTION_RUNS {
        let run = lab.predicted("11", seed, &"1\n".repeat(7), lang_args(chinese));
        let main = run.main_pid();
        // What the main process's main thread said in `step`, starting with `start`.
        let main_said = |step: usize, start: &str| -> Vec<String> {
            run.of_kind("say")
                .iter()
                .filter(|e| e["pid"] == main && e.get("tid").is_none())
                .filter(|e| step_of(&run, t(e)) == step && text(e).starts_with(start))
                .map(|e| text(e).to_string())
                .collect()
        };

        // Step 1: the main thread's `Thread-1` line against the two threads' ends.
        let names_at = t(run.find("say", |e| {
            e["pid"] == main && e.get("tid").is_none() && text(e) == "Thread-1"
        }));
        let ends: Vec<f64> = run
            .of_kind("done")
            .iter()
            .filter(|e| e["pid"] == main && e.get("tid").is_some() && step_of(&run, t(e)) == 1)
            .map(|e| t(e))
            .collect();
        assert_eq!(ends.len(), 2, "seed {seed}");
        let expected = if ends.iter().all(|&end| end > names_at) {
            answer_shown(("still running", "还在运行"), "still running", chinese)
        } else {
            answer_shown(("already done", "已经结束"), "already done", chinese)
        };
        assert_eq!(run.verdict(1)["observed"], expected.as_str(), "seed {seed}");

        // Step 2: the pids in the three threads' lines.
        let pids: BTreeSet<String> = run
            .of_kind("say")
            .iter()
            .filter(|e| e.get("tid").is_some() && text(e).starts_with("t-"))
            .map(|e| {
                text(e)
                    .split("pid ")
                    .nth(1)
                    .unwrap()
                    .split(',')
                    .next()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(pids.len(), 1, "seed {seed}");
        assert_eq!(run.verdict(2)["observed"], pids.len().to_string().as_str());

        // Step 3: the two values of n the main process printed.
        let n: Vec<String> = main_said(3, "main: n = ")
            .iter()
            .map(|line| {
                line["main: n = ".len()..]
                    .split(' ')
                    .next()
                    .unwrap()
                    .to_string()
            })
            .collect();
        let value = format!("{}, then {}", n[0], n[1]);
        let zh = format!("{}，然后 {}", n[0], n[1]);
        assert_eq!(value, "100, then 0", "seed {seed}");
        let expected = answer_shown((&value, &zh), &value, chinese);
        assert_eq!(run.verdict(3)["observed"], expected.as_str(), "seed {seed}");

        // Step 4: the two medians printed.
        // The lab's lines, in the language of the run.
        let micros = |start: &str| -> f64 {
            let line = &main_said(4, start)[0];
            let colon = if chinese { "）：" } else { "): " };
            let after = &line[line.find(colon).unwrap() + colon.len()..];
            after.split(' ').next().unwrap().parse().unwrap()
        };
        let (thread, process) = if chinese {
            ("线程（", "进程（")
        } else {
            ("thread (", "process (")
        };
        let expected = if micros(thread) < micros(process) {
            answer_shown(("a thread", "线程"), "a thread", chinese)
        } else {
            answer_shown(("a process", "进程"), "a process", chinese)
        };
        assert_eq!(run.verdict(4)["observed"], expected.as_str(), "seed {seed}");

        // Step 5: whether the daemon thread foo printed end123.
        let foo_ended = run
            .of_kind("say")
            .iter()
            .any(|e| e["thread"] == "foo" && text(e) == "end123" && step_of(&run, t(e)) == 5);
        let expected = if foo_ended {
            answer_shown(("yes", "能"), "yes", chinese)
        } else {
            answer_shown(("no", "不能"), "no", chinese)
        };
        assert_eq!(run.verdict(5)["observed"], expected.as_str(), "seed {seed}");

        // Step 6: the count the main thread printed while the three waited.
        let count: i64 = main_said(6, "active_count() = ")[0]["active_count() = ".len()..]
            .parse()
            .unwrap();
        assert_eq!(count, 4, "seed {seed}");
        assert_eq!(run.verdict(6)["observed"], "4");

        // Step 7: what join() before start() said.
        let joined = &main_said(7, "join() before start()")[0];
        let expected = if joined.contains("error") {
            answer_shown(("an error", "一个错误"), "an error", chinese)
        } else {
            answer_shown(("returns at once", "立刻返回"), "returns at once", chinese)
        };
        assert_eq!(run.verdict(7)["observed"], expected.as_str(), "seed {seed}");
    }
}
