//! `proclab run N --repeat R`: many runs of a lesson, what each measured, and the histogram,
//! through the real binary.

mod common;

use common::{Events, Lab};
use serde_json::Value;

/// The `measured` values of one `outcome` event, as (step, what, value).
fn measured(outcome: &Value) -> Vec<(i64, String, String)> {
    outcome["measured"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["step"].as_i64().unwrap(),
                m["what"].as_str().unwrap().to_string(),
                m["value"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn value_of(outcome: &Value, step: i64, what: &str) -> Option<String> {
    measured(outcome)
        .into_iter()
        .find(|(s, w, _)| *s == step && w == what)
        .map(|(_, _, value)| value)
}

#[test]
fn lesson_5_outcomes_count_the_tickets_sold_and_the_summary_counts_the_runs() {
    let lab = Lab::new();
    let finished = lab.run(
        &[
            "run", "5", "--repeat", "4", "--speed", "20", "--seed", "40", "--json",
        ],
        "",
    );
    assert!(finished.status.success(), "{}", finished.stderr);
    let events = finished.events();
    assert_eq!(events.0[0]["kind"], "lesson");
    assert_eq!(events.0[0]["seed"], 40);
    let outcomes = events.of_kind("outcome");
    assert_eq!(outcomes.len(), 4, "{}", events.dump());
    for (i, outcome) in outcomes.iter().enumerate() {
        assert_eq!(outcome["run"], i as i64 + 1);
        assert_eq!(outcome["seed"], 40 + i as i64);
        assert_eq!(outcome["ended"], "finished");
        let unlocked: u32 = value_of(outcome, 1, "tickets sold without the lock")
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=10).contains(&unlocked), "{outcome}");
        assert_eq!(
            value_of(outcome, 2, "tickets sold with the lock").as_deref(),
            Some("1"),
            "{outcome}"
        );
    }
    let summary = events.find("summary", |_| true);
    assert_eq!(summary["runs"], 4);
    assert_eq!(summary["asked"], 4);
    // Every histogram counts each run once, and its bars' seeds are the runs' seeds.
    for histogram in summary["histograms"].as_array().unwrap() {
        let bars = histogram["bars"].as_array().unwrap();
        let total: i64 = bars.iter().map(|b| b["count"].as_i64().unwrap()).sum();
        assert_eq!(total, 4, "{histogram}");
        let mut seeds: Vec<i64> = bars
            .iter()
            .flat_map(|b| b["seeds"].as_array().unwrap().iter())
            .map(|s| s.as_i64().unwrap())
            .collect();
        seeds.sort();
        assert_eq!(seeds, [40, 41, 42, 43]);
    }
    // The bar of "with the lock" holds every run.
    let with_lock = summary["histograms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["what"] == "tickets sold with the lock")
        .unwrap();
    assert_eq!(with_lock["bars"][0]["value"], "1");
    assert_eq!(with_lock["bars"][0]["count"], 4);
}

/// The tickets counted by the outcome are the buyers' own 购票成功 lines of that run.
#[test]
fn an_outcome_is_what_the_run_with_that_seed_says() {
    let lab = Lab::new();
    let repeated = lab.run(
        &[
            "run", "5", "--repeat", "2", "--speed", "20", "--seed", "7", "--json",
        ],
        "",
    );
    assert!(repeated.status.success(), "{}", repeated.stderr);
    let summary = repeated.events();
    let counted = value_of(
        summary.of_kind("outcome")[0],
        2,
        "tickets sold with the lock",
    )
    .unwrap();
    let single = lab.lesson("5", &["--seed", "7"]);
    let steps: Vec<f64> = single
        .of_kind("step")
        .iter()
        .map(|e| e["t"].as_f64().unwrap())
        .collect();
    let sold_in_step_2 = single
        .of_kind("say")
        .iter()
        .filter(|e| {
            let t = e["t"].as_f64().unwrap();
            t >= steps[1] && t < steps[2]
        })
        .filter(|e| e["text"].as_str().unwrap().contains("bought the ticket"))
        .count();
    assert_eq!(counted, sold_in_step_2.to_string());
}

/// Lesson 1's histogram: the orders the children ended in, with the seeds of each bar; and
/// replaying a bar's seed gives children whose sleeps agree with that bar's order.
#[test]
fn lesson_1_histogram_shows_orders_and_a_bars_seed_replays_it() {
    let lab = Lab::new();
    let human = lab.run(
        &[
            "run", "1", "--repeat", "6", "--speed", "20", "--seed", "11", "--color", "never",
        ],
        "",
    );
    assert!(human.status.success(), "{}", human.stderr);
    let text = &human.stdout;
    assert!(
        text.contains("6 of 6 runs at --speed 20, seeds 11 to 16"),
        "{text}"
    );
    assert!(text.contains("Step 2 · order the children ended"), "{text}");
    assert!(text.contains("Step 1 · which line comes first"), "{text}");
    assert!(text.contains("█"), "{text}");
    assert!(text.contains("seeds "), "{text}");
    assert!(
        text.contains("Replay any bar alone: proclab run 1 --speed 20 --seed"),
        "{text}"
    );

    let json = lab.run(
        &[
            "run", "1", "--repeat", "6", "--speed", "20", "--seed", "11", "--json",
        ],
        "",
    );
    let summary = json.events();
    let summary = summary.find("summary", |_| true);
    let orders = summary["histograms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["what"] == "order the children ended")
        .unwrap();
    for bar in orders["bars"].as_array().unwrap() {
        let order: Vec<String> = bar["value"]
            .as_str()
            .unwrap()
            .split(", ")
            .map(str::to_string)
            .collect();
        let seed = bar["seeds"][0].as_i64().unwrap().to_string();
        let replay = lab.lesson("1", &["--seed", &seed]);
        // The sleep each child announced in the replay ("alex is working (sleeping 2 s ...").
        let sleep_of = |name: &str| -> u64 {
            let text = replay
                .texts("say")
                .into_iter()
                .find(|t| t.starts_with(&format!("{name} is working")))
                .unwrap();
            let after = &text[text.find("sleeping ").unwrap() + 9..];
            after.split(' ').next().unwrap().parse().unwrap()
        };
        let sleeps: Vec<u64> = order.iter().map(|name| sleep_of(name)).collect();
        let in_order = sleeps.windows(2).all(|pair| pair[0] <= pair[1]);
        if !in_order && common::machine_overloaded() {
            // 50 ms between two sleeps at --speed 20 decides nothing on a machine this busy.
            println!(
                "skipped: seed {seed}'s order {order:?} not judged: the machine is overloaded"
            );
            continue;
        }
        assert!(
            in_order,
            "seed {seed}: the bar says {order:?} ended in that order, but the replay slept \
             {sleeps:?}"
        );
    }
}

#[test]
fn only_step_measures_that_step_and_stops_each_run_after_it() {
    let lab = Lab::new();
    let finished = lab.run(
        &[
            "run",
            "5",
            "--repeat",
            "2",
            "--only-step",
            "1",
            "--speed",
            "20",
            "--json",
        ],
        "",
    );
    assert!(finished.status.success(), "{}", finished.stderr);
    let events = finished.events();
    for outcome in events.of_kind("outcome") {
        let steps: Vec<i64> = measured(outcome).iter().map(|m| m.0).collect();
        assert_eq!(steps, [1], "{outcome}");
        assert_eq!(outcome["ended"], "stopped after the step");
    }
    let human = lab.run(
        &[
            "run",
            "5",
            "--repeat",
            "1",
            "--only-step",
            "9",
            "--speed",
            "20",
        ],
        "",
    );
    assert_eq!(human.status.code(), Some(2));
    assert!(human.stderr.contains("steps 1 to 4"), "{}", human.stderr);
}

/// Ctrl-C during the third run: the runs made so far are shown, the run under way is ended
/// by its own supervisor, status 130, and nothing is left.
#[test]
fn ctrl_c_stops_between_runs_and_shows_what_it_has() {
    let lab = Lab::new();
    let finished = lab.interrupt_when(
        &[
            "run", "5", "--repeat", "50", "--speed", "20", "--seed", "1", "--json",
        ],
        |event| event["kind"] == "outcome" && event["run"] == 2,
    );
    assert_eq!(finished.status.code(), Some(130), "{}", finished.stderr);
    let events = Events::parse(&finished.stdout);
    let summary = events.find("summary", |_| true);
    let runs = summary["runs"].as_i64().unwrap();
    assert!((2..50).contains(&runs), "{summary}");
    assert_eq!(summary["asked"], 50);
    assert_eq!(events.of_kind("outcome").len() as i64, runs);
}

#[test]
fn repeat_refuses_step_mode_and_bad_counts() {
    let lab = Lab::new();
    for args in [
        &["run", "1", "--repeat", "3", "--step"][..],
        &["run", "1", "--repeat", "0"][..],
        &["run", "1", "--only-step", "1"][..],
    ] {
        let finished = lab.run(args, "");
        assert_eq!(finished.status.code(), Some(2), "{args:?}");
        assert!(
            finished.stderr.starts_with("proclab:"),
            "{}",
            finished.stderr
        );
    }
}
