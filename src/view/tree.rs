//! The process tree (who forked whom), with each process's threads and tasks and how each
//! ended; a crowd of alike ones folded to its first few, one counted line and its last. Built
//! as drawn lines, which both the line view and the full-screen view ink.

use crate::i18n::{self, Lang};
use crate::runtime::event::Actor;
use crate::runtime::event::describe_exitcode;
use crate::text;
use crate::view::lives::{Group, Life, Lives, Sort};
use crate::view::notes::{self};
use crate::view::theme::{Drawn, Paint, Piece};

/// The tree's title line and its lines, `width` columns wide; `fold` folds crowds.
pub fn tree(lives: &Lives, width: usize, fold: bool) -> Vec<Drawn> {
    let title = text!(
        en: "Process tree (who forked whom):",
        zh: "进程树（process tree，谁 fork 了谁）：",
    );
    let mut tree = Tree {
        lives,
        width,
        fold,
        lines: vec![vec![Piece::new(title, Paint::Bold)]],
    };
    if let Some(root) = lives.root() {
        tree.process(root, "", "");
    }
    tree.lines
}

struct Tree<'a> {
    lives: &'a Lives,
    width: usize,
    fold: bool,
    lines: Vec<Drawn>,
}

impl Tree<'_> {
    fn process(&mut self, pid: i32, lead: &str, branch: &str) {
        let lives = self.lives;
        let Some(life) = lives.process(pid) else {
            return;
        };
        let name = life.name.clone();
        self.lines.push(vec![
            Piece::new(format!("{lead}{branch}"), Paint::Plain),
            Piece::new(name.clone(), Paint::ProcessBold(name.clone())),
            Piece::new(" ", Paint::Plain),
            Piece::new(pid.to_string(), Paint::Process(name.clone())),
            Piece::new("  ", Paint::Plain),
            Piece::new(process_ending(life), Paint::Quiet),
        ]);
        let lead = format!(
            "{lead}{}",
            match branch {
                "" => "",
                "├─ " => "│  ",
                _ => "   ",
            }
        );
        let branches = self.branches(pid);
        for (i, under) in branches.iter().enumerate() {
            let branch = if i + 1 == branches.len() {
                "└─ "
            } else {
                "├─ "
            };
            match under {
                Branch::Thread(actor) => self.thread_line(actor, &lead, branch, &name),
                Branch::Child(child) => self.process(*child, &lead, branch),
                Branch::Folded(actors) => self.folded_line(actors, &lead, branch),
            }
        }
    }

    /// What the tree shows under process `pid`: its threads, then its children. Folding, a
    /// crowd is its first few, one line for the rest but the last, and its last: the class
    /// sees what one of them looks like, and how many there were.
    fn branches(&self, pid: i32) -> Vec<Branch> {
        let lives = self.lives;
        let threads = lives.thread_groups(pid).into_iter().map(|g| (g, true));
        let children = lives.child_groups(pid).into_iter().map(|g| (g, false));
        let one = |actor: Actor, is_thread: bool| match is_thread {
            true => Branch::Thread(actor),
            false => Branch::Child(actor.pid),
        };
        let mut branches = Vec::new();
        for (group, is_thread) in threads.chain(children) {
            match group {
                Group::One(actor) => branches.push(one(actor, is_thread)),
                Group::Crowd(mut actors) if self.fold => {
                    let last = actors.pop().expect("a crowd has more than one");
                    let folded = actors.split_off(SHOWN_OF_A_CROWD);
                    branches.extend(actors.into_iter().map(|a| one(a, is_thread)));
                    branches.push(Branch::Folded(folded));
                    branches.push(one(last, is_thread));
                }
                Group::Crowd(actors) => {
                    branches.extend(actors.into_iter().map(|a| one(a, is_thread)));
                }
            }
        }
        branches
    }

    fn thread_line(&mut self, actor: &Actor, lead: &str, branch: &str, process_name: &str) {
        let thread = self.lives.get(actor);
        let what = match (thread.sort, i18n::current()) {
            (Sort::Task, Lang::En) => "task",
            (Sort::Thread | Sort::Process, Lang::En) => "thread",
            (Sort::Task, Lang::Zh) => "任务",
            (Sort::Thread | Sort::Process, Lang::Zh) => "线程",
        };
        let id = actor
            .tid
            .map_or(String::new(), |tid| format!(" (tid {tid})"));
        let process = Paint::Process(process_name.to_string());
        self.lines.push(vec![
            Piece::new(format!("{lead}{branch}{what} "), Paint::Plain),
            Piece::new(thread.name.clone(), process.clone()),
            Piece::new(id, process),
            Piece::new("  ", Paint::Plain),
            Piece::new(thread_ending(thread), Paint::Quiet),
        ]);
    }

    /// The line that stands for the folded part of a crowd: how many, their names and ids,
    /// and how each of them ended, counted. Nothing is hidden without being counted here.
    fn folded_line(&mut self, actors: &[Actor], lead: &str, branch: &str) {
        let lives = self.lives;
        let Some(first) = actors.first() else {
            return;
        };
        let sort = lives.get(first).sort;
        let (what, ids): (String, Vec<i32>) = match sort {
            Sort::Process => (
                text!(en: "", zh: "进程 "),
                actors.iter().map(|a| a.pid).collect(),
            ),
            Sort::Thread => (
                text!(en: "threads ", zh: "线程 "),
                actors.iter().filter_map(|a| a.tid).collect(),
            ),
            Sort::Task => (text!(en: "tasks ", zh: "任务 "), Vec::new()),
        };
        let ids = match (ids.iter().min(), ids.iter().max()) {
            (Some(low), Some(high)) if low != high => {
                // Chinese has no plural: pid 5755..5984.
                let kind = match (sort == Sort::Process, i18n::current()) {
                    (true, Lang::En) => "pids",
                    (false, Lang::En) => "tids",
                    (true, Lang::Zh) => "pid",
                    (false, Lang::Zh) => "tid",
                };
                text!(en: ", {kind} {low}..{high}", zh: "，{kind} {low}..{high}")
            }
            (Some(only), _) => {
                let kind = if sort == Sort::Process { "pid" } else { "tid" };
                text!(en: ", {kind} {only}", zh: "，{kind} {only}")
            }
            _ => String::new(),
        };
        let endings: Vec<String> = actors
            .iter()
            .map(|actor| {
                let life = lives.get(actor);
                match life.sort {
                    Sort::Process => process_ending(life),
                    Sort::Thread | Sort::Task => thread_ending(life),
                }
            })
            .collect();
        let (more, names, endings) = (actors.len(), lives.name_range(actors), tally(&endings));
        let text = text!(
            en: "… {more} more {what}{names}{ids}: {endings}",
            zh: "… 还有 {more} 个{what}{names}{ids}：{endings}",
        );
        // Wrapped under its branch, the tree's line going on beside it to the crowd's last.
        let room = self
            .width
            .saturating_sub(notes::display_width(lead) + 3)
            .max(20);
        for (i, line) in notes::plain_lines(&text, room).iter().enumerate() {
            let branch = match (i, branch) {
                (0, _) => branch,
                (_, "└─ ") => "   ",
                _ => "│  ",
            };
            self.lines.push(vec![
                Piece::new(format!("{lead}{branch}"), Paint::Plain),
                Piece::new(line.clone(), Paint::Quiet),
            ]);
        }
    }
}

/// How many of a folded crowd the tree still shows before its folded line (and its last one
/// after it).
const SHOWN_OF_A_CROWD: usize = 3;

/// One line (or subtree) under a process in the tree.
enum Branch {
    Thread(Actor),
    Child(i32),
    /// The middle of a crowd, shown as one line that counts it.
    Folded(Vec<Actor>),
}

/// How a process ended, as the tree says it.
fn process_ending(life: &Life) -> String {
    match (life.exitcode, life.reaped_by) {
        (Some(code), Some(reaper)) if Some(reaper) != life.parent => {
            let code = describe_exitcode(code);
            text!(
                en: "exit {code} (orphan, reaped by {reaper})",
                zh: "退出码 {code}（孤儿进程，由 {reaper} 回收）",
            )
        }
        (Some(code), _) => {
            let code = describe_exitcode(code);
            text!(en: "exit {code}", zh: "退出码 {code}")
        }
        (None, _) if life.parent.is_none() => text!(en: "(the lab itself)", zh: "（proclab 本身）"),
        // The tree of a run still under way (the lab screen's `t`) has processes that run:
        // nothing ended them, so "never reaped" would say what has not happened.
        (None, _) if life.done.is_none() => text!(en: "not reaped (yet)", zh: "（还）未被回收"),
        (None, _) => text!(en: "ended, never reaped", zh: "已结束，从未被回收"),
    }
}

/// How a thread (or task) ended, as the tree says it.
fn thread_ending(thread: &Life) -> String {
    match (thread.exitcode, thread.reaped) {
        (Some(code), Some(_)) => {
            let code = describe_exitcode(code);
            text!(en: "joined, {code}", zh: "已被 join，返回 {code}")
        }
        // A task is not joined: it ends, and its executor moves on.
        _ if thread.done.is_some() && thread.sort == Sort::Task => {
            text!(en: "ended", zh: "已结束")
        }
        _ if thread.done.is_some() => text!(en: "ended, not joined", zh: "已结束，没有被 join"),
        _ => text!(
            en: "still running when the process ended",
            zh: "进程结束时仍在运行",
        ),
    }
}

/// Counts each distinct text, most common first: `all exit 0`, or `148 exit 0, 2 exit 1`.
fn tally(texts: &[String]) -> String {
    let mut counted: Vec<(&str, usize)> = Vec::new();
    for text in texts {
        match counted.iter_mut().find(|(seen, _)| seen == text) {
            Some((_, count)) => *count += 1,
            None => counted.push((text, 1)),
        }
    }
    if let [(only, _)] = counted[..] {
        return text!(en: "all {only}", zh: "全部{only}");
    }
    // Stable: among equal counts, the first seen comes first.
    counted.sort_by_key(|&(_, count)| std::cmp::Reverse(count));
    let separator = match i18n::current() {
        Lang::En if texts.iter().any(|t| t.contains(',')) => "; ",
        Lang::En => ", ",
        // Chinese lists with 、 and sets apart items that hold a comma with ；.
        Lang::Zh if texts.iter().any(|t| t.contains('，')) => "；",
        Lang::Zh => "、",
    };
    counted
        .iter()
        .map(|(text, count)| text!(en: "{count} {text}", zh: "{count} 个{text}"))
        .collect::<Vec<_>>()
        .join(separator)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tally_counts_each_ending_most_common_first() {
        let texts = |list: &[&str]| list.iter().map(|t| t.to_string()).collect::<Vec<_>>();
        assert_eq!(tally(&texts(&["exit 0", "exit 0"])), "all exit 0");
        assert_eq!(
            tally(&texts(&[
                "exit 1",
                "exit 0",
                "exit 0",
                "exit -15 (SIGTERM)"
            ])),
            "2 exit 0, 1 exit 1, 1 exit -15 (SIGTERM)"
        );
        assert_eq!(
            tally(&texts(&["joined, 0", "joined, 1", "joined, 0"])),
            "2 joined, 0; 1 joined, 1",
            "texts with commas are kept apart by semicolons"
        );
    }

    #[test]
    fn a_process_still_running_is_not_said_never_reaped() {
        use crate::runtime::event::{Event, Kind};
        let event = |t: f64, name: &str, pid: i32, ppid: i32, kind: Kind| Event {
            t,
            pid,
            ppid,
            tid: None,
            name: name.into(),
            thread: None,
            task: None,
            kind,
        };
        let spawn = |child: i32, child_name: &str| Kind::Spawn {
            child,
            child_name: child_name.into(),
        };
        let mut events = vec![
            event(0.0, "proclab", 1, 0, spawn(10, "main")),
            event(0.0, "main", 10, 1, Kind::Start),
            event(0.1, "main", 10, 1, spawn(11, "alex")),
            event(0.1, "alex", 11, 10, Kind::Start),
        ];
        let lines = |events: &[Event]| -> String {
            tree(&Lives::from_events(events), 80, false)
                .iter()
                .map(|line| crate::view::theme::text_of(line))
                .collect::<Vec<_>>()
                .join("\n")
        };
        let running = lines(&events);
        assert!(!running.contains("never reaped"), "{running}");
        assert!(running.contains("alex 11  not reaped (yet)"), "{running}");
        events.push(event(0.2, "alex", 11, 10, Kind::Done { code: 0 }));
        let ended = lines(&events);
        assert!(ended.contains("alex 11  ended, never reaped"), "{ended}");
    }
}
