//! Exercise 2's judge: the daemon lives until main's end and starts no child. Judged from the
//! trace: the process named `heartbeat`, the processes whose parent it was, and how it ended
//! (a daemon is terminated at its parent's end: exit code -15, `SIGTERM`).

use crate::exercise::prelude::*;

pub fn check(judge: &mut Judge) -> Result<Verdict> {
    let run = judge.run(Scenario::new())?;
    if let Some(stopped) = run.stopped(2, 1) {
        return Ok(stopped);
    }
    if let Some(failed) = run.failed(1, 2) {
        return Ok(failed);
    }
    let Some(heartbeat) = run.workers().into_iter().find(|p| p.name == "heartbeat") else {
        return Ok(Verdict::fail(text!(
            en: "no process named heartbeat ran (keep name='heartbeat')",
            zh: "没有名为 heartbeat 的进程运行（保留 name='heartbeat'）",
        ))
        .hint(1)
        .shown_in_step(1));
    };
    let pid = heartbeat.pid;
    let children = run.children_of(pid);
    if !children.is_empty() {
        let listed: Vec<String> = children
            .iter()
            .map(|c| format!("{} ({}) at {:.2} s", c.pid, c.name, c.spawned))
            .collect();
        let (n, listed) = (children.len(), list_of(&listed));
        return Ok(Verdict::fail(text!(
            en: "the daemon heartbeat ({pid}) started {n} child process(es): {listed}; a \
                 daemon's children are left orphans when its parent's end terminates it",
            zh: "守护进程 heartbeat（{pid}）启动了 {n} 个子进程：{listed}；父进程结束而终止守护\
                 进程时，这些子进程就成了孤儿",
        ))
        .hint(2)
        .shown_in_step(2));
    }
    let main_end = run
        .program()
        .and_then(|p| p.ended)
        .map_or(run.last, |(t, _)| t);
    match heartbeat.ended {
        Some((at, -15)) => {
            let threads = run.threads.iter().filter(|t| t.pid == pid).count();
            let from = heartbeat.spawned;
            Ok(Verdict::pass(text!(
                en: "the daemon heartbeat ({pid}) ran from {from:.2} s until main's end, \
                     started no child process ({threads} thread(s) wrote its log), and was \
                     terminated then (exit code -15 at {at:.2} s; main ended at {main_end:.2} s)",
                zh: "守护进程 heartbeat（{pid}）从 {from:.2} 秒一直运行到 main 结束，没有启动子\
                     进程（{threads} 个线程写了日志），并在那时被终止（{at:.2} 秒退出码 -15；main \
                     在 {main_end:.2} 秒结束）",
            )))
        }
        ended => {
            let (at, code) = ended.unwrap_or((run.last, 0));
            let code = describe_exitcode(code);
            let last: Vec<&str> = run
                .said
                .iter()
                .filter(|s| s.pid == pid)
                .map(|s| s.text.as_str())
                .collect();
            let last = last[last.len().saturating_sub(1)..].join(" / ");
            Ok(Verdict::fail(text!(
                en: "the daemon heartbeat ({pid}) ended on its own at {at:.2} s with exit code \
                     {code} (its last line: {last}), while main worked on until {main_end:.2} s",
                zh: "守护进程 heartbeat（{pid}）在 {at:.2} 秒自己结束了，退出码 {code}（它最后一行：\
                     {last}），而 main 一直工作到 {main_end:.2} 秒",
            ))
            .hint(1)
            .shown_in_step(2))
        }
    }
}
