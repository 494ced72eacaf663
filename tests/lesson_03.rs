//! Lesson 3 through the real binary: daemons, the daemon rules, an orphan re-parented to the
//! lab, a zombie, five exit codes, a lock held by a dead process, and Ctrl-C in the middle.
//! The harness checks after every run that no process, temp file or shared memory is left.

mod common;

use std::cell::Cell;

use common::{Events, Lab, notes_headings, step_titles};
use serde_json::Value;

fn text(event: &Value) -> &str {
    event["text"].as_str().unwrap_or("")
}

#[test]
fn a_daemon_is_terminated_when_its_parent_is_done_and_a_worker_is_waited_for() {
    let lab = Lab::new();
    let events = lab.lesson("3", &[]);
    let main = events.main_pid();
    let parent = events.pid_of("parent");
    let counter = events.pid_of("counter");
    let worker = events.pid_of("worker");
    assert_eq!(events.find("spawn", |e| e["child"] == parent)["pid"], main);
    for child in [counter, worker] {
        assert_eq!(events.find("spawn", |e| e["child"] == child)["pid"], parent);
        // The parent, not main, reaped them.
        assert_eq!(events.find("exit", |e| e["child"] == child)["pid"], parent);
    }
    assert_eq!(events.exitcode_of(counter), -15);
    assert_eq!(events.exitcode_of(worker), 0);
    assert_eq!(events.exitcode_of(parent), 0);

    // The daemon was ended when the parent's work was done, the worker only when it was done,
    // and the parent itself after that.
    let work_done = events.position("say", |e| {
        e["pid"] == parent && text(e) == "parent: main work done, returning"
    });
    let counter_reaped = events.position("exit", |e| e["child"] == counter);
    let worker_done = events.position("say", |e| e["pid"] == worker && text(e) == "worker: done");
    let worker_reaped = events.position("exit", |e| e["child"] == worker);
    let parent_reaped = events.position("exit", |e| e["child"] == parent);
    assert!(work_done < counter_reaped, "{}", events.dump());
    assert!(counter_reaped < worker_reaped && worker_done < worker_reaped);
    assert!(worker_reaped < parent_reaped);
    // The counter never said anything once it was reaped.
    assert!(
        !events.0[counter_reaped..]
            .iter()
            .any(|e| e["pid"] == counter && e["kind"] == "say")
    );

    // The exit path said what it did, with the codes it saw.
    let exit_note = events.find("note", |e| e["pid"] == parent);
    assert!(
        text(exit_note).contains(&format!(
            "terminated its daemon child counter (pid {counter}, exitcode -15 (SIGTERM))"
        )),
        "{exit_note}"
    );
    assert!(text(exit_note).contains(&format!("worker (pid {worker}, exitcode 0)")));
    // Main saw both gone from /proc afterwards.
    for child in [counter, worker] {
        let state = events.find("state", |e| e["of"] == child);
        assert_eq!(state["state"], "gone");
        assert_eq!(state["pid"], main);
    }
    assert_eq!(step_titles(&events), notes_headings("03-daemon-terminate"));
}

#[test]
fn the_daemon_rules_are_error_values() {
    let lab = Lab::new();
    let events = lab.lesson("daemon-terminate", &[]);
    let main = events.main_pid();
    let late = events.find("say", |e| {
        text(e).starts_with("set_daemon(true) after start()")
    });
    assert_eq!(late["pid"], main);
    assert_eq!(
        text(late),
        "set_daemon(true) after start(): error: process has already started (the lab adds: set \
         it before)"
    );
    let daemon = events.pid_of("daemon");
    let refused = events.find("say", |e| text(e).starts_with("start() inside a daemon"));
    // Said by the daemon itself, which forked nothing.
    assert_eq!(refused["pid"], daemon);
    assert_eq!(
        text(refused),
        "start() inside a daemon: error: daemonic processes are not allowed to have children"
    );
    assert!(!events.of_kind("spawn").iter().any(|e| e["pid"] == daemon));
    // The error ends the daemon, as Python's uncaught AssertionError does: exit code 1.
    assert_eq!(events.exitcode_of(daemon), 1);
    assert_eq!(
        events.find("error", |e| e["pid"] == daemon)["text"],
        "daemonic processes are not allowed to have children"
    );
    assert_eq!(events.exitcode_of(events.pid_of("late-daemon")), 0);
}

#[test]
fn terminate_leaves_an_orphan_that_the_lab_adopts_and_removes() {
    let lab = Lab::new();
    let events = lab.lesson("3", &[]);
    let main = events.main_pid();
    let supervisor = events.lab_pid();
    let doomed = events.pid_of("doomed");
    let grandchild = events.pid_of("grandchild");
    assert_eq!(
        events.find("spawn", |e| e["child"] == grandchild)["pid"],
        doomed
    );

    // /proc before: the grandchild's parent is doomed.
    let before = events.position("state", |e| e["of"] == grandchild && e["ppid_of"] == doomed);
    // doomed is terminated and reaped by main.
    let doomed_reaped = events.position("exit", |e| e["child"] == doomed);
    assert_eq!(events.0[doomed_reaped]["pid"], main);
    assert_eq!(events.0[doomed_reaped]["exitcode"], -15);
    // /proc after: alive, not a zombie, and its parent is the supervisor, not main or pid 1.
    let after = events.position("state", |e| {
        e["of"] == grandchild && e["ppid_of"] != doomed && e["state"] != "gone"
    });
    assert!(before < doomed_reaped && doomed_reaped < after);
    assert_eq!(events.0[after]["ppid_of"], supervisor);
    assert_ne!(events.0[after]["state"], "Z");
    // The orphan's own getppid() agrees, and its events carry the new parent.
    let first_word = events.find("say", |e| e["pid"] == grandchild);
    assert_eq!(first_word["ppid"], doomed);
    let adopted = events.position("say", |e| {
        e["pid"] == grandchild
            && text(e) == format!("grandchild: still running; my parent is {supervisor}")
    });
    assert_eq!(events.0[adopted]["ppid"], supervisor);
    // (After /proc showed doomed as its parent; it may come before main's `exit` event of
    // doomed, since the orphan is adopted the moment doomed dies, before main reaps it.)
    assert!(before < adopted);
    // The lab removed it: the supervisor reaped it, and /proc no longer has it.
    let orphan_reaped = events.position("exit", |e| e["child"] == grandchild);
    assert_eq!(events.0[orphan_reaped]["pid"], supervisor);
    assert_eq!(events.0[orphan_reaped]["exitcode"], -15);
    let gone = events.position("state", |e| e["of"] == grandchild && e["state"] == "gone");
    assert!(after < gone);
    // And the notes say where it went, from what /proc showed.
    assert!(events.texts("note").iter().any(|t| t.contains(&format!(
        "its parent is now {supervisor}: the proclab supervisor"
    ))));
    // The main process is still running the lesson: no supervisor note about leftovers.
    assert!(
        !events
            .texts("note")
            .iter()
            .any(|t| t.contains("The lab ended what the lesson left running"))
    );
}

#[test]
fn a_zombie_until_join_and_five_exitcodes() {
    let lab = Lab::new();
    let events = lab.lesson("3", &[]);
    let main = events.main_pid();
    let returns = events.pid_of("returns");
    let zombie = events.position("state", |e| e["of"] == returns && e["state"] == "Z");
    assert_eq!(events.0[zombie]["ppid_of"], main);
    let reaped = events.position("exit", |e| e["child"] == returns);
    let gone = events.position("state", |e| e["of"] == returns && e["state"] == "gone");
    assert!(zombie < reaped && reaped < gone, "{}", events.dump());
    // It had ended (it said so) before /proc showed it as a zombie.
    let done = events.position("done", |e| e["pid"] == returns);
    assert!(done < zombie);

    let says = events.texts("say");
    for line in [
        "before start(): is_alive() = false, exitcode = None",
        "while it runs: is_alive() = true, exitcode = None",
        "after it ended: is_alive() = false, exitcode = 0",
        "exitcode of each: never-started: None, returns: 0, exits-3: 3, terminated: -15, killed: -9",
    ] {
        assert!(
            says.iter().any(|s| s == line),
            "missing {line:?} in {says:?}"
        );
    }
    for (name, code) in [
        ("returns", 0),
        ("exits-3", 3),
        ("terminated", -15),
        ("killed", -9),
    ] {
        let pid = events.pid_of(name);
        assert_eq!(events.exitcode_of(pid), code, "{name}");
        assert_eq!(events.find("exit", |e| e["child"] == pid)["pid"], main);
    }
    assert!(
        !events
            .of_kind("spawn")
            .iter()
            .any(|e| e["child_name"] == "never-started")
    );
}

#[test]
fn a_dead_holder_keeps_a_semaphore_but_not_an_flock() {
    let lab = Lab::new();
    let events = lab.lesson("3", &[]);
    let holder = events.pid_of("holder");
    let taker = events.pid_of("taker");
    assert_eq!(events.exitcode_of(holder), -15);
    let holder_reaped = events.position("exit", |e| e["child"] == holder);
    let gave_up = events.position("say", |e| {
        e["pid"] == taker && text(e).starts_with("taker: gave up after")
    });
    assert!(holder_reaped < gave_up);
    assert!(
        text(&events.0[gave_up]).ends_with(&format!("the lock is still held by dead pid {holder}")),
        "{}",
        events.0[gave_up]
    );
    // It really waited: at speed 20 its patience is 150 ms.
    let began = events.time_of("say", taker);
    let waited = events.0[gave_up]["t"].as_f64().unwrap() - began;
    assert!(waited >= 0.14, "the taker gave up after only {waited} s");

    let flock_holder = events.pid_of("flock-holder");
    let flock_taker = events.pid_of("flock-taker");
    assert_eq!(events.exitcode_of(flock_holder), -15);
    let flock_holder_reaped = events.position("exit", |e| e["child"] == flock_holder);
    let got = events.position("say", |e| {
        e["pid"] == flock_taker && text(e).contains("flock after")
    });
    assert!(flock_holder_reaped < got);
    assert!(
        text(&events.0[got]).starts_with("flock-taker: got the flock after"),
        "{}",
        events.0[got]
    );
    assert!(
        !events
            .texts("say")
            .iter()
            .any(|t| t.starts_with("flock-taker: gave up"))
    );
}

#[test]
fn ctrl_c_right_after_the_orphan_is_adopted_leaves_nothing() {
    let lab = Lab::new();
    let supervisor = Cell::new(0i64);
    let grandchild = Cell::new(0i64);
    // At speed 2 the orphan is left running for half a second after it is adopted: the
    // interrupt comes while it is still there.
    let events = lab.interrupted_when(&["run", "3", "--json", "--speed", "2"], |e| {
        if e["kind"] == "lesson" {
            supervisor.set(e["pid"].as_i64().unwrap());
        }
        if e["kind"] == "spawn" && e["child_name"] == "grandchild" {
            grandchild.set(e["child"].as_i64().unwrap());
        }
        e["kind"] == "state" && e["of"] == grandchild.get() && e["ppid_of"] == supervisor.get()
    });
    assert_eq!(events.find("end", |_| true)["outcome"], "interrupted");
    // The orphan, a child of the supervisor by then, was ended by the interruption (SIGINT, or
    // the supervisor's SIGKILL), not by the lesson's own SIGTERM, and reaped by the supervisor.
    let reaped = events.find("exit", |e| e["child"] == grandchild.get());
    assert_eq!(reaped["pid"], supervisor.get());
    assert_ne!(reaped["exitcode"], -15, "the lesson had removed it already");
    assert!(
        !events
            .of_kind("state")
            .iter()
            .any(|e| e["of"] == grandchild.get() && e["state"] == "gone")
    );
}

#[test]
fn ctrl_c_while_the_taker_waits_for_the_dead_lock_leaves_nothing() {
    let lab = Lab::new();
    // At speed 2 the taker waits 1.5 s: the interrupt comes long before it gives up.
    let events = lab.interrupted_when(&["run", "3", "--json", "--speed", "2"], |e| {
        e["kind"] == "say" && text(e).starts_with("taker: acquiring the lock")
    });
    assert!(
        !events
            .texts("say")
            .iter()
            .any(|t| t.starts_with("taker: gave up")),
        "the wait was not interrupted"
    );
}

#[test]
fn ctrl_c_at_the_start_of_any_step_leaves_nothing() {
    for step in 1..=5 {
        let lab = Lab::new();
        lab.interrupted_when(&["run", "3", "--json", "--speed", "20"], |e| {
            e["kind"] == "step" && e["index"] == step
        });
    }
}

/// The answer to each of lesson 3's predict questions, worked out here from the run's own
/// events, in English (the choices of `questions.md`).
fn lesson_3_answers(events: &Events) -> Vec<(i64, String)> {
    use common::{step_of, t};
    let mut answers = Vec::new();

    // Step 1: the exit code the parent reaped counter with, as Python names it.
    let counter = events.exitcode_of(events.pid_of("counter"));
    let signal = match counter {
        -15 => " (SIGTERM)",
        -9 => " (SIGKILL)",
        _ => "",
    };
    answers.push((1, format!("{counter}{signal}")));

    // Step 2: the exit code of the daemon that tried to start a child.
    answers.push((2, events.exitcode_of(events.pid_of("daemon")).to_string()));

    // Step 3: the grandchild's parent in the first /proc reading after doomed was reaped.
    let doomed_reaped = t(events.find("exit", |e| e["child"] == events.pid_of("doomed")));
    let grandchild = events.pid_of("grandchild");
    let read = events.find("state", |e| {
        e["of"] == grandchild && t(e) >= doomed_reaped && !e["ppid_of"].is_null()
    });
    let parent = read["ppid_of"].as_i64().unwrap();
    let parent = if parent == events.lab_pid() {
        "proclab".to_string()
    } else if parent == events.main_pid() {
        "main".to_string()
    } else if parent == 1 {
        "init (pid 1)".to_string()
    } else {
        parent.to_string()
    };
    answers.push((3, parent));

    // Step 4: /proc/<returns> as read right after is_alive() and exitcode, before join().
    let asked = t(events.find("say", |e| text(e).starts_with("after it ended: is_alive()")));
    let returns = events.pid_of("returns");
    let state = events.find("state", |e| e["of"] == returns && t(e) >= asked)["state"]
        .as_str()
        .unwrap()
        .to_string();
    let state = match state.as_str() {
        "Z" => "Z (zombie)".to_string(),
        "S" => "S (sleeping)".to_string(),
        "gone" => "nothing: it is gone".to_string(),
        other => other.to_string(),
    };
    answers.push((4, state));

    // Step 5: did each taker's own line say it got its lock?
    let got = |who: &str| {
        let line = events.find("say", |e| {
            e["name"] == who
                && step_of(events, t(e)) == 5
                && (text(e).contains(": got the") || text(e).contains(": gave up"))
        });
        text(line).contains(": got the")
    };
    let which = match (got("taker"), got("flock-taker")) {
        (true, true) => "both",
        (true, false) => "only the semaphore",
        (false, true) => "only the flock",
        (false, false) => "neither",
    };
    answers.push((5, which.to_string()));
    answers
}

/// The same choices in `questions.zh.md`, where they are words.
fn in_chinese(answer: &str) -> &str {
    match answer {
        "Z (zombie)" => "Z（僵尸进程）",
        "S (sleeping)" => "S（睡眠）",
        "nothing: it is gone" => "什么也没有：它已经不在了",
        "both" => "两个都能",
        "only the semaphore" => "只有信号量",
        "only the flock" => "只有 flock",
        "neither" => "都拿不到",
        other => other,
    }
}

/// Every question is answered from the run's own events, with two seeds in English and once
/// in Chinese, whose verdict shows the Chinese choice.
#[test]
fn each_prediction_is_what_the_runs_own_events_say() {
    let lab = Lab::new();
    let answers = "1\n1\n1\n1\n1\n";
    for (seed, lang) in [("3", "en"), ("8", "en"), ("5", "zh")] {
        let run = lab.predicted("3", seed, answers, &["--lang", lang]);
        run.assert_answers(&lesson_3_answers(&run), lang == "zh", in_chinese);
    }
}
