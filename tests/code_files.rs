//! The code beside each step (`lessons/NN-slug/code/stepK.py` and `stepK.rs`, what `proclab
//! code` prints) runs, and prints what the step says: every Python file under `python3`, every
//! Rust file through the example that runs them (`cargo run --example step -- N K`), each
//! bounded in time. The two programs of a step print
//! the same lines, so one check serves both.
//!
//! The example is built by `cargo test` (with no filter), as cargo builds every example to
//! check it compiles; `cargo test --test code_files` alone does not build it, so build it
//! first then (`cargo build --examples`).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{free_port, output_within};

/// The programs of a step may sleep up to 3 s, as the tutorial's do; a busy machine may be
/// five times slower.
const LIMIT: Duration = Duration::from_secs(60);

fn lesson_file(folder: &str, file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("lessons")
        .join(folder)
        .join("code")
        .join(file)
}

/// Runs the program named by the first argument as `python3 program args...` would, except
/// that each line printed is one `write`, as Rust's `println!` does. (Into a pipe Python
/// buffers whole blocks, so the order of lines from different processes would be lost; `-u`
/// and line buffering write a line's text and its newline separately, so lines would tear.)
const LINE_BUFFERED: &str = r#"
import os, runpy, sys

class Lines:
    """Standard output that writes each whole line with one os.write."""
    def __init__(self):
        self.pending = ""
    def write(self, text):
        self.pending += text
        whole, newline, self.pending = self.pending.rpartition("\n")
        if newline:
            os.write(1, (whole + newline).encode())
        return len(text)
    def flush(self):
        if self.pending:
            os.write(1, self.pending.encode())
            self.pending = ""

sys.stdout = Lines()
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"#;

/// The command that runs step `step` of lesson `number` in Rust: `target/<profile>/examples/step
/// N K` (next to this test's own `deps` directory), as `cargo run --example step -- N K` does.
fn rust_step(number: u32, step: u32) -> Command {
    let test = std::env::current_exe().unwrap();
    let profile = test.parent().unwrap().parent().unwrap();
    let path = profile.join("examples").join("step");
    assert!(
        path.exists(),
        "{} is not built: `cargo test` builds the examples, or `cargo build --examples`",
        path.display()
    );
    let mut command = Command::new(path);
    command.args([number.to_string(), step.to_string()]);
    command
}

/// Runs step `step` of lesson `number` (folder `folder`) both ways, with `args`, and returns
/// the two outputs: Python's, then Rust's. Without arguments the two run at the same time
/// (they mostly sleep); with them (a port) one after the other, since both would use it.
#[track_caller]
fn both(number: u32, folder: &str, step: u32, args: &[String]) -> [String; 2] {
    let mut python = Command::new("python3");
    python
        .args(["-c", LINE_BUFFERED])
        .arg(lesson_file(folder, &format!("step{step}.py")))
        .args(args);
    let mut rust = rust_step(number, step);
    rust.args(args);
    if args.is_empty() {
        at_once(python, rust)
    } else {
        [
            output_within(&mut python, LIMIT),
            output_within(&mut rust, LIMIT),
        ]
    }
}

/// Runs both commands at the same time; returns their outputs in order.
#[track_caller]
fn at_once(mut first: Command, mut second: Command) -> [String; 2] {
    let first = std::thread::spawn(move || output_within(&mut first, LIMIT));
    let second = output_within(&mut second, LIMIT);
    [first.join().expect("the first program's check"), second]
}

fn lines(out: &str) -> Vec<&str> {
    out.lines().collect()
}

#[test]
fn lesson_1_step_1_the_main_line_comes_before_any_child_ends() {
    for out in both(1, "01-spawn-function", 1, &[]) {
        let lines = lines(&out);
        assert_eq!(lines.len(), 7, "{out}");
        let main = lines.iter().position(|l| *l == "主进程").expect(&out);
        for name in ["alex", "wupeiqi", "yuanhao"] {
            let end = format!("{name} is piao end");
            let ended = lines.iter().position(|l| *l == end).expect(&out);
            assert!(main < ended, "{out}");
            assert!(
                lines.contains(&format!("{name} is piaoing").as_str()),
                "{out}"
            );
        }
    }
}

#[test]
fn lesson_1_step_2_the_sleeps_overlap() {
    for out in both(1, "01-spawn-function", 2, &[]) {
        let last = out.lines().last().expect(&out);
        // "6 s of sleeping in 3.0 s: the longest sleep was 3 s"
        let words: Vec<&str> = last.split(' ').collect();
        let total: f64 = words[0].parse().expect(&out);
        let wall: f64 = words[5].parse().expect(&out);
        let longest: f64 = words[words.len() - 2].parse().expect(&out);
        assert!(wall >= longest - 0.05, "{out}");
        // Near the longest sleep, far from the sum when the sum is larger.
        assert!(wall < longest + 1.0 || total == longest, "{out}");
    }
}

#[test]
fn lesson_1_step_3_join_reports_each_exit_code() {
    for out in both(1, "01-spawn-function", 3, &[]) {
        for name in ["alex", "wupeiqi", "yuanhao"] {
            let joined = format!("{name} joined, exitcode 0");
            assert!(out.lines().any(|l| l == joined), "{out}");
        }
        assert_eq!(out.lines().last(), Some("all children are done"), "{out}");
    }
}

#[test]
fn lesson_1_step_4_join_with_a_timeout_leaves_the_child_alive() {
    for out in both(1, "01-spawn-function", 4, &[]) {
        // Python prints True, Rust true.
        let out = out.to_lowercase();
        assert_eq!(
            lines(&out),
            [
                "alex is piaoing",
                "after join(0.5): is_alive() true, exitcode none",
                "alex is piao end",
                "after join(): is_alive() false, exitcode 0",
            ],
            "{out}"
        );
    }
}

#[test]
fn lesson_2_step_1_each_worker_is_a_child_of_the_main_process() {
    for out in both(2, "02-spawn-worker", 1, &[]) {
        let main = out
            .lines()
            .find_map(|l| l.strip_prefix("主进程 "))
            .expect(&out);
        let parents: Vec<&str> = out
            .lines()
            .filter(|l| l.bytes().all(|b| b.is_ascii_digit() || b == b' '))
            .map(|l| l.split(' ').next().unwrap())
            .collect();
        assert_eq!(parents, [main, main, main], "{out}");
        for name in ["alex", "wupeiqi", "yuanhao"] {
            assert!(out.contains(&format!("{name} is piao end")), "{out}");
        }
    }
}

#[test]
fn lesson_2_step_2_run_stays_in_the_caller_and_start_forks() {
    for out in both(2, "02-spawn-worker", 2, &[]) {
        let lines = lines(&out);
        assert_eq!(lines.len(), 5, "{out}");
        let main = lines[0].strip_prefix("main process is pid ").expect(&out);
        assert!(
            lines[1].starts_with(&format!("run-direct runs in pid {main}, parent ")),
            "{out}"
        );
        assert!(lines[2].ends_with(&format!(", parent {main}")), "{out}");
        assert!(!lines[2].contains(&format!("pid {main},")), "{out}");
        assert_eq!(
            lines[3..],
            [
                "join() on a process never started: can only join a started process",
                "start() a second time: cannot start a process twice",
            ]
        );
    }
}

#[test]
fn lesson_2_step_3_default_names_count_and_follow_the_class() {
    for out in both(2, "02-spawn-worker", 3, &[]) {
        assert_eq!(
            lines(&out),
            [
                "Process-1 Process-2 Piao-3 yuanhao",
                "Process-1:1: my name",
                "Process-2: my name",
                "Piao-3: my name",
                "yuanhao: my name",
            ]
        );
    }
}

#[test]
fn lesson_2_step_4_a_spawned_child_binds_the_port_again_and_fails() {
    let port = free_port().to_string();
    for out in both(2, "02-spawn-worker", 4, std::slice::from_ref(&port)) {
        let lines = lines(&out);
        assert_eq!(lines.len(), 5, "{out}");
        assert_eq!(
            lines[0],
            format!("MainProcess: module level: bound port {port}")
        );
        assert!(lines[1].starts_with("fork-child: runs, holding "), "{out}");
        assert!(lines[1].contains(&port), "{out}");
        assert_eq!(lines[2], "fork: exitcode 0");
        assert!(
            lines[3].starts_with("spawn-child: module level: Address already in use"),
            "{out}"
        );
        assert_eq!(lines[4], "spawn: exitcode 1");
    }
}

#[test]
fn lesson_3_step_1_the_daemon_stops_counting_when_the_parent_returns() {
    for out in both(3, "03-daemon-terminate", 1, &[]) {
        let lines = lines(&out);
        let returned = lines
            .iter()
            .position(|l| *l == "parent: main work done, returning")
            .expect(&out);
        // The counter counted while the parent worked (about four times), never after.
        let counted_before = lines[..returned]
            .iter()
            .filter(|l| l.starts_with("counter: "))
            .count();
        assert!(counted_before >= 1, "{out}");
        // The parent's exit terminates the daemon a moment after its last line: a count that
        // was already on its way may land in between (seen under heavy load), but no more
        // than one, and none once the worker is done (the daemon was terminated before the
        // worker was waited for).
        let counted_after = lines[returned..]
            .iter()
            .filter(|l| l.starts_with("counter: "))
            .count();
        assert!(counted_after <= 1, "{out}");
        let worker_done = lines.iter().position(|l| *l == "worker: done").expect(&out);
        assert!(
            !lines[worker_done..]
                .iter()
                .any(|l| l.starts_with("counter: ")),
            "{out}"
        );
        assert_eq!(
            lines[lines.len() - 2..],
            ["worker: done", "parent exitcode 0"],
            "{out}"
        );
    }
}

#[test]
fn lesson_3_step_2_the_daemon_rules_in_python_words() {
    for out in both(3, "03-daemon-terminate", 2, &[]) {
        assert_eq!(
            lines(&out),
            [
                "daemon after start(): process has already started",
                "a daemon that started a child: exitcode 1",
            ]
        );
    }
}

#[test]
fn lesson_3_step_3_the_orphan_gets_a_new_parent() {
    for out in both(3, "03-daemon-terminate", 3, &[]) {
        let lines = lines(&out);
        let terminating = lines
            .iter()
            .position(|l| l.starts_with("terminating doomed, pid "))
            .expect(&out);
        let doomed = lines[terminating].rsplit(' ').next().unwrap();
        let parent_before = format!("grandchild: my parent is {doomed}");
        assert!(
            lines[..terminating].contains(&parent_before.as_str()),
            "{out}"
        );
        assert_eq!(lines[terminating + 1], "doomed exitcode -15", "{out}");
        // Alive after its parent's death, with another parent (pid 1 or a subreaper).
        let after: Vec<&&str> = lines[terminating + 2..]
            .iter()
            .filter(|l| l.starts_with("grandchild: my parent is "))
            .collect();
        assert!(!after.is_empty(), "{out}");
        assert!(after.iter().all(|l| **l != parent_before), "{out}");
    }
}

#[test]
fn lesson_3_step_4_python_reaps_in_is_alive_the_lab_does_not() {
    let [python, rust] = both(3, "03-daemon-terminate", 4, &[]);
    for (out, after_is_alive) in [(&python, "gone"), (&rust, "Z")] {
        let out = out.to_lowercase();
        assert_eq!(
            lines(&out),
            [
                "before start(): is_alive() false, exitcode none",
                "while it runs: is_alive() true, exitcode none",
                "ended, not joined: z in /proc",
                "after it ended: is_alive() false, exitcode 0",
                &format!(
                    "after is_alive(): {} in /proc",
                    after_is_alive.to_lowercase()
                ),
                "exitcode: never-started none, returns 0, exits-3 3, terminated -15, killed -9",
            ]
        );
    }
}

#[test]
fn lesson_3_step_5_a_lock_stays_held_an_flock_does_not() {
    for out in both(3, "03-daemon-terminate", 5, &[]) {
        assert_eq!(
            lines(&out.to_lowercase()),
            [
                "lock holder exitcode -15; taker got it: false",
                "flock holder exitcode -15; taker got it: true",
            ]
        );
    }
}

/// Runs step `step` of lesson 4 both ways, each on a free port of its own (the previous
/// run's port may still be in TIME_WAIT): Python's output, then Rust's.
#[track_caller]
fn lesson_4(step: u32) -> [String; 2] {
    let mut python = Command::new("python3");
    python
        .args(["-c", LINE_BUFFERED])
        .arg(lesson_file(
            "04-socket-concurrency",
            &format!("step{step}.py"),
        ))
        .arg(free_port().to_string());
    let mut rust = rust_step(4, step);
    rust.arg(free_port().to_string());
    at_once(python, rust)
}

#[test]
fn lesson_4_step_1_every_client_gets_its_lines_upper_cased() {
    for out in lesson_4(1) {
        let lines = lines(&out);
        assert_eq!(lines[0], "start running...", "{out}");
        let connections = lines
            .iter()
            .filter(|l| l.starts_with("connection from"))
            .count();
        assert_eq!(connections, 3, "{out}");
        for name in ["ALEX", "WUPEIQI", "YUANHAO"] {
            for line in [" LINE 1", " LINE 2"] {
                assert!(lines.contains(&format!("{name}{line}").as_str()), "{out}");
            }
        }
    }
}

#[test]
fn lesson_4_step_2_the_iterative_server_makes_the_last_client_wait() {
    for out in lesson_4(2) {
        let seconds: Vec<f64> = out
            .lines()
            .map(|l| l.split(' ').nth(3).unwrap().parse().unwrap())
            .collect();
        assert_eq!(seconds.len(), 3, "{out}");
        // Each conversation takes 1 s of pauses; served one at a time, the last client cannot
        // be done before about 2 s (with a handler each, all would be done after 1 s).
        let slowest = seconds.iter().cloned().fold(0.0, f64::max);
        assert!(slowest >= 1.9, "{out}");
    }
}

#[test]
fn lesson_4_step_3_zombies_unless_sigchld_is_ignored() {
    for out in lesson_4(3) {
        assert_eq!(
            lines(&out),
            [
                "the tutorial's server: 3 zombie(s)",
                "SIGCHLD ignored: 0 zombie(s)"
            ]
        );
    }
}

#[test]
fn lesson_4_step_4_the_end_comes_with_the_next_client() {
    for out in lesson_4(4) {
        let lines = lines(&out);
        assert_eq!(
            lines[..2],
            [
                "alex got BYE",
                "alex: no end after 1 s: the server still holds its copy"
            ]
        );
        assert!(
            lines[2].starts_with("wupeiqi connected; alex reads "),
            "{out}"
        );
        assert!(lines[2].ends_with(": the end"), "{out}");
    }
}

#[test]
fn lesson_4_step_5_time_wait_needs_so_reuseaddr() {
    for out in lesson_4(5) {
        let lines = lines(&out);
        let refused = "without SO_REUSEADDR: Address already in use";
        assert!(lines[0].starts_with(refused), "{out}");
        assert_eq!(lines[1], "with SO_REUSEADDR: bound", "{out}");
    }
}

#[test]
fn lesson_4_step_6_a_connected_handler_keeps_the_port() {
    for out in lesson_4(6) {
        let lines = lines(&out);
        assert_eq!(lines.len(), 2, "{out}");
        let refused = "without SO_REUSEADDR: Address already in use";
        assert!(
            lines[0].starts_with(&format!("handler: {refused}")),
            "{out}"
        );
        assert!(lines[0].ends_with("; with: bound"), "{out}");
        assert!(
            lines[1].starts_with(&format!("tutorial's handler: {refused}")),
            "{out}"
        );
        assert!(lines[1].contains("; with: Address already in use"), "{out}");
    }
}

#[test]
fn lesson_4_step_7_one_read_per_line_falls_a_reply_behind() {
    for out in lesson_4(7) {
        let lines = lines(&out);
        assert_eq!(lines.len(), 6, "{out}");
        assert_eq!(lines[0], "alex sent 1500 x a, got 1024 bytes starting A");
        // The rest of the first reply (476 bytes), and the "B" if it had arrived.
        assert!(lines[1].starts_with("alex sent 1 x b, got 47"), "{out}");
        assert!(lines[1].ends_with("bytes starting A"), "{out}");
        assert_eq!(
            lines[3..],
            [
                "wupeiqi sent 1500 x a, got 1500 bytes starting A",
                "wupeiqi sent 1 x b, got 1 bytes starting B",
                "wupeiqi sent 1 x c, got 1 bytes starting C",
            ]
        );
    }
}

#[test]
fn proclab_code_prints_both_programs_of_each_step() {
    let lab = common::Lab::new();
    let all = lab.run(&["code", "1"], "");
    assert!(all.status.success(), "{}", all.stderr);
    for step in 1..=4 {
        for kind in ["py", "rs"] {
            let file = std::fs::read_to_string(lesson_file(
                "01-spawn-function",
                &format!("step{step}.{kind}"),
            ))
            .unwrap();
            assert!(all.stdout.contains(file.trim_end()), "step{step}.{kind}");
        }
        assert!(
            all.stdout
                .contains(&format!("cargo run --example step -- 1 {step}"))
        );
    }
    let one = lab.run(&["code", "spawn-function", "--step", "4"], "");
    assert!(
        one.stdout
            .starts_with("Step 4 of 4: join(timeout) gives up"),
        "{}",
        one.stdout
    );
    assert!(!one.stdout.contains("Step 1 of 4"), "{}", one.stdout);
    let wrong = lab.run(&["code", "1", "--step", "9"], "");
    assert_eq!(wrong.status.code(), Some(2));
    assert_eq!(wrong.stderr, "proclab: lesson 1 has steps 1 to 4, not 9\n");
}

#[test]
fn run_with_code_shows_the_programs_at_the_start_of_each_step() {
    let lab = common::Lab::new();
    let run = lab.run(&["run", "1", "--speed", "20", "--code", "--no-color"], "");
    assert!(run.status.success(), "{}", run.stderr);
    let step_2 = run.stdout.find("Step 2 of 4").expect(&run.stdout);
    let program = run
        .stdout
        .find("cargo run --example step -- 1 2")
        .expect(&run.stdout);
    let step_3 = run.stdout.find("Step 3 of 4").expect(&run.stdout);
    assert!(step_2 < program && program < step_3, "{}", run.stdout);
    // Without --notes, the notes' own text is not shown.
    assert!(
        !run.stdout.contains("Lives that overlap in time"),
        "{}",
        run.stdout
    );
}
