//! `proclab exercise`: every exercise's starter fails with the hint meant for it and its
//! solution passes (Python, and Rust where there is one), through the real binary; programs
//! edited to hang, to fork-bomb or to print a fake "PASS" are judged right and leave nothing;
//! `watch` checks again within a second of a save; bad input is one line, status 2.
//!
//! The judge traces (ptrace) and runs python3 (and rustc for the Rust programs): each test
//! probes for what it needs and says why it skipped; in CI (`PROCLAB_CI`) a missing one fails.
//! The solutions run 3 times here, four checks at a time; `bench/exercises.sh` runs each 20
//! times in a row.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::Lab;
use serde_json::Value;

/// One exercise: its folder, and the hint its starter's verdict must point to.
struct Case {
    folder: &'static str,
    starter_hint: u64,
    /// It has `starter.rs` and `solution.rs` too.
    rust: bool,
}

/// Every exercise, in number order. A new exercise adds its line here.
const CASES: &[Case] = &[
    Case {
        folder: "01-overlap",
        starter_hint: 2,
        rust: false,
    },
    Case {
        folder: "02-daemon-no-children",
        starter_hint: 1,
        rust: false,
    },
    Case {
        folder: "03-forking-echo",
        starter_hint: 1,
        rust: false,
    },
    Case {
        folder: "04-one-ticket",
        starter_hint: 1,
        rust: false,
    },
    Case {
        folder: "05-queue-sentinels",
        starter_hint: 1,
        rust: true,
    },
    Case {
        folder: "06-pipe-eof",
        starter_hint: 2,
        rust: false,
    },
    Case {
        folder: "07-manager-counter",
        starter_hint: 2,
        rust: false,
    },
    Case {
        folder: "08-room-of-three",
        starter_hint: 2,
        rust: true,
    },
    Case {
        folder: "09-pool-tasks",
        starter_hint: 2,
        rust: false,
    },
    Case {
        folder: "10-lock-order",
        starter_hint: 2,
        rust: true,
    },
    Case {
        folder: "11-condition-wakeup",
        starter_hint: 1,
        rust: true,
    },
    Case {
        folder: "12-echo-200",
        starter_hint: 2,
        rust: false,
    },
];

/// How many times each solution is checked in the suite.
const SOLUTION_RUNS: usize = 3;

/// Exercises whose solution is checked once here (and 20 times by `bench/exercises.sh`): a check
/// of exercise 7 starts a hundred processes, and a check of exercise 4 is 20 runs already.
const CHECKED_ONCE: &[&str] = &["04-one-ticket", "07-manager-counter"];

/// How many checks run at once: each starts Python processes (exercise 7 a hundred), and
/// forty checks at once on two CPUs made programs take seconds to start, past their limits.
const CHECKS_AT_ONCE: usize = 4;

fn exercise_file(folder: &str, name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("exercises")
        .join(folder)
        .join(name)
}

fn test_program(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/exercise_programs")
        .join(name)
}

/// A student's folder for one test, outside the run's TMPDIR (which must end empty).
struct Folder(PathBuf);

impl Folder {
    fn new(lab: &Lab) -> Folder {
        let path = std::env::temp_dir().join(format!("{}-student", lab.tag));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Folder(path)
    }

    /// `file` copied in as `name`.
    fn with(&self, file: &Path, name: &str) -> PathBuf {
        let to = self.0.join(name);
        std::fs::copy(file, &to).unwrap();
        to
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn probe(what: &str, command: &str) -> bool {
    let found = Command::new(command)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|out| out.status.success());
    if !found {
        if std::env::var_os("PROCLAB_CI").is_some() {
            panic!("{command} is missing, and CI needs it for {what}");
        }
        eprintln!("skipped: {command} is not installed ({what} needs it)");
    }
    found
}

/// Tracing allowed and python3 present (else the test is skipped, said why).
fn can_judge() -> bool {
    if !probe("the exercises' Python", "python3") {
        return false;
    }
    let lab = Lab::new();
    let finished = lab.run(&["trace", "true"], "");
    if finished.status.success() {
        return true;
    }
    let why = finished.stderr.trim().to_string();
    if std::env::var_os("PROCLAB_CI").is_some() {
        panic!("tracing is not allowed here, and CI needs it: {why}");
    }
    eprintln!("skipped: proclab cannot trace here: {why}");
    false
}

/// `proclab exercise check N FILE --json`: the verdict, after checking that nothing is left.
#[track_caller]
fn check(exercise: &str, file: &Path, extra: &[&str]) -> Value {
    let lab = Lab::new();
    let mut args = vec![
        "exercise",
        "check",
        exercise,
        file.to_str().unwrap(),
        "--json",
    ];
    args.extend_from_slice(extra);
    let finished = lab.run(&args, "");
    let verdict: Value = serde_json::from_str(finished.stdout.trim()).unwrap_or_else(|_| {
        panic!(
            "not one JSON verdict: {:?}\nstderr: {}",
            finished.stdout, finished.stderr
        )
    });
    let passed = verdict["passed"].as_bool().unwrap();
    assert_eq!(
        finished.status.code(),
        Some(if passed { 0 } else { 1 }),
        "the status says the verdict: {verdict}"
    );
    verdict
}

fn number(folder: &str) -> &str {
    folder[..2].trim_start_matches('0')
}

/// A verdict that met its time limit on a busy machine could not judge: a visible skip.
fn could_not_judge(what: &str, verdict: &Value) -> bool {
    let busy = verdict["busy"] == true;
    if busy {
        eprintln!("skipped: {what}: the machine was too busy to judge: {verdict}");
    }
    busy
}

#[test]
fn each_starter_fails_with_its_hint_and_each_solution_passes() {
    if !can_judge() {
        return;
    }
    let rust = CASES.iter().any(|c| c.rust) && probe("the Rust exercises", "rustc");
    // (case, language, starter or not), taken in turn by CHECKS_AT_ONCE threads.
    let mut jobs: Vec<(&Case, &str, bool)> = Vec::new();
    for case in CASES {
        let mut langs = vec!["py"];
        if case.rust && rust {
            langs.push("rs");
        }
        for lang in langs {
            jobs.push((case, lang, true));
            let runs = match CHECKED_ONCE.contains(&case.folder) {
                true => 1,
                false => SOLUTION_RUNS,
            };
            jobs.extend(std::iter::repeat_n((case, lang, false), runs));
        }
    }
    let jobs = std::sync::Mutex::new(jobs);
    std::thread::scope(|scope| {
        for _ in 0..CHECKS_AT_ONCE {
            scope.spawn(|| {
                loop {
                    // Taken in a statement of its own, so that the lock is not held while
                    // the check runs.
                    let job = jobs.lock().unwrap().pop();
                    let Some((case, lang, starter)) = job else {
                        break;
                    };
                    let n = number(case.folder);
                    let which = if starter { "starter" } else { "solution" };
                    let file = exercise_file(case.folder, &format!("{which}.{lang}"));
                    let verdict = check(n, &file, &[]);
                    let expected = match starter {
                        true => verdict["passed"] == false && verdict["hint"] == case.starter_hint,
                        false => verdict["passed"] == true,
                    };
                    if !expected
                        && could_not_judge(&format!("{} {which}.{lang}", case.folder), &verdict)
                    {
                        continue;
                    }
                    if starter {
                        assert_eq!(verdict["passed"], false, "{}: {verdict}", case.folder);
                        assert_eq!(
                            verdict["hint"], case.starter_hint,
                            "{}: {verdict}",
                            case.folder
                        );
                        assert!(verdict["hint_text"].is_string(), "{verdict}");
                    } else {
                        assert_eq!(verdict["passed"], true, "{}: {verdict}", case.folder);
                        assert_eq!(verdict["hint"], Value::Null, "{verdict}");
                    }
                }
            });
        }
    });
}

#[test]
fn a_program_that_hangs_is_stopped_at_the_limit_and_told_where_it_waits() {
    if !can_judge() {
        return;
    }
    let verdict = check("1", &test_program("hang.py"), &[]);
    let why = verdict["verdict"].as_str().unwrap();
    assert_eq!(verdict["passed"], false, "{verdict}");
    assert!(why.contains("still running after 6 s"), "{why}");
    assert!(why.contains("waiting in futex since"), "{why}");
    assert!(why.contains("(a deadlock?)"), "{why}");
    assert!(why.contains("Thread-1 (first)"), "{why}");
}

#[test]
fn a_fork_bomb_is_stopped_at_the_process_limit() {
    if !can_judge() {
        return;
    }
    let verdict = check("1", &test_program("fork_bomb.py"), &[]);
    let why = verdict["verdict"].as_str().unwrap();
    assert_eq!(verdict["passed"], false, "{verdict}");
    assert!(why.contains("(the limit is 10)"), "{why}");
}

/// Exercises 5, 9 and 12 judged from what the kernel saw: a main process that prints every
/// consumer's lines, a Pool made and left unused, and a server built another way than the lab's
/// solution (a thread per connection, which must pass too).
#[test]
fn the_judges_count_what_each_process_did_not_what_was_printed() {
    if !can_judge() {
        return;
    }
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let verdict = check("5", &test_program("consumers_fake_lines.py"), &[]);
            let why = verdict["verdict"].as_str().unwrap();
            assert_eq!(verdict["passed"], false, "{verdict}");
            assert!(why.contains("17 never eaten"), "{why}");
        });
        scope.spawn(|| {
            let verdict = check("9", &test_program("pool_unused.py"), &[]);
            let why = verdict["verdict"].as_str().unwrap();
            assert_eq!(verdict["passed"], false, "{verdict}");
            assert!(why.contains("0 of the 1000"), "{why}");
            assert!(why.contains("1000 in the main process"), "{why}");
        });
        scope.spawn(|| {
            let verdict = check("12", &test_program("echo_thread_each.py"), &[]);
            assert_eq!(verdict["passed"], true, "{verdict}");
        });
    });
}

#[test]
fn a_program_that_prints_pass_still_fails() {
    if !can_judge() {
        return;
    }
    let verdict = check("1", &test_program("fake_pass.py"), &[]);
    assert_eq!(verdict["passed"], false, "{verdict}");
    assert!(
        verdict["verdict"]
            .as_str()
            .unwrap()
            .contains("never all running at once"),
        "{verdict}"
    );
}

#[test]
fn a_deadlock_broken_by_a_timeout_is_still_two_threads_waiting_on_each_other() {
    if !can_judge() {
        return;
    }
    let verdict = check("10", &test_program("lock_timeout.py"), &[]);
    let why = verdict["verdict"].as_str().unwrap();
    assert_eq!(verdict["passed"], false, "{verdict}");
    assert!(why.contains("(a timeout)"), "{why}");
    assert!(why.contains("waited on each other's lock"), "{why}");
    assert_eq!(verdict["hint"], 2, "{verdict}");
}

#[test]
fn a_daemon_that_forks_behind_multiprocessing_is_seen_to() {
    if !can_judge() {
        return;
    }
    let verdict = check("2", &test_program("daemon_fork.py"), &[]);
    let why = verdict["verdict"].as_str().unwrap();
    assert_eq!(verdict["passed"], false, "{verdict}");
    assert!(why.contains("child process(es)"), "{why}");
    assert_eq!(verdict["hint"], 2, "{verdict}");
}

#[test]
fn a_reader_that_never_gets_end_of_file_is_told_who_holds_the_write_end() {
    if !can_judge() {
        return;
    }
    let verdict = check("6", &exercise_file("06-pipe-eof", "starter.py"), &[]);
    let why = verdict["verdict"].as_str().unwrap();
    assert!(why.contains("write end was still open in"), "{why}");
    assert!(why.contains("the reader itself"), "{why}");
}

#[test]
fn a_server_that_leaks_pipes_is_told_its_descriptors() {
    if !can_judge() {
        return;
    }
    let verdict = check("3", &test_program("echo_sig_ign.py"), &[]);
    let why = verdict["verdict"].as_str().unwrap();
    assert_eq!(verdict["passed"], false, "{verdict}");
    assert!(why.contains("pipe ×"), "{why}");
    assert!(why.contains("more, leaked"), "{why}");
}

#[test]
fn a_check_interrupted_or_killed_leaves_nothing() {
    if !can_judge() {
        return;
    }
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    for (signal, whole_group) in [(Signal::SIGINT, true), (Signal::SIGKILL, false)] {
        let lab = Lab::new();
        let command = lab.command(&[
            "exercise",
            "check",
            "1",
            test_program("hang.py").to_str().unwrap(),
        ]);
        let mut child = lab.spawn(command, Stdio::null());
        let group = child.id() as i32;
        // Until the program runs (its python3, with the run's marker), at most 20 s.
        let began = Instant::now();
        while !common::alive_of_run(&lab.tag)
            .iter()
            .any(|(_, stat)| stat.contains("(python3"))
        {
            assert!(
                began.elapsed() < Duration::from_secs(20),
                "the program never ran"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(300));
        let target = if whole_group { -group } else { group };
        kill(Pid::from_raw(target), signal).unwrap();
        let status = child.wait().unwrap();
        if signal == Signal::SIGINT {
            assert_eq!(status.code(), Some(130), "{signal}");
        }
        // Killed, the check cannot clean up itself: its run's supervisor does, told by its
        // parent-death signal.
        lab.assert_nothing_left(group);
    }
}

/// A check's own folder (exercise 7's scratch, where the program writes its count) is marked
/// as the lab's: killed with the check, it is removed by the next run of the lab, and a
/// folder that only looks like one (named as the old scratch folders were) is left alone.
#[test]
fn a_killed_checks_scratch_folder_goes_with_the_next_run_and_nothing_else_does() {
    if !can_judge() {
        return;
    }
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    let lab = Lab::new();
    let not_ours = lab.tmp.join("proclab-judge-99999");
    std::fs::create_dir_all(&not_ours).unwrap();
    std::fs::write(not_ours.join("thesis.txt"), "keep me").unwrap();
    let command = lab.command(&[
        "exercise",
        "check",
        "7",
        exercise_file("07-manager-counter", "starter.py")
            .to_str()
            .unwrap(),
    ]);
    let mut child = lab.spawn(command, Stdio::null());
    let group = child.id() as i32;
    // Until the check has its folder and its run has its own (and the decoy is there).
    let began = Instant::now();
    while std::fs::read_dir(&lab.tmp).unwrap().count() < 3 {
        assert!(
            began.elapsed() < Duration::from_secs(20),
            "the check never ran"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    kill(Pid::from_raw(group), Signal::SIGKILL).unwrap();
    child.wait().unwrap();
    let scratch = || -> Vec<PathBuf> {
        std::fs::read_dir(&lab.tmp)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| *p != not_ours)
            .collect()
    };
    // Its run's guard removes the run's own directory; the check's folder waits for a run.
    let deadline = Instant::now() + Duration::from_secs(5);
    while scratch().len() > 1 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(scratch().len(), 1, "the check's folder: {:?}", scratch());
    let next = lab
        .command(&["run", "1", "--speed", "20", "--json"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        next.status.success(),
        "{}",
        String::from_utf8_lossy(&next.stderr)
    );
    assert!(scratch().is_empty(), "left: {:?}", scratch());
    assert_eq!(
        std::fs::read_to_string(not_ours.join("thesis.txt")).unwrap(),
        "keep me"
    );
    std::fs::remove_dir_all(&not_ours).unwrap();
    lab.assert_nothing_left(group);
}

#[test]
fn start_writes_the_starter_once_and_progress_follows_the_checks() {
    if !can_judge() {
        return;
    }
    let lab = Lab::new();
    let folder = Folder::new(&lab);
    let dir = folder.0.to_str().unwrap();
    let started = lab.run(&["exercise", "start", "1", "--dir", dir], "");
    assert!(started.status.success(), "{}", started.stderr);
    let file = folder.0.join("01-overlap.py");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.starts_with("# Exercise 1 · Three children that overlap"),
        "{text}"
    );
    assert!(
        text.ends_with(
            &std::fs::read_to_string(exercise_file("01-overlap", "starter.py")).unwrap()
        )
    );
    // Unchanged: written again without a word. Changed: left alone, status 2.
    assert!(
        lab.run(&["exercise", "start", "1", "--dir", dir], "")
            .status
            .success()
    );
    std::fs::write(&file, format!("{text}\n# mine\n")).unwrap();
    let refused = lab.run(&["exercise", "start", "1", "--dir", dir], "");
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        refused.stderr.starts_with("proclab: "),
        "{}",
        refused.stderr
    );
    assert_eq!(
        refused.stderr.trim().lines().count(),
        1,
        "{}",
        refused.stderr
    );
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .ends_with("# mine\n")
    );

    folder.with(&exercise_file("01-overlap", "solution.py"), "01-overlap.py");
    let checked = lab.run(&["exercise", "check", "1", "--dir", dir], "");
    assert!(
        checked.status.success(),
        "{}{}",
        checked.stdout,
        checked.stderr
    );
    assert!(
        checked.stdout.starts_with("✔ exercise 1 passed"),
        "{}",
        checked.stdout
    );
    let progress: Value = serde_json::from_str(
        &std::fs::read_to_string(folder.0.join(".proclab-progress.json")).unwrap(),
    )
    .unwrap();
    let entry = &progress["exercises"]["01-overlap"];
    assert_eq!(entry["checks"], 1, "{progress}");
    assert!(entry["passed_at"].is_string(), "{progress}");
    assert_eq!(entry["last_verdict"]["passed"], true, "{progress}");
    let listed = lab.run(&["exercise", "list", "--dir", dir], "");
    let line = listed
        .stdout
        .lines()
        .find(|l| l.contains("overlap"))
        .unwrap();
    assert!(line.trim_end().ends_with("done"), "{line}");
}

#[test]
fn watch_checks_again_within_a_second_of_a_save() {
    if !can_judge() {
        return;
    }
    let lab = Lab::new();
    let folder = Folder::new(&lab);
    let dir = folder.0.to_str().unwrap();
    assert!(
        lab.run(&["exercise", "start", "1", "--dir", dir], "")
            .status
            .success()
    );
    let mut child = lab.spawn(
        lab.command(&["exercise", "watch", "1", "--dir", dir]),
        Stdio::null(),
    );
    let group = child.id() as i32;
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut next_line = |starts: &[char]| -> (String, Instant) {
        loop {
            let line = lines.next().expect("watch goes on").unwrap();
            if starts.iter().any(|c| line.starts_with(*c)) {
                return (line, Instant::now());
            }
        }
    };
    let verdict = ['✔', '✘'];
    assert!(next_line(&verdict).0.starts_with("✘ exercise 1 not yet"));
    // Saved: the new check must begin within a second (it then takes its own time to run).
    let saved = Instant::now();
    folder.with(&exercise_file("01-overlap", "solution.py"), "01-overlap.py");
    let (checking, seen) = next_line(&['─']);
    assert!(checking.contains("checking"), "{checking}");
    let took = seen - saved;
    assert!(
        took < Duration::from_secs(1),
        "the save was checked {took:?} after it"
    );
    assert!(next_line(&verdict).0.starts_with("✔ exercise 1 passed"));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(-group),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    lab.assert_nothing_left(group);
}

#[test]
fn bad_input_is_one_line_and_status_2() {
    let lab = Lab::new();
    let folder = Folder::new(&lab);
    let missing = folder.0.join("missing.py");
    let text = folder.with(&test_program("hang.py"), "notes.txt");
    let cases: Vec<Vec<&str>> = vec![
        vec!["exercise", "check", "99"],
        vec!["exercise", "check", "nonsense"],
        vec!["exercise", "check", "1", missing.to_str().unwrap()],
        vec!["exercise", "check", "1", folder.0.to_str().unwrap()],
        vec!["exercise", "check", "1", text.to_str().unwrap()],
        vec!["exercise", "hint", "0"],
        vec![
            "exercise",
            "start",
            "1",
            "--code",
            "rs",
            "--dir",
            folder.0.to_str().unwrap(),
        ],
        vec!["exercise", "solution", "1"],
    ];
    for args in cases {
        let finished = lab.run(&args, "");
        assert_eq!(
            finished.status.code(),
            Some(2),
            "{args:?}: {}",
            finished.stderr
        );
        assert!(
            finished.stderr.starts_with("proclab: "),
            "{args:?}: {}",
            finished.stderr
        );
        assert_eq!(
            finished.stderr.trim().lines().count(),
            1,
            "{args:?}: {}",
            finished.stderr
        );
    }
}
