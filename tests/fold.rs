//! Folding crowds in the human view, through the real binary: a run of alike processes or
//! threads is one counted line in the process tree and one lane in the timeline, whose counts
//! match what the same run printed and what its `--json` events say; lessons without a crowd
//! draw as before; `--no-fold` draws every one.

mod common;

use common::Lab;

/// `proclab run <lesson> --speed 20 --no-color [extra]` at 80 columns: the human view.
fn human(lab: &Lab, lesson: &str, extra: &[&str]) -> String {
    let mut args = vec!["run", lesson, "--speed", "20", "--no-color"];
    args.extend_from_slice(extra);
    let mut command = lab.command(&args);
    command.env("COLUMNS", "80");
    let finished = lab.run_command(command, "");
    assert!(finished.status.success(), "{}", finished.stderr);
    finished.stdout
}

/// Everything from the process tree's heading to the end: the tree and the timeline.
fn ending(out: &str) -> &str {
    &out[out.find("Process tree").expect("a process tree")..]
}

/// The tree's lines (from its heading to the blank line before the timeline).
fn tree(out: &str) -> Vec<&str> {
    ending(out)
        .lines()
        .skip(1)
        .take_while(|line| !line.is_empty())
        .collect()
}

/// The timeline's lanes (its lines with a `│`).
fn lanes(out: &str) -> Vec<&str> {
    let timeline = &out[out.find("Timeline:").expect("a timeline")..];
    timeline.lines().filter(|l| l.contains(" │")).collect()
}

/// The pids of the children the stream says `forked child PID (NAME)` for, with NAME starting
/// with `family`, in the order printed.
fn forked(out: &str, family: &str) -> Vec<i64> {
    out.lines()
        .filter_map(|line| line.split("│ forked child ").nth(1))
        .filter(|rest| rest.contains(&format!("({family}")))
        .map(|rest| rest.split(' ').next().unwrap().parse().unwrap())
        .collect()
}

/// The number after `word` in `text` (`186` for `more` in `… 186 more buyer-1..`).
fn number_before(text: &str, word: &str) -> i64 {
    let words: Vec<&str> = text.split_whitespace().collect();
    let at = words.iter().position(|w| *w == word).unwrap();
    words[at - 1].parse().unwrap()
}

#[test]
fn lesson_5_ends_on_one_screen_and_its_fold_counts_match_the_run() {
    let lab = Lab::new();
    let out = human(&lab, "5", &["--seed", "5"]);
    // The point of folding: at 80x24 the class sees the whole tree and timeline at once
    // (unfolded, lesson 5's are about 400 lines). 23 rows leave one for the shell's prompt.
    let end = ending(&out);
    assert!(end.lines().count() <= 23, "{end}");

    // The same run's stream printed every buyer it forked.
    let buyers = forked(&out, "buyer-");
    assert!(
        buyers.len() > 100,
        "lesson 5 forks a crowd: {}",
        buyers.len()
    );
    let tree = tree(&out);
    let folded: Vec<&str> = tree.iter().copied().filter(|l| l.contains("…")).collect();
    assert_eq!(folded.len(), 1, "one crowd, one folded line: {tree:?}");
    let line = folded[0];
    // Shown: the first three and the last; the folded line counts the rest, by name and pid.
    let shown: Vec<i64> = tree
        .iter()
        .filter(|l| l.contains("buyer-") && !l.contains("…"))
        .map(|l| l.split_whitespace().rev().nth(2).unwrap().parse().unwrap())
        .collect();
    let n = buyers.len();
    assert_eq!(shown, [buyers[0], buyers[1], buyers[2], buyers[n - 1]]);
    assert_eq!(number_before(line, "more") as usize, n - 4, "{line}");
    let middle = &buyers[3..n - 1];
    let pids = format!(
        "pids {}..{}:",
        middle.iter().min().unwrap(),
        middle.iter().max().unwrap()
    );
    assert!(line.contains(&pids), "{line} should say {pids}");
    assert!(line.contains("buyer-1..buyer-10"), "{line}");

    // The JSON of the same seed: as many buyers, all reaped with 0, as the fold says.
    let events = lab.lesson("5", &["--seed", "5"]);
    let main = events.main_pid();
    let spawned: Vec<i64> = events
        .of_kind("spawn")
        .iter()
        .filter(|e| e["pid"] == main && e["child_name"].as_str().unwrap().starts_with("buyer-"))
        .map(|e| e["child"].as_i64().unwrap())
        .collect();
    assert_eq!(spawned.len(), n, "the seed replays the same rounds");
    let codes: Vec<i64> = spawned.iter().map(|pid| events.exitcode_of(*pid)).collect();
    let zeros = codes.iter().filter(|c| **c == 0).count();
    if zeros == n {
        assert!(line.contains("all exit 0"), "{line}");
    } else {
        assert!(!line.contains("all exit"), "{line}: codes {codes:?}");
    }

    // The timeline: one lane for the whole crowd, labelled with its count; main's own lane.
    let lanes = lanes(&out);
    let crowd = format!("{n} buyer*");
    assert_eq!(
        lanes.iter().filter(|l| l.starts_with(&crowd)).count(),
        1,
        "{lanes:#?}"
    );
    assert!(lanes.iter().any(|l| l.starts_with("main ")), "{lanes:#?}");
    assert!(!lanes.iter().any(|l| l.starts_with("buyer-")), "{lanes:#?}");
    assert!(end.contains("N name*: one lane for a crowd"), "{end}");
}

#[test]
fn lesson_13_folds_its_threads_under_their_process() {
    let lab = Lab::new();
    let out = human(&lab, "13", &["--seed", "5"]);
    let started = out
        .lines()
        .filter(|l| l.contains("/work-") && l.ends_with("│ thread started"))
        .count();
    assert!(
        started > 100,
        "lesson 13 starts a crowd of threads: {started}"
    );
    let tree = tree(&out);
    let line = tree
        .iter()
        .find(|l| l.contains("… ") && l.contains("more threads work-"))
        .unwrap_or_else(|| panic!("a folded line of threads: {tree:#?}"));
    assert_eq!(number_before(line, "more") as usize, started - 4, "{line}");
    assert!(line.contains("tids "), "{line}");
    let lanes = lanes(&out);
    let crowd = format!(" └ {started} work*");
    assert!(lanes.iter().any(|l| l.starts_with(&crowd)), "{lanes:#?}");
    // The deadlock's threads are not a crowd: each keeps its lane.
    assert!(
        lanes.iter().any(|l| l.starts_with(" └ Thread-1 ")),
        "{lanes:#?}"
    );
}

/// A tree's or timeline's line with its numbers (pids, tids) and its cells taken out: what
/// stays the same from run to run (a number of any length is `#`, so pid 9999 and pid 10000
/// have the same shape, and so do the spaces aligning them).
fn shape(line: &str) -> String {
    let label = line.split('│').next().unwrap();
    let mut shape = String::new();
    for c in label.trim_end().chars() {
        let c = if c.is_ascii_digit() { '#' } else { c };
        let repeats = shape.ends_with(c) && (c == '#' || c == ' ');
        if !repeats {
            shape.push(c);
        }
    }
    shape
}

#[test]
fn lessons_without_a_crowd_draw_the_same_tree_and_timeline_folded_or_not() {
    let lab = Lab::new();
    for lesson in ["1", "2", "3", "4"] {
        let folded = human(&lab, lesson, &["--seed", "3"]);
        let unfolded = human(&lab, lesson, &["--seed", "3", "--no-fold"]);
        assert!(!ending(&folded).contains('…'), "lesson {lesson}");
        assert!(!ending(&folded).contains("name*"), "lesson {lesson}");
        // Order of appearance can change from run to run; the lines themselves cannot.
        let shapes = |out: &str| {
            let tree = tree(out).into_iter().map(shape);
            let mut all: Vec<String> = tree.chain(lanes(out).into_iter().map(shape)).collect();
            all.sort();
            all
        };
        assert_eq!(shapes(&folded), shapes(&unfolded), "lesson {lesson}");
        let legend = |out: &str| {
            let timeline = &out[out.find("Timeline:").unwrap()..];
            // Past its first line (whose scale is this run's).
            let lines: Vec<&str> = timeline
                .lines()
                .skip(1)
                .filter(|l| !l.contains(" │"))
                .collect();
            lines.join("\n")
        };
        assert_eq!(legend(&folded), legend(&unfolded), "lesson {lesson}");
    }
}

#[test]
fn no_fold_draws_every_process_and_json_never_folds() {
    let lab = Lab::new();
    let out = human(&lab, "5", &["--seed", "9", "--no-fold"]);
    let buyers = forked(&out, "buyer-");
    let tree = tree(&out);
    assert!(!tree.iter().any(|l| l.contains('…')), "{tree:#?}");
    let in_tree = tree.iter().filter(|l| l.contains("─ buyer-")).count();
    assert_eq!(in_tree, buyers.len());
    let lanes = lanes(&out);
    assert_eq!(
        lanes.iter().filter(|l| l.starts_with("buyer-")).count(),
        buyers.len()
    );
    assert!(!out.contains("name*"));
    // --no-fold is for the human view only; with --json it changes nothing.
    let events = lab.lesson("5", &["--seed", "9", "--no-fold"]);
    let plain = lab.lesson("5", &["--seed", "9"]);
    assert_eq!(
        events.of_kind("spawn").len(),
        plain.of_kind("spawn").len(),
        "every buyer's spawn, in both"
    );
}
