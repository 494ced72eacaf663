//! Lesson 15 through the real binary: the bun shop over a FIFO queue, the three orders
//! (checked against python3's queue module), a bounded queue blocking its producer while an
//! unbounded one grows, task_done/join with Python's error, one sentinel per consumer, the
//! throughput measurement, and nothing left after a run, a `q`, or Ctrl-C.

mod common;

use common::{Events, Lab, PREDICTION_RUNS, lang_args, notes_headings, python3, step_titles};
use serde_json::Value;

fn text(event: &Value) -> &str {
    event["text"].as_str().unwrap_or("")
}

fn thread(event: &Value) -> &str {
    event["thread"].as_str().unwrap_or("")
}

/// The `woke` events of thread `name` on object `object`.
fn woke<'a>(events: &'a Events, name: &str, object: &str) -> Vec<&'a Value> {
    events
        .0
        .iter()
        .filter(|e| e["kind"] == "woke" && thread(e) == name && e["object"] == object)
        .collect()
}

/// The number at the end of a text like "... held at most 12" (in Chinese "...：12").
fn last_number(text: &str) -> u64 {
    let digits = text.len() - text.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    text[text.len() - digits..].parse().unwrap()
}

#[test]
fn the_bun_shop_is_first_in_first_out_and_each_eater_goes_home_at_its_none() {
    let lab = Lab::new();
    let events = lab.lesson("15", &["--seed", "8"]);
    assert_eq!(step_titles(&events), notes_headings("15-producer-consumer"));
    let step_2 = events.position("step", |e| e["index"] == 2);
    let shop = &events.0[..step_2];
    let said_by = |name: &str| -> Vec<&str> {
        shop.iter()
            .filter(|e| e["kind"] == "say" && thread(e) == name)
            .map(text)
            .collect()
    };
    let made: Vec<String> = (0..6).map(|n| format!("made 包子{n}")).collect();
    let chef = said_by("chef");
    assert_eq!(chef[..6], made[..]);
    assert_eq!(chef[6], "no more buns: put 2 None");
    let mut all_eaten = Vec::new();
    for eater in ["alex", "wupeiqi"] {
        let said = said_by(eater);
        let eaten: Vec<u32> = said
            .iter()
            .filter_map(|s| s.strip_prefix("eats 包子"))
            .map(|n| n.parse().unwrap())
            .collect();
        assert!(eaten.windows(2).all(|p| p[0] < p[1]), "{eater}: {eaten:?}");
        assert_eq!(said.last(), Some(&"got None: no more buns, going home"));
        all_eaten.extend(eaten);
        assert!(
            woke(&events, eater, "buns")
                .iter()
                .all(|e| e["got"] == true)
        );
    }
    all_eaten.sort();
    assert_eq!(all_eaten, [0, 1, 2, 3, 4, 5], "every bun eaten once");
}

#[test]
fn three_queues_give_pythons_three_orders() {
    let python = python3(
        r#"
import queue
for q in (queue.Queue(), queue.LifoQueue(), queue.PriorityQueue()):
    for item in [(20, 'a'), (10, 'b'), (30, 'c')]:
        q.put(item)
    print(type(q).__name__, "gives:", [q.get() for _ in range(3)])
"#,
    );
    let lab = Lab::new();
    let events = lab.lesson("15", &[]);
    let says = events.texts("say");
    let expected: Vec<&str> = python.lines().collect();
    assert_eq!(
        expected,
        [
            "Queue gives: [(20, 'a'), (10, 'b'), (30, 'c')]",
            "LifoQueue gives: [(30, 'c'), (10, 'b'), (20, 'a')]",
            "PriorityQueue gives: [(10, 'b'), (20, 'a'), (30, 'c')]",
        ]
    );
    for line in expected {
        assert!(says.iter().any(|s| s == line), "missing {line:?}");
    }
}

#[test]
fn a_bounded_queue_blocks_its_producer_and_an_unbounded_one_grows() {
    let lab = Lab::new();
    let events = lab.lesson("15", &[]);
    // fast-3 waited for room many times (12 items, 3 places, a consumer of 12.5 ms an item),
    // and each wait ended with room; its queue never held more than 3.
    let blocked = woke(&events, "fast-3", "size-3");
    assert!(blocked.len() >= 5, "{}", events.dump());
    assert!(
        blocked
            .iter()
            .all(|e| e["got"] == true && e["on"] == "queue")
    );
    let waited: f64 = blocked.iter().map(|e| e["after"].as_f64().unwrap()).sum();
    assert!(waited >= 0.05, "fast-3 waited only {waited} s");
    let bounded = events.find("say", |e| thread(e) == "fast-3");
    assert!(last_number(text(bounded)) <= 3, "{bounded}");
    // fast-0 never waited, and its queue grew past what the bounded one may hold.
    assert!(
        !events
            .0
            .iter()
            .any(|e| e["kind"] == "wait" && thread(e) == "fast-0")
    );
    let unbounded = events.find("say", |e| thread(e) == "fast-0");
    assert!(last_number(text(unbounded)) > 3, "{unbounded}");
}

#[test]
fn join_waits_for_the_last_task_done_and_one_too_many_is_pythons_error() {
    let python = python3(
        r#"
import queue
q = queue.Queue()
q.put(1); q.get(); q.task_done()
try:
    q.task_done()
except ValueError as e:
    print("ValueError:", e)
"#,
    );
    let lab = Lab::new();
    let events = lab.lesson("15", &[]);
    let main = events.main_pid();
    let asked = events.position("say", |e| {
        text(e) == "put 6 jobs; unfinished_tasks = 6; join()"
    });
    let returned = events.position("woke", |e| {
        e["pid"] == main && e.get("thread").is_none() && e["object"] == "jobs"
    });
    assert!(asked < returned);
    assert_eq!(events.0[returned]["got"], true);
    // Every job was done before join() returned.
    let done: Vec<usize> = events
        .0
        .iter()
        .enumerate()
        .filter(|(_, e)| text(e).starts_with("job ") && text(e).ends_with(" done"))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(done.len(), 6);
    assert!(done.iter().all(|&i| i < returned), "{}", events.dump());
    events.find("say", |e| {
        text(e) == "join() returned; unfinished_tasks = 0"
    });
    let error = format!("task_done() once more: {}", python.trim());
    assert!(events.texts("say").contains(&error), "missing {error:?}");
}

#[test]
fn one_sentinel_stops_one_consumer_and_one_each_stops_them_all() {
    let lab = Lab::new();
    let events = lab.lesson("15", &[]);
    let one = events.position("say", |e| text(e) == "put 6 orders and one None");
    let more = events.position("say", |e| text(e) == "put 2 more None");
    let stops_between = events.0[one..more]
        .iter()
        .filter(|e| text(e) == "got None: stops")
        .count();
    assert_eq!(stops_between, 1);
    let stops: Vec<&str> = events
        .0
        .iter()
        .filter(|e| text(e) == "got None: stops")
        .map(thread)
        .collect();
    let mut stopped = stops.clone();
    stopped.sort();
    assert_eq!(stopped, ["alex", "wupeiqi", "yuanhao"]);
    // The two left behind were blocked in get() when the note was written.
    let note = events.find("note", |e| text(e).starts_with("One None, three consumers"));
    assert!(text(note).contains("2 of them"), "{note}");
    let served = events
        .texts("say")
        .iter()
        .filter(|s| s.starts_with("serves order "))
        .count();
    assert_eq!(served, 6);
}

#[test]
fn throughput_is_measured_for_each_queue_size() {
    let lab = Lab::new();
    let events = lab.lesson("15", &[]);
    let mut sleeps = Vec::new();
    for label in ["Queue(1)", "Queue(10)", "Queue(100)", "Queue()"] {
        let line = events.find("say", |e| {
            text(e).starts_with(&format!("{label}: 10000 items in "))
        });
        let producer: u64 = text(line)
            .split("the producer ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap();
        sleeps.push(producer);
    }
    // A queue of one makes the producer sleep for nearly every item; an unbounded one never
    // makes it wait for room.
    assert!(sleeps[0] > sleeps[3] && sleeps[0] >= 1000, "{sleeps:?}");
    events.find("note", |e| text(e).starts_with("Measured in this run, on "));
}

/// `--predict`: each of the six answers is what the run's own events say, worked out here
/// from the threads' lines, with two seeds and once in Chinese.
#[test]
fn each_prediction_is_answered_from_the_runs_own_events() {
    let lab = Lab::new();
    for (seed, chinese) in PREDICTION_RUNS {
        let events = lab.predicted("15", seed, "1\n1\n1\n1\n1\n1\n", lang_args(chinese));
        let says = |step: usize| -> Vec<&Value> {
            events
                .of_kind("say")
                .into_iter()
                .filter(|e| common::step_of(&events, common::t(e)) == step)
                .collect()
        };

        // Step 1: each eater's "eats 包子N", in the order it said them.
        let in_order = ["alex", "wupeiqi"].iter().all(|name| {
            let buns: Vec<u32> = says(1)
                .iter()
                .filter(|e| thread(e) == *name)
                .filter_map(|e| text(e).strip_prefix("eats 包子")?.parse().ok())
                .collect();
            buns.windows(2).all(|w| w[0] < w[1])
        });
        let choice = if in_order {
            ("in the order they were made", "和做出来的顺序一致")
        } else {
            ("out of order", "顺序被打乱")
        };
        events.assert_answer(1, choice, choice.0, chinese);

        // Step 2: the first tuple of the PriorityQueue's line.
        let line = says(2)
            .into_iter()
            .map(text)
            .find(|s| s.starts_with("PriorityQueue gives:"))
            .unwrap();
        let first = &line[line.find('(').unwrap()..=line.find(')').unwrap()];
        events.assert_answer(2, (first, first), first, chinese);

        // Step 3: fast-0's "... held at most N".
        let held = says(3)
            .into_iter()
            .find(|e| thread(e) == "fast-0")
            .map(|e| last_number(text(e)))
            .unwrap();
        let choice = match held {
            1..=3 => ("1 to 3", "1 到 3"),
            4..=10 => ("4 to 10", "4 到 10"),
            _ => ("11 or more", "11 或更多"),
        };
        events.assert_answer(3, choice, &held.to_string(), chinese);

        // Step 4: is any "job N done" line after "join() returned"?
        let step_4 = says(4);
        let returned = step_4
            .iter()
            .position(|e| text(e).starts_with("join() returned"))
            .unwrap();
        let done_later = step_4[returned..]
            .iter()
            .any(|e| text(e).starts_with("job ") && text(e).ends_with(" done"));
        let choice = if done_later {
            ("as soon as the queue is empty", "队列一空就返回")
        } else {
            ("after the last job is done", "最后一个任务做完才返回")
        };
        events.assert_answer(4, choice, choice.0, chinese);

        // Step 5: three consumers, less those that said "got None: stops" before the main
        // thread put the others' sentinels.
        let step_5 = says(5);
        let more = step_5
            .iter()
            .position(|e| thread(e).is_empty() && text(e).ends_with("more None"))
            .unwrap();
        let stopped = step_5[..more]
            .iter()
            .filter(|e| text(e) == "got None: stops")
            .count();
        let waiting = (3 - stopped).to_string();
        events.assert_answer(5, (&waiting, &waiting), &waiting, chinese);

        // Step 6: the queue with the fewest items per second.
        let slowest = says(6)
            .into_iter()
            .filter_map(|e| {
                // The lab's line, in the language of the run.
                let (label, rest) = text(e)
                    .split_once(": ")
                    .or_else(|| text(e).split_once("："))?;
                let rate: f64 = match rest.find(" items/s") {
                    Some(end) => rest[..end][rest[..end].rfind(' ')? + 1..].parse().ok()?,
                    None => rest
                        .split("每秒 ")
                        .nth(1)?
                        .split(' ')
                        .next()?
                        .parse()
                        .ok()?,
                };
                Some((label.to_string(), rate))
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap();
        events.assert_answer(6, (&slowest.0, &slowest.0), &slowest.0, chinese);

        events.assert_measured(1..=6);
    }
}

/// Step 6 runs its own Python (code/step6.py) with python3 in the same run, and the note puts
/// CPython's queue rates beside the lab's: the rates it states are the ones CPython's line
/// says, and the lab's are the lab's own lines of the same run.
#[test]
fn cpythons_queue_rates_are_said_beside_the_labs() {
    if common::python3_if_here("print(1)", std::time::Duration::from_secs(20)).is_none() {
        return;
    }
    let lab = Lab::new();
    let events = lab.lesson("15", &[]);
    let line = events.find("say", |e| {
        e["text"].as_str().unwrap_or("").starts_with("CPython ")
    });
    // "CPython 3.11.7, items/s: Queue(1) 28696, Queue(10) 303045, Queue(100) 113441, Queue() 139411"
    let text = line["text"].as_str().unwrap();
    let rates: Vec<(String, f64)> = text
        .split_once("items/s: ")
        .unwrap()
        .1
        .split(", ")
        .map(|each| {
            let (label, rate) = each.rsplit_once(' ').unwrap();
            (label.to_string(), rate.parse().unwrap())
        })
        .collect();
    assert_eq!(rates.len(), 4, "{text}");
    let slowest = rates.iter().min_by(|a, b| a.1.total_cmp(&b.1)).unwrap();
    let fastest = rates.iter().max_by(|a, b| a.1.total_cmp(&b.1)).unwrap();
    let stated = format!(
        "the fastest was {} at {:.0} items/s, the slowest {} at {:.0} items/s",
        fastest.0, fastest.1, slowest.0, slowest.1
    );
    let notes = events.texts("note");
    let note = notes
        .iter()
        .find(|n| n.starts_with("And CPython "))
        .unwrap_or_else(|| panic!("{notes:#?}"));
    assert!(note.contains(&stated), "{stated}\n{note}");
    // The lab's own rates in the same note are those of its lines in this run.
    let lab_rate = |label: &str| -> f64 {
        let said = events
            .texts("say")
            .into_iter()
            .find(|t| t.starts_with(&format!("{label}: ")))
            .unwrap();
        said.split(", ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let lab_rates: Vec<f64> = ["Queue(1)", "Queue(10)", "Queue(100)", "Queue()"]
        .iter()
        .map(|label| lab_rate(label))
        .collect();
    let lab_slowest = lab_rates.iter().cloned().fold(f64::MAX, f64::min);
    let lab_fastest = lab_rates.iter().cloned().fold(0.0, f64::max);
    for rate in [lab_slowest, lab_fastest] {
        assert!(note.contains(&format!(" {rate:.0}")), "{rate} {note}");
    }
    // While CPython ran, the lesson's main thread waited for it.
    events.find("woke", |e| e["object"] == "python3 step6.py");
}
