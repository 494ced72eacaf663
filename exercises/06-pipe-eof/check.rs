//! Exercise 6's judge: the consumer gets its end of file. Judged from the trace (the
//! program ends; the consumer's last read on the pipe ended with end of file) and, when it
//! hangs, from `/proc`: near the time limit the lab reads which processes still hold the write
//! end of the pipe the consumer waits on, as lesson 7 step 3 does.

use crate::exercise::prelude::*;

/// What the lab found in `/proc` while the consumer waited: the pipe, and who held its write
/// end.
type Holders = Arc<Mutex<Option<(String, Vec<Pid>)>>>;

pub fn check(judge: &mut Judge) -> Result<Verdict> {
    let holders: Holders = Arc::new(Mutex::new(None));
    let found = holders.clone();
    let scenario = Scenario::new().driver(move |live| {
        // Near the limit, a program still running: who holds the write end of the pipe its
        // reader waits on. A program that ends leaves at once (no time left).
        while live.time_left() > Duration::from_millis(1200) {
            std::thread::sleep(Duration::from_millis(50));
        }
        if live.time_left().is_zero() {
            return;
        }
        let now = Evidence::from_events(live.events(), Ending::Exited(0));
        let waiting = now.waiting_at(now.last);
        // A worker's read: not Python's own helpers' (the resource tracker reads its pipe too).
        let workers: Vec<i32> = now.workers().iter().map(|p| p.pid).collect();
        if let Some(read) = waiting
            .iter()
            .find(|w| w.object.starts_with("pipe:") && workers.contains(&w.pid))
        {
            let holders = pipe_write_holders(&read.object);
            *found.lock().unwrap() = Some((read.object.clone(), holders));
        }
    });
    let run = judge.run(scenario)?;
    let found = holders.lock().unwrap().clone();
    if let (Ending::TimedOut { after }, Some((pipe, holders))) = (&run.ending, found)
        && let Some(read) = run
            .waiting_at(run.last)
            .into_iter()
            .find(|w| w.object == pipe)
    {
        let name_of = |pid: Pid| {
            run.processes
                .iter()
                .find(|p| p.pid == pid.as_raw())
                .map_or(String::from("?"), |p| p.name.clone())
        };
        let reader_holds = holders.iter().any(|pid| pid.as_raw() == read.pid);
        let holders: Vec<String> = holders
            .iter()
            .map(|pid| match pid.as_raw() == read.pid {
                true => text!(en: "{pid} ({}, the reader itself)", zh: "{pid}（{}，读者自己）", name_of(*pid)),
                false => format!("{pid} ({})", name_of(*pid)),
            })
            .collect();
        let holders = list_of(&holders);
        let (who, since, busy) = (&read.who, read.began, run.busy_note());
        let verdict = Verdict::fail(text!(
            en: "the consumer {who} ({}) was still waiting in {} on {pipe} after {after} s \
                 (since {since:.2} s): the pipe's write end was still open in {holders}, so no \
                 end of file could come; it was stopped{busy}",
            zh: "{after} 秒后消费者 {who}（{}）仍在 {pipe} 上 {} 等待（自 {since:.2} 秒起）：\
                 管道的写端仍在 {holders} 中打开，文件结束不可能到来；已被停止{busy}",
            read.pid,
            read.on,
        ));
        return Ok(match reader_holds {
            true => verdict.hint(2).shown_in_step(3),
            false => verdict.hint(1).shown_in_step(2),
        });
    }
    if let Some(stopped) = run.stopped(1, 3) {
        return Ok(stopped);
    }
    if let Some(failed) = run.failed(1, 2) {
        return Ok(failed);
    }
    let Some(reader) = run.workers().into_iter().next() else {
        return Ok(Verdict::fail(text!(
            en: "the program started no consumer process",
            zh: "程序没有启动消费者进程",
        ))
        .hint(1)
        .shown_in_step(1));
    };
    let (pid, name) = (reader.pid, &reader.name);
    let end_of_file = run.waits.iter().find(|w| {
        w.pid == reader.pid
            && w.object.starts_with("pipe:")
            && matches!(w.ended, Some((_, Some(Ended::EndOfFile))))
    });
    let ended = reader.ended.map_or(run.last, |(t, _)| t);
    Ok(Verdict::pass(match end_of_file {
        Some(read) => {
            let (pipe, at) = (&read.object, read.ended.map_or(0.0, |(t, _)| t));
            text!(
                en: "the consumer {name} ({pid}) read end of file on {pipe} at {at:.2} s, every \
                     write end closed, and ended at {ended:.2} s",
                zh: "消费者 {name}（{pid}）在 {at:.2} 秒于 {pipe} 上读到文件结束（所有写端都已关闭），\
                     并在 {ended:.2} 秒结束",
            )
        }
        None => text!(
            en: "the consumer {name} ({pid}) ended by itself at {ended:.2} s, and the program \
                 with it",
            zh: "消费者 {name}（{pid}）在 {ended:.2} 秒自行结束，程序也随之结束",
        ),
    }))
}
