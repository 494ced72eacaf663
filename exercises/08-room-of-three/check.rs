//! Exercise 8's judge: at most three visitors in the room at any moment, and three at some
//! moment. "Inside" is a visitor's stay, its `time.sleep` (`thread::sleep` in Rust), which the
//! tracer sees as a `clock_nanosleep` from its start to its return: the kernel's account, not
//! the visitors' own "is in the room" lines. The tracer stamps a sleep's end before the visitor
//! may go on to release its place, and the next visitor's sleep after it got the place, so two
//! stays that follow each other through the semaphore never seem to overlap.

use crate::exercise::prelude::*;

const VISITORS: usize = 7;
const PLACES: usize = 3;

/// One visitor's stay in the room: a sleep, from its start to its end.
struct Stay {
    who: String,
    tid: i32,
    from: f64,
    to: f64,
}

pub fn check(judge: &mut Judge) -> Result<Verdict> {
    let run = judge.run(Scenario::new())?;
    if let Some(stopped) = run.stopped(1, 1) {
        return Ok(stopped);
    }
    if let Some(failed) = run.failed(1, 1) {
        return Ok(failed);
    }
    // Every sleep but the first process's main thread's: the visitors are processes (Python)
    // or threads (Rust), and main only starts and joins them.
    let main = run.program().map_or(0, |p| p.pid);
    let stays: Vec<Stay> = run
        .waits
        .iter()
        .filter(|w| w.on == "sleep" && w.tid != main)
        .filter_map(|w| {
            w.ended.map(|(to, _)| Stay {
                who: who(w),
                tid: w.tid,
                from: w.began,
                to,
            })
        })
        .collect();
    let n = stays.len();
    if n != VISITORS {
        return Ok(Verdict::fail(text!(
            en: "the lab saw {n} stays in the room (sleeps of the visitors), not {VISITORS}: \
                 each visitor stays once, with one sleep",
            zh: "实验室看到屋里有 {n} 次停留（访客的睡眠），而不是 {VISITORS} 次：每个访客停留一次，\
                 睡一次",
        ))
        .hint(1)
        .shown_in_step(1));
    }
    let (most, at) = most_inside(&stays);
    let inside: Vec<String> = stays
        .iter()
        .filter(|s| s.from <= at && at < s.to)
        .map(|s| format!("{} ({}) {:.2}–{:.2} s", s.who, s.tid, s.from, s.to))
        .collect();
    let inside = list_of(&inside);
    if most > PLACES {
        return Ok(Verdict::fail(text!(
            en: "{most} visitors were inside at once at {at:.2} s: {inside} (each one's stay, as \
                 the kernel saw its sleep); the room has {PLACES} places",
            zh: "{at:.2} 秒时屋里同时有 {most} 个访客：{inside}（每个人的停留，即内核看到的睡眠）；\
                 屋里只有 {PLACES} 个位置",
        ))
        .hint(2)
        .shown_in_step(1));
    }
    if most < PLACES {
        return Ok(Verdict::fail(text!(
            en: "never more than {most} inside at once (the most at {at:.2} s: {inside}), though \
                 the room has {PLACES} places: the visitors waited when they need not",
            zh: "屋里同时最多只有 {most} 个人（最多时在 {at:.2} 秒：{inside}），可屋里有 \
                 {PLACES} 个位置：访客们在不必等的时候也等了",
        ))
        .hint(3)
        .shown_in_step(1));
    }
    Ok(Verdict::pass(text!(
        en: "never more than {PLACES} inside, and {PLACES} at once at {at:.2} s: {inside} \
             ({VISITORS} stays, each a sleep as the kernel saw it)",
        zh: "屋里从未超过 {PLACES} 人，{at:.2} 秒时正好 {PLACES} 人：{inside}（{VISITORS} 次停留，\
             每次都是内核看到的一次睡眠）",
    )))
}

/// "visitor-1" (a process, or a thread the trace knows by name), or "program thread 4131"
/// (a thread of a program that does not tell its threads' names to the tracer).
fn who(wait: &WaitSpan) -> String {
    match wait.tid != wait.pid && !wait.who.contains('/') {
        true => text!(en: "{} thread", zh: "{} 线程", wait.who),
        false => wait.who.clone(),
    }
}

/// The most stays under way at one moment, and the first moment it happened. A stay that ends
/// at the moment another begins does not overlap it.
fn most_inside(stays: &[Stay]) -> (usize, f64) {
    let mut changes: Vec<(f64, i32)> = Vec::new();
    for stay in stays {
        changes.push((stay.from, 1));
        changes.push((stay.to, -1));
    }
    // At the same time, an end before a start.
    changes.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let (mut now, mut most, mut at) = (0, 0, 0.0);
    for (t, change) in changes {
        now += change;
        if now > most {
            most = now;
            at = t;
        }
    }
    (most as usize, at)
}
