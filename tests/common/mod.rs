//! The test harness: runs the real `proclab` binary and checks what it leaves behind.
//!
//! Every run gets its own empty `TMPDIR`, its own process group (so a test can send Ctrl-C to
//! the whole lab the way a terminal does), and a marker in its environment that every process
//! it forks inherits. After the run, `assert_nothing_left` looks through `/proc` for any
//! process in that group or carrying that marker, and checks the `TMPDIR` is empty again.
#![allow(dead_code)]

pub mod tmux;

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_proclab");

static RUNS: AtomicU32 = AtomicU32::new(0);

/// One invocation of the binary, with its own temp dir and marker.
pub struct Lab {
    pub tmp: PathBuf,
    pub tag: String,
}

impl Lab {
    pub fn new() -> Lab {
        let n = RUNS.fetch_add(1, Ordering::SeqCst);
        let tag = format!("proclab-test-{}-{n}", std::process::id());
        let tmp = std::env::temp_dir().join(&tag);
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp).unwrap();
        Lab { tmp, tag }
    }

    /// A command for the binary, with TMPDIR, marker and process group set, in English
    /// whatever the locale of the machine (a test that wants Chinese says `--lang zh`).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(BIN);
        command
            .args(args)
            .env("TMPDIR", &self.tmp)
            .env("PROCLAB_TEST_TAG", &self.tag)
            .env_remove("NO_COLOR")
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES")
            .env("LANG", "C.UTF-8")
            .process_group(0);
        command
    }

    /// Starts a command made by `command()`, its output piped. The child's pid is also its
    /// process group.
    pub fn spawn(&self, mut command: Command, stdin: Stdio) -> Child {
        command
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts")
    }

    /// Runs to the end with `stdin` as standard input.
    #[track_caller]
    pub fn run(&self, args: &[&str], stdin: &str) -> Finished {
        self.run_command(self.command(args), stdin)
    }

    /// Like `run`, for a command the caller has added to (an environment variable, say).
    #[track_caller]
    pub fn run_command(&self, command: Command, stdin: &str) -> Finished {
        let mut child = self.spawn(command, Stdio::piped());
        let group = child.id() as i32;
        {
            use std::io::Write;
            let mut input = child.stdin.take().unwrap();
            let _ = input.write_all(stdin.as_bytes());
        }
        let output = wait_with_timeout(child, Duration::from_secs(120));
        let finished = Finished {
            status: output.0,
            stdout: output.1,
            stderr: output.2,
        };
        self.assert_nothing_left(group);
        finished
    }

    /// `proclab run <lesson> --json --speed 20 [extra]`, which must succeed.
    #[track_caller]
    pub fn lesson(&self, lesson: &str, extra: &[&str]) -> Events {
        let mut args = vec!["run", lesson, "--json", "--speed", "20"];
        args.extend_from_slice(extra);
        let finished = self.run(&args, "");
        assert!(
            finished.status.success(),
            "lesson {lesson} failed: {:?}\nstderr: {}\nstdout: {}",
            finished.status,
            finished.stderr,
            finished.stdout
        );
        finished.events()
    }

    /// Runs `lesson` with `--predict --json` and the given answers, one per line (`extra`:
    /// more arguments, such as `--lang zh`).
    #[track_caller]
    pub fn predicted(&self, lesson: &str, seed: &str, answers: &str, extra: &[&str]) -> Events {
        let mut args = vec![
            "run",
            lesson,
            "--predict",
            "--json",
            "--speed",
            "20",
            "--seed",
            seed,
        ];
        args.extend_from_slice(extra);
        let finished = self.run(&args, answers);
        assert!(
            finished.status.success(),
            "{:?} {}",
            finished.status,
            finished.stderr
        );
        finished.events()
    }

    /// `interrupt_when` for a lesson that must still be running at that moment: the run ends
    /// interrupted (status 130, an `end` event saying so) and leaves nothing behind. Returns
    /// its events.
    #[track_caller]
    pub fn interrupted_when(&self, args: &[&str], when: impl Fn(&Value) -> bool) -> Events {
        let finished = self.interrupt_when(args, when);
        assert_eq!(finished.status.code(), Some(130), "{}", finished.stderr);
        let events = finished.events();
        assert_eq!(events.find("end", |_| true)["outcome"], "interrupted");
        events
    }

    /// Starts a lesson, waits until an event matching `when` has been printed, then sends
    /// SIGINT to the lab's whole process group (what Ctrl-C in a terminal does). Returns the
    /// exit status and everything printed.
    #[track_caller]
    pub fn interrupt_when(&self, args: &[&str], when: impl Fn(&Value) -> bool) -> Finished {
        let mut child = self.spawn(self.command(args), Stdio::null());
        let group = child.id() as i32;
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        let mut seen = String::new();
        let mut line = String::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 || Instant::now() > deadline {
                panic!("the run ended before the moment to interrupt it came:\n{seen}");
            }
            seen.push_str(&line);
            if serde_json::from_str::<Value>(&line).is_ok_and(|event| when(&event)) {
                break;
            }
        }
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(-group),
            nix::sys::signal::Signal::SIGINT,
        )
        .unwrap();
        let mut rest = String::new();
        let _ = std::io::Read::read_to_string(&mut reader, &mut rest);
        seen.push_str(&rest);
        let (status, _, stderr) = wait_with_timeout(child, Duration::from_secs(30));
        self.assert_nothing_left(group);
        Finished {
            status,
            stdout: seen,
            stderr,
        }
    }

    /// Runs `args` (which include `--json --step`) and answers every prompt (a `wait` on
    /// `prompt`) with Enter after `pause`, as a teacher who talks at each prompt would. Ends
    /// standard input when the run ends.
    #[track_caller]
    pub fn run_paced(&self, args: &[&str], pause: Duration) -> Finished {
        use std::io::Write;
        let mut child = self.spawn(self.command(args), Stdio::piped());
        let group = child.id() as i32;
        let mut input = child.stdin.take().unwrap();
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        // A watchdog: a run that hangs is killed, and the test fails below.
        let watchdog = std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(120);
            while Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(100));
                if nix::sys::signal::kill(nix::unistd::Pid::from_raw(group), None).is_err() {
                    return false;
                }
            }
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(-group),
                nix::sys::signal::Signal::SIGKILL,
            );
            true
        });
        let mut seen = String::new();
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap_or(0) > 0 {
            seen.push_str(&line);
            if serde_json::from_str::<Value>(&line)
                .is_ok_and(|e| e["kind"] == "wait" && e["on"] == "prompt")
            {
                std::thread::sleep(pause);
                let _ = input.write_all(b"\n");
            }
            line.clear();
        }
        drop(input);
        let (status, _, stderr) = wait_with_timeout(child, Duration::from_secs(30));
        assert!(
            !watchdog.join().unwrap(),
            "the paced run did not end in time"
        );
        self.assert_nothing_left(group);
        Finished {
            status,
            stdout: seen,
            stderr,
        }
    }

    /// No process of this run is alive or a zombie, and its TMPDIR is empty.
    #[track_caller]
    pub fn assert_nothing_left(&self, group: i32) {
        // Give the kernel a moment to finish tearing down processes that were just reaped.
        let deadline = Instant::now() + Duration::from_secs(2);
        let mut left = leftovers(group, &self.tag);
        while !left.is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
            left = leftovers(group, &self.tag);
        }
        if !left.is_empty() {
            for (pid, _) in &left {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(*pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
            panic!("processes left behind: {left:?}");
        }
        let files: Vec<PathBuf> = std::fs::read_dir(&self.tmp)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        assert!(files.is_empty(), "temp files left behind: {files:?}");
        let shm = shm_leftovers();
        assert!(shm.is_empty(), "shared memory left behind: {shm:?}");
    }
}

/// Named shared memory and named semaphores (`/dev/shm/sem.*`) of the lab's. The lab's own
/// shared memory is anonymous (nothing to leave behind) and its files and sockets live in the
/// run's TMPDIR (checked above); a primitive that ever needs a named object must name it
/// `proclab-...`, and this check is what catches one left behind.
pub fn shm_leftovers() -> Vec<String> {
    shm_leftovers_in(Path::new("/dev/shm"))
}

/// `shm_leftovers` on a directory of one's choosing (so that a test can show it finds one).
pub fn shm_leftovers_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter(|name| name.starts_with("proclab") || name.starts_with("sem.proclab"))
                .collect()
        })
        .unwrap_or_default()
}

impl Lab {
    /// Starts `args` with standard output drained (so that output never holds the run
    /// back), waits `after`, then sends `signal` to the supervisor alone, as `kill -9 <pid>`
    /// does. Returns how long it took from the signal until no process of the run was alive
    /// and its TMPDIR was empty; panics past `within`.
    #[track_caller]
    pub fn signal_supervisor_after(
        &self,
        args: &[&str],
        after: Duration,
        signal: nix::sys::signal::Signal,
        within: Duration,
    ) -> Duration {
        let mut child = self.spawn(self.command(args), Stdio::null());
        let supervisor = child.id() as i32;
        let mut stdout = child.stdout.take().unwrap();
        let drain = std::thread::spawn(move || {
            let _ = std::io::copy(&mut stdout, &mut std::io::sink());
        });
        std::thread::sleep(after);
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(supervisor), signal);
        let signalled = Instant::now();
        let _ = child.wait();
        let gone = self.wait_until_gone(signalled, within);
        let _ = drain.join();
        self.assert_nothing_left(supervisor);
        gone
    }

    /// Waits until no process carrying this run's marker is alive (zombies are dead: their
    /// new parent reaps them) and TMPDIR is empty; returns the time since `since`. Past
    /// `within`, kills what is left and panics with it.
    #[track_caller]
    pub fn wait_until_gone(&self, since: Instant, within: Duration) -> Duration {
        loop {
            let alive = alive_of_run(&self.tag);
            let files: Vec<PathBuf> = std::fs::read_dir(&self.tmp)
                .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
                .unwrap_or_default();
            if alive.is_empty() && files.is_empty() {
                return since.elapsed();
            }
            if since.elapsed() > within {
                for (pid, _) in &alive {
                    let _ = nix::sys::signal::kill(
                        nix::unistd::Pid::from_raw(*pid),
                        nix::sys::signal::Signal::SIGKILL,
                    );
                }
                panic!(
                    "still there {:?} after the supervisor ended: processes {alive:?}, files \
                     {files:?}",
                    since.elapsed()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Living processes (not zombies) that carry the marker `tag`.
pub fn alive_of_run(tag: &str) -> Vec<(i32, String)> {
    leftovers(-1, tag)
        .into_iter()
        .filter(|(_, stat)| {
            let after_name = &stat[stat.rfind(')').map_or(0, |i| i + 1)..];
            !after_name.trim_start().starts_with('Z')
        })
        .collect()
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.tmp);
    }
}

/// Processes (pid, stat line) in process group `group` or carrying the marker `tag`.
pub fn leftovers(group: i32, tag: &str) -> Vec<(i32, String)> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let after_name = &stat[stat.rfind(')').map_or(0, |i| i + 1)..];
        let pgrp: i32 = after_name
            .split_whitespace()
            .nth(2)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
        let marked = environ
            .split(|&b| b == 0)
            .any(|var| var == format!("PROCLAB_TEST_TAG={tag}").as_bytes());
        if pgrp == group || marked {
            found.push((pid, stat.trim().to_string()));
        }
    }
    found
}

fn wait_with_timeout(mut child: Child, timeout: Duration) -> (ExitStatus, String, String) {
    use std::io::Read;
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let out_reader = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(s) = stdout.as_mut() {
            let _ = s.read_to_string(&mut text);
        }
        text
    });
    let err_reader = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(s) = stderr.as_mut() {
            let _ = s.read_to_string(&mut text);
        }
        text
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(-(child.id() as i32)),
                nix::sys::signal::Signal::SIGKILL,
            );
            panic!("proclab did not finish within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    (
        status,
        out_reader.join().unwrap(),
        err_reader.join().unwrap(),
    )
}

pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Finished {
    #[track_caller]
    pub fn events(&self) -> Events {
        Events::parse(&self.stdout)
    }
}

/// The `--json` event stream of one run.
pub struct Events(pub Vec<Value>);

impl Events {
    #[track_caller]
    pub fn parse(stdout: &str) -> Events {
        Events(
            stdout
                .lines()
                .map(|line| {
                    serde_json::from_str(line)
                        .unwrap_or_else(|e| panic!("not a JSON event ({e}): {line}"))
                })
                .collect(),
        )
    }

    /// Asserts that the verdict of step `step` shows `choice` (in English, in Chinese) for
    /// the measured `value`, as `--predict` shows it (see `answer_shown`).
    #[track_caller]
    pub fn assert_answer(&self, step: i64, choice: (&str, &str), value: &str, chinese: bool) {
        assert_eq!(
            self.verdict(step)["observed"],
            answer_shown(choice, value, chinese).as_str(),
            "step {step}:\n{}",
            self.dump()
        );
    }

    /// Asserts that the run has a verdict for each step of `expected`, and no other, and that
    /// each shows the choice the events call for: `(step, the English choice)`, in Chinese
    /// through `in_chinese` when `chinese` (the measured value may follow in brackets).
    #[track_caller]
    pub fn assert_answers(
        &self,
        expected: &[(i64, String)],
        chinese: bool,
        in_chinese: impl Fn(&str) -> &str,
    ) {
        assert_eq!(
            self.of_kind("predict").len(),
            expected.len(),
            "{}",
            self.dump()
        );
        for (step, answer) in expected {
            let observed = self.verdict(*step)["observed"]
                .as_str()
                .unwrap()
                .to_string();
            let shown = if chinese { in_chinese(answer) } else { answer };
            assert!(
                observed == shown || observed.starts_with(&format!("{shown} (")),
                "step {step}: observed {observed:?}, the events say {shown:?}"
            );
        }
    }

    /// Asserts that each step of `steps` has a verdict that measured something, in either
    /// language (`not measured in this run`, `这次运行没有测到`).
    #[track_caller]
    pub fn assert_measured(&self, steps: impl IntoIterator<Item = i64>) {
        for step in steps {
            let observed = self.verdict(step)["observed"].as_str().unwrap_or_default();
            assert!(
                !observed.is_empty()
                    && !observed.contains("not measured")
                    && !observed.contains("没有测到"),
                "step {step}: {observed:?}"
            );
        }
    }

    /// The `predict` event (the verdict) of step `step`.
    #[track_caller]
    pub fn verdict(&self, step: i64) -> &Value {
        self.find("predict", |e| e["step"] == step)
    }

    pub fn of_kind(&self, kind: &str) -> Vec<&Value> {
        self.0.iter().filter(|e| e["kind"] == kind).collect()
    }

    /// The first event of `kind` for which `when` holds.
    #[track_caller]
    pub fn find(&self, kind: &str, when: impl Fn(&Value) -> bool) -> &Value {
        self.0
            .iter()
            .find(|e| e["kind"] == kind && when(e))
            .unwrap_or_else(|| panic!("no {kind} event like that in:\n{}", self.dump()))
    }

    /// Index of the first event of `kind` for which `when` holds.
    #[track_caller]
    pub fn position(&self, kind: &str, when: impl Fn(&Value) -> bool) -> usize {
        self.0
            .iter()
            .position(|e| e["kind"] == kind && when(e))
            .unwrap_or_else(|| panic!("no {kind} event like that in:\n{}", self.dump()))
    }

    /// The pid of the lesson's main process (the supervisor's `spawn` of `main`).
    #[track_caller]
    pub fn main_pid(&self) -> i64 {
        self.find("spawn", |e| e["child_name"] == "main")["child"]
            .as_i64()
            .unwrap()
    }

    /// The pid of the supervisor (the `lesson` event's pid).
    pub fn lab_pid(&self) -> i64 {
        self.0[0]["pid"].as_i64().unwrap()
    }

    /// The child pid spawned with this name (the first one).
    #[track_caller]
    pub fn pid_of(&self, name: &str) -> i64 {
        self.find("spawn", |e| e["child_name"] == name)["child"]
            .as_i64()
            .unwrap()
    }

    /// The exit code the parent saw when it reaped `pid`.
    #[track_caller]
    pub fn exitcode_of(&self, pid: i64) -> i64 {
        self.find("exit", |e| e["child"] == pid)["exitcode"]
            .as_i64()
            .unwrap()
    }

    /// `t` of the first event of `kind` by `pid`.
    #[track_caller]
    pub fn time_of(&self, kind: &str, pid: i64) -> f64 {
        self.find(kind, |e| e["pid"] == pid)["t"].as_f64().unwrap()
    }

    pub fn texts(&self, kind: &str) -> Vec<String> {
        self.of_kind(kind)
            .iter()
            .map(|e| e["text"].as_str().unwrap_or("").to_string())
            .collect()
    }

    pub fn dump(&self) -> String {
        self.0
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// The step headings of a lesson's notes (`lessons/<folder>/notes.md`), from the repository.
pub fn notes_headings(folder: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("lessons")
        .join(folder)
        .join("notes.md");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .filter_map(|l| l.strip_prefix("## "))
        .map(|s| s.trim().to_string())
        .collect()
}

/// The step titles a run announced, in order.
pub fn step_titles(events: &Events) -> Vec<String> {
    events
        .of_kind("step")
        .iter()
        .map(|e| e["title"].as_str().unwrap().to_string())
        .collect()
}

/// A number in `1..=most` that changes from run to run (the clock's nanoseconds), for an
/// interrupt "at a random moment". Print it in the test's messages, so a failure can be
/// replayed with that number.
pub fn random_moment(most: usize) -> usize {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos() as usize);
    1 + nanos % most.max(1)
}

impl Lab {
    /// Runs `args` and sends Ctrl-C (SIGINT to the whole group) right after the `nth` event
    /// was printed, then checks that nothing is left. The run must end interrupted (130), or,
    /// if it finished before the moment came, normally.
    #[track_caller]
    pub fn interrupt_after_events(&self, args: &[&str], nth: usize) -> Finished {
        let count = std::cell::Cell::new(0usize);
        let finished = self.interrupt_when(args, |event| {
            count.set(count.get() + 1);
            count.get() >= nth || event["kind"] == "end"
        });
        assert!(
            matches!(finished.status.code(), Some(130) | Some(0)),
            "interrupted after event {nth}: {:?}\n{}",
            finished.status,
            finished.stderr
        );
        finished
    }
}

impl Lab {
    /// `quit_at_step` for each step from 1 to `steps`, one run each.
    #[track_caller]
    pub fn quit_at_each_step(&self, lesson: &str, steps: usize) {
        for step in 1..=steps {
            self.quit_at_step(lesson, step);
        }
    }

    /// Runs `lesson` in `--step` mode and answers `q` at the prompt of step `step` (Enter at
    /// the ones before): the run must stop cleanly (status 0), leaving nothing behind.
    #[track_caller]
    pub fn quit_at_step(&self, lesson: &str, step: usize) -> Finished {
        // Two prompts a step (before it runs, and after its output), without `--notes`.
        let answers = format!("{}q\n", "\n".repeat(2 * (step - 1)));
        let finished = self.run(
            &["run", lesson, "--step", "--speed", "20", "--color", "never"],
            &answers,
        );
        assert_eq!(
            finished.status.code(),
            Some(0),
            "q at step {step}: {}",
            finished.stderr
        );
        // It stopped at that prompt: the step was announced, the next one never was.
        assert!(finished.stdout.contains(&format!("Step {step} of")));
        assert!(!finished.stdout.contains(&format!("Step {} of", step + 1)));
        finished
    }
}

/// Runs a small Python program with `python3` (the tutorial's language) and returns what it
/// printed: how a test checks a claim about Python against Python itself. Bounded in time.
#[track_caller]
pub fn python3(program: &str) -> String {
    let child = Command::new("timeout")
        .args(["20", "python3", "-c", program])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let (status, stdout, stderr) = wait_with_timeout(child, Duration::from_secs(30));
    assert!(status.success(), "python3 failed: {status:?}\n{stderr}");
    stdout
}

/// Runs a small Python program with `python3 -c`, bounded by `limit`, and returns what it
/// printed (it must succeed); `None` where python3 is not installed: the test says it skipped,
/// and with `PROCLAB_CI` set fails instead. For the checks of what the notes say of Python.
#[track_caller]
pub fn python3_if_here(program: &str, limit: Duration) -> Option<String> {
    let here = Command::new("python3")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !here {
        assert!(
            std::env::var_os("PROCLAB_CI").is_none(),
            "python3 is not installed, and CI needs it"
        );
        eprintln!("python3 is not installed: skipped");
        return None;
    }
    // A group of its own, so that the whole program is killed if it overruns.
    let child = Command::new("python3")
        .args(["-c", program])
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let (status, stdout, stderr) = wait_with_timeout(child, limit);
    assert!(
        status.success(),
        "python3 failed: {status:?}\n{stdout}\n{stderr}"
    );
    Some(stdout)
}

/// A running `proclab serve --port 0 --json ...` (any `--model`), its port, and its events as
/// they come (read all along on a thread of its own, so a full pipe never slows the server).
pub struct Server {
    pub child: Child,
    pub group: i32,
    pub port: u16,
    pub server_pid: i64,
    lines: std::sync::mpsc::Receiver<String>,
    pub seen: Vec<String>,
}

impl Server {
    /// Starts `proclab serve --port 0 --json` with `extra`, and waits for its listening line.
    #[track_caller]
    pub fn start(lab: &Lab, extra: &[&str]) -> Server {
        let mut args = vec!["serve", "--port", "0", "--json"];
        args.extend_from_slice(extra);
        Server::start_command(lab, lab.command(&args))
    }

    /// `start`, with a command made by `lab.command` (`serve --port 0 --json ...`).
    #[track_caller]
    pub fn start_command(lab: &Lab, command: Command) -> Server {
        let mut child = lab.spawn(command, Stdio::null());
        let group = child.id() as i32;
        let (sender, lines) = std::sync::mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let mut server = Server {
            child,
            group,
            port: 0,
            server_pid: 0,
            lines,
            seen: Vec::new(),
        };
        let listening = server.wait_for(|e| {
            e["kind"] == "say"
                && e["text"]
                    .as_str()
                    .unwrap_or("")
                    .starts_with("listening on ")
        });
        let text = listening["text"].as_str().unwrap();
        let address = text["listening on ".len()..].split(' ').next().unwrap();
        assert!(address.starts_with("127.0.0.1:"), "{text}");
        server.port = address.rsplit(':').next().unwrap().parse().unwrap();
        server.server_pid = listening["pid"].as_i64().unwrap();
        server
    }

    /// Waits (at most 30 s) for an event matching `when`, among those seen or still to come.
    #[track_caller]
    pub fn wait_for(&mut self, when: impl Fn(&Value) -> bool) -> Value {
        for line in &self.seen {
            let event: Value = serde_json::from_str(line).unwrap();
            if when(&event) {
                return event;
            }
        }
        self.wait_for_new(when)
    }

    /// Waits (at most 30 s) for the next event still to come that matches `when`.
    #[track_caller]
    pub fn wait_for_new(&mut self, when: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self
                .lines
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no such event; seen:\n{}", self.seen.join("\n")));
            let event: Value =
                serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
            self.seen.push(line);
            if when(&event) {
                return event;
            }
        }
    }

    /// Ctrl-C to the whole process group, as a terminal sends it: exit 130, nothing left.
    #[track_caller]
    pub fn stop(mut self, lab: &Lab) -> Events {
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(-self.group),
            nix::sys::signal::Signal::SIGINT,
        )
        .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "serve did not stop on SIGINT");
            std::thread::sleep(Duration::from_millis(10));
        };
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.seen.push(line);
        }
        let mut stderr = String::new();
        let _ = std::io::Read::read_to_string(&mut self.child.stderr.take().unwrap(), &mut stderr);
        assert_eq!(status.code(), Some(130), "stderr: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        lab.assert_nothing_left(self.group);
        Events::parse(&self.seen.join("\n"))
    }

    /// Zombie children of the server, from /proc, after giving it a moment to reap.
    pub fn zombies(&self) -> usize {
        let count = || {
            std::fs::read_dir("/proc")
                .unwrap()
                .flatten()
                .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
                .filter(|stat| {
                    let after = &stat[stat.rfind(')').unwrap() + 1..];
                    let fields: Vec<&str> = after.split_whitespace().collect();
                    fields[0] == "Z" && fields[1] == self.server_pid.to_string()
                })
                .count()
        };
        let deadline = Instant::now() + Duration::from_secs(2);
        let mut zombies = count();
        while zombies > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
            zombies = count();
        }
        zombies
    }

    /// A connection to the server, with 10 s timeouts on reads and writes.
    pub fn connect(&self) -> std::net::TcpStream {
        let stream = std::net::TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream
            .set_write_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream
    }
}

/// Runs `command` (a `python3` program, a compiled example) in a process group of its own and
/// returns its standard output; fails the test if it does not succeed within `limit`, and then
/// kills the whole group.
#[track_caller]
pub fn output_within(command: &mut Command, limit: Duration) -> String {
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("{command:?} does not start: {e}"));
    let group = child.id() as i32;
    let (status, stdout, stderr) = wait_with_timeout(child, limit);
    // Whatever the program left behind in its group (a server it did not stop because it
    // failed first, an orphan) goes too.
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(-group),
        nix::sys::signal::Signal::SIGKILL,
    );
    assert!(
        status.success(),
        "{command:?}: {status}\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    stdout
}

/// A port above 20000 that nothing listens on now (below the usual ephemeral range, which
/// starts at 32768, so that no outgoing connection takes it meanwhile). Each test process
/// starts looking at a different place, so that tests running at once rarely race for one.
pub fn free_port() -> u16 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let offset = (std::process::id() * 7 + NEXT.fetch_add(13, Ordering::SeqCst)) % 12000;
    let start = 20000 + offset as u16;
    (start..32000)
        .chain(20000..start)
        .find(|&port| std::net::TcpListener::bind(("127.0.0.1", port)).is_ok())
        .expect("a free port above 20000")
}

/// The step (from 1) that an event at time `t` belongs to.
pub fn step_of(events: &Events, t: f64) -> usize {
    events
        .of_kind("step")
        .iter()
        .filter(|e| e["t"].as_f64().unwrap() <= t)
        .count()
}

/// An event's time, `t`.
pub fn t(event: &Value) -> f64 {
    event["t"].as_f64().unwrap()
}

/// A verdict's `observed` as `--predict` shows it: the choice in the run's language (`choice`
/// is English, Chinese), with the measured value beside it only where the value is not the
/// English choice itself but falls under it (`2 to 5 (4)`).
pub fn answer_shown(choice: (&str, &str), value: &str, chinese: bool) -> String {
    let (en, zh) = choice;
    let shown = if chinese { zh } else { en };
    if en == value {
        shown.to_string()
    } else {
        format!("{shown} ({value})")
    }
}

/// The three runs of a lesson's prediction test: two seeds in English, one in Chinese
/// (`true`).
pub const PREDICTION_RUNS: [(&str, bool); 3] = [("3", false), ("8", false), ("5", true)];

/// The arguments that choose a run's language: Chinese, or the harness's English.
pub fn lang_args(chinese: bool) -> &'static [&'static str] {
    if chinese { &["--lang", "zh"] } else { &[] }
}

/// Asserts that a verdict shows `choice`: the choice itself, or (where the value measured is
/// not the choice's own text, as in Chinese) the choice followed by the value in parentheses.
#[track_caller]
pub fn assert_shows(verdict: &Value, choice: &str) {
    let observed = verdict["observed"].as_str().unwrap();
    assert!(
        observed == choice || observed.starts_with(&format!("{choice} (")),
        "{verdict}: expected {choice}"
    );
}

/// A verdict's `observed` when the choices are taken from the verdict itself: `choice` (one of
/// `english`) shown as the choice at its place among `shown` (the run's language), with the
/// measured `value` beside it only when it is not the choice itself.
pub fn answer_among(english: &[&str], shown: &[Value], choice: &str, value: &str) -> String {
    let place = english.iter().position(|c| *c == choice).unwrap();
    let shown = shown[place].as_str().unwrap();
    if choice == value {
        shown.to_string()
    } else {
        format!("{shown} ({value})")
    }
}

/// Whether the machine is overloaded (load average above twice the CPUs, see
/// `procfs::overloaded`): timing cannot be judged there, and a check that meets it says it was
/// skipped, never passes.
pub fn machine_overloaded() -> bool {
    proclab::runtime::procfs::overloaded().is_some()
}
