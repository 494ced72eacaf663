//! Lesson 10 through the real binary: the same worker pids serve every task, apply blocks,
//! map keeps order, the callback runs in the parent, a task's error comes back at get(), a
//! closed pool refuses tasks, the workers are gone afterwards; Ctrl-C at any moment leaves
//! nothing.

mod common;

use std::collections::BTreeSet;

use common::{
    Lab, PREDICTION_RUNS, answer_shown, lang_args, notes_headings, step_of, step_titles, t,
};
use serde_json::Value;

fn text(event: &Value) -> &str {
    event["text"].as_str().unwrap_or("")
}

/// What `Pool()` uses, as Python's `os.cpu_count()`: the CPUs online.
fn cpu_count() -> usize {
    // SAFETY: sysconf only reads a system setting.
    unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) }.max(1) as usize
}

#[test]
fn the_same_workers_serve_every_task_and_apply_blocks() {
    let lab = Lab::new();
    let events = lab.lesson("10", &["--seed", "4"]);
    assert_eq!(step_titles(&events), notes_headings("10-pool"));
    let main = events.main_pid();
    let workers: Vec<i64> = events
        .of_kind("spawn")
        .iter()
        .filter(|e| {
            e["child_name"]
                .as_str()
                .unwrap()
                .starts_with("ForkPoolWorker-")
        })
        .map(|e| e["child"].as_i64().unwrap())
        .collect();
    // Three pools: Pool() (one per CPU), Pool(2), and Pool() again.
    let first: Vec<i64> = workers[..cpu_count()].to_vec();
    assert_eq!(workers.len(), 2 * cpu_count() + 2, "{workers:?}");

    // Ten runs of work(), all in the first pool's workers: pids reused.
    let runs: Vec<(usize, i64)> = events
        .0
        .iter()
        .enumerate()
        .filter(|(_, e)| e["kind"] == "say" && text(e).contains(" run (task "))
        .map(|(i, e)| (i, e["pid"].as_i64().unwrap()))
        .collect();
    assert!(runs.len() >= 10);
    for &(_, pid) in &runs[..10] {
        assert!(first.contains(&pid), "task run in {pid}, not a worker");
        assert_ne!(pid, main);
    }
    let distinct: std::collections::BTreeSet<i64> = runs[..10].iter().map(|r| r.1).collect();
    assert!(distinct.len() <= cpu_count() && distinct.len() < 10);

    // apply() blocks: each of the first five tasks starts only after the main process got the
    // previous result.
    for pair in runs[..5].windows(2) {
        let got_result = events.0[pair[0].0..pair[1].0]
            .iter()
            .any(|e| e["pid"] == main && e["kind"] == "woke" && e["on"] == "result");
        assert!(got_result, "apply() did not wait:\n{}", events.dump());
    }
    let says = events.texts("say");
    assert!(says.contains(&"apply: [0, 1, 4, 9, 16]".to_string()));
    assert!(says.contains(&"apply_async + get: [25, 36, 49, 64, 81]".to_string()));
    assert!(says.contains(&"map: [0, 1, 4, 9, 16, 25]".to_string()));

    // Every worker of every pool was reaped by the main process: 0 after close() + join(),
    // -15 after terminate().
    for (i, &worker) in workers.iter().enumerate() {
        let reaped = events.find("exit", |e| e["child"] == worker);
        assert_eq!(reaped["pid"], main);
        let expected = if (cpu_count()..cpu_count() + 2).contains(&i) {
            -15
        } else {
            0
        };
        assert_eq!(reaped["exitcode"], expected, "worker {worker}");
    }
}

#[test]
fn callbacks_run_in_the_parent_and_errors_come_back_at_get() {
    let lab = Lab::new();
    let events = lab.lesson("10", &[]);
    let main = events.main_pid();
    let callback = events.find("say", |e| text(e).starts_with("callback: got 49 in pid"));
    assert_eq!(callback["pid"], main);
    assert_eq!(text(callback), format!("callback: got 49 in pid {main}"));

    let failed = events.find("say", |e| text(e).starts_with("get() of task 3:"));
    assert_eq!(failed["pid"], main);
    assert!(
        text(failed).starts_with("get() of task 3: error: ValueError: no threes (task 3 in pid"),
        "{failed}"
    );
    for (n, square) in [(1, 1), (2, 4), (4, 16)] {
        let line = format!("get() of task {n}: {square}");
        assert!(events.texts("say").contains(&line), "missing {line}");
    }
    assert!(
        events
            .texts("say")
            .contains(&"apply_async() after close(): error: Pool not running".to_string())
    );
    assert!(
        events
            .texts("say")
            .iter()
            .any(|t| t.starts_with("get() after terminate(): error:"))
    );

    // The comparison was measured, and both ways gave the same answers.
    let measured = events.find("say", |e| text(e).starts_with("pool: 1000 tasks in"));
    assert!(text(measured).contains("a process per task:"));
    assert!(
        events
            .texts("note")
            .iter()
            .any(|t| t.contains("Both gave the same 1000 answers."))
    );
}

#[test]
fn ctrl_c_during_the_process_per_task_leaves_nothing() {
    let lab = Lab::new();
    lab.interrupted_when(&["run", "10", "--json", "--speed", "20"], |e| {
        e["kind"] == "woke" && e["object"] == "1000 jobs"
    });
}

/// The messages the lesson quotes are Python's own: checked against python3 where it is
/// installed.
#[test]
fn python_says_pool_not_running_and_raises_the_tasks_error_at_get() {
    let script = r#"
from multiprocessing import Pool
def no_threes(n):
    if n == 3: raise ValueError("no threes")
    return n * n
if __name__ == '__main__':
    pool = Pool(2)
    try: pool.apply_async(no_threes, (3,)).get(timeout=20)
    except ValueError as e: print("get:", e)
    try: pool.join()
    except ValueError as e: print("join:", e)
    print("map:", pool.map(no_threes, [0, 1, 2]))
    pool.close()
    try: pool.apply_async(no_threes, (1,))
    except ValueError as e: print("closed:", e)
    pool.join()
"#;
    let Some(out) = common::python3_if_here(script, std::time::Duration::from_secs(60)) else {
        return;
    };
    assert_eq!(
        out,
        "get: no threes\njoin: Pool is still running\nmap: [0, 1, 4]\nclosed: Pool not running\n"
    );
}

/// A duration as the lesson prints it (`15 ms`, `2.34 s`), in seconds.
fn seconds(said: &str) -> f64 {
    let (number, unit) = said.trim().split_once(' ').unwrap();
    let number: f64 = number.parse().unwrap();
    if unit == "ms" {
        number / 1000.0
    } else {
        number
    }
}

/// --predict: each answer is what this run's events say, with two seeds in English and once
/// in Chinese.
#[test]
fn each_prediction_is_answered_from_the_runs_own_events() {
    let lab = Lab::new();
    for (seed, chinese) in PREDICTION_RUNS {
        let run = lab.predicted("10", seed, "1\n1\n1\n1\n", lang_args(chinese));
        let main = run.main_pid();
        let by_main =
            |start: &str| run.find("say", |e| e["pid"] == main && text(e).starts_with(start));

        // Step 1: from the step's start to the main process's `apply:` line, in tasks of 1 s
        // at this run's speed.
        let speed = run.find("lesson", |_| true)["speed"].as_f64().unwrap();
        let began = t(run.find("step", |e| e["index"] == 1));
        let tasks = ((t(by_main("apply: ")) - began) * speed).round() as i64;
        let choice = match tasks {
            1 => ("1", "1"),
            2..=4 => ("2 to 4", "2 到 4"),
            _ => ("5 or more", "5 或更多"),
        };
        assert!(
            tasks >= 5,
            "seed {seed}: five apply() calls took {tasks} tasks"
        );
        let expected = answer_shown(choice, &tasks.to_string(), chinese);
        assert_eq!(run.verdict(1)["observed"], expected.as_str(), "seed {seed}");

        // Step 2: the pid the callback printed.
        let callback = text(by_main("callback: "));
        let pid: i64 = callback.rsplit(' ').next().unwrap().parse().unwrap();
        let expected = if pid == main {
            answer_shown(("the main process", "主进程"), "the main process", chinese)
        } else {
            answer_shown(
                ("the worker that ran the task", "执行任务的那个工作进程"),
                "a worker",
                chinese,
            )
        };
        assert_eq!(run.verdict(2)["observed"], expected.as_str(), "seed {seed}");

        // Step 3: how the workers forked in step 3 (the second pool's) were reaped.
        let forked: Vec<i64> = run
            .of_kind("spawn")
            .iter()
            .filter(|e| step_of(&run, t(e)) == 3)
            .map(|e| e["child"].as_i64().unwrap())
            .collect();
        assert_eq!(forked.len(), 2, "seed {seed}");
        let codes: BTreeSet<i64> = forked.iter().map(|&pid| run.exitcode_of(pid)).collect();
        let codes: Vec<String> = codes.iter().map(i64::to_string).collect();
        assert_eq!(run.verdict(3)["observed"], codes.join(", ").as_str());
        assert_eq!(codes, ["-15"], "seed {seed}");

        // Step 4: the two times the main process printed.
        // The lab's line, in the language of the run.
        let timed = if chinese {
            text(by_main("进程池："))
                .replace("；每个任务一个进程：", "; a process per task: ")
                .replace("用了", " in")
        } else {
            text(by_main("pool: ")).to_string()
        };
        let (pool, per_process) = timed.split_once("; a process per task: ").unwrap();
        let pool = seconds(pool.rsplit(" in ").next().unwrap());
        let expected = if pool <= seconds(per_process) {
            answer_shown(("the pool", "进程池"), "the pool", chinese)
        } else {
            answer_shown(
                ("a process per task", "每个任务一个进程"),
                "a process per task",
                chinese,
            )
        };
        assert_eq!(run.verdict(4)["observed"], expected.as_str(), "seed {seed}");
    }
}

/// Step 4 runs its own Python (code/step4.py) with python3 in the same run, and the note puts
/// CPython's pool against its process per task beside the lab's: the times it states are the
/// ones CPython's line says.
#[test]
fn cpythons_tiny_tasks_are_said_beside_the_labs() {
    if common::python3_if_here("print(1)", std::time::Duration::from_secs(20)).is_none() {
        return;
    }
    let lab = common::Lab::new();
    let events = lab.lesson("10", &[]);
    let line = events.find("say", |e| {
        e["text"].as_str().unwrap_or("").starts_with("CPython ")
            && e["text"].as_str().unwrap_or("").contains(" tasks in ")
    });
    let text = line["text"].as_str().unwrap();
    // "CPython 3.11.7: pool of 4: 200 tasks in 0.006 s; a process per task: 0.492 s"
    let numbers: Vec<f64> = text
        .split([' ', ':', ';'])
        .filter_map(|word| word.parse().ok())
        .collect();
    let [workers, tasks, pooled, forked] = numbers[..] else {
        panic!("{text}");
    };
    let stated = format!(
        "through its pool of {workers} in {pooled:.3} s ({:.0} µs a task), with a bare \
         os.fork() per task in {forked:.3} s ({:.0} µs a task)",
        pooled * 1e6 / tasks,
        forked * 1e6 / tasks
    );
    let notes = events.texts("note");
    assert!(
        notes.iter().any(|n| n.contains(&stated)),
        "{stated}\n{notes:#?}"
    );
}
