//! Lesson 8 through the real binary: lost updates without the lock and none with it, the
//! Manager's server process and its dict, the timing side by side, the manager gone at the
//! end; Ctrl-C at any moment leaves nothing (no process, no socket file).

mod common;

use common::{Events, Lab, PREDICTION_RUNS, lang_args, notes_headings, step_titles};
use serde_json::Value;

fn text(event: &Value) -> &str {
    event["text"].as_str().unwrap_or("")
}

/// The numbers after `prefix` in the `say` line that starts with it.
fn numbers_after(events: &Events, prefix: &str) -> Vec<i64> {
    let line = events.find("say", |e| text(e).starts_with(prefix));
    text(line)[prefix.len()..]
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|word| word.parse().ok())
        .collect()
}

#[test]
fn updates_are_lost_without_the_lock_and_exact_with_it() {
    let lab = Lab::new();
    // A race may not strike in one run of the lesson (21 races): up to three runs.
    let mut lost_somewhere = false;
    for _ in 0..3 {
        let events = lab.lesson("8", &[]);
        assert_eq!(step_titles(&events), notes_headings("08-shared-data"));
        let main = events.main_pid();
        let unlocked = numbers_after(&events, "without the lock: counter.value = ");
        let repeated = numbers_after(&events, "20 runs without the lock: ");
        assert_eq!(unlocked.len(), 1);
        let totals = &repeated[..];
        assert_eq!(totals.len(), 20);
        for &total in unlocked.iter().chain(totals) {
            assert!(total <= 10000, "{total}");
        }
        // With get_lock(): exactly 10000, every time.
        assert_eq!(
            numbers_after(&events, "with get_lock(): counter.value = "),
            vec![10000]
        );
        // The twenty adders were the main process's children, and ended well.
        for name in (0..10).flat_map(|i| [format!("adder-{i}"), format!("locked-{i}")]) {
            let pid = events.pid_of(&name);
            assert_eq!(events.exitcode_of(pid), 0, "{name}");
            assert_eq!(events.find("exit", |e| e["child"] == pid)["pid"], main);
        }
        // The note counts what the line lists.
        let lost_runs = totals.iter().filter(|&&t| t < 10000).count();
        assert!(
            events
                .texts("note")
                .iter()
                .any(|t| t.contains(&format!("{lost_runs} of 20 lost updates")))
        );
        if unlocked[0] < 10000 || lost_runs > 0 {
            lost_somewhere = true;
            break;
        }
    }
    if !lost_somewhere && common::machine_overloaded() {
        // A race needs two adders running at the same moment; on a machine kept this busy they
        // may take turns on the CPUs for all 63 races.
        println!("skipped: no update was lost in 63 races, not judged: the machine is overloaded");
        return;
    }
    assert!(lost_somewhere, "no update was lost in 63 races");
}

#[test]
fn the_manager_is_a_child_that_owns_the_dict_and_is_gone_at_the_end() {
    let lab = Lab::new();
    let events = lab.lesson("8", &[]);
    let main = events.main_pid();
    let manager = events.pid_of("SyncManager");
    assert_eq!(events.find("spawn", |e| e["child"] == manager)["pid"], main);
    // Shut down cleanly and reaped by the main process; /proc no longer has it.
    let reaped = events.position("exit", |e| e["child"] == manager);
    assert_eq!(events.0[reaped]["pid"], main);
    assert_eq!(events.0[reaped]["exitcode"], 0);
    let gone = events.position("state", |e| e["of"] == manager && e["state"] == "gone");
    assert!(reaped < gone);
    assert!(events.texts("note").iter().any(|t| t.contains(
        "the server answered, removed its socket (gone), left with exitcode 0 and was reaped \
         by the main process: /proc no longer has it"
    )));

    // d['count'] -= 1 in 100 processes: never below 0, and 0 with the lock. Every process
    // did its part: the list has 100 pids.
    let unlocked = numbers_after(&events, "without a lock: d['count'] = ");
    assert_eq!(
        unlocked.len(),
        6,
        "five counts and the number of runs: {unlocked:?}"
    );
    for &left in &unlocked[..5] {
        assert!((0..=100).contains(&left), "{left}");
    }
    assert_eq!(
        numbers_after(&events, "with the lock: d['count'] = "),
        vec![0]
    );
    assert!(
        events
            .texts("note")
            .iter()
            .any(|t| t.contains("holds 100 pids") && t.contains("and 100 pids in the list"))
    );

    // Both increments were timed, and the note gives the ratio.
    let timed = events.find("say", |e| text(e).starts_with("one increment: "));
    assert!(text(timed).contains("µs in shared memory"), "{timed}");
    assert!(text(timed).contains("µs through the manager"), "{timed}");
}

#[test]
fn ctrl_c_while_the_manager_serves_leaves_nothing() {
    let lab = Lab::new();
    lab.interrupted_when(&["run", "8", "--json", "--speed", "20"], |e| {
        e["kind"] == "spawn" && e["child_name"] == "SyncManager"
    });
}

/// What the notes say of Python is checked against python3 where it is installed:
/// `counter.value += 1` in ten processes loses updates (not in every run: up to 20 runs),
/// `with counter.get_lock():` does not, and `get_lock()` is a recursive lock.
#[test]
fn python_loses_updates_the_same_way() {
    let script = r#"
from multiprocessing import Process, Value
def add(counter, locked):
    for _ in range(1000):
        if locked:
            with counter.get_lock():
                counter.value += 1
        else:
            counter.value += 1
def race(locked):
    counter = Value('i', 0)
    adders = [Process(target=add, args=(counter, locked)) for _ in range(10)]
    for p in adders: p.start()
    for p in adders: p.join()
    return counter.value
if __name__ == '__main__':
    lost = any(race(False) < 10000 for _ in range(20))
    print("lost:", lost)
    print("locked:", race(True))
    print("lock:", type(Value('i', 0).get_lock()).__name__)
"#;
    let Some(out) = common::python3_if_here(script, std::time::Duration::from_secs(60)) else {
        return;
    };
    assert_eq!(out, "lost: True\nlocked: 10000\nlock: RLock\n");
}

/// Each question's answer is what the run's own events say, computed here from them.
#[test]
fn each_prediction_is_answered_from_the_runs_own_events() {
    let lab = Lab::new();
    for (seed, zh) in PREDICTION_RUNS {
        let run = lab.predicted("8", seed, "1\n1\n1\n1\n", lang_args(zh));

        // Step 1: the additions lost, against the total the locked run reached.
        let unlocked = numbers_after(&run, "without the lock: counter.value = ")[0];
        let locked = numbers_after(&run, "with get_lock(): counter.value = ")[0];
        assert_eq!(locked, 10000);
        let value = match locked - unlocked {
            0 => ("0", "0"),
            1..=9 => ("1-9", "1-9"),
            10..=99 => ("10-99", "10-99"),
            100..=999 => ("100-999", "100-999"),
            _ => ("1000 or more", "1000 或更多"),
        };
        run.assert_answer(1, value, value.0, zh);

        // Step 2: the twenty totals, and how many fell short of 10000.
        // The lab's own lines are in the language of the run.
        let in_lang = |en: &'static str, chinese: &'static str| if zh { chinese } else { en };
        let totals = numbers_after(
            &run,
            in_lang("20 runs without the lock: ", "不加锁的 20 次运行："),
        );
        assert_eq!(totals.len(), 20);
        let short = totals.iter().filter(|&&total| total < 10000).count();
        let choice = match short {
            0 => ("0", "0"),
            1..=10 => ("1 to 10", "1 到 10"),
            _ => ("11 to 20", "11 到 20"),
        };
        run.assert_answer(2, choice, &short.to_string(), zh);

        // Step 3: the five counts left without a lock, and how many stayed above 0.
        let lefts = numbers_after(
            &run,
            in_lang("without a lock: d['count'] = ", "不加锁：d['count'] = "),
        );
        // The last number is the "(5 runs)".
        assert_eq!(lefts.len(), 6, "{lefts:?}");
        let above = lefts[..5].iter().filter(|&&left| left > 0).count();
        let choice = match above {
            0 => ("0", "0"),
            5 => ("5", "5"),
            _ => ("1 to 4", "1 到 4"),
        };
        run.assert_answer(3, choice, &above.to_string(), zh);

        // Step 4: the two costs main printed, and their ratio.
        let line = run.find("say", |e| {
            text(e).starts_with(in_lang("one increment: ", "加一一次："))
        });
        let costs: Vec<f64> = text(line)
            .split(' ')
            .filter_map(|word| word.parse().ok())
            .collect();
        assert_eq!(costs.len(), 2, "{line}");
        let ratio = costs[1] / costs[0].max(0.01);
        let value = if ratio < 10.0 {
            "1 to 9"
        } else if ratio < 100.0 {
            "10 to 99"
        } else if ratio < 1000.0 {
            "100 to 999"
        } else {
            "1000 or more"
        };
        let in_chinese = value.replace(" to ", " 到 ").replace(" or more", " 或更多");
        run.assert_answer(4, (value, &in_chinese), value, zh);

        // CPython's run of the step's program beside it, when python3 is here: the same
        // question answered from its two costs, and the prediction right for either.
        let verdict = run.verdict(4);
        let cpython = run.0.iter().find(|e| {
            e["kind"] == "say" && text(e).starts_with("CPython ") && text(e).contains(" µs")
        });
        let Some(cpython) = cpython else {
            assert!(verdict.get("cpython").is_none(), "{verdict}");
            continue;
        };
        let costs: Vec<f64> = text(cpython)
            .split([' ', '：', '，'])
            .filter_map(|word| word.parse().ok())
            .collect();
        assert_eq!(costs.len(), 2, "{cpython}");
        let ratio = costs[1] / costs[0].max(0.01);
        let cpython_bin = if ratio < 10.0 {
            "1 to 9"
        } else if ratio < 100.0 {
            "10 to 99"
        } else if ratio < 1000.0 {
            "100 to 999"
        } else {
            "1000 or more"
        };
        let shown = match zh {
            true => cpython_bin
                .replace(" to ", " 到 ")
                .replace(" or more", " 或更多"),
            false => cpython_bin.to_string(),
        };
        assert_eq!(verdict["cpython"], shown.as_str(), "{verdict}");
        let given = if zh { "1 到 9" } else { "1 to 9" };
        let right = verdict["observed"] == given || verdict["cpython"] == given;
        assert_eq!(verdict["right"], right, "{verdict}");
    }
}

/// Where the lab models CPython (the Manager's lost updates, its cost against shared memory),
/// the step's own Python is run by python3 in the same run and the note says what it did, its
/// numbers the ones it printed; without python3 the note says so instead.
#[test]
fn cpythons_numbers_are_said_beside_the_labs_or_that_python3_is_not_here() {
    let lab = Lab::new();
    if common::python3_if_here("print(1)", std::time::Duration::from_secs(20)).is_some() {
        let events = lab.lesson("8", &[]);
        let notes = events.texts("note");
        // Step 3: "CPython 3.11.7: d['count'] = 71 without a lock, 0 with it".
        let counts = events.find("say", |e| {
            text(e).starts_with("CPython ") && text(e).contains(" without a lock")
        });
        let said = text(counts);
        let version = said["CPython ".len()..].split(':').next().unwrap();
        let numbers = numbers_after(&events, &format!("CPython {version}: d['count'] = "));
        assert_eq!(numbers.len(), 2, "{said}");
        assert_eq!(
            numbers[1], 0,
            "with the lock, CPython's count ends at 0: {said}"
        );
        assert!(
            notes.iter().any(
                |n| n.contains(&format!("ended at {} without a lock", numbers[0]))
                    && n.contains(&format!("and at {} with one", numbers[1]))
                    && n.contains(&format!("CPython {version}"))
            ),
            "{notes:#?}"
        );
        // Step 4: "CPython 3.11.7, one increment: 2.77 µs in shared memory, 128.0 µs through
        // the manager", and the note's ratio computed from those two.
        let costs = events.find("say", |e| {
            text(e).starts_with(&format!("CPython {version}, one increment: "))
        });
        let costs: Vec<f64> = text(costs)
            .split(' ')
            .filter_map(|word| word.parse().ok())
            .collect();
        assert_eq!(costs.len(), 2, "{costs:?}");
        let ratio = costs[1] / costs[0].max(0.01);
        let stated = format!(
            "{:.2} µs in shared memory, {:.1} µs through the manager, {ratio:.0} times as long",
            costs[0], costs[1]
        );
        assert!(
            notes.iter().any(|n| n.contains(&stated)),
            "{stated}\n{notes:#?}"
        );
    } else {
        eprintln!("skipped the case with python3: it is not installed here");
    }
    // Without python3 (a PATH without it): each of the two notes says so.
    let mut command = lab.command(&["run", "8", "--json", "--speed", "20"]);
    command.env("PATH", "/nonexistent");
    let finished = lab.run_command(command, "");
    assert!(finished.status.success(), "{}", finished.stderr);
    let events = finished.events();
    let missing = events
        .texts("note")
        .into_iter()
        .filter(|n| n.starts_with("CPython: python3 is not installed here"))
        .count();
    assert_eq!(missing, 2, "{}", events.dump());
    assert!(
        !events
            .texts("say")
            .iter()
            .any(|t| t.starts_with("CPython ")),
        "{}",
        events.dump()
    );
}
