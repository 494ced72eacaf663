//! What the full-screen view knows and shows: the pages, the page on screen, the view of it
//! (its output and notes, the tree, the timeline), and what each key does. No terminal here:
//! `draw` draws this on any screen, a test's too.

use crate::runtime::event::{Event, Kind, Prompt};
use crate::text;
use crate::view::notes::{self, Notes};
use crate::view::screen::keys::Key;
use crate::view::screen::page::{Filter, Page, Phase, strip_escapes};
use crate::view::wording::outcome_word;

/// Which view of the run is on screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Showing {
    Page,
    Tree,
    Timeline,
    Keys,
}

/// Which half of a narrow page is shown (both are, side by side, on a wide screen).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Half {
    Output,
    Notes,
}

/// How far down a text is scrolled: to the end, following what comes (`None`), or at a row.
pub type Scroll = Option<usize>;

/// The timeline's zoom and pan: columns per second of work, and the first column shown.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Zoom {
    /// 1: the whole span fits the screen; each `+` doubles it.
    pub factor: f64,
    pub from_column: usize,
}

pub struct State {
    /// The lesson's line (`proclab · lesson 3 · daemon-terminate · seed 7`).
    pub lesson_line: String,
    pub steps_in_lesson: usize,
    /// The notes of each step, when there are notes to show.
    pub notes: Option<Notes>,
    pub pages: Vec<Page>,
    /// The page on screen (an index into `pages`).
    pub on_screen: usize,
    pub showing: Showing,
    pub half: Half,
    pub filter: Filter,
    pub output_scroll: Scroll,
    /// Rows of the output at the last draw: PgUp and PgDn move by one screen of it.
    pub output_rows: usize,
    /// The first row shown when the output follows its tail, at the last draw: where ↑ and
    /// PgUp move from while it follows. Before the page is drawn, "past the end" (the draw
    /// clamps it to the tail).
    pub output_tail_top: usize,
    pub notes_scroll: usize,
    pub view_scroll: usize,
    /// The tree and the timeline: of the page on screen (false) or of the whole run.
    pub whole_run: bool,
    pub zoom: Zoom,
    /// The prompt the main process waits at, if it does.
    pub waiting: Option<Prompt>,
    /// Whether the answer to that prompt has been sent (it waits no more once it reads it).
    pub answered: bool,
    /// The question of `--predict` now asked: its choices.
    pub question: Option<(u32, String, Vec<String>)>,
    /// Whether the prompt now waiting has been drawn (for the recording's pause cut).
    pub prompt_drawn: bool,
    /// A word for the footer after a key that did nothing (Enter while a step runs).
    pub hint: Option<String>,
    /// `q` while a step runs: stop the run.
    pub stop_asked: bool,
    /// Every event so far, for the tree and the timeline.
    pub history: Vec<Event>,
    /// How the run ended, once it has.
    pub ended: Option<String>,
    /// The step at whose prompt `q` was answered.
    pub quit_at: Option<u32>,
    /// The first step the student has not yet had the result of, for the summary.
    pub last_step: u32,
}

impl State {
    pub fn new(notes: Option<Notes>, steps_in_lesson: usize) -> State {
        State {
            lesson_line: String::new(),
            steps_in_lesson,
            notes,
            pages: vec![Page::new(0, "")],
            on_screen: 0,
            showing: Showing::Page,
            half: Half::Output,
            filter: Filter::default(),
            output_scroll: None,
            output_rows: 0,
            output_tail_top: usize::MAX / 2,
            notes_scroll: 0,
            view_scroll: 0,
            whole_run: false,
            zoom: Zoom {
                factor: 1.0,
                from_column: 0,
            },
            waiting: None,
            answered: false,
            question: None,
            prompt_drawn: false,
            hint: None,
            stop_asked: false,
            history: Vec::new(),
            ended: None,
            quit_at: None,
            last_step: 0,
        }
    }

    fn current(&mut self) -> &mut Page {
        self.pages.last_mut().expect("there is always a page")
    }

    /// The prompt waiting for an answer not yet sent.
    pub fn asks(&self) -> Option<Prompt> {
        self.waiting.filter(|_| !self.answered)
    }

    /// Whether the page on screen is the step now under way.
    pub fn at_current(&self) -> bool {
        self.on_screen + 1 == self.pages.len()
    }

    /// Takes one event of the run.
    pub fn add(&mut self, event: &Event) {
        self.history.push(event.clone());
        match &event.kind {
            Kind::Lesson {
                number,
                slug,
                seed,
                speed,
                ..
            } => {
                self.lesson_line = text!(
                    en: "proclab · lesson {number} · {slug} · seed {seed} · speed {speed}×",
                    zh: "proclab · 第 {number} 课 · {slug} · 种子 {seed} · 速度 {speed}×",
                );
            }
            Kind::Step { index, title } => {
                let follow = self.at_current();
                if let Some(previous) = self.pages.last_mut()
                    && previous.index > 0
                {
                    previous.phase = Phase::Ended;
                }
                let mut page = Page::new(*index, title);
                page.began = event.t;
                self.pages.push(page);
                self.last_step = *index;
                // Before a step runs, its notes; once it runs, its output.
                self.half = Half::Notes;
                // The class follows the lesson, unless the teacher went back to a page.
                if follow {
                    self.show_page(self.pages.len() - 1);
                }
                return;
            }
            Kind::Wait { .. } if let Some(prompt) = event.kind.as_prompt() => {
                self.waiting = Some(prompt);
                self.answered = false;
                self.prompt_drawn = false;
                let page = self.current();
                // The prompt after a step has run: its result is in.
                if prompt == Prompt::Enter && page.phase == Phase::Running {
                    page.phase = Phase::Ended;
                }
            }
            Kind::Pause { quit, .. } => {
                let was = self.waiting.take();
                self.answered = false;
                self.hint = None;
                if *quit {
                    self.quit_at = Some(self.current().index);
                } else if was == Some(Prompt::Enter) && self.current().phase == Phase::NotRun {
                    self.current().phase = Phase::Running;
                    self.current().ran_from = Some(event.t);
                    self.half = Half::Output;
                }
            }
            Kind::Question {
                step,
                question,
                choices,
            } => {
                self.question = Some((*step, question.clone(), choices.clone()));
            }
            // The prediction is pinned on the page (`Page::result`); Enter then runs the step.
            Kind::Answer { .. } => self.question = None,
            Kind::End { outcome, .. } => {
                self.ended = Some(outcome.clone());
                self.waiting = None;
                if self.current().index > 0 {
                    self.current().phase = Phase::Ended;
                }
            }
            _ => {}
        }
        self.current().events.push(event.clone());
    }

    fn show_page(&mut self, index: usize) {
        self.on_screen = index.min(self.pages.len() - 1);
        self.output_scroll = None;
        // Not known until this page is drawn: till then ↑ stays at the tail (the draw clamps).
        self.output_tail_top = usize::MAX / 2;
        self.notes_scroll = 0;
        self.filter = Filter::default();
    }

    /// What a key does. Returns what to pass on to the main process: the answer to the
    /// prompt it waits at, only when this key answers it.
    pub fn key(&mut self, key: Key, width: usize) -> Vec<u8> {
        self.hint = None;
        if self.showing == Showing::Keys {
            self.showing = Showing::Page;
            return Vec::new();
        }
        match key {
            Key::Char('?') => self.showing = Showing::Keys,
            Key::Char('q') | Key::Char('Q') => return self.quit(),
            Key::Enter => return self.enter(),
            Key::Char(digit @ '1'..='9') if self.asks() == Some(Prompt::Prediction) => {
                if !self.at_current() {
                    self.show_page(self.pages.len() - 1);
                }
                let choices = self.question.as_ref().map_or(0, |q| q.2.len());
                let number = digit.to_digit(10).unwrap_or(0) as usize;
                if number <= choices {
                    self.answered = true;
                    return format!("{number}\n").into_bytes();
                }
            }
            Key::Char('t') => self.toggle(Showing::Tree),
            Key::Char('l') => self.toggle(Showing::Timeline),
            Key::Char('w') => self.whole_run = !self.whole_run,
            Key::Escape => self.showing = Showing::Page,
            Key::Char('a') => {
                self.filter.all = !self.filter.all;
                self.filter.only = None;
            }
            Key::Char('f') => self.next_lane(),
            Key::Tab | Key::Char('N') => {
                self.half = match self.half {
                    Half::Output => Half::Notes,
                    Half::Notes => Half::Output,
                }
            }
            Key::Char('+') | Key::Char('=') if self.showing == Showing::Timeline => {
                self.zoom.factor = (self.zoom.factor * 2.0).min(4096.0);
            }
            Key::Char('-') if self.showing == Showing::Timeline => {
                self.zoom.factor = (self.zoom.factor / 2.0).max(1.0);
                self.zoom.from_column = 0;
            }
            Key::Left if self.showing == Showing::Timeline => {
                self.zoom.from_column = self.zoom.from_column.saturating_sub(width / 2);
            }
            Key::Right if self.showing == Showing::Timeline => {
                self.zoom.from_column += width / 2;
            }
            Key::Left | Key::Char('p') if self.on_screen > 0 => {
                self.show_page(self.on_screen - 1);
            }
            Key::Right | Key::Char('n') if !self.at_current() => {
                self.show_page(self.on_screen + 1);
            }
            Key::Up | Key::Char('k') => self.scroll(-1),
            Key::Down | Key::Char('j') => self.scroll(1),
            Key::PageUp => self.scroll(-(self.page_rows() as isize)),
            Key::PageDown | Key::Char(' ') => self.scroll(self.page_rows() as isize),
            Key::Home => self.scroll_to(Some(0)),
            Key::End => self.scroll_to(None),
            _ => {}
        }
        Vec::new()
    }

    /// How far PgUp and PgDn move: the output on screen but its last row, which stays in
    /// view to read on from (10 before the first draw).
    fn page_rows(&self) -> usize {
        match self.output_rows {
            0 => 10,
            rows => rows.saturating_sub(1).max(1),
        }
    }

    fn toggle(&mut self, showing: Showing) {
        self.showing = if self.showing == showing {
            Showing::Page
        } else {
            showing
        };
        self.view_scroll = 0;
    }

    /// Enter: at a prompt, on the current page, answers it; anywhere else it does nothing but
    /// say why.
    fn enter(&mut self) -> Vec<u8> {
        if self.showing != Showing::Page {
            self.showing = Showing::Page;
            return Vec::new();
        }
        match self.asks() {
            Some(Prompt::Enter) if self.at_current() => {
                self.answered = true;
                b"\n".to_vec()
            }
            Some(_) if !self.at_current() => {
                self.hint = Some(text!(
                    en: "an earlier page: → goes back to the current step",
                    zh: "这是前面的页：按 → 回到当前这一步",
                ));
                Vec::new()
            }
            Some(Prompt::Prediction) => {
                self.hint = Some(text!(
                    en: "type the number of your prediction",
                    zh: "请输入你预测的选项序号",
                ));
                Vec::new()
            }
            _ => {
                if self.ended.is_none() {
                    self.hint = Some(text!(
                        en: "the step is still running: Enter waits for its end",
                        zh: "这一步还在运行：等它结束再按 Enter",
                    ));
                }
                Vec::new()
            }
        }
    }

    /// q: at a prompt, the answer `q` (the lesson stops there); while a step runs, the run is
    /// stopped as Ctrl-C stops it. Never asked twice.
    fn quit(&mut self) -> Vec<u8> {
        if self.asks().is_some() {
            self.answered = true;
            return b"q\n".to_vec();
        }
        if self.answered {
            // Answered already: the main process is about to read it.
            return Vec::new();
        }
        if self.ended.is_none() {
            self.stop_asked = true;
        }
        Vec::new()
    }

    /// `f`: the output of one lane (actor) after another, then all again.
    fn next_lane(&mut self) {
        let actors = self.pages[self.on_screen].actors();
        let next = match &self.filter.only {
            None => actors.first().cloned(),
            Some(only) => {
                let at = actors.iter().position(|a| a == only);
                at.and_then(|i| actors.get(i + 1).cloned())
            }
        };
        self.filter.only = next;
        self.output_scroll = None;
    }

    fn scroll(&mut self, by: isize) {
        match (self.showing, self.half) {
            (Showing::Tree | Showing::Timeline, _) => {
                self.view_scroll = self.view_scroll.saturating_add_signed(by);
            }
            (_, Half::Notes) => {
                self.notes_scroll = self.notes_scroll.saturating_add_signed(by);
            }
            (_, Half::Output) => {
                // While it follows the tail, from the row the tail began at when last drawn
                // (the draw clamps what goes past the tail, and follows it again there).
                let from = self.output_scroll.unwrap_or(self.output_tail_top);
                self.output_scroll = Some(from.saturating_add_signed(by));
            }
        }
    }

    fn scroll_to(&mut self, to: Scroll) {
        match (self.showing, self.half) {
            (Showing::Tree | Showing::Timeline, _) => self.view_scroll = to.unwrap_or(0),
            (_, Half::Notes) => self.notes_scroll = to.unwrap_or(usize::MAX / 2),
            (_, Half::Output) => self.output_scroll = to,
        }
    }

    /// The notes of the page on screen, `width` columns wide, as plain lines.
    pub fn notes_of_page(&self, width: usize) -> Vec<String> {
        let page = &self.pages[self.on_screen];
        let Some(notes) = &self.notes else {
            return Vec::new();
        };
        let Some(section) = notes.sections.get((page.index as usize).wrapping_sub(1)) else {
            return Vec::new();
        };
        notes::render_lines(
            &section.body,
            width.saturating_sub(1),
            "",
            Default::default(),
        )
        .iter()
        .map(|line| strip_escapes(line))
        .collect()
    }

    /// The summary's first line: how the run ended, and where.
    pub fn summary_line(&self) -> String {
        let step = self.last_step;
        match (self.quit_at, self.ended.as_deref()) {
            (Some(at), _) => text!(
                en: "lesson stopped at step {at} of {}",
                zh: "课程停在第 {at} 步（共 {} 步）",
                self.steps_in_lesson
            ),
            (None, Some("finished")) => text!(en: "lesson finished", zh: "课程完成"),
            (None, Some(outcome)) => {
                let word = outcome_word(outcome);
                text!(
                    en: "lesson {word} during step {step} of {}",
                    zh: "课程在第 {step} 步（共 {} 步）时{word}",
                    self.steps_in_lesson
                )
            }
            (None, None) => text!(en: "lesson stopped", zh: "课程停止"),
        }
    }
}
