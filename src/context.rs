//! Who this process is, and where its events go.
//!
//! Each process of a lesson has a little global state: the lesson's start time, the speed
//! factor, its own name, and the write end of the event pipe. The supervisor sets it up once
//! before it forks the lesson's main process; `fork` copies it into every child, and a child
//! then changes only its name. That is why plain statics are enough here: a forked child gets a
//! copy of the parent's memory, not a shared reference to it.
//!
//! Events are written to the pipe with a single `write(2)` of at most `PIPE_BUF` bytes, which
//! the kernel guarantees is atomic: lines from concurrent processes never tear or interleave.

use std::ffi::CString;
use std::os::fd::RawFd;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::event::{Event, Kind};

/// What every process of one lesson run shares (a copy each, inherited through `fork`).
#[derive(Debug)]
pub struct RunContext {
    /// When the lesson started. `Instant` is `CLOCK_MONOTONIC`, the same clock in every process.
    pub start: Instant,
    /// Sleeps and timeouts are divided by this (`--speed`).
    pub speed: f64,
    /// The write end of the event pipe.
    pub event_fd: RawFd,
    /// A directory of this run's own, removed by the supervisor at the end.
    pub temp_dir: PathBuf,
}

static RUN: OnceLock<RunContext> = OnceLock::new();
/// Where `emit` writes: the event pipe, or -1 in the supervisor once it has closed its copy.
static EVENT_FD: AtomicI32 = AtomicI32::new(-1);
static NAME: Mutex<String> = Mutex::new(String::new());
static IS_DAEMON: AtomicBool = AtomicBool::new(false);

/// Called once by the supervisor, before it forks anything.
pub fn init(run: RunContext) {
    EVENT_FD.store(run.event_fd, Ordering::SeqCst);
    RUN.set(run).expect("the run context is set once");
}

/// Called by the supervisor after it closed its write end of the pipe: from then on the fd
/// number may be reused for something else, so `emit` must never write to it here.
pub fn stop_emitting() {
    EVENT_FD.store(-1, Ordering::SeqCst);
}

fn run() -> &'static RunContext {
    RUN.get()
        .expect("the run context is set before any lesson code runs")
}

/// True in the lab's processes once a run is set up (false in `proclab list`, say).
pub fn in_run() -> bool {
    RUN.get().is_some()
}

/// Seconds since the lesson started.
pub fn elapsed() -> f64 {
    run().start.elapsed().as_secs_f64()
}

/// The speed factor of this run (`--speed`).
pub fn speed() -> f64 {
    run().speed
}

/// A lesson duration scaled by `--speed`: at speed 20 one second becomes 50 ms.
pub fn scaled(duration: Duration) -> Duration {
    duration.div_f64(speed())
}

/// Sleeps for `duration` scaled by `--speed`.
pub fn sleep(duration: Duration) {
    std::thread::sleep(scaled(duration));
}

/// This run's own temporary directory (the supervisor removes it, whatever happens).
pub fn temp_dir() -> PathBuf {
    run().temp_dir.clone()
}

/// This process's name, as shown on every line it emits.
pub fn name() -> String {
    NAME.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Names this process: in the lab's output, and in the kernel (`/proc/<pid>/comm`, what `ps`
/// and `top` show), which keeps the first 15 bytes.
pub fn set_name(name: &str) {
    *NAME.lock().unwrap_or_else(|e| e.into_inner()) = name.to_string();
    let kernel_name: Vec<u8> = name.bytes().filter(|&b| b != 0).take(15).collect();
    if let Ok(kernel_name) = CString::new(kernel_name) {
        // Only a label for `ps`; failing to set it changes nothing the lesson shows.
        let _ = nix::sys::prctl::set_name(&kernel_name);
    }
}

/// Whether this process was started as a daemon (守护进程).
pub fn is_daemon() -> bool {
    IS_DAEMON.load(Ordering::Relaxed)
}

pub(crate) fn set_daemon(daemon: bool) {
    IS_DAEMON.store(daemon, Ordering::Relaxed);
}

/// An event stamped with the time, this process's pid and parent pid, and its name.
pub fn stamp(kind: Kind) -> Event {
    let pid = nix::unistd::getpid().as_raw();
    let tid = nix::unistd::gettid().as_raw();
    Event {
        t: elapsed(),
        pid,
        ppid: nix::unistd::getppid().as_raw(),
        tid: (tid != pid).then_some(tid),
        name: name(),
        kind,
    }
}

/// Longest event line: `PIPE_BUF`, the size up to which a pipe write is atomic.
const MAX_EVENT_BYTES: usize = 4096;

/// Sends an event to the supervisor.
pub fn emit(kind: Kind) {
    let event = stamp(kind);
    let mut line = event.to_json();
    if line.len() >= MAX_EVENT_BYTES {
        line = shortened(event);
    }
    line.push('\n');
    write_whole(EVENT_FD.load(Ordering::SeqCst), line.as_bytes());
}

/// Cuts a long text so that the event still fits in one atomic write.
fn shortened(mut event: Event) -> String {
    if let Kind::Say { text } | Kind::Note { text } | Kind::Error { text } = &mut event.kind {
        let mut cut = MAX_EVENT_BYTES / 2;
        while !text.is_char_boundary(cut.min(text.len())) {
            cut -= 1;
        }
        text.truncate(cut.min(text.len()));
        text.push_str(" [...]");
    }
    event.to_json()
}

fn write_whole(fd: RawFd, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        // SAFETY: `bytes` is a valid slice for the duration of the call.
        let written = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
        if written < 0 {
            // EBADF after `stop_emitting` (fd -1) lands here too.
            if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            // The supervisor is gone (EPIPE): nobody is listening, so there is nothing to do.
            return;
        }
        bytes = &bytes[written as usize..];
    }
}

/// The program's own output line, like `print()` in the tutorial: `say!("{name} is running")`.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::context::emit($crate::event::Kind::Say { text: format!($($arg)*) })
    };
}

/// The lab's annotation on what just happened: `note!("{pid} was reaped")`.
#[macro_export]
macro_rules! note {
    ($($arg:tt)*) => {
        $crate::context::emit($crate::event::Kind::Note { text: format!($($arg)*) })
    };
}
