//! Lesson 4 through the real binary: handlers as children of the server, correct replies,
//! overlap, the iterative server's wait, zombies without and with reaping, EOF held back by
//! the server's copy, TIME_WAIT and SO_REUSEADDR.

mod common;

use common::{Events, Lab, notes_headings, step_titles};
use serde_json::Value;

fn text(event: &Value) -> &str {
    event["text"].as_str().unwrap_or("")
}

/// Index of the `step` event with this index (1-based), or the end of the stream.
fn step_start(events: &Events, index: i64) -> usize {
    events
        .0
        .iter()
        .position(|e| e["kind"] == "step" && e["index"] == index)
        .unwrap_or(events.0.len())
}

/// The number after "zombies counted in /proc: " in a note.
fn zombie_count(note: &str) -> Option<u64> {
    let rest = note.split("zombies counted in /proc: ").nth(1)?;
    rest.split_whitespace().next()?.parse().ok()
}

#[test]
fn forking_server_handlers_replies_overlap_and_pitfalls() {
    let lab = Lab::new();
    let events = lab.lesson("4", &["--seed", "4"]);
    assert_eq!(
        step_titles(&events),
        notes_headings("04-socket-concurrency")
    );
    let main = events.main_pid();
    let step2 = step_start(&events, 2);
    let step3 = step_start(&events, 3);
    let step4 = step_start(&events, 4);
    let step5 = step_start(&events, 5);

    // Step 1: the server is a child of main; its handlers are its children, all distinct.
    let step1: Vec<&Value> = events.0[..step2].iter().collect();
    let server = step1
        .iter()
        .find(|e| e["kind"] == "spawn" && e["child_name"] == "server")
        .expect("a server was forked")["child"]
        .as_i64()
        .unwrap();
    assert_eq!(events.find("start", |e| e["pid"] == server)["ppid"], main);
    let handlers: Vec<i64> = step1
        .iter()
        .filter(|e| e["kind"] == "spawn" && e["pid"] == server)
        .map(|e| e["child"].as_i64().unwrap())
        .collect();
    assert_eq!(handlers.len(), 3, "{handlers:?}");
    let mut distinct = handlers.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 3, "{handlers:?}");
    for &handler in &handlers {
        let start = events.find("start", |e| e["pid"] == handler);
        assert_eq!(start["ppid"], server, "handler {handler}");
        // /proc agreed, read by the server.
        let state = events.find("state", |e| e["of"] == handler);
        assert_eq!(state["ppid_of"], server);
        // Reaped by the server, exit code 0.
        let exit = events.find("exit", |e| e["child"] == handler);
        assert_eq!(exit["pid"], server);
        assert_eq!(exit["exitcode"], 0);
        // The accept was annotated with the handler pid and the server pid.
        events.find("say", |e| {
            e["pid"] == server
                && text(e).starts_with("connection from 127.0.0.1:")
                && text(e).contains(&format!(
                    "handler {handler}, a child of this server ({server})"
                ))
        });
    }
    // The handlers' lives overlap: each started before any of them ended.
    let last_start = handlers
        .iter()
        .map(|&h| events.time_of("start", h))
        .fold(0.0, f64::max);
    let first_done = handlers
        .iter()
        .map(|&h| events.time_of("done", h))
        .fold(f64::MAX, f64::min);
    assert!(last_start < first_done, "{last_start} >= {first_done}");
    events.find("note", |e| {
        e["pid"] == server && text(e).contains("The handler lifetimes overlapped")
    });

    // Every reply, in every step, is the request upper-cased.
    let mut replies = 0;
    for event in events.of_kind("say") {
        let line = text(event);
        if let Some((request, reply)) = line
            .split_once(" sent \"")
            .and_then(|(_, rest)| rest.split_once("\" and got \""))
        {
            let reply = reply.split('"').next().unwrap();
            assert_eq!(reply, request.to_ascii_uppercase(), "{line}");
            replies += 1;
        }
    }
    // 3 clients x 2 lines in steps 1 and 2, 9 one-line clients in step 3 (three servers),
    // 1 in step 4.
    assert_eq!(replies, 6 + 6 + 9 + 1);

    // Step 2: the iterative server made the later clients wait; the note says so.
    let comparison = events.find("note", |e| text(e).contains("forking server / iterative"));
    assert!(
        text(comparison).contains("read nothing from it until that client hung up"),
        "{comparison}"
    );
    // Its clients' lifetimes did not overlap on the server side: one "next client" per client.
    let iterative_server = events.0[step2..step3]
        .iter()
        .find(|e| e["kind"] == "spawn" && e["child_name"] == "server")
        .unwrap()["child"]
        .clone();
    assert_eq!(
        events.0[step2..step3]
            .iter()
            .filter(|e| e["kind"] == "spawn" && e["pid"] == iterative_server)
            .count(),
        0,
        "the iterative server forked"
    );

    // Step 3: zombies above zero without reaping, zero with it.
    let counts: Vec<u64> = events.0[step3..step4]
        .iter()
        .filter(|e| e["kind"] == "note")
        .filter_map(|e| zombie_count(text(e)))
        .collect();
    assert_eq!(counts.len(), 4, "{counts:?}");
    assert!(counts[0] > 0, "no zombies without reaping: {counts:?}");
    assert_eq!(counts[1], 0, "zombies left after reaping them: {counts:?}");
    assert_eq!(counts[2], 0, "zombies with a reaping server: {counts:?}");
    assert_eq!(counts[3], 0, "zombies with SIGCHLD ignored: {counts:?}");
    // With SIGCHLD ignored, the kernel reaped them: a wait finds no child at all.
    assert!(
        events.0[step3..step4]
            .iter()
            .any(|e| text(e) == "waitpid for any child now fails: ECHILD (No child processes)")
    );
    let zombies_seen = events.0[step3..step4]
        .iter()
        .filter(|e| e["kind"] == "state" && e["state"] == "Z")
        .count();
    assert_eq!(zombies_seen as u64, counts[0]);

    // Step 4: no EOF while the main process held its copy, EOF once it closed it.
    let step4_events = &events.0[step4..step5];
    let no_end = step4_events
        .iter()
        .position(|e| text(e).contains("no end of the conversation after waiting"))
        .expect("alex reported no EOF");
    let end = step4_events
        .iter()
        .position(|e| text(e).contains("end of the conversation (read returned 0 bytes)"))
        .expect("alex saw EOF at last");
    assert!(no_end < end);

    // Step 5: TIME_WAIT read from /proc/net/tcp; bind fails without SO_REUSEADDR, works with it.
    let step6 = step_start(&events, 6);
    let step7 = step_start(&events, 7);
    let step5_events = &events.0[step5..step6];
    assert!(step5_events.iter().any(|e| text(e).contains("(TIME_WAIT)")));
    assert!(
        step5_events
            .iter()
            .any(|e| { text(e).contains("without SO_REUSEADDR: failed with EADDRINUSE") })
    );
    assert!(
        step5_events
            .iter()
            .any(|e| text(e).contains("with SO_REUSEADDR: succeeded"))
    );

    // Step 6: a handler still connected: the lab's (listening socket closed) lets a bind with
    // SO_REUSEADDR through; the tutorial's (listening socket kept) keeps the port from both.
    let step6_texts: Vec<&str> = events.0[step6..step7].iter().map(text).collect();
    let binds: Vec<&str> = step6_texts
        .iter()
        .filter(|t| t.starts_with("bind to "))
        .map(|t| t.split(": ").nth(1).unwrap())
        .collect();
    let refused = "failed with EADDRINUSE (Address already in use)";
    assert_eq!(
        binds,
        [refused, "succeeded", refused, refused],
        "{step6_texts:?}"
    );
    assert!(
        step6_texts
            .iter()
            .any(|t| t.contains("tutorial-handler") && t.contains("LISTEN, ESTABLISHED")),
        "{step6_texts:?}"
    );

    // Step 7: one read of 1024 per line leaves the client a reply behind; reading the whole
    // reply keeps it in step.
    let step7_texts: Vec<&str> = events.0[step7..].iter().map(text).collect();
    let alex: Vec<&str> = step7_texts
        .iter()
        .filter(|t| t.starts_with("alex sent"))
        .copied()
        .collect();
    assert_eq!(
        alex,
        [
            "alex sent 1500 byte(s) \"aaaaaaaa...\" and got 1024 byte(s) \"AAAAAAAA...\"",
            "alex sent 1 byte(s) \"b\" and got 477 byte(s) \"AAAAAAAA...\"",
            "alex sent 1 byte(s) \"c\" and got 1 byte(s) \"C\"",
        ]
    );
    let wupeiqi: Vec<&str> = step7_texts
        .iter()
        .filter(|t| t.starts_with("wupeiqi sent"))
        .copied()
        .collect();
    assert_eq!(
        wupeiqi,
        [
            "wupeiqi sent 1500 byte(s) \"aaaaaaaa...\" and got 1500 byte(s) \"AAAAAAAA...\"",
            "wupeiqi sent 1 byte(s) \"b\" and got 1 byte(s) \"B\"",
            "wupeiqi sent 1 byte(s) \"c\" and got 1 byte(s) \"C\"",
        ]
    );
    assert!(
        step7_texts
            .iter()
            .any(|t| t.contains("one reply behind") && t.contains("every reply whole")),
        "{step7_texts:?}"
    );
    assert_eq!(events.0.last().unwrap()["outcome"], "finished");
}

#[test]
fn interrupted_in_the_middle_leaves_nothing_behind() {
    let lab = Lab::new();
    lab.interrupted_when(&["run", "4", "--json", "--speed", "20"], |e| {
        e["kind"] == "say" && e["text"].as_str().unwrap_or("").contains("connected from")
    });
}

/// The answer to each of lesson 4's predict questions, worked out here from the run's own
/// events, in English (the choices of `questions.md`).
fn lesson_4_answers(events: &Events) -> Vec<(i64, String)> {
    use common::{step_of, t};
    let in_step = |step: usize, kind: &str| -> Vec<&Value> {
        events
            .of_kind(kind)
            .into_iter()
            .filter(|e| step_of(events, t(e)) == step)
            .collect()
    };
    let mut answers = Vec::new();

    // Step 1: who forked the handlers.
    let spawner = events.find("spawn", |e| e["child_name"] == "handler");
    answers.push((1, spawner["name"].as_str().unwrap().to_string()));

    // Step 2: clients connected before the iterative server finished its first conversation.
    let says = in_step(2, "say");
    let first_over = says
        .iter()
        .find(|e| e["name"] == "server" && text(e).contains("closed the connection"))
        .map(|e| t(e))
        .unwrap();
    let connected = says
        .iter()
        .filter(|e| t(e) < first_over && text(e).contains(" connected from "))
        .count();
    answers.push((2, connected.to_string()));

    // Step 3: the zombies the first server of the step found: its `state` events in state Z.
    let server = in_step(3, "spawn")
        .into_iter()
        .find(|e| e["child_name"] == "server")
        .unwrap()["child"]
        .as_i64()
        .unwrap();
    let zombies = in_step(3, "state")
        .into_iter()
        .filter(|e| e["pid"] == server && e["state"] == "Z")
        .count();
    answers.push((3, zombies.to_string()));

    // Step 4: alex's line after its wait.
    let alex = in_step(4, "say")
        .into_iter()
        .find(|e| {
            e["name"] == "alex"
                && (text(e).contains("no end of the conversation")
                    || text(e).contains("the server ended the conversation"))
        })
        .unwrap();
    let saw = if text(alex).contains("no end") {
        "no"
    } else {
        "yes"
    };
    answers.push((4, saw.to_string()));

    // Steps 5 and 6: the bind without SO_REUSEADDR in TIME_WAIT, and the last bind with it
    // (beside tutorial-handler).
    let bind = |line: &Value| {
        if text(line).ends_with(": succeeded") {
            "it succeeds".to_string()
        } else if text(line).contains("EADDRINUSE") {
            "it fails with EADDRINUSE".to_string()
        } else {
            text(line).to_string()
        }
    };
    let without = in_step(5, "say")
        .into_iter()
        .find(|e| text(e).contains(" without SO_REUSEADDR: "))
        .unwrap();
    answers.push((5, bind(without)));
    let with = in_step(6, "say")
        .into_iter()
        .rfind(|e| text(e).contains(" with SO_REUSEADDR: "))
        .unwrap();
    answers.push((6, bind(with)));

    // Step 7: what alex's read after "b" returned.
    let read = in_step(7, "say")
        .into_iter()
        .find(|e| e["name"] == "alex" && text(e).starts_with("alex sent 1 byte(s) \"b\""))
        .unwrap();
    let read = if text(read).ends_with("and got 1 byte(s) \"B\"") {
        "B alone"
    } else {
        "the rest of the previous reply"
    };
    answers.push((7, read.to_string()));
    answers
}

/// The same choices in `questions.zh.md`, where they are words.
fn in_chinese(answer: &str) -> &str {
    match answer {
        "yes" => "能",
        "no" => "不能",
        "it succeeds" => "成功",
        "it fails with EADDRINUSE" => "以 EADDRINUSE 失败",
        "B alone" => "只有 B",
        "the rest of the previous reply" => "上一个回复剩下的部分",
        other => other,
    }
}

/// Every question is answered from the run's own events, with two seeds in English and once
/// in Chinese, whose verdict shows the Chinese choice.
#[test]
fn each_prediction_is_what_the_runs_own_events_say() {
    let lab = Lab::new();
    let answers = "1\n1\n1\n1\n1\n1\n1\n";
    for (seed, lang) in [("3", "en"), ("8", "en"), ("5", "zh")] {
        let run = lab.predicted("4", seed, answers, &["--lang", lang]);
        run.assert_answers(&lesson_4_answers(&run), lang == "zh", in_chinese);
    }
}
