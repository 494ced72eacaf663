//! Pictures of a run for slides, handouts and tools: `run N --export FILE` and
//! `proclab export EVENTS FILE`. What FILE's extension asks for:
//! - `.svg`: the process tree and the timeline as one vector picture (`svg`);
//! - `.html`: one self-contained page that draws the same picture and lets a student explore
//!   it: a span's events, zoom, lanes filtered, each step's notes beside it (`html`);
//! - `.json`: the Chrome trace event format, for Perfetto and `chrome://tracing` (`chrome`).
//!
//! Every picture is a function of the run's events alone, so any source of events (a run,
//! a `--json` file read back, a traced program) can be exported. They read the same model as
//! the terminal's tree and timeline (`lives`): each actor's life as spans of running, waiting
//! and having ended, and the pauses at `--step` prompts, cut out of the time axis here as the
//! terminal cuts them to one column.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use colored::Color;
use unicode_width::UnicodeWidthChar;

use crate::error::{Error, Result};
use crate::i18n::{self, Lang};
use crate::runtime::event::{Actor, Event, Kind};
use crate::text;
use crate::view::lives::{Doing, Lives, Sort, Span};
use crate::view::theme::{Role, Theme, ThemeName};

mod chrome;
mod html;
mod svg;

/// What a file's extension asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Svg,
    Html,
    /// The Chrome trace event format (`.json`).
    Trace,
}

impl Format {
    /// The format FILE's extension names; any other is bad input, said in one line.
    pub fn of(path: &Path) -> Result<Format> {
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match extension.as_deref() {
            Some("svg") => Ok(Format::Svg),
            Some("html" | "htm") => Ok(Format::Html),
            Some("json") => Ok(Format::Trace),
            _ => Err(Error::Usage(format!(
                "cannot export to {}: the format comes from the file's extension, one of .svg \
                 (a picture), .html (a page to explore) or .json (a trace for Perfetto)",
                path.display()
            ))),
        }
    }
}

/// The background a picture is drawn for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Background {
    /// White: slides and paper (the default).
    Light,
    /// Dark slides (`--theme dark`, or `contrast`).
    Dark,
}

/// The picture of `events` in `format`.
pub fn render(events: &[Event], format: Format, background: Background) -> String {
    let run = Run::of(events);
    match format {
        Format::Svg => svg::draw(&run, background, &svg::Layout::slide()),
        Format::Html => html::page(&run, background),
        Format::Trace => chrome::trace(&run),
    }
}

/// Writes the picture of `events` to `file` (already created, at `path`, by whoever checked
/// that it can be written).
pub fn write_to(
    mut file: std::fs::File,
    path: &Path,
    events: &[Event],
    background: Background,
) -> Result<()> {
    let format = Format::of(path)?;
    let picture = render(events, format, background);
    file.write_all(picture.as_bytes()).map_err(|error| {
        Error::System(format!(
            "cannot write {}: {}",
            path.display(),
            crate::runtime::errno::describe_io(&error)
        ))
    })
}

/// Creates the file a picture will go to, before anything runs: a FILE that cannot be written,
/// or whose extension names no format, is bad input found out at once.
pub fn create(path: &Path) -> Result<std::fs::File> {
    Format::of(path)?;
    std::fs::File::create(path).map_err(|error| {
        Error::Usage(format!(
            "cannot write {}: {}",
            path.display(),
            crate::runtime::errno::describe_io(&error)
        ))
    })
}

/// Reads the events of a `--json` run back from its text: one event per line. A recording
/// (`--record`'s asciicast) holds what the terminal showed, not the events, and is refused
/// with a word on what to export from instead.
pub fn read_events(text: &str, path: &Path) -> Result<Vec<Event>> {
    let mut events = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(event) = Event::from_json(line) {
            events.push(event);
            continue;
        }
        let is_recording = i == 0
            && serde_json::from_str::<serde_json::Value>(line).is_ok_and(|header| {
                header.get("version").is_some() && header.get("width").is_some()
            });
        return Err(Error::Usage(if is_recording {
            format!(
                "{} is a recording (asciicast) of the human view: it holds the text the terminal \
                 showed, not the run's events; export a run's events instead (proclab run N \
                 --json > run.jsonl, then proclab export run.jsonl FILE), or export as it runs \
                 (proclab run N --export FILE)",
                path.display()
            )
        } else {
            format!(
                "{} line {}: not an event of proclab's --json stream",
                path.display(),
                i + 1
            )
        }));
    }
    if events.is_empty() {
        return Err(Error::Usage(format!(
            "{} holds no events (write them with proclab run N --json > FILE)",
            path.display()
        )));
    }
    Ok(events)
}

/// The language of a run's prose, as its `lesson` event says (English when it does not).
pub fn lang_of(events: &[Event]) -> Lang {
    let lang = events.iter().find_map(|event| match &event.kind {
        Kind::Lesson { lang, .. } => Some(lang.as_str()),
        _ => None,
    });
    match lang {
        Some("zh") => Lang::Zh,
        _ => Lang::En,
    }
}

/// A run, as every picture reads it: its lanes in the order of the tree, the forks between
/// them, its steps, and the time axis with the pauses cut out.
pub struct Run<'a> {
    pub events: &'a [Event],
    pub lives: Lives,
    pub lanes: Vec<Lane>,
    lane_index: HashMap<Actor, usize>,
    pub forks: Vec<Fork>,
    pub steps: Vec<Step>,
    pub axis: Axis,
    /// `proclab · lesson 1 · spawn-function — Spawning processes from a function`.
    pub title: String,
    /// The seed and speed that replay it, when the events say.
    pub replay: Option<(u64, f64)>,
    pub lesson_number: Option<u32>,
}

/// Events closer than this are at one moment (a step's title, then its prompt).
const SAME_MOMENT: f64 = 0.001;

/// One lane: a process, a thread of it, or a task on a thread.
pub struct Lane {
    pub actor: Actor,
    pub sort: Sort,
    pub name: String,
    /// The process's name: a lane is drawn in the colour of its process, as in the terminal.
    pub process_name: String,
    /// How deep in the tree: the lab 0, the lesson's main process 1, its threads and
    /// children 2 ...
    pub depth: usize,
    /// The pid that forked a process; for a thread or task, its process.
    pub parent: Option<i32>,
    pub spans: Vec<Span>,
}

impl Lane {
    /// Its id: a process's pid, a thread's tid.
    pub fn id(&self) -> Option<i32> {
        match self.sort {
            Sort::Process => Some(self.actor.pid),
            Sort::Thread | Sort::Task => self.actor.tid,
        }
    }

    /// `alex · pid 24170 · parent 24169`, `thread worker-1 · tid 24180`.
    pub fn label(&self) -> String {
        let name = &self.name;
        match (self.sort, self.id(), self.parent) {
            (Sort::Process, Some(pid), Some(parent)) => {
                text!(en: "{name} · pid {pid} · parent {parent}", zh: "{name} · pid {pid} · 父进程 {parent}")
            }
            (Sort::Process, Some(pid), None) => {
                text!(en: "{name} · pid {pid}", zh: "{name} · pid {pid}")
            }
            (Sort::Thread, Some(tid), _) => {
                text!(en: "thread {name} · tid {tid}", zh: "线程 {name} · tid {tid}")
            }
            (Sort::Thread, None, _) => text!(en: "thread {name}", zh: "线程 {name}"),
            (Sort::Task, _, _) => text!(en: "task {name}", zh: "任务 {name}"),
            (Sort::Process, None, _) => name.clone(),
        }
    }
}

/// A fork (or a thread's start): from the parent's lane at `at` to the child's lane at
/// `started`.
pub struct Fork {
    pub parent: usize,
    pub child: usize,
    pub at: f64,
    pub started: f64,
    pub is_thread: bool,
}

/// A step of the lesson, from its `step` event to the next one (or the end of the run).
pub struct Step {
    pub index: u32,
    pub title: String,
    pub from: f64,
    pub until: f64,
}

impl<'a> Run<'a> {
    pub fn of(events: &'a [Event]) -> Run<'a> {
        let lives = Lives::from_events(events);
        let end = lives.last_t;
        let mut lanes = Vec::new();
        // The tree, depth first: a process, its threads, then its children. Processes whose
        // parent is not in the run (the lab itself) are the roots.
        let processes = lives.processes();
        let known = |pid: i32| processes.contains(&pid);
        for &pid in &processes {
            let parent = lives.process(pid).and_then(|life| life.parent);
            if !parent.is_some_and(known) {
                add_process(&lives, pid, 0, end, &mut lanes);
            }
        }
        let forks = forks(events, &lives, &lanes);
        let mut steps: Vec<Step> = Vec::new();
        let mut title = "proclab".to_string();
        let mut replay = None;
        let mut lesson_number = None;
        for event in events {
            match &event.kind {
                Kind::Step { index, title } => {
                    if let Some(last) = steps.last_mut() {
                        last.until = event.t;
                    }
                    // With --step, a step's prompt comes first: its band begins when the
                    // step's work does, after the pause.
                    let from = lives
                        .pauses
                        .iter()
                        .find(|pause| pause.from <= event.t + SAME_MOMENT && event.t < pause.until)
                        .map_or(event.t, |pause| pause.until);
                    steps.push(Step {
                        index: *index,
                        title: title.clone(),
                        from,
                        until: end.max(from),
                    });
                }
                Kind::Lesson {
                    number,
                    slug,
                    title: lesson_title,
                    seed,
                    speed,
                    ..
                } => {
                    title = text!(
                        en: "proclab · lesson {number} · {slug} — {lesson_title}",
                        zh: "proclab · 第 {number} 课 · {slug} — {lesson_title}",
                    );
                    replay = Some((*seed, *speed));
                    lesson_number = Some(*number);
                }
                Kind::Trace { command, .. } => {
                    let command = command.join(" ");
                    title = text!(en: "proclab trace · {command}", zh: "proclab trace · {command}");
                }
                _ => {}
            }
        }
        let axis = Axis::of(&lives);
        let lane_index = lanes
            .iter()
            .enumerate()
            .map(|(i, lane)| (lane.actor.clone(), i))
            .collect();
        Run {
            events,
            lives,
            lanes,
            lane_index,
            forks,
            steps,
            axis,
            title,
            replay,
            lesson_number,
        }
    }

    /// `0.31 s of work · seed 1, speed 20 · 2 pauses at prompts (12 s in all) cut out`.
    pub fn subtitle(&self) -> String {
        let work = self.lives.work_span();
        let mut parts = vec![text!(en: "{work:.3} s of work", zh: "共 {work:.3} s 的工作")];
        if let Some((seed, speed)) = self.replay {
            parts.push(text!(
                en: "seed {seed}, speed {speed}",
                zh: "种子 {seed}，速度 {speed}",
            ));
        }
        let pauses = self.axis.pauses();
        if pauses > 0 {
            let paused = seconds(self.lives.paused());
            parts.push(text!(
                en: "{pauses} pause(s) at prompts ({paused} in all) cut out",
                zh: "在提示处停下的 {pauses} 段时间（共 {paused}）已剪去",
            ));
        }
        parts.push(text!(
            en: "{lanes} lanes: every process and thread",
            zh: "{lanes} 行：每个进程和线程各一行",
            lanes = self.lanes.len()
        ));
        parts.join(" · ")
    }

    /// The lane of `actor`.
    pub fn lane_of(&self, actor: &Actor) -> Option<usize> {
        self.lane_index.get(actor).copied()
    }

    /// The events each lane's actor said, in order, by lane.
    pub fn events_by_lane(&self) -> Vec<Vec<&'a Event>> {
        let mut by_lane = vec![Vec::new(); self.lanes.len()];
        for event in self.events {
            if let Some(lane) = self.lane_of(&event.actor()) {
                by_lane[lane].push(event);
            }
        }
        by_lane
    }
}

fn add_process(lives: &Lives, pid: i32, depth: usize, end: f64, lanes: &mut Vec<Lane>) {
    let Some(life) = lives.process(pid) else {
        return;
    };
    lanes.push(Lane {
        actor: Actor::process(pid),
        sort: Sort::Process,
        name: life.name.clone(),
        process_name: life.name.clone(),
        depth,
        parent: life.parent,
        spans: life.spans(end),
    });
    for actor in lives.threads_of(pid) {
        let thread = lives.get(actor);
        lanes.push(Lane {
            actor: actor.clone(),
            sort: thread.sort,
            name: thread.name.clone(),
            process_name: life.name.clone(),
            depth: depth + 1,
            parent: Some(pid),
            spans: thread.spans(end),
        });
    }
    for child in lives.children_of(pid) {
        add_process(lives, child, depth + 1, end, lanes);
    }
}

/// The forks between the lanes: each process from the moment its parent said `spawn`, each
/// thread or task from its process's lane when it started.
fn forks(events: &[Event], lives: &Lives, lanes: &[Lane]) -> Vec<Fork> {
    let index: std::collections::HashMap<&Actor, usize> = lanes
        .iter()
        .enumerate()
        .map(|(i, lane)| (&lane.actor, i))
        .collect();
    let mut spawned: std::collections::HashMap<i32, f64> = std::collections::HashMap::new();
    for event in events {
        if let Kind::Spawn { child, .. } = event.kind {
            spawned.entry(child).or_insert(event.t);
        }
    }
    let mut forks = Vec::new();
    for (child, lane) in lanes.iter().enumerate() {
        let Some(started) = lives.get(&lane.actor).started else {
            continue;
        };
        let (parent, at) = match lane.sort {
            Sort::Process => match (lane.parent, spawned.get(&lane.actor.pid)) {
                (Some(parent), Some(&at)) => (Actor::process(parent), at.min(started)),
                _ => continue,
            },
            Sort::Thread | Sort::Task => (Actor::process(lane.actor.pid), started),
        };
        let Some(&parent) = index.get(&parent) else {
            continue;
        };
        forks.push(Fork {
            parent,
            child,
            at,
            started,
            is_thread: lane.sort != Sort::Process,
        });
    }
    forks
}

/// The time axis of a picture, in *axis seconds*: seconds of work, with each pause at a prompt
/// cut to a short gap of its own. A picture maps axis seconds to its width linearly.
#[derive(Debug, Clone)]
pub struct Axis {
    pub segments: Vec<Segment>,
    /// The length of the whole axis, in axis seconds.
    pub length: f64,
}

/// A stretch of the axis: work from one time to another (real times, as in the events), or a
/// pause cut to a gap.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segment {
    pub from: f64,
    pub until: f64,
    pub is_pause: bool,
    /// Where it begins and ends on the axis.
    pub at: f64,
    pub to: f64,
}

/// How wide a pause's gap is, as a share of the run's work.
const GAP: f64 = 0.015;

impl Axis {
    pub fn of(lives: &Lives) -> Axis {
        let end = lives.last_t;
        let gap = lives.work_span().max(0.001) * GAP;
        let mut segments = Vec::new();
        let (mut t, mut at) = (0.0, 0.0);
        let mut push = |from: f64, until: f64, is_pause: bool, at: &mut f64| {
            let length = if is_pause { gap } else { until - from };
            segments.push(Segment {
                from,
                until,
                is_pause,
                at: *at,
                to: *at + length,
            });
            *at += length;
        };
        for pause in lives.pauses.iter().filter(|pause| pause.from < end) {
            if pause.from > t {
                push(t, pause.from, false, &mut at);
            }
            push(pause.from, pause.until.min(end), true, &mut at);
            t = pause.until;
        }
        if end > t || at == 0.0 {
            push(t, end.max(t), false, &mut at);
        }
        Axis {
            segments,
            length: at.max(0.001),
        }
    }

    /// Where time `t` is on the axis: inside a pause, somewhere in its gap.
    pub fn at(&self, t: f64) -> f64 {
        for segment in &self.segments {
            if t < segment.until {
                if t <= segment.from {
                    return segment.at;
                }
                let share = (t - segment.from) / (segment.until - segment.from);
                return segment.at + share * (segment.to - segment.at);
            }
        }
        self.length
    }

    pub fn pauses(&self) -> usize {
        self.segments.iter().filter(|s| s.is_pause).count()
    }

    /// The ticks of a time axis showing `from..to` (axis seconds) across about `width` pixels:
    /// real times at a round step (1, 2 or 5 times a power of ten), in the stretches of work,
    /// each with where it is on the axis.
    pub fn ticks(&self, from: f64, to: f64, width: f64) -> (f64, Vec<(f64, f64)>) {
        let wanted = ((to - from) * 100.0 / width.max(1.0)).max(1e-7);
        let power = 10f64.powf(wanted.log10().floor());
        let step = [1.0, 2.0, 5.0, 10.0]
            .into_iter()
            .map(|m| m * power)
            .find(|step| *step >= wanted)
            .unwrap_or(10.0 * power);
        let mut ticks = Vec::new();
        for segment in self.segments.iter().filter(|s| !s.is_pause) {
            if segment.to < from || segment.at > to {
                continue;
            }
            let mut n = (segment.from / step).ceil();
            while n * step <= segment.until {
                let t = n * step;
                let at = self.at(t);
                if (from..=to).contains(&at) {
                    ticks.push((t, at));
                }
                n += 1.0;
            }
        }
        (step, ticks)
    }
}

/// A time for a label: `0`, `850 µs`, `12.5 ms`, `1.25 s`; `step` (the spacing of the
/// labels) decides how many digits are worth showing.
pub fn time_label(t: f64, step: f64) -> String {
    if t == 0.0 {
        return "0".to_string();
    }
    let (value, unit, step) = if step >= 0.5 || t >= 1.0 && step >= 0.001 {
        (t, "s", step)
    } else if step >= 0.000_5 {
        (t * 1e3, "ms", step * 1e3)
    } else {
        (t * 1e6, "µs", step * 1e6)
    };
    let digits = if step >= 1.0 {
        0
    } else {
        (-step.log10()).ceil() as usize
    };
    format!("{value:.digits$} {unit}")
}

/// Seconds for a sentence: `850 µs`, `12.5 ms`, `3.2 s`.
pub fn seconds(s: f64) -> String {
    crate::lab::describe(std::time::Duration::from_secs_f64(s.max(0.0)))
}

/// What a span is, in words: `running`, `waiting: join (alex, wupeiqi)`, `zombie`.
pub fn doing_label(doing: &Doing, sort: Sort) -> String {
    match doing {
        Doing::Running => text!(en: "running", zh: "运行"),
        Doing::Waiting { on, object } if object.is_empty() => {
            text!(en: "waiting: {on}", zh: "等待：{on}")
        }
        Doing::Waiting { on, object } => {
            text!(en: "waiting: {on} ({object})", zh: "等待：{on}（{object}）")
        }
        Doing::Ended if sort == Sort::Process => text!(
            en: "ended, not yet reaped (zombie)",
            zh: "已结束，还没被回收（僵尸进程）",
        ),
        Doing::Ended => text!(en: "ended, not yet joined", zh: "已结束，还没被 join"),
    }
}

/// The words of the legend, shared by the SVG and the page.
pub struct Legend {
    pub running: String,
    pub waiting: String,
    pub ended: String,
    pub pause: String,
    pub fork: String,
    pub thread: String,
    pub step: String,
}

impl Legend {
    pub fn new() -> Legend {
        Legend {
            running: text!(en: "running", zh: "运行"),
            waiting: text!(
                en: "waiting, named: join, lock, queue, sleep …",
                zh: "等待，写明等什么：join、lock、queue、sleep …",
            ),
            ended: text!(
                en: "ended, not yet reaped (zombie) or joined",
                zh: "已结束，尚未被回收（僵尸进程）或尚未被 join",
            ),
            pause: text!(en: "pause at a prompt, cut out", zh: "在提示处停下的时间，已剪去"),
            fork: text!(en: "fork: parent → child", zh: "fork：父进程 → 子进程"),
            thread: text!(en: "thread started", zh: "线程启动"),
            step: text!(en: "step", zh: "步骤"),
        }
    }
}

impl Default for Legend {
    fn default() -> Legend {
        Legend::new()
    }
}

/// The colours of a picture: its background, text, and each process's colour, from the
/// terminal theme of the same name (the same process has the same colour in both).
pub struct Palette {
    pub background: &'static str,
    pub text: &'static str,
    pub quiet: &'static str,
    pub band: &'static str,
    theme: Theme,
    dark: bool,
}

impl Palette {
    pub fn new(background: Background) -> Palette {
        match background {
            Background::Light => Palette {
                background: "#ffffff",
                text: "#1a1a1a",
                quiet: "#555555",
                band: "#eef1f5",
                theme: Theme::new(ThemeName::Light),
                dark: false,
            },
            Background::Dark => Palette {
                background: "#16181c",
                text: "#eeeeee",
                quiet: "#b0b0b0",
                band: "#23272e",
                theme: Theme::new(ThemeName::Dark),
                dark: true,
            },
        }
    }

    /// The colour of the process named `name`, as `#rrggbb`.
    pub fn of_process(&self, name: &str) -> &'static str {
        hex(self.theme.colour(Role::of(name)), self.dark)
    }
}

/// A terminal colour as it reads on a slide: strong enough on white (light) or on near-black
/// (dark), and never yellow on white.
fn hex(colour: Color, dark: bool) -> &'static str {
    match (colour, dark) {
        (Color::Black | Color::White | Color::BrightBlack | Color::BrightWhite, false) => "#4a4a4a",
        (Color::Black | Color::White | Color::BrightBlack | Color::BrightWhite, true) => "#c8c8c8",
        (Color::Blue, false) => "#1f5fbf",
        (Color::Green, false) => "#2e7d32",
        (Color::Magenta, false) => "#8e3fa0",
        (Color::Cyan, false) => "#00798a",
        (Color::Red | Color::BrightRed, false) => "#c62828",
        (Color::Yellow | Color::BrightYellow, false) => "#9a6a00",
        (Color::BrightBlue, false) => "#1f5fbf",
        (Color::BrightGreen, false) => "#2e7d32",
        (Color::BrightMagenta, false) => "#8e3fa0",
        (Color::BrightCyan, false) => "#00798a",
        (Color::Blue | Color::BrightBlue, true) => "#64a8f0",
        (Color::Green | Color::BrightGreen, true) => "#8bc34a",
        (Color::Magenta | Color::BrightMagenta, true) => "#d08fe0",
        (Color::Cyan | Color::BrightCyan, true) => "#4dd0e1",
        (Color::Red | Color::BrightRed, true) => "#ff6e6e",
        (Color::Yellow | Color::BrightYellow, true) => "#ffd54f",
        (Color::TrueColor { .. } | Color::AnsiColor(_), false) => "#4a4a4a",
        (Color::TrueColor { .. } | Color::AnsiColor(_), true) => "#c8c8c8",
    }
}

/// The fonts a picture asks for: sans-serif faces that have Latin and Chinese, the common
/// ones of Linux, macOS and Windows, then the generic family.
pub const FONTS: &str = "'Noto Sans', 'Noto Sans CJK SC', 'Source Han Sans SC', 'PingFang SC', \
     'Hiragino Sans GB', 'Microsoft YaHei', 'WenQuanYi Micro Hei', 'DejaVu Sans', Arial, \
     sans-serif";

/// About how wide `text` is in a sans-serif font of `size` pixels: a CJK character is a
/// square, a Latin one a little more than half of one. Enough to clip a label, not to
/// typeset.
pub fn text_width(text: &str, size: f64) -> f64 {
    text.chars()
        .map(|c| match c.width() {
            Some(2) => 1.0,
            Some(0) | None => 0.0,
            _ if c.is_ascii_uppercase() || c == 'm' || c == 'w' => 0.72,
            _ if c == ' ' || c == '.' || c == ',' || c == 'i' || c == 'l' => 0.3,
            _ => 0.58,
        })
        .sum::<f64>()
        * size
}

/// `text` cut to fit `width` pixels at `size`, with `…` where it was cut; empty when not even
/// its first character and the ellipsis fit.
pub fn fit(text: &str, size: f64, width: f64) -> String {
    if text_width(text, size) <= width {
        return text.to_string();
    }
    let mut fitted = String::new();
    for c in text.chars() {
        let candidate = format!("{fitted}{c}…");
        if text_width(&candidate, size) > width {
            break;
        }
        fitted.push(c);
    }
    if fitted.trim().is_empty() {
        return String::new();
    }
    format!("{}…", fitted.trim_end())
}

/// `text` with the five characters XML gives a meaning escaped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // XML 1.0 has no place for most control characters: a lesson's text never needs one.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t') => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The lesson's own language for its words, when the caller did not choose one.
pub fn use_lang_of(events: &[Event]) {
    i18n::set(lang_of(events));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extension_chooses_the_format() {
        assert_eq!(Format::of(Path::new("a/run.svg")).unwrap(), Format::Svg);
        assert_eq!(Format::of(Path::new("run.HTML")).unwrap(), Format::Html);
        assert_eq!(Format::of(Path::new("run.json")).unwrap(), Format::Trace);
        for bad in ["run.png", "run", "run.svg.txt"] {
            let Err(Error::Usage(message)) = Format::of(Path::new(bad)) else {
                panic!("{bad} is no format")
            };
            assert!(message.contains(".svg"), "{message}");
        }
    }

    fn event(t: f64, kind: Kind) -> Event {
        Event {
            t,
            pid: 10,
            ppid: 1,
            tid: None,
            name: "main".into(),
            thread: None,
            task: None,
            kind,
        }
    }

    #[test]
    fn the_axis_cuts_a_pause_to_a_gap_and_a_step_begins_after_its_prompt() {
        let say = |t| event(t, Kind::Say { text: "x".into() });
        let events = [
            event(0.0, Kind::Start),
            say(1.0),
            // At 1 s the step's title, then its prompt waits 100 s.
            event(
                1.0,
                Kind::Step {
                    index: 1,
                    title: "One".into(),
                },
            ),
            event(
                101.0,
                Kind::Pause {
                    seconds: 100.0,
                    quit: false,
                },
            ),
            say(102.0),
        ];
        let run = Run::of(&events);
        let gap = 2.0 * GAP;
        assert_eq!(run.axis.pauses(), 1);
        assert!((run.axis.length - (2.0 + gap)).abs() < 1e-9);
        assert_eq!(run.axis.at(0.5), 0.5);
        assert!(
            (run.axis.at(51.0) - (1.0 + gap / 2.0)).abs() < 1e-9,
            "inside the gap"
        );
        assert!((run.axis.at(101.5) - (1.5 + gap)).abs() < 1e-9);
        assert_eq!(
            run.steps[0].from, 101.0,
            "the step's work begins after its prompt"
        );
        // The ticks are real times, none inside the pause.
        let (step, ticks) = run.axis.ticks(0.0, run.axis.length, 4000.0);
        assert!((step - 0.1).abs() < 1e-12, "{step}");
        assert!(
            ticks.iter().all(|(t, _)| *t <= 1.0 || *t >= 101.0),
            "{ticks:?}"
        );
        assert!(ticks.iter().any(|(t, _)| (*t - 101.5).abs() < 1e-9));
    }

    #[test]
    fn time_labels_show_the_digits_their_spacing_needs() {
        assert_eq!(time_label(0.0, 0.05), "0");
        assert_eq!(time_label(0.05, 0.05), "50 ms");
        assert_eq!(time_label(0.0125, 0.0005), "12.5 ms");
        assert_eq!(time_label(1.5, 0.5), "1.5 s");
        assert_eq!(time_label(0.000_25, 0.000_05), "250 µs");
    }

    #[test]
    fn a_label_too_long_is_cut_with_an_ellipsis() {
        assert_eq!(fit("alex", 13.0, 100.0), "alex");
        let cut = fit("a rather long name of a process", 13.0, 60.0);
        assert!(
            cut.ends_with('…') && text_width(&cut, 13.0) <= 60.0,
            "{cut}"
        );
        assert_eq!(fit("主进程", 13.0, 5.0), "");
    }
}
