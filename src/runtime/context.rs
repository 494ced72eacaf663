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

use std::cell::{RefCell, UnsafeCell};
use std::fmt;
use std::io;
use std::os::fd::RawFd;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub use crate::runtime::event::line::TextKind;
use crate::runtime::event::line::{Line, MAX_EVENT_BYTES, Stamp, shortened};
use crate::runtime::event::{Ended, Event, Kind};
use crate::runtime::raw;

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
// A new child writes it: with the others it writes, on one page (see `FAMILY` in `process`).
#[unsafe(link_section = ".data.new_child")]
static NAME: NameCell = NameCell(UnsafeCell::new(ProcessName {
    bytes: [0; NAME_BYTES],
    len: 0,
}));
#[unsafe(link_section = ".data.new_child")]
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

/// Whether any thread of this process has a name of its own or runs tasks. Until then every
/// event comes from a process's main thread and `emit` does not look at the thread-locals at
/// all: reading a `RefCell` writes its borrow count, and in a freshly forked child that write
/// would cost a page fault on every new process (`proclab bench spawn` counts them).
static NAMED_THREADS_OR_TASKS: AtomicBool = AtomicBool::new(false);

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

/// Where this process's name lives. It is written only by `set_name`, and `set_name` writes
/// only while no thread of the lab's other than the caller runs (it refuses otherwise), so a
/// read never meets a write and needs no lock. None is taken on purpose: taking a lock is a
/// write, and right after a fork every write to a page the parent still shares with its new
/// child is a copy of that page (`proclab bench spawn` counts them).
struct NameCell(UnsafeCell<ProcessName>);

// SAFETY: see `NameCell`: writes happen only while the writing thread is the only one that
// could read it.
unsafe impl Sync for NameCell {}

/// This process's name, to read.
fn own_name() -> &'static ProcessName {
    // SAFETY: no write can happen while this reference is used (see `NameCell`).
    unsafe { &*NAME.0.get() }
}

impl ProcessName {
    fn as_str(&self) -> &str {
        // SAFETY: `set_name` copies a `&str` cut at a character boundary, so the bytes are
        // UTF-8. (Checking them again would run `from_utf8`, whose code lies on a page of its
        // own: one more page fault in every new child.)
        unsafe { std::str::from_utf8_unchecked(&self.bytes[..self.len]) }
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
#[inline(always)]
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

/// Sleeps for `duration` scaled by `--speed`, and says so (`sleep`), so that the timeline
/// draws the sleep as waiting, as `/proc/<pid>/stat` shows it (`S`), not as running.
///
/// Only an actor that has a lane says so: the process's main thread, or a thread the lab
/// started and named (`set_thread_name`). A helper thread the lab never announced (a lesson's
/// `std::thread::scope` workers) would otherwise appear in the tree as a nameless thread that
/// never started or ended.
pub fn sleep(duration: Duration) {
    let scaled = scaled(duration);
    let on_a_lane =
        raw::gettid() == raw::getpid() || THREAD_NAME.with(|own| own.borrow().is_some());
    if on_a_lane {
        emit(Kind::Sleep {
            seconds: scaled.as_secs_f64(),
        });
    }
    std::thread::sleep(scaled);
}

/// This run's own temporary directory (the supervisor removes it, whatever happens). Outside
/// a run, the system's (`TMPDIR`, or `/tmp`): whoever runs the lab's API alone cleans up.
pub fn temp_dir() -> PathBuf {
    RUN.get()
        .map_or_else(std::env::temp_dir, |run| run.temp_dir.clone())
}

/// This process's name, as shown on every line it emits.
pub fn name() -> String {
    own_name().as_str().to_string()
}

/// Names this process: in the lab's output, and in the kernel (`/proc/<pid>/comm`, what `ps`
/// and `top` show), which keeps the first 15 bytes.
///
/// `Process::start` calls this in every new child, so it allocates nothing: the name is copied
/// into the static buffer (at most 64 bytes kept), and the kernel's copy is built on the stack. In a freshly forked child, a call into the allocator
/// costs page faults: its code, and its heap pages, which the child shares copy-on-write.
///
/// Only while this process runs no thread of the lab's but the caller (a process names itself
/// as it starts, before any thread): otherwise the name stays as it is.
#[unsafe(link_section = ".text.hot.new_child")]
pub fn set_name(name: &str) {
    if threads_not_joined() > 0 {
        return;
    }
    {
        // SAFETY: no other thread of the lab's runs (just checked), so nobody reads the name
        // while it is written.
        let own = unsafe { &mut *NAME.0.get() };
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
    NAMED_THREADS_OR_TASKS.store(true, Ordering::Relaxed);
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
    NAMED_THREADS_OR_TASKS.store(true, Ordering::Relaxed);
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
#[unsafe(link_section = ".text.hot.new_child")]
pub fn threads_not_joined() -> usize {
    THREADS_NOT_JOINED.load(Ordering::SeqCst)
}

/// Whether this process was started as a daemon (守护进程).
pub fn is_daemon() -> bool {
    IS_DAEMON.load(Ordering::Relaxed)
}

#[unsafe(link_section = ".text.hot.new_child")]
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

/// Sends an event to the supervisor.
///
/// Every process of a lesson calls this, right after a fork too: in a freshly forked child,
/// each page of code or data touched for the first time is a page fault, and in its parent
/// each page written while the child shares it is a copy; those pages were most of what a lab
/// `Process` cost on top of a bare fork (`proclab bench spawn` measures it). So the line is
/// built on the stack, without the allocator: the fields every event has, and those of the
/// kinds a `Process` sends in its life, by hand (see `Line::event`), the others by serde into
/// the same buffer. A line too long for it takes the slow path, which shortens the text. A
/// new child's own first and last events go through `emit_start` and `emit_done`.
pub fn emit(kind: Kind) {
    if !sent_from_the_stack(|line, stamp| line.event(stamp, &kind)) {
        send_slowly(stamp(kind));
    }
}

/// A new child's first event, `start`. Not `emit(Kind::Start)`: a new child faults in each
/// stretch of code it runs for the first time, and this path runs only what the line needs
/// (no `Kind` with its drop code, no closure on a page of its own).
#[unsafe(link_section = ".text.hot.new_child")]
pub fn emit_start() {
    let mut line = Line::new();
    match main_thread_stamp() {
        Some(stamp) if line.start(&stamp).is_ok() => send(&line),
        _ => emit(Kind::Start),
    }
}

/// A process's last event, `done`, with its exit code (see `emit_start`).
#[unsafe(link_section = ".text.hot.new_child")]
pub fn emit_done(code: i32) {
    let mut line = Line::new();
    match main_thread_stamp() {
        Some(stamp) if line.done(&stamp, code).is_ok() => send(&line),
        _ => emit(Kind::Done { code }),
    }
}

/// The stamp of an event from a process whose threads have no names of their own and run no
/// tasks (every new child): `None` otherwise.
#[inline(always)]
fn main_thread_stamp() -> Option<Stamp<'static>> {
    if NAMED_THREADS_OR_TASKS.load(Ordering::Relaxed) {
        return None;
    }
    Some(stamp_now(own_name().as_str(), None, None))
}

/// Writes a finished line to the event pipe, if there is one.
#[inline(always)]
fn send(line: &Line) {
    let fd = EVENT_FD.load(Ordering::SeqCst);
    if fd >= 0 {
        write_whole(fd, line.as_bytes());
    }
}

/// The time now, as events carry it (since the lesson started): for an event that must carry
/// the moment something began rather than the moment it is reported (`emit_spawn`).
pub fn now() -> Duration {
    since_start()
}

/// A parent's `spawn` of a new child, stamped with time `at` (from `now()`) instead of the
/// time of sending: a parent reports a fork after `fork` returns, and by then its new child
/// may already have said `start`; stamped with the moment before the fork, the `spawn` comes
/// first, as it happened. Built from the borrowed name, with no `Kind` to allocate: the new
/// child still shares the parent's pages, and each one the parent writes is copied.
pub fn emit_spawn(at: Duration, child: i32, child_name: &str) {
    let sent = sent_from_the_stack(|line, stamp| {
        line.spawn(&Stamp { t: at, ..*stamp }, child, child_name)
    });
    if !sent {
        let mut event = stamp(Kind::Spawn {
            child,
            child_name: child_name.to_string(),
        });
        event.t = at.as_secs_f64();
        send_slowly(event);
    }
}

/// A `wait` event (see `runtime::wait`), built from borrowed names as `emit_spawn` is.
pub fn emit_wait(on: &str, object: &str) {
    if !sent_from_the_stack(|line, stamp| line.wait(stamp, on, object)) {
        emit(Kind::Wait {
            on: on.to_string(),
            object: object.to_string(),
        });
    }
}

/// A `woke` event (see `runtime::wait`), built from borrowed names as `emit_spawn` is.
pub fn emit_woke(on: &str, object: &str, after: f64, ended: Ended) {
    if !sent_from_the_stack(|line, stamp| line.woke(stamp, on, object, after, ended)) {
        emit(Kind::Woke {
            on: on.to_string(),
            object: object.to_string(),
            after,
            got: ended == Ended::Got,
            ended: Some(ended),
        });
    }
}

/// A `woke` event, got, and `then` after it, in one write (see `Waiting::end_with`): one
/// stamp and one system call where two events would take two of each.
pub fn emit_woke_then(on: &str, object: &str, after: f64, then: &Kind) {
    let sent = sent_from_the_stack(|line, stamp| {
        line.woke(stamp, on, object, after, Ended::Got)?;
        line.event(stamp, then)
    });
    if !sent {
        emit_woke(on, object, after, Ended::Got);
        emit(then.clone());
    }
}

/// The slow path of `emit`: serde, and a text too long for one atomic write shortened.
/// Writes whole event lines to the supervisor: `proclab trace`'s tracer, which speaks for the
/// processes it traces (their events carry their pids, not its own).
pub fn send_lines(lines: &[u8]) {
    write_whole(EVENT_FD.load(Ordering::SeqCst), lines);
}

fn send_slowly(event: Event) {
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
        let name = own_name();
        if NAMED_THREADS_OR_TASKS.load(Ordering::Relaxed) {
            THREAD_NAME.with(|thread| {
                TASK_NAME.with(|task| {
                    let (thread, task) = (thread.borrow(), task.borrow());
                    let stamp = stamp_now(name.as_str(), thread.as_deref(), task.as_deref());
                    build(&mut line, &stamp).is_ok()
                })
            })
        } else {
            build(&mut line, &stamp_now(name.as_str(), None, None)).is_ok()
        }
    };
    if fitted {
        write_whole(fd, line.as_bytes());
    }
    fitted
}

/// The fields every event starts with, read now: the time and this actor's ids and names.
#[inline(always)]
fn stamp_now<'a>(name: &'a str, thread: Option<&'a str>, task: Option<&'a str>) -> Stamp<'a> {
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

#[unsafe(link_section = ".text.hot.new_child")]
fn write_whole(fd: RawFd, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        let written = raw::write(fd, bytes);
        if written < 0 {
            // EBADF after `stop_emitting` (fd -1) lands here too.
            let errno = -written as i32;
            if errno == libc::EINTR {
                continue;
            }
            // EPIPE: the supervisor is gone, and with it the lab this process belongs to. A
            // process of a lesson must not outlive the lab (lesson 3's orphan would loop for
            // ever), so it leaves now, as a `SIGPIPE` would have ended it.
            if errno == libc::EPIPE {
                // SAFETY: `_exit` ends the process at once; it is always safe to call.
                unsafe { libc::_exit(1) }
            }
            return;
        }
        bytes = &bytes[written as usize..];
    }
}

/// The program's own output line, like `print()` in the tutorial: `say!("{name} is running")`.
///
/// A line the lab composes to report a measurement (`2 processes: wall 102.2 ms ...`) is the
/// lab speaking, so it is said in the reader's language, as a note is:
/// `say!(en: "tickets sold: {sold}", zh: "卖出的票：{sold}", sold = n)`.
#[macro_export]
macro_rules! say {
    (en: $en:literal, zh: $zh:literal $(, $($arg:tt)*)?) => {
        match $crate::i18n::current() {
            $crate::i18n::Lang::En => $crate::runtime::context::emit_text(
                $crate::runtime::context::TextKind::Say,
                format_args!($en $(, $($arg)*)?),
            ),
            $crate::i18n::Lang::Zh => $crate::runtime::context::emit_text(
                $crate::runtime::context::TextKind::Say,
                format_args!($zh $(, $($arg)*)?),
            ),
        }
    };
    ($($arg:tt)*) => {
        $crate::runtime::context::emit_text($crate::runtime::context::TextKind::Say, format_args!($($arg)*))
    };
}

/// The lab's annotation on what just happened, in both languages (see `i18n`):
/// `note!(en: "{pid} was reaped", zh: "{pid} 已被回收", pid = child)`. Only the language of
/// the run is formatted. There is no English-only form: a note without its Chinese does not
/// compile.
#[macro_export]
macro_rules! note {
    (en: $en:literal, zh: $zh:literal $(, $($arg:tt)*)?) => {
        match $crate::i18n::current() {
            $crate::i18n::Lang::En => $crate::runtime::context::emit_text(
                $crate::runtime::context::TextKind::Note,
                format_args!($en $(, $($arg)*)?),
            ),
            $crate::i18n::Lang::Zh => $crate::runtime::context::emit_text(
                $crate::runtime::context::TextKind::Note,
                format_args!($zh $(, $($arg)*)?),
            ),
        }
    };
}
