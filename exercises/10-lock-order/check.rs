//! Exercise 10's judge: the two locks taken in one order. Judged from the threads' futex
//! waits, which is where a Python `Lock` and a Rust `Mutex` sleep: the program must end by
//! itself, and no thread may have given up a long futex wait (a lock's `timeout`) while
//! another thread waited on another lock: both mean two threads waited on each other's lock.

use crate::exercise::prelude::*;

/// A futex wait this long is a lock's, not the interpreter's own handing over of the GIL
/// (which waits 5 ms at a time).
const LOCK_WAIT: f64 = 0.05;

pub fn check(judge: &mut Judge) -> Result<Verdict> {
    let run = judge.run(Scenario::new())?;
    if let Ending::TimedOut { after } = run.ending {
        // The threads other than the main one, stuck on different futexes when it was stopped.
        let stuck: Vec<&WaitSpan> = run
            .waiting_at(run.last)
            .into_iter()
            .filter(|w| w.on == "futex" && w.tid != w.pid)
            .collect();
        let mut objects: Vec<&str> = stuck.iter().map(|w| w.object.as_str()).collect();
        objects.sort();
        objects.dedup();
        if objects.len() >= 2 {
            let who: Vec<String> = stuck
                .iter()
                .map(|w| {
                    let (tid, who, object, since) = (w.tid, &w.who, &w.object, w.began);
                    text!(
                        en: "{tid} ({who}) on {object} since {since:.2} s",
                        zh: "{tid}（{who}）自 {since:.2} 秒起等 {object}",
                    )
                })
                .collect();
            let (who, busy) = (list_of(&who), run.busy_note());
            return Ok(Verdict::fail(text!(
                en: "a deadlock: the program was still running after {after} s with threads \
                     waiting on {locks} different locks (futexes) and none waking: {who}; it was \
                     stopped{busy}",
                zh: "死锁：程序运行 {after} 秒后仍未结束，线程在 {locks} 把不同的锁 (futex) 上等待，\
                     没有一个醒来：{who}；已被停止{busy}",
                locks = objects.len(),
            ))
            .hint(2)
            .shown_in_step(4));
        }
    }
    if let Some(stopped) = run.stopped(1, 4) {
        return Ok(stopped);
    }
    if let Some(failed) = run.failed(1, 4) {
        return Ok(failed);
    }
    if run.threads.len() < 4 {
        let n = run.threads.len();
        return Ok(Verdict::fail(text!(
            en: "the program started {n} thread(s), not 4",
            zh: "程序启动了 {n} 个线程，而不是 4 个",
        ))
        .hint(3)
        .shown_in_step(5));
    }
    // A lock's wait given up (timed out) while another thread waited on another lock.
    for gave_up in run.waits.iter().filter(|w| {
        w.on == "futex"
            && matches!(w.ended, Some((end, Some(Ended::TimedOut))) if end - w.began >= LOCK_WAIT)
    }) {
        let end = gave_up.ended.map_or(run.last, |(t, _)| t);
        // (Not the main thread's: it waits on each thread's end, at `join` or at exit.)
        let other = run.waits.iter().find(|w| {
            w.on == "futex"
                && w.tid != gave_up.tid
                && w.tid != w.pid
                && w.object != gave_up.object
                && w.began < end
                && w.ended.is_none_or(|(t, _)| t > gave_up.began)
                && w.ended.is_none_or(|(t, _)| t - w.began >= LOCK_WAIT)
        });
        if let Some(other) = other {
            return Ok(Verdict::fail(text!(
                en: "thread {} ({}) gave up waiting on the lock at {} after {:.2} s (a timeout) \
                     while thread {} ({}) waited on the lock at {}: they waited on each other's \
                     lock, and the timeout only broke the deadlock, not its cycle",
                zh: "线程 {}（{}）在 {} 上等锁 {:.2} 秒后放弃（超时），同时线程 {}（{}）在 {} \
                     上等另一把锁：它们在互相等待对方的锁，超时只是打断了死锁，没有消除环",
                gave_up.tid,
                gave_up.who,
                gave_up.object,
                end - gave_up.began,
                other.tid,
                other.who,
                other.object,
            ))
            .hint(2)
            .shown_in_step(5));
        }
    }
    let lock_waits: Vec<&WaitSpan> = run
        .waits
        .iter()
        .filter(|w| w.on == "futex" && w.tid != w.pid)
        .filter(|w| w.ended.is_some_and(|(t, _)| t - w.began >= LOCK_WAIT))
        .collect();
    let n = run.threads.len();
    let waits = lock_waits.len();
    let longest = lock_waits
        .iter()
        .map(|w| w.ended.map_or(0.0, |(t, _)| t - w.began))
        .fold(0.0, f64::max);
    let top = run
        .program()
        .map_or(0.0, |p| p.ended.map_or(run.last, |(t, _)| t));
    Ok(Verdict::pass(text!(
        en: "the program ended at {top:.2} s; its {n} threads waited for a lock {waits} time(s) \
             (the longest {longest:.2} s), each wait ended with the lock, and none gave up",
        zh: "程序在 {top:.2} 秒结束；它的 {n} 个线程等锁 {waits} 次（最长 {longest:.2} 秒），\
             每次都等到了锁，没有一次放弃",
    )))
}
