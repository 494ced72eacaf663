//! The timeline: one lane per process, thread or task, a column per slice of the run's work,
//! each cell what the actor was doing then (running, blocked, ended but not reaped); pauses
//! at prompts cut out. Built as drawn lines from the one model of the run (`lives.rs`), which
//! both the line view and the full-screen view ink.

use std::collections::HashMap;
use std::ops::Range;
use std::time::Duration;

use crate::i18n::{self, Lang};
use crate::runtime::event::Actor;
use crate::text;
use crate::view::lives::{Cell, Group, Life, Lives, Scale, Sort, family};
use crate::view::notes::{self, pad};
use crate::view::theme::{Drawn, Paint, Piece};
use crate::view::wording::clip;

/// The timeline's title, legend and lanes, `width` columns wide; `fold` draws a crowd of
/// alike actors as one lane.
pub fn timeline(lives: &Lives, width: usize, fold: bool) -> Vec<Drawn> {
    timeline_in(lives, width, fold, None)
}

/// A stretch of the run drawn at a zoom: `from` to `until` (seconds of the run) fill the
/// width at `zoom` 1; each doubling of `zoom` halves the time a column stands for, and `pan`
/// moves that many columns later.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    pub from: f64,
    pub until: f64,
    pub zoom: f64,
    pub pan: usize,
}

/// The most columns a zoomed timeline is laid out on (only the shown ones are drawn).
const MOST_COLUMNS: usize = 1 << 20;

/// The timeline of the whole run (`window` None), or of a window of it: only the lanes that
/// have something in the window, and the columns of the window.
pub fn timeline_in(lives: &Lives, width: usize, fold: bool, window: Option<Window>) -> Vec<Drawn> {
    let mut lines = Vec::new();
    // The title, and what joins it to the text after it on its line.
    let (title, joint) = match i18n::current() {
        Lang::En => ("Timeline:", " "),
        Lang::Zh => ("时间线（timeline）：", ""),
    };
    if lives.quit_before_any_step {
        let nothing = text!(
            en: "nothing to draw: the lesson stopped at its first prompt, before any work.",
            zh: "没有可画的：课程停在了第一个提示处，还没做任何工作。",
        );
        lines.push(vec![
            Piece::new(title, Paint::Bold),
            Piece::new(format!("{joint}{nothing}"), Paint::Plain),
        ]);
        return lines;
    }
    let label_columns = 22;
    let (scale, shown) = match window {
        None => {
            let columns = width.min(120).saturating_sub(label_columns + 2).max(20);
            let scale = Scale::new(lives, columns);
            let shown = 0..scale.columns();
            (scale, shown)
        }
        Some(window) => {
            let cells = width.saturating_sub(label_columns + 2).max(20);
            let whole = Scale::new(lives, cells);
            let first = whole.column(window.from);
            let last = whole.column(window.until).max(first + 1);
            let fill = cells as f64 / (last - first) as f64;
            let columns = ((cells as f64 * fill * window.zoom) as usize).clamp(cells, MOST_COLUMNS);
            let scale = Scale::new(lives, columns);
            let start =
                (scale.column(window.from) + window.pan).min(scale.columns().saturating_sub(cells));
            let shown = start..(start + cells).min(scale.columns());
            (scale, shown)
        }
    };
    let work = lives.work_span();
    let column = column_time(scale.seconds_per_column());
    let mut legend = vec![text!(
        en: "{work:.2} s of work, one column ≈ {column}",
        zh: "共 {work:.2} s 的工作，每一列 ≈ {column}",
    )];
    if !lives.pauses.is_empty() {
        let paused = crate::lab::describe(Duration::from_secs_f64(lives.paused()));
        legend.push(text!(
            en: "┊ a pause at a prompt ({paused} in all, cut out)",
            zh: "┊ 在提示处停下的时间（共 {paused}）已剪去",
        ));
    }
    legend.push(text!(
        en: "█ running, ▒ blocked (waiting), ▁ asleep (time.sleep), ░ ended but not yet \
             reaped (zombie) or joined",
        zh: "█ 运行，▒ 阻塞（等待），▁ 睡眠（time.sleep），░ 已结束、尚未被回收（僵尸进程）\
             或尚未被 join",
    ));
    let crowds = match fold {
        true => Crowds::of(lives),
        false => Crowds::default(),
    };
    if !crowds.lists.is_empty() {
        legend.push(text!(
            en: "N name*: one lane for a crowd of N alike processes or threads (folded in \
                 the tree): █ if any of them ran, else ▒ if any was blocked, else ▁ if \
                 any slept, else ░ \
                 (--no-fold: a lane each)",
            zh: "N name*：N 个相似的进程或线程合用一行（进程树里也折叠了）：其中有一个在运行\
                 就画 █，否则有一个阻塞就画 ▒，否则有一个在睡眠就画 ▁，否则画 ░（--no-fold：每个一行）",
        ));
    }
    let mut first = true;
    let lead = format!("{title}{joint}");
    for part in legend {
        let text = if first { format!("{lead}{part}") } else { part };
        for line in notes::plain_lines(&text, width) {
            match line.strip_prefix(lead.as_str()) {
                Some(rest) if first => lines.push(vec![
                    Piece::new(title, Paint::Bold),
                    Piece::new(joint, Paint::Plain),
                    Piece::new(rest, Paint::Quiet),
                ]),
                _ => lines.push(vec![Piece::new(line.clone(), Paint::Quiet)]),
            }
            first = false;
        }
    }
    for pid in lives.processes() {
        let Some(life) = lives.process(pid) else {
            continue;
        };
        let name = life.name.clone();
        match crowds.of_actor(&Actor::process(pid)) {
            // A crowd's lane is drawn where its first member's would be.
            Some(crowd) if crowd[0] == Actor::process(pid) => {
                let cells = crowd_lane(lives, crowd, &scale, shown.clone());
                let label = pad(&clip(&crowd_label(lives, crowd), 21), 21);
                push_lane(&mut lines, &label, &cells, &name, window.is_some());
            }
            Some(_) => {}
            None => {
                let cells = lane(life, &scale, shown.clone());
                let label = format!("{} {:>7}", pad(&clip(&life.name, 13), 13), pid);
                push_lane(&mut lines, &label, &cells, &name, window.is_some());
            }
        }
        for actor in lives.threads_of(pid) {
            let thread = lives.get(actor);
            match crowds.of_actor(actor) {
                Some(crowd) if &crowd[0] == actor => {
                    let cells = crowd_lane(lives, crowd, &scale, shown.clone());
                    let label = format!(" └ {}", pad(&clip(&crowd_label(lives, crowd), 18), 18));
                    push_lane(&mut lines, &label, &cells, &name, window.is_some());
                }
                Some(_) => {}
                None => {
                    let cells = lane(thread, &scale, shown.clone());
                    let id = actor.tid.map_or(String::new(), |tid| tid.to_string());
                    let label = format!(" └ {} {:>7}", pad(&clip(&thread.name, 10), 10), id);
                    push_lane(&mut lines, &label, &cells, &name, window.is_some());
                }
            }
        }
    }
    lines
}

/// A lane, unless it is blank in a window of the run (nothing of it happened then).
fn push_lane(lines: &mut Vec<Drawn>, label: &str, cells: &str, process_name: &str, window: bool) {
    if window && cells.chars().all(|c| c == ' ' || c == '┊') {
        return;
    }
    lines.push(lane_line(label, cells, process_name));
}

/// One lane of the timeline, in the colour of the process it belongs to.
fn lane_line(label: &str, cells: &str, process_name: &str) -> Drawn {
    let process = Paint::Process(process_name.to_string());
    vec![
        Piece::new(label, process.clone()),
        Piece::new(" │", Paint::Plain),
        Piece::new(cells, process),
        Piece::new("│", Paint::Plain),
    ]
}

/// The crowds of a run that the timeline draws as one lane each.
#[derive(Debug, Default)]
struct Crowds {
    lists: Vec<Vec<Actor>>,
    /// Which crowd each member is in (an index into `lists`).
    index: HashMap<Actor, usize>,
}

impl Crowds {
    /// Every crowd among the children and the threads of every process.
    fn of(lives: &Lives) -> Crowds {
        let mut crowds = Crowds::default();
        for pid in lives.processes() {
            let groups = lives.child_groups(pid).into_iter();
            for group in groups.chain(lives.thread_groups(pid)) {
                if let Group::Crowd(actors) = group {
                    for actor in &actors {
                        crowds.index.insert(actor.clone(), crowds.lists.len());
                    }
                    crowds.lists.push(actors);
                }
            }
        }
        crowds
    }

    fn of_actor(&self, actor: &Actor) -> Option<&[Actor]> {
        self.index.get(actor).map(|&i| self.lists[i].as_slice())
    }
}

/// A crowd's label on the timeline: how many, and their family of names (`170 buyer*`).
fn crowd_label(lives: &Lives, crowd: &[Actor]) -> String {
    let name = crowd.first().map_or("", |actor| &lives.get(actor).name);
    format!("{} {}*", crowd.len(), family(name))
}

/// A crowd's lane: in each column the busiest state of any of them: `█` if any ran, else `▒`
/// if any was blocked, else `░` if any had ended unreaped. The same cells as their own lanes,
/// laid over each other.
fn crowd_lane(lives: &Lives, crowd: &[Actor], scale: &Scale, shown: Range<usize>) -> String {
    let lanes: Vec<Vec<char>> = crowd
        .iter()
        .map(|actor| {
            lane(lives.get(actor), scale, shown.clone())
                .chars()
                .collect()
        })
        .collect();
    (0..shown.len())
        .map(|c| {
            let cells = || lanes.iter().map(move |lane| lane[c]);
            ['┊', '█', '▒', '▁', '░']
                .into_iter()
                .find(|state| cells().any(|cell| cell == *state))
                .unwrap_or(' ')
        })
        .collect()
}

/// One actor's lane: blank before it started, `█` running, `▒` blocked, `░` ended but not yet
/// reaped or joined, blank after; `┊` where a pause at a prompt was cut out.
fn lane(life: &Life, scale: &Scale, shown: Range<usize>) -> String {
    let columns = scale.columns();
    // Every actor gets at least one cell, even one that starts in the last column.
    let start = scale.column(life.started.unwrap_or(0.0)).min(columns - 1);
    let end = f64::INFINITY;
    let ran_until = scale.column(life.ran_until().unwrap_or(end)).max(start + 1);
    // A task has no zombie time: nobody joins it, it is simply over when it ends.
    let gone = match life.sort {
        Sort::Task => life.ran_until(),
        Sort::Process | Sort::Thread => life.reaped,
    };
    let reaped = scale.column(gone.unwrap_or(end)).max(ran_until);
    let mut cells: Vec<char> = shown
        .clone()
        .map(|c| match scale.cell(c) {
            Cell::Break => '┊',
            _ if c < start || c >= reaped => ' ',
            _ if c >= ran_until => '░',
            // It ran to get started: its first cell is never only a wait.
            Cell::At(t) if c > start && life.asleep_at(t, end) => '▁',
            Cell::At(t) if c > start && life.blocked_at(t, end) => '▒',
            Cell::At(_) => '█',
        })
        .collect();
    // A life that fits inside a column where a pause was cut (a task of lesson 17 that ran
    // while the main process waited at a prompt) would leave its lane blank: it did run, so
    // it gets the nearest column that is not a cut, after its start if there is one.
    let marked = |cells: &[char]| cells.iter().any(|cell| "█▒▁░".contains(*cell));
    if !marked(&cells) && shown.contains(&start) {
        let at = start - shown.start;
        let free = (at..cells.len())
            .find(|&i| cells[i] == ' ')
            .or_else(|| (0..at).rev().find(|&i| cells[i] == ' '));
        if let Some(i) = free {
            cells[i] = '█';
        }
    }
    cells.into_iter().collect()
}

/// The time one column stands for, as the legend says it: zoomed in on lesson 17's tasks a
/// column is a fraction of a millisecond, which whole milliseconds called "0 ms".
fn column_time(seconds: f64) -> String {
    if seconds < 0.001 {
        format!("{:.0} µs", seconds * 1e6)
    } else if seconds < 0.01 {
        format!("{:.1} ms", seconds * 1e3)
    } else {
        crate::lab::describe(Duration::from_secs_f64(seconds))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::event::{Event, Kind};

    fn event(t: f64, pid: i32, kind: Kind) -> Event {
        Event {
            t,
            pid,
            ppid: 1,
            tid: None,
            name: "main".into(),
            thread: None,
            task: None,
            kind,
        }
    }

    #[test]
    fn a_crowd_lane_shows_the_busiest_state_of_any_member() {
        // Over 1 s in 10 columns: child 11 runs 0.0-0.3 and is a zombie until 0.6; child 12
        // starts at 0.2, blocks on a lock 0.4-0.8, ends at 0.9, reaped at once. Where one
        // blocks while the other is a zombie, the crowd is blocked (▒ over ░).
        let spawn = |child| Kind::Spawn {
            child,
            child_name: format!("c-{child}"),
        };
        let reap = |child| Kind::Exit {
            child,
            exitcode: 0,
            is_thread: false,
        };
        let lock = |woke| match woke {
            false => Kind::Wait {
                on: "lock".into(),
                object: "x".into(),
            },
            true => Kind::Woke {
                on: "lock".into(),
                object: "x".into(),
                after: 0.4,
                got: true,
                ended: Some(crate::runtime::event::Ended::Got),
            },
        };
        let events = [
            event(0.0, 10, Kind::Start),
            event(0.0, 10, spawn(11)),
            event(0.3, 11, Kind::Done { code: 0 }),
            event(0.2, 10, spawn(12)),
            event(0.4, 12, lock(false)),
            event(0.6, 10, reap(11)),
            event(0.8, 12, lock(true)),
            event(0.9, 12, Kind::Done { code: 0 }),
            event(0.9, 10, reap(12)),
            event(1.0, 10, Kind::Done { code: 0 }),
        ];
        let lives = Lives::from_events(&events);
        let scale = Scale::new(&lives, 10);
        let crowd = [Actor::process(11), Actor::process(12)];
        assert_eq!(
            lane(lives.process(11).unwrap(), &scale, 0..10),
            "███░░░    "
        );
        assert_eq!(
            lane(lives.process(12).unwrap(), &scale, 0..10),
            "  ██▒▒▒▒█ "
        );
        assert_eq!(crowd_lane(&lives, &crowd, &scale, 0..10), "████▒▒▒▒█ ");
        assert_eq!(crowd_label(&lives, &crowd), "2 c*");
    }
}
