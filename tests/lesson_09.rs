//! Lesson 9 through the real binary: never more than three in the room, the rest blocked on
//! the semaphore; cars that wait for the light's event, a police car that gives up; Ctrl-C at
//! any moment leaves nothing.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{
    Lab, PREDICTION_RUNS, answer_shown, lang_args, notes_headings, step_of, step_titles, t,
};
use serde_json::Value;

fn text(event: &Value) -> &str {
    event["text"].as_str().unwrap_or("")
}

#[test]
fn never_more_than_three_in_the_room_and_the_rest_blocked() {
    let lab = Lab::new();
    let events = lab.lesson("9", &["--seed", "3"]);
    assert_eq!(step_titles(&events), notes_headings("09-semaphore-event"));
    let users: Vec<i64> = (0..7).map(|i| events.pid_of(&format!("user{i}"))).collect();

    // Counted in the order the events arrived: a user says it got in after acquire() and says
    // it leaves before release(), so the stream can never show more inside than were.
    let mut inside = 0;
    let mut most = 0;
    let mut blocked = 0;
    for event in &events.0 {
        let pid = event["pid"].as_i64().unwrap_or(0);
        if !users.contains(&pid) {
            continue;
        }
        match event["kind"].as_str().unwrap() {
            "say" if text(event).contains("gets a seat") => inside += 1,
            "say" if text(event).contains("leaves after") => inside -= 1,
            "wait" => {
                assert_eq!(event["on"], "semaphore");
                assert_eq!(event["object"], "room");
                blocked += 1;
            }
            _ => {}
        }
        assert!(inside <= 3, "{inside} inside at once:\n{}", events.dump());
        most = most.max(inside);
    }
    assert_eq!(most, 3);
    assert!(blocked >= 1, "nobody ever waited for a seat");
    // Every wait ended with a seat.
    for woke in events
        .of_kind("woke")
        .iter()
        .filter(|e| e["on"] == "semaphore")
    {
        assert_eq!(woke["got"], true);
    }
    // The users' own count agrees.
    assert!(
        events
            .texts("note")
            .iter()
            .any(|t| t.contains("at most 3 were inside at once"))
    );
    for &user in &users {
        assert_eq!(events.exitcode_of(user), 0);
    }
}

#[test]
fn cars_wait_for_green_and_a_police_car_gives_up() {
    let lab = Lab::new();
    let events = lab.lesson("9", &["--seed", "5"]);
    let light = events.pid_of("light");
    assert_eq!(events.exitcode_of(light), -15);

    // Everyone who waited on the event was woken by a green, after the light said so.
    let mut woken = 0;
    for (i, woke) in events.0.iter().enumerate() {
        if woke["kind"] != "woke" || woke["on"] != "event" || woke["got"] != true {
            continue;
        }
        woken += 1;
        let green_before = events.0[..i]
            .iter()
            .rposition(|e| e["pid"] == light && e["kind"] == "say" && text(e) == "light: green");
        let red_before = events.0[..i]
            .iter()
            .rposition(|e| e["pid"] == light && e["kind"] == "say" && text(e) == "light: red");
        assert!(green_before > red_before, "woken without a green: {woke}");
    }
    assert!(woken >= 1, "no car waited for green:\n{}", events.dump());

    // police0 comes early in the first red (3 s long) and waits 1 s at most: it gives up.
    let police = events.pid_of("police0");
    let woke = events.find("woke", |e| e["pid"] == police);
    assert_eq!(woke["on"], "event");
    assert_eq!(woke["got"], false);
    let waited = woke["after"].as_f64().unwrap();
    // 1 s at speed 20 is 50 ms.
    assert!(waited >= 0.045, "police0 gave up after {waited} s");
    assert!(
        events
            .texts("say")
            .iter()
            .any(|t| t == "police0: still red, driving through anyway")
    );
    // The notes say when each car passed and why.
    let cars = events.find("note", |e| text(e).starts_with("The light turned green at"));
    for name in ["car0", "car5", "police0", "police1"] {
        assert!(text(cars).contains(&format!("{name} came at")), "{cars}");
    }
    assert!(text(cars).contains("wait(timeout) returned False"));
    // A car waiting at red was seen sleeping, not spinning.
    let asleep = events.find("note", |e| text(e).contains("read from /proc: state S"));
    assert!(text(asleep).contains("CPU time 0 clock tick(s) before a pause and 0 after"));
}

#[test]
fn ctrl_c_while_processes_wait_leaves_nothing() {
    for (on, index) in [("semaphore", 1), ("event", 2)] {
        let lab = Lab::new();
        let events = lab.interrupted_when(&["run", "9", "--json", "--speed", "20"], |e| {
            e["kind"] == "wait" && e["on"] == on
        });
        assert!(events.of_kind("step").len() <= index);
    }
}

/// --predict: each answer is what this run's events say, with two seeds in English and once
/// in Chinese.
#[test]
fn each_prediction_is_answered_from_the_runs_own_events() {
    let lab = Lab::new();
    for (seed, chinese) in PREDICTION_RUNS {
        let run = lab.predicted("9", seed, "1\n1\n", lang_args(chinese));

        // Step 1: the users who ever blocked on the room's semaphore.
        let waited: BTreeSet<i64> = run
            .of_kind("wait")
            .iter()
            .filter(|e| e["on"] == "semaphore" && step_of(&run, t(e)) == 1)
            .map(|e| e["pid"].as_i64().unwrap())
            .collect();
        let choice = match waited.len() {
            0 => ("0", "0"),
            1..=3 => ("1 to 3", "1 到 3"),
            4 => ("4", "4"),
            _ => ("5 to 7", "5 到 7"),
        };
        let expected = answer_shown(choice, &waited.len().to_string(), chinese);
        assert_eq!(run.verdict(1)["observed"], expected.as_str(), "seed {seed}");

        // Step 2: each car's waits on the event, paired with how they ended; a car asleep
        // when the light said green must have woken (got it) before the next red.
        let light = run.pid_of("light");
        let lights: Vec<(f64, String)> = run
            .of_kind("say")
            .iter()
            .filter(|e| e["pid"] == light)
            .map(|e| (t(e), text(e).to_string()))
            .collect();
        let mut waits: BTreeMap<i64, Vec<(f64, f64, bool)>> = BTreeMap::new();
        let mut began: BTreeMap<i64, f64> = BTreeMap::new();
        for event in &run.0 {
            let pid = event["pid"].as_i64().unwrap_or(0);
            if event["on"] != "event" {
                continue;
            }
            match event["kind"].as_str().unwrap() {
                "wait" => {
                    began.insert(pid, t(event));
                }
                "woke" => {
                    let start = began.remove(&pid).unwrap();
                    let got = event["got"] == true;
                    waits.entry(pid).or_default().push((start, t(event), got));
                }
                _ => {}
            }
        }
        let mut someone_waited = false;
        let mut all_woken = true;
        for (i, (green, said)) in lights.iter().enumerate() {
            if said != "light: green" {
                continue;
            }
            let red = lights.get(i + 1).map_or(f64::INFINITY, |(at, _)| *at);
            for &(start, end, got) in waits.values().flatten() {
                if start < *green && end >= *green {
                    someone_waited = true;
                    all_woken &= got && end < red;
                }
            }
        }
        assert!(someone_waited, "seed {seed}: no car waited for a green");
        let expected = if all_woken {
            answer_shown(("all of them", "所有在等的车"), "all of them", chinese)
        } else {
            "not all of them".to_string()
        };
        assert_eq!(run.verdict(2)["observed"], expected.as_str(), "seed {seed}");
        run.assert_measured([1, 2]);
    }
}
