//! Lesson 14 through the real binary: the semaphore's seats counted from the events, the
//! database event, notify(n) waking exactly n, the lost and the stale wake-up and their fix,
//! the two timers, Python's messages (checked against python3 itself), and nothing left after
//! a run, a `q`, or Ctrl-C. The harness checks after every run that nothing is left.

mod common;

use common::{Events, Lab, PREDICTION_RUNS, lang_args, notes_headings, python3, step_titles};
use serde_json::Value;

fn text(event: &Value) -> &str {
    event["text"].as_str().unwrap_or("")
}

fn thread(event: &Value) -> &str {
    event["thread"].as_str().unwrap_or("")
}

fn t(event: &Value) -> f64 {
    event["t"].as_f64().unwrap()
}

/// Events said by the thread `name`.
fn by<'a>(events: &'a Events, name: &str) -> Vec<&'a Value> {
    events.0.iter().filter(|e| thread(e) == name).collect()
}

/// The `woke` events of thread `name` on object `object`.
fn woke<'a>(events: &'a Events, name: &str, object: &str) -> Vec<&'a Value> {
    by(events, name)
        .into_iter()
        .filter(|e| e["kind"] == "woke" && e["object"] == object)
        .collect()
}

#[test]
fn never_more_than_five_inside_the_semaphore_counted_from_the_events() {
    let lab = Lab::new();
    let events = lab.lesson("14", &["--seed", "3"]);
    assert_eq!(step_titles(&events), notes_headings("14-thread-sync"));
    let main = events.main_pid();
    // A guest says "got a seat" after acquire and "leaves" before release: in the stream,
    // the count can only be lower than the truth, so more than five would be a real breach.
    let (mut inside, mut most, mut entered) = (0i32, 0i32, 0);
    for event in &events.0 {
        if !thread(event).starts_with("guest-") || event["kind"] != "say" {
            continue;
        }
        assert_eq!(event["pid"], main, "threads of the main process");
        if text(event).starts_with("got a seat") {
            inside += 1;
            entered += 1;
        } else if text(event) == "leaves" {
            inside -= 1;
        }
        most = most.max(inside);
    }
    assert_eq!(entered, 8, "every guest got in once");
    assert_eq!(inside, 0);
    assert!(most <= 5, "{most} inside at once:\n{}", events.dump());
    assert!(most >= 1);
    // Eight guests and five seats: some had to wait, and every wait ended with a seat.
    let waits: Vec<&Value> = events
        .of_kind("woke")
        .into_iter()
        .filter(|e| e["object"] == "seats")
        .collect();
    assert!(!waits.is_empty(), "nobody waited for a seat");
    assert!(
        waits
            .iter()
            .all(|e| e["got"] == true && e["on"] == "semaphore")
    );
    // The thread ids are distinct, under one pid.
    let mut tids: Vec<i64> = events
        .of_kind("start")
        .iter()
        .filter(|e| thread(e).starts_with("guest-"))
        .map(|e| e["tid"].as_i64().unwrap())
        .collect();
    tids.sort();
    tids.dedup();
    assert_eq!(tids.len(), 8);
    // The note's count is the guests' own, and agrees.
    let note = events.find("note", |e| text(e).starts_with("8 guests, 5 seats"));
    let said: i32 = text(note)
        .split("at most ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(said <= 5 && said >= most, "{note}");
    assert!(
        events
            .texts("say")
            .iter()
            .any(|s| s == "Semaphore(5).release() without an acquire: now 6 seats")
    );
}

#[test]
fn the_event_wakes_the_patient_connector_and_the_impatient_one_gives_up() {
    let lab = Lab::new();
    let events = lab.lesson("14", &[]);
    let set = events.find("say", |e| {
        thread(e) == "check" && text(e) == "mysql is up: set()"
    });
    let set_t = t(set);

    // conn-1 retried (waits that timed out), then got through after the set, in one of three
    // ways; the note says which, from what its last wait returned:
    // - the wait running at set() returned true (its woke event says got);
    // - set() came between the loop's is_set() and its next wait, which returned true at once
    //   without waiting (a try with no wait of its own);
    // - a wait ran out a moment before set(), and the loop's is_set() saw the flag.
    let patient = woke(&events, "conn-1", "db-ready");
    let (last, retries) = patient.split_last().unwrap();
    assert!(!retries.is_empty(), "conn-1 never retried");
    assert!(retries.iter().all(|e| e["got"] == false));
    let connected = events.find("say", |e| thread(e) == "conn-1" && text(e) == "connected");
    assert!(t(connected) >= set_t);
    let tries = by(&events, "conn-1")
        .iter()
        .filter(|e| text(e).starts_with("try "))
        .count();
    let note = text(events.find("note", |e| text(e).contains("The checker set the event")));
    let returned_true = note.contains("conn-1's last wait returned true");
    let ran_out = note.contains("conn-1's wait ran out a moment before set()");
    if tries == patient.len() + 1 {
        assert_eq!(last["got"], false);
        assert!(returned_true && !ran_out, "{note}");
    } else {
        assert_eq!(tries, patient.len());
        if last["got"] == true {
            assert!(t(last) >= set_t);
            assert!(returned_true && !ran_out, "{note}");
        } else {
            assert!(ran_out && !returned_true, "{note}");
        }
    }

    // conn-2 gave up after two waits that timed out, before the set, with its TimeoutError.
    let impatient = woke(&events, "conn-2", "db-ready");
    assert_eq!(impatient.len(), 2);
    assert!(impatient.iter().all(|e| e["got"] == false && t(e) < set_t));
    let error = events.find("error", |e| thread(e) == "conn-2");
    assert_eq!(
        text(error),
        "TimeoutError: 链接超时 (no database after 2 tries)"
    );
    assert_eq!(events.find("done", |e| thread(e) == "conn-2")["code"], 1);
    // A Python thread has no exit code (`tests/python_claims/thread_exception.py`): the note
    // says what Python does, and that the 1 is the lab's.
    let note = text(events.find("note", |e| text(e).contains("conn-2 gave up")));
    assert!(
        note.contains("join() returns None") && note.contains("the lab's join() returned 1"),
        "{note}"
    );
    assert_eq!(events.find("done", |e| thread(e) == "conn-1")["code"], 0);
    // Each timed-out wait lasted about its half second (25 ms at speed 20): a margin for the
    // moment between the timeout's start and the wait's report, which a busy machine stretches.
    for wait in retries.iter().chain(&impatient) {
        assert!(wait["after"].as_f64().unwrap() >= 0.018, "{wait}");
    }
}

#[test]
fn notify_n_wakes_exactly_n() {
    let lab = Lab::new();
    let events = lab.lesson("14", &[]);
    let runners: Vec<String> = (0..5).map(|n| format!("runner-{n}")).collect();
    let is_runner = |e: &Value| runners.iter().any(|r| r == thread(e));
    // All five waited.
    let waits = events
        .of_kind("wait")
        .into_iter()
        .filter(|e| is_runner(e) && e["object"] == "go")
        .count();
    assert_eq!(waits, 5);
    // The note after notify(2) is said after a quiet while and before notify_all: by then,
    // exactly two runners had been woken, and two had run.
    let quiet = events.position("note", |e| {
        text(e).starts_with("notify(2) picked 2 of the 5")
    });
    let woken_before = events.0[..quiet]
        .iter()
        .filter(|e| e["kind"] == "woke" && e["object"] == "go" && is_runner(e))
        .count();
    let ran_before = events.0[..quiet]
        .iter()
        .filter(|e| text(e).starts_with("run the thread: "))
        .count();
    assert_eq!((woken_before, ran_before), (2, 2), "{}", events.dump());
    assert!(text(&events.0[quiet]).contains("2 had run and 3 were still waiting"));
    // notify_all woke the other three.
    let all = events.position("say", |e| text(e) == "notify_all()");
    assert!(quiet < all);
    let woken = events
        .of_kind("woke")
        .into_iter()
        .filter(|e| e["object"] == "go" && is_runner(e))
        .collect::<Vec<_>>();
    assert_eq!(woken.len(), 5);
    assert!(woken.iter().all(|e| e["got"] == true));
    assert!(
        events
            .texts("note")
            .iter()
            .any(|n| n.starts_with("notify_all() woke the other 3."))
    );
}

#[test]
fn the_lost_wakeup_happens_and_wait_for_fixes_it() {
    let lab = Lab::new();
    let events = lab.lesson("14", &[]);
    let notified: Vec<usize> = events
        .0
        .iter()
        .enumerate()
        .filter(|(_, e)| text(e) == "ready = true; notify(1) woke 0 thread(s)")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(notified.len(), 2, "both notifies found nobody waiting");
    // waiter-1 began its wait after the notify, and gave up: the notify was lost.
    let waited = events.position("wait", |e| {
        thread(e) == "waiter-1" && e["object"] == "ready"
    });
    assert!(notified[0] < waited);
    let gave_up = woke(&events, "waiter-1", "ready");
    assert_eq!(gave_up.len(), 1);
    assert_eq!(gave_up[0]["got"], false);
    assert!(
        gave_up[0]["after"].as_f64().unwrap() >= 0.07,
        "{}",
        gave_up[0]
    );
    events.find("say", |e| {
        thread(e) == "waiter-1" && text(e).ends_with("no notify came, though ready is true")
    });
    // waiter-2, with wait_for, never waited on the condition at all.
    assert!(
        !by(&events, "waiter-2")
            .iter()
            .any(|e| e["kind"] == "wait" && e["object"] == "ready")
    );
    events.find("say", |e| {
        thread(e) == "waiter-2" && text(e).ends_with("ready was already true")
    });
}

#[test]
fn a_stale_wakeup_takes_a_missing_bun_and_wait_for_fixes_it() {
    let lab = Lab::new();
    let events = lab.lesson("14", &[]);
    let left = |names: [&str; 2]| -> Vec<String> {
        let mut left: Vec<String> = events
            .of_kind("say")
            .into_iter()
            .filter(|e| names.contains(&thread(e)))
            .filter_map(|e| text(e).strip_prefix("took a bun: ").map(str::to_string))
            .collect();
        left.sort();
        left
    };
    // With `if`: both woken once, and the second took a bun that was not there.
    for name in ["eater-1", "eater-2"] {
        let wakes = woke(&events, name, "plate");
        assert_eq!(wakes.len(), 1, "{name}");
        assert_eq!(wakes[0]["got"], true);
    }
    assert_eq!(
        left(["eater-1", "eater-2"]),
        ["-1 left on the plate", "0 left on the plate"]
    );
    // With wait_for: one of them was woken for nothing and waited again; nobody went below 0.
    let wakes: Vec<usize> = ["eater-3", "eater-4"]
        .iter()
        .map(|name| woke(&events, name, "plate").len())
        .collect();
    let mut sorted = wakes.clone();
    sorted.sort();
    assert_eq!(sorted, [1, 2], "{}", events.dump());
    assert_eq!(
        left(["eater-3", "eater-4"]),
        ["0 left on the plate", "0 left on the plate"]
    );
}

#[test]
fn one_timer_fires_after_its_interval_and_one_is_cancelled_in_time() {
    let lab = Lab::new();
    let events = lab.lesson("14", &[]);
    // hello: waited its whole interval (1 s, 50 ms at speed 20), the wait timed out, then it
    // called the function.
    let hello_wait = woke(&events, "hello", "finished");
    assert_eq!(hello_wait.len(), 1);
    assert_eq!(hello_wait[0]["got"], false);
    assert!(hello_wait[0]["after"].as_f64().unwrap() >= 0.035);
    let said = events.position("say", |e| thread(e) == "hello" && text(e) == "hello, world");
    let started = events.position("start", |e| thread(e) == "hello");
    assert!(started < said);
    // late: cancelled long before its 4 s (200 ms): the wait got the event, no function call.
    let late_wait = woke(&events, "late", "finished");
    assert_eq!(late_wait.len(), 1);
    assert_eq!(late_wait[0]["got"], true);
    assert!(late_wait[0]["after"].as_f64().unwrap() < 0.2);
    let cancel = events.find("say", |e| text(e) == "late.cancel()");
    assert!(t(cancel) <= t(late_wait[0]));
    assert!(
        !events
            .texts("say")
            .iter()
            .any(|s| s.starts_with("too late"))
    );
    assert_eq!(events.find("done", |e| thread(e) == "late")["code"], 0);
}

/// The messages the lesson prints for misuse are Python's own, asked of python3 here.
#[test]
fn misuse_gives_pythons_messages() {
    let python = python3(
        r#"
import threading
try:
    threading.BoundedSemaphore(5).release()
except ValueError as e:
    print("ValueError:", e)
c = threading.Condition(threading.Lock())
for call in (c.wait, c.notify):
    try:
        call()
    except RuntimeError as e:
        print("RuntimeError:", e)
t = threading.Timer(0.01, lambda: None)
t.start()
try:
    t.start()
except RuntimeError as e:
    print("RuntimeError:", e)
t.join()
s = threading.Semaphore(5)
s.release()
print(s._value)
"#,
    );
    let expected: Vec<&str> = python.lines().collect();
    assert_eq!(expected.len(), 5, "{python}");
    let lab = Lab::new();
    let events = lab.lesson("14", &[]);
    let says = events.texts("say");
    let said = |line: &str| says.iter().any(|s| s == line);
    assert!(said(&format!(
        "BoundedSemaphore(5).release(): {}",
        expected[0]
    )));
    assert!(said(&format!("wait() without the lock: {}", expected[1])));
    assert!(said(&format!("notify() without the lock: {}", expected[2])));
    assert!(said(&format!("hello.start() again: {}", expected[3])));
    assert!(said(&format!(
        "Semaphore(5).release() without an acquire: now {} seats",
        expected[4]
    )));
}

/// What the notes claim of Python's Condition, checked in Python: notify(2) wakes exactly two
/// of five, and a notify before anyone waits is lost.
#[test]
fn pythons_condition_behaves_as_the_notes_say() {
    let out = python3(
        r#"
import threading, time
c = threading.Condition()
woke = []
def run(n):
    with c:
        c.wait()
        woke.append(n)
threads = [threading.Thread(target=run, args=(i,)) for i in range(5)]
for t in threads: t.start()
while len(c._waiters) < 5: time.sleep(0.001)
with c: c.notify(2)
time.sleep(0.2)
print(len(woke))
with c: c.notify_all()
for t in threads: t.join()
lost = threading.Condition()
with lost: lost.notify()
with lost: print(lost.wait(timeout=0.05))
"#,
    );
    assert_eq!(out, "2\nFalse\n");
}

/// `--predict`: each of the six answers is what the run's own events say, worked out here
/// from the threads' lines, with two seeds and once in Chinese.
#[test]
fn each_prediction_is_answered_from_the_runs_own_events() {
    let lab = Lab::new();
    for (seed, chinese) in PREDICTION_RUNS {
        let events = lab.predicted("14", seed, "1\n1\n1\n1\n1\n1\n", lang_args(chinese));
        let says = |step: usize| -> Vec<&Value> {
            events
                .of_kind("say")
                .into_iter()
                .filter(|e| common::step_of(&events, t(e)) == step)
                .collect()
        };
        let said_by = |step: usize, name: &str| -> Vec<String> {
            says(step)
                .into_iter()
                .filter(|e| thread(e) == name)
                .map(|e| text(e).to_string())
                .collect()
        };

        // Step 1: the largest N of the guests' "got a seat (N inside)".
        let most = says(1)
            .iter()
            .filter_map(|e| text(e).strip_prefix("got a seat ("))
            .map(|rest| rest.split(' ').next().unwrap().parse::<u32>().unwrap())
            .max()
            .unwrap();
        let choice = match most {
            1..=4 => ("1 to 4", "1 到 4"),
            5 => ("5", "5"),
            _ => ("6 to 8", "6 到 8"),
        };
        events.assert_answer(1, choice, &most.to_string(), chinese);

        // Step 2: who said "connected".
        let through = |name: &str| said_by(2, name).iter().any(|s| s == "connected");
        let choice = match (through("conn-1"), through("conn-2")) {
            (true, true) => ("both", "两个都能"),
            (true, false) => ("only conn-1", "只有 conn-1"),
            (false, true) => ("only conn-2", "只有 conn-2"),
            (false, false) => ("neither", "都不能"),
        };
        events.assert_answer(2, choice, choice.0, chinese);

        // Step 3: runners' lines before the main thread's "notify_all()".
        let step_3 = says(3);
        let notify_all = step_3
            .iter()
            .position(|e| thread(e).is_empty() && text(e) == "notify_all()")
            .unwrap();
        let ran = step_3[..notify_all]
            .iter()
            .filter(|e| text(e).starts_with("run the thread:"))
            .count();
        let choice = match ran {
            0..=1 => ("0 to 1", "0 到 1"),
            2 => ("2", "2"),
            _ => ("3 to 5", "3 到 5"),
        };
        events.assert_answer(3, choice, &ran.to_string(), chinese);

        // Step 4: waiter-1's own line about its wait().
        let waiter = said_by(4, "waiter-1");
        let gave_up = |s: &String| s.starts_with("wait() gave up") || s.starts_with("wait() 等了");
        let choice = if waiter.iter().any(gave_up) {
            ("wait() waits until its timeout", "wait() 一直等到超时")
        } else {
            ("wait() is notified", "wait() 被 notify 唤醒")
        };
        events.assert_answer(4, choice, choice.0, chinese);

        // Step 5: the fewest buns left that eater-1 or eater-2 saw.
        let left = ["eater-1", "eater-2"]
            .iter()
            .flat_map(|name| said_by(5, name))
            .filter_map(|s| {
                let rest = s.strip_prefix("took a bun: ")?;
                rest.split(' ').next()?.parse::<i32>().ok()
            })
            .min()
            .unwrap();
        let left = left.to_string();
        events.assert_answer(5, (&left, &left), &left, chinese);

        // Step 6: which timer thread printed its function's line.
        let hello = said_by(6, "hello").iter().any(|s| s == "hello, world");
        let late = !said_by(6, "late").is_empty();
        let choice = match (hello, late) {
            (true, true) => ("both", "两个都会"),
            (true, false) => ("only hello", "只有 hello"),
            (false, true) => ("only late", "只有 late"),
            (false, false) => ("neither", "都不会"),
        };
        events.assert_answer(6, choice, choice.0, chinese);

        events.assert_measured(1..=6);
    }
}
