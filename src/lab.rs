//! `Lab`: what a lesson's main process is handed. It marks the steps (pausing for Enter in
//! `--step` mode) and draws the seeded random numbers that make a run replayable.
//!
//! Everything else a lesson uses is plain: `Process` to fork, `say!` and `note!` to report,
//! `context::sleep` for sleeps scaled by `--speed`, `procfs` to read `/proc`.

use std::os::fd::AsRawFd;

use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::error::{Error, Result};
use crate::runtime::context;
use crate::runtime::event::Kind;
use crate::view::notes::Notes;

pub struct Lab {
    step_titles: Vec<String>,
    steps_begun: usize,
    /// `--step`: wait for Enter before each step.
    step_mode: bool,
    rng: StdRng,
}

impl Lab {
    pub fn new(notes: &Notes, seed: u64, step_mode: bool) -> Lab {
        Lab {
            step_titles: notes.step_titles().iter().map(|t| t.to_string()).collect(),
            steps_begun: 0,
            step_mode,
            rng: StdRng::seed_from_u64(seed),
        }
    }

    /// Begins the next step. Its title must be the next `## ` heading of the lesson's notes
    /// (the notes and the code are kept in step this way). In `--step` mode, waits for Enter
    /// first; `q` and Enter stops the lesson.
    pub fn step(&mut self, title: &str) -> Result<()> {
        let expected = self.step_titles.get(self.steps_begun);
        if expected.map(String::as_str) != Some(title) {
            return Err(Error::lesson(format!(
                "step {} is titled {title:?} in the code but {expected:?} in the notes",
                self.steps_begun + 1
            )));
        }
        self.steps_begun += 1;
        context::emit(Kind::Step {
            index: self.steps_begun as u32,
            title: title.to_string(),
        });
        if self.step_mode {
            match read_line_from_stdin() {
                Some(line) if line.trim().eq_ignore_ascii_case("q") => return Err(Error::Quit),
                Some(_) => {}
                // Input ended: run the rest without pausing.
                None => self.step_mode = false,
            }
        }
        Ok(())
    }

    /// The seeded random number generator: the same `--seed` gives the same numbers.
    pub fn rng(&mut self) -> &mut StdRng {
        &mut self.rng
    }

    /// Checks, at the end, that the lesson ran every step its notes describe.
    pub fn check_all_steps_ran(&self) -> Result<()> {
        if self.steps_begun == self.step_titles.len() {
            Ok(())
        } else {
            Err(Error::lesson(format!(
                "the lesson ran {} of the {} steps in its notes",
                self.steps_begun,
                self.step_titles.len()
            )))
        }
    }
}

/// One line from standard input, read a byte at a time so that nothing beyond the line is
/// taken into a buffer (a buffer that a later `fork` would copy into every child).
fn read_line_from_stdin() -> Option<String> {
    let stdin = std::io::stdin();
    let fd = stdin.as_raw_fd();
    let mut line = Vec::new();
    loop {
        let mut byte = 0u8;
        // SAFETY: reads at most one byte into a valid one-byte buffer.
        let got = unsafe { libc::read(fd, (&mut byte as *mut u8).cast(), 1) };
        match got {
            1 if byte == b'\n' => break,
            1 => line.push(byte),
            0 if line.is_empty() => return None,
            0 => break,
            _ if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted => {}
            _ => return None,
        }
    }
    Some(String::from_utf8_lossy(&line).into_owned())
}

/// A duration for a note: `850 ms` below two seconds, `2.31 s` above.
pub fn describe(duration: std::time::Duration) -> String {
    if duration.as_secs_f64() < 2.0 {
        format!("{:.0} ms", duration.as_secs_f64() * 1000.0)
    } else {
        format!("{:.2} s", duration.as_secs_f64())
    }
}
