//! Lesson 6 through the real binary: a bounded queue's errors, the hints that mislead, a
//! producer blocked by a full queue and consumers stopped by one sentinel each, a
//! JoinableQueue with daemon consumers, and long messages torn on a bare pipe but whole
//! through a queue. The harness checks after every run that no process is left.

mod common;

use std::time::Duration;

use common::{
    Events, Lab, PREDICTION_RUNS, lang_args, notes_headings, python3_if_here, step_of, step_titles,
    t,
};
use serde_json::Value;

fn text(event: &Value) -> &str {
    event["text"].as_str().unwrap_or("")
}

/// Main's line on the bare pipe (`bare pipe: 3 of 20 rounds torn ...`, in Chinese
/// `裸管道：3 轮被撕碎 ...`), and how many rounds it counted torn.
fn torn_rounds(events: &Events) -> (&Value, usize) {
    let bare = events.find("say", |e| {
        text(e).starts_with("bare pipe: ") || text(e).starts_with("裸管道：")
    });
    let prefix = if text(bare).starts_with("bare pipe: ") {
        "bare pipe: "
    } else {
        "裸管道："
    };
    let torn = text(bare)[prefix.len()..]
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    (bare, torn)
}

#[test]
fn full_and_empty_are_error_values_after_the_timeouts() {
    let lab = Lab::new();
    let events = lab.lesson("6", &[]);
    assert_eq!(step_titles(&events), notes_headings("06-queue"));
    let main = events.main_pid();
    let says = events.texts("say");
    for line in [
        "put 3 into Queue(3): full() = true, qsize() = 3",
        "put_nowait(\"baozi 4\"): error: queue.Full",
        "put(\"baozi 4\", timeout): error: queue.Full",
        "got baozi 1, baozi 2, baozi 3: empty() = true, qsize() = 0",
        "get_nowait(): error: queue.Empty",
        "get(timeout): error: queue.Empty",
        "put() after close(): error: Queue q is closed",
        "Queue(0): 100 put_nowait() calls, none refused, qsize() = 100",
        // Bounded by the items put, not got (`tests/python_claims/task_done.py`).
        "JoinableQueue: 2 put(), 1 get(), 2 task_done(): ok",
        "JoinableQueue: a third task_done(): error: task_done() called too many times",
    ] {
        assert!(says.iter().any(|s| s == line), "missing {line:?}");
    }
    // The two timeouts were real waits on the queue, each given up (got: false), and each
    // lasted about its timeout (1 s at --speed 20: 50 ms). The queue's clock starts a moment
    // before it reports the wait, which a busy machine stretches: hence the margin.
    let gave_up: Vec<&Value> = events
        .of_kind("woke")
        .into_iter()
        .filter(|e| e["pid"] == main && e["on"] == "queue" && e["object"] == "q")
        .collect();
    assert_eq!(gave_up.len(), 2, "{gave_up:?}");
    for woke in gave_up {
        assert_eq!(woke["got"], false);
        assert!(woke["after"].as_f64().unwrap() >= 0.035, "{woke}");
    }
}

#[test]
fn python_gives_the_same_errors() {
    let program = r#"
import multiprocessing as mp, queue
q = mp.Queue(1); q.put(1)
try: q.put_nowait(2)
except queue.Full: print("queue.Full")
q.get()
try: q.get(timeout=0.01)
except queue.Empty: print("queue.Empty")
q.close()
try: q.put(1)
except ValueError as e: print(str(e).endswith(" is closed"))
try: mp.JoinableQueue().task_done()
except ValueError as e: print(e)
print(mp.Queue(0)._maxsize > 10**9)
"#;
    let Some(out) = python3_if_here(program, Duration::from_secs(20)) else {
        return;
    };
    assert_eq!(
        out,
        "queue.Full\nqueue.Empty\nTrue\ntask_done() called too many times\nTrue\n"
    );
}

/// The notes say that in Python `q.put(x); q.empty()` usually answers True, because a feeder
/// thread writes the object into the pipe a moment after `put` returns. (Here, `put` writes
/// it itself: step 1 shows `empty()` false right after the puts.)
#[test]
fn pythons_empty_right_after_put_can_say_true() {
    let program = r#"
import multiprocessing as mp
n = 0
for i in range(50):
    q = mp.Queue()
    q.put("x")
    n += q.empty()
    q.get(); q.close(); q.join_thread()
print(n)
"#;
    let Some(out) = python3_if_here(program, Duration::from_secs(30)) else {
        return;
    };
    let said_empty: u32 = out.trim().parse().expect("python printed a count");
    assert!(said_empty > 0, "empty() was never True right after put()");
}

#[test]
fn the_hints_are_raced_twenty_times_and_counted() {
    let lab = Lab::new();
    let events = lab.lesson("6", &[]);
    let rounds: Vec<(u32, u32)> = events
        .texts("say")
        .iter()
        .filter(|t| t.starts_with("round ") && t.contains("saw empty() = false"))
        .map(|t| {
            let after = &t[t.find(": ").unwrap() + 2..];
            let saw: u32 = after[..1].parse().unwrap();
            let none: u32 = after[after.find("; ").unwrap() + 2..][..1].parse().unwrap();
            (saw, none)
        })
        .collect();
    assert_eq!(rounds.len(), 20);
    for (saw, none) in &rounds {
        // One item: at least one racer saw it; a racer that found none had seen it.
        assert!((1..=2).contains(saw) && none < saw, "{rounds:?}");
        // Whoever saw it alone got it.
        assert!(*saw == 2 || *none == 0, "{rounds:?}");
    }
    let both = rounds.iter().filter(|(saw, _)| *saw == 2).count();
    assert!(
        events
            .texts("note")
            .iter()
            .any(|t| t.contains(&format!("In {both} of 20 rounds both were told")))
    );
}

#[test]
fn a_full_queue_blocks_the_producer_and_each_consumer_stops_at_its_sentinel() {
    let lab = Lab::new();
    let events = lab.lesson("6", &[]);
    let producer = events.pid_of("producer");
    // Two places, six baozi, slow consumers: the producer waited on the queue, visibly.
    let waits: Vec<&Value> = events
        .of_kind("wait")
        .into_iter()
        .filter(|e| e["pid"] == producer)
        .collect();
    assert!(!waits.is_empty(), "the producer never waited");
    for wait in &waits {
        assert_eq!(
            (wait["on"].as_str(), wait["object"].as_str()),
            (Some("queue"), Some("baozi"))
        );
    }
    // Every baozi eaten once, in the order made per consumer; each consumer stopped at None.
    let mut eaten: Vec<u32> = Vec::new();
    for name in ["c1", "c2"] {
        let pid = events.pid_of(name);
        let mine: Vec<u32> = events
            .of_kind("say")
            .into_iter()
            .filter(|e| e["pid"] == pid && text(e).starts_with(&format!("{name}: ate baozi ")))
            .map(|e| text(e).rsplit(' ').next().unwrap().parse().unwrap())
            .collect();
        assert!(mine.windows(2).all(|w| w[0] < w[1]), "{name}: {mine:?}");
        let stop = events.find("say", |e| e["pid"] == pid && text(e).contains("got None"));
        assert_eq!(
            text(stop),
            format!("{name}: got None, stopping after {} baozi", mine.len())
        );
        assert_eq!(events.exitcode_of(pid), 0);
        eaten.extend(mine);
    }
    eaten.sort();
    assert_eq!(eaten, (1..=6).collect::<Vec<_>>());
    // The sentinels went in after the producer had ended.
    let producer_reaped = events.position("exit", |e| e["child"] == producer);
    let sentinels = events.position("say", |e| text(e).starts_with("main: the producer is done"));
    assert!(producer_reaped < sentinels);
}

#[test]
fn joinable_queue_join_returns_after_the_last_task_done_and_daemons_end() {
    let lab = Lab::new();
    let events = lab.lesson("6", &[]);
    let shop = events.pid_of("shop");
    let p1 = events.pid_of("p1");
    let waiting = events.position("say", |e| {
        e["pid"] == p1 && text(e).starts_with("p1: made 6 baozi")
    });
    let all_eaten = events.position("say", |e| {
        e["pid"] == p1 && text(e) == "p1: all eaten, leaving"
    });
    let last_meal = events
        .0
        .iter()
        .rposition(|e| {
            e["kind"] == "say" && text(e).starts_with("c") && text(e).contains(": ate baozi")
        })
        .unwrap();
    assert!(
        waiting < last_meal && last_meal < all_eaten,
        "{}",
        events.dump()
    );
    // p1's join() was a visible wait on the queue, ended with got: true.
    let woke = events.find("woke", |e| e["pid"] == p1 && e["on"] == "queue");
    assert_eq!(woke["object"], "orders");
    assert_eq!(woke["got"], true);
    for name in ["c3", "c4"] {
        let pid = events.pid_of(name);
        assert_eq!(events.exitcode_of(pid), -15, "{name}");
        assert_eq!(events.find("exit", |e| e["child"] == pid)["pid"], shop);
    }
    assert_eq!(events.exitcode_of(shop), 0);
}

#[test]
fn long_messages_tear_on_a_bare_pipe_and_stay_whole_through_a_queue() {
    let lab = Lab::new();
    let events = lab.lesson("6", &[]);
    let (bare, torn) = torn_rounds(&events);
    assert!(torn >= 1, "{}", text(bare));
    let queued = events.find("say", |e| text(e).starts_with("queue: "));
    assert_eq!(text(queued), "queue: 10 of 10 messages whole");
}

/// Each question's answer is what the run's own events say, computed here from them.
#[test]
fn each_prediction_is_answered_from_the_runs_own_events() {
    let lab = Lab::new();
    for (seed, zh) in PREDICTION_RUNS {
        let run = lab.predicted("6", seed, "1\n1\n1\n1\n1\n", lang_args(zh));

        // Step 1: main's put() with a timeout on the full queue, and whether main waited.
        let main = run.main_pid();
        let before = t(run.find("say", |e| text(e).starts_with("put_nowait(")));
        let put = run.find("say", |e| text(e).starts_with("put(\"baozi 4\", timeout)"));
        assert!(text(put).ends_with("error: queue.Full"), "{put}");
        let waited = run
            .of_kind("wait")
            .iter()
            .any(|e| e["pid"] == main && e["on"] == "queue" && t(e) > before && t(e) < t(put));
        assert!(waited, "put() with a timeout waits before it gives up");
        let value = "it waits, then fails with queue.Full";
        run.assert_answer(1, (value, "先等待，然后失败，queue.Full"), value, zh);

        // Step 2: the rounds in which a consumer told "not empty" got queue.Empty.
        // The lab's line for each round, in the language of the run.
        let (round, after) = if zh {
            ("第 ", "其中 ")
        } else {
            ("round ", "empty() = false; ")
        };
        let rounds: Vec<u32> = run
            .texts("say")
            .iter()
            .filter(|line| line.starts_with(round))
            .map(|line| {
                let after = line.split(after).nth(1).unwrap();
                after.split(' ').next().unwrap().parse().unwrap()
            })
            .collect();
        assert_eq!(rounds.len(), 20);
        let misled = rounds.iter().filter(|&&none| none > 0).count();
        let choice = match misled {
            0 => ("0", "0"),
            1..=9 => ("1 to 9", "1 到 9"),
            _ => ("10 to 20", "10 到 20"),
        };
        run.assert_answer(2, choice, &misled.to_string(), zh);

        // Step 3: the producer's waits on the queue.
        let producer = run.pid_of("producer");
        let waits = run
            .of_kind("wait")
            .iter()
            .filter(|e| e["pid"] == producer && e["tid"].is_null() && e["on"] == "queue")
            .count();
        let choice = match waits {
            0 => ("0", "0"),
            1..=3 => ("1 to 3", "1 到 3"),
            _ => ("4 or more", "4 次或更多"),
        };
        run.assert_answer(3, choice, &waits.to_string(), zh);

        // Step 4: the consumers' "ate" lines before p1's join() returned.
        let returned = t(run.find("say", |e| text(e) == "p1: all eaten, leaving"));
        let eaten = run
            .of_kind("say")
            .iter()
            .filter(|e| step_of(&run, t(e)) == 4 && t(e) < returned)
            .filter(|e| text(e).contains(": ate baozi "))
            .count();
        assert_eq!(eaten, 6, "join() returns once every baozi is done");
        run.assert_answer(4, ("6", "6"), "6", zh);

        // Step 5: the torn rounds main counted on the bare pipe.
        let (_, torn) = torn_rounds(&run);
        let choice = match torn {
            0 => ("0", "0"),
            5 => ("5", "5"),
            _ => ("1 to 4", "1 到 4"),
        };
        run.assert_answer(5, choice, &torn.to_string(), zh);
    }
}
