//! `proclab bench spawn`: what a process and a thread cost on this machine, and what the lab's
//! own `Process` adds on top of a bare `fork`.
//!
//! A lesson that says "a process costs N µs here" must be quoting the kernel, not the lab. So
//! this benchmark times, in one run and interleaved repetition by repetition (so that a busy
//! moment of the machine hits both alike):
//! - the lab's real [`Process`]: `start()` + `join()`, with every event it emits (`spawn`,
//!   `start`, `done`, `exit`) written into a real pipe that a separate process drains and
//!   parses, as the supervisor does in a lesson;
//! - a bare `fork` + `_exit(0)` + `waitpid`, the same as the C reference program;
//! - a thread: the lab's `Thread` (`pthread_create` + `pthread_join`), done last, because a process must not fork after
//!   it has started threads (see STYLE.md, fork pitfall 3).
//!
//! Each figure is the median, over the repetitions, of the mean cost of one operation in that
//! repetition; the spread is the lowest and highest repetition.

use std::io::{self, IsTerminal, Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::poll::{PollFd, PollFlags, poll};
use nix::sys::wait::waitpid;
use nix::unistd::{ForkResult, fork, pipe};

use crate::error::{Error, Result};
use crate::measure::{bare_fork, median, spawn_thread, time_per_op};
use crate::multiprocessing::process::{Process, poll_timeout};
use crate::runtime::context::{self, RunContext};
use crate::runtime::event::{Event, Kind};
use crate::supervisor;

/// Most operations per repetition: 20000 forks take about 5 s on a small machine.
pub const MAX_N: usize = 20_000;
/// Most repetitions.
pub const MAX_REPS: usize = 20;

/// What `proclab bench spawn` was asked for.
#[derive(Debug, Clone, Copy)]
pub struct SpawnOptions {
    /// Operations per repetition.
    pub n: usize,
    /// Repetitions; the figure is their median.
    pub reps: usize,
}

/// One measured operation: the mean cost of one operation in each repetition, in µs, and the
/// page faults per operation (this process's and its children's together).
struct Series {
    label: &'static str,
    micros: Vec<f64>,
    faults: Vec<f64>,
}

impl Series {
    fn median(&self) -> f64 {
        median(&self.micros)
    }
    fn min(&self) -> f64 {
        self.micros.iter().copied().fold(f64::INFINITY, f64::min)
    }
    fn max(&self) -> f64 {
        self.micros.iter().copied().fold(0.0, f64::max)
    }
    fn record(&mut self, (micros, faults): (f64, f64)) {
        self.micros.push(micros);
        self.faults.push(faults);
    }
    fn new(label: &'static str) -> Series {
        Series {
            label,
            micros: Vec::new(),
            faults: Vec::new(),
        }
    }
}

/// Runs the spawn benchmark and prints its table.
pub fn spawn(options: SpawnOptions) -> Result<()> {
    if !(1..=MAX_N).contains(&options.n) {
        return Err(Error::Usage(format!(
            "--n must be between 1 and {MAX_N}, not {}",
            options.n
        )));
    }
    if !(1..=MAX_REPS).contains(&options.reps) {
        return Err(Error::Usage(format!(
            "--reps must be between 1 and {MAX_REPS}, not {}",
            options.reps
        )));
    }
    let n = options.n;
    let warm_up = (n / 10).max(1);
    let progress = Progress::new(2 * options.reps + 1);

    // Nothing buffered may be copied into the processes forked below.
    io::stdout().flush()?;
    let drain = EventDrain::start()?;

    let mut lab = Series::new("lab Process: start() + join()");
    let mut bare = Series::new("bare fork + _exit(0) + waitpid");
    // Untimed warm-up: the first forks pay for page tables, the allocator's first growth ...
    time_per_op(warm_up, lab_process)?;
    time_per_op(warm_up, bare_fork)?;
    for rep in 1..=options.reps {
        progress.show(&format!(
            "lab Process, repetition {rep} of {}",
            options.reps
        ));
        lab.record(time_per_op(n, lab_process)?);
        progress.show(&format!("bare fork, repetition {rep} of {}", options.reps));
        bare.record(time_per_op(n, bare_fork)?);
    }
    let drained = drain.finish()?;

    // Threads last: from the first thread on, this process must not fork any more.
    progress.show("threads");
    let mut thread = Series::new("thread: spawn + join");
    time_per_op(warm_up, spawn_thread)?;
    for _ in 0..options.reps {
        thread.record(time_per_op(n, spawn_thread)?);
    }
    progress.done();

    let expected_events = 4 * (warm_up + n * options.reps);
    let out = &mut io::stdout().lock();
    writeln!(
        out,
        "proclab bench spawn · {n} operations × {} repetitions of each (after {warm_up} untimed) · {} CPUs",
        options.reps,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "{:<32} {:>8}  {:<24} {:>10}",
        "µs per operation", "median", "min - max (spread)", "faults/op"
    )?;
    for series in [&lab, &bare, &thread] {
        let spread = (series.max() - series.min()) / series.median() * 100.0;
        let range = format!("{:.1} - {:.1} ({spread:.0}%)", series.min(), series.max());
        writeln!(
            out,
            "{:<32} {:>8.1}  {range:<24} {:>10.1}",
            series.label,
            series.median(),
            median(&series.faults),
        )?;
    }
    writeln!(out)?;
    let ratio = lab.median() / bare.median();
    writeln!(
        out,
        "ratio lab Process / bare fork: {ratio:.2}× (the lab adds {:.1} µs per process)",
        lab.median() - bare.median()
    )?;
    writeln!(
        out,
        "ratio process / thread: {:.1}× (bare fork against thread spawn)",
        bare.median() / thread.median()
    )?;
    writeln!(out)?;
    for line in [
        "Included in the lab Process: the fork; in the child, its name, its start and done".into(),
        "events and _exit; in the parent, a pidfd for the child, its spawn event, the join's"
            .into(),
        "wait event (if the child still runs), waitid, and its woke and exit events. Each event"
            .into(),
        "is a write(2) (woke and exit share one) into a pipe that another process drains and"
            .into(),
        format!(
            "parses as the supervisor does ({} of {expected_events} events received).",
            drained.events
        ),
        "Not included: showing them on a terminal.".into(),
        "faults/op: page faults per operation, parent and child together (getrusage). A new".into(),
        "child faults on each page it writes (copy-on-write) and on each 64 KiB of code it runs"
            .into(),
        "for the first time: that is most of what a Process costs on top of a bare fork.".into(),
    ] {
        writeln!(out, "{line}")?;
    }
    if drained.events != expected_events || drained.unparsed != 0 {
        return Err(Error::System(format!(
            "the drain received {} events ({} unparsed), {expected_events} expected",
            drained.events, drained.unparsed
        )));
    }
    Ok(())
}

/// The lab's `Process`, exactly as a lesson uses it.
fn lab_process() -> Result<()> {
    let mut child = Process::new(|| {}).named("bench-child");
    child.start()?;
    match child.join()? {
        0 => Ok(()),
        code => Err(Error::System(format!(
            "a benchmark child exited with {code}"
        ))),
    }
}

/// What the drain process received.
struct Drained {
    events: usize,
    unparsed: usize,
}

/// The other end of the event pipe: a process that reads and parses every event, as the
/// supervisor does during a lesson, so that the `Process` measured writes into a pipe that is
/// really being drained (a pipe nobody reads fills up after 64 KiB and blocks its writers).
struct EventDrain {
    pid: nix::unistd::Pid,
    /// This process's write end of the event pipe; `context` writes to its number.
    event_writer: OwnedFd,
    /// Where the drain reports its counts once the event pipe is closed.
    report: OwnedFd,
}

impl EventDrain {
    /// Creates the event pipe, forks the drain, and points this process's events at the pipe.
    fn start() -> Result<EventDrain> {
        let (event_reader, event_writer) = pipe()?;
        let (report_reader, report_writer) = pipe()?;
        // SAFETY: single-threaded here; the child only reads a pipe, parses, writes one line
        // and leaves through `_exit`.
        match unsafe { fork() }? {
            ForkResult::Child => {
                drop(event_writer);
                drop(report_reader);
                let drained = drain_events(event_reader);
                let line = format!("{} {}\n", drained.events, drained.unparsed);
                let _ = nix::unistd::write(&report_writer, line.as_bytes());
                // SAFETY: `_exit` ends the process at once.
                unsafe { libc::_exit(0) }
            }
            ForkResult::Parent { child } => {
                drop(event_reader);
                drop(report_writer);
                // The children of `Process` inherit the write end, as in a lesson.
                context::init(RunContext {
                    start: Instant::now(),
                    speed: 1.0,
                    event_fd: event_writer.as_raw_fd(),
                    // Never created: nothing the benchmark runs uses a temporary directory.
                    temp_dir: std::env::temp_dir().join(format!("proclab-bench-{child}")),
                });
                context::set_name("bench");
                Ok(EventDrain {
                    pid: child,
                    event_writer,
                    report: report_reader,
                })
            }
        }
    }

    /// Closes this process's end of the event pipe (every child has been reaped, so it is the
    /// last), and collects the drain's counts.
    fn finish(self) -> Result<Drained> {
        // First stop `context` writing to that fd number, then close it.
        context::stop_emitting();
        drop(self.event_writer);
        let mut report = String::new();
        std::fs::File::from(self.report).read_to_string(&mut report)?;
        waitpid(self.pid, None)?;
        let mut counts = report.split_whitespace().map(|n| n.parse().unwrap_or(0));
        match (counts.next(), counts.next()) {
            (Some(events), Some(unparsed)) => Ok(Drained { events, unparsed }),
            _ => Err(Error::System("the event drain reported nothing".into())),
        }
    }
}

/// The drain's loop, the supervisor's without the view: wait for events, read all there is,
/// parse each line, order the batch by time, keep it; then let the next events gather for
/// `EVENT_BATCH`, as the supervisor does. Ends when every writer has closed the pipe.
fn drain_events(reader: OwnedFd) -> Drained {
    let _ = fcntl(reader.as_fd(), FcntlArg::F_SETFL(OFlag::O_NONBLOCK));
    let mut buffer: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 16 * 1024];
    let mut history: Vec<Event> = Vec::new();
    let mut unparsed = 0;
    let mut at_end = false;
    while !at_end {
        let mut fds = [PollFd::new(reader.as_fd(), PollFlags::POLLIN)];
        let _ = poll(&mut fds, poll_timeout(Duration::from_millis(100)));
        let before = history.len();
        loop {
            match nix::unistd::read(reader.as_fd(), &mut chunk) {
                Ok(0) => {
                    at_end = true;
                    break;
                }
                Ok(read) => buffer.extend_from_slice(&chunk[..read]),
                Err(nix::errno::Errno::EINTR) => continue,
                Err(_) => break,
            }
        }
        let mut batch: Vec<Event> = Vec::new();
        let mut consumed = 0;
        while let Some(newline) = buffer[consumed..].iter().position(|&b| b == b'\n') {
            let line = &buffer[consumed..consumed + newline];
            match std::str::from_utf8(line).ok().and_then(Event::from_json) {
                Some(event) => batch.push(event),
                None => unparsed += 1,
            }
            consumed += newline + 1;
        }
        buffer.drain(..consumed);
        batch.sort_by(|a, b| a.t.total_cmp(&b.t));
        history.extend(batch);
        if history.len() > before && !at_end {
            supervisor::gather_events();
        }
    }
    let events = history
        .iter()
        .filter(|event| {
            matches!(
                event.kind,
                Kind::Spawn { .. } | Kind::Start | Kind::Done { .. } | Kind::Exit { .. }
            )
        })
        .count();
    Drained { events, unparsed }
}

/// Progress on standard error: one line rewritten in place on a terminal, a line per stage
/// otherwise.
struct Progress {
    terminal: bool,
    started: Instant,
    stages: usize,
}

impl Progress {
    fn new(stages: usize) -> Progress {
        Progress {
            terminal: io::stderr().is_terminal(),
            started: Instant::now(),
            stages,
        }
    }

    fn show(&self, what: &str) {
        let elapsed = self.started.elapsed().as_secs_f64();
        if self.terminal {
            eprint!(
                "\r\x1b[2Kbench spawn: {what} ({elapsed:.1} s, {} stages)",
                self.stages
            );
        } else {
            eprintln!("bench spawn: {what} ({elapsed:.1} s)");
        }
    }

    fn done(&self) {
        if self.terminal {
            eprint!("\r\x1b[2K");
        }
    }
}
