//! The terminal the human views are drawn on: its size (one `TIOCGWINSZ` for both numbers),
//! and what a line view knows of it.

use std::io::{self, IsTerminal};

/// Rows and columns of the terminal on standard output, when it is one and says its size.
pub fn size() -> Option<(usize, usize)> {
    let mut size = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes a `winsize` into the struct we pass; nothing else.
    let ok = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut size) } == 0;
    (ok && size.ws_row > 0 && size.ws_col > 0)
        .then_some((size.ws_row as usize, size.ws_col as usize))
}

/// Rows of the terminal on standard output, or `None` when it is not a terminal.
pub fn terminal_height() -> Option<usize> {
    if !io::stdout().is_terminal() {
        return None;
    }
    size().map(|(rows, _)| rows).filter(|&rows| rows >= 10)
}

/// Columns of the terminal on standard output, or 100 when it is not a terminal.
pub fn terminal_width() -> usize {
    if let Some((_, columns)) = size().filter(|&(_, columns)| columns >= 40) {
        return columns;
    }
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .filter(|&c: &usize| c >= 40)
        .unwrap_or(100)
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
