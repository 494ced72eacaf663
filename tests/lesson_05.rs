//! Lesson 5 through the real binary: ten buyers and one ticket, without and with a lock, twenty
//! quick rounds of each, and join() against a lock. The harness checks after every run that no
//! process and no file (the ticket file and its temporary copies) is left.

mod common;

use common::{Events, Lab, PREDICTION_RUNS, lang_args, notes_headings, step_titles};
use proclab::i18n::reads_as_chinese;
use serde_json::Value;

fn text(event: &Value) -> &str {
    event["text"].as_str().unwrap_or("")
}

/// The step each event belongs to (0 before the first step).
fn step_of(events: &Events) -> Vec<i64> {
    let mut step = 0;
    events
        .0
        .iter()
        .map(|e| {
            if e["kind"] == "step" {
                step = e["index"].as_i64().unwrap();
            }
            step
        })
        .collect()
}

/// The "buyer-N: bought the ticket" lines said in `step`.
fn bought_in(events: &Events, step: i64) -> usize {
    let steps = step_of(events);
    events
        .0
        .iter()
        .zip(&steps)
        .filter(|(e, s)| {
            **s == step && e["kind"] == "say" && text(e).ends_with("bought the ticket (购票成功)")
        })
        .count()
}

/// Tickets sold in each quick round: (without the lock, with it).
fn rounds(events: &Events) -> (Vec<u32>, Vec<u32>) {
    let sold = |way: &str| -> Vec<u32> {
        events
            .texts("say")
            .iter()
            .filter(|t| t.starts_with("round ") && t.contains(&format!(" {way}: ")))
            .map(|t| {
                let after = &t[t.find(": ").unwrap() + 2..];
                after[..after.find(' ').unwrap()].parse().unwrap()
            })
            .collect()
    };
    (sold("without the lock"), sold("with the lock"))
}

#[test]
fn without_a_lock_the_ticket_is_oversold_and_with_one_it_is_sold_once() {
    let lab = Lab::new();
    let events = lab.lesson("5", &[]);
    assert_eq!(step_titles(&events), notes_headings("05-process-lock"));
    let main = events.main_pid();

    // Step 1: the main process reports what the buyers said. (How many bought depends on how
    // the forks fall: the quick rounds test checks the oversell.)
    let oversold = bought_in(&events, 1);
    assert!(oversold >= 1, "nobody bought without the lock");
    let said = events.find("say", |e| text(e).starts_with("tickets sold: "));
    assert_eq!(said["pid"], main);
    assert_eq!(
        text(said),
        format!("tickets sold: {oversold}; db.json now holds {{\"count\":0}}")
    );

    // Step 2: exactly one, and buyers were seen blocked on the lock, each wait ended with it.
    assert_eq!(bought_in(&events, 2), 1);
    let steps = step_of(&events);
    let lock_waits: Vec<&Value> = events
        .0
        .iter()
        .zip(&steps)
        .filter(|(e, s)| **s == 2 && e["kind"] == "wait" && e["on"] == "lock")
        .map(|(e, _)| e)
        .collect();
    assert!(!lock_waits.is_empty(), "nobody waited for the lock");
    for wait in &lock_waits {
        assert_eq!(wait["object"], "tickets");
        assert!(wait["name"].as_str().unwrap().starts_with("buyer-"));
        let woke = events.find("woke", |e| e["pid"] == wait["pid"] && e["on"] == "lock");
        assert_eq!(woke["got"], true);
    }
}

#[test]
fn twenty_rounds_oversell_sometimes_without_the_lock_and_never_with_it() {
    let lab = Lab::new();
    let events = lab.lesson("process-lock", &["--seed", "5"]);
    let (without, with) = rounds(&events);
    assert_eq!(without.len(), 20, "{without:?}");
    assert_eq!(with.len(), 20, "{with:?}");
    assert!(without.iter().any(|&sold| sold > 1), "{without:?}");
    assert!(
        without.iter().all(|&sold| (1..=4).contains(&sold)),
        "{without:?}"
    );
    assert!(with.iter().all(|&sold| sold == 1), "{with:?}");
    // The note's distribution is the one the rounds said.
    let oversold = without.iter().filter(|&&sold| sold > 1).count();
    assert!(
        events.texts("note").iter().any(|t| t
            .contains(&format!("oversold in {oversold} of 20 rounds"))
            && t.contains("With the lock: 1 sold: 20 round(s)")),
        "{}",
        events.dump()
    );
}

#[test]
fn join_after_each_start_sells_once_but_runs_the_buyers_one_by_one() {
    let lab = Lab::new();
    let events = lab.lesson("5", &[]);
    assert_eq!(bought_in(&events, 4), 1);
    let steps = step_of(&events);
    let step_4: Vec<&Value> = events
        .0
        .iter()
        .zip(&steps)
        .filter(|(_, s)| **s == 4)
        .map(|(e, _)| e)
        .collect();
    // Each buyer is forked only after the previous one was reaped.
    let mut a_buyer_is_running = false;
    for event in &step_4 {
        if event["kind"] == "spawn" {
            assert!(
                !a_buyer_is_running,
                "a buyer started before the previous one was joined"
            );
            a_buyer_is_running = true;
        }
        if event["kind"] == "exit" {
            a_buyer_is_running = false;
        }
    }
    // Ten buyers, each sleeping 15 ms (the query) and 5 ms (the network) at --speed 20, one
    // after the other: at least 200 ms, however fast the machine.
    let said = step_4
        .iter()
        .find(|e| e["kind"] == "say" && text(e).starts_with("tickets sold: 1, in "))
        .expect("the serial run's line");
    let ms: f64 = text(said)
        .trim_start_matches("tickets sold: 1, in ")
        .trim_end_matches(" ms")
        .parse()
        .unwrap_or(f64::MAX);
    assert!(ms >= 200.0, "{}", text(said));
}

/// `--predict`, with two seeds in English and once in Chinese: each answer is the count of
/// the buyers' own 购票成功 lines in that step, shown under its range in the run's language.
#[test]
fn predictions_are_answered_from_the_runs_own_events() {
    let lab = Lab::new();
    for (seed, chinese) in PREDICTION_RUNS {
        let run = lab.predicted("5", seed, "1\n1\n", lang_args(chinese));
        for step in [1, 2] {
            let sold = bought_in(&run, step);
            let choice = match sold {
                1 => ("1", "1"),
                2..=5 => ("2 to 5", "2 到 5"),
                _ => ("6 to 10", "6 到 10"),
            };
            run.assert_answer(step, choice, &sold.to_string(), chinese);
            let verdict = run.verdict(step);
            assert_eq!(verdict["given"], "1");
            assert_eq!(verdict["right"], sold == 1, "step {step}");
            if chinese {
                assert_eq!(
                    verdict["choices"],
                    serde_json::json!(["1", "2 到 5", "6 到 10"])
                );
                for field in ["question", "why"] {
                    let text = verdict[field].as_str().unwrap();
                    assert!(reads_as_chinese(text), "step {step} {field}: {text:?}");
                }
            }
        }
        // The lock sells the one ticket once, in both languages.
        assert_eq!(run.verdict(2)["observed"], "1");
    }
}
