//! Lesson 17 through the real binary: tasks share one pid and one thread and switch only
//! where they wait; a task that blocks the thread delays the others by at least its block;
//! the echo service on the executor, tokio and epoll, one thread each, far past 1000
//! requests/s; CPython's asyncio too (the claim of the notes); Ctrl-C leaves nothing.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::{Events, Lab, PREDICTION_RUNS, answer_among, lang_args, notes_headings, step_titles};
use serde_json::Value;

fn text(event: &Value) -> &str {
    event["text"].as_str().unwrap_or("")
}

/// What `main` said of `server`'s rate (`executor: 400 round trips in ... from 8 clients: 6000
/// requests/s, 1 thread(s)`, in Chinese `executor：8 个客户端在 ... 每秒 6000 个请求，...`): the
/// line, and the rate in it.
fn server_rate<'a>(events: &'a Events, main: i64, server: &str) -> (&'a Value, f64) {
    let line = events.find("say", |e| {
        e["pid"] == main
            && (text(e).starts_with(&format!("{server}: "))
                || text(e).starts_with(&format!("{server}：")))
    });
    let rate = match text(line).split_once(" requests/s") {
        Some((before, _)) => before.rsplit(' ').next(),
        None => text(line)
            .split("每秒 ")
            .nth(1)
            .and_then(|s| s.split(' ').next()),
    }
    .and_then(|s| s.parse().ok())
    .expect("a rate");
    (line, rate)
}

/// The events of the lesson's main process that a task emitted.
fn task_events(events: &Events, main: i64) -> Vec<&Value> {
    events
        .0
        .iter()
        .filter(|e| e["pid"] == main && e["task"].is_string())
        .collect()
}

#[test]
fn tasks_share_one_thread_switch_at_waits_and_a_blocking_one_stalls_all() {
    let lab = Lab::new();
    let events = lab.lesson("17", &["--seed", "17"]);
    assert_eq!(step_titles(&events), notes_headings("17-coroutines"));
    let main = events.main_pid();

    // One pid and one thread for every task: the main thread (no tid of its own).
    let tasks = task_events(&events, main);
    assert!(tasks.len() > 50, "{}", tasks.len());
    assert!(
        tasks.iter().all(|e| e["tid"].is_null()),
        "a task on another thread"
    );
    let mut names: Vec<&str> = tasks.iter().map(|e| e["task"].as_str().unwrap()).collect();
    names.sort();
    names.dedup();
    for name in [
        "alex", "wupeiqi", "yuanhao", "server", "conn-1", "tick-a", "sleeper",
    ] {
        assert!(names.contains(&name), "{name} not in {names:?}");
    }

    // A task stops only where it waits: whenever another task's line comes between two of
    // task T's lines, T's earlier line was its `wait` (or its `start`, before its first poll).
    // (A name is used again by a later step's task: a `done` ends the task that had it.)
    for (i, event) in tasks.iter().enumerate() {
        let name = &event["task"];
        if event["kind"] == "done" {
            continue;
        }
        let Some(next) = tasks[i + 1..].iter().position(|e| &e["task"] == name) else {
            continue;
        };
        if next > 0 {
            assert!(
                event["kind"] == "wait" || event["kind"] == "start",
                "{name} gave the thread up after {event}"
            );
        }
    }
    // Each wait is followed by the same task's woke.
    for (i, event) in tasks.iter().enumerate() {
        if event["kind"] == "wait" {
            let next = tasks[i + 1..]
                .iter()
                .find(|e| e["task"] == event["task"])
                .expect("the task goes on");
            assert_eq!(next["kind"], "woke", "{event} then {next}");
        }
    }
    // And they did take turns: the three tasks of step 1 interleave.
    let parts: Vec<&str> = tasks
        .iter()
        .filter(|e| e["kind"] == "say" && text(e).contains(" works on part "))
        .map(|e| e["task"].as_str().unwrap())
        .collect();
    assert_eq!(parts.len(), 9);
    let switches = parts.windows(2).filter(|w| w[0] != w[1]).count();
    assert!(switches >= 3, "{parts:?}");

    // The echo clients on the executor got their lines back upper-cased.
    for name in ["alex", "wupeiqi", "yuanhao"] {
        events.find("say", |e| {
            e["task"] == name
                && text(e)
                    == format!(
                        "{name} sent \"hello from {name}\" and got \"HELLO FROM {}\"",
                        name.to_uppercase()
                    )
        });
    }

    // The blocking sleep (1 s at speed 20: 50 ms) held the tickers up at least that long.
    let block = 0.05;
    let began = events.find("say", |e| {
        e["task"] == "blocking-sleeper" && text(e).contains("calls a plain sleep")
    });
    let ended = events.find("say", |e| {
        e["task"] == "blocking-sleeper" && text(e).contains("is back after")
    });
    let (t0, t1) = (began["t"].as_f64().unwrap(), ended["t"].as_f64().unwrap());
    assert!(t1 - t0 >= block, "{t0} {t1}");
    for ticker in ["tick-a", "tick-b"] {
        let times: Vec<f64> = tasks
            .iter()
            .filter(|e| e["task"] == ticker)
            .map(|e| e["t"].as_f64().unwrap())
            .collect();
        // Nothing of the ticker's while the thread slept, and the gap around it is the block
        // at least.
        assert!(
            !times.iter().any(|&t| t > t0 && t < t1),
            "{ticker} ran during the block"
        );
        let before = times
            .iter()
            .copied()
            .filter(|&t| t <= t0)
            .fold(f64::MIN, f64::max);
        let after = times
            .iter()
            .copied()
            .find(|&t| t >= t1)
            .expect("ticks after");
        assert!(after - before >= block, "{ticker}: {before} .. {after}");
    }
    events.find("note", |e| text(e).contains("gevent monkey-patches"));

    // The same service three ways: one thread each, far past 1000 requests/s.
    for server in ["executor", "tokio", "epoll"] {
        let (line, rate) = server_rate(&events, main, server);
        assert!(rate > 1000.0, "{line}");
        assert!(text(line).ends_with(", 1 thread(s)"), "{line}");
        assert_eq!(events.exitcode_of(events.pid_of(server)), 0);
    }
    events.find("note", |e| {
        text(e).starts_with("The tutorial asks how a Python service")
    });
}

#[test]
fn interrupted_during_the_load_leaves_nothing() {
    let lab = Lab::new();
    lab.interrupted_when(&["run", "17", "--json", "--speed", "20"], |e| {
        e["kind"] == "say" && text(e).starts_with("executor: ")
    });
    // `q` at the fourth prompt, before the servers are forked.
    let quit = lab.run(&["run", "17", "--step", "--speed", "20"], "\n\n\nq\n");
    assert!(quit.status.success(), "{}", quit.stderr);
}

/// The notes' claim: CPython's asyncio, one thread, is far past 1000 requests/s for the echo
/// service, measured with `proclab load` as the lesson measures its servers.
#[test]
fn python_asyncio_echo_is_past_a_thousand_requests_a_second() {
    let server = r#"
import asyncio
async def handle(reader, writer):
    while True:
        data = await reader.read(1024)
        if not data:
            break
        writer.write(data.upper())
        await writer.drain()
    writer.close()
async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await asyncio.sleep(60)
asyncio.run(main())
"#;
    let mut python = Command::new("python3")
        .args(["-c", server])
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let mut port = String::new();
    BufReader::new(python.stdout.take().unwrap())
        .read_line(&mut port)
        .unwrap();
    let port = port.trim().to_string();
    let lab = Lab::new();
    let load = lab.run(
        &[
            "load",
            "--port",
            &port,
            "--clients",
            "4",
            "--round-trips",
            "2000",
            "--size",
            "16",
            "--time-limit",
            "30",
        ],
        "",
    );
    // SIGKILL, then reap it: the server ends at once.
    let _ = python.kill();
    let _ = python.wait();
    assert!(load.status.success(), "{}\n{}", load.stdout, load.stderr);
    let rate: f64 = load
        .stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("requests/s"))
        .and_then(|s| s.trim().parse().ok())
        .expect("a rate");
    assert!(rate > 1000.0, "{}", load.stdout);
}

/// Each question's answer, computed here from the run's own events (the tasks' starts and
/// ends, the threads their events came from, the tickers' events during the blocking sleep,
/// the three servers' rates), with two seeds and once in Chinese.
#[test]
fn each_prediction_is_answered_from_the_runs_own_events() {
    let lab = Lab::new();
    for (seed, chinese) in PREDICTION_RUNS {
        let run = lab.predicted("17", seed, "1\n2\n1\n3\n", lang_args(chinese));
        run.assert_measured(1..=4);
        let shown = |step: i64| run.verdict(step)["choices"].as_array().unwrap().clone();
        let main = run.main_pid();
        let tasks = task_events(&run, main);
        let in_step = |e: &Value, step: usize| common::step_of(&run, common::t(e)) == step;

        // Step 1: the naps overlap, or add up: each task's life from start to done.
        let lives: Vec<(f64, f64)> = ["alex", "wupeiqi", "yuanhao"]
            .iter()
            .map(|name| {
                let own: Vec<&&Value> = tasks
                    .iter()
                    .filter(|e| e["task"] == *name && in_step(e, 1))
                    .collect();
                let start = own.iter().find(|e| e["kind"] == "start").unwrap();
                let done = own.iter().find(|e| e["kind"] == "done").unwrap();
                (common::t(start), common::t(done))
            })
            .collect();
        let span = lives.iter().map(|l| l.1).fold(0.0, f64::max)
            - lives.iter().map(|l| l.0).fold(f64::INFINITY, f64::min);
        let sum: f64 = lives.iter().map(|l| l.1 - l.0).sum();
        let longest = lives.iter().map(|l| l.1 - l.0).fold(0.0, f64::max);
        let choice = if (span - longest).abs() <= (sum - span).abs() {
            "about the longest task's naps"
        } else {
            "about the sum of all the naps"
        };
        let nap_choices = [
            "about the sum of all the naps",
            "about the longest task's naps",
        ];
        assert_eq!(
            run.verdict(1)["observed"],
            answer_among(&nap_choices, &shown(1), choice, choice)
        );

        // Step 2: the threads the tasks' events came from.
        let mut threads: Vec<String> = tasks
            .iter()
            .filter(|e| in_step(e, 2))
            .map(|e| format!("{}/{}", e["pid"], e["tid"]))
            .collect();
        threads.sort();
        threads.dedup();
        let count = threads.len().to_string();
        assert_eq!(
            run.verdict(2)["observed"],
            answer_among(&["1", "4", "7"], &shown(2), &count, &count)
        );

        // Step 3: any event of a ticker between the plain sleep's start and its end.
        let said = |part: &str, in_chinese: &str| {
            common::t(run.find("say", |e| {
                e["task"] == "blocking-sleeper"
                    && (text(e).contains(part) || text(e).contains(in_chinese))
            }))
        };
        let (slept, back) = (
            said("calls a plain sleep", "调用普通的 sleep"),
            said("is back after", "回来了"),
        );
        let ticked = tasks.iter().any(|e| {
            (e["task"] == "tick-a" || e["task"] == "tick-b")
                && common::t(e) > slept
                && common::t(e) < back
        });
        let choice = if ticked {
            "they kept ticking"
        } else {
            "they stopped until it woke"
        };
        let tick_choices = ["they kept ticking", "they stopped until it woke"];
        assert_eq!(
            run.verdict(3)["observed"],
            answer_among(&tick_choices, &shown(3), choice, choice)
        );

        // Step 4: the servers whose rate passed 1000 requests/s.
        let past = ["executor", "tokio", "epoll"]
            .iter()
            .filter(|server| server_rate(&run, main, server).1 > 1000.0)
            .count();
        let choice = match past {
            0 => "0",
            1 | 2 => "1 to 2",
            _ => "3",
        };
        assert_eq!(
            run.verdict(4)["observed"],
            answer_among(&["0", "1 to 2", "3"], &shown(4), choice, &past.to_string())
        );
    }
}
