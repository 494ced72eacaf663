//! What lesson 7 measures in a run, read from its events (for `--repeat` and `--predict`).
//!
//! - Step 1: what adder's `recv()` got once main closed its end (adder's own last line).
//! - Step 2: whether c2 got the end of file as soon as the producer ended, or waited for
//!   nothing until main closed the copy it kept (c2's lines).
//! - Step 3: who held the write end that c3 waited on, as c3 read it from `/proc` (its
//!   line, pids named by the run's `spawn` events).
//! - Step 4: in how many of the rounds of large messages the stream was corrupted.

use crate::outcomes::prelude::*;

pub fn measure(run: &Record) -> Vec<Measured> {
    let mut found = Vec::new();

    // Step 1: adder says "adder: end of file, server done" when its recv() gives EOFError.
    if run
        .says_in_step(1)
        .any(|(_, text)| text == "adder: end of file, server done")
    {
        found.push(measured(
            1,
            "what adder's recv() got after main closed",
            "EOFError (end of file)",
        ));
    }

    // Step 2: c2 says "c2: nothing for ..." when it waited in vain, before its EOFError.
    let c2_eof = run
        .says_in_step(2)
        .find(|(_, text)| text.starts_with("c2: EOFError"));
    if let Some((eof, _)) = c2_eof {
        let waited = run
            .says_in_step(2)
            .any(|(e, text)| e.t < eof.t && waited_in_vain(text, "c2").is_some());
        let what = if waited {
            "it waits until main closes its copy"
        } else {
            "EOFError at once"
        };
        found.push(measured(2, "what c2 got after the third message", what));
    }

    // Step 3: "c3: nothing for 50 ms, and no end of file: the write end is open in pid(s) 123"
    if run
        .says_in_step(3)
        .any(|(_, text)| text.starts_with("c3: EOFError"))
    {
        let holders = run.says_in_step(3).find_map(|(_, text)| {
            let pids = waited_in_vain(text, "c3")?;
            Some(
                pids.split(", ")
                    .filter_map(|pid| pid.trim().parse::<i32>().ok())
                    .map(|pid| run.name_of(pid))
                    .collect::<Vec<String>>(),
            )
        });
        let what = match holders {
            None => "nobody: c3 gets EOFError at once".to_string(),
            Some(names) if names == ["c3"] => "c3 itself".to_string(),
            Some(names) => names.join(", "),
        };
        found.push(measured(3, "who holds the write end c3 waits on", what));
    }

    // Step 4: "round 2, messages of 100 KiB: 2 whole, 1 torn[, then a length read ...]", in
    // Chinese "第 2 轮，每条 100 KiB 的消息：2 条完整，1 条被撕碎[，接着 ...]".
    let rounds: Vec<bool> = run
        .says_in_step(4)
        .filter(|(_, text)| {
            (text.starts_with("round ") && text.contains("KiB:"))
                || (text.starts_with("第 ") && text.contains("KiB 的消息："))
        })
        .map(|(_, text)| {
            number_after(text, "whole,")
                .or_else(|| number_after(text, "条完整，"))
                .is_some_and(|torn| torn > 0)
                || text.contains("the stream is lost")
                || text.contains("这个流乱了")
        })
        .collect();
    if !rounds.is_empty() {
        let corrupted = rounds.iter().filter(|&&bad| bad).count();
        found.push(measured(4, "large rounds corrupted", corrupted));
    }
    found
}

/// The pids that held the write end when `reader` waited in vain, as it said them: "c3:
/// nothing for 50 ms, and no end of file: the write end is open in pid(s) 123", in Chinese
/// "c3：50 ms 内什么也没收到，也没有文件结尾：写端仍开在 pid 123 中".
fn waited_in_vain<'a>(text: &'a str, reader: &str) -> Option<&'a str> {
    if let Some(rest) = text.strip_prefix(&format!("{reader}: nothing for")) {
        return rest.split("pid(s) ").nth(1);
    }
    let rest = text.strip_prefix(&format!("{reader}："))?;
    rest.contains("什么也没收到")
        .then(|| rest.split("写端仍开在 pid ").nth(1))??
        .strip_suffix(" 中")
}
