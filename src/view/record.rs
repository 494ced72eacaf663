//! `--record FILE`: the human view, byte for byte as the terminal got it, written down with
//! the time of each write, as an asciicast v2 file (the format of asciinema and its web
//! player), so that a run can be published and played again (`proclab replay FILE`,
//! `asciinema play FILE`, or the asciinema web player).
//!
//! The format (<https://docs.asciinema.org/manual/asciicast/v2/>): one line of JSON, the
//! header (`version` 2, the terminal's `width` and `height`, and optional fields), then one
//! JSON array per line, `[time, code, data]`: `time` in seconds since the recording began,
//! code `"o"` for output (`data` is what was written to the terminal) or `"m"` for a marker
//! (`data` is its label; players can jump to it, or pause there).
//!
//! What the recording holds, and why:
//! - Every write of the human view (`render::Out`), taken where the view flushes it to
//!   standard output, so one `"o"` event is one batch of lines, with the time it was shown.
//! - Each `\n` as `\r\n`: the terminal's driver turns one into the other on the way to the
//!   screen (`ONLCR`), and a recording is what reached the screen. A player is a terminal,
//!   where a bare line feed only moves down.
//! - What a terminal echoed of the student's answer at a `--step` prompt (Enter, or `q` and
//!   Enter): the view relies on that echo to end the prompt's line, so without it the next
//!   line would be drawn over the prompt.
//! - A marker at every step, labelled with the step's title, placed right after the step's
//!   heading (and its notes) were drawn: a player that jumps or pauses there shows the step's
//!   own screen. And one where each step ends ([`end_of_step`]), after its last line and
//!   before the next step's screen: `replay --step` pauses there too, so the class reads a
//!   step's result before the next one clears it.
//! - Time is the real time since the recording began, except at `--step` prompts: a wait at
//!   a prompt longer than [`PROMPT_PAUSE`] is cut to it, as the timeline cuts pauses to one
//!   column. A class that talked for ten minutes at a prompt does not want ten minutes of a
//!   still screen in the recording; everything else keeps its real pace.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::view::theme::ThemeName;

/// The longest a wait at a `--step` prompt lasts in a recording: long enough to see the prompt
/// and its answer, short enough that nobody waits through the class's discussion again.
pub const PROMPT_PAUSE: f64 = 1.0;

/// The label of the marker where step `index` ends.
pub fn end_of_step(index: u32, title: &str) -> String {
    crate::text!(
        en: "end of step {index}: {title}",
        zh: "第 {index} 步结束：{title}",
    )
}

/// The rows a recording says it has when the view was not drawn on a terminal (and so never
/// cleared or paged by rows): a common terminal's height.
pub const ROWS_OFF_A_TERMINAL: usize = 24;

/// The header line of an asciicast v2 file, in the order the format's documentation lists
/// its fields.
#[derive(Debug, Serialize)]
pub struct Header {
    pub version: u8,
    pub width: usize,
    pub height: usize,
    /// When the recording began, in seconds since the Unix epoch.
    pub timestamp: u64,
    /// The command line that made the recording.
    pub command: String,
    /// The lesson, and the lab's theme name (`theme dark`, `theme light`, `theme contrast`).
    pub title: String,
    /// The variables asciinema records: `TERM` and `SHELL`, when set.
    pub env: BTreeMap<String, String>,
    /// The terminal colours the lab's theme is made for (see [`TerminalTheme::for_theme`]).
    pub theme: TerminalTheme,
}

/// The `theme` of an asciicast v2 header: the terminal's text and background colours and its
/// 16-colour palette (`#rrggbb` values, joined by `:`), so that a player draws the recording in
/// the colours it was meant for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TerminalTheme {
    pub fg: String,
    pub bg: String,
    pub palette: String,
}

/// The Tango palette (GNOME Terminal's default): the eight colours, then their bright kinds.
const TANGO: [&str; 16] = [
    "#2e3436", "#cc0000", "#4e9a06", "#c4a000", "#3465a4", "#75507b", "#06989a", "#d3d7cf",
    "#555753", "#ef2929", "#8ae234", "#fce94f", "#729fcf", "#ad7fa8", "#34e2e2", "#eeeeec",
];

/// xterm's own palette: stronger colours, for a projector.
const XTERM: [&str; 16] = [
    "#000000", "#cd0000", "#00cd00", "#cdcd00", "#0000ee", "#cd00cd", "#00cdcd", "#e5e5e5",
    "#7f7f7f", "#ff0000", "#00ff00", "#ffff00", "#5c5cff", "#ff00ff", "#00ffff", "#ffffff",
];

impl TerminalTheme {
    /// The terminal each of the lab's themes is made for. The lab cannot read a terminal's
    /// real palette, so this is the kind of terminal the theme assumes: `dark`, Tango on a
    /// dark background; `light`, Tango on white; `contrast`, xterm's palette, white on black.
    pub fn for_theme(name: ThemeName) -> TerminalTheme {
        let (fg, bg, palette) = match name {
            ThemeName::Dark => ("#d3d7cf", "#1e1e1e", TANGO),
            ThemeName::Light => ("#000000", "#ffffff", TANGO),
            ThemeName::Contrast => ("#ffffff", "#000000", XTERM),
        };
        TerminalTheme {
            fg: fg.to_string(),
            bg: bg.to_string(),
            palette: palette.join(":"),
        }
    }
}

/// The name a theme has on the command line (`--theme dark`).
pub fn theme_word(name: ThemeName) -> &'static str {
    match name {
        ThemeName::Dark => "dark",
        ThemeName::Light => "light",
        ThemeName::Contrast => "contrast",
    }
}

impl Header {
    /// A header for a recording of `width` x `height` that begins now.
    pub fn new(width: usize, height: usize, title: String, theme: ThemeName) -> Header {
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        let env = ["TERM", "SHELL"]
            .into_iter()
            .filter_map(|name| Some((name.to_string(), std::env::var(name).ok()?)))
            .collect();
        let command = std::iter::once("proclab".to_string())
            .chain(std::env::args().skip(1))
            .collect::<Vec<_>>()
            .join(" ");
        Header {
            version: 2,
            width,
            height,
            timestamp,
            command,
            title: format!("{title} · theme {}", theme_word(theme)),
            env,
            theme: TerminalTheme::for_theme(theme),
        }
    }
}

/// A recording being written. The human view hands it every byte it writes ([`output`]), and
/// tells it when the bytes reached standard output ([`shown`]), when a step begins
/// ([`marker`]) and when a prompt waits and is answered.
///
/// A write to the file that fails stops the recording (the lesson goes on: it is what the
/// class is watching), and [`finish`] reports it.
///
/// [`output`]: Recorder::output
/// [`shown`]: Recorder::shown
/// [`marker`]: Recorder::marker
/// [`finish`]: Recorder::finish
#[derive(Debug)]
pub struct Recorder {
    path: PathBuf,
    file: Option<File>,
    /// Bytes of whole lines in the file: a line the disk had no room for is cut back to here.
    written: u64,
    began: Instant,
    /// Bytes written by the view and not yet recorded as an `"o"` event.
    pending: Vec<u8>,
    /// Seconds of prompt waits cut out of the recording so far.
    cut: f64,
    /// When the prompt on screen began waiting (real seconds since `began`).
    prompt_since: Option<f64>,
    /// The first error writing the file.
    failed: Option<io::Error>,
}

impl Recorder {
    /// Creates (or empties) `path` and writes the header: a file that cannot be written is
    /// found out here, before the lesson starts.
    ///
    /// Only a regular file (or a new path) is a recording: a FIFO without a reader would hold
    /// the lab before the lesson, and `/dev/null` or `/dev/stdout` cannot be kept (`fsync`
    /// fails on them, after the whole lesson), and a recording that is not a file is not one
    /// that `replay` can play.
    pub fn create(path: &Path, header: &Header) -> io::Result<Recorder> {
        let not_a_file = || {
            io::Error::other(
                "not a regular file (a recording is written to a file: give a file's path)",
            )
        };
        match std::fs::metadata(path) {
            Ok(metadata) if !metadata.is_file() => return Err(not_a_file()),
            _ => {}
        }
        // O_NONBLOCK: a FIFO put there since the check fails at once (ENXIO) rather than wait.
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)?;
        if !file.metadata()?.is_file() {
            return Err(not_a_file());
        }
        // A file-size limit (`ulimit -f`) sends SIGXFSZ, whose default kills the lab without a
        // word; ignored, the write fails with EFBIG and the recording reports it. The lesson's
        // own processes get the default back (`supervisor`).
        // SAFETY: ignoring a signal installs no handler.
        let _ = unsafe {
            nix::sys::signal::signal(
                nix::sys::signal::Signal::SIGXFSZ,
                nix::sys::signal::SigHandler::SigIgn,
            )
        };
        let line = serde_json::to_string(header).map_err(io::Error::other)? + "\n";
        file.write_all(line.as_bytes())?;
        Ok(Recorder {
            path: path.to_path_buf(),
            file: Some(file),
            written: line.len() as u64,
            began: Instant::now(),
            pending: Vec::new(),
            cut: 0.0,
            prompt_since: None,
            failed: None,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes the view wrote (to standard output's buffer): recorded at the next [`shown`].
    ///
    /// [`shown`]: Recorder::shown
    pub fn output(&mut self, bytes: &[u8]) {
        self.pending.extend_from_slice(bytes);
    }

    /// The view flushed what it wrote to standard output: it is on the screen now.
    pub fn shown(&mut self) {
        // A character cut in two stays pending until its other half comes.
        let whole = match std::str::from_utf8(&self.pending) {
            Ok(_) => self.pending.len(),
            Err(error) if error.error_len().is_none() => error.valid_up_to(),
            Err(_) => self.pending.len(),
        };
        if whole == 0 {
            return;
        }
        let bytes: Vec<u8> = self.pending.drain(..whole).collect();
        // As the terminal's driver does (ONLCR): every line feed reaches the screen as
        // carriage return and line feed.
        let text = String::from_utf8_lossy(&bytes).replace('\n', "\r\n");
        self.event("o", &text);
    }

    /// A step begins: a marker labelled with its title, after what was drawn so far.
    pub fn marker(&mut self, label: &str) {
        self.shown();
        self.event("m", label);
    }

    /// A `--step` prompt is on the screen and waits for the student.
    pub fn prompt_waits(&mut self) {
        self.shown();
        if self.prompt_since.is_none() {
            self.prompt_since = Some(self.began.elapsed().as_secs_f64());
        }
    }

    /// The prompt was answered: what waited longer than `PROMPT_PAUSE` is cut out, and the
    /// recording goes on from where the cut pause ended.
    pub fn prompt_answered(&mut self) {
        if let Some(since) = self.prompt_since.take() {
            let waited = self.began.elapsed().as_secs_f64() - since;
            self.cut += (waited - PROMPT_PAUSE).max(0.0);
        }
    }

    /// The time of something happening now, in the recording: real time since it began,
    /// minus the prompt waits cut out; during a long wait, the time stands still at the end of
    /// the `PROMPT_PAUSE` it is given.
    fn now(&self) -> f64 {
        let real = self.began.elapsed().as_secs_f64();
        let real = match self.prompt_since {
            Some(since) => real.min(since + PROMPT_PAUSE),
            None => real,
        };
        // Microseconds, as asciinema writes them.
        ((real - self.cut).max(0.0) * 1e6).round() / 1e6
    }

    /// One event line, written at once: a recording cut short (the lab killed) is still a
    /// valid file up to its last whole line.
    fn event(&mut self, code: &str, data: &str) {
        let time = self.now();
        let Some(file) = self.file.as_mut() else {
            return;
        };
        let line = match serde_json::to_string(&(time, code, data)) {
            Ok(line) => line + "\n",
            Err(error) => {
                self.failed = Some(io::Error::other(error));
                self.file = None;
                return;
            }
        };
        match file.write_all(line.as_bytes()) {
            Ok(()) => self.written += line.len() as u64,
            Err(error) => {
                // A full disk (or `ulimit -f`) took part of the line: cut it off, so that the
                // recording ends with its last whole line and plays.
                let _ = file.set_len(self.written);
                self.failed = Some(error);
                self.file = None;
            }
        }
    }

    /// Records what is still pending and closes the file; the first error on the way, if any.
    pub fn finish(&mut self) -> io::Result<()> {
        self.shown();
        if let Some(file) = self.file.take()
            && let Err(error) = file.sync_all()
        {
            self.failed.get_or_insert(error);
        }
        match self.failed.take() {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn recorder() -> (Recorder, PathBuf) {
        let path = std::env::temp_dir().join(format!(
            "proclab-record-unit-{}-{:?}.cast",
            std::process::id(),
            std::thread::current().id()
        ));
        let header = Header::new(80, 24, "a test".to_string(), ThemeName::Light);
        (Recorder::create(&path, &header).unwrap(), path)
    }

    fn lines(path: &Path) -> Vec<serde_json::Value> {
        let text = std::fs::read_to_string(path).unwrap();
        std::fs::remove_file(path).unwrap();
        text.lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    #[test]
    fn the_header_comes_first_with_its_version_size_and_theme() {
        let (mut recorder, path) = recorder();
        recorder.finish().unwrap();
        // As written: the fields in the order of the format's documentation.
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with(r#"{"version":2,"width":80,"height":24,"#));
        let lines = lines(&path);
        assert_eq!(lines[0]["title"], "a test · theme light");
        assert_eq!(lines[0]["theme"]["bg"], "#ffffff");
        let palette = lines[0]["theme"]["palette"].as_str().unwrap();
        assert_eq!(palette.split(':').count(), 16);
    }

    #[test]
    fn line_feeds_reach_the_recording_as_the_terminal_shows_them() {
        let (mut recorder, path) = recorder();
        recorder.output("one\ntwo 主进程\n".as_bytes());
        recorder.shown();
        recorder.marker("Step title");
        recorder.finish().unwrap();
        let lines = lines(&path);
        assert_eq!(lines[1][1], "o");
        assert_eq!(lines[1][2], "one\r\ntwo 主进程\r\n");
        assert_eq!(lines[2][1], "m");
        assert_eq!(lines[2][2], "Step title");
    }

    #[test]
    fn half_a_character_waits_for_its_other_half() {
        let (mut recorder, path) = recorder();
        let bytes = "進".as_bytes();
        recorder.output(&bytes[..1]);
        recorder.shown();
        recorder.output(&bytes[1..]);
        recorder.finish().unwrap();
        let lines = lines(&path);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1][2], "進");
    }

    #[test]
    fn a_long_wait_at_a_prompt_is_cut_to_the_prompt_pause() {
        let (mut recorder, path) = recorder();
        recorder.output(b"prompt");
        recorder.prompt_waits();
        // A minute passes at the prompt.
        recorder.began = recorder.began.checked_sub(Duration::from_secs(60)).unwrap();
        recorder.prompt_answered();
        recorder.output(b"after");
        recorder.finish().unwrap();
        let lines = lines(&path);
        let before = lines[1][0].as_f64().unwrap();
        let after = lines[2][0].as_f64().unwrap();
        // The minute became PROMPT_PAUSE, and the recording goes on from there.
        assert!(before < 0.5, "{before}");
        assert!(after >= before + PROMPT_PAUSE, "{before} {after}");
        assert!(after < PROMPT_PAUSE + 1.0, "{after}");
    }
}
