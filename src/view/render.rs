//! How events look: the human view (aligned, coloured lines; a process tree and a timeline at
//! the end) and the JSON view (one object per line, for tools and graders).
//!
//! Only the supervisor renders. Lessons never print; they emit events (see `context.rs`).

use std::cell::RefCell;
use std::io::{self, Write};
use std::rc::Rc;

use colored::{ColoredString, Colorize};

use crate::i18n::{self, Lang};
use crate::lab::Pacing;
use crate::runtime::context;
use crate::runtime::event::{Event, Kind, Prompt};
use crate::text;
use crate::view::lives::Lives;
use crate::view::notes::{self, Notes, pad, pad_left};
use crate::view::out::Out;
use crate::view::output::Output;
use crate::view::record::{self, Recorder};
use crate::view::screen::ScreenView;
use crate::view::step::{self, StepState};
use crate::view::theme::{Drawn, Looks, Role};
use crate::view::wording::{clip, lifecycle_text, outcome_word};
use crate::view::{timeline, tree};

/// Where events go: a person or a program.
pub enum View {
    Human(Box<HumanView>),
    /// The full-screen view of `run --step` on a terminal (`screen`).
    Screen(Box<ScreenView>),
    Json(JsonView),
    /// Another view, and a copy of the whole run's events kept for after the run
    /// (`--export` draws its pictures from them).
    Keeping(Box<View>, Rc<RefCell<Vec<Event>>>),
}

impl View {
    pub fn show(&mut self, event: &Event) -> io::Result<()> {
        match self {
            View::Human(view) => view.show(event),
            View::Screen(view) => view.show(event),
            View::Json(view) => view.show(event),
            View::Keeping(view, kept) => {
                kept.borrow_mut().push(event.clone());
                view.show(event)
            }
        }
    }

    /// After the last event: the human views draw the process tree and the timeline.
    pub fn finish(&mut self, history: &[Event]) -> io::Result<()> {
        match self {
            View::Human(view) => view.finish(history),
            View::Screen(view) => view.finish(history),
            View::Json(view) => view.out.flush(),
            View::Keeping(view, kept) => {
                // The run's whole history, including what was not shown (standard output
                // closed early).
                *kept.borrow_mut() = history.to_vec();
                view.finish(history)
            }
        }
    }

    pub fn flush(&mut self) -> io::Result<()> {
        match self {
            View::Human(view) => view.flush(),
            View::Screen(view) => view.flush(),
            View::Json(view) => view.out.flush(),
            View::Keeping(view, _) => view.flush(),
        }
    }

    /// Whether the view reads the keyboard itself (and says what to answer a prompt with).
    pub fn owns_keyboard(&self) -> bool {
        match self {
            View::Screen(_) => true,
            View::Keeping(view, _) => view.owns_keyboard(),
            View::Human(_) | View::Json(_) => false,
        }
    }

    /// Keys typed: what to pass on to the main process's standard input.
    pub fn keys(&mut self, bytes: &[u8]) -> Vec<u8> {
        match self {
            View::Screen(view) => view.keys(bytes),
            View::Keeping(view, _) => view.keys(bytes),
            View::Human(_) | View::Json(_) => bytes.to_vec(),
        }
    }

    /// Whether the view asks for the run to stop (`q` while a step runs).
    pub fn wants_to_stop(&self) -> bool {
        match self {
            View::Screen(view) => view.wants_to_stop(),
            View::Keeping(view, _) => view.wants_to_stop(),
            View::Human(_) | View::Json(_) => false,
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

/// Width of the `time pid ppid name │ ` prefix.
const PREFIX_COLUMNS: usize = 40;

/// Below this many columns the prefix beside a line would leave the text 20 columns or less
/// (at 40, none): the prefix goes on a line of its own, the text under it. (The lab screen's
/// minimum too: a terminal this narrow gets the line view.)
const NARROW: usize = 60;
/// The text's indent under its prefix when narrow.
const NARROW_INDENT: &str = "  ";

/// How long (in the lesson's time) an event waits in the view before it is shown, so that an
/// event written a moment later by another process, but stamped earlier, is shown before it:
/// processes reach the pipe in the order the scheduler lets them, not the order things
/// happened.
const REORDER_WINDOW: f64 = 0.030;

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
    /// The step at whose prompt the student answered `q`.
    quit_at: Option<u32>,
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
            quit_at: None,
        }
    }

    /// `--record`: everything this view writes goes into `recording` too.
    pub fn record_to(&mut self, recording: Rc<RefCell<Recorder>>) {
        self.out.record_to(recording);
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
        step::pages_of(self.notes.as_ref(), index, &self.looks)
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

    /// Whether the screen is too narrow for the prefix beside the text: below `NARROW`
    /// columns, the prefix has a line of its own above the text.
    fn narrow(&self) -> bool {
        self.width() < NARROW
    }

    /// The line that names the prefix's columns, under the lesson's heading.
    fn legend(&mut self) -> io::Result<()> {
        let (time, name, what) = match i18n::current() {
            Lang::En => ("time", "name", "what happened"),
            Lang::Zh => ("时间", "名称", "发生了什么"),
        };
        let legend = match self.narrow() {
            true => format!("{time} · pid · ppid · {name}\n  {what}"),
            false => format!(
                "{} {:>6} {:>6}  {} │ {what}",
                pad_left(time, 8),
                "pid",
                "ppid",
                pad(name, 13),
            ),
        };
        writeln!(self.out, "{}", self.quiet(legend.normal()))
    }

    fn prefix(&self, event: &Event) -> ColoredString {
        let who = event.actor_label();
        let text = match self.narrow() {
            true => clip(
                &format!("{:.3}s · {} · {} · {who}", event.t, event.pid, event.ppid),
                self.width(),
            ),
            false => format!(
                "{:>7.3}s {:>6} {:>6}  {} │ ",
                event.t,
                event.pid,
                event.ppid,
                pad(&clip(&who, 13), 13)
            ),
        };
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
                // On a terminal the prompt is drawn again under the new line; but not under
                // the lab's own notes at a prompt, which say the run is ending (stopped by a
                // signal): that prompt waits for nothing any more. The lab reaping an orphan
                // late (lesson 3) is a line like any other: the prompt still waits under it.
                let ending = (event.name == "proclab" && matches!(event.kind, Kind::Note { .. }))
                    || matches!(event.kind, Kind::End { .. });
                if self.looks.screen.height.is_some() && !ending {
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
                self.legend()
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
                self.legend()
            }
            Kind::Step { index, title } => self.begin_step(*index, title),
            // Drawn on the timeline; a line each would bury the lesson's own lines.
            Kind::Sleep { .. } => Ok(()),
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
                self.step_ended()?;
                // A lesson's stream opens with a `lesson` event; a tool's (`serve`) does not.
                let outcome = outcome_word(outcome);
                let steps = self.steps_in_lesson;
                let ended = match (self.saw_lesson, self.quit_at) {
                    (true, Some(step)) => text!(
                        en: "lesson stopped at step {step} of {steps} after {wall:.2} s of wall \
                             time",
                        zh: "课程停在第 {step} 步（共 {steps} 步），共用 {wall:.2} s 墙钟时间\
                             （wall time）",
                    ),
                    (true, None) => text!(
                        en: "lesson {outcome} after {wall:.2} s of wall time",
                        zh: "课程{outcome}，共用 {wall:.2} s 墙钟时间（wall time）",
                    ),
                    (false, _) => text!(
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
        self.step_ended()?;
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

    /// With --record: a marker where the step on screen ends, before the next one clears it.
    fn step_ended(&mut self) -> io::Result<()> {
        match self.step.index {
            0 => Ok(()),
            index => {
                let label = record::end_of_step(index, &self.step.title);
                self.out.marker(&label)
            }
        }
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
        let heading = self.step.heading(self.steps_in_lesson, self.width());
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
        let text = self.step.prompt(self.steps_in_lesson, self.width());
        write!(self.out, "{}", text.reversed())?;
        self.prompt_shown = Some(text);
        self.out.flush()?;
        self.out.prompt_waits();
        Ok(())
    }

    /// `--predict`: the main process waits for a prediction (the question is on the screen).
    fn prediction_prompt(&mut self) -> io::Result<()> {
        let text = match self.narrow() {
            true => text!(en: "Your prediction (its number): ", zh: "你的预测（序号）："),
            false => text!(
                en: "Your prediction: its number, then Enter (q and Enter to quit) ",
                zh: "你的预测：输入选项的序号，再按 Enter（q 加 Enter 退出） ",
            ),
        };
        write!(self.out, "{}", text.reversed())?;
        self.prompt_shown = Some(text);
        self.predicting = true;
        self.out.flush()
    }

    /// A prompt was answered.
    fn after_prompt(&mut self, quit: bool) -> io::Result<()> {
        self.prompt_shown = None;
        if quit {
            self.quit_at = Some(self.step.index);
        }
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

    /// Columns for the text after the prefix (under it, when narrow).
    fn text_columns(&self) -> usize {
        match self.narrow() {
            true => self.width().saturating_sub(NARROW_INDENT.len()),
            false => self.width().saturating_sub(PREFIX_COLUMNS).max(30),
        }
    }

    /// Writes `lines` after the prefix, continuation lines aligned under the first; when
    /// narrow, the prefix on its own line and the lines indented under it.
    fn lines(
        &mut self,
        prefix: ColoredString,
        lines: Vec<String>,
        style: impl Fn(&str) -> ColoredString,
    ) -> io::Result<()> {
        if self.narrow() {
            writeln!(self.out, "{prefix}")?;
            for line in &lines {
                writeln!(self.out, "{NARROW_INDENT}{}", style(line))?;
            }
            return Ok(());
        }
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
        let (width, fold) = (self.width(), self.looks.fold);
        writeln!(self.out)?;
        let tree = tree::tree(&lives, width, fold);
        let timeline = timeline::timeline(&lives, width, fold);
        self.drawn(&tree)?;
        writeln!(self.out)?;
        self.drawn(&timeline)?;
        // Last, where the run leaves the screen: the verdicts of --predict, together.
        let recap = crate::predict::recap(history);
        if !recap.is_empty() {
            writeln!(self.out)?;
        }
        for said in recap {
            for line in notes::plain_lines(&said, width) {
                writeln!(self.out, "{}", line.bold())?;
            }
        }
        self.out.flush()
    }

    /// Lines built by the tree or the timeline, in this view's colours.
    fn drawn(&mut self, lines: &[Drawn]) -> io::Result<()> {
        for line in lines {
            for piece in line {
                write!(self.out, "{}", self.looks.theme.colour_piece(piece))?;
            }
            writeln!(self.out)?;
        }
        Ok(())
    }
}
