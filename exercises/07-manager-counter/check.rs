//! Exercise 7's judge: a hundred processes each take one from a Manager's count of 100, all
//! at once, and the count ends at exactly 0.
//!
//! What the lab can see and what it cannot. The processes, their ends and their exit codes
//! are the kernel's reports to the tracer; that all hundred were alive at one moment follows
//! from when each was forked and when it ended. The count itself lives in the manager's memory,
//! which the kernel knows nothing about: the lab names a file (PROCLAB_RESULT) and reads the
//! count the program wrote there, and the verdict says that this one number is the program's
//! own report. A line printed on standard output counts for nothing.

use crate::exercise::prelude::*;

/// The processes that each take one, and so the count the program starts from.
const PROCESSES: usize = 100;

pub fn check(judge: &mut Judge) -> Result<Verdict> {
    let result = judge.scratch()?.join("count.txt");
    let run = judge.run(Scenario::new().env("PROCLAB_RESULT", result.display()))?;
    let written = std::fs::read_to_string(&result);
    let _ = std::fs::remove_file(&result);
    if let Some(stopped) = run.stopped(1, 3) {
        return Ok(stopped);
    }
    if let Some(failed) = run.failed(1, 3) {
        return Ok(failed);
    }
    // The manager's server process is Python's own helper, not one of the hundred.
    let manager: Vec<&Life> = run
        .workers()
        .into_iter()
        .filter(|p| p.name.starts_with("SyncManager"))
        .collect();
    let takers: Vec<&Life> = run
        .workers()
        .into_iter()
        .filter(|p| !p.name.starts_with("SyncManager"))
        .collect();
    let n = takers.len();
    if n != PROCESSES {
        return Ok(Verdict::fail(text!(
            en: "the program started {n} process(es) besides the manager, not {PROCESSES}",
            zh: "除了 manager 之外，程序启动了 {n} 个进程，而不是 {PROCESSES} 个",
        ))
        .hint(1)
        .shown_in_step(3));
    }
    if let Some(bad) = takers.iter().find(|p| !matches!(p.ended, Some((_, 0)))) {
        let (name, pid) = (&bad.name, bad.pid);
        let how = match bad.ended {
            Some((t, code)) => {
                let code = crate::runtime::event::describe_exitcode(code);
                text!(en: "ended at {t:.2} s with exit code {code}", zh: "在 {t:.2} 秒结束，退出码 {code}")
            }
            None => text!(en: "was never seen to end", zh: "一直没有结束"),
        };
        return Ok(Verdict::fail(text!(
            en: "process {name} ({pid}) {how}: every one of the {PROCESSES} must do its part and end with 0",
            zh: "进程 {name}（{pid}）{how}：{PROCESSES} 个进程每个都要做完自己那一份，并以 0 退出",
        ))
        .hint(1)
        .shown_in_step(3));
    }
    // All alive at one moment: the last fork came before the first end.
    let last_forked = takers.iter().map(|p| p.spawned).fold(f64::MIN, f64::max);
    let first_ended = takers
        .iter()
        .filter_map(|p| p.ended.map(|(t, _)| t))
        .fold(f64::MAX, f64::min);
    if last_forked >= first_ended {
        return Ok(Verdict::fail(text!(
            en: "the {PROCESSES} processes were never all alive at once: the first ended at \
                 {first_ended:.2} s, before the last was started at {last_forked:.2} s. Start them \
                 all before any joins (the starter's Barrier does it), so that they really compete",
            zh: "{PROCESSES} 个进程从未同时存活：第一个在 {first_ended:.2} 秒就结束了，\
                 最后一个到 {last_forked:.2} 秒才启动。先把它们全部启动再 join（起始程序里的 \
                 Barrier 就是为此），让它们真正地竞争",
        ))
        .hint(1)
        .shown_in_step(3));
    }
    let Ok(written) = written else {
        let path = result.display();
        return Ok(Verdict::fail(text!(
            en: "all {PROCESSES} processes ended with 0, but the program wrote no count to the \
                 file named in PROCLAB_RESULT ({path})",
            zh: "{PROCESSES} 个进程都以 0 退出了，但程序没有把计数写进 PROCLAB_RESULT 指定的文件\
                 （{path}）",
        ))
        .hint(1)
        .shown_in_step(3));
    };
    let written = written.trim();
    let Ok(count) = written.parse::<i64>() else {
        return Ok(Verdict::fail(text!(
            en: "the file named in PROCLAB_RESULT should hold the count, a number; it holds {written:?}",
            zh: "PROCLAB_RESULT 指定的文件里应该是计数，一个数；可里面是 {written:?}",
        ))
        .hint(1)
        .shown_in_step(3));
    };
    let main = run.program().map_or(0, |p| p.pid);
    let manager = match manager.first() {
        Some(m) => format!(" {} ({})", m.name, m.pid),
        None => String::new(),
    };
    let seen = text!(
        en: "the lab saw {PROCESSES} processes started by pid {main}, each ending with 0, all \
             alive at once from {last_forked:.2} s to {first_ended:.2} s",
        zh: "实验室看到 pid {main} 启动了 {PROCESSES} 个进程，每个都以 0 退出，从 \
             {last_forked:.2} 秒到 {first_ended:.2} 秒全部同时存活",
    );
    let own_report = text!(
        en: "the count is the program's own report, read from the file named in PROCLAB_RESULT: \
             the manager{manager} keeps it in its memory, where the kernel does not look",
        zh: "计数是程序自己报告的，从 PROCLAB_RESULT 指定的文件里读出：它在 manager{manager} \
             的内存里，内核看不到",
    );
    if count > 0 {
        return Ok(Verdict::fail(text!(
            en: "the count ended at {count}, not 0: {count} of the {PROCESSES} takes were lost; \
                 {seen} ({own_report})",
            zh: "计数最后是 {count}，不是 0：{PROCESSES} 次减一丢了 {count} 次；{seen}（{own_report}）",
        ))
        .hint(2)
        .shown_in_step(3));
    }
    if count < 0 {
        return Ok(Verdict::fail(text!(
            en: "the count ended at {count}, below 0: more was taken than the {PROCESSES} \
                 processes each took once; {seen} ({own_report})",
            zh: "计数最后是 {count}，比 0 还小：减掉的比 {PROCESSES} 个进程各减一次还多；\
                 {seen}（{own_report}）",
        ))
        .hint(2)
        .shown_in_step(3));
    }
    Ok(Verdict::pass(text!(
        en: "the count ended at 0: {seen} ({own_report})",
        zh: "计数最后是 0：{seen}（{own_report}）",
    )))
}
