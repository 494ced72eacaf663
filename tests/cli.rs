//! The command line through the real binary: listing, bad input, step mode, Ctrl-C, notes.

mod common;

use common::{Lab, notes_headings};

#[test]
fn list_shows_every_lesson_in_order() {
    let lab = Lab::new();
    for args in [&["list"][..], &[][..]] {
        let finished = lab.run(args, "");
        assert!(finished.status.success());
        let one = finished
            .stdout
            .find("spawn-function")
            .expect("lesson 1 listed");
        let two = finished
            .stdout
            .find("spawn-worker")
            .expect("lesson 2 listed");
        assert!(one < two);
        assert!(!finished.stdout.contains('\x1b'), "colour in a pipe");
    }
}

#[test]
fn bad_input_is_one_clear_line_and_status_2() {
    let lab = Lab::new();
    // `run` without a lesson is an error too, with the list of lessons: see tests/classroom.rs.
    let cases: [(&[&str], &str); 18] = [
        (&["run", "99"], "unknown lesson '99'"),
        (&["run", "1\n2"], "unknown lesson '1\\n2'"),
        (&["run", "1", "--speed", "-inf"], "--speed"),
        (&["run", "1", "--speed", "1e-300"], "between 0.01 and 1000"),
        (&["run", "1", "--speed", "1e308"], "between 0.01 and 1000"),
        (&["run", "1", "--speed", "0.001"], "between 0.01 and 1000"),
        (&["run", "1", "--speed", "NaN"], "not a number"),
        (&["bench"], "'bench' needs a subcommand: spawn"),
        (
            &[
                "load",
                "--port",
                "20001",
                "--connections",
                "1",
                "--time-limit",
                "1e308",
            ],
            "at most 600 seconds",
        ),
        (
            &[
                "load",
                "--port",
                "20001",
                "--hold",
                "1",
                "--hold-for",
                "1e308",
            ],
            "below 600 seconds",
        ),
        (
            &["serve", "--port", "0", "--idle-timeout", "0"],
            "--idle-timeout",
        ),
        (
            &["run", "no-such-lesson"],
            "valid lessons: 1 (spawn-function)",
        ),
        (&["run", "1", "--speed", "0"], "--speed"),
        (&["run", "1", "--speed", "-2"], "--speed"),
        (&["run", "1", "--speed", "fast"], "not a number"),
        (&["notes", "42"], "unknown lesson '42'"),
        (&["run", "1", "--sped", "3"], "'--sped'"),
        (&["frobnicate"], "'frobnicate'"),
    ];
    for (args, expected) in cases {
        let finished = lab.run(args, "");
        assert_eq!(
            finished.status.code(),
            Some(2),
            "{args:?}: {}",
            finished.stderr
        );
        assert_eq!(
            finished.stderr.lines().count(),
            1,
            "{args:?}: not one line: {}",
            finished.stderr
        );
        assert!(
            finished.stderr.starts_with("proclab: ") && finished.stderr.contains(expected),
            "{args:?}: {}",
            finished.stderr
        );
        assert!(
            !finished.stderr.contains("panicked"),
            "{args:?}: {}",
            finished.stderr
        );
        assert!(finished.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn step_mode_runs_through_on_enters_and_q_stops_cleanly() {
    let lab = Lab::new();
    // Each step: Enter to run it, Enter after its output (to discuss it) to go on.
    let through = lab.run(&["run", "1", "--step", "--speed", "20"], &"\n".repeat(8));
    assert!(through.status.success(), "{}", through.stderr);
    assert_eq!(through.stdout.matches("Press Enter").count(), 4);
    assert_eq!(through.stdout.matches("End of step").count(), 4);
    assert!(through.stdout.contains("lesson finished"));

    // q at the third prompt (step 2's): step 1 ran, step 2 never did, nothing is left running.
    let stopped = lab.run(&["run", "1", "--step", "--speed", "20"], "\n\nq\n");
    assert!(stopped.status.success(), "{}", stopped.stderr);
    assert!(stopped.stdout.contains("主进程"));
    assert!(stopped.stdout.contains("Step 2 of 4"));
    assert!(!stopped.stdout.contains("of wall time:"), "step 2 ran");
    assert!(stopped.stdout.contains("Stopped at the prompt"));
    // The summary says where it stopped, not that the lesson finished.
    assert!(
        stopped.stdout.contains("lesson stopped at step 2 of 4"),
        "{}",
        stopped.stdout
    );
    assert!(!stopped.stdout.contains("lesson finished"));
}

#[test]
fn notes_are_shown_beside_each_step_and_on_their_own() {
    let lab = Lab::new();
    let with_notes = lab.run(&["run", "2", "--notes", "--speed", "20"], "");
    assert!(with_notes.status.success());
    // Only the step sections are shown beside the steps, not the introduction.
    assert!(!with_notes.stdout.contains("Rust has no subclasses"));
    // The first section's text comes right after the first step's title.
    let heading = with_notes.stdout.find("Step 1 of 4").unwrap();
    let body = with_notes.stdout.find("inside its own process").unwrap();
    let first_output = with_notes.stdout.find("forked child").unwrap();
    assert!(
        heading < body && body < with_notes.stdout[heading..].find("forked").unwrap() + heading
    );
    assert!(
        first_output < heading,
        "the supervisor's fork of main comes first"
    );

    let notes = lab.run(&["notes", "spawn-worker"], "");
    assert!(notes.status.success());
    for heading in notes_headings("02-spawn-worker") {
        assert!(notes.stdout.contains(&heading), "{heading}");
    }
}

#[test]
fn ctrl_c_in_the_middle_ends_everything_with_status_130() {
    let lab = Lab::new();
    // Interrupt lesson 1 at normal speed while the three children are asleep.
    let events = lab.interrupted_when(&["run", "1", "--json", "--seed", "3"], |e| {
        e["kind"] == "say" && e["text"] == "主进程 / main process"
    });
    assert!(
        events
            .texts("note")
            .iter()
            .any(|t| t.contains("Stopped by SIGINT"))
    );
}

#[test]
fn every_json_line_has_the_common_fields() {
    let lab = Lab::new();
    let events = lab.lesson("1", &[]);
    for event in &events.0 {
        for field in ["t", "pid", "ppid", "name", "kind"] {
            assert!(!event[field].is_null(), "{field} missing in {event}");
        }
    }
    let times: Vec<f64> = events.0.iter().map(|e| e["t"].as_f64().unwrap()).collect();
    assert!(times.iter().all(|&t| (0.0..60.0).contains(&t)));
    assert!(events.0.last().unwrap()["wall"].as_f64().unwrap() > 0.0);
}

#[test]
fn every_lesson_runs_in_the_human_view_with_notes_and_colour() {
    let lab = Lab::new();
    let listed = lab.run(&["list"], "");
    let numbers: Vec<String> = listed
        .stdout
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|word| word.parse::<u32>().is_ok())
        .map(str::to_string)
        .collect();
    assert!(numbers.len() >= 4, "{}", listed.stdout);
    // Four lessons at a time, each with a lab of its own: the runs mostly sleep.
    for batch in numbers.chunks(4) {
        let runs: Vec<_> = batch
            .iter()
            .cloned()
            .map(|number| std::thread::spawn(move || runs_in_colour(&number)))
            .collect();
        for run in runs {
            run.join().unwrap();
        }
    }
}

fn runs_in_colour(number: &str) {
    let lab = Lab::new();
    let args = [
        "run", number, "--speed", "20", "--notes", "--color", "always",
    ];
    let finished = lab.run(&args, "");
    assert!(
        finished.status.success(),
        "lesson {number}: {}",
        finished.stderr
    );
    assert!(
        finished.stdout.contains("\x1b["),
        "lesson {number}: no colour"
    );
    for part in ["Step 1 of", "Process tree", "Timeline", "lesson finished"] {
        assert!(
            finished.stdout.contains(part),
            "lesson {number}: no {part:?} in\n{}",
            finished.stdout
        );
    }
}

#[test]
fn every_process_has_a_lane_in_the_timeline_even_on_a_narrow_terminal() {
    let lab = Lab::new();
    for columns in ["45", "200"] {
        let mut command = lab.command(&["run", "2", "--speed", "20", "--no-color"]);
        command.env("COLUMNS", columns);
        let finished = lab.run_command(command, "");
        assert!(finished.status.success(), "{}", finished.stderr);
        let stdout = finished.stdout;
        let tree = &stdout[stdout.find("Process tree").unwrap()..stdout.find("Timeline").unwrap()];
        let processes = tree.lines().filter(|l| l.contains("exit ")).count() + 1;
        let lanes: Vec<&str> = stdout[stdout.find("Timeline").unwrap()..]
            .lines()
            .skip(1)
            .filter(|l| l.contains('│'))
            .collect();
        assert_eq!(lanes.len(), processes, "{stdout}");
        // Running, blocked or a zombie: something is drawn for every process.
        for lane in lanes {
            // Running, or blocked for the whole of its one cell on a narrow terminal.
            assert!(
                lane.contains(['█', '▒', '░']),
                "{columns} columns: an empty lane: {lane}"
            );
        }
    }
}

/// The harness's check for named shared memory can fail: a segment or a named semaphore named
/// as the lab names them is found, anything else is not. (Shown on a directory of the test's
/// own, so that the other tests running meanwhile do not see the decoys in /dev/shm.)
#[test]
fn the_shared_memory_check_finds_a_named_segment() {
    let dir = std::env::temp_dir().join(format!("proclab-shm-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for name in [
        "proclab-queue-1",
        "sem.proclab-lock",
        "sem.other",
        "pulse-shm-1",
    ] {
        std::fs::write(dir.join(name), b"x").unwrap();
    }
    let mut found = common::shm_leftovers_in(&dir);
    std::fs::remove_dir_all(&dir).unwrap();
    found.sort();
    assert_eq!(found, ["proclab-queue-1", "sem.proclab-lock"]);
}
