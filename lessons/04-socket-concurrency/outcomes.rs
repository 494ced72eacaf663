//! What lesson 4 measures in a run, read from its events (for `--repeat` and `--predict`).
//!
//! - Step 1: which process forked the handlers (the parent of every handler process).
//! - Step 2: how many clients were connected while the iterative server still talked to the
//!   first (their "connected from" lines before the server's first "closed the connection").
//! - Step 3: how many zombie children the server that never reaps found in /proc (the `state`
//!   events it emitted for them, all in state `Z`).
//! - Step 4: whether alex saw the end of the conversation while the main process still held
//!   its copy of the connection (alex's own lines).
//! - Step 5: what the bind without `SO_REUSEADDR` did while the port was in `TIME_WAIT`.
//! - Step 6: what the bind with `SO_REUSEADDR` did while the tutorial's handler kept the
//!   listening socket.
//! - Step 7: what alex's read after sending "b" returned.

use crate::outcomes::prelude::*;

pub fn measure(run: &Record) -> Vec<Measured> {
    let mut parents: Vec<String> = run
        .in_step(1)
        .filter(|e| matches!(&e.kind, Kind::Spawn { child_name, .. } if child_name == "handler"))
        .map(|e| e.name.clone())
        .collect();
    parents.dedup();
    let mut found = Vec::new();
    if !parents.is_empty() {
        found.push(measured(1, "the handlers' parent", parents.join(", ")));
    }

    // Step 2: the clients' "alex connected from ..." before "... closed the connection after".
    let first_closed = run
        .says_in_step(2)
        .find(|(e, text)| e.name == "server" && text.contains("closed the connection"));
    if let Some((closed, _)) = first_closed {
        let connected = run
            .says_in_step(2)
            .filter(|(e, text)| e.t < closed.t && text.contains(" connected from "))
            .count();
        found.push(measured(
            2,
            "clients connected while the first is served",
            connected,
        ));
    }

    // Step 3: the first server is the one that never reaps; it observes each zombie child.
    let never_reaps = run.in_step(3).find_map(|e| match &e.kind {
        Kind::Spawn { child, child_name } if child_name == "server" => Some(*child),
        _ => None,
    });
    if let Some(server) = never_reaps {
        let zombies = run
            .in_step(3)
            .filter(|e| e.pid == server)
            .filter(|e| matches!(&e.kind, Kind::State { state, .. } if state == "Z"))
            .count();
        found.push(measured(
            3,
            "zombies the server that never reaps counts",
            zombies,
        ));
    }

    // Step 4: alex's first line after its half-close.
    let alex_saw = run
        .says_in_step(4)
        .filter(|(e, _)| e.name == "alex")
        .find_map(|(_, text)| {
            if text.contains("the server ended the conversation") {
                Some("yes")
            } else if text.contains("no end of the conversation") {
                Some("no")
            } else {
                None
            }
        });
    if let Some(saw) = alex_saw {
        found.push(measured(
            4,
            "alex sees the end while the server keeps its copy",
            saw,
        ));
    }

    // Steps 5 and 6: "bind to 127.0.0.1:PORT with(out) SO_REUSEADDR: succeeded" or "failed ...".
    let bind = |text: &str| {
        if text.ends_with(": succeeded") {
            "it succeeds".to_string()
        } else if text.contains("EADDRINUSE") {
            "it fails with EADDRINUSE".to_string()
        } else {
            text.rsplit(": ").next().unwrap_or(text).to_string()
        }
    };
    if let Some((_, text)) = run
        .says_in_step(5)
        .find(|(_, text)| text.contains(" without SO_REUSEADDR: "))
    {
        found.push(measured(
            5,
            "bind without SO_REUSEADDR in TIME_WAIT",
            bind(text),
        ));
    }
    // The last bind with SO_REUSEADDR of step 6 is the one made beside tutorial-handler.
    if let Some((_, text)) = run
        .says_in_step(6)
        .filter(|(_, text)| text.contains(" with SO_REUSEADDR: "))
        .last()
    {
        found.push(measured(
            6,
            "bind with SO_REUSEADDR beside tutorial-handler",
            bind(text),
        ));
    }

    // Step 7: `alex sent 1 byte(s) "b" and got 477 byte(s) "AAAAAAAA..."`.
    if let Some((_, text)) = run
        .says_in_step(7)
        .find(|(e, text)| e.name == "alex" && text.starts_with("alex sent 1 byte(s) \"b\""))
    {
        let got = text.split(" and got ").nth(1).unwrap_or("");
        let read = if got == "1 byte(s) \"B\"" {
            "B alone".to_string()
        } else if got.contains("\"A") {
            "the rest of the previous reply".to_string()
        } else {
            got.to_string()
        };
        found.push(measured(7, "what the read for b returns", read));
    }
    found
}
