//! What lesson 16 measures in a run, read from its events (for `--repeat` and `--predict`).
//!
//! - Steps 1 and 2: how many connections the blocking and the forking server had open at once,
//!   at most (from each server's closing line, "... at most N open at once").
//! - Step 3: whether the threaded server's handlers spoke under the server's own pid (their
//!   "closed the connection" lines, each from its handler thread).
//! - Step 4: which of the two idle servers, side by side with no client, never blocked: a
//!   server that never waits keeps a CPU busy (its `wait` events, or their absence).
//! - Step 5: the calls the poll server's one thread blocked in (its `wait` events).
//! - Step 6: how many times the epoll server could not send a reply whole (its closing line).
//! - Step 7: how many of the six servers answered all the held connections while they were
//!   all open (the rows of the final table, "held connections answered 20/20").

use std::collections::BTreeSet;

use crate::outcomes::prelude::*;

/// The connections held open at once in each step (the lesson's `HELD`).
const HELD: i64 = 20;

pub fn measure(run: &Record) -> Vec<Measured> {
    let mut found = Vec::new();
    for (step, server, what) in [
        (
            1,
            "iterative",
            "connections the blocking server had open at once",
        ),
        (
            2,
            "forking",
            "connections the forking server had open at once",
        ),
    ] {
        // "iterative served 24 connections, at most 1 open at once", in Chinese
        // "iterative 服务了 24 个连接，同时打开的最多 1 个".
        let open = run
            .says_in_step(step)
            .filter(|(e, text)| {
                e.name == server
                    && (text.starts_with(&format!("{server} served"))
                        || text.starts_with(&format!("{server} 服务了")))
            })
            .find_map(|(_, text)| number_after(text, "at most").or(number_after(text, "最多")));
        if let Some(open) = open {
            found.push(measured(step, what, open));
        }
    }

    if let Some(server) = run.pid_of("threads") {
        let handlers: Vec<i32> = run
            .says_in_step(3)
            .filter(|(e, text)| {
                e.thread
                    .as_deref()
                    .is_some_and(|t| t.starts_with("handler-"))
                    && text.contains("closed the connection")
            })
            .map(|(e, _)| e.pid)
            .collect();
        if !handlers.is_empty() {
            let value = if handlers.iter().all(|&pid| pid == server) {
                "the server's pid"
            } else {
                "a new pid for each handler"
            };
            found.push(measured(3, "pid of the threaded server's handlers", value));
        }
    }

    if let (Some(busy), Some(blocking)) =
        (run.pid_of("idle-busy-loop"), run.pid_of("idle-iterative"))
    {
        let blocked = |pid: i32| {
            run.in_step(4)
                .any(|e| e.pid == pid && matches!(e.kind, Kind::Wait { .. }))
        };
        let value = match (blocked(busy), blocked(blocking)) {
            (false, true) => "the busy loop",
            (true, false) => "the blocking server",
            (false, false) => "both",
            (true, true) => "neither",
        };
        found.push(measured(4, "idle server that never blocked", value));
    }

    if let Some(poll) = run.pid_of("poll") {
        let calls: BTreeSet<&str> = run
            .in_step(5)
            .filter(|e| e.pid == poll)
            .filter_map(|e| match &e.kind {
                Kind::Wait { on, .. } => Some(on.as_str()),
                _ => None,
            })
            .collect();
        let value = if calls.is_empty() {
            "nowhere".to_string()
        } else {
            calls.into_iter().collect::<Vec<_>>().join(" and ")
        };
        found.push(measured(5, "calls the poll server blocked in", value));
    }

    // "epoll served 24 connections, at most 20 open at once; 3 times a reply could not be
    // sent whole, ..." (no such clause: never); in Chinese "epoll 服务了 24 个连接，同时打开的
    // 最多 20 个；有 3 次回复没能一次发完，...".
    let epoll_closing = run.says_in_step(6).find(|(e, text)| {
        e.name == "epoll" && (text.starts_with("epoll served") || text.starts_with("epoll 服务了"))
    });
    if let Some((_, text)) = epoll_closing {
        let kept = number_after(text, "open at once;")
            .or_else(|| number_after(text, "个；有"))
            .unwrap_or(0);
        found.push(measured(
            6,
            "replies the epoll server could not send whole",
            kept,
        ));
    }

    // "poll: processes 1, threads 1, ...; held connections answered 20/20"
    let rows: Vec<i64> = run
        .numbers_said(7, &["held connections answered", "得到回答的有"])
        .map(|(_, answered)| answered)
        .collect();
    if !rows.is_empty() {
        let all_answered = rows.iter().filter(|&&answered| answered == HELD).count();
        found.push(measured(
            7,
            "servers that answered every held connection",
            all_answered,
        ));
    }
    found
}
