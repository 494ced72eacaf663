//! Exercise 4's judge: exactly one ticket sold, in each of 20 seeded rounds. A round's sales
//! are the buyer processes (their pids from the trace) that said 购票成功; the program's own
//! totals are not read. The first round that sold other than one is the verdict.

use crate::exercise::prelude::*;

/// The rounds, each with its seed (`PROCLAB_SEED`), so that a failing round can be replayed.
const ROUNDS: u64 = 20;

pub fn check(judge: &mut Judge) -> Result<Verdict> {
    let mut sold_at = Vec::new();
    for seed in 1..=ROUNDS {
        let run = judge.run(Scenario::new().env("PROCLAB_SEED", seed))?;
        let in_round = |verdict: Verdict| {
            let why = verdict.why.clone();
            Verdict {
                why: text!(en: "round {seed} (seed {seed}): {why}", zh: "第 {seed} 轮（种子 {seed}）：{why}"),
                ..verdict
            }
        };
        if let Some(stopped) = run.stopped(2, 2) {
            return Ok(in_round(stopped));
        }
        if let Some(failed) = run.failed(2, 2) {
            return Ok(in_round(failed));
        }
        let mut buyers: Vec<(i32, f64)> = run
            .said
            .iter()
            .filter(|s| s.text.contains("购票成功"))
            .filter(|s| run.workers().iter().any(|w| w.pid == s.pid))
            .map(|s| (s.pid, s.t))
            .collect();
        buyers.dedup_by_key(|(pid, _)| *pid);
        if buyers.len() != 1 {
            let n = buyers.len();
            let who: Vec<String> = buyers
                .iter()
                .map(|(pid, t)| format!("{pid} ({t:.2} s)"))
                .collect();
            let who = match who.is_empty() {
                true => text!(en: "no buyer said 购票成功", zh: "没有买家说「购票成功」"),
                false => {
                    text!(en: "buyers {} each said 购票成功", zh: "买家 {} 各自说了「购票成功」", list_of(&who))
                }
            };
            return Ok(Verdict::fail(text!(
                en: "sold {n} tickets in round {seed} (seed {seed}) of {ROUNDS}, with one in \
                     db.json: {who}; replay it with PROCLAB_SEED={seed} python3 yourfile.py",
                zh: "第 {seed} 轮（种子 {seed}，共 {ROUNDS} 轮）卖出了 {n} 张票，而 db.json 里只有一张：\
                     {who}；用 PROCLAB_SEED={seed} python3 你的文件.py 重现",
            ))
            .hint(if n > 1 { 1 } else { 3 })
            .shown_in_step(if n > 1 { 1 } else { 2 }));
        }
        sold_at.push(buyers[0].1);
    }
    let (first, last) = (
        sold_at.iter().copied().fold(f64::MAX, f64::min),
        sold_at.iter().copied().fold(0.0, f64::max),
    );
    Ok(Verdict::pass(text!(
        en: "exactly one ticket sold in each of the {ROUNDS} rounds (seeds 1 to {ROUNDS}): one \
             buyer process said 购票成功 each time, from {first:.2} s to {last:.2} s into its round",
        zh: "{ROUNDS} 轮（种子 1 到 {ROUNDS}）每轮恰好卖出一张票：每次只有一个买家进程说「购票成功」，\
             在该轮开始后 {first:.2} 到 {last:.2} 秒之间",
    )))
}
