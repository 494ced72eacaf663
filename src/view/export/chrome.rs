//! The run in the Chrome trace event format (the JSON object form), which Perfetto
//! (ui.perfetto.dev), `chrome://tracing` and other timeline viewers open.
//!
//! The format (Google's "Trace Event Format" document) is a list of events, each with a phase
//! `ph`, a process `pid`, a thread `tid` and a time `ts` in microseconds:
//! - `M` metadata names each process and thread (`process_name`, `thread_name`) and orders
//!   them (`process_sort_index`, `thread_sort_index`): here in the order of the tree;
//! - `X` a complete span with its duration `dur`: each stretch of running, of each wait
//!   (named by what it waits on) and of having ended unreaped, from the same model as every
//!   other picture; and each pause at a `--step` prompt, on a track of its own;
//! - `i` an instant: each `say` line and note (on its actor's track), each step (global);
//! - `s` and `f` a flow, drawn as an arrow: each fork from the parent's track to the child's,
//!   each thread's start from its process.
//!
//! Times stay real here, pauses included: a trace is for measuring, and a viewer zooms.
//! A process's main thread is its pid as tid, as the kernel numbers it; a task, which has no
//! thread of its own, gets a track numbered past any real tid.

use serde_json::{Value, json};

use crate::runtime::event::{Actor, Kind};
use crate::text;
use crate::view::export::{Run, doing_label};
use crate::view::lives::{Doing, Sort};

/// The tids given to tasks' tracks (and the prompts' track) begin here: above any pid Linux
/// hands out (at most 2^22).
const SYNTHETIC_TID: i64 = 1 << 30;

pub fn trace(run: &Run) -> String {
    let mut events: Vec<Value> = Vec::new();
    let track = |lane: usize| -> (i64, i64) {
        let actor = &run.lanes[lane].actor;
        let pid = actor.pid as i64;
        match (run.lanes[lane].sort, actor.tid) {
            (Sort::Process, _) => (pid, pid),
            (Sort::Thread, Some(tid)) => (pid, tid as i64),
            (Sort::Thread | Sort::Task, _) => (pid, SYNTHETIC_TID + lane as i64),
        }
    };
    let us = |t: f64| (t * 1e9).round() / 1e3;
    for (i, lane) in run.lanes.iter().enumerate() {
        let (pid, tid) = track(i);
        if lane.sort == Sort::Process {
            events.push(
                json!({"ph": "M", "name": "process_name", "pid": pid, "tid": pid,
                "args": {"name": lane.name}}),
            );
            events.push(
                json!({"ph": "M", "name": "process_sort_index", "pid": pid, "tid": pid,
                "args": {"sort_index": i}}),
            );
        }
        events.push(
            json!({"ph": "M", "name": "thread_name", "pid": pid, "tid": tid,
            "args": {"name": lane.name}}),
        );
        events.push(
            json!({"ph": "M", "name": "thread_sort_index", "pid": pid, "tid": tid,
            "args": {"sort_index": i}}),
        );
        for span in &lane.spans {
            let (name, args) = match &span.doing {
                Doing::Running => ("running".to_string(), json!({})),
                Doing::Waiting { on, object } => {
                    (format!("wait: {on}"), json!({"on": on, "object": object}))
                }
                Doing::Ended if lane.sort == Sort::Process => ("zombie".to_string(), json!({})),
                Doing::Ended => ("ended, not joined".to_string(), json!({})),
            };
            let mut args = args;
            args["state"] = json!(doing_label(&span.doing, lane.sort));
            events.push(json!({"ph": "X", "cat": "state", "name": name, "pid": pid,
                "tid": tid, "ts": us(span.from), "dur": us(span.until) - us(span.from),
                "args": args}));
        }
    }
    for (id, fork) in run.forks.iter().enumerate() {
        let (parent_pid, parent_tid) = track(fork.parent);
        let (child_pid, child_tid) = track(fork.child);
        let name = if fork.is_thread {
            "thread start"
        } else {
            "fork"
        };
        events.push(json!({"ph": "s", "cat": "fork", "name": name, "id": id,
            "pid": parent_pid, "tid": parent_tid, "ts": us(fork.at)}));
        events.push(
            json!({"ph": "f", "bp": "e", "cat": "fork", "name": name, "id": id,
            "pid": child_pid, "tid": child_tid, "ts": us(fork.started)}),
        );
    }
    for event in run.events {
        let lane = run.lane_of(&event.actor()).or_else(|| {
            // A line said by a thread the model never saw start: on its process's track.
            run.lane_of(&Actor::process(event.pid))
        });
        let Some(lane) = lane else { continue };
        let (pid, tid) = track(lane);
        let instant = |kind: &str, text: &str| {
            let name: String = text.chars().take(80).collect();
            json!({"ph": "i", "s": "t", "cat": kind, "name": name, "pid": pid, "tid": tid,
                "ts": us(event.t), "args": {"text": text}})
        };
        match &event.kind {
            Kind::Say { text } => events.push(instant("say", text)),
            Kind::Note { text } => events.push(instant("note", text)),
            Kind::Error { text } => events.push(instant("error", text)),
            Kind::Exec { program, args } => {
                let command = args.join(" ");
                let text = if command.is_empty() {
                    program.clone()
                } else {
                    command
                };
                events.push(instant("exec", &format!("exec {text}")));
            }
            Kind::Step { index, title } => {
                let name = text!(en: "Step {index}: {title}", zh: "第 {index} 步：{title}");
                events.push(json!({"ph": "i", "s": "g", "cat": "step", "name": name,
                    "pid": pid, "tid": tid, "ts": us(event.t)}));
            }
            Kind::Pause { seconds, .. } => {
                // On a track of its own, so that it never cuts across the process's spans.
                let prompts = SYNTHETIC_TID - 1;
                let name = text!(en: "pause at a --step prompt", zh: "在 --step 提示处的停顿");
                events.push(json!({"ph": "M", "name": "thread_name", "pid": pid,
                    "tid": prompts, "args": {"name": text!(en: "prompts", zh: "提示")}}));
                events.push(json!({"ph": "X", "cat": "pause", "name": name, "pid": pid,
                    "tid": prompts, "ts": us(event.t - seconds), "dur": us(*seconds)}));
            }
            // Drawn as spans and arrows above (the lifecycle, the waits), or no part of a
            // timeline.
            Kind::Lesson { .. }
            | Kind::Trace { .. }
            | Kind::Spawn { .. }
            | Kind::Start
            | Kind::Done { .. }
            | Kind::Exit { .. }
            | Kind::Wait { .. }
            | Kind::Woke { .. }
            | Kind::Sleep { .. }
            | Kind::State { .. }
            | Kind::End { .. }
            | Kind::Outcome { .. }
            | Kind::Summary { .. }
            | Kind::Question { .. }
            | Kind::Answer { .. }
            | Kind::Predict { .. } => {}
        }
    }
    let trace = json!({
        "traceEvents": events,
        "displayTimeUnit": "ms",
        "otherData": {"title": run.title, "generator": "proclab export"},
    });
    serde_json::to_string(&trace).expect("a trace always serializes")
}
