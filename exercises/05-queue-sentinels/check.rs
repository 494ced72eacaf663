//! Exercise 5's judge: every consumer ends by itself, and every 包子 is eaten exactly once.
//! Judged from the trace: a consumer is a process the program started (not Python's helpers),
//! or in Rust a thread; its end is the kernel's report to the tracer; what it ate is read from
//! the lines *that consumer* wrote (the tracer reads each `write` of the thread it stops), so a
//! line the main thread prints ("every consumer ended", "ok") counts for nothing.

use crate::exercise::prelude::*;

/// How many 包子 the lab asks for: not the starter's 12, so that a program which counts its
/// own way to 12 is caught.
const ITEMS: usize = 17;

pub fn check(judge: &mut Judge) -> Result<Verdict> {
    let run = judge.run(Scenario::new().env("PROCLAB_ITEMS", ITEMS))?;
    let consumers = consumers(&run);
    if matches!(run.ending, Ending::TimedOut { .. }) {
        return Ok(still_waiting(&run, &consumers));
    }
    if let Some(stopped) = run.stopped(1, 3) {
        return Ok(stopped);
    }
    if let Some(failed) = run.failed(1, 3) {
        return Ok(failed);
    }
    if consumers.is_empty() {
        return Ok(Verdict::fail(text!(
            en: "the program started no consumer (a process, or a thread in Rust)",
            zh: "程序没有启动消费者（进程，Rust 里是线程）",
        ))
        .hint(1)
        .shown_in_step(3));
    }
    // Each consumer must have ended by itself, with 0, not been killed (terminate()) or crashed.
    for consumer in &consumers {
        let (name, pid) = (&consumer.name, consumer.id);
        match consumer.ended {
            Some((_, 0)) => {}
            Some((t, code)) => {
                let code = crate::runtime::event::describe_exitcode(code);
                return Ok(Verdict::fail(text!(
                    en: "consumer {name} ({pid}) did not end by itself: it ended at {t:.2} s with \
                         exit code {code}",
                    zh: "消费者 {name}（{pid}）不是自己结束的：它在 {t:.2} 秒结束，退出码 {code}",
                ))
                .hint(2)
                .shown_in_step(3));
            }
            None => {
                return Ok(Verdict::fail(text!(
                    en: "consumer {name} ({pid}) was never seen to end",
                    zh: "没有看到消费者 {name}（{pid}）结束",
                ))
                .hint(1)
                .shown_in_step(3));
            }
        }
    }
    let eaten = eaten(&run, &consumers);
    let mut wrong = Vec::new();
    let mut never = Vec::new();
    for item in 0..ITEMS {
        let by: Vec<&Eaten> = eaten.iter().filter(|e| e.item == item).collect();
        match by.len() {
            1 => {}
            0 => never.push(format!("包子{item}")),
            n => {
                let who: Vec<String> = by
                    .iter()
                    .map(|e| format!("{} {:.2} s", e.by, e.t))
                    .collect();
                let who = list_of(&who);
                wrong.push(text!(
                    en: "包子{item} was eaten {n} times ({who})",
                    zh: "包子{item} 被吃了 {n} 次（{who}）",
                ));
            }
        }
    }
    if !never.is_empty() {
        let n = never.len();
        // The first few are enough to see which.
        let shown = match n > 5 {
            true => format!("{} …", never[..5].join(&text!(en: ", ", zh: "、"))),
            false => list_of(&never),
        };
        wrong.insert(
            0,
            text!(en: "{n} never eaten ({shown})", zh: "{n} 个没人吃（{shown}）"),
        );
    }
    let foreign = eaten.iter().filter(|e| e.item >= ITEMS).count();
    if foreign > 0 {
        wrong.push(text!(
            en: "{foreign} eaten that were never made (the lab asked for {ITEMS}, PROCLAB_ITEMS)",
            zh: "吃掉了 {foreign} 个根本没做过的包子（实验室要的是 {ITEMS} 个，PROCLAB_ITEMS）",
        ));
    }
    if !wrong.is_empty() {
        let wrong = wrong.join(&text!(en: "; ", zh: "；"));
        return Ok(Verdict::fail(text!(
            en: "every consumer ended, but not every 包子 was eaten exactly once: {wrong} \
                 (counted from the lines each consumer wrote)",
            zh: "每个消费者都结束了，但不是每个包子都恰好被吃了一次：{wrong}（从每个消费者\
                 自己写出的行里数的）",
        ))
        .hint(2)
        .shown_in_step(3));
    }
    let ends: Vec<String> = consumers
        .iter()
        .map(|c| {
            let (name, pid) = (&c.name, c.id);
            let share = eaten.iter().filter(|e| e.id == pid).count();
            let at = c.ended.map_or(0.0, |(t, _)| t);
            text!(
                en: "{name} ({pid}) ate {share} and ended at {at:.2} s",
                zh: "{name}（{pid}）吃了 {share} 个，在 {at:.2} 秒结束",
            )
        })
        .collect();
    let ends = list_of(&ends);
    let n = consumers.len();
    Ok(Verdict::pass(text!(
        en: "all {n} consumers ended by themselves, with 0: {ends}; each of the {ITEMS} 包子 was \
             eaten exactly once (counted from the lines each consumer wrote)",
        zh: "{n} 个消费者都自己结束了，退出码 0：{ends}；{ITEMS} 个包子每个恰好被吃了一次\
             （从每个消费者自己写出的行里数的）",
    )))
}

/// A consumer: a process the program started (Python), or a thread of its first process (Rust,
/// whose consumers share a channel's receiver).
struct Consumer {
    name: String,
    /// Its pid, or its thread id.
    id: i32,
    is_thread: bool,
    /// When it ended, and its exit code (a thread that ended: 0).
    ended: Option<(f64, i32)>,
}

impl Consumer {
    fn wrote(&self, said: &Said) -> bool {
        match self.is_thread {
            true => said.tid == self.id,
            false => said.pid == self.id,
        }
    }

    /// A wait of its own (a process's main thread's).
    fn waits_in(&self, wait: &WaitSpan) -> bool {
        wait.tid == self.id && (self.is_thread || wait.pid == self.id)
    }
}

fn consumers(run: &Evidence) -> Vec<Consumer> {
    let workers = run.workers();
    if !workers.is_empty() {
        return workers
            .iter()
            .map(|p| Consumer {
                name: p.name.clone(),
                id: p.pid,
                is_thread: false,
                ended: p.ended,
            })
            .collect();
    }
    let main = run.program().map_or(0, |p| p.pid);
    run.threads
        .iter()
        .filter(|t| t.pid == main)
        .map(|t| Consumer {
            name: match t.name.is_empty() {
                true => text!(en: "thread", zh: "线程"),
                false => t.name.clone(),
            },
            id: t.tid,
            is_thread: true,
            ended: t.ended.map(|at| (at, 0)),
        })
        .collect()
}

/// One 包子 a consumer wrote that it ate.
struct Eaten {
    item: usize,
    /// The consumer's pid or thread id.
    id: i32,
    /// "name (pid)" of the consumer.
    by: String,
    t: f64,
}

/// Every 包子 a consumer said it ate, read from that consumer's own lines.
fn eaten(run: &Evidence, consumers: &[Consumer]) -> Vec<Eaten> {
    let mut eaten = Vec::new();
    for said in &run.said {
        let Some(consumer) = consumers.iter().find(|c| c.wrote(said)) else {
            continue;
        };
        for (at, _) in said.text.match_indices("包子") {
            let digits: String = said.text[at + "包子".len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if let Ok(item) = digits.parse() {
                eaten.push(Eaten {
                    item,
                    id: consumer.id,
                    by: format!("{} ({})", consumer.name, consumer.id),
                    t: said.t,
                });
            }
        }
    }
    eaten
}

/// The time limit came: which consumers had not ended, and what each was waiting in.
fn still_waiting(run: &Evidence, consumers: &[Consumer]) -> Verdict {
    let after = match run.ending {
        Ending::TimedOut { after } => after,
        _ => run.last,
    };
    let open = run.waiting_at(run.last);
    let mut left = Vec::new();
    let mut ended = Vec::new();
    for c in consumers {
        match c.ended {
            Some((t, _)) => ended.push(format!("{} ({}) {t:.2} s", c.name, c.id)),
            None => {
                let (name, pid) = (&c.name, c.id);
                let waiting = open.iter().find(|w| c.waits_in(w));
                left.push(match waiting {
                    Some(w) => {
                        let (on, object, since) = (&w.on, &w.object, w.began);
                        text!(
                            en: "{name} ({pid}) waiting in {on} on {object} since {since:.2} s",
                            zh: "{name}（{pid}）自 {since:.2} 秒起在 {on}（{object}）上等待",
                        )
                    }
                    None => format!("{name} ({pid})"),
                });
            }
        }
    }
    if left.is_empty() {
        // Every consumer ended: the main process itself is stuck; say where.
        let waiting = run.describe_waits_at(run.last);
        return Verdict::fail(text!(
            en: "the program was still running after {after} s, though every consumer had \
                 ended{waiting}; it was stopped",
            zh: "程序运行 {after} 秒后仍未结束，虽然每个消费者都已结束{waiting}；已被停止",
        ))
        .hint(1)
        .shown_in_step(3);
    }
    let n = left.len();
    let left = left.join(&text!(en: "; ", zh: "；"));
    let ended = match ended.is_empty() {
        true => String::new(),
        false => text!(
            en: " (ended: {})",
            zh: "（已结束：{}）",
            list_of(&ended)
        ),
    };
    Verdict::fail(text!(
        en: "the program was still running after {after} s: {n} consumer(s) never ended, {left}, \
             each waiting for something to get{ended}; it was stopped. A consumer stops only \
             at a None",
        zh: "程序运行 {after} 秒后仍未结束：有 {n} 个消费者一直没结束，{left}，都在等着取东西\
             {ended}；已被停止。消费者只有取到 None 才会停",
    ))
    .hint(1)
    .shown_in_step(3)
}
