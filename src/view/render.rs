//! How events look: the human view (aligned, coloured lines; a process tree and a timeline at
//! the end) and the JSON view (one object per line, for tools and graders).
//!
//! Only the supervisor renders. Lessons never print; they emit events (see `context.rs`).

use std::collections::HashMap;
use std::io::{self, Write};

use colored::{Color, ColoredString, Colorize};

use crate::runtime::event::{Event, Kind, describe_exitcode};
use crate::runtime::procfs::describe_state;
use crate::view::notes::{self, Notes};
use crate::view::output::Output;

/// Where events go: a person or a program.
pub enum View {
    Human(HumanView),
    Json(JsonView),
}

impl View {
    pub fn show(&mut self, event: &Event) -> io::Result<()> {
        match self {
            View::Human(view) => view.show(event),
            View::Json(view) => view.show(event),
        }
    }

    /// After the last event: the human view draws the process tree and the timeline.
    pub fn finish(&mut self, history: &[Event]) -> io::Result<()> {
        match self {
            View::Human(view) => view.finish(history),
            View::Json(view) => view.out.flush(),
        }
    }

    pub fn flush(&mut self) -> io::Result<()> {
        match self {
            View::Human(view) => view.out.flush(),
            View::Json(view) => view.out.flush(),
        }
    }
}

pub struct JsonView {
    out: io::BufWriter<Output>,
}

impl JsonView {
    pub fn new() -> JsonView {
        JsonView {
            out: io::BufWriter::new(Output::new()),
        }
    }

    fn show(&mut self, event: &Event) -> io::Result<()> {
        writeln!(self.out, "{}", event.to_json())
    }
}

impl Default for JsonView {
    fn default() -> Self {
        JsonView::new()
    }
}

/// One colour per process, in the order they first appear.
const PALETTE: [Color; 8] = [
    Color::Cyan,
    Color::Green,
    Color::Magenta,
    Color::Blue,
    Color::BrightYellow,
    Color::BrightCyan,
    Color::BrightGreen,
    Color::BrightMagenta,
];

/// Width of the `time pid ppid name │ ` prefix.
const PREFIX_COLUMNS: usize = 40;

pub struct HumanView {
    out: io::BufWriter<Output>,
    width: usize,
    /// With `--notes`: the lesson's notes, printed section by section before each step.
    notes: Option<Notes>,
    /// With `--step`: a prompt after each step's title.
    step_mode: bool,
    steps_in_lesson: usize,
    colours: HashMap<i32, Color>,
    saw_lesson: bool,
}

/// A long-running server sees a new pid for every connection: past this many, colours are
/// handed out afresh rather than remembered forever.
const MAX_REMEMBERED_COLOURS: usize = 4096;

impl HumanView {
    pub fn new(width: usize, notes: Option<Notes>, step_mode: bool, steps: usize) -> HumanView {
        HumanView {
            out: io::BufWriter::new(Output::new()),
            width,
            notes,
            step_mode,
            steps_in_lesson: steps,
            colours: HashMap::new(),
            saw_lesson: false,
        }
    }

    fn colour_of(&mut self, pid: i32) -> Color {
        if self.colours.len() >= MAX_REMEMBERED_COLOURS && !self.colours.contains_key(&pid) {
            self.colours.clear();
        }
        let next = PALETTE[self.colours.len() % PALETTE.len()];
        *self.colours.entry(pid).or_insert(next)
    }

    fn prefix(&mut self, event: &Event) -> ColoredString {
        let colour = self.colour_of(event.pid);
        let who = match event.tid {
            Some(tid) => format!("{}/{tid}", event.name),
            None => event.name.clone(),
        };
        format!(
            "{:>7.3}s {:>6} {:>6}  {:<13} │ ",
            event.t,
            event.pid,
            event.ppid,
            clip(&who, 13)
        )
        .color(colour)
    }

    fn show(&mut self, event: &Event) -> io::Result<()> {
        match &event.kind {
            Kind::Lesson {
                number,
                slug,
                title,
                seed,
                speed,
            } => {
                self.saw_lesson = true;
                let rule = "─".repeat(self.width.min(100));
                writeln!(self.out, "{}", rule.dimmed())?;
                writeln!(
                    self.out,
                    "{} {}",
                    format!("proclab · lesson {number} · {slug}").bold(),
                    format!("— {title}").bold()
                )?;
                writeln!(
                    self.out,
                    "seed {seed} (replay with --seed {seed}) · speed {speed}×"
                )?;
                writeln!(self.out, "{}", rule.dimmed())?;
                let legend = format!(
                    "{:>8} {:>6} {:>6}  {:<13} │ {}",
                    "time", "pid", "ppid", "name", "what happened"
                );
                writeln!(self.out, "{}", legend.dimmed())
            }
            Kind::Step { index, title } => self.show_step(*index, title),
            Kind::Say { text } => {
                let colour = self.colour_of(event.pid);
                let prefix = self.prefix(event);
                self.lines(prefix, text, |line| line.color(colour))
            }
            Kind::Note { text } => {
                let prefix = self.prefix(event);
                self.lines(prefix, &format!("※ {text}"), |line| line.yellow())
            }
            Kind::Error { text } => {
                let prefix = self.prefix(event);
                self.lines(prefix, &format!("error: {text}"), |line| line.red().bold())
            }
            Kind::End { wall, outcome } => {
                // A lesson's stream opens with a `lesson` event; a tool's (`serve`) does not.
                let what = if !self.saw_lesson { "run" } else { "lesson" };
                writeln!(self.out)?;
                writeln!(
                    self.out,
                    "{}",
                    format!("{what} {outcome} after {wall:.2} s of wall time").bold()
                )
            }
            other => {
                let text = lifecycle_text(other);
                let prefix = self.prefix(event);
                self.lines(prefix, &text, |line| line.dimmed())
            }
        }
    }

    fn show_step(&mut self, index: u32, title: &str) -> io::Result<()> {
        writeln!(self.out)?;
        let heading = format!("── Step {index} of {}: {title} ", self.steps_in_lesson);
        let fill = self
            .width
            .min(100)
            .saturating_sub(notes::display_width(&heading));
        writeln!(self.out, "{}{}", heading.bold(), "─".repeat(fill).dimmed())?;
        let section = self
            .notes
            .as_ref()
            .and_then(|n| n.sections.get(index as usize - 1));
        if let Some(section) = section {
            writeln!(
                self.out,
                "{}",
                notes::render(&section.body, self.width, "  │ ")
            )?;
            writeln!(self.out)?;
        }
        if self.step_mode {
            write!(
                self.out,
                "{}",
                "Press Enter to run this step (q and Enter to quit) ".reversed()
            )?;
            self.out.flush()?;
            writeln!(self.out)?;
        }
        Ok(())
    }

    /// Writes `text` after the prefix; long texts wrap, continuation lines aligned under it.
    fn lines(
        &mut self,
        prefix: ColoredString,
        text: &str,
        style: impl Fn(&str) -> ColoredString,
    ) -> io::Result<()> {
        let room = self.width.saturating_sub(PREFIX_COLUMNS).max(30);
        let mut first = true;
        for paragraph in text.lines() {
            for line in notes::wrap(paragraph, room, 0) {
                if first {
                    write!(self.out, "{prefix}")?;
                    first = false;
                } else {
                    write!(self.out, "{:>width$}", "│ ", width = PREFIX_COLUMNS)?;
                }
                writeln!(self.out, "{}", style(&line))?;
            }
        }
        if first {
            writeln!(self.out, "{prefix}")?;
        }
        Ok(())
    }

    fn finish(&mut self, history: &[Event]) -> io::Result<()> {
        let lives = Lives::from_events(history);
        writeln!(self.out)?;
        writeln!(self.out, "{}", "Process tree (who forked whom):".bold())?;
        if let Some(root) = lives.root() {
            self.tree(&lives, root, "", "")?;
        }
        writeln!(self.out)?;
        self.timeline(&lives)?;
        self.out.flush()
    }

    fn tree(&mut self, lives: &Lives, pid: i32, lead: &str, branch: &str) -> io::Result<()> {
        let life = &lives.by_pid[&pid];
        let colour = self.colour_of(pid);
        let ended = match (life.exitcode, life.reaped_by) {
            (Some(code), Some(reaper)) if Some(reaper) != life.parent => format!(
                "exit {} (orphan, reaped by {reaper})",
                describe_exitcode(code)
            ),
            (Some(code), _) => format!("exit {}", describe_exitcode(code)),
            (None, _) if life.parent.is_none() => "(the lab itself)".to_string(),
            (None, _) => "never reaped".to_string(),
        };
        writeln!(
            self.out,
            "{lead}{branch}{} {}  {}",
            life.name.color(colour).bold(),
            pid.to_string().color(colour),
            ended.dimmed()
        )?;
        let children = lives.children_of(pid);
        let lead = format!(
            "{lead}{}",
            match branch {
                "" => "",
                "├─ " => "│  ",
                _ => "   ",
            }
        );
        for (i, child) in children.iter().enumerate() {
            let branch = if i + 1 == children.len() {
                "└─ "
            } else {
                "├─ "
            };
            self.tree(lives, *child, &lead, branch)?;
        }
        Ok(())
    }

    fn timeline(&mut self, lives: &Lives) -> io::Result<()> {
        let label_columns = 22;
        let columns = self
            .width
            .min(120)
            .saturating_sub(label_columns + 2)
            .max(20);
        let span = lives.last_t.max(0.001);
        writeln!(
            self.out,
            "{} {}",
            "Timeline:".bold(),
            format!(
                "0 to {span:.2} s, one column ≈ {:.0} ms; █ running, ░ exited but not yet reaped (zombie)",
                span * 1000.0 / columns as f64
            )
            .dimmed()
        )?;
        for pid in lives.in_order() {
            let life = &lives.by_pid[&pid];
            let column = |t: f64| ((t / span) * columns as f64).round() as usize;
            // Every process gets at least one cell, even one that starts in the last column.
            let start = column(life.started.unwrap_or(0.0)).min(columns - 1);
            let ran_until = column(life.ran_until().unwrap_or(span)).max(start + 1);
            let reaped = column(life.reaped.unwrap_or(span)).max(ran_until);
            let mut lane = String::new();
            for c in 0..columns {
                lane.push(if c < start {
                    ' '
                } else if c < ran_until {
                    '█'
                } else if c < reaped {
                    '░'
                } else {
                    ' '
                });
            }
            let colour = self.colour_of(pid);
            let label = format!("{:<13} {:>7}", clip(&life.name, 13), pid);
            writeln!(self.out, "{} │{}│", label.color(colour), lane.color(colour))?;
        }
        Ok(())
    }
}

fn lifecycle_text(kind: &Kind) -> String {
    match kind {
        Kind::Spawn { child, child_name } => format!("forked child {child} ({child_name})"),
        Kind::Start => "started".to_string(),
        Kind::Done { code } => format!("leaving with _exit({code})"),
        Kind::Exit { child, exitcode } => {
            format!("reaped {child}: exitcode {}", describe_exitcode(*exitcode))
        }
        Kind::State { of, state, ppid_of } => match (state.chars().next(), ppid_of) {
            (Some(letter), Some(ppid)) if state != "gone" => format!(
                "/proc/{of}/stat: state {state} ({}), parent {ppid}",
                describe_state(letter)
            ),
            _ => format!("/proc/{of}: gone (no such process any more)"),
        },
        _ => String::new(),
    }
}

fn clip(text: &str, columns: usize) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if notes::display_width(&out) + notes::display_width(&c.to_string()) > columns {
            break;
        }
        out.push(c);
    }
    out
}

/// Each process's life, gathered from the events: for the tree and the timeline.
#[derive(Debug, Default)]
pub struct Lives {
    pub by_pid: HashMap<i32, Life>,
    /// Pids in the order they were forked.
    order: Vec<i32>,
    last_t: f64,
}

#[derive(Debug, Default, Clone)]
pub struct Life {
    pub name: String,
    /// The process that forked it.
    pub parent: Option<i32>,
    pub started: Option<f64>,
    /// When it said it was leaving (`done`); absent when a signal ended it.
    pub done: Option<f64>,
    pub reaped: Option<f64>,
    pub reaped_by: Option<i32>,
    pub exitcode: Option<i32>,
}

impl Life {
    /// When it stopped running: `done`, or else when it was reaped (killed by a signal).
    fn ran_until(&self) -> Option<f64> {
        self.done.or(self.reaped)
    }
}

impl Lives {
    pub fn from_events(events: &[Event]) -> Lives {
        let mut lives = Lives::default();
        for event in events {
            lives.last_t = lives.last_t.max(event.t);
            match &event.kind {
                Kind::Lesson { .. } => {
                    let life = lives.life(event.pid);
                    life.name = event.name.clone();
                    life.started = Some(0.0);
                }
                Kind::Spawn { child, child_name } => {
                    let life = lives.life(*child);
                    life.name = child_name.clone();
                    life.parent = Some(event.pid);
                    life.started.get_or_insert(event.t);
                }
                Kind::Start => {
                    lives.life(event.pid).started = Some(event.t);
                }
                Kind::Done { .. } => lives.life(event.pid).done = Some(event.t),
                Kind::Exit { child, exitcode } => {
                    let life = lives.life(*child);
                    life.reaped = Some(event.t);
                    life.reaped_by = Some(event.pid);
                    life.exitcode = Some(*exitcode);
                }
                _ => {}
            }
        }
        lives
    }

    fn life(&mut self, pid: i32) -> &mut Life {
        if !self.by_pid.contains_key(&pid) {
            self.order.push(pid);
        }
        self.by_pid.entry(pid).or_default()
    }

    fn root(&self) -> Option<i32> {
        self.order.first().copied()
    }

    fn children_of(&self, pid: i32) -> Vec<i32> {
        self.order
            .iter()
            .copied()
            .filter(|child| self.by_pid[child].parent == Some(pid))
            .collect()
    }

    fn in_order(&self) -> Vec<i32> {
        self.order.clone()
    }
}

/// Columns of the terminal on standard output, or 100 when it is not a terminal.
pub fn terminal_width() -> usize {
    let mut size = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes a `winsize` into the struct we pass; nothing else.
    let ok = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut size) } == 0;
    if ok && size.ws_col >= 40 {
        return size.ws_col as usize;
    }
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .filter(|&c: &usize| c >= 40)
        .unwrap_or(100)
}
