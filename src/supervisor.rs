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
//! - And for what it cannot do itself, because something ended *it* (`kill -9`, a failed
//!   allocation), it has a [`Guard`]: a small process that leads the run's own process group
//!   and waits on a pipe from the supervisor. When that pipe reads end-of-file without a word
//!   first, the supervisor has died: the guard kills every process of the group and removes
//!   the temp directory. A temp directory whose supervisor died anyway (the guard killed too)
//!   is removed by the next run.

use std::ffi::{CString, OsStr, OsString};
use std::fs;
use std::io::{self, ErrorKind};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::panic;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::poll::{PollFd, PollFlags, poll};
use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, kill, sigaction};
use nix::sys::wait::{Id, WaitPidFlag, waitid, waitpid};
use nix::unistd::{ForkResult, Pid, fork, getpid, getppid, pipe2, setpgid};

use crate::error::{Error, Result};
use crate::i18n;
use crate::lab::{Lab, Pacing, StepTitles};
use crate::lessons::Lesson;
use crate::multiprocessing::process::{self, exitcode_of, poll_timeout};
use crate::predict::Referee;
use crate::runtime::context::{self, RunContext};
use crate::runtime::errno;
use crate::runtime::event::{Event, Kind};
use crate::runtime::lifeline;
use crate::runtime::procfs;
use crate::runtime::stop::{self, STOP_SIGNALS};
use crate::text;
use crate::view::notes::Notes;
use crate::view::output::{self, Mode};
use crate::view::render::View;
use crate::view::screen::tty;

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
    /// `proclab trace`: the main process is the tracer (see `trace`), which runs the program
    /// and speaks for it; the program's exit status becomes proclab's. A tree and a timeline
    /// close the run, as a lesson's.
    Trace { command: crate::trace::Command },
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outcome {
    /// The lesson ran to its end (or the student quit at a prompt).
    Finished,
    /// The lesson failed: an error or a panic in its main process.
    Failed,
    /// The traced program exited with this status (not 0), or was killed (128 + N).
    Exited(i32),
    /// A signal (Ctrl-C ...) stopped the run.
    Interrupted(i32),
    /// Standard output was closed (`proclab run 1 | head`): stopped quietly.
    OutputClosed,
    /// Standard output failed otherwise (`> /dev/full`): the run stopped, and says why.
    OutputFailed,
}

/// The supervisor's pid, so that the panic hook knows where it runs.
static SUPERVISOR_PID: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_child_ended(_signal: libc::c_int) {}

/// Runs one lesson from start to end and returns how it ended.
pub fn run(options: RunOptions, view: View) -> Result<Outcome> {
    let supervisor = getpid();
    SUPERVISOR_PID.store(supervisor.as_raw(), Ordering::SeqCst);
    lifeline::set_supervisor(supervisor.as_raw());
    // Handlers first, so that from here on Ctrl-C always goes through the clean-up below.
    stop::catch_stop_signals()?;
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

    remove_dead_run_dirs();
    // The guard first, and it makes the run's directory: from here on, whatever ends the
    // supervisor, what the run created goes too, even at the moment it is created.
    let mut guard = Guard::start()?;
    let run_dir = guard.run_dir()?;
    let temp_dir = run_dir.path.clone();
    let result = supervise(options, view, supervisor, run_dir, guard);
    // Whatever failed on the way (a pipe, a fork), what the run created goes with it.
    if result.is_err() {
        let _ = remove_run_dir(&temp_dir);
    }
    result
}

/// Everything of `run` after the guard and the temp directory exist.
fn supervise(
    options: RunOptions,
    view: View,
    supervisor: Pid,
    run_dir: RunDir,
    guard: Guard,
) -> Result<Outcome> {
    let temp_dir: &Path = &run_dir.path.clone();
    let (event_reader, event_writer) =
        pipe2(OFlag::O_CLOEXEC).map_err(|e| cannot("create the event pipe", e))?;
    fcntl(event_reader.as_fd(), FcntlArg::F_SETFL(OFlag::O_NONBLOCK))?;

    context::init(RunContext {
        start: Instant::now(),
        speed: options.speed,
        event_fd: event_writer.as_raw_fd(),
        temp_dir: temp_dir.to_path_buf(),
    });
    context::set_name("proclab");
    install_panic_hook();
    nix::sys::prctl::set_child_subreaper(true)?;
    let is_lesson = matches!(options.program, Program::Lesson { .. });
    let is_trace = matches!(options.program, Program::Trace { .. });
    // A lesson's output is its point: the supervisor waits for a slow reader (never past a
    // stop). A server's annotations are not worth a stalled client: they are dropped instead.
    output::set_mode(if is_lesson || is_trace {
        Mode::Wait
    } else {
        Mode::Drop
    });
    let mut run = Run {
        view,
        history: Vec::new(),
        keep_history: is_lesson || is_trace,
        output_closed: false,
        output_failed: None,
        not_shown: 0,
        reaped: 0,
        shown: 0,
        guard: None,
        referee: None,
    };
    let (main_name, step_mode) = match &options.program {
        Program::Lesson {
            lesson,
            seed,
            pacing,
        } => {
            run.show(context::stamp(Kind::Lesson {
                number: lesson.number(),
                slug: lesson.slug().to_string(),
                title: lesson.title.get().to_string(),
                seed: *seed,
                speed: options.speed,
                lang: i18n::current().code().to_string(),
            }));
            if pacing.predict {
                run.referee = Some(Referee::new(lesson));
            }
            // --predict waits for answers as --step does.
            ("main", pacing.step_mode || pacing.predict)
        }
        Program::Tool { name, .. } => (*name, false),
        Program::Trace { command } => {
            // The header first, as a lesson's: the lines of the run (the tracer's own spawn
            // and start among them) come after it.
            run.show(context::stamp(crate::trace::header(command)));
            ("tracer", false)
        }
    };
    run.flush();

    // In --step mode the main process reads the student's answers; it does so from a pipe
    // the supervisor fills from its own standard input. The run has a process group of its
    // own (the guard's, below), and a process outside the terminal's foreground group that
    // read the terminal would be stopped (SIGTTIN).
    let answers = if step_mode {
        crate::runtime::input::note_whether_typed();
        Some(pipe2(OFlag::O_CLOEXEC).map_err(|e| cannot("create a pipe", e))?)
    } else {
        None
    };
    let guard_pid = guard.pid;
    run.guard = Some(guard_pid);
    let guard_line = guard.line.as_ref().map_or(-1, AsRawFd::as_raw_fd);
    let run_lock = run_dir.lock.as_raw_fd();

    // The fork's time is taken before it: after it, the main process may run (and report)
    // before the supervisor is scheduled again, and its `spawn` must not look later than that.
    let forked_at = context::elapsed();

    // SAFETY: the supervisor is single-threaded. The child becomes the program's main process
    // and leaves through `process::exit` (`_exit`), never returning here.
    let main_pid = match unsafe { fork() }.map_err(|e| cannot("fork", e))? {
        ForkResult::Child => {
            drop(event_reader);
            // The supervisor ignores SIGXFSZ while it records (`view::record`); the program
            // keeps the default, as it would have without the lab.
            // SAFETY: restoring the default action installs no handler.
            let _ = unsafe { nix::sys::signal::signal(Signal::SIGXFSZ, SigHandler::SigDfl) };
            let answers = answers.map(|(reader, _)| reader);
            join_the_run(supervisor, guard_pid, [guard_line, run_lock], answers);
            be_the_main_process(options.program, main_name)
        }
        ForkResult::Parent { child } => child,
    };
    // Also here, so that the main process is in the run's group whichever of the two runs
    // first (the classic race of setpgid after fork).
    let _ = setpgid(main_pid, guard_pid);
    drop(event_writer);
    let mut answers = answers.map(|(_, writer)| Answers::new(writer));
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
    let mut keys_ended = false;
    let outcome = loop {
        // SAFETY: descriptor 0 stays open for the life of the process.
        let stdin = unsafe { BorrowedFd::borrow_raw(0) };
        let mut fds = vec![PollFd::new(event_reader.as_fd(), PollFlags::POLLIN)];
        // The full-screen view reads every key (its own keys move the view at any time); the
        // line view's input is read only as the main process takes it.
        let keyboard = run.view.owns_keyboard() && !keys_ended;
        if keyboard || answers.as_ref().is_some_and(Answers::wants_input) {
            fds.push(PollFd::new(stdin, PollFlags::POLLIN));
        }
        let _ = poll(&mut fds, poll_timeout(Duration::from_millis(100)));
        let input_ready = fds.get(1).is_some_and(|fd| fd.any().unwrap_or(false));
        if let Some(answers) = answers.as_mut() {
            if input_ready && keyboard {
                match read_keys() {
                    Some(keys) => {
                        let answer = run.view.keys(&keys);
                        answers.pending.extend_from_slice(&answer);
                    }
                    None => keys_ended = true,
                }
            } else if input_ready {
                answers.take_input();
            }
            answers.pass_on();
        }
        if run.view.wants_to_stop() {
            break Outcome::Interrupted(Signal::SIGINT as i32);
        }
        let shown_before = run.shown;
        run.read_events(&event_reader, &mut buffer);
        if let Some(signal) = stop::stop_signal() {
            break Outcome::Interrupted(signal);
        }
        if run.output_failed.is_some() {
            break Outcome::OutputFailed;
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
            Some(code) if is_trace => break Outcome::Exited(code),
            Some(_) => break Outcome::Failed,
            None => {}
        }
        if run.shown > shown_before {
            gather_events();
        }
        if keyboard {
            // The full screen redraws when it is due (a key, a resize), not only on events.
            run.flush();
        }
    };
    drop(answers);

    // Whatever the lesson left running (a child of a failed step, an orphan), and every
    // process of an interrupted run, ends here.
    let reaped_before = run.reaped;
    let killed = run.kill_everything_below(supervisor);
    let reaped_in_clean_up = run.reaped - reaped_before;
    run.drain_events(&event_reader, &mut buffer);
    if !killed.is_empty()
        && matches!(
            outcome,
            Outcome::Finished | Outcome::Failed | Outcome::Exited(_)
        )
    {
        let list: Vec<String> = killed
            .iter()
            .map(|(pid, name)| text!(en: "{pid} ({name})", zh: "{pid}（{name}）"))
            .collect();
        let list = list.join(&text!(en: ", ", zh: "、"));
        run.show(context::stamp(Kind::Note {
            text: text!(
                en: "The lab ended what the lesson left running: {list}.",
                zh: "课程结束时还有进程在运行，proclab 把它们结束了：{list}。",
            ),
        }));
    }
    if let Outcome::Interrupted(signal) = outcome {
        let name = Signal::try_from(signal).map_or("a signal", |s| s.as_str());
        let what = match (is_lesson, i18n::current()) {
            (true, i18n::Lang::En) => "lesson",
            (false, i18n::Lang::En) => "run",
            (true, i18n::Lang::Zh) => "课程",
            (false, i18n::Lang::Zh) => "运行",
        };
        let killing = match killed.len() {
            0 => text!(
                en: "none was still running: the signal had ended them all",
                zh: "已经没有在运行的了：信号把它们全都结束了",
            ),
            n => text!(
                en: "it killed the {n} that were still running",
                zh: "并杀掉了仍在运行的 {n} 个",
            ),
        };
        run.show(context::stamp(Kind::Note {
            text: text!(
                en: "Stopped by {name}. The lab reaped {reaped_in_clean_up} process(es) of this \
                     {what} after the signal; {killing}. Nothing of the {what} is left.",
                zh: "被 {name} 停止。信号之后，proclab 回收了这次{what}的 {reaped_in_clean_up} 个\
                     进程；{killing}。这次{what}什么都没有留下。",
            ),
        }));
    }
    let removed = remove_run_dir(temp_dir);
    // Nothing of the run is left: the guard may go, and the run's lock with it.
    guard.dismiss();
    drop(run_dir);
    let outcome_word = match outcome {
        Outcome::Finished => "finished",
        Outcome::Failed | Outcome::Exited(_) => "failed",
        Outcome::Interrupted(_) => "interrupted",
        Outcome::OutputClosed | Outcome::OutputFailed => "stopped",
    };
    if let Some(mut referee) = run.referee.take() {
        // The last step's prediction, and the score.
        for said in referee.finish(&run.history, outcome == Outcome::Finished) {
            run.show(context::stamp(said));
        }
    }
    run.show(context::stamp(Kind::End {
        wall: context::elapsed(),
        outcome: outcome_word.to_string(),
    }));
    if !is_lesson && !is_trace {
        // The last lines of a server get the grace period, not an unbounded wait.
        output::set_stopping();
    }
    let finished = if run.output_closed {
        Ok(())
    } else if is_lesson || is_trace {
        run.view.finish(&run.history)
    } else {
        run.view.flush()
    };
    if let Err(error) = finished {
        run.note_output_error(&error);
    }
    if let Some(error) = run.output_failed {
        return Err(Error::System(format!(
            "cannot write to standard output: {error}"
        )));
    }
    removed.map_err(|e| {
        Error::System(format!(
            "cannot remove {}: {}",
            temp_dir.display(),
            errno::describe_io(&e)
        ))
    })?;
    if outcome == Outcome::Failed
        && is_lesson
        && let Some(cause) = limit_reached(&run.history)
    {
        // The lesson's error names the call that failed; this line names the limit and the
        // remedy, as the run's own setup does when it meets the same limit.
        eprintln!(
            "proclab: {}",
            text!(en: "the lesson failed: {cause}", zh: "课程失败：{cause}")
        );
    }
    Ok(outcome)
}

/// The resource limit a failed lesson ran into, if one of its errors says so: too many open
/// files (`EMFILE`, `ENFILE`), or too many processes (`EAGAIN` from a fork or a thread's start).
fn limit_reached(history: &[Event]) -> Option<String> {
    history.iter().find_map(|event| {
        let Kind::Error { text } = &event.kind else {
            return None;
        };
        let code = |errno: Errno| format!("(os error {})", errno as i32);
        if text.contains(&code(Errno::EMFILE)) {
            Some(errno::describe(Errno::EMFILE))
        } else if text.contains(&code(Errno::ENFILE)) {
            Some(errno::describe(Errno::ENFILE))
        } else if text.contains("(ulimit -u)")
            || (text.contains(&code(Errno::EAGAIN))
                && ["fork", "spawn", "thread", "clone", "start"]
                    .iter()
                    .any(|call| text.contains(call)))
        {
            Some(errno::describe(Errno::EAGAIN))
        } else {
            None
        }
    })
}

/// Bytes of a server's annotations that may wait for standard output before events are left
/// out (`serve | less` without scrolling must not stall the server).
const MAX_BACKLOG: usize = 64 * 1024;

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

/// The titles of a lesson's steps, its notes' `## ` headings, in English and as this run shows
/// them.
fn step_titles(lesson: &Lesson) -> StepTitles {
    let titles = |notes: &str| -> Vec<String> {
        let notes = Notes::parse(notes);
        notes.step_titles().iter().map(|t| t.to_string()).collect()
    };
    StepTitles {
        en: titles(lesson.notes.en),
        shown: titles(lesson.notes.get()),
    }
}

/// The program's main process: runs the lesson (or tool), then leaves like any child of the lab.
fn be_the_main_process(program: Program, name: &str) -> ! {
    // Ctrl-C must end the lesson's processes by default; only the supervisor catches it. And
    // SIGCHLD goes back to its default, as in any freshly started program.
    for signal in STOP_SIGNALS.into_iter().chain([Signal::SIGCHLD]) {
        // SAFETY: restoring the default action installs no handler.
        let _ = unsafe { nix::sys::signal::signal(signal, SigHandler::SigDfl) };
    }
    // Every process this one forks, and theirs, leaves when the run is gone (see `lifeline`).
    lifeline::install_handler();
    context::set_name(name);
    context::emit_start();

    let outcome = panic::catch_unwind(panic::AssertUnwindSafe(|| match program {
        Program::Lesson {
            lesson,
            seed,
            pacing,
        } => {
            let predict = pacing.predict;
            let mut lab = Lab::new(step_titles(lesson), seed, pacing);
            if predict {
                let questions = crate::predict::questions_of(lesson);
                lab.ask_questions(questions.iter().map(|q| q.asked()).collect());
            }
            (lesson.run)(&mut lab)?;
            lab.finish()
        }
        Program::Tool { main, .. } => main(),
        Program::Trace { command } => process::exit(crate::trace::trace(command)?),
    }));
    match outcome {
        Ok(Ok(())) => process::exit(0),
        Ok(Err(Error::Quit)) => {
            crate::note!(
                en: "Stopped at the prompt: the lab ends this lesson's processes now.",
                zh: "在提示处停止：proclab 现在结束这节课的所有进程。",
            );
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

/// The name of the lock file that marks a directory as a run's (see [`RunDir`]).
const RUN_LOCK: &str = "proclab-run.lock";

/// A run's own directory in `$TMPDIR` (sockets, lock files, databases of its lessons).
///
/// Other users and other runs share `$TMPDIR`, so the directory is made the way `mkdtemp`
/// makes one: a name nobody can guess (`proclab-` and six random characters), created only
/// if it did not exist, readable by its owner alone (0700). Inside, the lock file `RUN_LOCK`
/// marks it as a run's, and the supervisor and the guard hold an `flock` on it while the run
/// lives (shared locks, each on its own open file). The kernel drops an `flock` when the last
/// process holding the open file dies, whatever killed it and whatever pid namespace it ran
/// in: a lock free for an exclusive `flock` proves the run dead.
struct RunDir {
    path: PathBuf,
    /// The open lock file; its `flock` is held for as long as it stays open.
    lock: OwnedFd,
}

impl RunDir {
    /// Makes the directory and takes the lock (in the guard: see [`Guard`]).
    fn create() -> Result<RunDir> {
        let template = std::env::temp_dir().join("proclab-XXXXXX");
        let failed = |error: io::Error| {
            Error::System(format!(
                "cannot create a directory in {}: {} (TMPDIR chooses where)",
                std::env::temp_dir().display(),
                errno::describe_io(&error)
            ))
        };
        let mut template = CString::new(template.into_os_string().into_vec())
            .map_err(|_| failed(io::Error::from(ErrorKind::InvalidInput)))?
            .into_bytes_with_nul();
        // SAFETY: `template` is a writable, NUL-terminated buffer that mkdtemp fills in.
        if unsafe { libc::mkdtemp(template.as_mut_ptr().cast()) }.is_null() {
            return Err(failed(io::Error::last_os_error()));
        }
        template.pop();
        let path = PathBuf::from(OsString::from_vec(template));
        // The lock is taken on a file of another name, then renamed into place: a run that
        // sweeps away dead runs' directories never sees the mark without the lock held.
        let creating = path.join("lock-being-taken");
        let lock = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&creating)
            .map_err(failed)?;
        // SAFETY: flock on a descriptor this process owns.
        if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_SH | libc::LOCK_NB) } != 0 {
            return Err(failed(io::Error::last_os_error()));
        }
        fs::rename(&creating, path.join(RUN_LOCK)).map_err(failed)?;
        Ok(RunDir {
            path,
            lock: lock.into(),
        })
    }
}

/// A directory of the lab's own in `$TMPDIR`, for a process that is not a run's supervisor
/// (an exercise's check, for its scratch files and its Rust build): made and marked as a run's
/// directory is (see [`RunDir`]), and removed when dropped. If its holder is killed first, the
/// lock it held is free, and the next run of the lab removes the directory as a dead run's:
/// nothing of it is left for long, and no directory that is not provably the lab's is touched.
pub struct OwnDir {
    dir: RunDir,
}

impl OwnDir {
    pub fn create() -> Result<OwnDir> {
        remove_dead_run_dirs();
        Ok(OwnDir {
            dir: RunDir::create()?,
        })
    }

    pub fn path(&self) -> &Path {
        &self.dir.path
    }
}

impl Drop for OwnDir {
    fn drop(&mut self) {
        let _ = remove_run_dir(&self.dir.path);
    }
}

/// Removes a run's directory; one that is gone already (removed by hand, or by the guard of
/// a run stopped twice) is not an error.
fn remove_run_dir(dir: &Path) -> io::Result<()> {
    // What a traced program made under /dev/shm and left (listed in the directory) first.
    crate::trace::remove_shared_files(dir);
    match fs::remove_dir_all(dir) {
        Err(error) if error.kind() == ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// Removes the directories of runs that are provably dead (killed together with their guard,
/// or on a machine that went down), and nothing else: a directory of `$TMPDIR` is removed
/// only if it is named `proclab-…`, is a real directory owned by this user, holds the lab's
/// lock file, and that lock is free. Whatever else is there (another user's files, a
/// directory someone named `proclab-2024`, a live run of another pid namespace) stays.
fn remove_dead_run_dirs() {
    let Ok(entries) = fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    // SAFETY: geteuid cannot fail.
    let me = unsafe { libc::geteuid() };
    for entry in entries.flatten() {
        if !entry.file_name().as_bytes().starts_with(b"proclab-") {
            continue;
        }
        let dir = entry.path();
        let is_ours = |meta: &fs::Metadata| meta.uid() == me;
        let Ok(meta) = fs::symlink_metadata(&dir) else {
            continue;
        };
        if !meta.is_dir() || !is_ours(&meta) {
            continue;
        }
        let Ok(lock) = fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(dir.join(RUN_LOCK))
        else {
            continue;
        };
        if !lock
            .metadata()
            .is_ok_and(|meta| meta.is_file() && is_ours(&meta))
        {
            continue;
        }
        // SAFETY: flock on a descriptor this process owns.
        let free = unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
        if free {
            // Removed while this run holds the lock: nobody else can be sweeping it too.
            crate::trace::remove_shared_files(&dir);
            let _ = fs::remove_dir_all(&dir);
        }
    }
}

/// An early failure of the supervisor: what it could not do, why, and what to do about it.
fn cannot(what: &str, errno: Errno) -> Error {
    Error::System(format!("cannot {what}: {}", errno::describe(errno)))
}

/// The main process's first steps, before anything else can happen in it: go with the
/// supervisor if it dies, join the run's process group, let go of what it must not hold.
fn join_the_run(
    supervisor: Pid,
    group: Pid,
    supervisors_own: [RawFd; 2],
    answers: Option<OwnedFd>,
) {
    // If the supervisor itself is killed, the main process goes with it; and if it died
    // before that was set, the main process leaves at once.
    let _ = nix::sys::prctl::set_pdeathsig(Signal::SIGKILL);
    if getppid() != supervisor {
        // SAFETY: `_exit` ends the process at once; it is always safe to call.
        unsafe { libc::_exit(1) }
    }
    let _ = setpgid(Pid::from_raw(0), group);
    // Only the supervisor may hold the guard's pipe (its end-of-file means "the supervisor
    // is gone") and the run's lock (which says the supervisor or the guard still lives).
    for fd in supervisors_own {
        let _ = nix::unistd::close(fd);
    }
    if let Some(answers) = answers {
        let _ = nix::unistd::dup2_stdin(&answers);
    }
}

/// The guard of a run: a process forked before the lesson's main process, which leads the
/// run's own process group (every process of the run is in it: `fork` keeps the group) and
/// outlives the supervisor for as long as it takes to clean up after it.
///
/// The guard makes the run's directory and names it to the supervisor on a pipe of its own
/// (`answer`), so that it knows the directory from the moment it exists: a supervisor killed
/// between making it and naming it would otherwise leave it behind. Both then hold the run's
/// lock. The supervisor holds the only write end of another pipe (`line`) whose read end the
/// guard waits on; when the run is over, it writes one byte ("all clean") and the guard
/// leaves. If the supervisor dies first, however it dies, the kernel closes its end: the
/// guard reads end-of-file, kills every other process of the group (orphans included:
/// re-parenting does not change a process's group) and removes the run's directory.
struct Guard {
    pid: Pid,
    /// The supervisor's end of the pipe; closed without a word, it sends the guard to work.
    line: Option<OwnedFd>,
    /// Where the guard names the directory it made (or says why it could not).
    answer: Option<OwnedFd>,
}

/// What ends the directory's name (or the error) on the guard's answer.
const END_OF_NAME: u8 = 0;
/// What starts an error instead of a name on the guard's answer.
const CANNOT: u8 = b'!';
/// What the supervisor writes to its guard when nothing of the run is left.
const ALL_CLEAN: u8 = b'.';

impl Guard {
    /// Forks the guard.
    fn start() -> Result<Guard> {
        let (reader, writer) = pipe2(OFlag::O_CLOEXEC).map_err(|e| cannot("create a pipe", e))?;
        let (answer_reader, answer_writer) =
            pipe2(OFlag::O_CLOEXEC).map_err(|e| cannot("create a pipe", e))?;
        // SAFETY: the supervisor is single-threaded; the guard child only makes a directory,
        // reads a pipe, reads /proc, sends signals and removes a directory, and leaves
        // through `_exit`.
        match unsafe { fork() }.map_err(|e| cannot("fork", e))? {
            ForkResult::Child => {
                drop((writer, answer_reader));
                be_the_guard(reader, answer_writer)
            }
            ForkResult::Parent { child } => {
                // Also here, so that the group exists before the main process joins it.
                let _ = setpgid(child, child);
                Ok(Guard {
                    pid: child,
                    line: Some(writer),
                    answer: Some(answer_reader),
                })
            }
        }
    }

    /// The run's directory, as the guard made it, with the supervisor's own lock on it.
    fn run_dir(&mut self) -> Result<RunDir> {
        let answer = self.answer.take().expect("asked once");
        let mut said = Vec::new();
        while !said.contains(&END_OF_NAME) {
            let mut chunk = [0u8; 512];
            match nix::unistd::read(answer.as_fd(), &mut chunk) {
                Err(Errno::EINTR) => continue,
                Ok(0) => break,
                Err(errno) => return Err(cannot("hear from the run's guard", errno)),
                Ok(n) => said.extend_from_slice(&chunk[..n]),
            }
        }
        let Some(end) = said.iter().position(|&b| b == END_OF_NAME) else {
            return Err(Error::System(
                "the run's guard ended before it made the run's directory".to_string(),
            ));
        };
        if said.first() == Some(&CANNOT) {
            return Err(Error::System(
                String::from_utf8_lossy(&said[1..end]).into_owned(),
            ));
        }
        let path = PathBuf::from(OsStr::from_bytes(&said[..end]));
        let failed = |error: io::Error| {
            Error::System(format!(
                "cannot lock {}: {}",
                path.display(),
                errno::describe_io(&error)
            ))
        };
        let lock = fs::File::open(path.join(RUN_LOCK)).map_err(failed)?;
        // SAFETY: flock on a descriptor this process owns. Shared, as the guard's: it never
        // waits (only a sweep of dead runs takes it exclusively, and the guard holds it).
        if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_SH) } != 0 {
            return Err(failed(io::Error::last_os_error()));
        }
        Ok(RunDir {
            path,
            lock: lock.into(),
        })
    }

    /// Tells the guard that nothing is left to clean up, and reaps it.
    fn dismiss(self) {
        if let Some(line) = &self.line {
            let _ = nix::unistd::write(line, &[ALL_CLEAN]);
        }
    }
}

impl Drop for Guard {
    /// Closes the pipe and reaps the guard. Without "all clean" first (an early failure of
    /// the supervisor), the guard cleans up before it leaves, as if the supervisor had died.
    fn drop(&mut self) {
        drop(self.line.take());
        loop {
            match waitpid(self.pid, None) {
                Err(Errno::EINTR) => continue,
                _ => return,
            }
        }
    }
}

/// The guard's life: make the run's directory, then wait for the supervisor's word, or for
/// its death.
fn be_the_guard(line: OwnedFd, answer: OwnedFd) -> ! {
    context::set_name("proclab-guard");
    let supervisor = getppid();
    let _ = setpgid(Pid::from_raw(0), Pid::from_raw(0));
    // A Ctrl-C or a hang-up is for the supervisor, which then ends the run itself; the guard
    // must outlast it.
    for signal in [
        Signal::SIGINT,
        Signal::SIGTERM,
        Signal::SIGHUP,
        Signal::SIGQUIT,
        // Giving the terminal back from outside its foreground group (below).
        Signal::SIGTTOU,
    ] {
        // SAFETY: ignoring a signal installs no handler.
        let _ = unsafe { nix::sys::signal::signal(signal, SigHandler::SigIgn) };
    }
    // SAFETY: restoring the default action installs no handler.
    let _ = unsafe { nix::sys::signal::signal(Signal::SIGCHLD, SigHandler::SigDfl) };
    // Keep no descriptor of the supervisor's: not its standard output (a reader waiting for
    // end-of-file would wait for the guard too), not the event pipe, not a listening socket.
    let (line, answer) = keep_only(line, answer);
    // The directory, with the guard's own shared lock on it (the run is alive while the
    // supervisor or the guard is), named to the supervisor; or why it could not be made.
    // (A path is far shorter than a pipe's buffer: the write does not wait.)
    let made = RunDir::create();
    let mut said = match &made {
        Ok(dir) => dir.path.as_os_str().as_bytes().to_vec(),
        Err(error) => [&[CANNOT], error.to_string().as_bytes()].concat(),
    };
    said.push(END_OF_NAME);
    let _ = nix::unistd::write(&answer, &said);
    drop(answer);
    let run_dir = made.ok();
    let all_clean = loop {
        let mut byte = [0u8; 1];
        match nix::unistd::read(line.as_fd(), &mut byte) {
            Err(Errno::EINTR) => continue,
            Ok(0) | Err(_) => break false,
            Ok(_) if byte[0] == ALL_CLEAN => break true,
            Ok(_) => {}
        }
    };
    if !all_clean {
        // The supervisor died without cleaning up: do it in its place. The terminal first:
        // the shell that ran the lab reads it again as soon as the supervisor is gone.
        tty::give_back_for(supervisor.as_raw() as u32);
        kill_the_group();
        if let Some(dir) = run_dir {
            let _ = remove_run_dir(&dir.path);
        }
    }
    // SAFETY: `_exit` ends the process at once; it is always safe to call.
    unsafe { libc::_exit(0) }
}

/// Moves `line` to descriptor 3 and `answer` to 4, points 0, 1 and 2 at /dev/null, and
/// closes everything else.
fn keep_only(line: OwnedFd, answer: OwnedFd) -> (OwnedFd, OwnedFd) {
    // SAFETY: plain descriptor calls on numbers this process owns; `close_range` closes every
    // descriptor from 5 up, which nothing in this process uses any more. Each is first
    // moved above 4 (`F_DUPFD_CLOEXEC`), so that neither lands on the other.
    unsafe {
        let line_above = libc::fcntl(line.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 5);
        let answer_above = libc::fcntl(answer.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 5);
        libc::dup3(line_above, 3, libc::O_CLOEXEC);
        libc::dup3(answer_above, 4, libc::O_CLOEXEC);
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        for fd in 0..3 {
            libc::dup2(null, fd);
        }
        libc::syscall(libc::SYS_close_range, 5u32, u32::MAX, 0u32);
        std::mem::forget(line);
        std::mem::forget(answer);
        (OwnedFd::from_raw_fd(3), OwnedFd::from_raw_fd(4))
    }
}

/// Kills every other process of the guard's group, until none is left alive (zombies are
/// dead already: their new parent reaps them).
fn kill_the_group() {
    let me = getpid();
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        let alive: Vec<Pid> = procfs::all_processes()
            .into_iter()
            .filter(|p| p.pgrp == me && p.pid != me && p.state != 'Z')
            .map(|p| p.pid)
            .collect();
        if alive.is_empty() {
            return;
        }
        for pid in alive {
            let _ = kill(pid, Signal::SIGKILL);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// What the keyboard has typed now (the full-screen view reads it all).
/// `None`: the keyboard is gone (the terminal closed).
fn read_keys() -> Option<Vec<u8>> {
    let mut chunk = [0u8; 256];
    // SAFETY: descriptor 0 stays open for the life of the process.
    let stdin = unsafe { BorrowedFd::borrow_raw(0) };
    match nix::unistd::read(stdin, &mut chunk) {
        Ok(0) => None,
        Ok(n) => Some(chunk[..n].to_vec()),
        Err(Errno::EINTR | Errno::EAGAIN) => Some(Vec::new()),
        Err(_) => None,
    }
}

/// The student's answers in `--step` mode, passed on from the supervisor's standard input to
/// the main process, a little at a time and never blocking the supervisor.
struct Answers {
    writer: Option<OwnedFd>,
    pending: Vec<u8>,
    input_ended: bool,
}

impl Answers {
    fn new(writer: OwnedFd) -> Answers {
        let _ = fcntl(writer.as_fd(), FcntlArg::F_SETFL(OFlag::O_NONBLOCK));
        Answers {
            writer: Some(writer),
            pending: Vec::new(),
            input_ended: false,
        }
    }

    /// Whether to read standard input now: not after its end, nor while the main process has
    /// not taken what was read before.
    fn wants_input(&self) -> bool {
        !self.input_ended && self.pending.is_empty() && self.writer.is_some()
    }

    fn take_input(&mut self) {
        let mut chunk = [0u8; 4096];
        // SAFETY: descriptor 0 stays open for the life of the process.
        let stdin = unsafe { BorrowedFd::borrow_raw(0) };
        match nix::unistd::read(stdin, &mut chunk) {
            Ok(0) => self.input_ended = true,
            Ok(n) => self.pending.extend_from_slice(&chunk[..n]),
            Err(Errno::EINTR | Errno::EAGAIN) => {}
            Err(_) => self.input_ended = true,
        }
    }

    /// Writes what the pipe takes; once input has ended and all is passed on, closes the pipe,
    /// which the main process reads as the end of input.
    fn pass_on(&mut self) {
        let Some(writer) = self.writer.as_ref() else {
            return;
        };
        while !self.pending.is_empty() {
            match nix::unistd::write(writer, &self.pending) {
                Ok(n) => {
                    self.pending.drain(..n);
                }
                Err(Errno::EINTR) => continue,
                Err(Errno::EAGAIN) => return,
                Err(_) => {
                    self.pending.clear();
                    self.input_ended = true;
                }
            }
        }
        if self.input_ended {
            self.writer = None;
        }
    }
}

/// The supervisor's state while a lesson runs.
struct Run {
    view: View,
    /// Every event so far, for the tree and timeline at the end (lessons only).
    history: Vec<Event>,
    keep_history: bool,
    /// Standard output takes nothing more: closed by its reader (quietly), or failed.
    output_closed: bool,
    /// Why standard output failed, when it did otherwise than by being closed.
    output_failed: Option<String>,
    /// Events left out because standard output was too slow (`serve`), not yet said.
    not_shown: u64,
    /// The guard's pid: a child of the supervisor, but not a process of the run.
    guard: Option<Pid>,
    /// How many processes the supervisor has reaped.
    reaped: usize,
    /// How many events it has shown (kept in `history` or not).
    shown: usize,
    /// `--predict`: judges each prediction once its step has run.
    referee: Option<Referee>,
}

impl Run {
    fn show(&mut self, event: Event) {
        // A prediction is judged before whatever shows that its step is over.
        if let Some(mut referee) = self.referee.take() {
            if let Some(verdict) = referee.before(&event, &self.history) {
                // Shown in the place of the event that ended the step: just before it.
                let mut verdict = context::stamp(verdict);
                verdict.t = event.t;
                self.show(verdict);
            }
            self.referee = Some(referee);
        }
        if !self.keep_history && !self.output_closed {
            // A server's annotations: while standard output has not taken what it was given,
            // leave events out and count them, rather than make the server wait.
            if output::backlog() > MAX_BACKLOG {
                self.not_shown += 1;
                self.shown += 1;
                return;
            }
            if self.not_shown > 0 {
                let dropped = std::mem::take(&mut self.not_shown);
                let note = context::stamp(Kind::Note {
                    text: text!(
                        en: "{dropped} lines not shown: output too slow",
                        zh: "有 {dropped} 行没有显示：输出跟不上",
                    ),
                });
                if let Err(error) = self.view.show(&note) {
                    self.note_output_error(&error);
                }
            }
        }
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

    /// A closed pipe (`proclab run 1 | head`) ends the run quietly, as does an output nobody
    /// reads once the run is stopping; any other error ends it with a message.
    fn note_output_error(&mut self, error: &io::Error) {
        self.output_closed = true;
        if !matches!(error.kind(), ErrorKind::BrokenPipe | ErrorKind::TimedOut) {
            self.output_failed
                .get_or_insert_with(|| errno::describe_io(error));
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
        // The complete lines are parsed where they lie, and taken off the buffer's front
        // once: taking each off as it is read moved the rest of the buffer every time.
        let mut consumed = 0;
        while let Some(newline) = buffer[consumed..].iter().position(|&b| b == b'\n') {
            let line = &buffer[consumed..consumed + newline];
            batch.extend(Event::from_json(&String::from_utf8_lossy(line)));
            consumed += newline + 1;
        }
        buffer.drain(..consumed);
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
            if Some(pid) == self.guard {
                // Not a process of the run (and normally dismissed, not reaped, here).
                continue;
            }
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
            let guard = self.guard;
            let left: Vec<procfs::Stat> = procfs::descendants(supervisor)
                .into_iter()
                .filter(|process| Some(process.pid) != guard)
                .collect();
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
