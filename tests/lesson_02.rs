//! Lesson 2 through the real binary: workers, run() versus start(), names.

mod common;

use common::{Lab, PREDICTION_RUNS, lang_args, notes_headings, step_of, step_titles, t};
use proclab::i18n::reads_as_chinese;

#[test]
fn workers_report_their_parent_and_run_stays_in_the_parent() {
    let lab = Lab::new();
    let events = lab.lesson("2", &[]);
    let main = events.main_pid();

    for name in ["alex", "wupeiqi", "yuanhao"] {
        let pid = events.pid_of(name);
        // The worker printed getppid() and getpid() from inside itself.
        let line = events.find("say", |e| {
            e["pid"] == pid && e["text"].as_str().unwrap().starts_with("parent pid")
        });
        assert_eq!(
            line["text"],
            format!("parent pid {main}, my pid {pid}"),
            "{name}"
        );
        assert_eq!(events.exitcode_of(pid), 0);
    }

    // run() called directly: the work's lines carry the main process's own pid.
    let direct = events.find("say", |e| e["text"] == "run-direct is working");
    assert_eq!(direct["pid"], main);
    let direct_parent = events.find("say", |e| {
        e["pid"] == main && e["text"].as_str().unwrap().starts_with("parent pid")
    });
    assert_eq!(
        direct_parent["text"],
        format!("parent pid {}, my pid {main}", events.lab_pid())
    );
    // start() on the same worker: a new pid, a child of main.
    let started = events.pid_of("run-direct");
    assert_ne!(started, main);
    let in_child = events.find("say", |e| {
        e["pid"] == started && e["text"] == "run-direct is working"
    });
    assert_eq!(in_child["ppid"], main);

    let texts = events.texts("say");
    assert!(
        texts.contains(
            &"join() on a process that was never started: error: can only join a started process"
                .to_string()
        ),
        "{texts:?}"
    );
    assert!(
        texts.contains(&"start() a second time: error: cannot start a process twice".to_string())
    );
    assert!(
        events
            .of_kind("spawn")
            .iter()
            .all(|e| e["child_name"] != "never-started"),
        "the never-started worker was forked"
    );

    // Default names count created processes; the grandchild carries its parent's number.
    // (Sorted: Process-6 may fork its child before the main process forks Process-7.)
    let mut defaults: Vec<String> = events
        .of_kind("spawn")
        .iter()
        .map(|e| e["child_name"].as_str().unwrap().to_string())
        .filter(|n| n.starts_with("Process-"))
        .collect();
    defaults.sort();
    assert_eq!(defaults, ["Process-6", "Process-6:1", "Process-7"]);
    // An unnamed worker is named after its type, on the same count, as in Python.
    let piao = events.pid_of("Piao-8");
    assert_eq!(
        events.find("say", |e| e["pid"] == piao
            && e["text"] == "Piao-8 is working")["ppid"],
        main
    );
    let grandchild = events.pid_of("Process-6:1");
    assert_eq!(
        events.find("start", |e| e["pid"] == grandchild)["ppid"],
        events.pid_of("Process-6")
    );
    assert_eq!(step_titles(&events), notes_headings("02-spawn-worker"));
}

#[test]
fn a_spawned_child_runs_the_module_level_bind_again_and_fails() {
    let lab = Lab::new();
    let events = lab.lesson("2", &[]);
    let main = events.main_pid();
    let forked = events.pid_of("fork-child");
    assert_eq!(events.exitcode_of(forked), 0);
    let said = events.find("say", |e| e["pid"] == forked);
    assert!(
        said["text"]
            .as_str()
            .unwrap()
            .contains("module level ran 1 time(s), in my parent before the fork"),
        "{said}"
    );
    // The spawn-style child is the lab's binary again: its bind of the port the main process
    // holds fails, and the error ends it with exit code 1.
    let spawned = events.pid_of("spawn-child");
    assert_eq!(events.exitcode_of(spawned), 1);
    let printed: Vec<String> = events
        .texts("say")
        .into_iter()
        .filter(|t| t.starts_with(&format!("spawn-child {spawned} printed: ")))
        .collect();
    assert_eq!(printed.len(), 2, "{printed:?}");
    assert!(
        printed[0].contains("started from the top; module level: binding 127.0.0.1:"),
        "{printed:?}"
    );
    assert!(
        printed[1].ends_with("proclab: Address already in use (os error 98)"),
        "{printed:?}"
    );
    assert_eq!(events.find("say", |e| e["text"] == printed[1])["pid"], main);
}

/// `--predict`, with two seeds in English and once in Chinese: each answer is what this run's
/// own events say, shown in the run's language.
#[test]
fn predictions_are_answered_from_the_runs_own_events() {
    let lab = Lab::new();
    for (seed, chinese) in PREDICTION_RUNS {
        let run = lab.predicted("2", seed, "1\n1\n", lang_args(chinese));
        let main = run.main_pid();

        // Step 1: the first line said in the step by a worker, or the main process's 主进程
        // (a race).
        let first = run
            .of_kind("say")
            .into_iter()
            .find(|e| {
                step_of(&run, t(e)) == 1
                    && (e["pid"] != main || e["text"].as_str().unwrap().contains("主进程"))
            })
            .unwrap();
        let first = if first["pid"] == main {
            "主进程".to_string()
        } else {
            first["name"].as_str().unwrap().to_string()
        };
        run.assert_answer(1, (&first, &first), &first, chinese);

        // Step 2: run() called directly says its line from the main process's pid.
        let direct = run.find("say", |e| e["text"] == "run-direct is working");
        let choice = if direct["pid"] == main {
            ("the main process", "主进程")
        } else {
            ("a new child process", "一个新的子进程")
        };
        run.assert_answer(2, choice, choice.0, chinese);
        assert_eq!(run.verdict(2)["right"], direct["pid"] == main);

        if chinese {
            // The explanation names this run's answer.
            let why = run.verdict(2)["why"].as_str().unwrap().to_string();
            assert!(why.contains(choice.1), "{why}");
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
