//! `proclab replay FILE`: plays a recording (`proclab run N --record FILE`, or any asciicast
//! v2 file) in this terminal, at the pace it was recorded (`--speed` to change it), and with
//! `--step` pauses at every marker until Enter: a lab's recording has one where each step
//! begins and one where it ends, so the class reads a step's result before the next step's
//! screen clears it.
//!
//! The whole file is read and checked before anything is played, so a damaged recording is
//! one line of error, not half a lesson and then an error. What is played is exactly the
//! recording's output, on standard output; the `--step` prompt goes to standard error, so that
//! `proclab replay FILE > copy` still holds only what was recorded.

use std::fs;
use std::io::{self, IsTerminal, Write};
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use colored::Colorize;
use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};
use nix::sys::termios::{LocalFlags, SetArg, Termios, tcgetattr, tcsetattr};
use serde_json::Value;

use crate::error::{Error, Result, Status};
use crate::runtime::stop::{self, stop_signal};
use crate::view::output::Output;
use crate::view::terminal::terminal_width;

/// What `proclab replay` was asked to do.
pub struct ReplayOptions {
    pub path: PathBuf,
    pub speed: f64,
    pub step: bool,
}

/// A recording is read whole before it plays; past this size it is not one of ours (a lesson's
/// recording is tens of kilobytes), and reading it would only fill the memory.
const LARGEST_RECORDING: u64 = 64 * 1024 * 1024;

/// The latest time an event of a recording may have: a week. (A lesson's recording lasts
/// minutes; a time of `1e20` seconds is not a time the player can wait for.)
const LONGEST_RECORDING_S: f64 = 7.0 * 24.0 * 3600.0;

/// A checked asciicast v2 recording.
#[derive(Debug, PartialEq)]
pub struct Recording {
    pub width: u64,
    pub height: u64,
    /// The events to play, their times already shortened by `idle_time_limit`, when the
    /// header has one (asciinema's way to cap the still stretches of a recording).
    pub events: Vec<Played>,
    /// The number of the last line when it was cut short (not JSON, and no line feed after it:
    /// a disk that filled up, or the lab killed mid-write): everything before it plays.
    pub torn_line: Option<usize>,
}

/// One event of a recording, as it is played.
#[derive(Debug, PartialEq)]
pub enum Played {
    /// Text for the terminal, at `time` seconds.
    Output { time: f64, text: String },
    /// A marker (a lesson's step), with its label.
    Marker { time: f64, label: String },
}

impl Played {
    fn time(&self) -> f64 {
        match self {
            Played::Output { time, .. } | Played::Marker { time, .. } => *time,
        }
    }
}

/// Checks `text` against the asciicast v2 format: a header line (a JSON object with
/// `"version": 2` and whole `width` and `height`), then one `[time, code, data]` array per line,
/// times not negative and never going back, code and data strings. Events other than output
/// (`"o"`) and markers (`"m"`) (input `"i"`, resize `"r"`) are checked and skipped. The error
/// says which line is wrong and how.
pub fn parse(text: &str) -> std::result::Result<Recording, String> {
    let mut lines = text.lines().enumerate().map(|(i, line)| (i + 1, line));
    let header = match lines.next() {
        Some((_, line)) if !line.trim().is_empty() => line,
        _ => return Err("the file is empty: a recording begins with its header line".into()),
    };
    let header: Value = serde_json::from_str(header)
        .ok()
        .filter(Value::is_object)
        .ok_or("line 1 is not an asciicast header (a JSON object with \"version\": 2)")?;
    match &header["version"] {
        Value::Number(n) if n.as_u64() == Some(2) => {}
        Value::Null => return Err("the header has no \"version\" (2 is needed)".into()),
        other => {
            return Err(format!(
                "asciicast version {other}: only version 2 can be played"
            ));
        }
    }
    let size = |field: &str| match header[field].as_u64() {
        Some(n) if (1..=10_000).contains(&n) => Ok(n),
        _ if header[field].is_null() => Err(format!("the header has no \"{field}\"")),
        _ => Err(format!(
            "the header's \"{field}\" must be a whole number from 1 to 10000, not {}",
            header[field]
        )),
    };
    let (width, height) = (size("width")?, size("height")?);
    let idle_limit = header["idle_time_limit"].as_f64().filter(|&l| l > 0.0);

    let mut events = Vec::new();
    let mut torn_line = None;
    let last_number = text.lines().count();
    let ends_whole = text.ends_with('\n');
    let mut last_time = 0.0;
    // Times as played: with an idle time limit, each gap is cut to at most the limit.
    let mut played_time = 0.0;
    for (number, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let at = |what: String| format!("line {number}: {what}");
        let event: Value = match serde_json::from_str(line) {
            Ok(event) => event,
            Err(_) if number == last_number && !ends_whole => {
                torn_line = Some(number);
                break;
            }
            Err(_) => return Err(at("not JSON (an event is [time, code, data])".into())),
        };
        let Some([time, code, data]) = event.as_array().map(Vec::as_slice) else {
            return Err(at(
                "an event is an array of three: [time, code, data]".into()
            ));
        };
        let time = time
            .as_f64()
            .filter(|t| (0.0..=LONGEST_RECORDING_S).contains(t))
            .ok_or_else(|| {
                at(format!(
                    "the time must be seconds, from 0 to {LONGEST_RECORDING_S}, not {time}"
                ))
            })?;
        if time < last_time {
            return Err(at(format!("the time goes back ({time} after {last_time})")));
        }
        let (Some(code), Some(data)) = (code.as_str(), data.as_str()) else {
            return Err(at("the code and the data must be strings".into()));
        };
        let gap = time - last_time;
        played_time += idle_limit.map_or(gap, |limit| gap.min(limit));
        last_time = time;
        match code {
            "o" => events.push(Played::Output {
                time: played_time,
                text: data.to_string(),
            }),
            "m" => events.push(Played::Marker {
                time: played_time,
                label: data.to_string(),
            }),
            _ => {}
        }
    }
    Ok(Recording {
        width,
        height,
        events,
        torn_line,
    })
}

/// Plays the recording at `options.path`.
pub fn run(options: &ReplayOptions) -> Result<Status> {
    let path = &options.path;
    let bad = |what: String| Error::Usage(format!("cannot replay {}: {what}", path.display()));
    // A recording is a regular file: a FIFO would hold the replay until someone writes to
    // it, and a device (`/dev/zero`) has no size to check and no end.
    let metadata = fs::metadata(path).map_err(|e| bad(crate::runtime::errno::describe_io(&e)))?;
    if !metadata.is_file() {
        return Err(bad(
            "not a regular file (a recording is a file that --record wrote)".into(),
        ));
    }
    if metadata.len() > LARGEST_RECORDING {
        return Err(bad(format!(
            "{} bytes is too large for a recording (at most {LARGEST_RECORDING})",
            metadata.len()
        )));
    }
    // Read up to the cap whatever the size said (the file may have grown since).
    let mut bytes = Vec::new();
    fs::File::open(path)
        .and_then(|file| {
            io::Read::read_to_end(&mut io::Read::take(file, LARGEST_RECORDING + 1), &mut bytes)
        })
        .map_err(|e| bad(crate::runtime::errno::describe_io(&e)))?;
    if bytes.len() as u64 > LARGEST_RECORDING {
        return Err(bad(format!(
            "too large for a recording (more than {LARGEST_RECORDING} bytes)"
        )));
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| bad("not a recording: it is not UTF-8 text".into()))?;
    let recording = parse(&text).map_err(bad)?;
    if let Some(line) = recording.torn_line {
        eprintln!(
            "proclab: {}: line {line} is cut short (the recording was not finished): playing \
             up to it",
            path.display()
        );
    }

    if io::stdout().is_terminal() && terminal_width() < recording.width as usize {
        eprintln!(
            "proclab: the recording is {} columns wide and this terminal {}: its lines will \
             wrap (widen the window for a faithful replay)",
            recording.width,
            terminal_width()
        );
    }
    // Ctrl-C ends the replay cleanly: the terminal's echo and colours are put back.
    stop::catch_stop_signals()?;
    let mut player = Player {
        out: Output::new(),
        speed: options.speed,
        step: options.step,
        markers: recording
            .events
            .iter()
            .filter(|e| matches!(e, Played::Marker { .. }))
            .count(),
        markers_seen: 0,
        started: Instant::now(),
        from: 0.0,
    };
    let played = player.play(&recording.events);
    if let Some(signal) = stop_signal() {
        if io::stdout().is_terminal() {
            // Whatever colour the recording was in when it stopped, the terminal gets its own.
            let _ = player.out.write_all(b"\x1b[0m\r\n");
        }
        return Ok(Status::Interrupted(signal));
    }
    played?;
    Ok(Status::Success)
}

/// Plays events at their pace.
struct Player {
    out: Output,
    speed: f64,
    step: bool,
    markers: usize,
    markers_seen: usize,
    /// The moment of the wall clock at which the recording's time `from` was played: after a
    /// pause at a marker, the recording goes on from the marker, not from where the clock is.
    started: Instant,
    from: f64,
}

/// Whether to go on playing.
enum Answer {
    PlayOn,
    Quit,
}

impl Player {
    fn play(&mut self, events: &[Played]) -> Result<()> {
        for event in events {
            if !self.wait_until(event.time()) {
                return Ok(());
            }
            match event {
                Played::Output { text, .. } => self.out.write_all(text.as_bytes())?,
                Played::Marker { label, time } => {
                    self.markers_seen += 1;
                    if !self.step {
                        continue;
                    }
                    match self.pause_at(label)? {
                        Answer::Quit => return Ok(()),
                        Answer::PlayOn => {
                            self.started = Instant::now();
                            self.from = *time;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Sleeps until the recording's `time` is due at this speed; false when a signal came.
    fn wait_until(&self, time: f64) -> bool {
        let due = self.started + Duration::from_secs_f64((time - self.from).max(0.0) / self.speed);
        loop {
            if stop_signal().is_some() {
                return false;
            }
            let now = Instant::now();
            if now >= due {
                return true;
            }
            // A little at a time, so that Ctrl-C is seen at once.
            std::thread::sleep((due - now).min(Duration::from_millis(50)));
        }
    }

    /// `--step`: says which marker this is, on standard error, and waits for a line: Enter
    /// plays on, `q` quits. The end of input plays the rest without pausing.
    fn pause_at(&mut self, label: &str) -> Result<Answer> {
        let text = format!(
            "{} of {}: {label} · Enter: play on; q and Enter: quit ",
            self.markers_seen, self.markers
        );
        let on_terminal = io::stderr().is_terminal();
        {
            let mut stderr = io::stderr().lock();
            if on_terminal {
                write!(stderr, "{}", text.reversed())?;
            } else {
                writeln!(stderr, "{text}")?;
            }
            stderr.flush()?;
        }
        let line = {
            // The Enter must not move the cursor: the recording draws the screen, not us.
            let _quiet = EchoOff::on_stdin();
            read_line()
        };
        if on_terminal {
            // Take the prompt off the screen, leaving the recording as it was.
            eprint!("\r\x1b[K");
        }
        match line {
            Some(line) if line.trim().eq_ignore_ascii_case("q") => Ok(Answer::Quit),
            Some(_) => Ok(Answer::PlayOn),
            None if stop_signal().is_some() => Ok(Answer::Quit),
            None => {
                // Input ended: play the rest without pausing, as `run --step` does.
                self.step = false;
                Ok(Answer::PlayOn)
            }
        }
    }
}

/// One line from standard input (without its newline, bounded), or `None` at its end or on a
/// stop signal (the handler is installed without SA_RESTART, so Ctrl-C interrupts the read).
fn read_line() -> Option<String> {
    crate::runtime::input::read_line(io::stdin().as_fd(), || stop_signal().is_none())
}

/// The terminal on standard input without echo, for as long as this lives.
///
/// Ctrl-\\ (`SIGQUIT`) and Ctrl-Z (`SIGTSTP`) act at once, without the program's loop: a shell
/// that does not put the terminal back after its job (dash does not) would be left with echo
/// off. So, while the echo is off, both are caught: the handler puts the terminal back, then
/// lets the signal do what it does by default (quit, or stop); back from a stop (`SIGCONT`,
/// `fg`), it turns the echo off again for the prompt still waiting.
struct EchoOff {
    saved: Option<Termios>,
    /// The signals whose default action was replaced by [`on_quit_or_stop`], to give back.
    caught: Vec<Signal>,
}

/// The terminal as it was, and without echo, for the signal handler: set before it is
/// installed, and only read there.
static PROMPT_TERMINAL: OnceLock<(libc::termios, libc::termios)> = OnceLock::new();

/// The handler of `SIGQUIT` and `SIGTSTP` during a prompt: only async-signal-safe calls
/// (`tcsetattr`, `sigaction`, `raise`).
extern "C" fn on_quit_or_stop(signal: libc::c_int) {
    let Some((saved, quiet)) = PROMPT_TERMINAL.get() else {
        return;
    };
    // SAFETY: each call is async-signal-safe, and takes pointers to values that live for the
    // whole program.
    unsafe {
        libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, saved);
        // The default action, now (the handler is installed with SA_NODEFER, so the signal is
        // not blocked here): SIGQUIT ends the process, SIGTSTP stops it until SIGCONT.
        libc::signal(signal, libc::SIG_DFL);
        libc::raise(signal);
        // Only a stop comes back here: catch it again and quiet the terminal again.
        libc::signal(signal, on_quit_or_stop as *const () as libc::sighandler_t);
        libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, quiet);
    }
}

impl EchoOff {
    fn on_stdin() -> EchoOff {
        let stdin = io::stdin();
        let saved = tcgetattr(stdin.as_fd()).ok();
        let mut caught = Vec::new();
        if let Some(saved) = &saved {
            let mut quiet = saved.clone();
            quiet.local_flags.remove(LocalFlags::ECHO);
            let (saved_raw, quiet_raw): (libc::termios, libc::termios) =
                (saved.clone().into(), quiet.clone().into());
            let _ = PROMPT_TERMINAL.set((saved_raw, quiet_raw));
            let action = SigAction::new(
                SigHandler::Handler(on_quit_or_stop),
                SaFlags::SA_NODEFER | SaFlags::SA_RESTART,
                SigSet::empty(),
            );
            for signal in [Signal::SIGQUIT, Signal::SIGTSTP] {
                // SAFETY: the handler makes only async-signal-safe calls.
                match unsafe { sigaction(signal, &action) } {
                    // A signal the caller ignored stays ignored.
                    Ok(old) if matches!(old.handler(), SigHandler::SigIgn) => {
                        // SAFETY: as above; this puts the caller's choice back.
                        let _ = unsafe { sigaction(signal, &old) };
                    }
                    Ok(_) => caught.push(signal),
                    Err(_) => {}
                }
            }
            let _ = tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &quiet);
        }
        EchoOff { saved, caught }
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        for signal in self.caught.drain(..) {
            // SAFETY: restoring the default action installs no handler.
            let _ = unsafe { nix::sys::signal::signal(signal, SigHandler::SigDfl) };
        }
        if let Some(saved) = &self.saved {
            let _ = tcsetattr(io::stdin().as_fd(), SetArg::TCSANOW, saved);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = r#"{"version": 2, "width": 80, "height": 24}"#;

    fn with(events: &str) -> String {
        format!("{HEADER}\n{events}")
    }

    #[test]
    fn output_and_markers_are_played_and_other_codes_skipped() {
        let recording = parse(&with(
            "[0.5, \"o\", \"hi\"]\n[0.7, \"i\", \"x\"]\n[1.0, \"m\", \"Step\"]\n",
        ))
        .unwrap();
        assert_eq!((recording.width, recording.height), (80, 24));
        assert_eq!(
            recording.events,
            vec![
                Played::Output {
                    time: 0.5,
                    text: "hi".into()
                },
                Played::Marker {
                    time: 1.0,
                    label: "Step".into()
                },
            ]
        );
    }

    /// Times the player could not wait for are refused when parsed.
    #[test]
    fn times_past_a_week_are_refused() {
        for time in ["1e20", "1e308", "604801"] {
            let error = parse(&with(&format!("[{time}, \"o\", \"x\"]\n"))).unwrap_err();
            assert!(error.contains("line 2"), "{time}: {error}");
        }
    }

    /// A few hundred mutations of a good recording (bytes changed, dropped, doubled; numbers
    /// swapped for huge, negative or odd ones): parsing never panics, and whatever parses can be
    /// timed by the player at the lowest speed.
    #[test]
    fn mutated_recordings_never_panic() {
        let good = with(
            "[0.5, \"o\", \"hi\\r\\n\"]\n[0.7, \"i\", \"x\"]\n[1.0, \"m\", \"Step 1\"]\n\
             [2.25, \"o\", \"\\u001b[1mbold\\u001b[0m\"]\n[3, \"r\", \"80x24\"]\n",
        );
        let swaps = [
            "1e20",
            "1e308",
            "-1",
            "-0",
            "1e-320",
            "NaN",
            "[]",
            "{}",
            "null",
            "\"\"",
            "99999999999",
        ];
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = |below: usize| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % below as u64) as usize
        };
        for _ in 0..400 {
            let mut bytes = good.clone().into_bytes();
            for _ in 0..1 + next(4) {
                let at = next(bytes.len());
                match next(4) {
                    0 => bytes[at] = next(256) as u8,
                    1 => {
                        bytes.remove(at);
                    }
                    2 => bytes.insert(at, bytes[at]),
                    _ => {
                        let swap = swaps[next(swaps.len())].as_bytes();
                        bytes.splice(at..at, swap.iter().copied());
                    }
                }
            }
            let text = String::from_utf8_lossy(&bytes);
            if let Ok(recording) = parse(&text) {
                for event in &recording.events {
                    let _ = Duration::from_secs_f64(event.time() / 0.01);
                }
            }
        }
    }

    #[test]
    fn an_idle_time_limit_shortens_the_long_gaps() {
        let text = "{\"version\": 2, \"width\": 80, \"height\": 24, \"idle_time_limit\": 1}\n\
                    [0.5, \"o\", \"a\"]\n[10.5, \"o\", \"b\"]\n";
        let recording = parse(text).unwrap();
        assert_eq!(recording.events[1].time(), 1.5);
    }

    #[test]
    fn every_fault_is_named_with_its_line() {
        let cases = [
            ("", "empty"),
            ("not json", "line 1 is not an asciicast header"),
            (r#"{"version": 1, "width": 80, "height": 24}"#, "version 1"),
            (r#"{"width": 80, "height": 24}"#, "no \"version\""),
            (r#"{"version": 2, "height": 24}"#, "no \"width\""),
            (r#"{"version": 2, "width": -3, "height": 24}"#, "\"width\""),
            (&with("[1, \"o\"]"), "line 2: an event is an array of three"),
            (&with("{}"), "line 2: an event is an array"),
            (&with("[-1, \"o\", \"x\"]"), "line 2: the time must be"),
            (
                &with("[2, \"o\", \"x\"]\n[1, \"o\", \"y\"]"),
                "line 3: the time goes back",
            ),
            (&with("[1, \"o\", 5]"), "line 2: the code and the data"),
            // Followed by a line feed, a line that is not JSON is damaged, not cut short.
            (&with("[1, \"o\", \"x\"\n"), "line 2: not JSON"),
        ];
        for (text, expected) in cases {
            let error = parse(text).unwrap_err();
            assert!(error.contains(expected), "{text:?}: {error}");
        }
        // Without one, it is the last line cut short: what comes before it plays.
        let torn = parse(&with("[0, \"o\", \"a\"]\n[1, \"o\", \"x\"")).unwrap();
        assert_eq!(torn.torn_line, Some(3));
        assert_eq!(torn.events.len(), 1);
    }
}
