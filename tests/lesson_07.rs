//! Lesson 7 through the real binary: a duplex pipe, the end of file that comes only when every
//! write end is closed (the parent's copy, the reader's own copy), misuse as error values with
//! Python's messages, and two writers on one end. The harness checks after every run that no
//! process is left.

mod common;

use std::time::Duration;

use common::{
    Lab, PREDICTION_RUNS, lang_args, notes_headings, python3_if_here, step_of, step_titles, t,
};
use serde_json::Value;

fn text(event: &Value) -> &str {
    event["text"].as_str().unwrap_or("")
}

#[test]
fn the_adder_answers_on_the_same_duplex_pipe_and_ends_at_eof() {
    let lab = Lab::new();
    let events = lab.lesson("7", &[]);
    assert_eq!(step_titles(&events), notes_headings("07-pipe"));
    let says = events.texts("say");
    for line in [
        "main: asked 1 + 2, got 3",
        "main: asked 30 + 12, got 42",
        "main: asked 100 + -1, got 99",
        "adder: end of file, server done",
    ] {
        assert!(says.iter().any(|s| s == line), "missing {line:?}");
    }
    let adder = events.pid_of("adder");
    // The adder ended by itself, after main's last question.
    assert_eq!(events.exitcode_of(adder), 0);
    let last_answer = events.position("say", |e| text(e) == "main: asked 100 + -1, got 99");
    let done = events.position("say", |e| {
        e["pid"] == adder && text(e).contains("server done")
    });
    assert!(last_answer < done);
}

#[test]
fn eof_comes_only_after_the_last_write_end_is_closed() {
    let lab = Lab::new();
    let events = lab.lesson("7", &[]);
    let main = events.main_pid();

    // c1: the producer took the only write end; c1 got its messages, then EOF, which came
    // after the producer had finished (its end closed as it left).
    let c1 = events.pid_of("c1");
    let producer = events.pid_of("producer");
    let eof = events.position("say", |e| {
        e["pid"] == c1 && text(e).starts_with("c1: EOFError")
    });
    assert!(events.position("done", |e| e["pid"] == producer) < eof);

    // c2: main kept a copy: c2 gave up waiting, /proc named main as the holder, and EOF came
    // only after main closed its copy.
    let c2 = events.pid_of("c2");
    let gave_up = events.position("say", |e| {
        e["pid"] == c2 && text(e).starts_with("c2: nothing for")
    });
    assert!(
        text(&events.0[gave_up]).ends_with(&format!("the write end is open in pid(s) {main}")),
        "{}",
        events.0[gave_up]
    );
    let closed = events.position("say", |e| {
        text(e) == "main: closing the copy of the write end I kept"
    });
    let c2_eof = events.position("say", |e| {
        e["pid"] == c2 && text(e).starts_with("c2: EOFError")
    });
    assert!(gave_up < closed && closed < c2_eof, "{}", events.dump());
    // The wait before it is on the timeline: a poll that timed out.
    let timed_out = events.position("woke", |e| {
        e["pid"] == c2 && e["on"] == "pipe" && e["got"] == false
    });
    assert!(timed_out < gave_up);

    // c3: its own inherited copy kept the EOF away, after main had closed its end.
    let c3 = events.pid_of("c3");
    let main_closed = events.position("say", |e| {
        text(e) == "main: wrote two messages and closed my write end"
    });
    let c3_gave_up = events.position("say", |e| {
        e["pid"] == c3 && text(e).starts_with("c3: nothing for")
    });
    assert!(text(&events.0[c3_gave_up]).contains(&c3.to_string()));
    let c3_closes = events.position("say", |e| {
        e["pid"] == c3 && text(e) == "c3: one of them is me: closing my own copy"
    });
    let c3_eof = events.position("say", |e| {
        e["pid"] == c3 && text(e).starts_with("c3: EOFError")
    });
    assert!(main_closed < c3_gave_up && c3_gave_up < c3_closes && c3_closes < c3_eof);
}

#[test]
fn misuse_is_an_error_value_with_pythons_message() {
    let lab = Lab::new();
    let events = lab.lesson("7", &[]);
    let says = events.texts("say");
    for line in [
        "main: send() on the read end: error: connection is read-only",
        "main: recv() on the write end: error: connection is write-only",
        "main: send() on a closed end: error: handle is closed",
    ] {
        assert!(says.iter().any(|s| s == line), "missing {line:?}");
    }
    assert!(
        says.iter()
            .any(|s| s.starts_with("main: recv() with the only write end closed: error: EOFError"))
    );
}

#[test]
fn python_gives_the_same_messages() {
    let program = r#"
from multiprocessing import Pipe
r, w = Pipe(duplex=False)
for what, call in [("read-only", lambda: r.send(1)), ("write-only", lambda: w.recv())]:
    try: call()
    except OSError as e: print(e)
w.close()
try: r.recv()
except EOFError as e: print("EOFError")
try: w.send(1)
except OSError as e: print(e)
"#;
    let Some(out) = python3_if_here(program, Duration::from_secs(10)) else {
        return;
    };
    assert_eq!(
        out,
        "connection is read-only\nconnection is write-only\nEOFError\nhandle is closed\n"
    );
}

#[test]
fn small_messages_from_two_writers_stay_whole_and_large_ones_tear() {
    let lab = Lab::new();
    let events = lab.lesson("7", &[]);
    let small = events.find("say", |e| text(e).starts_with("messages of 100 bytes:"));
    // At most PIPE_BUF bytes per write: atomic, every time.
    assert_eq!(
        text(small),
        "messages of 100 bytes: 400 whole, 0 torn, of 400 sent"
    );
    let rounds: Vec<String> = events
        .texts("say")
        .into_iter()
        .filter(|t| t.starts_with("round ") && t.contains("messages of 100 KiB"))
        .collect();
    assert_eq!(rounds.len(), 5, "{rounds:?}");
    // Torn in practice in every round; the test asks for one of five.
    assert!(
        rounds
            .iter()
            .any(|t| !t.ends_with(" 0 torn") || t.contains("the stream is lost")),
        "{rounds:?}"
    );
    for name in [
        "writer-a-small",
        "writer-b-small",
        "writer-a-large-1",
        "writer-b-large-5",
    ] {
        assert_eq!(events.exitcode_of(events.pid_of(name)), 0, "{name}");
    }
}

/// Each question's answer is what the run's own events say, computed here from them.
#[test]
fn each_prediction_is_answered_from_the_runs_own_events() {
    let lab = Lab::new();
    for (seed, zh) in PREDICTION_RUNS {
        let run = lab.predicted("7", seed, "1\n1\n1\n1\n", lang_args(zh));

        // Step 1: adder's own line when its recv() gave the end of file.
        let adder = run.pid_of("adder");
        let eof = run.find("say", |e| text(e) == "adder: end of file, server done");
        assert_eq!(eof["pid"], adder);
        assert_eq!(step_of(&run, t(eof)), 1);
        let value = "EOFError (end of file)";
        run.assert_answer(1, (value, "EOFError（文件结尾）"), value, zh);

        // Step 2: c2 said it got nothing before it got the end of file: "c2: nothing for 50 ms,
        // and no end of file: ...", in Chinese "c2：50 ms 内什么也没收到，...".
        let (nothing_for, nothing_came) = if zh {
            ("：", "什么也没收到")
        } else {
            (": nothing for", "")
        };
        let c2 = run.pid_of("c2");
        let eof = t(run.find("say", |e| {
            e["pid"] == c2 && text(e).starts_with("c2: EOFError")
        }));
        let waited = run.of_kind("say").iter().any(|e| {
            e["pid"] == c2
                && t(e) < eof
                && text(e).starts_with(&format!("c2{nothing_for}"))
                && text(e).contains(nothing_came)
        });
        let (value, in_chinese) = if waited {
            (
                "it waits until main closes its copy",
                "一直等到 main 关闭它的副本",
            )
        } else {
            ("EOFError at once", "立即得到 EOFError")
        };
        run.assert_answer(2, (value, in_chinese), value, zh);

        // Step 3: the pids c3 found holding the write end, named.
        let c3 = run.pid_of("c3");
        let looked = run.find("say", |e| {
            e["pid"] == c3
                && text(e).starts_with(&format!("c3{nothing_for}"))
                && text(e).contains(nothing_came)
        });
        let (before_pids, after_pids) = if zh {
            ("写端仍开在 pid ", " 中")
        } else {
            ("pid(s) ", "")
        };
        let holders: Vec<i64> = text(looked)
            .rsplit(before_pids)
            .next()
            .unwrap()
            .trim_end_matches(after_pids)
            .split(", ")
            .map(|pid| pid.parse().unwrap())
            .collect();
        assert_eq!(holders, [c3], "c3 holds the last write end itself");
        run.assert_answer(3, ("c3 itself", "c3 自己"), "c3 itself", zh);

        // Step 4: the rounds of large messages in which something was torn or lost.
        // The lab's line for each round, in the language of the run.
        let (round, torn_none, lost) = if zh {
            ("第 ", "条完整，0 条被撕碎", "这个流乱了")
        } else {
            ("round ", " 0 torn", "the stream is lost")
        };
        let corrupted = run
            .texts("say")
            .iter()
            .filter(|line| line.starts_with(round) && line.contains("KiB"))
            .filter(|line| !line.contains(torn_none) || line.contains(lost))
            .count();
        let choice = match corrupted {
            0 => ("0", "0"),
            5 => ("5", "5"),
            _ => ("1 to 4", "1 到 4"),
        };
        run.assert_answer(4, choice, &corrupted.to_string(), zh);
    }
}
