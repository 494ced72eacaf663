//! The full-screen view of `run --step` on a terminal (the lab screen): each step is a page
//! that stays, with its title, its output (the story first), the notes beside it, and, once
//! the step has run, its result pinned; the tree and the timeline are views of their own, at
//! any time, for the step or the whole run.
//!
//! The view owns the keyboard. The lesson's main process still reads its answers from its
//! standard input, a pipe the supervisor fills: the view hands the supervisor an answer only
//! when the main process waits at a prompt (its `wait` on `prompt` has been shown) and the key
//! that answers it is pressed on the current page. So a key typed while a step runs never
//! advances the lesson, and nothing typed before a prompt answers it.
//!
//! `state` is the model (pages, what is shown, what a key does); `draw` puts it on a screen
//! of any size; `tty` takes the terminal and always gives it back; `keys` reads the keys.

pub mod draw;
pub mod keys;
pub mod page;
pub mod state;
pub mod tty;

use std::cell::RefCell;
use std::io::{self, Write};
use std::rc::Rc;
use std::time::{Duration, Instant};

use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

use crate::runtime::event::{Event, Kind};
use crate::text;
use crate::view::lives::Lives;
use crate::view::out::Out;
use crate::view::terminal;
use crate::view::theme::{Drawn, Looks};
use crate::view::{timeline, tree};

pub use state::State;

/// The smallest terminal the full-screen view is drawn on; below it, the line view.
pub const MIN_COLUMNS: usize = 60;
pub const MIN_ROWS: usize = 16;

/// At most this often a redraw: a step that prints a thousand lines costs a few frames.
const FRAME: Duration = Duration::from_millis(40);

/// The full-screen view, on the terminal.
pub struct ScreenView {
    state: State,
    /// Where the screen is written: standard output (and the recording, with `--record`).
    out: Rc<RefCell<Out>>,
    terminal: Option<Terminal<CrosstermBackend<Shared>>>,
    looks: Looks,
    last_draw: Option<Instant>,
    dirty: bool,
    /// The terminal's size at the last draw: a resize redraws.
    size: (usize, usize),
}

/// Whether the terminal on standard output is big enough for the full-screen view; `Err` has
/// its size when it is not.
pub fn fits() -> Result<(), (usize, usize)> {
    match terminal::size() {
        Some((rows, columns)) if rows >= MIN_ROWS && columns >= MIN_COLUMNS => Ok(()),
        Some(size) => Err(size),
        None => Err((0, 0)),
    }
}

impl ScreenView {
    /// Takes the terminal. `out` is where the screen is written (with `--record`, into the
    /// recording too).
    pub fn new(state: State, looks: Looks, out: Out) -> io::Result<ScreenView> {
        tty::take().map_err(io::Error::from)?;
        let out = Rc::new(RefCell::new(out));
        out.borrow_mut().write_all(tty::ENTER)?;
        let terminal = Terminal::new(CrosstermBackend::new(Shared(out.clone())));
        let terminal = match terminal {
            Ok(terminal) => terminal,
            Err(error) => {
                tty::give_back();
                return Err(error);
            }
        };
        Ok(ScreenView {
            state,
            out,
            terminal: Some(terminal),
            looks,
            last_draw: None,
            dirty: true,
            size: (0, 0),
        })
    }

    pub fn show(&mut self, event: &Event) -> io::Result<()> {
        let began = self.state.pages.len();
        if matches!(event.kind, Kind::Step { .. }) {
            self.step_ended()?;
        }
        self.state.add(event);
        self.dirty = true;
        if self.state.pages.len() > began && self.out.borrow().recording() {
            // With --record: a marker where each step's page begins, once it is drawn.
            self.draw()?;
            let title = self.state.pages.last().map_or("", |p| p.title.as_str());
            self.out.borrow_mut().marker(title)?;
        }
        Ok(())
    }

    /// With --record: the step on screen has ended; a marker once its last frame is drawn,
    /// before the next step's page (or the summary) replaces it.
    fn step_ended(&mut self) -> io::Result<()> {
        let Some(page) = self.state.pages.last() else {
            return Ok(());
        };
        if page.index == 0 || !self.out.borrow().recording() {
            return Ok(());
        }
        let label = crate::view::record::end_of_step(page.index, &page.title);
        self.draw()?;
        self.out.borrow_mut().marker(&label)
    }

    /// Redraws, when something changed (an event, a key, the terminal's size) and the last
    /// frame is old enough.
    pub fn flush(&mut self) -> io::Result<()> {
        let size = terminal::size().unwrap_or(self.size);
        if size != self.size {
            self.size = size;
            self.dirty = true;
            if let Some(terminal) = self.terminal.as_mut() {
                let _ = terminal.autoresize();
            }
        }
        let due = self.last_draw.is_none_or(|last| last.elapsed() >= FRAME);
        if !self.dirty || !due {
            return Ok(());
        }
        self.draw()
    }

    fn draw(&mut self) -> io::Result<()> {
        let Some(terminal) = self.terminal.as_mut() else {
            return Ok(());
        };
        let state = &mut self.state;
        let theme = &self.looks.theme;
        let was_waiting = state.prompt_drawn;
        terminal.draw(|frame| draw::draw(frame, state, theme))?;
        let mut out = self.out.borrow_mut();
        out.flush()?;
        if state.prompt_drawn && !was_waiting {
            // With --record: the wait at a prompt is cut short, as in the line view.
            out.prompt_waits();
        }
        self.last_draw = Some(Instant::now());
        self.dirty = false;
        Ok(())
    }

    /// Keys typed; what to pass on to the main process (an answer to its prompt, or nothing).
    pub fn keys(&mut self, bytes: &[u8]) -> Vec<u8> {
        let mut answer = Vec::new();
        for key in keys::parse(bytes) {
            answer.extend(self.state.key(key, self.size.1.max(MIN_COLUMNS)));
        }
        if !answer.is_empty() {
            self.out.borrow_mut().prompt_answered("");
        }
        self.dirty = true;
        answer
    }

    /// Whether `q` was pressed while a step ran: the run is to stop now.
    pub fn wants_to_stop(&self) -> bool {
        self.state.stop_asked
    }

    /// The run is over: the terminal is given back, and the run's summary (how it ended, the
    /// tree and the timeline, as the line view draws them) goes to the normal screen, where
    /// the terminal's scrollback keeps it.
    pub fn finish(&mut self, history: &[Event]) -> io::Result<()> {
        if self.terminal.is_none() {
            return Ok(());
        }
        self.step_ended()?;
        self.terminal = None;
        let mut out = self.out.borrow_mut();
        // Through `out`, so that a recording leaves the full screen too.
        out.write_all(tty::LEAVE)?;
        out.flush()?;
        tty::give_back_quietly();
        let width = terminal::terminal_width();
        let mut lines: Vec<Drawn> = Vec::new();
        for line in notes_lines(&self.state.summary_line(), width) {
            lines.push(line);
        }
        let lives = Lives::from_events(history);
        lines.push(Vec::new());
        lines.extend(tree::tree(&lives, width, self.looks.fold));
        lines.push(Vec::new());
        lines.extend(timeline::timeline(&lives, width, self.looks.fold));
        // Last, where the run leaves the screen: the verdicts of --predict, together.
        let recap = crate::predict::recap(history);
        if !recap.is_empty() {
            lines.push(Vec::new());
        }
        for said in recap {
            lines.extend(notes_lines(&said, width));
        }
        for line in &lines {
            for piece in line {
                write!(out, "{}", self.looks.theme.colour_piece(piece))?;
            }
            writeln!(out)?;
        }
        out.flush()
    }
}

/// The backend's writer: the view's `Out`, which the view keeps too, to write the summary
/// once the screen is gone.
struct Shared(Rc<RefCell<Out>>);

impl Write for Shared {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().write(bytes)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.borrow_mut().flush()
    }
}

impl Drop for ScreenView {
    fn drop(&mut self) {
        tty::give_back();
    }
}

/// `text` as bold drawn lines of at most `width` columns.
fn notes_lines(text: &str, width: usize) -> Vec<Drawn> {
    crate::view::notes::plain_lines(text, width)
        .into_iter()
        .map(|line| {
            vec![crate::view::theme::Piece::new(
                line,
                crate::view::theme::Paint::Bold,
            )]
        })
        .collect()
}

/// The one line said when the terminal is too small for the full-screen view.
pub fn too_small(size: (usize, usize)) -> String {
    let (rows, columns) = size;
    text!(
        en: "The terminal is {columns}x{rows}: the full screen needs {MIN_COLUMNS}x{MIN_ROWS}, \
             so the lesson goes on in the line view.",
        zh: "终端只有 {columns}x{rows}：全屏视图至少要 {MIN_COLUMNS}x{MIN_ROWS}，所以课程以逐行视图继续。",
    )
}
