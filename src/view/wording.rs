//! What each event says in words, as both human views show it: the lifecycle lines (forked,
//! started, reaped, waiting ...), how a run ended, and text cut to a width.

use unicode_width::UnicodeWidthChar;

use crate::i18n::{self, Lang};
use crate::runtime::event::{Event, Kind, describe_exitcode};
use crate::runtime::procfs::describe_state;
use crate::text;
use crate::view::notes;

/// The text of a lifecycle event: forked, started, reaped, waiting ...
pub fn lifecycle_text(event: &Event) -> String {
    // A task (a coroutine on an executor's thread), a thread, or a process.
    let actor = match (&event.task, event.tid, i18n::current()) {
        (Some(_), _, Lang::En) => Some("task"),
        (None, Some(_), Lang::En) => Some("thread"),
        (Some(_), _, Lang::Zh) => Some("任务"),
        (None, Some(_), Lang::Zh) => Some("线程"),
        (None, None, _) => None,
    };
    match &event.kind {
        Kind::Spawn { child, child_name } => text!(
            en: "forked child {child} ({child_name})",
            zh: "fork 出子进程 {child}（{child_name}）",
        ),
        Kind::Exec { args, .. } => {
            let args = args.join(" ");
            text!(en: "exec: now runs {args}", zh: "exec：现在运行 {args}")
        }
        Kind::Start => match actor {
            Some(actor) => text!(en: "{actor} started", zh: "{actor}开始运行"),
            None => text!(en: "started", zh: "开始运行"),
        },
        Kind::Done { code } if let Some(actor) = actor => {
            text!(en: "{actor} ends (code {code})", zh: "{actor}结束（返回 {code}）")
        }
        // `proclab trace` sees a death by signal N as the end of a process: code -N.
        Kind::Done { code } if *code < 0 => {
            let signal = crate::runtime::event::describe_exitcode(*code);
            text!(en: "killed by a signal: {signal}", zh: "被信号杀死：{signal}")
        }
        Kind::Done { code } => text!(
            en: "leaving with _exit({code})",
            zh: "调用 _exit({code}) 退出",
        ),
        Kind::Exit {
            child,
            exitcode,
            is_thread: true,
        } => text!(
            en: "joined thread {child}: code {exitcode}",
            zh: "join 了线程 {child}：返回 {exitcode}",
        ),
        Kind::Exit {
            child, exitcode, ..
        } => {
            let code = describe_exitcode(*exitcode);
            text!(
                en: "reaped {child}: exitcode {code}",
                zh: "回收了子进程 {child}：退出码 {code}",
            )
        }
        Kind::State { of, state, ppid_of } => match (state.chars().next(), ppid_of) {
            (Some(letter), Some(ppid)) if state != "gone" => {
                let meaning = describe_state(letter);
                text!(
                    en: "/proc/{of}/stat: state {state} ({meaning}), parent {ppid}",
                    zh: "/proc/{of}/stat：状态 {state}（{meaning}），父进程 {ppid}",
                )
            }
            _ => text!(
                en: "/proc/{of}: gone (no such process any more)",
                zh: "/proc/{of}：已消失（这个进程已不存在）",
            ),
        },
        Kind::Wait { on, object } => text!(en: "waits: {on} {object}", zh: "等待：{on} {object}"),
        Kind::Woke {
            on,
            object,
            after,
            got,
            ended,
        } => {
            use crate::runtime::event::Ended;
            // A recording from before `ended` existed says only got or not.
            let how = match (ended, *got, i18n::current()) {
                (Some(Ended::Got), _, Lang::En) | (None, true, Lang::En) => "got it",
                (Some(Ended::EndOfFile), _, Lang::En) => "end of file (the other end closed)",
                (Some(Ended::TimedOut), _, Lang::En) => "gave up (timed out)",
                (Some(Ended::Interrupted), _, Lang::En) => "interrupted by a signal",
                (Some(Ended::Error), _, Lang::En) => "the call failed",
                (None, false, Lang::En) => "gave up",
                (Some(Ended::Got), _, Lang::Zh) | (None, true, Lang::Zh) => "已拿到",
                (Some(Ended::EndOfFile), _, Lang::Zh) => "读到文件结尾（对端已关闭）",
                (Some(Ended::TimedOut), _, Lang::Zh) => "超时放弃",
                (Some(Ended::Interrupted), _, Lang::Zh) => "被信号打断",
                (Some(Ended::Error), _, Lang::Zh) => "调用出错",
                (None, false, Lang::Zh) => "没有拿到",
            };
            let after = crate::lab::describe(std::time::Duration::from_secs_f64(*after));
            text!(
                en: "woke: {on} {object}, after {after}: {how}",
                zh: "醒来：{on} {object}，等待 {after}，{how}",
            )
        }
        Kind::Lesson { .. }
        | Kind::Trace { .. }
        | Kind::Sleep { .. }
        | Kind::Step { .. }
        | Kind::Pause { .. }
        | Kind::Say { .. }
        | Kind::Note { .. }
        | Kind::Error { .. }
        | Kind::End { .. }
        | Kind::Question { .. }
        | Kind::Answer { .. }
        | Kind::Predict { .. }
        | Kind::Outcome { .. }
        | Kind::Summary { .. } => unreachable!("said by the view itself, not as a lifecycle line"),
    }
}

/// How the run ended, in the language of the run: the `end` event's `outcome` is an English
/// word for tools (`finished`, `failed`, `interrupted`, `stopped`).
pub fn outcome_word(outcome: &str) -> String {
    let chinese = match outcome {
        "finished" => "完成",
        "failed" => "失败",
        "interrupted" => "被中断",
        "stopped" => "停止",
        other => other,
    };
    match i18n::current() {
        Lang::En => outcome.to_string(),
        Lang::Zh => chinese.to_string(),
    }
}

/// `text` cut to at most `columns` terminal columns.
pub fn clip(text: &str, columns: usize) -> String {
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let width = c.width().unwrap_or(0);
        if used + width > columns {
            break;
        }
        used += width;
        out.push(c);
    }
    out
}

/// `text` cut to `columns`, with `…` where it was cut.
pub fn clip_with_ellipsis(text: &str, columns: usize) -> String {
    if notes::display_width(text) <= columns {
        text.to_string()
    } else {
        format!("{}…", clip(text, columns.saturating_sub(1)))
    }
}
