//! How events look: the human view (aligned, coloured lines; a process tree and a timeline at
//! the end) and the JSON view (one object per line, for tools and graders).
//!
//! Only the supervisor renders. Lessons never print; they emit events (see `context.rs`).

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::{self, IsTerminal, Write};
use std::rc::Rc;
use std::time::Duration;

use colored::{Color, ColoredString, Colorize};
use unicode_width::UnicodeWidthChar;

use crate::lab::Pacing;
use crate::runtime::context;
use crate::runtime::event::{Actor, Event, Kind, Prompt, describe_exitcode};
use crate::runtime::procfs::describe_state;
use crate::text;
use crate::view::lang::{self, Lang};
use crate::view::lives::{Cell, Group, Life, Lives, Scale, Sort, family};
use crate::view::notes::{self, Ink, Notes, pad, pad_left};
use crate::view::output::Output;
use crate::view::record::Recorder;

/// Where events go: a person or a program.
pub enum View {
    Human(Box<HumanView>),
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
            View::Human(view) => view.flush(),
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

/// Who a process is in the lesson, which decides its colour: the same role has the same
/// colour in every run and every lesson, whatever its pid or parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The `proclab` process itself (the supervisor).
    Lab,
    /// The lesson's main process (主进程).
    Main,
    /// The tutorial's named children.
    Alex,
    Wupeiqi,
    Yuanhao,
    /// Lesson 4 and `proclab serve`: the server, every handler, every other client.
    Server,
    Handler,
    Client,
    /// Anything else: a colour picked from its name, so it too is the same on every run.
    Other(u64),
}

impl Role {
    /// The role of a process named `name` (a thread shares its process's role).
    pub fn of(name: &str) -> Role {
        match name {
            "proclab" => Role::Lab,
            "main" => Role::Main,
            "alex" => Role::Alex,
            "wupeiqi" => Role::Wupeiqi,
            "yuanhao" => Role::Yuanhao,
            "server" => Role::Server,
            _ if name.starts_with("handler") => Role::Handler,
            _ if name.starts_with("client") => Role::Client,
            // FNV-1a: a fixed hash (std's is seeded afresh on every run).
            _ => Role::Other(name.bytes().fold(0xcbf29ce484222325, |hash, byte| {
                (hash ^ byte as u64).wrapping_mul(0x100000001b3)
            })),
        }
    }
}

/// Which colours a run is drawn in (`--theme`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThemeName {
    /// For a dark terminal (the default).
    Dark,
    /// For a light terminal: no yellow, no bright colours on white.
    Light,
    /// For a projector: nothing dimmed, every coloured word bold, no yellow.
    Contrast,
}

/// The colours of a theme, by role, and how the lab's own kinds of line look.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: ThemeName,
    lab: Color,
    main: Color,
    alex: Color,
    wupeiqi: Color,
    yuanhao: Color,
    server: Color,
    handler: Color,
    client: Color,
    others: &'static [Color],
    note: Option<Color>,
    error: Color,
    code: Color,
    /// Whether lifecycle lines (forked, started, reaped ...) and rules are dimmed. Never in
    /// `contrast`, where dim text vanishes on a projected screen.
    dim: bool,
    /// Whether every coloured word is bold (a projector washes thin colours out).
    bold: bool,
}

impl Theme {
    pub fn new(name: ThemeName) -> Theme {
        match name {
            ThemeName::Dark => Theme {
                name,
                lab: Color::White,
                main: Color::BrightCyan,
                alex: Color::BrightGreen,
                wupeiqi: Color::BrightMagenta,
                yuanhao: Color::BrightBlue,
                server: Color::Cyan,
                handler: Color::Green,
                client: Color::Magenta,
                others: &[Color::Blue, Color::Cyan, Color::Green, Color::Magenta],
                note: Some(Color::Yellow),
                error: Color::BrightRed,
                code: Color::Cyan,
                dim: true,
                bold: false,
            },
            ThemeName::Light => Theme {
                name,
                lab: Color::Black,
                main: Color::Blue,
                alex: Color::Green,
                wupeiqi: Color::Magenta,
                yuanhao: Color::Cyan,
                server: Color::Blue,
                handler: Color::Green,
                client: Color::Magenta,
                others: &[Color::Blue, Color::Cyan, Color::Green, Color::Magenta],
                note: Some(Color::Red),
                error: Color::Red,
                code: Color::Blue,
                dim: false,
                bold: false,
            },
            ThemeName::Contrast => Theme {
                name,
                lab: Color::White,
                main: Color::BrightCyan,
                alex: Color::BrightGreen,
                wupeiqi: Color::BrightMagenta,
                yuanhao: Color::BrightBlue,
                server: Color::BrightCyan,
                handler: Color::BrightGreen,
                client: Color::BrightMagenta,
                others: &[Color::BrightBlue, Color::BrightCyan, Color::BrightGreen],
                // Notes in the terminal's own text colour, bold: readable on any background.
                note: None,
                error: Color::BrightRed,
                code: Color::BrightCyan,
                dim: false,
                bold: true,
            },
        }
    }

    /// The colour of a role.
    pub fn colour(&self, role: Role) -> Color {
        match role {
            Role::Lab => self.lab,
            Role::Main => self.main,
            Role::Alex => self.alex,
            Role::Wupeiqi => self.wupeiqi,
            Role::Yuanhao => self.yuanhao,
            Role::Server => self.server,
            Role::Handler => self.handler,
            Role::Client => self.client,
            Role::Other(hash) => self.others[(hash % self.others.len() as u64) as usize],
        }
    }

    /// `text` in the colour of the process named `name`.
    fn paint(&self, text: &str, name: &str) -> ColoredString {
        let painted = text.color(self.colour(Role::of(name)));
        if self.bold { painted.bold() } else { painted }
    }

    /// The lab's quieter lines (rules, the legend, lifecycle lines): dimmed where the theme
    /// allows it.
    fn quiet(&self, text: ColoredString) -> ColoredString {
        if self.dim { text.dimmed() } else { text }
    }

    fn note(&self, text: &str) -> ColoredString {
        match self.note {
            Some(colour) => text.color(colour),
            None => text.bold(),
        }
    }

    fn ink(&self) -> Ink {
        Ink {
            code: self.code,
            dim_code_blocks: self.dim,
        }
    }
}

/// Replaces what a terminal may draw one or two columns wide (box drawing, `※ · × ≈`, the
/// timeline's blocks: "ambiguous width" in East Asian terminal settings) by plain ASCII, for
/// `--ascii`. CJK text itself is always two columns wide, and stays.
pub fn to_ascii(text: &str) -> std::borrow::Cow<'_, str> {
    if text.is_ascii() {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '│' | '├' | '┊' => out.push(if c == '┊' { ':' } else { '|' }),
            '─' | '—' | '–' => out.push('-'),
            '└' => out.push('`'),
            '※' => out.push('*'),
            '·' => out.push('-'),
            '×' => out.push('x'),
            '≈' => out.push('~'),
            '█' => out.push('#'),
            '▒' => out.push('='),
            '░' => out.push('.'),
            '…' => out.push_str("..."),
            '→' => out.push_str("->"),
            '≤' => out.push_str("<="),
            '≥' => out.push_str(">="),
            'µ' => out.push('u'),
            '“' | '”' => out.push('"'),
            '‘' | '’' => out.push('\''),
            '\u{a0}' => out.push(' '),
            _ => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Standard output (through the lab's `Output`, which never blocks a stop), with `--ascii`
/// applied to everything written; with `--record`, everything written is also handed to the
/// recording, which notes the time it reached standard output (at each flush).
pub struct Out {
    inner: io::BufWriter<Output>,
    ascii: bool,
    /// Shared with the command line, which finishes the recording after the run.
    recording: Option<Rc<RefCell<Recorder>>>,
}

impl Out {
    pub fn new(ascii: bool) -> Out {
        Out {
            inner: io::BufWriter::new(Output::new()),
            ascii,
            recording: None,
        }
    }

    /// A step begins: everything so far is shown, then a marker with the step's title.
    fn marker(&mut self, label: &str) -> io::Result<()> {
        self.flush()?;
        if let Some(recording) = &self.recording {
            recording.borrow_mut().marker(label);
        }
        Ok(())
    }

    /// A prompt has been drawn (and flushed) and waits for the student.
    fn prompt_waits(&mut self) {
        if let Some(recording) = &self.recording {
            recording.borrow_mut().prompt_waits();
        }
    }

    /// The prompt was answered; `echo` is what the terminal showed of the answer, which only
    /// the recording needs (the terminal has drawn it already).
    fn prompt_answered(&mut self, echo: &str) {
        if let Some(recording) = &self.recording {
            let mut recording = recording.borrow_mut();
            recording.prompt_answered();
            recording.output(echo.as_bytes());
        }
    }
}

impl Write for Out {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        // `write!` hands over whole formatted pieces, so a piece is whole UTF-8.
        match (self.ascii, std::str::from_utf8(bytes)) {
            (true, Ok(text)) => {
                let text = to_ascii(text);
                self.inner.write_all(text.as_bytes())?;
                if let Some(recording) = &self.recording {
                    recording.borrow_mut().output(text.as_bytes());
                }
                Ok(bytes.len())
            }
            _ => {
                let written = self.inner.write(bytes)?;
                if let Some(recording) = &self.recording {
                    recording.borrow_mut().output(&bytes[..written]);
                }
                Ok(written)
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()?;
        if let Some(recording) = &self.recording {
            recording.borrow_mut().shown();
        }
        Ok(())
    }
}

/// The terminal a human view is drawn on.
#[derive(Debug, Clone, PartialEq)]
pub struct Screen {
    pub width: usize,
    /// Rows, when standard output is a terminal (notes are paged to fit); `None` otherwise.
    pub height: Option<usize>,
    /// Whether each step begins on a fresh screen (a terminal, `--step`, no `--no-clear`).
    pub clear: bool,
    /// Whether the view ends a prompt's line itself: when standard input is not a terminal,
    /// nobody's Enter is echoed.
    pub end_prompt_lines: bool,
}

impl Screen {
    /// The terminal on standard output, or a 100-column page when it is not one.
    pub fn of_terminal(step_mode: bool, no_clear: bool) -> Screen {
        let height = terminal_height();
        Screen {
            width: terminal_width(),
            height,
            clear: step_mode && !no_clear && height.is_some(),
            end_prompt_lines: !io::stdin().is_terminal(),
        }
    }
}

/// How a human view looks.
#[derive(Debug, Clone)]
pub struct Looks {
    pub screen: Screen,
    pub theme: Theme,
    pub ascii: bool,
    /// Whether the tree and the timeline fold crowds of alike processes or threads (the
    /// default; `--no-fold` draws every one).
    pub fold: bool,
}

impl Looks {
    /// Plain looks for `width` columns, no terminal behind them.
    pub fn plain(width: usize) -> Looks {
        Looks {
            screen: Screen {
                width,
                height: None,
                clear: false,
                end_prompt_lines: true,
            },
            theme: Theme::new(ThemeName::Dark),
            ascii: false,
            fold: true,
        }
    }
}

/// Width of the `time pid ppid name │ ` prefix.
const PREFIX_COLUMNS: usize = 40;

/// How long (in the lesson's time) an event waits in the view before it is shown, so that an
/// event written a moment later by another process, but stamped earlier, is shown before it:
/// processes reach the pipe in the order the scheduler lets them, not the order things
/// happened.
const REORDER_WINDOW: f64 = 0.030;

/// Rows a notes page leaves free: the lesson's line, the step's title, a blank line, the
/// prompt, and one spare for a line another process prints while the prompt waits.
const ROWS_AROUND_NOTES: usize = 5;

/// A screen never gets fewer rows of notes than this, however small the terminal.
const MIN_NOTES_ROWS: usize = 6;

/// Where a `--step` lesson is, as the view follows it.
#[derive(Debug, Default)]
struct StepState {
    index: u32,
    title: String,
    /// The step's notes, cut into pages that fit the screen, and the page on screen.
    pages: Vec<Vec<String>>,
    page: usize,
    /// Whether the step has been run (its run prompt answered).
    ran: bool,
}

pub struct HumanView {
    out: Out,
    looks: Looks,
    /// With `--notes`: the lesson's notes, printed section by section before each step.
    notes: Option<Notes>,
    steps_in_lesson: usize,
    /// The lesson's line at the top of every fresh screen.
    lesson_line: String,
    saw_lesson: bool,
    step: StepState,
    /// Events not shown yet, in time order (see `REORDER_WINDOW`).
    held: Vec<Event>,
    /// The prompt on screen while the main process waits for Enter. A line that another
    /// process prints meanwhile (a child still running from the step before) goes above it,
    /// and the prompt is drawn again below, so the prompt stays the last line.
    prompt_shown: Option<String>,
    /// `--predict`: the prompt on screen waits for a prediction, not for Enter.
    predicting: bool,
}

impl HumanView {
    pub fn new(looks: Looks, notes: Option<Notes>, steps: usize) -> HumanView {
        HumanView {
            out: Out::new(looks.ascii),
            looks,
            notes,
            steps_in_lesson: steps,
            lesson_line: String::new(),
            saw_lesson: false,
            step: StepState::default(),
            held: Vec::new(),
            prompt_shown: None,
            predicting: false,
        }
    }

    /// `--record`: everything this view writes goes into `recording` too.
    pub fn record_to(&mut self, recording: Rc<RefCell<Recorder>>) {
        self.out.recording = Some(recording);
    }

    /// The `--step` plan for this view: how many pages each step's notes take on this screen.
    /// The lesson's main process is handed the same plan, so each Enter means the same thing
    /// to both.
    pub fn pacing(&self, step_mode: bool) -> Pacing {
        if !step_mode {
            return Pacing::none();
        }
        let pages = match &self.notes {
            Some(notes) => (1..=notes.sections.len())
                .map(|index| self.pages_of(index).len())
                .collect(),
            None => Vec::new(),
        };
        Pacing {
            step_mode: true,
            pages,
            predict: false,
        }
    }

    /// Step `index`'s notes, rendered and cut into pages of what fits under its title.
    fn pages_of(&self, index: usize) -> Vec<Vec<String>> {
        let lines = match self.notes.as_ref().and_then(|n| n.sections.get(index - 1)) {
            Some(section) => notes::render_lines(
                &section.body,
                self.looks.screen.width,
                "  │ ",
                self.looks.theme.ink(),
            ),
            None => Vec::new(),
        };
        let rows = match self.looks.screen.height {
            Some(height) => height.saturating_sub(ROWS_AROUND_NOTES).max(MIN_NOTES_ROWS),
            None => usize::MAX,
        };
        if lines.is_empty() {
            return vec![Vec::new()];
        }
        lines.chunks(rows).map(<[String]>::to_vec).collect()
    }

    /// Takes an event; it is shown once no event stamped earlier can still arrive.
    fn show(&mut self, event: &Event) -> io::Result<()> {
        let at = self.held.partition_point(|held| held.t <= event.t);
        self.held.insert(at, event.clone());
        if matches!(event.kind, Kind::End { .. }) {
            return self.release(f64::INFINITY);
        }
        self.release_settled()
    }

    /// Shows the held events older than the reorder window.
    fn release_settled(&mut self) -> io::Result<()> {
        let now = if context::in_run() {
            context::elapsed()
        } else {
            f64::INFINITY
        };
        self.release(now - REORDER_WINDOW)
    }

    fn release(&mut self, up_to: f64) -> io::Result<()> {
        let settled = self.held.partition_point(|held| held.t <= up_to);
        let events: Vec<Event> = self.held.drain(..settled).collect();
        for event in &events {
            self.present(event)?;
        }
        Ok(())
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.release_settled()?;
        self.out.flush()
    }

    fn width(&self) -> usize {
        self.looks.screen.width
    }

    fn paint(&self, text: &str, name: &str) -> ColoredString {
        self.looks.theme.paint(text, name)
    }

    fn quiet(&self, text: ColoredString) -> ColoredString {
        self.looks.theme.quiet(text)
    }

    fn prefix(&self, event: &Event) -> ColoredString {
        let who = event.actor_label();
        let text = format!(
            "{:>7.3}s {:>6} {:>6}  {} │ ",
            event.t,
            event.pid,
            event.ppid,
            pad(&clip(&who, 13), 13)
        );
        self.paint(&text, &event.name)
    }

    fn present(&mut self, event: &Event) -> io::Result<()> {
        let pacing = match &event.kind {
            Kind::Pause { .. } => true,
            kind => kind.is_prompt(),
        };
        match self.prompt_shown.take() {
            Some(prompt) if !pacing => {
                self.clear_prompt_line()?;
                self.present_event(event)?;
                // On a terminal the prompt is drawn again under the new line.
                if self.looks.screen.height.is_some() {
                    write!(self.out, "{}", prompt.reversed())?;
                    self.prompt_shown = Some(prompt);
                }
                Ok(())
            }
            prompt => {
                self.prompt_shown = prompt;
                self.present_event(event)
            }
        }
    }

    /// Takes the prompt off its line (on a terminal), or ends its line (elsewhere).
    fn clear_prompt_line(&mut self) -> io::Result<()> {
        if self.looks.screen.height.is_some() {
            write!(self.out, "\r\x1b[K")
        } else {
            writeln!(self.out)
        }
    }

    fn present_event(&mut self, event: &Event) -> io::Result<()> {
        let theme = self.looks.theme.clone();
        match &event.kind {
            Kind::Lesson {
                number,
                slug,
                title,
                seed,
                speed,
                ..
            } => {
                self.saw_lesson = true;
                self.lesson_line = text!(
                    en: "proclab · lesson {number} · {slug} · seed {seed} · speed {speed}×",
                    zh: "proclab · 第 {number} 课 · {slug} · 种子 {seed} · 速度 {speed}×",
                );
                let rule = "─".repeat(self.width());
                writeln!(self.out, "{}", self.quiet(rule.normal()))?;
                let heading = text!(
                    en: "proclab · lesson {number} · {slug} — {title}",
                    zh: "proclab · 第 {number} 课 · {slug} — {title}",
                );
                for line in notes::plain_lines(&heading, self.width()) {
                    writeln!(self.out, "{}", line.bold())?;
                }
                let seed_line = text!(
                    en: "seed {seed} (replay with --seed {seed}) · speed {speed}×",
                    zh: "种子 {seed}（用 --seed {seed} 可重放这次运行）· 速度 {speed}×",
                );
                for line in notes::plain_lines(&seed_line, self.width()) {
                    writeln!(self.out, "{line}")?;
                }
                writeln!(self.out, "{}", self.quiet(rule.normal()))?;
                let (time, name, what) = match lang::current() {
                    Lang::En => ("time", "name", "what happened"),
                    Lang::Zh => ("时间", "名称", "发生了什么"),
                };
                let legend = format!(
                    "{} {:>6} {:>6}  {} │ {what}",
                    pad_left(time, 8),
                    "pid",
                    "ppid",
                    pad(name, 13),
                );
                writeln!(self.out, "{}", self.quiet(legend.normal()))
            }
            Kind::Trace { command, .. } => {
                let rule = "─".repeat(self.width());
                writeln!(self.out, "{}", self.quiet(rule.normal()))?;
                let command = command.join(" ");
                let heading = text!(
                    en: "proclab · trace · {command} (seen from outside, with ptrace)",
                    zh: "proclab · 跟踪 · {command}（用 ptrace 从外部观察）",
                );
                for line in notes::plain_lines(&heading, self.width()) {
                    writeln!(self.out, "{}", line.bold())?;
                }
                writeln!(self.out, "{}", self.quiet(rule.normal()))?;
                let (time, name, what) = match lang::current() {
                    Lang::En => ("time", "name", "what happened"),
                    Lang::Zh => ("时间", "名称", "发生了什么"),
                };
                let legend = format!(
                    "{} {:>6} {:>6}  {} │ {what}",
                    pad_left(time, 8),
                    "pid",
                    "ppid",
                    pad(name, 13),
                );
                writeln!(self.out, "{}", self.quiet(legend.normal()))
            }
            Kind::Step { index, title } => self.begin_step(*index, title),
            Kind::Pause { quit, .. } => self.after_prompt(*quit),
            Kind::Wait { .. } if event.kind.as_prompt() == Some(Prompt::Prediction) => {
                self.prediction_prompt()
            }
            Kind::Wait { .. } if event.kind.is_prompt() => self.prompt(),
            Kind::Say { text } => {
                let prefix = self.prefix(event);
                let room = self.text_columns();
                let lines = notes::plain_lines(text, room);
                let name = event.name.clone();
                self.lines(prefix, lines, |line| theme.paint(line, &name))
            }
            Kind::Note { text } => {
                let prefix = self.prefix(event);
                let room = self.text_columns();
                let lines = notes::inline_lines(&format!("※ {text}"), room, theme.ink());
                self.lines(prefix, lines, |line| theme.note(line))
            }
            Kind::Error { text } => {
                let prefix = self.prefix(event);
                let room = self.text_columns();
                let error = text!(en: "error: {text}", zh: "错误：{text}");
                let lines = notes::plain_lines(&error, room);
                self.lines(prefix, lines, |line| line.color(theme.error).bold())
            }
            Kind::End { wall, outcome } => {
                // A lesson's stream opens with a `lesson` event; a tool's (`serve`) does not.
                let outcome = outcome_word(outcome);
                let ended = match self.saw_lesson {
                    true => text!(
                        en: "lesson {outcome} after {wall:.2} s of wall time",
                        zh: "课程{outcome}，共用 {wall:.2} s 墙钟时间（wall time）",
                    ),
                    false => text!(
                        en: "run {outcome} after {wall:.2} s of wall time",
                        zh: "运行{outcome}，共用 {wall:.2} s 墙钟时间（wall time）",
                    ),
                };
                writeln!(self.out)?;
                for line in notes::plain_lines(&ended, self.width()) {
                    writeln!(self.out, "{}", line.bold())?;
                }
                Ok(())
            }
            // Predictions, and what `--repeat` says: their text comes from their own module.
            Kind::Question { .. }
            | Kind::Answer { .. }
            | Kind::Predict { .. }
            | Kind::Outcome { .. }
            | Kind::Summary { .. } => {
                let prefix = self.prefix(event);
                let room = self.text_columns();
                let lines = notes::plain_lines(&crate::predict::shown(event), room);
                self.lines(prefix, lines, |line| theme.note(line).bold())
            }
            Kind::Spawn { .. }
            | Kind::Start
            | Kind::Exec { .. }
            | Kind::Done { .. }
            | Kind::Exit { .. }
            | Kind::State { .. }
            | Kind::Wait { .. }
            | Kind::Woke { .. } => {
                let text = lifecycle_text(event);
                let prefix = self.prefix(event);
                let room = self.text_columns();
                let lines = notes::plain_lines(&text, room);
                let name = event.name.clone();
                self.lines(prefix, lines, |line| {
                    theme.quiet(line.color(theme.colour(Role::of(&name))))
                })
            }
        }
    }

    /// A step begins: on a fresh screen in `--step` mode on a terminal; its title, and its
    /// notes (their first page, when they are paged).
    fn begin_step(&mut self, index: u32, title: &str) -> io::Result<()> {
        self.step = StepState {
            index,
            title: title.to_string(),
            pages: self.pages_of(index as usize),
            page: 0,
            ran: false,
        };
        self.show_page()?;
        // With --record: a marker once the step's heading (and notes) are on the screen, so
        // that a player which jumps or pauses there shows the step's own screen.
        self.out.marker(title)
    }

    /// The step's title and the page of its notes now due, on a fresh screen when clearing.
    fn show_page(&mut self) -> io::Result<()> {
        if self.looks.screen.clear {
            // Clear the screen and put the cursor at the top left: a fresh screen, not a
            // scroll.
            write!(self.out, "\x1b[H\x1b[2J")?;
            let line = clip(&self.lesson_line, self.width());
            writeln!(self.out, "{}", self.quiet(line.normal()))?;
        } else {
            writeln!(self.out)?;
        }
        let continued = match (self.step.page > 0, lang::current()) {
            (false, _) => "",
            (true, Lang::En) => " (continued)",
            (true, Lang::Zh) => "（续）",
        };
        let (index, steps, title) = (self.step.index, self.steps_in_lesson, &self.step.title);
        let heading = clip(
            &text!(
                en: "── Step {index} of {steps}: {title}{continued} ",
                zh: "── 第 {index} 步（共 {steps} 步）：{title}{continued} ",
            ),
            self.width(),
        );
        let fill = self.width().saturating_sub(notes::display_width(&heading));
        writeln!(
            self.out,
            "{}{}",
            heading.bold(),
            self.quiet("─".repeat(fill).normal())
        )?;
        let lines = self
            .step
            .pages
            .get(self.step.page)
            .cloned()
            .unwrap_or_default();
        if !lines.is_empty() {
            for line in lines {
                writeln!(self.out, "{line}")?;
            }
            writeln!(self.out)?;
        }
        Ok(())
    }

    /// The main process waits at a prompt: for the next page of notes, to run the step, or
    /// (after its output) to move on.
    fn prompt(&mut self) -> io::Result<()> {
        let pages = self.step.pages.len();
        let (index, steps) = (self.step.index, self.steps_in_lesson);
        // Every prompt names its step, so that the step and the prompt are on the screen
        // together whatever has scrolled.
        let (lead, keys) = if self.step.ran {
            let next = if (index as usize) < steps {
                let next = index + 1;
                text!(en: "step {next}", zh: "第 {next} 步")
            } else {
                text!(en: "tree and timeline", zh: "进程树和时间线")
            };
            (
                text!(en: "End of step {index} of {steps}", zh: "第 {index}/{steps} 步结束"),
                text!(en: ". Enter: {next}; q: quit ", zh: "。Enter：{next}；q：退出 "),
            )
        } else if self.step.page + 1 < pages {
            let page = self.step.page + 2;
            (
                text!(en: "Step {index} of {steps}", zh: "第 {index}/{steps} 步"),
                text!(
                    en: ". Enter: more notes (page {page} of {pages}); q: quit ",
                    zh: "。Enter：下一页笔记（{page}/{pages}）；q：退出 ",
                ),
            )
        } else {
            (
                text!(en: "Step {index} of {steps}", zh: "第 {index}/{steps} 步"),
                text!(
                    en: ". Press Enter to run it (q and Enter to quit) ",
                    zh: "。按 Enter 运行（q 加 Enter 退出） ",
                ),
            )
        };
        let room = self
            .width()
            .saturating_sub(notes::display_width(&lead) + notes::display_width(&keys) + 4);
        let title = clip_with_ellipsis(&self.step.title, room.max(8));
        let text = clip(
            &text!(en: "{lead} ({title}){keys}", zh: "{lead}（{title}）{keys}"),
            self.width().saturating_sub(1),
        );
        write!(self.out, "{}", text.reversed())?;
        self.prompt_shown = Some(text);
        self.out.flush()?;
        self.out.prompt_waits();
        Ok(())
    }

    /// `--predict`: the main process waits for a prediction (the question is on the screen).
    fn prediction_prompt(&mut self) -> io::Result<()> {
        let text = text!(
            en: "Your prediction: its number, then Enter (q and Enter to quit) ",
            zh: "你的预测：输入选项的序号，再按 Enter（q 加 Enter 退出） ",
        );
        write!(self.out, "{}", text.reversed())?;
        self.prompt_shown = Some(text);
        self.predicting = true;
        self.out.flush()
    }

    /// A prompt was answered.
    fn after_prompt(&mut self, quit: bool) -> io::Result<()> {
        self.prompt_shown = None;
        // On a terminal, the student's answer is echoed, which ends the prompt's line; a
        // recording must hold that echo too, or the next line would be drawn over the prompt.
        let echo = match (self.looks.screen.end_prompt_lines, quit) {
            (true, _) => "",
            (false, true) => "q\n",
            (false, false) => "\n",
        };
        self.out.prompt_answered(echo);
        if self.looks.screen.end_prompt_lines {
            writeln!(self.out)?;
        }
        // A prediction's prompt moves nothing on: the step runs next.
        if quit || std::mem::take(&mut self.predicting) {
            return Ok(());
        }
        if self.step.page + 1 < self.step.pages.len() && !self.step.ran {
            self.step.page += 1;
            self.show_page()
        } else {
            self.step.ran = true;
            Ok(())
        }
    }

    /// Columns for the text after the prefix.
    fn text_columns(&self) -> usize {
        self.width().saturating_sub(PREFIX_COLUMNS).max(30)
    }

    /// Writes `lines` after the prefix, continuation lines aligned under the first.
    fn lines(
        &mut self,
        prefix: ColoredString,
        lines: Vec<String>,
        style: impl Fn(&str) -> ColoredString,
    ) -> io::Result<()> {
        for (i, line) in lines.iter().enumerate() {
            if i == 0 {
                write!(self.out, "{prefix}")?;
            } else {
                write!(self.out, "{:>width$}", "│ ", width = PREFIX_COLUMNS)?;
            }
            writeln!(self.out, "{}", style(line))?;
        }
        Ok(())
    }

    fn finish(&mut self, history: &[Event]) -> io::Result<()> {
        self.release(f64::INFINITY)?;
        let lives = Lives::from_events(history);
        writeln!(self.out)?;
        let title = text!(
            en: "Process tree (who forked whom):",
            zh: "进程树（process tree，谁 fork 了谁）：",
        );
        writeln!(self.out, "{}", title.bold())?;
        if let Some(root) = lives.root() {
            self.tree(&lives, root, "", "")?;
        }
        writeln!(self.out)?;
        self.timeline(&lives)?;
        self.out.flush()
    }

    fn tree(&mut self, lives: &Lives, pid: i32, lead: &str, branch: &str) -> io::Result<()> {
        let Some(life) = lives.process(pid) else {
            return Ok(());
        };
        let name = life.name.clone();
        writeln!(
            self.out,
            "{lead}{branch}{} {}  {}",
            self.paint(&name, &name).bold(),
            self.paint(&pid.to_string(), &name),
            self.quiet(process_ending(life).normal())
        )?;
        let lead = format!(
            "{lead}{}",
            match branch {
                "" => "",
                "├─ " => "│  ",
                _ => "   ",
            }
        );
        let branches = self.branches(lives, pid);
        for (i, under) in branches.iter().enumerate() {
            let branch = if i + 1 == branches.len() {
                "└─ "
            } else {
                "├─ "
            };
            match under {
                Branch::Thread(actor) => self.thread_line(lives, actor, &lead, branch, &name)?,
                Branch::Child(child) => self.tree(lives, *child, &lead, branch)?,
                Branch::Folded(actors) => self.folded_line(lives, actors, &lead, branch)?,
            }
        }
        Ok(())
    }

    /// What the tree shows under process `pid`: its threads, then its children. Folding, a
    /// crowd is its first few, one line for the rest but the last, and its last: the class
    /// sees what one of them looks like, and how many there were.
    fn branches(&self, lives: &Lives, pid: i32) -> Vec<Branch> {
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
                Group::Crowd(mut actors) if self.looks.fold => {
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

    fn thread_line(
        &mut self,
        lives: &Lives,
        actor: &Actor,
        lead: &str,
        branch: &str,
        process_name: &str,
    ) -> io::Result<()> {
        let thread = lives.get(actor);
        let what = match (thread.sort, lang::current()) {
            (Sort::Task, Lang::En) => "task",
            (Sort::Thread | Sort::Process, Lang::En) => "thread",
            (Sort::Task, Lang::Zh) => "任务",
            (Sort::Thread | Sort::Process, Lang::Zh) => "线程",
        };
        let id = actor
            .tid
            .map_or(String::new(), |tid| format!(" (tid {tid})"));
        writeln!(
            self.out,
            "{lead}{branch}{what} {}{}  {}",
            self.paint(&thread.name, process_name),
            self.paint(&id, process_name),
            self.quiet(thread_ending(thread).normal())
        )
    }

    /// The line that stands for the folded part of a crowd: how many, their names and ids,
    /// and how each of them ended, counted. Nothing is hidden without being counted here.
    fn folded_line(
        &mut self,
        lives: &Lives,
        actors: &[Actor],
        lead: &str,
        branch: &str,
    ) -> io::Result<()> {
        let Some(first) = actors.first() else {
            return Ok(());
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
                let kind = match (sort == Sort::Process, lang::current()) {
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
            .width()
            .saturating_sub(notes::display_width(lead) + 3)
            .max(20);
        for (i, line) in notes::plain_lines(&text, room).iter().enumerate() {
            let branch = match (i, branch) {
                (0, _) => branch,
                (_, "└─ ") => "   ",
                _ => "│  ",
            };
            writeln!(self.out, "{lead}{branch}{}", self.quiet(line.normal()))?;
        }
        Ok(())
    }

    fn timeline(&mut self, lives: &Lives) -> io::Result<()> {
        // The title, and what joins it to the text after it on its line.
        let (title, joint) = match lang::current() {
            Lang::En => ("Timeline:", " "),
            Lang::Zh => ("时间线（timeline）：", ""),
        };
        if lives.quit_before_any_step {
            let nothing = text!(
                en: "nothing to draw: the lesson stopped at its first prompt, before any work.",
                zh: "没有可画的：课程停在了第一个提示处，还没做任何工作。",
            );
            writeln!(self.out, "{}{joint}{nothing}", title.bold())?;
            return Ok(());
        }
        let label_columns = 22;
        let columns = self
            .width()
            .min(120)
            .saturating_sub(label_columns + 2)
            .max(20);
        let scale = Scale::new(lives, columns);
        let columns = scale.columns();
        let work = lives.work_span();
        let column = crate::lab::describe(Duration::from_secs_f64(scale.seconds_per_column()));
        let mut legend = vec![text!(
            en: "{work:.2} s of work, one column ≈ {column}",
            zh: "共 {work:.2} s 的工作，每一列 ≈ {column}",
        )];
        if !lives.pauses.is_empty() {
            let paused = crate::lab::describe(Duration::from_secs_f64(lives.paused()));
            legend.push(text!(
                en: "┊ a pause at a prompt ({paused} in all, cut out)",
                zh: "┊ 在提示处的停顿（共 {paused}，已剪掉）",
            ));
        }
        legend.push(text!(
            en: "█ running, ▒ blocked (waiting), ░ ended but not yet reaped (zombie) or joined",
            zh: "█ 运行，▒ 阻塞（等待），░ 已结束但还没被回收（僵尸进程）或 join",
        ));
        let crowds = match self.looks.fold {
            true => Crowds::of(lives),
            false => Crowds::default(),
        };
        if !crowds.lists.is_empty() {
            legend.push(text!(
                en: "N name*: one lane for a crowd of N alike processes or threads (folded in \
                     the tree): █ if any of them ran, else ▒ if any was blocked, else ░ \
                     (--no-fold: a lane each)",
                zh: "N name*：N 个相似的进程或线程合用一行（进程树里也折叠了）：其中有一个在运行\
                     就画 █，否则有一个阻塞就画 ▒，否则画 ░（--no-fold：每个一行）",
            ));
        }
        let mut first = true;
        let lead = format!("{title}{joint}");
        for part in legend {
            let text = if first { format!("{lead}{part}") } else { part };
            for line in notes::plain_lines(&text, self.width()) {
                match line.strip_prefix(lead.as_str()) {
                    Some(rest) if first => writeln!(
                        self.out,
                        "{}{joint}{}",
                        title.bold(),
                        self.quiet(rest.normal())
                    )?,
                    _ => writeln!(self.out, "{}", self.quiet(line.normal()))?,
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
                    let cells = crowd_lane(lives, crowd, &scale, columns);
                    let label = pad(&clip(&crowd_label(lives, crowd), 21), 21);
                    self.lane_line(&label, &cells, &name)?;
                }
                Some(_) => {}
                None => {
                    let cells = lane(life, &scale, columns);
                    let label = format!("{} {:>7}", pad(&clip(&life.name, 13), 13), pid);
                    self.lane_line(&label, &cells, &name)?;
                }
            }
            for actor in lives.threads_of(pid) {
                let thread = lives.get(actor);
                match crowds.of_actor(actor) {
                    Some(crowd) if &crowd[0] == actor => {
                        let cells = crowd_lane(lives, crowd, &scale, columns);
                        let label =
                            format!(" └ {}", pad(&clip(&crowd_label(lives, crowd), 18), 18));
                        self.lane_line(&label, &cells, &name)?;
                    }
                    Some(_) => {}
                    None => {
                        let cells = lane(thread, &scale, columns);
                        let id = actor.tid.map_or(String::new(), |tid| tid.to_string());
                        let label = format!(" └ {} {:>7}", pad(&clip(&thread.name, 10), 10), id);
                        self.lane_line(&label, &cells, &name)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// One lane of the timeline, in the colour of the process it belongs to.
    fn lane_line(&mut self, label: &str, cells: &str, process_name: &str) -> io::Result<()> {
        writeln!(
            self.out,
            "{} │{}│",
            self.paint(label, process_name),
            self.paint(cells, process_name)
        )
    }
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
fn crowd_lane(lives: &Lives, crowd: &[Actor], scale: &Scale, columns: usize) -> String {
    let lanes: Vec<Vec<char>> = crowd
        .iter()
        .map(|actor| lane(lives.get(actor), scale, columns).chars().collect())
        .collect();
    (0..columns)
        .map(|c| {
            let cells = || lanes.iter().map(move |lane| lane[c]);
            ['┊', '█', '▒', '░']
                .into_iter()
                .find(|state| cells().any(|cell| cell == *state))
                .unwrap_or(' ')
        })
        .collect()
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
        (None, _) if life.parent.is_none() => text!(en: "(the lab itself)", zh: "（实验室本身）"),
        (None, _) => text!(en: "never reaped", zh: "从未被回收"),
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
    let separator = match lang::current() {
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

/// One actor's lane: blank before it started, `█` running, `▒` blocked, `░` ended but not yet
/// reaped or joined, blank after; `┊` where a pause at a prompt was cut out.
fn lane(life: &Life, scale: &Scale, columns: usize) -> String {
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
    (0..columns)
        .map(|c| match scale.cell(c) {
            Cell::Break => '┊',
            _ if c < start || c >= reaped => ' ',
            _ if c >= ran_until => '░',
            // It ran to get started: its first cell is never only a wait.
            Cell::At(t) if c > start && life.blocked_at(t, end) => '▒',
            Cell::At(_) => '█',
        })
        .collect()
}

/// The text of a lifecycle event: forked, started, reaped, waiting ...
fn lifecycle_text(event: &Event) -> String {
    // A task (a coroutine on an executor's thread), a thread, or a process.
    let actor = match (&event.task, event.tid, lang::current()) {
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
        } => {
            let how = match (*got, lang::current()) {
                (true, Lang::En) => "got it",
                (false, Lang::En) => "gave up (timed out)",
                (true, Lang::Zh) => "等到了",
                (false, Lang::Zh) => "放弃了（超时）",
            };
            let after = crate::lab::describe(std::time::Duration::from_secs_f64(*after));
            text!(
                en: "woke: {on} {object}, after {after}: {how}",
                zh: "醒来：{on} {object}，等了 {after}，{how}",
            )
        }
        Kind::Lesson { .. }
        | Kind::Trace { .. }
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
        | Kind::Summary { .. } => unreachable!("shown by HumanView::show, not as a lifecycle line"),
    }
}

/// How the run ended, in the language of the run: the `end` event's `outcome` is an English
/// word for tools (`finished`, `failed`, `interrupted`, `stopped`).
fn outcome_word(outcome: &str) -> String {
    let chinese = match outcome {
        "finished" => "完成",
        "failed" => "失败",
        "interrupted" => "被中断",
        "stopped" => "停止",
        other => other,
    };
    match lang::current() {
        Lang::En => outcome.to_string(),
        Lang::Zh => chinese.to_string(),
    }
}

/// `text` cut to at most `columns` terminal columns.
fn clip(text: &str, columns: usize) -> String {
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
fn clip_with_ellipsis(text: &str, columns: usize) -> String {
    if notes::display_width(text) <= columns {
        text.to_string()
    } else {
        format!("{}…", clip(text, columns.saturating_sub(1)))
    }
}

/// Rows of the terminal on standard output, or `None` when it is not a terminal.
pub fn terminal_height() -> Option<usize> {
    if !io::stdout().is_terminal() {
        return None;
    }
    let mut size = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes a `winsize` into the struct we pass; nothing else.
    let ok = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut size) } == 0;
    (ok && size.ws_row >= 10).then_some(size.ws_row as usize)
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
        assert_eq!(lane(lives.process(11).unwrap(), &scale, 10), "███░░░    ");
        assert_eq!(lane(lives.process(12).unwrap(), &scale, 10), "  ██▒▒▒▒█ ");
        assert_eq!(crowd_lane(&lives, &crowd, &scale, 10), "████▒▒▒▒█ ");
        assert_eq!(crowd_label(&lives, &crowd), "2 c*");
    }
}
