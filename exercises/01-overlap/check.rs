//! Exercise 1's judge: the three children overlap. Judged from the trace: each child's life
//! runs from its fork to its end as the kernel reported them; the three overlap when one
//! moment lies inside all three lives.

use crate::exercise::prelude::*;

pub fn check(judge: &mut Judge) -> Result<Verdict> {
    let run = judge.run(Scenario::new())?;
    if let Some(stopped) = run.stopped(2, 2) {
        return Ok(stopped);
    }
    if let Some(failed) = run.failed(1, 1) {
        return Ok(failed);
    }
    let children = run.workers();
    if children.len() != 3 {
        let n = children.len();
        return Ok(Verdict::fail(text!(
            en: "the program started {n} child process(es), not 3",
            zh: "程序启动了 {n} 个子进程，而不是 3 个",
        ))
        .hint(1)
        .shown_in_step(1));
    }
    // Each life: from the fork to the end (a child never seen to end lived to the last event).
    let lives: Vec<(f64, f64)> = children
        .iter()
        .map(|c| (c.spawned, c.ended.map_or(run.last, |(t, _)| t)))
        .collect();
    let described: Vec<String> = children
        .iter()
        .zip(&lives)
        .map(|(c, (from, to))| format!("{} ({}) {from:.2}–{to:.2} s", c.name, c.pid))
        .collect();
    let described = described.join(", ");
    let all_running_from = lives.iter().map(|l| l.0).fold(f64::MIN, f64::max);
    let all_running_until = lives.iter().map(|l| l.1).fold(f64::MAX, f64::min);
    let whole = lives.iter().map(|l| l.1).fold(f64::MIN, f64::max)
        - lives.iter().map(|l| l.0).fold(f64::MAX, f64::min);
    let longest = lives.iter().map(|l| l.1 - l.0).fold(0.0, f64::max);
    let sum: f64 = lives.iter().map(|l| l.1 - l.0).sum();
    if all_running_from < all_running_until {
        return Ok(Verdict::pass(text!(
            en: "the three children overlapped: {described}; all three were running from \
                 {all_running_from:.2} s to {all_running_until:.2} s, and the whole took \
                 {whole:.2} s, about the longest child's {longest:.2} s, not their sum {sum:.2} s",
            zh: "三个子进程重叠运行：{described}；从 {all_running_from:.2} 秒到 \
                 {all_running_until:.2} 秒三个都在运行，整体用时 {whole:.2} 秒，约等于最长的 \
                 {longest:.2} 秒，而不是总和 {sum:.2} 秒",
        )));
    }
    Ok(Verdict::fail(text!(
        en: "the three children were never all running at once: {described}; the whole took \
             {whole:.2} s, near their sum {sum:.2} s, not the longest {longest:.2} s",
        zh: "三个子进程从未同时运行：{described}；整体用时 {whole:.2} 秒，接近总和 {sum:.2} 秒，\
             而不是最长的 {longest:.2} 秒",
    ))
    .hint(2)
    .shown_in_step(2))
}
