//! The command line: every clap definition, and the dispatch to the rest of the lab.
//! The doc comments on these types are the `--help` text.

use std::io::{self, IsTerminal, Write};
use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use colored::Colorize;

use crate::error::{Error, Result};
use crate::lessons::{self, LESSONS};
use crate::supervisor::{self, Outcome, Program, RunOptions};
use crate::tools::bench;
use crate::tools::echo;
use crate::tools::load::{self, LoadOptions, Shape};
use crate::view::code;
use crate::view::notes::{self, Notes};
use crate::view::render::{HumanView, JsonView, View, terminal_width};

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
    #[command(subcommand)]
    pub command: Option<Command>,
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
    /// Lesson 2's spawn-style child: the lab's binary started again from the top, which runs
    /// the lesson's "module-level" bind of PORT again (used by the lesson, not by hand).
    #[command(hide = true)]
    SpawnChild {
        #[arg(long)]
        port: u16,
    },
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
    /// At most this many handlers at once; further connections wait until one ends.
    #[arg(long, default_value_t = echo::DEFAULT_MAX_CLIENTS as u32, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub max_clients: u32,
    /// One JSON object per line instead of the human view.
    #[arg(long)]
    pub json: bool,
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
    /// With --hold: seconds to keep them all open once they are, before closing them.
    #[arg(long, value_name = "S", default_value_t = 0.0, requires = "hold")]
    pub hold_for: f64,
    /// Seconds after which the run stops whatever it is doing; what is not done is an error.
    #[arg(long, value_name = "S", default_value_t = 60.0)]
    pub time_limit: f64,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// The lesson: its number (`3`) or its slug (`daemon-terminate`).
    pub lesson: String,
    /// Classroom mode: before each step, show its title and wait for Enter (q and Enter quits).
    #[arg(long)]
    pub step: bool,
    /// Print each step's notes right before that step's output.
    #[arg(long)]
    pub notes: bool,
    /// Show each step's code (the tutorial's Python, the lab's Rust) at the start of the step.
    #[arg(long)]
    pub code: bool,
    /// Seed for the random sleeps; every run prints the seed it used, so it can be replayed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Divide every sleep and timeout by this factor (20 turns a 1-3 s sleep into 50-150 ms).
    #[arg(long, default_value_t = 1.0, value_parser = parse_speed, allow_negative_numbers = true)]
    pub speed: f64,
    /// One JSON object per line instead of the human view: no colour, no prompts.
    #[arg(long)]
    pub json: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq)]
pub enum ColorWhen {
    /// Colour when standard output is a terminal and NO_COLOR is not set.
    Auto,
    Always,
    Never,
}

/// Exit statuses: 0 success, 1 the lesson failed, 2 bad input, 130 interrupted (Ctrl-C).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Status {
    Success = 0,
    Failure = 1,
    Usage = 2,
    Interrupted = 130,
}

fn parse_speed(text: &str) -> std::result::Result<f64, String> {
    let speed: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a number"))?;
    if !speed.is_finite() || speed <= 0.0 {
        return Err(format!("must be a number above 0, not {text}"));
    }
    if speed > 1000.0 {
        return Err("at most 1000 (faster than that, nothing is left to see)".to_string());
    }
    Ok(speed)
}

/// Parses the command line, runs the command, and turns the result into an exit status.
/// Errors are printed here, once.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return refuse_command_line(error),
    };
    match run(cli) {
        Ok(status) => ExitCode::from(status as u8),
        Err(Error::Io(error)) if error.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("proclab: {error}");
            let status = match error {
                Error::Usage(_) => Status::Usage,
                _ => Status::Failure,
            };
            ExitCode::from(status as u8)
        }
    }
}

/// `--help` and `--version` print as clap renders them; a command line we cannot use gets one
/// line on standard error (clap's message, without its usage block) and status 2.
fn refuse_command_line(error: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = error.print();
        return ExitCode::from(error.exit_code() as u8);
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
    ExitCode::from(Status::Usage as u8)
}

fn run(cli: Cli) -> Result<Status> {
    let json = match &cli.command {
        Some(Command::Run(args)) => args.json,
        Some(Command::Serve(args)) => args.json,
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
    match cli.command.unwrap_or(Command::List) {
        Command::List => print_quietly(&lesson_table()),
        Command::Notes { lesson } => {
            let lesson = lessons::find(&lesson)?;
            print_quietly(&rendered_notes(lesson.notes))
        }
        Command::Code { lesson, step } => {
            let lesson = lessons::find(&lesson)?;
            print_quietly(&code::render(lesson, step)?)
        }
        Command::Run(args) => run_lesson(args),
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
        Command::Serve(args) => serve(args),
        Command::SpawnChild { port } => {
            crate::lessons::spawn_worker::spawned_child(port)?;
            Ok(Status::Success)
        }
        Command::Client(args) => {
            echo::run_client(&args.host, args.port)?;
            Ok(Status::Success)
        }
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
        (_, _, Some(connections)) => {
            if !(args.hold_for.is_finite() && args.hold_for >= 0.0) {
                return Err(Error::Usage(format!(
                    "--hold-for must be 0 or more seconds, not {}",
                    args.hold_for
                )));
            }
            Shape::Hold {
                connections,
                hold_for: Duration::from_secs_f64(args.hold_for.min(load::MAX_TIME_LIMIT_S)),
            }
        }
        // clap already requires exactly one of the three.
        (None, None, None) => {
            return Err(Error::Usage(
                "choose one of --connections, --clients or --hold".into(),
            ));
        }
    };
    LoadOptions::new(args.host, args.port, shape, args.time_limit)
}

fn serve(args: ServeArgs) -> Result<Status> {
    let address = SocketAddr::new(args.bind, args.port);
    // Bound here, before anything is forked, so that a busy port is bad input (status 2).
    let listener = echo::listen_on(address, true).map_err(|error| {
        if error.kind() == io::ErrorKind::AddrInUse {
            Error::Usage(format!(
                "port {} is already in use on {}; choose another with --port N, or --port 0 \
                 for a free one",
                args.port, args.bind
            ))
        } else {
            Error::Usage(format!("cannot listen on {address}: {error}"))
        }
    })?;
    let view = if args.json {
        View::Json(JsonView::new())
    } else {
        View::Human(HumanView::new(terminal_width(), None, false, 0))
    };
    let max_clients = args.max_clients as usize;
    let options = RunOptions {
        program: Program::Tool {
            name: "server",
            main: Box::new(move || echo::serve(listener, max_clients)),
        },
        speed: 1.0,
    };
    finish_view(supervisor::run(options, view)?)
}

fn run_lesson(args: RunArgs) -> Result<Status> {
    let lesson = lessons::find(&args.lesson)?;
    let seed = args
        .seed
        .unwrap_or_else(|| rand::random_range(1..1_000_000));
    let view = if args.json {
        View::Json(JsonView::new())
    } else {
        let notes = Notes::parse(lesson.notes);
        let steps = notes.sections.len();
        let shown_notes = match args.code {
            true => Some(code::beside_notes(lesson, notes, args.notes)),
            false => args.notes.then_some(notes),
        };
        View::Human(HumanView::new(
            terminal_width(),
            shown_notes,
            args.step,
            steps,
        ))
    };
    let options = RunOptions {
        program: Program::Lesson {
            lesson,
            seed,
            // --json means no prompts: a tool reading the stream cannot answer them.
            step_mode: args.step && !args.json,
        },
        speed: args.speed,
    };
    finish_view(supervisor::run(options, view)?)
}

/// Resets the terminal's colour and turns how a run ended into the exit status.
fn finish_view(outcome: Outcome) -> Result<Status> {
    if colored::control::SHOULD_COLORIZE.should_colorize() {
        // Leave the terminal as we found it, whatever colour the last line was.
        print!("\x1b[0m");
        let _ = io::stdout().flush();
    }
    Ok(match outcome {
        Outcome::Finished | Outcome::OutputClosed => Status::Success,
        Outcome::Failed => Status::Failure,
        Outcome::Interrupted(_) => Status::Interrupted,
    })
}

fn lesson_table() -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{}\n\n",
        "proclab lessons (run one with: proclab run <number or slug>)".bold()
    ));
    out.push_str(&format!(
        "{}\n",
        format!(
            " {:>2}  {:<20} {:<40} {}",
            "#", "slug", "title", "what it teaches"
        )
        .dimmed()
    ));
    for lesson in LESSONS {
        out.push_str(&format!(
            " {:>2}  {:<20} {:<40} {}\n",
            lesson.number(),
            lesson.slug().cyan(),
            lesson.title,
            lesson.teaches
        ));
    }
    out
}

fn rendered_notes(markdown: &str) -> String {
    let notes = Notes::parse(markdown);
    let width = terminal_width();
    let mut out = format!("{}\n\n", notes.title.bold());
    out.push_str(&notes::render(&notes.intro, width, ""));
    for (i, section) in notes.sections.iter().enumerate() {
        out.push_str(&format!(
            "\n\n{}\n\n",
            format!("Step {}: {}", i + 1, section.title).bold()
        ));
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
    fn speed_must_be_a_positive_number() {
        assert_eq!(parse_speed("20"), Ok(20.0));
        assert!(parse_speed("0").is_err());
        assert!(parse_speed("-1").is_err());
        assert!(parse_speed("fast").is_err());
        assert!(parse_speed("inf").is_err());
    }
}
