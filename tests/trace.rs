//! `proclab trace`: a program the lab did not write, seen from the outside with ptrace. The
//! programs traced are in `tests/trace_programs/` (Python) or plain shell commands.
//!
//! Tracing needs `ptrace` to be allowed (not in every container) and the Python tests need
//! `python3`: each test probes for what it needs and says why it skipped; in CI
//! (`PROCLAB_CI`) a missing one fails instead.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::{Events, Lab};
use serde_json::Value;

fn program(name: &str) -> String {
    format!("{}/tests/trace_programs/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Whether this machine lets proclab trace: `proclab trace true` succeeds.
fn tracing_allowed() -> bool {
    let lab = Lab::new();
    let finished = lab.run(&["trace", "true"], "");
    if finished.status.success() {
        return true;
    }
    let why = finished.stderr.trim().to_string();
    if std::env::var_os("PROCLAB_CI").is_some() {
        panic!("tracing is not allowed here, and CI needs it: {why}");
    }
    eprintln!("skipped: proclab trace cannot trace here: {why}");
    false
}

fn python_present() -> bool {
    let found = Command::new("python3")
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|out| out.status.success());
    if !found {
        if std::env::var_os("PROCLAB_CI").is_some() {
            panic!("python3 is not installed (CI needs it)");
        }
        eprintln!("skipped: python3 is not installed");
    }
    found
}

fn ready(needs_python: bool) -> bool {
    (!needs_python || python_present()) && tracing_allowed()
}

/// `proclab trace --json ARGS...`, which must succeed.
#[track_caller]
fn traced(lab: &Lab, args: &[&str]) -> Events {
    let mut command = vec!["trace", "--json"];
    command.extend_from_slice(args);
    let finished = lab.run(&command, "");
    assert!(
        finished.status.success(),
        "{args:?}: {:?}\n{}\n{}",
        finished.status,
        finished.stderr,
        finished.stdout
    );
    finished.events()
}

/// The pid of the process named `name` (its `spawn`), and its parent's name.
#[track_caller]
fn spawned(events: &Events, name: &str) -> (i64, String) {
    let spawn = events.find("spawn", |e| e["child_name"] == name);
    (
        spawn["child"].as_i64().unwrap(),
        spawn["name"].as_str().unwrap().to_string(),
    )
}

#[test]
fn a_python_program_is_seen_with_its_processes_threads_waits_and_names() {
    if !ready(true) {
        return;
    }
    let lab = Lab::new();
    for method in ["fork", "spawn", "forkserver"] {
        let events = traced(&lab, &[&program("family.py"), method]);
        let header = &events.0[0];
        assert_eq!(header["kind"], "trace", "{method}");
        assert_eq!(header["traced_by"], "ptrace+seccomp");

        // The program's main process is Python's MainProcess, forked by the lab's tracer.
        let (main, parent) = spawned(&events, "MainProcess");
        assert_eq!(parent, "tracer", "{method}:\n{}", events.dump());
        // alex is forked by MainProcess (fork, spawn) or by the fork server (forkserver).
        let (alex, alex_parent) = spawned(&events, "alex");
        let expected_parent = match method {
            "forkserver" => "forkserver",
            _ => "MainProcess",
        };
        assert_eq!(alex_parent, expected_parent, "{method}:\n{}", events.dump());
        events.find("say", |e| {
            e["pid"] == alex && e["name"] == "alex" && e["text"] == "alex is running in alex"
        });
        // It slept, and said so as a wait that got what it waited for.
        events.find("woke", |e| {
            e["pid"] == alex && e["on"] == "sleep" && e["got"] == true
        });
        events.find("done", |e| e["pid"] == alex && e["code"] == 0);
        if method != "forkserver" {
            // MainProcess joined alex: its wait, and its reaping with alex's exit code.
            events.find("wait", |e| {
                e["pid"] == main && e["on"] == "join" && e["object"] == format!("alex ({alex})")
            });
            events.find("exit", |e| {
                e["pid"] == main && e["child"] == alex && e["exitcode"] == 0
            });
        }
        // The thread: Python's own name for it, in the main process.
        let start = events.find("start", |e| {
            e["pid"] == main && e["thread"] == "Thread-1 (sayhi)"
        });
        let tid = start["tid"].as_i64().unwrap();
        assert_ne!(tid, main);
        events.find("say", |e| {
            e["tid"] == tid && e["text"] == "hi from Thread-1 (sayhi)"
        });
        // Its join, told by the main thread once `t.join()` returned.
        events.find("exit", |e| {
            e["pid"] == main && e["child"] == tid && e["is_thread"] == true && e["exitcode"] == 0
        });
        // What the main process printed, in the order printed, after alex and the thread.
        let said_by_main: Vec<&str> = events
            .of_kind("say")
            .iter()
            .filter(|e| e["pid"] == main && e.get("tid").is_none())
            .map(|e| e["text"].as_str().unwrap())
            .collect();
        assert_eq!(said_by_main, ["main done"], "{method}");
        // The lab reaped MainProcess, its own child, with its exit code.
        let lab_reaped = events.find("exit", |e| e["child"] == main);
        assert_eq!(lab_reaped["name"], "tracer");
        assert_eq!(lab_reaped["exitcode"], 0);
        assert_eq!(events.find("end", |_| true)["outcome"], "finished");
    }
}

#[test]
fn the_header_comes_first_and_the_tracer_is_drawn_waiting_while_the_program_runs() {
    if !ready(false) {
        return;
    }
    let lab = Lab::new();
    // The line view: the header (a rule, then the title) before any line of the run, the
    // supervisor's fork of the tracer included.
    let finished = lab.run(&["trace", "sh", "-c", "sleep 0.3"], "");
    assert!(finished.status.success(), "{}", finished.stderr);
    let out = &finished.stdout;
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("───"), "{out}");
    assert!(
        lines[1].starts_with("proclab · trace · sh -c sleep 0.3"),
        "{out}"
    );
    assert!(
        out.find("proclab · trace").unwrap() < out.find("forked child").unwrap(),
        "{out}"
    );
    // The events: the header first; the tracer waits for the program from its start to the
    // end of the last of its processes, and the timeline draws it so.
    let events = traced(&lab, &["sh", "-c", "sleep 0.3"]);
    assert_eq!(events.0[0]["kind"], "trace", "{}", events.dump());
    let tracer = events.find("spawn", |e| e["child_name"] == "tracer")["child"]
        .as_i64()
        .unwrap();
    let sh = events.find("exec", |_| true)["pid"].as_i64().unwrap();
    let waits = events.find("wait", |e| e["pid"] == tracer && e["on"] == "join");
    let woke = events.find("woke", |e| e["pid"] == tracer && e["on"] == "join");
    let program_reaped = events.find("exit", |e| e["pid"] == tracer && e["child"] == sh);
    let t = |e: &Value| e["t"].as_f64().unwrap();
    assert!(
        t(waits) <= t(events.find("exec", |_| true)),
        "{}",
        events.dump()
    );
    assert!(t(woke) >= t(program_reaped), "{}", events.dump());
    assert!(woke["after"].as_f64().unwrap() >= 0.2, "{}", events.dump());
}

#[test]
fn terminate_is_a_sigterm_from_the_parent_that_interrupts_the_childs_sleep() {
    if !ready(true) {
        return;
    }
    let lab = Lab::new();
    let events = traced(&lab, &[&program("terminate.py")]);
    let (child, parent) = spawned(&events, "Process-1");
    assert_eq!(parent, "MainProcess");
    let main = spawned(&events, "MainProcess").0;
    let sent = events.position("note", |e| {
        e["pid"] == main && e["text"] == format!("sends SIGTERM to Process-1 ({child})")
    });
    let received = events.position("note", |e| {
        e["pid"] == child && e["text"] == "received SIGTERM"
    });
    assert!(sent < received, "{}", events.dump());
    events.find("woke", |e| {
        e["pid"] == child && e["on"] == "sleep" && e["got"] == false && e["ended"] == "interrupted"
    });
    events.find("done", |e| e["pid"] == child && e["code"] == -15);
    events.find("exit", |e| {
        e["pid"] == main && e["child"] == child && e["exitcode"] == -15
    });
    events.find("say", |e| e["pid"] == main && e["text"] == "exitcode -15");
}

#[test]
fn a_deadlock_shows_both_threads_waiting_in_futex_and_ends_cleanly_on_ctrl_c() {
    if !ready(true) {
        return;
    }
    let lab = Lab::new();
    let path = program("deadlock.py");
    let waiting = std::sync::Mutex::new(std::collections::HashSet::new());
    // Ctrl-C once both threads are said to be waiting on a futex, each holding its lock.
    let events = lab.interrupted_when(&["trace", "--json", &path], |event: &Value| {
        if event["kind"] == "wait" && event["on"] == "futex" && event.get("thread").is_some() {
            let mut waiting = waiting.lock().unwrap();
            waiting.insert(event["tid"].as_i64().unwrap());
            return waiting.len() == 2;
        }
        false
    });
    for (thread, holds) in [
        ("Thread-1 (first)", "mutexA"),
        ("Thread-2 (second)", "mutexB"),
    ] {
        let said = events.find("say", |e| e["thread"] == thread);
        assert_eq!(
            said["text"],
            format!("{} has {holds}", &thread[10..thread.len() - 1])
        );
        events.find("wait", |e| e["thread"] == thread && e["on"] == "futex");
    }
}

#[test]
fn kill_9_of_proclab_leaves_nothing_of_the_traced_program() {
    if !ready(true) {
        return;
    }
    let lab = Lab::new();
    let path = program("forever.py");
    let gone = lab.signal_supervisor_after(
        &["trace", "--json", &path],
        Duration::from_millis(1500),
        nix::sys::signal::Signal::SIGKILL,
        Duration::from_secs(10),
    );
    eprintln!("everything gone {gone:?} after kill -9");
}

#[test]
fn the_programs_exit_status_is_proclabs() {
    if !ready(false) {
        return;
    }
    let lab = Lab::new();
    let finished = lab.run(&["trace", "--json", "sh", "-c", "exit 3"], "");
    assert_eq!(finished.status.code(), Some(3), "{}", finished.stderr);
    let events = finished.events();
    let sh = events.find("exec", |_| true)["pid"].as_i64().unwrap();
    events.find("done", |e| e["pid"] == sh && e["code"] == 3);
    // Killed by a signal: 128 + N, as a shell says it; its `done` says -N.
    let finished = lab.run(&["trace", "--json", "sh", "-c", "kill -TERM $$"], "");
    assert_eq!(finished.status.code(), Some(143), "{}", finished.stderr);
    let events = finished.events();
    events.find("done", |e| e["code"] == -15);
    events.find("note", |e| e["text"] == "received SIGTERM");
}

#[test]
fn a_child_not_yet_waited_for_is_a_zombie_until_its_parents_wait() {
    if !ready(true) {
        return;
    }
    let lab = Lab::new();
    // The child leaves at once; the parent waits for it only 0.8 s later.
    let program = "import os, time\n\
                   child = os.fork()\n\
                   if child == 0:\n    os._exit(7)\n\
                   time.sleep(0.8)\n\
                   os.waitpid(child, 0)\n";
    let events = traced(&lab, &["python3", "-c", program]);
    let (main, parent) = spawned(&events, "MainProcess");
    assert_eq!(parent, "tracer");
    let spawn = events.find("spawn", |e| e["name"] == "MainProcess");
    let child_pid = spawn["child"].as_i64().unwrap();
    assert_ne!(child_pid, main);
    let ended = events.find("done", |e| e["pid"] == child_pid && e["code"] == 7)["t"]
        .as_f64()
        .unwrap();
    let reaped = events.find("exit", |e| e["child"] == child_pid);
    assert_eq!(reaped["pid"], main, "{}", events.dump());
    assert_eq!(reaped["exitcode"], 7);
    let zombie_for = reaped["t"].as_f64().unwrap() - ended;
    // 0.8 s by the parent's sleep; a wide margin for a busy machine.
    assert!(
        zombie_for > 0.4,
        "a zombie for only {zombie_for} s:\n{}",
        events.dump()
    );
}

#[test]
fn an_orphan_is_re_parented_to_the_lab_and_reaped_by_it() {
    if !ready(false) {
        return;
    }
    let lab = Lab::new();
    let events = traced(
        &lab,
        &[
            "sh",
            "-c",
            "(sleep 0.3; echo orphan says bye) & echo parent leaves",
        ],
    );
    let tracer = events.find("spawn", |e| e["child_name"] == "tracer")["child"]
        .as_i64()
        .unwrap();
    let bye = events.find("say", |e| e["text"] == "orphan says bye");
    assert_eq!(bye["ppid"], tracer, "{}", events.dump());
    let orphan = bye["pid"].as_i64().unwrap();
    events.find("note", |e| {
        e["pid"] == orphan && e["text"].as_str().unwrap().starts_with("orphaned")
    });
    let reaped = events.find("exit", |e| e["child"] == orphan);
    assert_eq!(reaped["pid"], tracer);
}

#[test]
fn what_cannot_be_traced_is_said_in_one_line_with_status_2() {
    let lab = Lab::new();
    let not_executable = format!("{}/Cargo.toml", env!("CARGO_MANIFEST_DIR"));
    let cases: [(&[&str], &str); 3] = [
        (&["trace", "no-such-program-here"], "not found in PATH"),
        (&["trace", "/no/such/file"], "no such file"),
        (&["trace", "--", &not_executable], "not executable"),
    ];
    for (args, why) in cases {
        let finished = lab.run(args, "");
        assert_eq!(finished.status.code(), Some(2), "{args:?}");
        let stderr = finished.stderr.trim_end();
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.starts_with("proclab: cannot trace") && stderr.contains(why),
            "{args:?}: {stderr}"
        );
        assert!(finished.stdout.is_empty(), "{}", finished.stdout);
    }
    // proclab under a tracer of its own (strace) cannot trace: one tracer per process.
    let strace = Command::new("strace").arg("-V").output();
    if strace.is_ok_and(|out| out.status.success()) {
        let mut command = lab.command(&["trace", "true"]);
        let args: Vec<String> = std::iter::once(common::BIN.to_string())
            .chain(command.get_args().map(|a| a.to_string_lossy().into_owned()))
            .collect();
        command = lab.command(&[]);
        let mut strace = Command::new("strace");
        strace.args(["-f", "-o", "/dev/null"]).args(&args);
        for (key, value) in command.get_envs() {
            match value {
                Some(value) => strace.env(key, value),
                None => strace.env_remove(key),
            };
        }
        let finished = lab.run_command(strace, "");
        assert_eq!(finished.status.code(), Some(2), "{}", finished.stderr);
        assert!(
            finished.stderr.contains("itself being traced"),
            "{}",
            finished.stderr
        );
    } else {
        eprintln!("skipped the case of proclab under strace: strace is not installed");
    }
}

/// Lesson 4's forking server as the tutorial wrote it (its `server()`, from step 3's program,
/// which never waits for its handlers), traced while `proclab load` makes 12 connections one
/// at a time: each handler ends (`done`) and stays a zombie until the server's next `start()`
/// reaps the finished ones (Python's `multiprocessing` does that, with `WNOHANG`), and the
/// last stays one until the end. The zombies the trace shows are the ones `/proc` shows.
#[test]
fn lesson_4s_forking_server_under_load_shows_its_zombies() {
    if !ready(true) {
        return;
    }
    const CONNECTIONS: usize = 12;
    let code = format!(
        "{}/lessons/04-socket-concurrency/code",
        env!("CARGO_MANIFEST_DIR")
    );
    let program = format!(
        "import sys\n\
         sys.path.insert(0, {code:?})\n\
         from socket import *\n\
         from step3 import server\n\
         s = socket(AF_INET, SOCK_STREAM)\n\
         s.bind(('127.0.0.1', 0))\n\
         s.listen(5)\n\
         print('listening on 127.0.0.1:%d' % s.getsockname()[1], flush=True)\n\
         server(s, False)\n"
    );
    let lab = Lab::new();
    let mut server = common::Server::start_command(
        &lab,
        lab.command(&["trace", "--json", "python3", "-c", &program]),
    );
    let main = server.server_pid;
    // A lab of its own: the traced server carries this lab's mark, and is not load's leftover.
    let load = Lab::new().run(
        &[
            "load",
            "--port",
            &server.port.to_string(),
            "--connections",
            &CONNECTIONS.to_string(),
        ],
        "",
    );
    assert!(load.status.success(), "{}\n{}", load.stderr, load.stdout);
    let is_handler = |e: &Value| e["kind"] == "spawn" && e["pid"] == main;
    let handlers: Vec<i64> = (0..CONNECTIONS)
        .map(|_| server.wait_for_new(is_handler)["child"].as_i64().unwrap())
        .collect();
    for handler in &handlers {
        server.wait_for(|e| e["kind"] == "done" && e["pid"] == *handler && e["code"] == 0);
    }
    // The zombies by the trace: handlers ended and not reaped by the server. Compared with
    // /proc's once the trace has caught up with the server's last reaping.
    let zombies_traced = |seen: &[String]| {
        let events = common::Events::parse(&seen.join("\n"));
        handlers
            .iter()
            .filter(|handler| {
                !events
                    .of_kind("exit")
                    .iter()
                    .any(|e| e["pid"] == main && e["child"] == **handler)
            })
            .count()
    };
    let in_proc = server.zombies();
    assert!(in_proc >= 1, "the server reaped every handler");
    assert_eq!(
        zombies_traced(&server.seen),
        in_proc,
        "{}",
        server.seen.join("\n")
    );
    let events = server.stop(&lab);
    // Each reaped handler was a zombie from its end to the next connection's start().
    let mut reaped_late = 0;
    for (index, handler) in handlers.iter().enumerate() {
        let ended = events.find("done", |e| e["pid"] == *handler)["t"]
            .as_f64()
            .unwrap();
        let reaped = events
            .of_kind("exit")
            .into_iter()
            .find(|e| e["pid"] == main && e["child"] == *handler);
        let Some(reaped) = reaped else { continue };
        assert!(reaped["t"].as_f64().unwrap() > ended, "{}", events.dump());
        if let Some(next) = handlers.get(index + 1) {
            let next_spawned = events.find("spawn", |e| e["child"] == *next)["t"]
                .as_f64()
                .unwrap();
            if reaped["t"].as_f64().unwrap() <= next_spawned {
                reaped_late += 1;
            }
        }
    }
    assert!(reaped_late >= 1, "{}", events.dump());
}

/// A traced program killed with proclab (`kill -9` of the supervisor: its guard cleans up)
/// leaves nothing under /dev/shm: its shared memory block and its named semaphore (made under
/// a temporary name, then linked to its own) go with the run; a file there that the program
/// did not make stays.
#[test]
fn what_a_traced_program_made_under_dev_shm_goes_with_the_run() {
    if !ready(true) {
        return;
    }
    use std::io::BufRead;
    let lab = Lab::new();
    // Not named proclab-...: the lab's own leftovers check would count it.
    let not_ours = format!("/dev/shm/not-the-traced-programs-{}", lab.tag);
    std::fs::write(&not_ours, b"someone else's").unwrap();
    let mut child = lab.spawn(
        lab.command(&["trace", "--json", &program("shared.py")]),
        Stdio::null(),
    );
    let supervisor = child.id() as i32;
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut made = Vec::new();
    while made.len() < 2 {
        let line = lines.next().expect("the program names its files").unwrap();
        let event: Value = serde_json::from_str(&line).unwrap();
        let text = event["text"].as_str().unwrap_or("");
        if let Some(block) = text.strip_prefix("block ") {
            made.push(format!("/dev/shm/{block}"));
        }
        if let Some(semaphore) = text.strip_prefix("semaphore /") {
            made.push(format!("/dev/shm/sem.{semaphore}"));
        }
    }
    for path in &made {
        assert!(std::path::Path::new(path).exists(), "{path}");
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(supervisor),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let killed = std::time::Instant::now();
    let _ = child.wait();
    drop(lines);
    lab.wait_until_gone(killed, Duration::from_secs(10));
    lab.assert_nothing_left(supervisor);
    let left: Vec<&String> = made
        .iter()
        .filter(|path| std::path::Path::new(path).exists())
        .collect();
    let kept = std::path::Path::new(&not_ours).exists();
    let _ = std::fs::remove_file(&not_ours);
    assert!(left.is_empty(), "left under /dev/shm: {left:?}");
    assert!(
        kept,
        "{not_ours} was removed, and the program did not make it"
    );
}
