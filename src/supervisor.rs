//! The supervisor: the `proclab` process itself, which runs a program (a lesson, or a tool such
//! as `proclab serve`) and cleans up after it.
//!
//! It forks the program's main process (主进程), reads the events every process of the program
//! writes into one pipe, and renders them. It is also the one place that knows how to leave
//! nothing behind:
//! - It makes itself a *child subreaper* (`PR_SET_CHILD_SUBREAPER`): a process of the lesson
//!   whose parent dies is re-parented to the supervisor instead of to pid 1, so the supervisor
//!   can still find it, and reap it.
//! - When the main process has ended (normally, by an error, or `q` at a step prompt), or on
//!   Ctrl-C (`SIGINT`), `SIGTERM` or `SIGHUP`, it kills whatever is left below it in the
//!   process tree (read from `/proc`), reaps everything, and removes the run's temp directory.
//! - Its signal handlers only set a flag; the work happens in the main loop.

use std::fs;
use std::io::{self, ErrorKind};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::panic;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::poll::{PollFd, PollFlags, poll};
use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, kill, sigaction};
use nix::sys::wait::{Id, WaitPidFlag, waitid, waitpid};
use nix::unistd::{ForkResult, Pid, fork, getpid, pipe2};

use crate::error::{Error, Result};
use crate::lab::{Lab, Pacing};
use crate::lessons::Lesson;
use crate::multiprocessing::process::{self, exitcode_of, poll_timeout};
use crate::runtime::context::{self, RunContext};
use crate::runtime::event::{Event, Kind};
use crate::runtime::procfs;
use crate::view::notes::Notes;
use crate::view::render::View;

/// How one run was asked for on the command line.
pub struct RunOptions {
    pub program: Program,
    pub speed: f64,
}

/// What the supervisor runs in its main process.
pub enum Program {
    /// A lesson: steps, seeded random numbers, a process tree and a timeline at the end.
    Lesson {
        lesson: &'static Lesson,
        seed: u64,
        /// `--step`: the prompts, and what each Enter moves on to.
        pacing: Pacing,
    },
    /// A long-running tool (`proclab serve`): its main process is named `name` and runs `main`
    /// until it returns or Ctrl-C. No steps; and no tree or timeline at the end, so that the
    /// supervisor keeps no history that would grow with every connection.
    Tool {
        name: &'static str,
        main: Box<dyn FnOnce() -> Result<()>>,
    },
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outcome {
    /// The lesson ran to its end (or the student quit at a prompt).
    Finished,
    /// The lesson failed: an error or a panic in its main process.
    Failed,
    /// A signal (Ctrl-C ...) stopped the run.
    Interrupted(i32),
    /// Standard output was closed (`proclab run 1 | head`): stopped quietly.
    OutputClosed,
}

/// The signal that asked us to stop, or 0.
static STOP_SIGNAL: AtomicI32 = AtomicI32::new(0);
/// The supervisor's pid, so that the panic hook knows where it runs.
static SUPERVISOR_PID: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_stop_signal(signal: libc::c_int) {
    // Only an atomic store: nothing else is safe inside a signal handler.
    STOP_SIGNAL.store(signal, Ordering::SeqCst);
}

extern "C" fn on_child_ended(_signal: libc::c_int) {}

const STOP_SIGNALS: [Signal; 3] = [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP];

/// Runs one lesson from start to end and returns how it ended.
pub fn run(options: RunOptions, view: View) -> Result<Outcome> {
    let supervisor = getpid();
    SUPERVISOR_PID.store(supervisor.as_raw(), Ordering::SeqCst);
    // Handlers first, so that from here on Ctrl-C always goes through the clean-up below.
    for signal in STOP_SIGNALS {
        let action = SigAction::new(
            SigHandler::Handler(on_stop_signal),
            SaFlags::empty(),
            SigSet::empty(),
        );
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        unsafe { sigaction(signal, &action) }?;
    }
    // SIGCHLD gets a handler that does nothing: its only job is to interrupt the poll() of the
    // main loop (no SA_RESTART), so that a child that ends is reaped at once, not up to 100 ms
    // later. (With SIGCHLD's default action, "ignore", the poll would just sleep on.)
    let wake_up = SigAction::new(
        SigHandler::Handler(on_child_ended),
        SaFlags::SA_NOCLDSTOP,
        SigSet::empty(),
    );
    // SAFETY: the handler does nothing at all.
    unsafe { sigaction(Signal::SIGCHLD, &wake_up) }?;

    let temp_dir = make_temp_dir(supervisor)?;
    let (event_reader, event_writer) = pipe2(OFlag::O_CLOEXEC)?;
    fcntl(event_reader.as_fd(), FcntlArg::F_SETFL(OFlag::O_NONBLOCK))?;

    context::init(RunContext {
        start: Instant::now(),
        speed: options.speed,
        event_fd: event_writer.as_raw_fd(),
        temp_dir: temp_dir.clone(),
    });
    context::set_name("proclab");
    install_panic_hook();
    nix::sys::prctl::set_child_subreaper(true)?;
    let is_lesson = matches!(options.program, Program::Lesson { .. });
    let mut run = Run {
        view,
        history: Vec::new(),
        keep_history: is_lesson,
        output_closed: false,
        reaped: 0,
        shown: 0,
    };
    let main_name = match &options.program {
        Program::Lesson { lesson, seed, .. } => {
            run.show(context::stamp(Kind::Lesson {
                number: lesson.number(),
                slug: lesson.slug().to_string(),
                title: lesson.title.to_string(),
                seed: *seed,
                speed: options.speed,
            }));
            "main"
        }
        Program::Tool { name, .. } => name,
    };
    run.flush();

    // The fork's time is taken before it: after it, the main process may run (and report)
    // before the supervisor is scheduled again, and its `spawn` must not look later than that.
    let forked_at = context::elapsed();
    // SAFETY: the supervisor is single-threaded. The child becomes the program's main process
    // and leaves through `process::exit` (`_exit`), never returning here.
    let main_pid = match unsafe { fork() }? {
        ForkResult::Child => {
            drop(event_reader);
            be_the_main_process(options.program, main_name)
        }
        ForkResult::Parent { child } => child,
    };
    drop(event_writer);
    context::stop_emitting();
    // The program (and whatever it owns, such as `serve`'s listening socket) now lives in the
    // main process; the supervisor closes its own copies.
    drop(options.program);
    let mut spawn = context::stamp(Kind::Spawn {
        child: main_pid.as_raw(),
        child_name: main_name.to_string(),
    });
    spawn.t = forked_at;
    run.show(spawn);

    let mut buffer = Vec::new();
    let mut main_exitcode = None;
    let outcome = loop {
        let mut fds = [PollFd::new(event_reader.as_fd(), PollFlags::POLLIN)];
        let _ = poll(&mut fds, poll_timeout(Duration::from_millis(100)));
        let shown_before = run.shown;
        run.read_events(&event_reader, &mut buffer);
        let signal = STOP_SIGNAL.load(Ordering::SeqCst);
        if signal != 0 {
            break Outcome::Interrupted(signal);
        }
        if run.output_closed {
            break Outcome::OutputClosed;
        }
        for (pid, exitcode) in run.reap_ended() {
            if pid == main_pid {
                main_exitcode = Some(exitcode);
            }
        }
        match main_exitcode {
            Some(0) => break Outcome::Finished,
            Some(_) => break Outcome::Failed,
            None => {}
        }
        if run.shown > shown_before {
            gather_events();
        }
    };

    // Whatever the lesson left running (a child of a failed step, an orphan), and every
    // process of an interrupted run, ends here.
    let reaped_before = run.reaped;
    let killed = run.kill_everything_below(supervisor);
    let reaped_in_clean_up = run.reaped - reaped_before;
    run.drain_events(&event_reader, &mut buffer);
    if !killed.is_empty() && matches!(outcome, Outcome::Finished | Outcome::Failed) {
        let list: Vec<String> = killed
            .iter()
            .map(|(pid, name)| format!("{pid} ({name})"))
            .collect();
        run.show(context::stamp(Kind::Note {
            text: format!(
                "The lab ended what the lesson left running: {}.",
                list.join(", ")
            ),
        }));
    }
    if let Outcome::Interrupted(signal) = outcome {
        let name = Signal::try_from(signal).map_or("a signal", |s| s.as_str());
        let what = if is_lesson { "lesson" } else { "run" };
        let killing = match killed.len() {
            0 => "none was still running: the signal had ended them all".to_string(),
            n => format!("it killed the {n} that were still running"),
        };
        run.show(context::stamp(Kind::Note {
            text: format!(
                "Stopped by {name}. The lab reaped {reaped_in_clean_up} process(es) of this {what} \
                 after the signal; {killing}. Nothing of the {what} is left."
            ),
        }));
    }
    let removed = fs::remove_dir_all(&temp_dir);
    let outcome_word = match outcome {
        Outcome::Finished => "finished",
        Outcome::Failed => "failed",
        Outcome::Interrupted(_) => "interrupted",
        Outcome::OutputClosed => "stopped",
    };
    run.show(context::stamp(Kind::End {
        wall: context::elapsed(),
        outcome: outcome_word.to_string(),
    }));
    let finished = if is_lesson {
        run.view.finish(&run.history)
    } else {
        run.view.flush()
    };
    if !run.output_closed && finished.is_err() {
        return Ok(Outcome::OutputClosed);
    }
    removed.map_err(|e| Error::System(format!("removing {}: {e}", temp_dir.display())))?;
    Ok(outcome)
}

/// How long the supervisor lets events gather in the pipe after it has shown some.
pub const EVENT_BATCH: Duration = Duration::from_millis(2);

/// Sleeps `EVENT_BATCH` *without* waiting on the event pipe, so that events written meanwhile
/// wake nobody. A write into a pipe whose reader is waiting must wake that reader, and on
/// another CPU that is an interrupt: `proclab bench spawn` measured it at 15-20 µs of every
/// `Process` (spawn, start, done, exit: four events, four wake-ups) on a 2-CPU machine. Once
/// events flow, a 2 ms pause costs the view nothing visible and the writers nothing at all;
/// when the lesson is quiet the supervisor waits on the pipe again, and sees the next event at
/// once. `SIGCHLD` and Ctrl-C still interrupt the pause.
pub fn gather_events() {
    let mut nothing: [PollFd; 0] = [];
    let _ = poll(&mut nothing, poll_timeout(EVENT_BATCH));
}

/// The program's main process: runs the lesson (or tool), then leaves like any child of the lab.
fn be_the_main_process(program: Program, name: &str) -> ! {
    // Ctrl-C must end the lesson's processes by default; only the supervisor catches it. And
    // SIGCHLD goes back to its default, as in any freshly started program.
    for signal in STOP_SIGNALS.into_iter().chain([Signal::SIGCHLD]) {
        // SAFETY: restoring the default action installs no handler.
        let _ = unsafe { nix::sys::signal::signal(signal, SigHandler::SigDfl) };
    }
    // If the supervisor itself is killed, the main process goes with it.
    let _ = nix::sys::prctl::set_pdeathsig(Signal::SIGKILL);
    context::set_name(name);
    context::emit(Kind::Start);

    let outcome = panic::catch_unwind(panic::AssertUnwindSafe(|| match program {
        Program::Lesson {
            lesson,
            seed,
            pacing,
        } => {
            let mut lab = Lab::new(&Notes::parse(lesson.notes), seed, pacing);
            (lesson.run)(&mut lab)?;
            lab.finish()
        }
        Program::Tool { main, .. } => main(),
    }));
    match outcome {
        Ok(Ok(())) => process::exit(0),
        Ok(Err(Error::Quit)) => {
            crate::note!("Stopped at the prompt: the lab ends this lesson's processes now.");
            process::kill_children();
            process::exit(0)
        }
        Ok(Err(error)) => {
            context::emit(Kind::Error {
                text: error.to_string(),
            });
            process::kill_children();
            process::exit(1)
        }
        // The panic hook has reported it.
        Err(_) => {
            process::kill_children();
            process::exit(1)
        }
    }
}

/// A panic in a lesson's process is reported as an `error` event of that process (then the
/// process exits with code 1); in the supervisor it is printed as usual.
fn install_panic_hook() {
    let default_hook = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        if getpid().as_raw() == SUPERVISOR_PID.load(Ordering::SeqCst) {
            default_hook(info);
        } else {
            context::emit(Kind::Error {
                text: format!("panicked: {info}"),
            });
        }
    }));
}

fn make_temp_dir(supervisor: Pid) -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("proclab-{supervisor}"));
    if dir.exists() {
        // Left by an earlier run whose pid was the same and which was killed outright.
        let _ = fs::remove_dir_all(&dir);
    }
    fs::create_dir(&dir).map_err(|e| Error::System(format!("creating {}: {e}", dir.display())))?;
    Ok(dir)
}

/// The supervisor's state while a lesson runs.
struct Run {
    view: View,
    /// Every event so far, for the tree and timeline at the end (lessons only).
    history: Vec<Event>,
    keep_history: bool,
    output_closed: bool,
    /// How many processes the supervisor has reaped.
    reaped: usize,
    /// How many events it has shown (kept in `history` or not).
    shown: usize,
}

impl Run {
    fn show(&mut self, event: Event) {
        if !self.output_closed
            && let Err(error) = self.view.show(&event)
        {
            self.note_output_error(&error);
        }
        self.shown += 1;
        if self.keep_history {
            self.history.push(event);
        }
    }

    fn flush(&mut self) {
        if !self.output_closed
            && let Err(error) = self.view.flush()
        {
            self.note_output_error(&error);
        }
    }

    fn note_output_error(&mut self, error: &io::Error) {
        if error.kind() == ErrorKind::BrokenPipe {
            self.output_closed = true;
        }
    }

    /// Reads whatever the pipe holds now and shows each complete line as an event.
    fn read_events(&mut self, reader: &OwnedFd, buffer: &mut Vec<u8>) -> bool {
        let mut chunk = [0u8; 16 * 1024];
        let mut at_end = false;
        loop {
            match nix::unistd::read(reader.as_fd(), &mut chunk) {
                Ok(0) => {
                    at_end = true;
                    break;
                }
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                Err(Errno::EINTR) => continue,
                Err(_) => break,
            }
        }
        let mut batch: Vec<Event> = Vec::new();
        while let Some(newline) = buffer.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = buffer.drain(..=newline).collect();
            batch.extend(Event::from_json(&String::from_utf8_lossy(&line)));
        }
        // Processes reach the pipe in the order the scheduler lets them write; within what
        // arrived together, show events in the order they happened.
        batch.sort_by(|a, b| a.t.total_cmp(&b.t));
        for event in batch {
            self.show(event);
        }
        self.flush();
        at_end
    }

    /// Reads until every writer has closed the pipe (they have all been killed by now), for
    /// at most a second.
    fn drain_events(&mut self, reader: &OwnedFd, buffer: &mut Vec<u8>) {
        let deadline = Instant::now() + Duration::from_secs(1);
        while Instant::now() < deadline {
            let mut fds = [PollFd::new(reader.as_fd(), PollFlags::POLLIN)];
            let _ = poll(&mut fds, poll_timeout(Duration::from_millis(20)));
            if self.read_events(reader, buffer) {
                return;
            }
        }
    }

    /// Reaps every child of the supervisor that has ended: the main process, and orphans that
    /// were re-parented here. Returns (pid, exitcode) of each.
    fn reap_ended(&mut self) -> Vec<(Pid, i32)> {
        let mut reaped = Vec::new();
        let peek = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
        while let Ok(status) = waitid(Id::All, peek) {
            let Some(pid) = status.pid() else { break };
            let Ok(status) = waitpid(pid, None) else {
                break;
            };
            let Some(exitcode) = exitcode_of(status) else {
                continue;
            };
            self.show(context::stamp(Kind::Exit {
                child: pid.as_raw(),
                exitcode,
                is_thread: false,
            }));
            reaped.push((pid, exitcode));
            self.reaped += 1;
        }
        reaped
    }

    /// Kills every process below the supervisor and reaps them, until none is left. Returns
    /// the (pid, name) of each process it had to kill.
    fn kill_everything_below(&mut self, supervisor: Pid) -> Vec<(i32, String)> {
        let mut killed: Vec<(i32, String)> = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            self.reap_ended();
            let left = procfs::descendants(supervisor);
            if left.is_empty() || Instant::now() > deadline {
                return killed;
            }
            for process in left {
                if process.state != 'Z' {
                    let _ = kill(process.pid, Signal::SIGKILL);
                    if !killed.iter().any(|(pid, _)| *pid == process.pid.as_raw()) {
                        killed.push((process.pid.as_raw(), process.comm));
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}
