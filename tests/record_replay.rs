//! `run --record FILE` and `replay FILE` through the real binary: the recording follows the
//! asciicast v2 format, has a marker per step, and the real asciinema program plays it back as
//! what the run showed; `replay` keeps the pace, changes it with `--speed`, pauses at markers
//! with `--step`, and refuses a bad file in one line.

mod common;

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use common::tmux::Tmux;
use common::{Lab, notes_headings};

/// A recording, checked against the format's rules on the way in: a header line (a JSON
/// object, `version` 2, whole `width` and `height`), then `[time, code, data]` lines, times
/// numbers that never go back, codes `o` or `m`, data strings.
struct Cast {
    header: Value,
    /// (time, code, data)
    events: Vec<(f64, String, String)>,
}

impl Cast {
    #[track_caller]
    fn read(path: &Path) -> Cast {
        let text = std::fs::read_to_string(path).expect("the recording is UTF-8 text");
        let mut lines = text.lines();
        let header: Value =
            serde_json::from_str(lines.next().expect("a header line")).expect("the header is JSON");
        assert!(header.is_object(), "{header}");
        assert_eq!(header["version"], 2, "{header}");
        assert!(header["width"].as_u64().is_some_and(|w| w > 0), "{header}");
        assert!(header["height"].as_u64().is_some_and(|h| h > 0), "{header}");
        let mut events = Vec::new();
        let mut last = 0.0;
        for line in lines {
            let event: Value = serde_json::from_str(line).expect("an event line is JSON");
            let parts = event.as_array().expect("an event is an array");
            assert_eq!(parts.len(), 3, "{line}");
            let time = parts[0].as_f64().expect("the time is a number");
            assert!(time >= last, "the time goes back: {time} after {last}");
            last = time;
            let code = parts[1].as_str().expect("the code is a string").to_string();
            assert!(code == "o" || code == "m", "code {code}");
            let data = parts[2].as_str().expect("the data is a string").to_string();
            events.push((time, code, data));
        }
        Cast { header, events }
    }

    fn markers(&self) -> Vec<String> {
        self.events
            .iter()
            .filter(|(_, code, _)| code == "m")
            .map(|(_, _, label)| label.clone())
            .collect()
    }

    /// All the output, as a terminal received it.
    fn output(&self) -> String {
        self.events
            .iter()
            .filter(|(_, code, _)| code == "o")
            .map(|(_, _, data)| data.as_str())
            .collect()
    }

    fn duration(&self) -> f64 {
        self.events.last().map_or(0.0, |(time, _, _)| *time)
    }
}

/// The real asciinema program: `asciinema` on the PATH, or the Python package of that name
/// (`python3 -m pip install --user asciinema==2.4.0`), if it can play a recording without a
/// terminal, as the tests run it (asciinema 2.2's `cat` opens /dev/tty, and fails without
/// one). In CI (`PROCLAB_CI` set by `.ci/run`, which installs 2.4.0) a missing or unusable
/// asciinema fails the test; elsewhere the test says why it skipped.
fn asciinema() -> Option<Vec<String>> {
    let candidates = [
        vec!["asciinema".to_string()],
        vec!["python3".into(), "-m".into(), "asciinema".into()],
    ];
    let probe = std::env::temp_dir().join(format!(
        "proclab-asciinema-probe-{}.cast",
        std::process::id()
    ));
    std::fs::write(
        &probe,
        "{\"version\": 2, \"width\": 80, \"height\": 24}\n[0.1, \"o\", \"probe\"]\n",
    )
    .unwrap();
    let mut unusable = Vec::new();
    let mut usable = None;
    for command in candidates {
        let version = Command::new(&command[0])
            .args(&command[1..])
            .arg("--version")
            .stdin(Stdio::null())
            .output();
        let Some(version) = version.ok().filter(|out| out.status.success()) else {
            continue;
        };
        let version = String::from_utf8_lossy(&version.stdout).trim().to_string();
        match try_asciinema_cat(&command, &probe) {
            Ok(out) if out.contains("probe") => {
                usable = Some(command);
                break;
            }
            Ok(out) => unusable.push(format!("{version} printed {out:?}")),
            Err(error) => {
                unusable.push(format!("{version} cannot play without a terminal: {error}"))
            }
        }
    }
    let _ = std::fs::remove_file(&probe);
    if usable.is_some() {
        return usable;
    }
    let why = if unusable.is_empty() {
        "asciinema is not installed".to_string()
    } else {
        unusable.join("; ")
    };
    if std::env::var_os("PROCLAB_CI").is_some() {
        panic!("{why} (in CI it must work: .ci/run installs asciinema 2.4.0)");
    }
    eprintln!("skipped: {why} (python3 -m pip install --user asciinema==2.4.0)");
    None
}

/// `asciinema cat FILE`: the recording's output, as asciinema prints it.
#[track_caller]
fn asciinema_cat(asciinema: &[String], file: &Path) -> String {
    try_asciinema_cat(asciinema, file).unwrap_or_else(|error| panic!("{error}"))
}

/// `asciinema cat FILE` without a controlling terminal, or why it failed.
fn try_asciinema_cat(asciinema: &[String], file: &Path) -> Result<String, String> {
    let mut command = Command::new(&asciinema[0]);
    command
        .args(&asciinema[1..])
        .arg("cat")
        .arg(file)
        .stdin(Stdio::null());
    // SAFETY: setsid is async-signal-safe. Without a controlling terminal, asciinema cannot
    // open /dev/tty to put it in raw mode: the terminal running the tests is left alone.
    unsafe {
        command.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    let out = command
        .output()
        .map_err(|e| format!("asciinema does not run: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "asciinema cat failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    String::from_utf8(out.stdout).map_err(|_| "asciinema printed something not UTF-8".into())
}

fn cast_path(lab: &Lab, name: &str) -> PathBuf {
    // Beside the run's TMPDIR, not in it: that directory must be empty after the run.
    lab.tmp.with_extension(format!("{name}.cast"))
}

/// Runs `proclab run <args> --record <file>` (at 90 columns) and returns what it printed.
#[track_caller]
fn record(lab: &Lab, file: &Path, args: &[&str], stdin: &str) -> String {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--record", file.to_str().unwrap()]);
    let mut command = lab.command(&all);
    command.env("COLUMNS", "90");
    let finished = lab.run_command(command, stdin);
    assert!(
        finished.status.success(),
        "{all:?}: {:?}\n{}",
        finished.status,
        finished.stderr
    );
    finished.stdout
}

struct Removed(PathBuf);

impl Drop for Removed {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn a_recording_follows_the_format_with_a_marker_at_every_step() {
    let lab = Lab::new();
    let file = cast_path(&lab, "format");
    let _removed = Removed(file.clone());
    let args = ["run", "1", "--speed", "20", "--color", "always"];
    let shown = record(
        &lab,
        &file,
        &[&args[..], &["--theme", "light"]].concat(),
        "",
    );
    let cast = Cast::read(&file);

    assert_eq!(cast.header["width"], 90);
    assert_eq!(
        cast.header["height"], 24,
        "not a terminal: 24 rows are recorded"
    );
    let title = cast.header["title"].as_str().unwrap();
    assert!(title.contains("lesson 1 · spawn-function"), "{title}");
    assert!(title.ends_with("· theme light"), "{title}");
    assert_eq!(cast.header["theme"]["bg"], "#ffffff");
    let palette = cast.header["theme"]["palette"].as_str().unwrap();
    assert_eq!(palette.split(':').count(), 16, "{palette}");
    assert!(cast.header["timestamp"].as_u64().is_some());

    // Two markers per step, in order: where it begins, labelled with its title, and where
    // it ends.
    let headings = notes_headings("01-spawn-function");
    let expected: Vec<String> = headings
        .iter()
        .enumerate()
        .flat_map(|(i, title)| [title.clone(), format!("end of step {}: {title}", i + 1)])
        .collect();
    assert_eq!(cast.markers(), expected);
    // Each step's marker comes right after its heading was shown, before its output; its end
    // after its output, before the next step's heading (or the run's last line).
    let mut seen = String::new();
    let mut step = 0;
    for (_, code, data) in &cast.events {
        if code == "m" && !data.starts_with("end of step") {
            step += 1;
            let heading = format!("Step {step} of {}: {data}", headings.len());
            assert!(seen.contains(&heading), "marker {step} before its heading");
            assert!(!seen.contains(&format!("Step {} of", step + 1)));
        } else if code == "m" {
            let after_heading = &seen[seen.rfind(&format!("Step {step} of")).unwrap()..];
            assert!(
                after_heading.contains(" │ "),
                "end of step {step}: no output"
            );
            assert!(!seen.contains(&format!("Step {} of", step + 1)));
            assert!(!seen.contains("lesson finished"));
        } else {
            seen.push_str(data);
        }
    }
    // `replay --step` pauses at both: after a step as well as before it.
    let stepped = lab.run(
        &[
            "replay",
            file.to_str().unwrap(),
            "--step",
            "--speed",
            "1000",
        ],
        &"\n".repeat(expected.len()),
    );
    assert!(stepped.status.success(), "{}", stepped.stderr);
    let total = expected.len();
    for (i, label) in expected.iter().enumerate() {
        let prompt = format!("{} of {total}: {label} · Enter: play on", i + 1);
        assert!(
            stepped.stderr.contains(&prompt),
            "{prompt}: {}",
            stepped.stderr
        );
    }
    // Colours and all: what the terminal got, with its line feeds as the terminal shows them.
    assert!(cast.output().contains("\x1b["), "no colour recorded");
    assert_eq!(cast.output().replace("\r\n", "\n"), shown);
    // Every line feed reached the screen as the terminal's driver sends it: CR LF.
    let output = cast.output();
    let bare = output
        .match_indices('\n')
        .filter(|(at, _)| !output[..*at].ends_with('\r'));
    assert_eq!(bare.count(), 0, "a bare line feed in the recording");
    // At --speed 20 lesson 1 takes a fraction of a second; the recording says so.
    assert!(
        cast.duration() > 0.01 && cast.duration() < 30.0,
        "{}",
        cast.duration()
    );
}

#[test]
fn asciinema_cat_reproduces_what_the_run_showed() {
    let Some(asciinema) = asciinema() else {
        return;
    };
    let lab = Lab::new();
    let runs: [(&[&str], &str); 3] = [
        (&["run", "2", "--speed", "20", "--color", "always"], ""),
        (
            &[
                "run", "1", "--speed", "20", "--step", "--notes", "--color", "always",
            ],
            "\n\n\n\n\n\n\n\n\n\n\n\n",
        ),
        (
            &[
                "run", "3", "--speed", "20", "--ascii", "--theme", "contrast", "--color", "always",
            ],
            "",
        ),
    ];
    for (i, (args, stdin)) in runs.iter().enumerate() {
        let file = cast_path(&lab, &format!("cat-{i}"));
        let _removed = Removed(file.clone());
        let shown = record(&lab, &file, args, stdin);
        let played = asciinema_cat(&asciinema, &file);
        assert!(played.contains("Step 1 of"), "{args:?}: {played}");
        assert_eq!(played.replace("\r\n", "\n"), shown, "{args:?}");

        // proclab's own replay prints exactly what asciinema prints.
        let replayed = lab.run(&["replay", file.to_str().unwrap(), "--speed", "1000"], "");
        assert!(replayed.status.success(), "{}", replayed.stderr);
        assert_eq!(replayed.stdout, played, "{args:?}");
    }
}

#[test]
fn a_long_wait_at_a_prompt_becomes_a_short_pause_in_the_recording() {
    let lab = Lab::new();
    let file = cast_path(&lab, "pause");
    let _removed = Removed(file.clone());
    let began = Instant::now();
    let mut command = lab.command(&[
        "run",
        "1",
        "--speed",
        "20",
        "--step",
        "--color",
        "never",
        "--record",
        file.to_str().unwrap(),
    ]);
    command.env("COLUMNS", "90");
    let mut child = lab.spawn(command, Stdio::piped());
    let group = child.id() as i32;
    let shown = Arc::new(Mutex::new(Vec::new()));
    let mut stdout = child.stdout.take().unwrap();
    let reader = {
        let shown = shown.clone();
        std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while let Ok(n @ 1..) = stdout.read(&mut chunk) {
                shown.lock().unwrap().extend_from_slice(&chunk[..n]);
            }
        })
    };
    // Wait until the first prompt is on the screen, then talk for 3 seconds.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !String::from_utf8_lossy(&shown.lock().unwrap()).contains("Press Enter") {
        assert!(Instant::now() < deadline, "no prompt came");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_secs(3));
    let mut input = child.stdin.take().unwrap();
    input.write_all("\n".repeat(12).as_bytes()).unwrap();
    drop(input);
    let status = child.wait().unwrap();
    let wall = began.elapsed().as_secs_f64();
    reader.join().unwrap();
    lab.assert_nothing_left(group);
    assert!(status.success(), "{status:?}");

    let cast = Cast::read(&file);
    // The prompt's event, and the next one after the answer: 3 s at the prompt became a
    // pause of PROMPT_PAUSE (1 s) and the time it took to go on.
    let prompt = cast
        .events
        .iter()
        .position(|(_, _, data)| data.contains("Press Enter"))
        .expect("the prompt was recorded");
    let gap = cast.events[prompt + 1].0 - cast.events[prompt].0;
    assert!((0.99..2.5).contains(&gap), "the pause lasts {gap} s");
    // The whole recording is at least the 2 cut seconds shorter than the run.
    assert!(
        cast.duration() < wall - 1.5,
        "{} s recorded of {wall} s",
        cast.duration()
    );
    assert_eq!(
        cast.output().replace("\r\n", "\n"),
        String::from_utf8_lossy(&shown.lock().unwrap())
    );
}

/// A recording written by hand for `replay`: "a" at 0 s, "b" at 1 s, "c" at 2 s.
const PACED: &str = "{\"version\": 2, \"width\": 80, \"height\": 24}\n\
                     [0.0, \"o\", \"a\"]\n[1.0, \"o\", \"b\"]\n[2.0, \"o\", \"c\"]\n";

fn write_cast(lab: &Lab, name: &str, text: &[u8]) -> Removed {
    let file = cast_path(lab, name);
    std::fs::write(&file, text).unwrap();
    Removed(file)
}

#[test]
fn replay_keeps_the_recorded_pace_and_speed_changes_it() {
    let lab = Lab::new();
    let file = write_cast(&lab, "paced", PACED.as_bytes());
    let path = file.0.to_str().unwrap();
    let timed = |args: &[&str]| {
        let began = Instant::now();
        let finished = lab.run(args, "");
        assert!(finished.status.success(), "{}", finished.stderr);
        assert_eq!(finished.stdout, "abc");
        began.elapsed().as_secs_f64()
    };
    let recorded_pace = timed(&["replay", path]);
    let four_times = timed(&["replay", path, "--speed", "4"]);
    // 2 s of recording: 2 s at its own pace, 0.5 s four times faster (a busy machine adds
    // to each, never takes away).
    assert!(recorded_pace >= 1.95, "{recorded_pace}");
    assert!((0.45..1.6).contains(&four_times), "{four_times}");
}

/// "before", a marker, "one", a marker, "two".
const MARKED: &str = "{\"version\": 2, \"width\": 80, \"height\": 24}\n\
                      [0.0, \"o\", \"before\"]\n[0.05, \"m\", \"First step\"]\n\
                      [0.1, \"o\", \"one\"]\n[0.15, \"m\", \"Second step\"]\n\
                      [0.2, \"o\", \"two\"]\n";

#[test]
fn replay_step_pauses_at_every_marker() {
    let lab = Lab::new();
    let file = write_cast(&lab, "marked", MARKED.as_bytes());
    let path = file.0.to_str().unwrap();

    // Without --step, markers are not shown.
    let plain = lab.run(&["replay", path], "");
    assert_eq!(plain.stdout, "beforeonetwo");
    assert_eq!(plain.stderr, "");

    // Enter at each marker plays on; the prompts name the marker, on standard error.
    let stepped = lab.run(&["replay", path, "--step"], "\n\n");
    assert!(stepped.status.success(), "{}", stepped.stderr);
    assert_eq!(stepped.stdout, "beforeonetwo");
    assert!(
        stepped.stderr.contains("1 of 2: First step"),
        "{}",
        stepped.stderr
    );
    assert!(
        stepped.stderr.contains("2 of 2: Second step"),
        "{}",
        stepped.stderr
    );

    // q at the first marker stops there, cleanly.
    let quit = lab.run(&["replay", path, "--step"], "q\n");
    assert_eq!(quit.status.code(), Some(0), "{}", quit.stderr);
    assert_eq!(quit.stdout, "before");

    // And it really waits: nothing after the marker comes before the Enter.
    let mut child = lab.spawn(lab.command(&["replay", path, "--step"]), Stdio::piped());
    let group = child.id() as i32;
    let shown = Arc::new(Mutex::new(String::new()));
    let mut stdout = child.stdout.take().unwrap();
    let reader = {
        let shown = shown.clone();
        std::thread::spawn(move || {
            let mut chunk = [0u8; 64];
            while let Ok(n @ 1..) = stdout.read(&mut chunk) {
                shown
                    .lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&chunk[..n]));
            }
        })
    };
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        *shown.lock().unwrap(),
        "before",
        "it played on without an Enter"
    );
    let mut input = child.stdin.take().unwrap();
    input.write_all(b"\n\n").unwrap();
    drop(input);
    assert!(child.wait().unwrap().success());
    reader.join().unwrap();
    lab.assert_nothing_left(group);
    assert_eq!(*shown.lock().unwrap(), "beforeonetwo");
}

#[test]
fn a_bad_recording_is_one_line_of_error_never_a_panic() {
    let lab = Lab::new();
    let header = "{\"version\": 2, \"width\": 80, \"height\": 24}\n";
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("not-json", b"hello\n".to_vec()),
        (
            "version-1",
            b"{\"version\": 1, \"width\": 80, \"height\": 24}\n".to_vec(),
        ),
        ("no-width", b"{\"version\": 2, \"height\": 24}\n".to_vec()),
        (
            "time-goes-back",
            format!("{header}[2, \"o\", \"x\"]\n[1, \"o\", \"y\"]\n").into_bytes(),
        ),
        ("short-event", format!("{header}[1, \"o\"]\n").into_bytes()),
        (
            "data-not-a-string",
            format!("{header}[1, \"o\", 7]\n").into_bytes(),
        ),
        ("binary", vec![0xff, 0xfe, 0x00, 0x12, 0x80]),
        // A time the player could not wait for (it panicked converting it).
        (
            "huge-time",
            format!("{header}[1e20, \"o\", \"x\"]\n").into_bytes(),
        ),
        (
            "largest-time",
            format!("{header}[1e308, \"o\", \"x\"]\n").into_bytes(),
        ),
    ];
    let mut files: Vec<Removed> = Vec::new();
    let mut paths: Vec<(String, String)> = Vec::new();
    for (name, bytes) in cases {
        let file = write_cast(&lab, name, &bytes);
        paths.push((name.to_string(), file.0.to_str().unwrap().to_string()));
        files.push(file);
    }
    paths.push(("missing".into(), "/nonexistent/proclab.cast".into()));
    paths.push(("a-directory".into(), lab.tmp.to_str().unwrap().into()));
    // Not regular files: no size to check and no end (it read until out of memory), and a
    // FIFO nobody writes to (it waited for ever).
    paths.push(("dev-zero".into(), "/dev/zero".into()));
    let fifo = Removed(cast_path(&lab, "fifo"));
    nix::unistd::mkfifo(&fifo.0, nix::sys::stat::Mode::S_IRWXU).unwrap();
    paths.push(("a-fifo".into(), fifo.0.to_str().unwrap().into()));
    for (name, path) in paths {
        let finished = lab.run(&["replay", &path, "--step"], "\n");
        assert_eq!(
            finished.status.code(),
            Some(2),
            "{name}: {}",
            finished.stderr
        );
        assert_eq!(finished.stdout, "", "{name}");
        assert_eq!(
            finished.stderr.lines().count(),
            1,
            "{name}: {}",
            finished.stderr
        );
        assert!(
            finished.stderr.starts_with("proclab: cannot replay"),
            "{name}: {}",
            finished.stderr
        );
        assert!(!finished.stderr.contains("panicked"), "{name}");
    }
}

#[test]
fn record_refuses_json_and_an_unwritable_file_before_the_lesson_starts() {
    let lab = Lab::new();
    let file = cast_path(&lab, "json");
    let _removed = Removed(file.clone());
    let path = file.to_str().unwrap();
    let json = lab.run(&["run", "1", "--json", "--record", path], "");
    assert_eq!(json.status.code(), Some(2));
    assert_eq!(json.stdout, "");
    assert_eq!(json.stderr.lines().count(), 1, "{}", json.stderr);
    assert!(
        json.stderr.contains("--record records the human view"),
        "{}",
        json.stderr
    );
    assert!(!file.exists(), "a refused run wrote a recording");

    let directory = lab.tmp.to_str().unwrap().to_string();
    for unwritable in ["/nonexistent/dir/run.cast", &directory] {
        let finished = lab.run(&["run", "1", "--speed", "20", "--record", unwritable], "");
        assert_eq!(finished.status.code(), Some(2), "{unwritable}");
        assert_eq!(finished.stdout, "", "the lesson started: {unwritable}");
        assert_eq!(finished.stderr.lines().count(), 1, "{}", finished.stderr);
        assert!(
            finished
                .stderr
                .starts_with(&format!("proclab: cannot write the recording {unwritable}")),
            "{}",
            finished.stderr
        );
    }
}

/// `replay --step < /dev/zero`: each prompt takes a bounded line (not a choice of `q`), and the
/// replay plays to its end instead of reading until memory runs out.
#[test]
fn replay_step_reads_a_bounded_line_from_endless_input() {
    let lab = Lab::new();
    let text = "{\"version\": 2, \"width\": 80, \"height\": 24}\n[0.0, \"o\", \"a\"]\n\
                [0.5, \"m\", \"Step 1\"]\n[1.0, \"o\", \"b\"]\n[1.5, \"m\", \"Step 2\"]\n\
                [2.0, \"o\", \"c\"]\n";
    let file = write_cast(&lab, "zero", text.as_bytes());
    let mut command = lab.command(&[
        "replay",
        file.0.to_str().unwrap(),
        "--step",
        "--speed",
        "20",
    ]);
    let child = command
        .stdin(std::fs::File::open("/dev/zero").unwrap())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let group = child.id() as i32;
    let out = wait_within(child, Duration::from_secs(20));
    assert_eq!(out, "abc");
    lab.assert_nothing_left(group);
}

/// The standard output of `child` once it ends; past `limit`, kills its group and fails.
#[track_caller]
fn wait_within(mut child: std::process::Child, limit: Duration) -> String {
    let deadline = Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(-(child.id() as i32)),
                nix::sys::signal::Signal::SIGKILL,
            );
            panic!("still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    out
}

/// `--record` to what is not a regular file: a FIFO without a reader held the lab before the
/// lesson, and `/dev/null` or `/dev/stdout` ran the whole lesson and then failed on `fsync`.
/// Each is one line of error, status 2, before the lesson starts.
#[test]
fn record_refuses_what_is_not_a_regular_file_at_once() {
    let lab = Lab::new();
    let fifo = cast_path(&lab, "fifo");
    let _removed = Removed(fifo.clone());
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
    for target in [fifo.to_str().unwrap(), "/dev/null", "/dev/stdout"] {
        let command = lab.command(&["run", "1", "--speed", "20", "--record", target]);
        let mut child = lab.spawn(command, Stdio::null());
        let mut stderr = child.stderr.take().unwrap();
        let started = Instant::now();
        let out = wait_within(child, Duration::from_secs(15));
        let mut error = String::new();
        stderr.read_to_string(&mut error).unwrap();
        assert!(started.elapsed() < Duration::from_secs(10), "{target}");
        assert_eq!(out, "", "the lesson started: {target}");
        assert_eq!(error.lines().count(), 1, "{target}: {error}");
        assert!(
            error.starts_with(&format!(
                "proclab: cannot write the recording {target}: not a regular file"
            )),
            "{error}"
        );
    }
}

/// A recording whose last line was cut short (a full disk, the lab killed mid-write) plays up
/// to that line, and `replay` says so in one line.
#[test]
fn replay_plays_up_to_a_torn_last_line() {
    let lab = Lab::new();
    let text = "{\"version\": 2, \"width\": 80, \"height\": 24}\n[0.0, \"o\", \"a\"]\n\
                [0.1, \"o\", \"b\"]\n[0.2, \"o\", \"c";
    let file = write_cast(&lab, "torn", text.as_bytes());
    let finished = lab.run(&["replay", file.0.to_str().unwrap(), "--speed", "20"], "");
    assert_eq!(finished.status.code(), Some(0), "{}", finished.stderr);
    assert_eq!(finished.stdout, "ab");
    assert_eq!(finished.stderr.lines().count(), 1, "{}", finished.stderr);
    assert!(
        finished.stderr.starts_with("proclab: ") && finished.stderr.contains("line 4 is cut short"),
        "{}",
        finished.stderr
    );
    // A damaged line that is not the last is still an error.
    let text =
        "{\"version\": 2, \"width\": 80, \"height\": 24}\n[0.0, \"o\", \"a\n[0.1, \"o\", \"b\"]\n";
    let file = write_cast(&lab, "damaged", text.as_bytes());
    let finished = lab.run(&["replay", file.0.to_str().unwrap()], "");
    assert_eq!(finished.status.code(), Some(2), "{}", finished.stderr);
}

/// `ulimit -f`: the file-size limit sent SIGXFSZ, which killed the supervisor without a word.
/// Now the write fails (EFBIG), the lab says so in one line, and the recording ends with a
/// whole line, so it plays.
#[test]
fn a_file_size_limit_is_one_line_and_leaves_a_playable_recording() {
    let lab = Lab::new();
    let file = cast_path(&lab, "fsize");
    let _removed = Removed(file.clone());
    let mut command = lab.command(&[
        "run",
        "1",
        "--speed",
        "20",
        "--record",
        file.to_str().unwrap(),
    ]);
    // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 3000,
                rlim_max: 3000,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let finished = lab.run_command(command, "");
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        finished.status.signal(),
        None,
        "killed: {:?}",
        finished.status
    );
    assert_eq!(finished.status.code(), Some(1), "{}", finished.stderr);
    let ours: Vec<&str> = finished
        .stderr
        .lines()
        .filter(|l| l.starts_with("proclab:"))
        .collect();
    assert_eq!(ours.len(), 1, "{}", finished.stderr);
    assert!(
        ours[0].contains("cannot write the recording"),
        "{}",
        ours[0]
    );
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.len() <= 3000 && text.ends_with('\n'),
        "{} bytes",
        text.len()
    );
    let replayed = lab.run(&["replay", file.to_str().unwrap(), "--speed", "1000"], "");
    assert_eq!(replayed.status.code(), Some(0), "{}", replayed.stderr);
    assert_eq!(replayed.stderr, "");
}

/// Ctrl-\ and Ctrl-Z at a `replay --step` prompt, in a real terminal under dash (which, unlike
/// bash, does not put the terminal back after its job): the terminal keeps its echo.
#[test]
fn quit_or_stop_at_a_replay_prompt_leaves_the_terminal_echoing() {
    let lab = Lab::new();
    let text = "{\"version\": 2, \"width\": 80, \"height\": 24}\n[0.0, \"o\", \"a\"]\n\
                [0.1, \"m\", \"Step 1\"]\n[0.2, \"o\", \"b\"]\n";
    let file = write_cast(&lab, "quit", text.as_bytes());
    let stty = cast_path(&lab, "stty");
    let _stty_removed = Removed(stty.clone());
    // An interactive dash with job control, as a student's terminal would have it; no core
    // file from the Ctrl-\ (it would land in the current directory).
    let shell = "sh -c 'ulimit -c 0; exec sh -i -m'";
    let Some(tmux) = Tmux::start(&lab, "quit", shell, (80, 24)) else {
        eprintln!("skipped: tmux is not installed, so no real terminal to check");
        return;
    };
    let replay = format!("{} replay {} --step", common::BIN, file.0.display());
    let wait_for = |what: &str, found: &dyn Fn() -> bool| {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !found() {
            assert!(
                Instant::now() < deadline,
                "no {what} on\n{}",
                tmux.screen().0.join("\n")
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    let last_line = || {
        let screen = tmux.screen().0;
        let last = screen.iter().rev().find(|l| !l.trim().is_empty());
        last.cloned().unwrap_or_default()
    };
    let at_prompt = || last_line().contains("Enter: play on");
    let at_shell = || matches!(last_line().trim(), "#" | "$");
    for (key, name) in [("C-\\", "Ctrl-\\"), ("C-z", "Ctrl-Z")] {
        let _ = std::fs::remove_file(&stty);
        wait_for("shell prompt", &at_shell);
        tmux.run(&["send-keys", "-l", &replay]);
        tmux.run(&["send-keys", "Enter"]);
        wait_for("replay prompt", &at_prompt);
        tmux.run(&["send-keys", key]);
        wait_for("shell prompt", &at_shell);
        tmux.run(&["send-keys", "-l", &format!("stty -a > {}", stty.display())]);
        tmux.run(&["send-keys", "Enter"]);
        wait_for("stty output", &|| {
            std::fs::read_to_string(&stty).is_ok_and(|s| s.contains("echo"))
        });
        let settings = std::fs::read_to_string(&stty).unwrap();
        let echo: Vec<&str> = settings
            .split([' ', ';', '\n'])
            .filter(|word| word.trim_start_matches('-') == "echo")
            .collect();
        assert_eq!(echo, ["echo"], "after {name}:\n{settings}");
        if key == "C-z" {
            // End the stopped replay.
            tmux.run(&["send-keys", "-l", "kill -9 %1"]);
            tmux.run(&["send-keys", "Enter"]);
        }
    }
}
