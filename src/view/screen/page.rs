//! The pages of a full-screen run: one per step, which keeps every event of the step, so that
//! a page can be shown again, whole, at any time; and what each event says as lines of a
//! page, the story first.

use std::collections::{HashMap, HashSet};

use crate::runtime::event::{Actor, Event, Kind};
use crate::text;
use crate::view::lives::family;
use crate::view::notes;
use crate::view::theme::{Paint, Piece};
use crate::view::wording::{clip, lifecycle_text};

/// How far a step has gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Its title is up; Enter runs it.
    NotRun,
    Running,
    /// It has run: its result is pinned.
    Ended,
}

/// One step, as its page shows it.
#[derive(Debug, Clone)]
pub struct Page {
    /// From 1; 0 is the page before the first step (the lesson's opening lines).
    pub index: u32,
    pub title: String,
    pub events: Vec<Event>,
    pub phase: Phase,
    /// When the step began (its `step` event): where the step's timeline begins. (The first
    /// event on the page may be earlier: a line of the step before, which arrived late.)
    pub began: f64,
    /// When it began to run (its run prompt answered): its timeline's first column. Before,
    /// the main process only waited at prompts.
    pub ran_from: Option<f64>,
}

/// More actors of one family than this in a step are a crowd: in the story, their lifecycle
/// lines are counted in one line.
pub const CROWD: usize = 6;

/// What the output of a page shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Filter {
    /// Every line, crowds' lifecycle lines too (`a`).
    pub all: bool,
    /// Only this actor's lines (its label, `main/worker-1`).
    pub only: Option<String>,
}

impl Page {
    pub fn new(index: u32, title: &str) -> Page {
        Page {
            index,
            title: title.to_string(),
            events: Vec::new(),
            phase: Phase::NotRun,
            began: 0.0,
            ran_from: None,
        }
    }

    /// The names of the children forked in this step, by pid.
    fn child_names(&self) -> HashMap<i32, String> {
        self.events
            .iter()
            .filter_map(|event| match &event.kind {
                Kind::Spawn { child, child_name } => Some((*child, child_name.clone())),
                _ => None,
            })
            .collect()
    }

    /// The actors that said something in this step, by label, in order of their first line.
    pub fn actors(&self) -> Vec<String> {
        let mut seen = Vec::new();
        for event in self.events.iter().filter(|e| shown(e)) {
            let label = event.actor_label();
            if !seen.contains(&label) {
                seen.push(label);
            }
        }
        seen
    }

    /// The page's output, `width` columns wide, as rows of pieces: the story, or what the
    /// filter asks for.
    pub fn output(&self, width: usize, filter: &Filter) -> Vec<Vec<Piece>> {
        let names = self.child_names();
        let crowds = if filter.all || filter.only.is_some() {
            HashMap::new()
        } else {
            self.crowds(&names)
        };
        let mut rows = Vec::new();
        let mut counted = false;
        for event in self.events.iter().filter(|e| shown(e)) {
            if let Some(only) = &filter.only
                && &event.actor_label() != only
            {
                continue;
            }
            let whose = life_of(event, &names);
            if is_lifecycle(&event.kind)
                && let Some((lines, actors)) = crowds.get(family(whose))
            {
                // One line for the crowd, where its first hidden line would be.
                if !counted {
                    counted = true;
                    let name = family(whose);
                    let text = text!(
                        en: "… {lines} lines of {actors} {name}* lives, not shown: a shows them",
                        zh: "… {actors} 个 {name}* 的 {lines} 行生命周期没有显示：按 a 显示",
                    );
                    for line in notes::plain_lines(&text, width.max(20)) {
                        rows.push(vec![Piece::new(line, Paint::Quiet)]);
                    }
                }
                continue;
            }
            rows.extend(event_rows(event, width));
        }
        rows
    }

    /// The families with more than `CROWD` actors in this step: how many lifecycle lines they
    /// said, and how many actors they are. Actors are told apart by pid (and thread, task),
    /// not by name: lesson 5's twenty rounds fork buyer-1 to buyer-4 twenty times over.
    fn crowds<'a>(&'a self, names: &'a HashMap<i32, String>) -> HashMap<&'a str, (usize, usize)> {
        let mut families: HashMap<&str, (usize, HashSet<Actor>)> = HashMap::new();
        for event in &self.events {
            let whose = life_of(event, names);
            if !is_lifecycle(&event.kind) || whose == "main" || whose == "proclab" {
                continue;
            }
            let entry = families.entry(family(whose)).or_default();
            entry.0 += 1;
            if whose == event.name {
                entry.1.insert(event.actor());
            }
        }
        families
            .into_iter()
            .filter(|(_, (_, actors))| actors.len() > CROWD)
            .map(|(name, (lines, actors))| (name, (lines, actors.len())))
            .collect()
    }

    /// The step's result: the `--predict` answer as soon as it is given (the class watches
    /// the step with its prediction in view), and, once the step has run, its notes, errors
    /// and the verdict.
    pub fn result(&self, width: usize) -> Vec<Vec<Piece>> {
        let ended = self.phase == Phase::Ended;
        self.events
            .iter()
            .filter(|e| match e.kind {
                Kind::Answer { .. } => true,
                Kind::Note { .. } | Kind::Error { .. } | Kind::Predict { .. } => ended,
                _ => false,
            })
            .flat_map(|event| {
                let (text, paint) = said(event);
                text_lines(event, &text, width.max(20))
                    .into_iter()
                    .map(move |line| vec![Piece::new(line, paint.clone())])
            })
            .collect()
    }
}

/// The life a lifecycle line is about: a fork, a join and a reaping are the child's, though
/// its parent says them (so a crowd's joins are counted with the crowd's lines).
fn life_of<'a>(event: &'a Event, names: &'a HashMap<i32, String>) -> &'a str {
    match &event.kind {
        Kind::Spawn { child_name, .. } => child_name,
        Kind::Wait { on, object } | Kind::Woke { on, object, .. } if on == "join" => object,
        Kind::Exit {
            child,
            is_thread: false,
            ..
        } => names.get(child).map_or(event.name.as_str(), String::as_str),
        _ => &event.name,
    }
}

/// Whether the page's output shows this event at all (prompts, pauses and sleeps are the
/// view's business, drawn elsewhere).
fn shown(event: &Event) -> bool {
    !matches!(
        event.kind,
        Kind::Pause { .. }
            | Kind::Sleep { .. }
            | Kind::Step { .. }
            | Kind::Lesson { .. }
            | Kind::Trace { .. }
            | Kind::End { .. }
    ) && !event.kind.is_prompt()
}

/// Forked, started, ended, reaped, waits: the lines of a life rather than of the story.
pub fn is_lifecycle(kind: &Kind) -> bool {
    matches!(
        kind,
        Kind::Spawn { .. }
            | Kind::Start
            | Kind::Exec { .. }
            | Kind::Done { .. }
            | Kind::Exit { .. }
            | Kind::State { .. }
            | Kind::Wait { .. }
            | Kind::Woke { .. }
    )
}

/// The text an event shows, and how it is painted.
fn said(event: &Event) -> (String, Paint) {
    match &event.kind {
        Kind::Say { text } => (text.clone(), Paint::Process(event.name.clone())),
        Kind::Note { text } => (format!("※ {text}"), Paint::Bold),
        Kind::Error { text } => (text!(en: "error: {text}", zh: "错误：{text}"), Paint::Bold),
        Kind::Question { .. } | Kind::Answer { .. } | Kind::Predict { .. } => {
            (crate::predict::shown(event), Paint::Bold)
        }
        _ => (lifecycle_text(event), Paint::Quiet),
    }
}

/// Columns of the prefix of an output row: `  1.234 alex     |`.
pub const PREFIX: usize = 23;

/// What an event says, wrapped to `width` columns: a note's inline Markdown without its
/// marks (`wait` as wait, as the line view shows it), a program's own text as it is.
fn text_lines(event: &Event, text: &str, width: usize) -> Vec<String> {
    match event.kind {
        Kind::Note { .. } => notes::inline_lines(text, width, notes::Ink::default())
            .iter()
            .map(|line| strip_escapes(line))
            .collect(),
        _ => notes::plain_lines(text, width),
    }
}

/// An event as rows: the time and who said it, then its text wrapped beside them.
fn event_rows(event: &Event, width: usize) -> Vec<Vec<Piece>> {
    let (text, paint) = said(event);
    let who = clip(&event.actor_label(), 12);
    let prefix = format!("{:>7.3} {} │ ", event.t, notes::pad(&who, 12));
    let room = width.saturating_sub(PREFIX).max(16);
    let process = Paint::Process(event.name.clone());
    let mut rows = Vec::new();
    for (i, line) in text_lines(event, &text, room).into_iter().enumerate() {
        let lead = match i {
            0 => Piece::new(prefix.clone(), process.clone()),
            _ => Piece::new(format!("{:>width$}", "│ ", width = PREFIX), Paint::Quiet),
        };
        rows.push(vec![lead, Piece::new(line, paint.clone())]);
    }
    rows
}

/// `text` without its terminal escape sequences (colours).
pub fn strip_escapes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            // CSI: ESC [ parameters final-letter.
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
