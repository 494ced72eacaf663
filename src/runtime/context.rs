//! Who this process is, and where its events go.
//!
//! Each process of a lesson has a little global state: the lesson's start time, the speed
//! factor, its own name, and the write end of the event pipe. The supervisor sets it up once
//! before it forks the lesson's main process; `fork` copies it into every child, and a child
//! then changes only its name. That is why plain statics are enough here: a forked child gets a
//! copy of the parent's memory, not a shared reference to it.
//!
//! Outside a run (the lab's API used by a program of its own, such as a lesson's example run
//! with `cargo run --example`), nothing is set up: speed is 1, and events go nowhere.
//!
//! Events are written to the pipe with a single `write(2)` of at most `PIPE_BUF` bytes, which
//! the kernel guarantees is atomic: lines from concurrent processes never tear or interleave.

use std::cell::RefCell;
use std::fmt;
use std::io;
use std::os::fd::RawFd;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::runtime::event::{Event, Kind};

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
static NAME: Mutex<ProcessName> = Mutex::new(ProcessName {
    bytes: [0; NAME_BYTES],
    len: 0,
});
static IS_DAEMON: AtomicBool = AtomicBool::new(false);
/// `RunContext::start` as a reading of `CLOCK_MONOTONIC` in nanoseconds, for `raw::monotonic`.
static START_NANOS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// The name of this thread, for threads other than a process's main thread (the main
    /// thread goes by the process's name alone). Set by `threading::Thread` in its new thread.
    static THREAD_NAME: RefCell<Option<String>> = const { RefCell::new(None) };
    /// The task this thread is running right now, if an executor runs tasks on it.
    static TASK_NAME: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Longest process name kept, in bytes; a longer one is cut at a character boundary.
const NAME_BYTES: usize = 64;

/// This process's name, in a fixed buffer in static memory rather than on the heap. A new
/// child writes its name first thing: in static memory it lands on a page the child writes
/// anyway (its other statics), while a heap page would be one more page the child stops
/// sharing with its parent (`proclab serve` measured one page, 4 KiB, per handler).
struct ProcessName {
    bytes: [u8; NAME_BYTES],
    len: usize,
}

impl ProcessName {
    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or("")
    }
}

/// Called once by the supervisor, before it forks anything.
pub fn init(run: RunContext) {
    EVENT_FD.store(run.event_fd, Ordering::SeqCst);
    let start = raw::monotonic().saturating_sub(run.start.elapsed());
    START_NANOS.store(start.as_nanos() as u64, Ordering::SeqCst);
    RUN.set(run).expect("the run context is set once");
}

/// Called by the supervisor after it closed its write end of the pipe: from then on the fd
/// number may be reused for something else, so `emit` must never write to it here.
pub fn stop_emitting() {
    EVENT_FD.store(-1, Ordering::SeqCst);
}

/// True in the lab's processes once a run is set up (false in `proclab list`, say).
pub fn in_run() -> bool {
    RUN.get().is_some()
}

/// Seconds since the lesson started.
pub fn elapsed() -> f64 {
    since_start().as_secs_f64()
}

/// Time since the lesson started, read with a plain system call (see `raw`).
fn since_start() -> Duration {
    raw::monotonic().saturating_sub(Duration::from_nanos(START_NANOS.load(Ordering::Relaxed)))
}

/// The speed factor of this run (`--speed`); 1 outside a run (a lesson's example program run
/// on its own with `cargo run --example`, where nothing is sped up and no event is sent).
pub fn speed() -> f64 {
    RUN.get().map_or(1.0, |run| run.speed)
}

/// A lesson duration scaled by `--speed`: at speed 20 one second becomes 50 ms.
pub fn scaled(duration: Duration) -> Duration {
    duration.div_f64(speed())
}

/// Sleeps for `duration` scaled by `--speed`.
pub fn sleep(duration: Duration) {
    std::thread::sleep(scaled(duration));
}

/// This run's own temporary directory (the supervisor removes it, whatever happens). Outside
/// a run, the system's (`TMPDIR`, or `/tmp`): whoever runs the lab's API alone cleans up.
pub fn temp_dir() -> PathBuf {
    RUN.get()
        .map_or_else(std::env::temp_dir, |run| run.temp_dir.clone())
}

/// This process's name, as shown on every line it emits.
pub fn name() -> String {
    NAME.lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_str()
        .to_string()
}

/// Names this process: in the lab's output, and in the kernel (`/proc/<pid>/comm`, what `ps`
/// and `top` show), which keeps the first 15 bytes.
///
/// `Process::start` calls this in every new child, so it allocates nothing: the name is copied
/// into the static buffer (at most 64 bytes kept), and the kernel's copy is built on the stack. In a freshly forked child, a call into the allocator
/// costs page faults: its code, and its heap pages, which the child shares copy-on-write.
pub fn set_name(name: &str) {
    {
        let mut own = NAME.lock().unwrap_or_else(|e| e.into_inner());
        let mut len = name.len().min(NAME_BYTES);
        while !name.is_char_boundary(len) {
            len -= 1;
        }
        own.bytes[..len].copy_from_slice(&name.as_bytes()[..len]);
        own.len = len;
    }
    // At most 15 bytes and a NUL: what the kernel keeps.
    let mut kernel_name = [0u8; 16];
    for (slot, byte) in kernel_name[..15]
        .iter_mut()
        .zip(name.bytes().filter(|&b| b != 0))
    {
        *slot = byte;
    }
    raw::set_thread_name(&kernel_name);
}

/// Names the calling thread, a thread other than the process's main thread: its events carry
/// this name (`main/worker-1` in the human view), and the kernel shows its first 15 bytes in
/// `/proc/<pid>/task/<tid>/comm`.
pub fn set_thread_name(name: &str) {
    THREAD_NAME.with(|own| *own.borrow_mut() = Some(name.to_string()));
    let mut kernel_name = [0u8; 16];
    for (slot, byte) in kernel_name[..15]
        .iter_mut()
        .zip(name.bytes().filter(|&b| b != 0))
    {
        *slot = byte;
    }
    raw::set_thread_name(&kernel_name);
}

/// The calling thread's own name; `None` on a process's main thread.
pub fn thread_name() -> Option<String> {
    THREAD_NAME.with(|own| own.borrow().clone())
}

/// Marks which task the calling thread runs from now on (`None`: none). An executor calls it
/// around each poll of a task, so that what the task says is stamped with its name.
pub fn set_task(name: Option<&str>) {
    TASK_NAME.with(|own| *own.borrow_mut() = name.map(str::to_string));
}

/// Threads this process has started (the lab's `Thread`) and not joined. A thread that is never
/// joined (a daemon thread) counts for as long as the process lives.
static THREADS_NOT_JOINED: AtomicUsize = AtomicUsize::new(0);

/// `Thread::start` counts a new thread here, `Thread::join` counts it out: `Process::start`
/// refuses to fork while any is left (a fork copies only the calling thread).
pub fn count_thread(started: bool) {
    if started {
        THREADS_NOT_JOINED.fetch_add(1, Ordering::SeqCst);
    } else {
        THREADS_NOT_JOINED.fetch_sub(1, Ordering::SeqCst);
    }
}

/// How many threads this process has started and not joined.
pub fn threads_not_joined() -> usize {
    THREADS_NOT_JOINED.load(Ordering::SeqCst)
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
        thread: thread_name(),
        task: TASK_NAME.with(|own| own.borrow().clone()),
        kind,
    }
}

/// Longest event line: `PIPE_BUF`, the size up to which a pipe write is atomic.
const MAX_EVENT_BYTES: usize = 4096;

/// Sends an event to the supervisor.
///
/// Every process of a lesson calls this, and a new child calls it first thing (`start`) and
/// last (`done`): in a freshly forked child, each page of code or data touched for the first
/// time is a page fault, and those faults were most of what a lab `Process` cost on top of a
/// bare fork (`proclab bench spawn` measures it). So the line is built on the stack, without
/// the allocator, and the fields every event has are written by hand here, next to each other
/// in the binary, rather than by serde: for `start` and `done` that is the whole line. Other
/// kinds have their fields serialized by serde into the same buffer; a line too long for it
/// takes the slow path, which shortens the text.
pub fn emit(kind: Kind) {
    if sent_from_the_stack(|line, stamp| line.event(stamp, &kind)) {
        return;
    }
    let event = stamp(kind);
    let mut text = event.to_json();
    if text.len() >= MAX_EVENT_BYTES {
        text = shortened(event);
    }
    text.push('\n');
    write_whole(EVENT_FD.load(Ordering::SeqCst), text.as_bytes());
}

/// Builds one event line in a buffer on the stack with `build` and writes it to the event
/// pipe. False when the line did not fit in the buffer (the caller then takes the slow path).
fn sent_from_the_stack(build: impl FnOnce(&mut Line, &Stamp) -> io::Result<()>) -> bool {
    let fd = EVENT_FD.load(Ordering::SeqCst);
    if fd < 0 {
        // The supervisor after `stop_emitting`: nobody would read it.
        return true;
    }
    let mut line = Line::new();
    let fitted = {
        let name = NAME.lock().unwrap_or_else(|e| e.into_inner());
        THREAD_NAME.with(|thread| {
            TASK_NAME.with(|task| {
                let (thread, task) = (thread.borrow(), task.borrow());
                let stamp = Stamp::now(name.as_str(), thread.as_deref(), task.as_deref());
                build(&mut line, &stamp).is_ok()
            })
        })
    };
    if fitted {
        write_whole(fd, line.as_bytes());
    }
    fitted
}

/// Which text event `say!` or `note!` sends.
#[doc(hidden)]
#[derive(Clone, Copy)]
pub enum TextKind {
    Say,
    Note,
}

/// What `say!` and `note!` call: the text is formatted straight into the event line on the
/// stack, so that saying something costs no allocation (in a forked child, the allocator's
/// heap pages are shared with the parent, and each one written becomes a private copy: that
/// was most of the memory of each of `serve`'s handlers). A text too long for the stack line
/// goes through `emit`, which shortens it if needed.
#[doc(hidden)]
pub fn emit_text(kind: TextKind, text: fmt::Arguments) {
    if sent_from_the_stack(|line, stamp| line.text_event(stamp, kind, text)) {
        return;
    }
    let text = text.to_string();
    emit(match kind {
        TextKind::Say => Kind::Say { text },
        TextKind::Note => Kind::Note { text },
    });
}

/// The fields every event has: `t`, `pid`, `ppid`, `tid` (when not the main thread), `name`,
/// and the thread's and task's names when there are.
struct Stamp<'a> {
    t: Duration,
    pid: i32,
    ppid: i32,
    tid: Option<i32>,
    name: &'a str,
    thread: Option<&'a str>,
    task: Option<&'a str>,
}

impl<'a> Stamp<'a> {
    fn now(name: &'a str, thread: Option<&'a str>, task: Option<&'a str>) -> Stamp<'a> {
        let (pid, tid, ppid) = (raw::getpid(), raw::gettid(), raw::getppid());
        Stamp {
            t: since_start(),
            pid,
            ppid,
            tid: (tid != pid).then_some(tid),
            name,
            thread,
            task,
        }
    }
}

/// Longest line `emit` builds on the stack; longer ones take the slow path. 1 KiB holds
/// nearly every event, and keeps the buffer within a page or two of stack (each stack page a
/// new child writes is one more page it no longer shares with its parent).
const STACK_LINE_BYTES: usize = 1024;

/// One event line being built in a fixed buffer on the stack.
struct Line {
    bytes: [u8; STACK_LINE_BYTES],
    len: usize,
}

impl Line {
    fn new() -> Line {
        Line {
            bytes: [0; STACK_LINE_BYTES],
            len: 0,
        }
    }

    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// The whole line, newline included, in the same JSON as `Event::to_json` (`t` is written
    /// with nanosecond digits rather than the shortest float, which parses to the same time).
    fn event(&mut self, stamp: &Stamp, kind: &Kind) -> io::Result<()> {
        self.header(stamp)?;
        match kind {
            // The child's own two events, by hand: serde is not needed for them.
            Kind::Start => self.push(b",\"kind\":\"start\"}")?,
            Kind::Done { code } => {
                self.push(b",\"kind\":\"done\",\"code\":")?;
                self.integer(*code)?;
                self.push(b"}")?;
            }
            // serde writes `{"kind":...}`; its `{` becomes our `,`.
            _ => {
                let brace = self.len;
                serde_json::to_writer(&mut *self, kind).map_err(io::Error::other)?;
                self.bytes[brace] = b',';
            }
        }
        self.push(b"\n")
    }

    /// A `say` or `note` line, its text formatted straight into the line (`say!`, `note!`).
    fn text_event(
        &mut self,
        stamp: &Stamp,
        kind: TextKind,
        text: fmt::Arguments,
    ) -> io::Result<()> {
        self.header(stamp)?;
        self.push(match kind {
            TextKind::Say => b",\"kind\":\"say\",\"text\":\"",
            TextKind::Note => b",\"kind\":\"note\",\"text\":\"",
        })?;
        fmt::write(&mut Escaping(self), text).map_err(|_| io::ErrorKind::WriteZero)?;
        self.push(b"\"}\n")
    }

    /// `{"t":...,"pid":...,"ppid":...[,"tid":...],"name":"..."`: what every event starts with.
    fn header(&mut self, stamp: &Stamp) -> io::Result<()> {
        self.push(b"{\"t\":")?;
        self.number(stamp.t.as_secs())?;
        self.push(b".")?;
        let nanos = stamp.t.subsec_nanos();
        for power in (0..9).rev() {
            self.push(&[b'0' + (nanos / 10u32.pow(power) % 10) as u8])?;
        }
        self.push(b",\"pid\":")?;
        self.integer(stamp.pid)?;
        self.push(b",\"ppid\":")?;
        self.integer(stamp.ppid)?;
        if let Some(tid) = stamp.tid {
            self.push(b",\"tid\":")?;
            self.integer(tid)?;
        }
        self.push(b",\"name\":")?;
        self.string(stamp.name)?;
        if let Some(thread) = stamp.thread {
            self.push(b",\"thread\":")?;
            self.string(thread)?;
        }
        if let Some(task) = stamp.task {
            self.push(b",\"task\":")?;
            self.string(task)?;
        }
        Ok(())
    }

    fn push(&mut self, bytes: &[u8]) -> io::Result<()> {
        let end = self.len + bytes.len();
        if end > STACK_LINE_BYTES {
            return Err(io::ErrorKind::WriteZero.into());
        }
        self.bytes[self.len..end].copy_from_slice(bytes);
        self.len = end;
        Ok(())
    }

    fn integer(&mut self, value: i32) -> io::Result<()> {
        if value < 0 {
            self.push(b"-")?;
        }
        self.number(value.unsigned_abs().into())
    }

    fn number(&mut self, mut value: u64) -> io::Result<()> {
        let mut digits = [0u8; 20];
        let mut start = digits.len();
        loop {
            start -= 1;
            digits[start] = b'0' + (value % 10) as u8;
            value /= 10;
            if value == 0 {
                break;
            }
        }
        self.push(&digits[start..])
    }

    /// A JSON string: quotes, backslashes and control characters escaped, the rest as is
    /// (JSON text is UTF-8, so 主进程 needs no escaping).
    fn string(&mut self, text: &str) -> io::Result<()> {
        self.push(b"\"")?;
        self.escaped(text)?;
        self.push(b"\"")
    }

    /// The inside of a JSON string.
    fn escaped(&mut self, text: &str) -> io::Result<()> {
        for &byte in text.as_bytes() {
            match byte {
                b'"' => self.push(b"\\\"")?,
                b'\\' => self.push(b"\\\\")?,
                0..=0x1f => {
                    const HEX: &[u8; 16] = b"0123456789abcdef";
                    let escaped = [
                        b'\\',
                        b'u',
                        b'0',
                        b'0',
                        HEX[(byte >> 4) as usize],
                        HEX[(byte & 15) as usize],
                    ];
                    self.push(&escaped)?;
                }
                _ => self.push(&[byte])?,
            }
        }
        Ok(())
    }
}

/// Formats into a `Line`, escaped for the inside of a JSON string.
struct Escaping<'a>(&'a mut Line);

impl fmt::Write for Escaping<'_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        self.0.escaped(text).map_err(|_| fmt::Error)
    }
}

impl io::Write for Line {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.push(bytes)?;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
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
        let written = raw::write(fd, bytes);
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
        $crate::runtime::context::emit_text($crate::runtime::context::TextKind::Say, format_args!($($arg)*))
    };
}

/// The lab's annotation on what just happened: `note!("{pid} was reaped")`.
#[macro_export]
macro_rules! note {
    ($($arg:tt)*) => {
        $crate::runtime::context::emit_text($crate::runtime::context::TextKind::Note, format_args!($($arg)*))
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The line `emit` builds by hand parses to the same event serde would have written.
    #[test]
    fn hand_built_lines_parse_to_the_same_event() {
        let kinds = [
            Kind::Start,
            Kind::Done { code: 0 },
            Kind::Done { code: -15 },
            Kind::Spawn {
                child: 42,
                child_name: "alex".into(),
            },
            Kind::Exit {
                child: 42,
                exitcode: -9,
                is_thread: false,
            },
            Kind::Exit {
                child: 43,
                exitcode: 1,
                is_thread: true,
            },
            Kind::Wait {
                on: "lock".into(),
                object: "tickets".into(),
            },
            Kind::Woke {
                on: "lock".into(),
                object: "tickets".into(),
                after: 0.25,
                got: false,
            },
            Kind::Say {
                text: "主进程 \"quoted\" back\\slash\ttab\u{1}".into(),
            },
            Kind::State {
                of: 7,
                state: "Z".into(),
                ppid_of: None,
            },
            Kind::End {
                wall: 1.25,
                outcome: "finished".into(),
            },
        ];
        for name in ["main", "wu\"pei\\qi", "主进程", "tab\tand\u{1f}"] {
            for (tid, thread, task) in [
                (None, None, None),
                (Some(12), Some("worker-1"), None),
                (Some(12), Some("loop"), Some("echo \"3\"")),
            ] {
                for kind in &kinds {
                    let stamp = Stamp {
                        t: Duration::new(3, 4_005_006),
                        pid: 10,
                        ppid: 1,
                        tid,
                        name,
                        thread,
                        task,
                    };
                    let mut line = Line::new();
                    line.event(&stamp, kind).unwrap();
                    let text = std::str::from_utf8(line.as_bytes()).unwrap();
                    assert!(text.ends_with('\n'), "{text}");
                    let parsed = Event::from_json(text.trim_end())
                        .unwrap_or_else(|| panic!("does not parse: {text}"));
                    let expected = Event {
                        t: 3.004005006,
                        pid: 10,
                        ppid: 1,
                        tid,
                        name: name.to_string(),
                        thread: thread.map(str::to_string),
                        task: task.map(str::to_string),
                        kind: kind.clone(),
                    };
                    assert_eq!(parsed, expected, "{text}");
                }
            }
        }
    }

    #[test]
    fn say_and_note_lines_parse_to_the_same_event() {
        let stamp = Stamp {
            t: Duration::new(0, 50_000_000),
            pid: 3,
            ppid: 2,
            tid: None,
            name: "alex",
            thread: None,
            task: None,
        };
        let tricky = "主进程 \"q\" \\ \n\u{7}";
        for (kind, expected) in [
            (
                TextKind::Say,
                Kind::Say {
                    text: format!("pid {} says {tricky}", 3),
                },
            ),
            (
                TextKind::Note,
                Kind::Note {
                    text: format!("pid {} says {tricky}", 3),
                },
            ),
        ] {
            let mut line = Line::new();
            line.text_event(&stamp, kind, format_args!("pid {} says {tricky}", 3))
                .unwrap();
            let text = std::str::from_utf8(line.as_bytes()).unwrap();
            let parsed = Event::from_json(text.trim_end()).expect(text);
            assert_eq!(parsed.kind, expected, "{text}");
            assert_eq!(parsed.t, 0.05, "{text}");
        }
    }

    #[test]
    fn a_line_that_does_not_fit_is_refused() {
        let stamp = Stamp {
            t: Duration::ZERO,
            pid: 1,
            ppid: 0,
            tid: None,
            name: "main",
            thread: None,
            task: None,
        };
        let long = Kind::Say {
            text: "x".repeat(MAX_EVENT_BYTES),
        };
        assert!(Line::new().event(&stamp, &long).is_err());
    }
}

/// The few system calls behind every event, made through libc's one generic `syscall` entry.
///
/// Why not libc's usual wrappers and the vDSO clock: a freshly forked child maps each stretch
/// of code the first time it runs it (a page fault of a few µs), and `write`, `getpid`,
/// `getppid`, `gettid`, `prctl` and the vDSO's `clock_gettime` (with its data page) lie on
/// different pages. A child's first event would fault them all in; through `syscall` they
/// share one entry point. The price is a real system call for the clock (a fraction of a µs)
/// where the vDSO reads it without entering the kernel. `proclab bench spawn` counts the
/// faults per process.
mod raw {
    use std::time::Duration;

    pub fn getpid() -> i32 {
        // SAFETY: getpid takes no arguments and cannot fail.
        unsafe { libc::syscall(libc::SYS_getpid) as i32 }
    }

    pub fn getppid() -> i32 {
        // SAFETY: getppid takes no arguments and cannot fail.
        unsafe { libc::syscall(libc::SYS_getppid) as i32 }
    }

    pub fn gettid() -> i32 {
        // SAFETY: gettid takes no arguments and cannot fail.
        unsafe { libc::syscall(libc::SYS_gettid) as i32 }
    }

    /// `CLOCK_MONOTONIC`, the clock behind `std::time::Instant`.
    pub fn monotonic() -> Duration {
        let mut now = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `now` is a valid timespec to write into; CLOCK_MONOTONIC always exists.
        unsafe { libc::syscall(libc::SYS_clock_gettime, libc::CLOCK_MONOTONIC, &mut now) };
        Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
    }

    /// `write(2)`: the number of bytes written, or -1 with `errno` set.
    pub fn write(fd: i32, bytes: &[u8]) -> isize {
        // SAFETY: `bytes` is valid for reading for the duration of the call.
        unsafe { libc::syscall(libc::SYS_write, fd, bytes.as_ptr(), bytes.len()) as isize }
    }

    /// Names the calling thread (`PR_SET_NAME`) from a NUL-terminated buffer of 16 bytes.
    pub fn set_thread_name(name: &[u8; 16]) {
        // SAFETY: PR_SET_NAME reads a NUL-terminated string of at most 16 bytes; the last byte
        // of `name` is NUL. The result is ignored: the name is only a label for `ps`.
        unsafe { libc::syscall(libc::SYS_prctl, libc::PR_SET_NAME, name.as_ptr()) };
    }
}
