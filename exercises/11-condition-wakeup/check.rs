//! Exercise 11's judge: the eater eats every 包子 once and stops at the None, though the first
//! 包子 was on the shelf before it ever waited. Judged from the trace: the program must end by
//! itself (a missed wake-up leaves the eater asleep in `futex` for ever, and the lab then says
//! since when, and when the cook had ended); what was eaten is read from the lines the eating
//! thread itself wrote, not from anything the main thread prints.

use crate::exercise::prelude::*;

/// How many 包子 the lab asks for: not the starter's 5.
const ITEMS: usize = 6;

pub fn check(judge: &mut Judge) -> Result<Verdict> {
    let run = judge.run(Scenario::new().env("PROCLAB_ITEMS", ITEMS))?;
    let eaten = eaten(&run);
    if let Ending::TimedOut { after } = run.ending {
        return Ok(asleep(&run, after, &eaten));
    }
    if let Some(stopped) = run.stopped(1, 4) {
        return Ok(stopped);
    }
    if let Some(failed) = run.failed(3, 5) {
        return Ok(failed);
    }
    let mut wrong = Vec::new();
    for item in 0..ITEMS {
        let times = eaten.iter().filter(|e| e.item == item).count();
        match times {
            1 => {}
            0 => wrong.push(text!(en: "包子{item} was never eaten", zh: "包子{item} 没被吃")),
            n => wrong
                .push(text!(en: "包子{item} was eaten {n} times", zh: "包子{item} 被吃了 {n} 次")),
        }
    }
    if eaten.iter().any(|e| e.item >= ITEMS) {
        wrong.push(text!(
            en: "a 包子 was eaten that the cook never made (the lab asked for {ITEMS}, PROCLAB_ITEMS)",
            zh: "吃了厨师没做过的包子（实验室要的是 {ITEMS} 个，PROCLAB_ITEMS）",
        ));
    }
    if !wrong.is_empty() {
        let wrong = wrong.join(&text!(en: "; ", zh: "；"));
        return Ok(Verdict::fail(text!(
            en: "the program ended, but {wrong} (read from the lines the eating thread wrote)",
            zh: "程序结束了，但{wrong}（从吃包子的线程自己写出的行里读的）",
        ))
        .hint(2)
        .shown_in_step(5));
    }
    let eater = eaten.first().map_or(String::new(), |e| e.who.clone());
    let wakes = eater_wakes(&run, eaten.first().map_or(0, |e| e.tid));
    Ok(Verdict::pass(text!(
        en: "thread {eater} ate all {ITEMS} 包子, each once, and the program ended by itself \
             (the eater waited in futex {wakes} time(s) in all)",
        zh: "线程 {eater} 把 {ITEMS} 个包子都吃了，每个一次，程序自己结束了（吃货一共在 futex \
             里等了 {wakes} 次）",
    )))
}

/// One 包子 the eating thread wrote that it ate.
struct Eaten {
    item: usize,
    tid: i32,
    /// "name (tid)" of the thread.
    who: String,
}

/// Every 包子 a thread other than a process's main thread wrote that it ate.
fn eaten(run: &Evidence) -> Vec<Eaten> {
    let mut eaten = Vec::new();
    for said in run.said.iter().filter(|s| s.tid != s.pid) {
        let thread = run
            .threads
            .iter()
            .find(|t| t.tid == said.tid && !t.name.is_empty())
            .map_or(text!(en: "{} thread", zh: "{} 线程", said.name), |t| {
                t.name.clone()
            });
        for (at, _) in said.text.match_indices("包子") {
            let digits: String = said.text[at + "包子".len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if let Ok(item) = digits.parse() {
                eaten.push(Eaten {
                    item,
                    tid: said.tid,
                    who: format!("{thread} ({})", said.tid),
                });
            }
        }
    }
    eaten
}

/// How many times thread `tid` slept in futex (a wait on the condition, or on its lock).
fn eater_wakes(run: &Evidence, tid: i32) -> usize {
    run.waits
        .iter()
        .filter(|w| w.tid == tid && w.on == "futex")
        .count()
}

/// The time limit came: who was asleep since when, and whether anyone was left to wake it.
fn asleep(run: &Evidence, after: f64, eaten: &[Eaten]) -> Verdict {
    let n = eaten.len();
    let open = run.waiting_at(run.last);
    let sleepers: Vec<String> = open
        .iter()
        .filter(|w| w.tid != w.pid && w.on == "futex")
        .map(|w| {
            let who = match w.who.contains('/') {
                true => w.who.clone(),
                false => text!(en: "{} thread", zh: "{} 线程", w.who),
            };
            format!("{who} ({}) {:.2} s", w.tid, w.began)
        })
        .collect();
    let ended: Vec<String> = run
        .threads
        .iter()
        .filter_map(|t| {
            let name = match t.name.is_empty() {
                true => text!(en: "thread", zh: "线程"),
                false => t.name.clone(),
            };
            t.ended.map(|end| format!("{name} ({}) {end:.2} s", t.tid))
        })
        .collect();
    let sleepers = match sleepers.is_empty() {
        true => run.describe_waits_at(run.last),
        false => text!(
            en: ": asleep in futex since: {}",
            zh: "：从这些时刻起在 futex 里睡着：{}",
            list_of(&sleepers)
        ),
    };
    let ended = match ended.is_empty() {
        true => String::new(),
        false => text!(
            en: "; threads that had ended (nobody left there to notify): {}",
            zh: "；已经结束的线程（它们不会再 notify 了）：{}",
            list_of(&ended)
        ),
    };
    Verdict::fail(text!(
        en: "the program was still running after {after} s{sleepers}{ended}; {n} of the {ITEMS} \
             包子 had been eaten. It was stopped: a wait for a notify that had already come, or \
             that nobody would send",
        zh: "程序运行 {after} 秒后仍未结束{sleepers}{ended}；{ITEMS} 个包子吃了 {n} 个。\
             已被停止：它在等一个已经来过、或者没人会再发的 notify",
    ))
    .hint(1)
    .shown_in_step(4)
}
