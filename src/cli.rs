//! The command line: every clap definition, and the dispatch to the rest of the lab.
//! The doc comments on these types are the `--help` text.

use std::io::{self, IsTerminal, Write};
use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use colored::Colorize;

use crate::error::{Error, Result, Status};
use crate::exercise;
use crate::i18n::{self, Lang};
use crate::lab::Pacing;
use crate::lessons::{self, LESSONS};
use crate::repeat::{self, RepeatOptions};
use crate::runtime::event::Event;
use crate::supervisor::{self, Outcome, Program, RunOptions};
use crate::text;
use crate::tools::bench;
use crate::tools::echo;
use crate::tools::load::{self, LoadOptions, Shape};
use crate::tools::models;
use crate::tools::replay::{self, ReplayOptions};
use crate::view::code;
use crate::view::export::{self, Background};
use crate::view::notes::{self, Notes};
use crate::view::output::Output;
use crate::view::record::{Header, ROWS_OFF_A_TERMINAL, Recorder};
use crate::view::render::{HumanView, JsonView, View};
use crate::view::screen::{self, ScreenView};
use crate::view::terminal::{Screen, terminal_width};
use crate::view::theme::{self, Looks, Theme, ThemeName};

/// A live lab for Linux processes and threads: real fork, real sockets, real threads,
/// annotated as they happen.
#[derive(Parser, Debug)]
#[command(name = "proclab", version, propagate_version = true)]
pub struct Cli {
    /// When to colour the output.
    #[arg(long, value_enum, default_value_t = ColorWhen::Auto, global = true)]
    pub color: ColorWhen,
    /// Never colour the output (the same as --color never; NO_COLOR is honoured too).
    #[arg(long, global = true)]
    pub no_color: bool,
    /// Colours for a dark terminal, a light one, or a projector (contrast: nothing dimmed,
    /// every coloured word bold, no yellow).
    #[arg(long, value_enum, default_value_t = ThemeArg::Dark, global = true)]
    pub theme: ThemeArg,
    /// Plain ASCII for lines, boxes and symbols (| - * instead of │ ─ ※), for terminals that
    /// draw them two columns wide (East Asian "ambiguous width" settings).
    #[arg(long, global = true)]
    pub ascii: bool,
    /// The language of the lessons' prose: titles, notes, prompts, labels (en: English,
    /// zh: 中文). The default follows the locale: LC_ALL, LC_MESSAGES or LANG starting with
    /// `zh` chooses Chinese.
    #[arg(long, value_enum, global = true)]
    pub lang: Option<LangArg>,
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Whether `--theme` was given: a picture (`--export`) is drawn for white slides unless
    /// a dark theme was asked for by name.
    #[arg(skip)]
    pub theme_given: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// List the lessons (the default when no command is given).
    List,
    /// Run a lesson live.
    Run(RunArgs),
    /// Print a lesson's notes.
    Notes {
        /// The lesson: its number or its slug.
        lesson: String,
    },
    /// Print, for each step of a lesson, the tutorial's Python (corrected) and the same program
    /// in Rust with the lab's API.
    Code {
        /// The lesson: its number or its slug.
        lesson: String,
        /// Only this step (from 1).
        #[arg(long, value_name = "K")]
        step: Option<usize>,
        /// Run each step's Python under `proclab trace`, one step after the other, each after
        /// its title and notes (from the project's folder, which holds the programs).
        #[arg(long)]
        run: bool,
    },
    /// Measure what processes and threads cost on this machine, and what the lab adds.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Load a server with connections or requests: connections/s, requests/s, latency, errors.
    ///
    /// For the class's upper-casing echo server: every reply must be the message upper-cased.
    /// Choose one shape: --connections, --clients (with --round-trips and --size) or --hold.
    /// Exit status 1 when any operation failed or the time limit stopped the run.
    Load(LoadArgs),
    /// Run lesson 4's forking echo server on its own, annotated: each connection (client
    /// address, handler pid), each handler's bytes and exit. Ctrl-C stops it and every handler.
    Serve(ServeArgs),
    /// The tutorial's client: send lines to an echo server and print the replies. Prompts
    /// `>>:` on a terminal; with piped input, sends each line and exits at the end of input.
    Client(ClientArgs),
    /// A lesson's spawn-style child (lesson 2's): the lab's binary started again from the top,
    /// which runs the lesson's "module-level" work with PORT again (used by the lesson, not by
    /// hand).
    #[command(hide = true)]
    SpawnChild {
        #[arg(long)]
        lesson: String,
        #[arg(long)]
        port: u16,
    },
    /// Run any program under the lab's eye, from the outside (ptrace): its processes, threads,
    /// waits, exits and output as the lab's own lines, tree and timeline, with Python's names
    /// for a Python program. `proclab trace step1.py` runs it with python3. Exit status: the
    /// program's.
    Trace(TraceArgs),
    /// Play a recording (`run --record FILE`, or any asciicast v2 file) in this terminal, at
    /// the pace it was recorded.
    Replay(ReplayArgs),
    /// Draw a run's events, saved with `run N --json > run.jsonl`, as a picture: FILE's
    /// extension chooses .svg (tree and timeline, for slides), .html (a page to explore
    /// offline) or .json (a Chrome trace for Perfetto). --theme dark draws for dark slides.
    Export(ExportArgs),
    /// Exercises the lab judges: write the program yourself; the lab runs it and checks it
    /// from what the kernel saw (forks, ends, reaps, waits), not from what it prints.
    #[command(subcommand)]
    Exercise(ExerciseCommand),
}

#[derive(Subcommand, Debug)]
pub enum ExerciseCommand {
    /// The exercises: number, name, title, the lesson each follows, done or not.
    List {
        /// Your exercises folder (its progress file says what is done).
        #[arg(long, value_name = "D")]
        dir: Option<std::path::PathBuf>,
    },
    /// Write exercise N's starter, its statement at the top, into your folder (never over a
    /// file you changed).
    Start {
        exercise: String,
        /// The program's language: Python (py) or Rust (rs, std only).
        #[arg(long, value_enum, default_value_t = CodeArg::Py)]
        code: CodeArg,
        /// Your exercises folder.
        #[arg(long, value_name = "D", default_value = exercise::DEFAULT_DIR)]
        dir: std::path::PathBuf,
        /// Start again from the starter even if you changed the file.
        #[arg(long)]
        force: bool,
    },
    /// Run your program for exercise N and judge it. Exit status 0: passed; 1: not yet.
    Check {
        exercise: String,
        /// The program (default: the one `start` wrote in --dir).
        file: Option<std::path::PathBuf>,
        #[arg(long, value_name = "D")]
        dir: Option<std::path::PathBuf>,
        /// The verdict as one JSON object, for graders (schema in the README).
        #[arg(long)]
        json: bool,
    },
    /// Check exercise N (default: the first one started and not done) each time its file is
    /// saved. Ctrl-C stops.
    Watch {
        exercise: Option<String>,
        #[arg(long, value_name = "D")]
        dir: Option<std::path::PathBuf>,
    },
    /// The hints of exercise N, one more each time (or up to the one the last check named).
    Hint {
        exercise: String,
        #[arg(long, value_name = "D")]
        dir: Option<std::path::PathBuf>,
    },
    /// For teachers: the reference solution of exercise N (needs --teacher).
    Solution {
        exercise: String,
        #[arg(long, value_enum, default_value_t = CodeArg::Py)]
        code: CodeArg,
        /// Yes, I am the teacher.
        #[arg(long)]
        teacher: bool,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum CodeArg {
    /// Python.
    Py,
    /// Rust.
    Rs,
}

impl From<CodeArg> for exercise::CodeLang {
    fn from(code: CodeArg) -> exercise::CodeLang {
        match code {
            CodeArg::Py => exercise::CodeLang::Python,
            CodeArg::Rs => exercise::CodeLang::Rust,
        }
    }
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// The run's events: the JSON lines of `proclab run N --json` (`-`: standard input).
    pub events: std::path::PathBuf,
    /// The picture to write: .svg, .html or .json.
    pub file: std::path::PathBuf,
}

#[derive(Args, Debug)]
pub struct TraceArgs {
    /// One JSON object per line instead of the human view (the lab's event schema; the first
    /// line, `trace`, says that the events were traced).
    #[arg(long)]
    pub json: bool,
    /// Also write the human view, as shown, to FILE: an asciicast v2 recording.
    #[arg(long, value_name = "FILE", conflicts_with = "json")]
    pub record: Option<std::path::PathBuf>,
    /// Draw every process and thread in the tree and the timeline: do not fold alike ones.
    #[arg(long)]
    pub no_fold: bool,
    /// Also draw the run, once it is over, into FILE: .svg, .html or .json (as `run --export`).
    #[arg(long, value_name = "FILE")]
    pub export: Option<std::path::PathBuf>,
    /// The program and its arguments (put `--` before them when they begin with `-`).
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "PROGRAM [ARGS]..."
    )]
    pub program: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// The recording: an asciicast v2 file.
    pub file: std::path::PathBuf,
    /// Play this many times faster (0.5: half as fast), from 0.01 to 1000.
    #[arg(long, default_value_t = 1.0, value_parser = parse_speed, allow_hyphen_values = true)]
    pub speed: f64,
    /// Pause at every marker (every step of a lesson): Enter plays on, q and Enter quits.
    #[arg(long)]
    pub step: bool,
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// The port to listen on; 0 picks a free one (printed).
    #[arg(long, default_value_t = echo::DEFAULT_PORT)]
    pub port: u16,
    /// The address to listen on. Anything but loopback makes the server reachable from other
    /// machines: only when you name it here.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// At most this many handlers at once; a further connection is told the server is busy,
    /// and closed.
    #[arg(long, default_value_t = echo::DEFAULT_MAX_CLIENTS as u32, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub max_clients: u32,
    /// Seconds a handler waits for its client to send something before it hangs up (at
    /// least 0.001, at most 600).
    #[arg(long, value_name = "S", default_value_t = echo::DEFAULT_IDLE_TIMEOUT_S, value_parser = parse_socket_timeout, allow_hyphen_values = true)]
    pub idle_timeout: f64,
    /// Seconds a handler waits for its client to read its replies before it hangs up (at
    /// least 0.001, at most 600).
    #[arg(long, value_name = "S", default_value_t = echo::DEFAULT_WRITE_TIMEOUT_S, value_parser = parse_socket_timeout, allow_hyphen_values = true)]
    pub write_timeout: f64,
    /// One JSON object per line instead of the human view.
    #[arg(long)]
    pub json: bool,
    /// How the server waits for its clients (lesson 16's I/O models).
    #[arg(long, value_enum, default_value_t = ServeModel::Fork)]
    pub model: ServeModel,
}

/// `serve --model`: the same service, five ways of waiting (lesson 16).
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum ServeModel {
    /// A handler process per connection (lesson 4's server; the default).
    Fork,
    /// A handler thread per connection.
    Thread,
    /// One thread watching every connection with poll.
    Poll,
    /// One thread watching every connection with epoll.
    Epoll,
    /// One client at a time, served by the server itself.
    Iterative,
}

impl ServeModel {
    fn model(self) -> models::Model {
        match self {
            ServeModel::Fork => models::Model::Fork,
            ServeModel::Thread => models::Model::Thread,
            ServeModel::Poll => models::Model::Poll,
            ServeModel::Epoll => models::Model::Epoll,
            ServeModel::Iterative => models::Model::Iterative,
        }
    }
}

#[derive(Args, Debug)]
pub struct ClientArgs {
    /// The server's host name or address.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// The server's port.
    #[arg(long, default_value_t = echo::DEFAULT_PORT)]
    pub port: u16,
}

#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Cost of the lab's Process (start + join) against a bare fork + waitpid, and of a thread
    /// spawn + join: medians over repetitions, in one run.
    Spawn(SpawnArgs),
}

#[derive(Args, Debug)]
pub struct SpawnArgs {
    /// Operations per repetition, of each kind (at most 20000).
    #[arg(long, default_value_t = 2000)]
    pub n: usize,
    /// Repetitions; each figure is their median (at most 20).
    #[arg(long, default_value_t = 5)]
    pub reps: usize,
}

#[derive(Args, Debug)]
#[command(group = clap::ArgGroup::new("shape").required(true).multiple(false)
    .args(["connections", "clients", "hold"]))]
pub struct LoadArgs {
    /// The server's port.
    #[arg(long)]
    pub port: u16,
    /// The server's address: loopback unless you name another one.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: std::net::IpAddr,
    /// N connections one at a time: connect, send "hello", receive "HELLO", close.
    #[arg(long, value_name = "N")]
    pub connections: Option<u64>,
    /// C clients at once, each on its own connection, doing --round-trips of --size bytes.
    #[arg(long, value_name = "C")]
    pub clients: Option<u64>,
    /// Round trips per client (with --clients).
    #[arg(long, value_name = "K", default_value_t = 1000, requires = "clients")]
    pub round_trips: u64,
    /// Bytes per message (with --clients).
    #[arg(long, value_name = "B", default_value_t = 16, requires = "clients")]
    pub size: u64,
    /// Open N connections one by one and hold them all open (raises the open-files soft limit
    /// if N needs it, within the hard limit).
    #[arg(long, value_name = "N")]
    pub hold: Option<u64>,
    /// With --hold: seconds to keep them all open once they are, before closing them (0 to
    /// below 600).
    #[arg(long, value_name = "S", default_value_t = 0.0, requires = "hold", value_parser = parse_hold_for, allow_hyphen_values = true)]
    pub hold_for: f64,
    /// Seconds after which the run stops whatever it is doing; what is not done is an error
    /// (more than 0, at most 600).
    #[arg(long, value_name = "S", default_value_t = 60.0, value_parser = parse_time_limit, allow_hyphen_values = true)]
    pub time_limit: f64,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// The lesson: its number (`3`) or its slug (`daemon-terminate`).
    pub lesson: Option<String>,
    /// Classroom mode: each step on a fresh screen with its title (and notes), Enter runs it,
    /// Enter again after its output moves on; q and Enter quits.
    #[arg(long)]
    pub step: bool,
    /// With --step on a terminal: do not clear the screen before each step (scroll instead).
    /// Implies --no-tui.
    #[arg(long)]
    pub no_clear: bool,
    /// With --step on a terminal: the line view instead of the full screen.
    #[arg(long)]
    pub no_tui: bool,
    /// Print each step's notes right before that step's output.
    #[arg(long)]
    pub notes: bool,
    /// Show each step's code (the tutorial's Python, the lab's Rust) at the start of the step.
    #[arg(long)]
    pub code: bool,
    /// Seed for the random sleeps; every run prints the seed it used, so it can be replayed.
    #[arg(long, value_parser = parse_seed, allow_negative_numbers = true)]
    pub seed: Option<u64>,
    /// Divide every sleep and timeout by this factor, from 0.01 to 1000 (20 turns a 1-3 s
    /// sleep into 50-150 ms).
    #[arg(long, default_value_t = 1.0, value_parser = parse_speed, allow_hyphen_values = true)]
    pub speed: f64,
    /// One JSON object per line instead of the human view: no colour. With --step it still
    /// waits for a line at each prompt (printing nothing), so a tool can pace it.
    #[arg(long)]
    pub json: bool,
    /// Draw every process and thread in the tree and the timeline: do not fold a crowd of
    /// alike ones into one counted line (tree) and one lane (timeline). JSON never folds.
    #[arg(long)]
    pub no_fold: bool,
    /// Run the lesson N times (at most 1000), quietly, each with its own seed (--seed S gives
    /// S, S+1 ...), and show what varied across the runs as a histogram, with the seeds of
    /// each bar so that any bar can be replayed with --seed. Each run is `proclab run L
    /// --json` of its own, bounded in time. With --json: one `outcome` line per run and a
    /// `summary` line. Ctrl-C stops between runs and shows what it has.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000),
        conflicts_with_all = ["step", "notes", "no_clear", "record"])]
    pub repeat: Option<u32>,
    /// Before each step that has a question (every lesson has some), ask it with its choices
    /// and wait for a prediction (its number, then Enter; one per line when piped); once the
    /// step has run, answer it from this run's events and say whether the prediction was
    /// right. The score at the end. Waits at each question even without --step.
    #[arg(long, conflicts_with = "repeat")]
    pub predict: bool,
    /// With --repeat: measure only step K. The steps before K still run (each step builds on
    /// the ones before it); the steps after it do not: each run is stopped as soon as step
    /// K + 1 begins.
    #[arg(long, value_name = "K", requires = "repeat")]
    pub only_step: Option<u32>,
    /// Also write the human view, as shown, to FILE: an asciicast v2 recording (asciinema's
    /// format) with a marker at every step. Play it with `proclab replay FILE`.
    #[arg(long, value_name = "FILE")]
    pub record: Option<std::path::PathBuf>,
    /// Also draw the run, once it is over, into FILE: .svg (the tree and the timeline as one
    /// picture, for slides), .html (the same picture as a page to explore offline: a span's
    /// events, zoom, lanes filtered, each step's notes) or .json (a Chrome trace for Perfetto
    /// and chrome://tracing). Light background unless --theme dark (or contrast).
    #[arg(long, value_name = "FILE", conflicts_with = "repeat")]
    pub export: Option<std::path::PathBuf>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum LangArg {
    /// English.
    En,
    /// 中文 (Chinese).
    Zh,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum ThemeArg {
    /// For a dark terminal.
    Dark,
    /// For a light terminal.
    Light,
    /// For a projector: nothing dimmed, bold colours, no yellow.
    Contrast,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum ColorWhen {
    /// Colour when standard output is a terminal and NO_COLOR is not set.
    Auto,
    Always,
    Never,
}

fn parse_seed(text: &str) -> std::result::Result<u64, String> {
    match text.trim().parse::<i128>() {
        Ok(seed) if seed < 0 => Err(format!("seeds are 0 or more, not {text}")),
        Ok(seed) => u64::try_from(seed).map_err(|_| format!("at most {}, not {text}", u64::MAX)),
        Err(_) => Err(format!(
            "'{text}' is not a whole number (seeds are 0 or more)"
        )),
    }
}

/// The range of `--speed`. Below 0.01 a lesson would take hours; above 1000 its sleeps are
/// shorter than the machine's own delays, and nothing is left to see.
const SPEEDS: std::ops::RangeInclusive<f64> = 0.01..=1000.0;

fn parse_speed(text: &str) -> std::result::Result<f64, String> {
    let speed = parse_number(text)?;
    if !SPEEDS.contains(&speed) {
        return Err(format!(
            "must be between {} and {}",
            SPEEDS.start(),
            SPEEDS.end()
        ));
    }
    Ok(speed)
}

/// A number of the command line; NaN and infinities are not numbers here.
fn parse_number(text: &str) -> std::result::Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(number) if number.is_finite() => Ok(number),
        _ => Err("not a number".to_string()),
    }
}

/// `--time-limit`: more than 0, at most `load::MAX_TIME_LIMIT_S` seconds.
fn parse_time_limit(text: &str) -> std::result::Result<f64, String> {
    let seconds = parse_number(text)?;
    if seconds > 0.0 && seconds <= load::MAX_TIME_LIMIT_S {
        Ok(seconds)
    } else {
        Err(format!(
            "must be more than 0 and at most {} seconds",
            load::MAX_TIME_LIMIT_S
        ))
    }
}

/// `serve --idle-timeout` and `--write-timeout`: from a millisecond to `MAX_TIME_LIMIT_S`.
/// A socket's timeout is kept in microseconds, and one that rounds to zero means "never", which
/// the kernel refuses to be set to (`1e-300` must be bad input, not a server that dies at its
/// first client).
fn parse_socket_timeout(text: &str) -> std::result::Result<f64, String> {
    let seconds = parse_number(text)?;
    if (0.001..=load::MAX_TIME_LIMIT_S).contains(&seconds) {
        Ok(seconds)
    } else {
        Err(format!(
            "must be at least 0.001 and at most {} seconds",
            load::MAX_TIME_LIMIT_S
        ))
    }
}

/// `--hold-for`: 0 or more, below `load::MAX_TIME_LIMIT_S` seconds.
fn parse_hold_for(text: &str) -> std::result::Result<f64, String> {
    let seconds = parse_number(text)?;
    if (0.0..load::MAX_TIME_LIMIT_S).contains(&seconds) {
        Ok(seconds)
    } else {
        Err(format!(
            "must be 0 or more and below {} seconds",
            load::MAX_TIME_LIMIT_S
        ))
    }
}

/// Parses the command line, runs the command, and turns the result into an exit status.
/// Errors are printed here, once.
pub fn main() -> ExitCode {
    close_inherited_descriptors();
    let cli = match parse() {
        Ok(cli) => cli,
        Err(error) => return refuse_command_line(error),
    };
    match run(cli) {
        Ok(status) => ExitCode::from(status.code()),
        Err(Error::Io(error)) if error.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(error) => {
            // One line, whatever the message holds (a lesson name typed with a newline ...).
            let message = error.to_string().replace(['\n', '\r'], " ");
            eprintln!("proclab: {message}");
            let status = match error {
                Error::Usage(_) => Status::Usage,
                _ => Status::Failure,
            };
            ExitCode::from(status.code())
        }
    }
}

/// Closes every descriptor above standard error that the caller left open (a pipe of a shell
/// or a build tool without close-on-exec): the lab opens nothing before this point, and
/// otherwise the server, every handler and every lesson's process would hold the caller's
/// pipe, whose reader would then never see its end of file.
fn close_inherited_descriptors() {
    // SAFETY: close_range closes descriptors that nothing in this process refers to yet.
    let closed = unsafe { libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32) };
    if closed != 0 {
        // A kernel before 5.9 has no close_range: close them one by one, up to the limit.
        let (soft, _) = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
            .unwrap_or((1024, 1024));
        for fd in 3..soft.min(65_536) as i32 {
            // SAFETY: as above; closing a number that is not open only fails with EBADF.
            unsafe { libc::close(fd) };
        }
    }
}

/// The command line, and whether `--theme` was on it (its default cannot tell).
fn parse() -> std::result::Result<Cli, clap::Error> {
    use clap::FromArgMatches;
    let matches = Cli::command().try_get_matches()?;
    let mut cli = Cli::from_arg_matches(&matches)?;
    cli.theme_given = matches.value_source("theme") == Some(clap::parser::ValueSource::CommandLine);
    Ok(cli)
}

/// `--help` and `--version` print as clap renders them; a command line we cannot use gets one
/// line on standard error (clap's message, without its usage block) and status 2.
fn refuse_command_line(error: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
    ) {
        let _ = error.print();
        return ExitCode::from(error.exit_code() as u8);
    }
    if error.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        // `proclab bench` alone: clap would print the whole help; one line says it.
        eprintln!("proclab: {}", missing_subcommand());
        return ExitCode::from(Status::Usage.code());
    }
    let rendered = error.render().to_string();
    let message: Vec<&str> = rendered
        .lines()
        .take_while(|line| !line.starts_with("Usage:") && !line.starts_with("For more information"))
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    let message = message.join(" ").replace(" tip: ", "; tip: ");
    let message = message.strip_prefix("error: ").unwrap_or(&message);
    eprintln!("proclab: {message} (see 'proclab --help')");
    ExitCode::from(Status::Usage.code())
}

/// "'bench' needs a subcommand: spawn (see 'proclab bench --help')", for the first command
/// named on the command line.
fn missing_subcommand() -> String {
    let command = Cli::command();
    let named = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with('-'))
        .find_map(|arg| command.find_subcommand(&arg).cloned());
    match named {
        Some(sub) => {
            let choices: Vec<&str> = sub.get_subcommands().map(|c| c.get_name()).collect();
            format!(
                "'{0}' needs a subcommand: {1} (see 'proclab {0} --help')",
                sub.get_name(),
                choices.join(", ")
            )
        }
        None => "a subcommand is missing (see 'proclab --help')".to_string(),
    }
}

fn run(cli: Cli) -> Result<Status> {
    let json = match &cli.command {
        Some(Command::Run(args)) => args.json,
        Some(Command::Serve(args)) => args.json,
        Some(Command::Trace(args)) => args.json,
        _ => false,
    };
    let colour = match (cli.color, cli.no_color || json) {
        (_, true) | (ColorWhen::Never, _) => false,
        (ColorWhen::Always, _) => true,
        (ColorWhen::Auto, _) => {
            io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    colored::control::set_override(colour);
    let theme = Theme::new(match cli.theme {
        ThemeArg::Dark => ThemeName::Dark,
        ThemeArg::Light => ThemeName::Light,
        ThemeArg::Contrast => ThemeName::Contrast,
    });
    i18n::set(match cli.lang {
        Some(LangArg::En) => Lang::En,
        Some(LangArg::Zh) => Lang::Zh,
        None => Lang::from_locale(|name| std::env::var(name).ok()),
    });
    let ascii = cli.ascii;
    // A picture is for white slides unless a dark theme is asked for by name.
    let background = match (cli.theme_given, cli.theme) {
        (true, ThemeArg::Dark | ThemeArg::Contrast) => Background::Dark,
        _ => Background::Light,
    };
    let lang_given = cli.lang.is_some();
    let text = |text: &str| theme::to_ascii(text).into_owned();
    let text = move |t: String| if ascii { text(&t) } else { t };
    match cli.command.unwrap_or(Command::List) {
        Command::List => print_quietly(&text(lesson_table(terminal_width()))),
        Command::Notes { lesson } => {
            let lesson = lessons::find(&lesson)?;
            print_quietly(&text(rendered_notes(lesson.notes.get())))
        }
        Command::Code { lesson, step, run } => {
            let lesson = lessons::find(&lesson)?;
            match run {
                true => run_code(lesson, step, theme, ascii, background),
                false => print_quietly(&code::render(lesson, step)?),
            }
        }
        Command::Run(args) => run_lesson(args, theme, ascii, background),
        Command::Export(args) => export_events(&args, background, lang_given),
        Command::Bench(BenchCommand::Spawn(args)) => {
            bench::spawn(bench::SpawnOptions {
                n: args.n,
                reps: args.reps,
            })?;
            Ok(Status::Success)
        }
        Command::Load(args) => {
            load::run(&load_options(&args)?)?;
            Ok(Status::Success)
        }
        Command::Serve(args) => serve(args, theme, ascii),
        Command::Trace(args) => trace(args, theme, ascii, background),
        Command::Exercise(command) => run_exercise(command),
        Command::Replay(args) => replay::run(&ReplayOptions {
            path: args.file,
            speed: args.speed,
            step: args.step,
        }),
        Command::SpawnChild { lesson, port } => {
            let spawned_child = lessons::find(&lesson)?.spawned_child.ok_or_else(|| {
                Error::Usage(format!("lesson {lesson} starts no spawn-style child"))
            })?;
            spawned_child(port)?;
            Ok(Status::Success)
        }
        Command::Client(args) => {
            echo::run_client(&args.host, args.port).map_err(|error| {
                // The server not running is what a student meets first: say what to check.
                if is_connection_refused(&error) {
                    Error::System(format!(
                        "{error} (is `proclab serve --port {}` running?)",
                        args.port
                    ))
                } else {
                    error
                }
            })?;
            Ok(Status::Success)
        }
    }
}

fn run_exercise(command: ExerciseCommand) -> Result<Status> {
    match command {
        ExerciseCommand::List { dir } => print_quietly(&exercise::list(dir)?),
        ExerciseCommand::Start {
            exercise: n,
            code,
            dir,
            force,
        } => exercise::start(&n, code.into(), Some(dir), force),
        ExerciseCommand::Check {
            exercise: n,
            file,
            dir,
            json,
        } => exercise::check(&n, file, dir, json),
        ExerciseCommand::Watch { exercise: n, dir } => exercise::watch(n.as_deref(), dir),
        ExerciseCommand::Hint { exercise: n, dir } => exercise::hint(&n, dir),
        ExerciseCommand::Solution {
            exercise: n,
            code,
            teacher,
        } => exercise::solution(&n, code.into(), teacher),
    }
}

fn load_options(args: &LoadArgs) -> Result<LoadOptions> {
    let shape = match (args.connections, args.clients, args.hold) {
        (Some(count), _, _) => Shape::Connections { count },
        (_, Some(clients), _) => Shape::RoundTrips {
            clients,
            round_trips: args.round_trips,
            size: args.size,
        },
        // clap has checked the range of --hold-for.
        (_, _, Some(connections)) => Shape::Hold {
            connections,
            hold_for: Duration::from_secs_f64(args.hold_for),
        },
        // clap already requires exactly one of the three.
        (None, None, None) => {
            return Err(Error::Usage(
                "choose one of --connections, --clients or --hold".into(),
            ));
        }
    };
    LoadOptions::new(args.host, args.port, shape, args.time_limit)
}

/// Whether `error` says a connection was refused (nothing listens on that port).
fn is_connection_refused(error: &Error) -> bool {
    match error {
        Error::Io(error) => error.kind() == io::ErrorKind::ConnectionRefused,
        Error::System(text) => text.contains("Connection refused"),
        _ => false,
    }
}

fn serve(args: ServeArgs, theme: Theme, ascii: bool) -> Result<Status> {
    let address = SocketAddr::new(args.bind, args.port);
    // Bound here, before anything is forked, so that a busy port is bad input (status 2).
    let listener = echo::listen_on(address, true).map_err(|error| {
        if error.kind() == io::ErrorKind::AddrInUse {
            Error::Usage(format!(
                "port {} is already in use on {}; choose another with --port N, or --port 0 \
                 for a free one",
                args.port, args.bind
            ))
        } else if error.kind() == io::ErrorKind::PermissionDenied && args.port < 1024 {
            Error::Usage(format!(
                "cannot listen on {address}: {error}; ports below 1024 need privileges (root, \
                 or CAP_NET_BIND_SERVICE): choose --port 8081 (the tutorial's) or --port 0"
            ))
        } else {
            Error::Usage(format!("cannot listen on {address}: {error}"))
        }
    })?;
    let view = if args.json {
        View::Json(JsonView::new())
    } else {
        let looks = Looks {
            screen: Screen::of_terminal(false, true),
            theme,
            ascii,
            fold: true,
        };
        View::Human(Box::new(HumanView::new(looks, None, 0)))
    };
    let max_clients = args.max_clients as usize;
    let guarded = echo::Guarded {
        idle_timeout: Duration::from_secs_f64(args.idle_timeout),
        write_timeout: Duration::from_secs_f64(args.write_timeout),
    };
    let model = args.model.model();
    let options = RunOptions {
        program: Program::Tool {
            name: "server",
            main: Box::new(move || {
                models::serve(
                    model,
                    listener,
                    models::Options::for_serve(max_clients, guarded),
                )
            }),
        },
        speed: 1.0,
    };
    finish_view(supervisor::run(options, view)?, None)
}

/// `proclab code N --run`: each step's Python traced, one step after the other, after the
/// step's title and notes. A step whose program fails ends it with that program's status.
fn run_code(
    lesson: &lessons::Lesson,
    only: Option<usize>,
    theme: Theme,
    ascii: bool,
    background: Background,
) -> Result<Status> {
    for (intro, program) in code::to_run(lesson, only)? {
        print_quietly(&intro)?;
        io::stdout().flush()?;
        let traced = TraceArgs {
            json: false,
            record: None,
            no_fold: false,
            export: None,
            program: vec!["python3".to_string(), program.display().to_string()],
        };
        let status = trace(traced, theme.clone(), ascii, background)?;
        if status != Status::Success && status != Status::Exited(0) {
            return Ok(status);
        }
        println!();
    }
    Ok(Status::Success)
}

/// `proclab trace`: checks the program and that tracing is allowed here (bad input, status 2,
/// before anything runs), then runs it under the supervisor with the tracer as main process.
fn trace(args: TraceArgs, theme: Theme, ascii: bool, background: Background) -> Result<Status> {
    let command = crate::trace::Command::new(&args.program)?;
    crate::trace::check_permission()?;
    let export = match &args.export {
        Some(path) => Some((export::create(path)?, path.clone())),
        None => None,
    };
    let mut recording = None;
    let view = if args.json {
        View::Json(JsonView::new())
    } else {
        let looks = Looks {
            screen: Screen::of_terminal(false, true),
            theme,
            ascii,
            fold: !args.no_fold,
        };
        let mut view = HumanView::new(looks.clone(), None, 0);
        if let Some(path) = &args.record {
            let title = format!("proclab · trace · {}", command.argv.join(" "));
            let height = looks.screen.height.unwrap_or(ROWS_OFF_A_TERMINAL);
            let header = Header::new(looks.screen.width, height, title, looks.theme.name);
            let recorder = Recorder::create(path, &header).map_err(|error| {
                Error::Usage(format!(
                    "cannot write the recording {}: {}",
                    path.display(),
                    crate::runtime::errno::describe_io(&error)
                ))
            })?;
            let recorder = std::rc::Rc::new(std::cell::RefCell::new(recorder));
            view.record_to(recorder.clone());
            recording = Some(recorder);
        }
        View::Human(Box::new(view))
    };
    let options = RunOptions {
        program: Program::Trace { command },
        speed: 1.0,
    };
    let (view, kept) = keeping_events(view, export.is_some());
    let outcome = supervisor::run(options, view)?;
    if let Some((file, path)) = export {
        export::write_to(file, &path, &kept.borrow(), background)?;
    }
    let status = finish_view(outcome, recording.as_deref())?;
    if let Some(recording) = recording {
        let mut recording = recording.borrow_mut();
        recording.finish().map_err(|error| {
            Error::System(format!(
                "cannot write the recording {}: {}",
                recording.path().display(),
                crate::runtime::errno::describe_io(&error)
            ))
        })?;
    }
    Ok(status)
}

fn run_lesson(args: RunArgs, theme: Theme, ascii: bool, background: Background) -> Result<Status> {
    let Some(lesson) = &args.lesson else {
        // The error in one line, then the list it points to, in lines that fit the screen.
        eprintln!(
            "proclab: run needs a lesson: its number or its slug, e.g. proclab run 1. The lessons:"
        );
        eprintln!("{}", lesson_table(terminal_width()).trim_end());
        return Ok(Status::Usage);
    };
    let lesson = lessons::find(lesson)?;
    if args.json && args.record.is_some() {
        // A recording is of what a person sees; the JSON lines are already a file of events.
        return Err(Error::Usage(
            "--record records the human view, not --json (to keep the events, redirect \
             them: proclab run N --json > events.jsonl)"
                .into(),
        ));
    }
    let seed = args
        .seed
        .unwrap_or_else(|| rand::random_range(1..1_000_000));
    if let Some(runs) = args.repeat {
        let options = RepeatOptions {
            lesson,
            runs,
            first_seed: seed,
            speed: args.speed,
            only_step: args.only_step,
            json: args.json,
            ascii,
        };
        return Ok(match repeat::run(&options)? {
            Some(signal) => Status::Interrupted(signal),
            None => Status::Success,
        });
    }
    // Created before the run: a FILE that cannot be written is bad input, said at once.
    let export = match &args.export {
        Some(path) => Some((export::create(path)?, path.clone())),
        None => None,
    };
    let notes = Notes::parse(lesson.notes.get());
    let mut recording = None;
    let (view, pacing) = if args.json {
        // No prompt is drawn, but with --step each one still waits for a line.
        let pacing = if args.step {
            Pacing::step_by_step()
        } else {
            Pacing::none()
        };
        let pacing = Pacing {
            predict: args.predict,
            ..pacing
        };
        (View::Json(JsonView::new()), pacing)
    } else if let Some((view, pacing, recorder)) =
        full_screen(&args, &notes, &theme, ascii, lesson)?
    {
        recording = recorder;
        (view, pacing)
    } else {
        let steps = notes.sections.len();
        let looks = Looks {
            screen: Screen::of_terminal(args.step, args.no_clear),
            theme,
            ascii,
            fold: !args.no_fold,
        };
        let shown_notes = match args.code {
            true => Some(code::beside_notes(lesson, notes, args.notes)),
            false => args.notes.then_some(notes),
        };
        let mut view = HumanView::new(looks.clone(), shown_notes, steps);
        if let Some(path) = &args.record {
            let recorder = start_recording(path, &looks, lesson)?;
            let recorder = std::rc::Rc::new(std::cell::RefCell::new(recorder));
            view.record_to(recorder.clone());
            recording = Some(recorder);
        }
        let pacing = Pacing {
            predict: args.predict,
            ..view.pacing(args.step)
        };
        (View::Human(Box::new(view)), pacing)
    };
    let options = RunOptions {
        program: Program::Lesson {
            lesson,
            seed,
            pacing,
        },
        speed: args.speed,
    };
    let (view, kept) = keeping_events(view, export.is_some());
    let outcome = supervisor::run(options, view)?;
    if let Some((file, path)) = export {
        export::write_to(file, &path, &kept.borrow(), background)?;
    }
    let status = finish_view(outcome, recording.as_deref())?;
    if let Some(recording) = recording {
        let mut recording = recording.borrow_mut();
        recording.finish().map_err(|error| {
            Error::System(format!(
                "cannot write the recording {}: {}",
                recording.path().display(),
                crate::runtime::errno::describe_io(&error)
            ))
        })?;
    }
    Ok(status)
}

/// `view`, and with `keep` the run's events kept for after it (`--export`).
fn keeping_events(view: View, keep: bool) -> (View, std::rc::Rc<std::cell::RefCell<Vec<Event>>>) {
    let kept = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    match keep {
        true => (View::Keeping(Box::new(view), kept.clone()), kept),
        false => (view, kept),
    }
}

/// `proclab export EVENTS FILE`: the picture of a run's events read back from a file. Its
/// labels are in the run's language unless `--lang` chose one.
fn export_events(args: &ExportArgs, background: Background, lang_given: bool) -> Result<Status> {
    let text = if args.events.as_os_str() == "-" {
        io::read_to_string(io::stdin())
    } else {
        std::fs::read_to_string(&args.events)
    };
    let text = text.map_err(|error| {
        Error::Usage(format!(
            "cannot read {}: {}",
            args.events.display(),
            crate::runtime::errno::describe_io(&error)
        ))
    })?;
    let events = export::read_events(&text, &args.events)?;
    if !lang_given {
        i18n::set(export::lang_of(&events));
    }
    let file = export::create(&args.file)?;
    export::write_to(file, &args.file, &events, background)?;
    Ok(Status::Success)
}

/// A recording the view writes to and the command line finishes.
type SharedRecorder = std::rc::Rc<std::cell::RefCell<Recorder>>;

/// The full-screen view, with its `--step` plan, when this run is drawn on one: `--step` on a
/// terminal (standard input and output), big enough, not `--no-tui` or `--no-clear`.
fn full_screen(
    args: &RunArgs,
    notes: &Notes,
    theme: &Theme,
    ascii: bool,
    lesson: &'static lessons::Lesson,
) -> Result<Option<(View, Pacing, Option<SharedRecorder>)>> {
    let terminal = io::stdin().is_terminal() && io::stdout().is_terminal();
    let dumb = std::env::var("TERM").is_ok_and(|term| term == "dumb");
    if !args.step || args.no_tui || args.no_clear || !terminal || dumb {
        return Ok(None);
    }
    if let Err(size) = screen::fits() {
        eprintln!("{}", screen::too_small(size));
        return Ok(None);
    }
    let looks = Looks {
        screen: Screen::of_terminal(true, false),
        theme: theme.clone(),
        ascii,
        fold: !args.no_fold,
    };
    let mut out = crate::view::out::Out::new(ascii);
    let mut recording = None;
    if let Some(path) = &args.record {
        let recorder = start_recording(path, &looks, lesson)?;
        let recorder = std::rc::Rc::new(std::cell::RefCell::new(recorder));
        out.record_to(recorder.clone());
        recording = Some(recorder);
    }
    let shown_notes = match args.code {
        true => Some(code::beside_notes(lesson, notes.clone(), true)),
        false => Some(notes.clone()),
    };
    let state = screen::State::new(shown_notes, notes.sections.len());
    let view = ScreenView::new(state, looks, out)
        .map_err(|error| Error::System(format!("cannot take the terminal: {error}")))?;
    let pacing = Pacing {
        predict: args.predict,
        ..Pacing::step_by_step()
    };
    Ok(Some((View::Screen(Box::new(view)), pacing, recording)))
}

/// Opens the recording of `--record FILE` and writes its header, before the lesson starts: a
/// file that cannot be written is bad input, said in one line.
fn start_recording(
    path: &std::path::Path,
    looks: &Looks,
    lesson: &lessons::Lesson,
) -> Result<Recorder> {
    let title = text!(
        en: "proclab · lesson {} · {} — {}",
        zh: "proclab · 第 {} 课 · {} — {}",
        lesson.number(),
        lesson.slug(),
        lesson.title.get()
    );
    let height = looks.screen.height.unwrap_or(ROWS_OFF_A_TERMINAL);
    let header = Header::new(looks.screen.width, height, title, looks.theme.name);
    Recorder::create(path, &header).map_err(|error| {
        Error::Usage(format!(
            "cannot write the recording {}: {}",
            path.display(),
            crate::runtime::errno::describe_io(&error)
        ))
    })
}

/// Resets the terminal's colour (in the recording too, with `--record`) and turns how a run
/// ended into the exit status.
fn finish_view(
    outcome: Outcome,
    recording: Option<&std::cell::RefCell<Recorder>>,
) -> Result<Status> {
    if colored::control::SHOULD_COLORIZE.should_colorize() && outcome != Outcome::OutputClosed {
        // Leave the terminal as we found it, whatever colour the last line was; through the
        // lab's `Output`, which gives up on a reader that stopped reading once the run stops.
        let _ = Output::new().write_all(b"\x1b[0m");
        if let Some(recording) = recording {
            recording.borrow_mut().output(b"\x1b[0m");
        }
    }
    Ok(match outcome {
        Outcome::Finished | Outcome::OutputClosed => Status::Success,
        Outcome::Failed | Outcome::OutputFailed => Status::Failure,
        Outcome::Interrupted(signal) => Status::Interrupted(signal),
        Outcome::Exited(code) => Status::Exited(code),
    })
}

/// The lessons, one to a row; what each teaches wraps under its title (never inside a word)
/// when the terminal is narrow.
fn lesson_table(width: usize) -> String {
    let mut out = String::new();
    let title = text!(
        en: "proclab lessons (run one with: proclab run <number or slug>)",
        zh: "proclab 的课程（运行其中一课：proclab run <编号或 slug>）",
    );
    out.push_str(&format!("{}\n\n", title.bold()));
    let wide = width >= 120;
    // The title column is as wide as the longest title.
    let title_width = LESSONS
        .iter()
        .map(|lesson| notes::display_width(lesson.title.get()))
        .max()
        .unwrap_or(0);
    let (title, teaches, both) = match i18n::current() {
        Lang::En => ("title", "what it teaches", "title / what it teaches"),
        Lang::Zh => ("标题", "这一课教什么", "标题 / 这一课教什么"),
    };
    let header = if wide {
        format!(
            " {:>2}  {:<20} {} {teaches}",
            "#",
            "slug",
            notes::pad(title, title_width)
        )
    } else {
        format!(" {:>2}  {:<20} {both}", "#", "slug")
    };
    out.push_str(&format!("{}\n", header.dimmed()));
    // Where the teaches column starts, and the room it has.
    let (teaches_at, teaches_first_line) = if wide {
        (26 + title_width + 1, true)
    } else {
        (6, false)
    };
    let room = width.saturating_sub(teaches_at + 1).max(30);
    for lesson in LESSONS {
        let teaches = notes::plain_lines(lesson.teaches.get(), room);
        if wide {
            out.push_str(&format!(
                " {:>2}  {:<20} {} ",
                lesson.number(),
                lesson.slug().cyan(),
                notes::pad(lesson.title.get(), title_width),
            ));
        } else {
            out.push_str(&format!(
                " {:>2}  {:<20} {}\n",
                lesson.number(),
                lesson.slug().cyan(),
                lesson.title.get(),
            ));
        }
        for (i, line) in teaches.iter().enumerate() {
            if i > 0 || !teaches_first_line {
                out.push_str(&" ".repeat(teaches_at));
            }
            out.push_str(&format!("{}\n", line.dimmed()));
        }
    }
    out
}

fn rendered_notes(markdown: &str) -> String {
    let notes = Notes::parse(markdown);
    let width = terminal_width();
    let mut out = format!("{}\n\n", notes.title.bold());
    out.push_str(&notes::render(&notes.intro, width, ""));
    for (i, section) in notes.sections.iter().enumerate() {
        let step = i + 1;
        let title = &section.title;
        let heading = text!(en: "Step {step}: {title}", zh: "第 {step} 步：{title}");
        out.push_str(&format!("\n\n{}\n\n", heading.bold()));
        out.push_str(&notes::render(&section.body, width, "  "));
    }
    out.push('\n');
    out
}

/// Prints to standard output; a closed pipe (`proclab list | head -1`) ends quietly.
fn print_quietly(text: &str) -> Result<Status> {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(error) if error.kind() != io::ErrorKind::BrokenPipe => Err(error.into()),
        _ => Ok(Status::Success),
    }
}

/// clap's own consistency check of the definitions above.
pub fn check_definitions() {
    Cli::command().debug_assert();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_definitions_are_consistent() {
        check_definitions();
    }

    #[test]
    fn speed_must_be_between_a_hundredth_and_a_thousand() {
        assert_eq!(parse_speed("20"), Ok(20.0));
        assert_eq!(parse_speed("0.01"), Ok(0.01));
        assert_eq!(parse_speed("1000"), Ok(1000.0));
        for bad in [
            "0", "-1", "fast", "inf", "-inf", "NaN", "1e-300", "0.009", "1e308",
        ] {
            assert!(parse_speed(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn seconds_are_refused_outside_their_range() {
        assert_eq!(parse_time_limit("600"), Ok(600.0));
        assert_eq!(parse_hold_for("0"), Ok(0.0));
        for bad in ["0", "-1", "1e308", "inf", "601"] {
            assert!(parse_time_limit(bad).is_err(), "{bad}");
        }
        for bad in ["-0.5", "1e308", "600", "nan"] {
            assert!(parse_hold_for(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_seed_is_zero_or_more() {
        assert_eq!(parse_seed("0"), Ok(0));
        assert_eq!(
            parse_seed("-3"),
            Err("seeds are 0 or more, not -3".to_string())
        );
        assert!(parse_seed("x").is_err());
    }
}
