//! The tracer's loop: every stop of every traced process and thread, turned into the lab's
//! events.
//!
//! What stops a tracee, and what the lab says of it:
//! - a new process or thread (`PTRACE_EVENT_FORK`/`VFORK`/`CLONE`): `spawn` by its parent and
//!   `start` by it (a thread: `start` only, as the lab's own threads say it);
//! - `execve` (`PTRACE_EVENT_EXEC`): `exec` with the program and its arguments;
//! - its end (the kernel tells the tracer, then the parent): `done` with its exit code, or
//!   `-N` for signal N; and `exit` (reaped) said by whoever's `wait4`/`waitid` returned it, or
//!   by the lab when the lab was its parent (the program itself, and orphans re-parented to
//!   the lab, which is their subreaper);
//! - a system call the seccomp filter lets through to the tracer: a write to standard output
//!   or error (`say`, one per line, read from the call's buffer as it begins), a name told by
//!   `sitecustomize.py`, a signal sent, or a wait: `wait` when it began and `woke` when it
//!   ended, with how long and whether it got what it waited for;
//! - a signal about to be delivered: a note that it was received.
//!
//! Only real waits are drawn, as the lab's own primitives do: a wait is shown once it has
//! lasted `SHOWN_AFTER` (a timer wakes the tracer to say so while it still lasts), or when it
//! was a futex sleep or a sleep, whatever its length. A read that found data at once is not.

use std::collections::HashMap;
use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};

use nix::fcntl::OFlag;
use nix::unistd::pipe2;

use super::Command;
use super::objects::{self, Names};
use super::seccomp::arch::{SYS_EPOLL_WAIT, SYS_LINK, SYS_OPEN, SYS_PAUSE, SYS_POLL, SYS_SELECT};
use super::seccomp::{self, NAMES_FD};
use crate::error::{Error, Result};
use crate::runtime::context;
use crate::runtime::event::{Ended, Event, Kind};
use crate::text;

/// How long a wait must last to be drawn (a futex sleep and a sleep are drawn however short).
const SHOWN_AFTER: f64 = 0.001;

/// Where POSIX shared memory and named semaphores live: what the program makes there and
/// leaves is removed with the run.
const SHARED_MEMORY: &str = "/dev/shm/";

/// Most bytes of one write kept as output.
const MAX_WRITE: usize = 64 * 1024;

const PTRACE_EVENT_STOP: i32 = 128;

/// A process being traced.
struct Process {
    /// Its lane's name: the program's, or the one Python gave it.
    name: String,
    /// Its parent's pid, as the kernel has it (the lab's, once orphaned).
    ppid: i32,
    /// It told its Python name: its children will tell theirs, so their events wait for it.
    python: bool,
    /// Events held until the process tells its name (a child of a Python process).
    held: Option<Vec<Event>>,
}

/// A thread being traced (a process's main thread too, whose tid is the pid).
struct Thread {
    tgid: i32,
    name: Option<String>,
    /// Events held until the thread tells its name (a thread of a Python process).
    held: Option<Vec<Event>>,
    /// The wait it is in, between the call's start and its end.
    call: Option<Call>,
    /// It has stopped once (its first stop only starts it).
    seen: bool,
    /// What it wrote to standard output and error since its last complete line.
    partial: [Vec<u8>; 2],
}

/// A system call the tracer follows to its end.
struct Call {
    on: &'static str,
    object: String,
    began: f64,
    /// Its `wait` event is out.
    announced: bool,
    /// Not a wait (`WNOHANG`): followed only to see what it reaps.
    quiet: bool,
    /// Drawn whatever its length (a futex sleep, a sleep).
    always_shown: bool,
    /// `wait4`/`waitid` that reap: where `waitid` writes the reaped pid, or 0 for `wait4`.
    reaps: Option<u64>,
    /// The child a join waits for: named when the wait is said (a new child may have told
    /// its name since the call began).
    child: Option<i32>,
}

/// What the loop does with a stopped tracee next.
enum Resume {
    /// Run on until the next stop the filter or an event makes.
    Continue,
    /// Run to the end of this system call (`PTRACE_SYSCALL`).
    ToSyscallEnd,
    /// Run on, delivering this signal.
    Deliver(i32),
    /// Stay stopped (group-stop), as an untraced process would.
    Listen,
}

struct Tracer {
    /// The tracer's own pid: the parent of the program, and of its orphans.
    lab: i32,
    top: i32,
    top_status: Option<i32>,
    processes: HashMap<i32, Process>,
    threads: HashMap<i32, Thread>,
    /// Exit codes and names of ended processes not yet reaped (zombies).
    ended: HashMap<i32, (i32, String)>,
    /// `pipe:[inode]` of the program's standard output and error.
    outputs: [String; 2],
    names: Names,
    /// Event lines not yet written to the supervisor.
    out: Vec<u8>,
    /// The program went past its process limit (`super::set_process_limit`): every process of
    /// it is killed, and every new one as soon as it is known.
    over_limit: bool,
}

static TIMER_RANG: AtomicBool = AtomicBool::new(false);

extern "C" fn on_timer(_signal: libc::c_int) {
    TIMER_RANG.store(true, Ordering::Relaxed);
}

/// Starts `command` under the tracer and traces it to the end: see the module's doc.
pub fn run(command: &Command, env: Vec<CString>) -> Result<i32> {
    let (out_reader, out_writer) = pipe2(OFlag::O_CLOEXEC)?;
    let (err_reader, err_writer) = pipe2(OFlag::O_CLOEXEC)?;
    let (go_reader, go_writer) = pipe2(OFlag::O_CLOEXEC)?;
    // The program's orphans are re-parented to the tracer, which reaps them and says so.
    nix::sys::prctl::set_child_subreaper(true)?;
    let filter = seccomp::program();
    let path = CString::new(command.path.as_os_str().as_encoded_bytes())
        .map_err(|_| Error::Usage("a program's path cannot hold a NUL byte".into()))?;
    let argv: Vec<CString> = command
        .argv
        .iter()
        .map(|arg| CString::new(arg.as_bytes()))
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| Error::Usage("an argument cannot hold a NUL byte".into()))?;
    let mut argv_pointers: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    argv_pointers.push(std::ptr::null());
    let mut env_pointers: Vec<*const libc::c_char> = env.iter().map(|e| e.as_ptr()).collect();
    env_pointers.push(std::ptr::null());

    // SAFETY: the tracer is single-threaded here. The child only makes system calls on what
    // was prepared above (no allocation), and leaves by `execve` or `_exit`.
    let child = unsafe { libc::fork() };
    if child < 0 {
        return Err(Error::System(format!(
            "cannot fork: {}",
            std::io::Error::last_os_error()
        )));
    }
    if child == 0 {
        // SAFETY: see above.
        unsafe {
            be_the_program(
                &path,
                &argv_pointers,
                &env_pointers,
                &filter,
                [&go_reader, &out_writer, &err_writer],
            )
        }
    }
    drop(go_reader);
    drop(out_writer);
    drop(err_writer);
    let options = libc::PTRACE_O_TRACEFORK
        | libc::PTRACE_O_TRACEVFORK
        | libc::PTRACE_O_TRACECLONE
        | libc::PTRACE_O_TRACEEXEC
        | libc::PTRACE_O_TRACESECCOMP
        | libc::PTRACE_O_TRACESYSGOOD
        | libc::PTRACE_O_EXITKILL;
    // SAFETY: plain system call on our child.
    if unsafe { libc::ptrace(libc::PTRACE_SEIZE, child, 0, options as libc::c_long) } != 0 {
        let error = std::io::Error::last_os_error();
        // SAFETY: as above.
        unsafe { libc::kill(child, libc::SIGKILL) };
        return Err(Error::System(format!("cannot trace the program: {error}")));
    }
    // The program may go on: to its filter, then its `execve`.
    nix::unistd::write(&go_writer, b".")?;
    drop(go_writer);

    let outputs = [pipe_name(&out_reader), pipe_name(&err_reader)];
    // What the program writes is read from its calls' buffers; the pipes only need emptying.
    // The timer's signal must interrupt the tracer's `waitpid`, so it is never for these
    // threads: they are started with it blocked (a new thread inherits the mask).
    let mut timer_signal = nix::sys::signal::SigSet::empty();
    timer_signal.add(nix::sys::signal::Signal::SIGALRM);
    timer_signal.thread_block()?;
    for reader in [out_reader, err_reader] {
        std::thread::spawn(move || drain(reader));
    }
    timer_signal.thread_unblock()?;
    let timer = libc::sigaction {
        sa_sigaction: on_timer as *const () as usize,
        sa_mask: unsafe { std::mem::zeroed() },
        sa_flags: 0, // no SA_RESTART: the timer interrupts `waitpid`
        sa_restorer: None,
    };
    // SAFETY: the handler only stores to an atomic.
    unsafe { libc::sigaction(libc::SIGALRM, &timer, std::ptr::null_mut()) };

    let mut tracer = Tracer {
        lab: std::process::id() as i32,
        top: child,
        top_status: None,
        processes: HashMap::new(),
        threads: HashMap::new(),
        ended: HashMap::new(),
        outputs,
        names: Names::default(),
        out: Vec::new(),
        over_limit: false,
    };
    let waiting_since = tracer.begin(command);
    tracer.trace();
    tracer.flush_everything();
    tracer.end_own_wait(waiting_since);
    Ok(tracer.top_status.unwrap_or(1))
}

/// The traced child between `fork` and `execve`.
///
/// # Safety
/// Called only in the child just forked, on memory prepared before the fork.
unsafe fn be_the_program(
    path: &CString,
    argv: &[*const libc::c_char],
    env: &[*const libc::c_char],
    filter: &[libc::sock_filter],
    [go, out, err]: [&OwnedFd; 3],
) -> ! {
    // SAFETY: system calls on this process's own descriptors; `_exit` leaves at once.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY);
        libc::dup2(null, 0);
        libc::dup2(out.as_raw_fd(), 1);
        libc::dup2(err.as_raw_fd(), 2);
        // Wait until the tracer has seized us: the filter's stops need a tracer.
        let mut byte = 0u8;
        if libc::read(go.as_raw_fd(), (&mut byte as *mut u8).cast(), 1) != 1 {
            libc::_exit(127);
        }
        if seccomp::install(filter).is_err() {
            let message = b"proclab: cannot install the seccomp filter\n";
            libc::write(2, message.as_ptr().cast(), message.len());
            libc::_exit(127);
        }
        libc::execve(path.as_ptr(), argv.as_ptr(), env.as_ptr());
        let message = b"proclab: execve failed\n";
        libc::write(2, message.as_ptr().cast(), message.len());
        libc::_exit(127)
    }
}

/// `pipe:[inode]`, as `/proc/<pid>/fd` shows a descriptor of this pipe.
fn pipe_name(reader: &OwnedFd) -> String {
    objects::fd_link(std::process::id() as i32, reader.as_raw_fd()).unwrap_or_default()
}

/// Reads and drops what arrives until every writer is gone.
fn drain(reader: OwnedFd) {
    let mut buffer = [0u8; 16 * 1024];
    loop {
        match nix::unistd::read(&reader, &mut buffer) {
            Ok(0) => return,
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(_) => return,
        }
    }
}

/// Whether process `pid` has ended (a zombie, or gone).
fn has_ended(pid: i32) -> bool {
    crate::runtime::procfs::stat(nix::unistd::Pid::from_raw(pid))
        .is_none_or(|stat| matches!(stat.state, 'Z' | 'X'))
}

/// Whether process `pid` ignores `SIGCHLD` (`SigIgn` in `/proc/<pid>/status`), so that the
/// kernel reaps its children itself.
fn ignores_sigchld(pid: i32) -> bool {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("SigIgn:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .is_some_and(|mask| mask & (1 << (libc::SIGCHLD - 1)) != 0)
}

/// What the tracer waits for, all its life: the program's processes and threads, until every
/// one has ended and been reaped.
fn own_wait_object() -> String {
    text!(en: "the traced program", zh: "被跟踪的程序")
}

fn basename(path: &str) -> String {
    path.rsplit('/').next().unwrap_or(path).to_string()
}

impl Tracer {
    /// The program's first events: its spawn by the lab, its start, and the tracer's wait
    /// (the supervisor has shown the header, `super::header`); returns when the wait began.
    fn begin(&mut self, command: &Command) -> f64 {
        let name = basename(&command.argv[0]);
        let python = command.is_python();
        self.processes.insert(
            self.top,
            Process {
                name: name.clone(),
                ppid: self.lab,
                python,
                held: python.then(Vec::new),
            },
        );
        self.threads.insert(self.top, Thread::new(self.top, false));
        let mut spawn = context::stamp(Kind::Spawn {
            child: self.top,
            child_name: name,
        });
        spawn.t = context::elapsed();
        self.hold_or_send(self.top, spawn);
        self.say(self.top, Kind::Start);
        // From here the tracer only waits in `waitpid` for the program's next stop (the time it
        // takes to handle one is the program's, stopped meanwhile): its lane is drawn waiting.
        // Held with the program's first events, so that the line view says it after them.
        let began = context::elapsed();
        let wait = context::stamp(Kind::Wait {
            on: "join".into(),
            object: own_wait_object(),
        });
        self.hold_or_send(self.top, wait);
        began
    }

    /// The end of the tracer's wait: no tracee and no child is left.
    fn end_own_wait(&mut self, began: f64) {
        self.send(context::stamp(Kind::Woke {
            on: "join".into(),
            object: own_wait_object(),
            after: context::elapsed() - began,
            got: true,
            ended: Some(Ended::Got),
        }));
        self.flush();
    }

    /// Waits for the next stop of any tracee and handles it, until none is left.
    fn trace(&mut self) {
        loop {
            let mut status = 0;
            // SAFETY: plain system call.
            let mut tid = unsafe { libc::waitpid(-1, &mut status, libc::__WALL | libc::WNOHANG) };
            if tid == 0 {
                // Nothing stopped: show what there is, then sleep until something does.
                self.flush();
                self.arm_timer();
                // SAFETY: as above.
                tid = unsafe { libc::waitpid(-1, &mut status, libc::__WALL) };
            }
            if tid < 0 {
                if std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                    if TIMER_RANG.swap(false, Ordering::Relaxed) {
                        self.announce_long_waits();
                    }
                    continue;
                }
                // ECHILD: no tracee and no child is left.
                return;
            }
            let resume = self.on_stop(tid, status);
            let (request, signal) = match resume {
                None => continue,
                Some(Resume::Continue) => (libc::PTRACE_CONT, 0),
                Some(Resume::ToSyscallEnd) => (libc::PTRACE_SYSCALL, 0),
                Some(Resume::Deliver(signal)) => (libc::PTRACE_CONT, signal),
                Some(Resume::Listen) => (libc::PTRACE_LISTEN, 0),
            };
            // SAFETY: plain system call; a tracee killed meanwhile makes it fail (ESRCH),
            // and its end is the next stop.
            unsafe { libc::ptrace(request, tid, 0, signal as libc::c_long) };
        }
    }

    /// One stop of `tid`; what to resume it with (`None`: it has ended).
    fn on_stop(&mut self, tid: i32, status: i32) -> Option<Resume> {
        if libc::WIFEXITED(status) || libc::WIFSIGNALED(status) {
            let code = match libc::WIFEXITED(status) {
                true => libc::WEXITSTATUS(status),
                false => -libc::WTERMSIG(status),
            };
            self.on_end(tid, code);
            return None;
        }
        if !libc::WIFSTOPPED(status) {
            return Some(Resume::Continue);
        }
        self.know(tid);
        let signal = libc::WSTOPSIG(status);
        let event = status >> 16;
        if signal == libc::SIGTRAP | 0x80 {
            self.on_syscall_end(tid);
            return Some(Resume::Continue);
        }
        match event {
            libc::PTRACE_EVENT_SECCOMP => Some(self.on_syscall_start(tid)),
            libc::PTRACE_EVENT_FORK | libc::PTRACE_EVENT_VFORK | libc::PTRACE_EVENT_CLONE => {
                let mut new = 0 as libc::c_ulong;
                // SAFETY: plain system call writing one c_ulong.
                unsafe { libc::ptrace(libc::PTRACE_GETEVENTMSG, tid, 0, &mut new) };
                self.know(new as i32);
                Some(Resume::Continue)
            }
            libc::PTRACE_EVENT_EXEC => {
                let mut former = 0 as libc::c_ulong;
                // SAFETY: as above.
                unsafe { libc::ptrace(libc::PTRACE_GETEVENTMSG, tid, 0, &mut former) };
                self.on_exec(tid, former as i32);
                Some(Resume::Continue)
            }
            PTRACE_EVENT_STOP => {
                let thread = self.threads.get_mut(&tid)?;
                if !thread.seen {
                    // A new tracee's first stop: it starts now.
                    thread.seen = true;
                    return Some(Resume::Continue);
                }
                match signal {
                    libc::SIGSTOP | libc::SIGTSTP | libc::SIGTTIN | libc::SIGTTOU => {
                        Some(Resume::Listen)
                    }
                    _ => Some(Resume::Continue),
                }
            }
            _ => {
                if let Some(thread) = self.threads.get_mut(&tid) {
                    thread.seen = true;
                }
                if signal != libc::SIGCHLD {
                    let name = signal_name(signal);
                    self.say(
                        tid,
                        Kind::Note {
                            text: text!(en: "received {name}", zh: "收到信号 {name}"),
                        },
                    );
                }
                Some(Resume::Deliver(signal))
            }
        }
    }

    /// Makes sure `tid` is known: a new process or thread is registered, said spawned and
    /// started, the first time any stop of it (or its parent's fork event) is seen.
    fn know(&mut self, tid: i32) {
        if self.threads.contains_key(&tid) {
            return;
        }
        let status = std::fs::read_to_string(format!("/proc/{tid}/status")).unwrap_or_default();
        let field = |name: &str| -> Option<i32> {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name))?
                .trim()
                .parse()
                .ok()
        };
        let tgid = field("Tgid:").unwrap_or(tid);
        let ppid = field("PPid:").unwrap_or(self.lab);
        if tgid != tid {
            let python = self.processes.get(&tgid).is_some_and(|p| p.python);
            self.threads.insert(tid, Thread::new(tgid, python));
            self.say(tid, Kind::Start);
            return;
        }
        let (name, python) = match self.processes.get(&ppid) {
            Some(parent) => (parent.name.clone(), parent.python),
            None => (format!("pid {tid}"), false),
        };
        self.processes.insert(
            tid,
            Process {
                name: name.clone(),
                ppid,
                python,
                held: python.then(Vec::new),
            },
        );
        self.threads.insert(tid, Thread::new(tid, false));
        self.keep_to_process_limit(tid);
        // The parent says it forked the child; held with the child's own events until the
        // child tells its name (the parent's lane needs no wait: the child's name is in it).
        let spawn = self.event(
            ppid,
            Kind::Spawn {
                child: tid,
                child_name: name,
            },
        );
        self.hold_or_send(tid, spawn);
        self.say(tid, Kind::Start);
    }

    /// Past the process limit (processes running or not yet reaped, as `ulimit -u` counts
    /// them), a fork bomb is stopped here rather than by `RLIMIT_NPROC`, which counts every
    /// process of the user, the student's editor and shell too. Every process of the program
    /// is killed, and each new one as soon as the tracer knows it (`new`): a process killed
    /// while it forks may leave a child the tracer had not met yet.
    fn keep_to_process_limit(&mut self, new: i32) {
        let Some(limit) = super::process_limit() else {
            return;
        };
        if !self.over_limit && self.processes.len() + self.ended.len() <= limit {
            return;
        }
        if !self.over_limit {
            self.over_limit = true;
            self.say(
                new,
                Kind::Note {
                    text: text!(
                        en: "more than {limit} processes at once: the lab kills them all (its process limit)",
                        zh: "同时超过 {limit} 个进程：proclab 把它们全部杀掉（进程数上限）",
                    ),
                },
            );
        }
        for pid in self.processes.keys() {
            // SAFETY: plain system call on a traced process of the program.
            unsafe { libc::kill(*pid, libc::SIGKILL) };
        }
    }

    fn on_end(&mut self, tid: i32, code: i32) {
        let Some(mut thread) = self.threads.remove(&tid) else {
            // A zombie whose parent ended without reaping it (a forking server's handlers,
            // when the server goes): the kernel gave it to the lab, its subreaper, and this
            // `waitpid` reaped it.
            if let Some((code, _)) = self.ended.remove(&tid) {
                self.send(context::stamp(Kind::Exit {
                    child: tid,
                    exitcode: code,
                    is_thread: false,
                }));
            }
            return;
        };
        // Unfinished lines and held events go out before the end.
        for stream in 0..2 {
            let rest = std::mem::take(&mut thread.partial[stream]);
            if !rest.is_empty() {
                let text = String::from_utf8_lossy(&rest).into_owned();
                self.threads.insert(tid, thread);
                self.say(tid, Kind::Say { text });
                thread = self.threads.remove(&tid).expect("just put back");
            }
        }
        let tgid = thread.tgid;
        let held = thread.held.take();
        self.threads.insert(tid, thread);
        for event in held.unwrap_or_default() {
            self.hold_or_send(tgid, event);
        }
        if tid != tgid {
            self.say(tid, Kind::Done { code: 0 });
            self.threads.remove(&tid);
            return;
        }
        if let Some(held) = self.processes.get_mut(&tid).and_then(|p| p.held.take()) {
            for event in held {
                self.send(event);
            }
        }
        self.say(tid, Kind::Done { code });
        self.threads.remove(&tid);
        let process = self.processes.remove(&tid);
        if tid == self.top {
            self.top_status = Some(match code {
                code if code < 0 => 128 - code,
                code => code,
            });
        }
        // Orphans: the kernel has given them a new parent (the lab, their subreaper).
        let orphans: Vec<i32> = self
            .processes
            .iter()
            .filter(|(_, p)| p.ppid == tid)
            .map(|(pid, _)| *pid)
            .collect();
        for orphan in orphans {
            let new_parent = crate::runtime::procfs::stat(nix::unistd::Pid::from_raw(orphan))
                .map_or(self.lab, |stat| stat.ppid.as_raw());
            if let Some(p) = self.processes.get_mut(&orphan) {
                p.ppid = new_parent;
            }
            let parent = process.as_ref().map_or("?", |p| p.name.as_str());
            self.say(
                orphan,
                Kind::Note {
                    text: text!(
                        en: "orphaned: its parent {tid} ({parent}) ended; re-parented to {new_parent}, the lab's subreaper",
                        zh: "成了孤儿进程：父进程 {tid}（{parent}）已结束；被过继给 proclab 这个子进程回收者 (subreaper) {new_parent}",
                    ),
                },
            );
        }
        // Reaped already if the lab was its parent (this `waitpid` reaped it); else a zombie
        // until its parent's wait.
        let parent = process.as_ref().map_or(0, |p| p.ppid);
        if parent == self.lab {
            self.send(context::stamp(Kind::Exit {
                child: tid,
                exitcode: code,
                is_thread: false,
            }));
        } else if ignores_sigchld(parent) {
            // The kernel reaps the child of a parent that ignores SIGCHLD the moment it ends:
            // no zombie, and no wait for the parent to make.
            self.say(
                parent,
                Kind::Note {
                    text: text!(
                        en: "SIGCHLD is ignored here: the kernel reaped {tid} as it ended",
                        zh: "这里忽略了 SIGCHLD：{tid} 一结束，内核就把它回收了",
                    ),
                },
            );
            self.say(
                parent,
                Kind::Exit {
                    child: tid,
                    exitcode: code,
                    is_thread: false,
                },
            );
        } else if has_ended(parent) {
            // Its parent ended before the lab heard of this end: the kernel had given it to
            // the lab, its subreaper, already (a process's children are re-parented before it
            // is a zombie), so this `waitpid` reaped it. (A parent that is alive has it as a
            // zombie to reap: below.)
            self.send(context::stamp(Kind::Exit {
                child: tid,
                exitcode: code,
                is_thread: false,
            }));
        } else {
            let name = process.map(|p| p.name).unwrap_or_default();
            self.ended.insert(tid, (code, name));
        }
    }

    fn on_exec(&mut self, tid: i32, former: i32) {
        if former != tid {
            // A thread other than the main one called execve: it takes the process's pid.
            self.threads.remove(&former);
        }
        let cmdline = std::fs::read(format!("/proc/{tid}/cmdline")).unwrap_or_default();
        let args: Vec<String> = cmdline
            .split(|&b| b == 0)
            .filter(|arg| !arg.is_empty())
            .map(|arg| String::from_utf8_lossy(arg).into_owned())
            .collect();
        let program = std::fs::read_link(format!("/proc/{tid}/exe"))
            .map(|path| path.display().to_string())
            .unwrap_or_default();
        self.names.forget_process(tid);
        let name = basename(&program);
        let python = name.starts_with("python");
        self.say(
            tid,
            Kind::Exec {
                program: program.clone(),
                args,
            },
        );
        let Some(process) = self.processes.get_mut(&tid) else {
            return;
        };
        process.python = false;
        if process.held.is_none() || !python {
            // Named by its new program from now on (a Python program may rename it).
            process.name = name;
        }
        if !python {
            self.release_process(tid);
        }
    }

    /// A system call the filter stopped: what it is, and whether to follow it to its end.
    fn on_syscall_start(&mut self, tid: i32) -> Resume {
        let Some((nr, args)) = syscall_entry(tid) else {
            return Resume::Continue;
        };
        let now = context::elapsed();
        let fd = args[0] as i32;
        let call = |on: &'static str, object: String| Call {
            on,
            object,
            began: now,
            announced: false,
            quiet: false,
            always_shown: false,
            reaps: None,
            child: None,
        };
        let tgid = self.threads.get(&tid).map_or(tid, |t| t.tgid);
        let call = match nr {
            libc::SYS_write | libc::SYS_writev if fd == NAMES_FD => {
                let bytes = objects::read_memory(tid, args[1], (args[2] as usize).min(256));
                self.on_name(tid, &String::from_utf8_lossy(&bytes));
                None
            }
            libc::SYS_write | libc::SYS_writev => {
                let link = objects::fd_link(tid, fd).unwrap_or_default();
                if let Some(stream) = self.outputs.iter().position(|o| *o == link) {
                    let bytes = match nr {
                        libc::SYS_write => {
                            objects::read_memory(tid, args[1], (args[2] as usize).min(MAX_WRITE))
                        }
                        _ => read_iovecs(tid, args[1], args[2] as usize),
                    };
                    self.on_output(tid, stream, &bytes);
                }
                None
            }
            libc::SYS_kill | libc::SYS_tkill | libc::SYS_tgkill => {
                let (target, signal) = match nr {
                    libc::SYS_tgkill => (args[1] as i32, args[2] as i32),
                    _ => (args[0] as i32, args[1] as i32),
                };
                self.on_signal_sent(tid, target, signal);
                None
            }
            libc::SYS_rt_sigqueueinfo | libc::SYS_rt_tgsigqueueinfo => {
                self.on_signal_sent(tid, args[0] as i32, args[1] as i32);
                None
            }
            libc::SYS_wait4 => {
                let pid = args[0] as i32;
                let options = args[2] as i32;
                Some(Call {
                    quiet: options & libc::WNOHANG != 0,
                    reaps: Some(0),
                    child: Some(pid),
                    ..call("join", self.child_description(pid))
                })
            }
            libc::SYS_waitid => {
                let (idtype, id, options) = (args[0] as u32, args[1] as i32, args[3] as i32);
                let pid = if idtype == libc::P_PID { id } else { -1 };
                Some(Call {
                    quiet: options & libc::WNOHANG != 0,
                    reaps: (options & libc::WNOWAIT == 0).then_some(args[2]),
                    child: Some(pid),
                    ..call("join", self.child_description(pid))
                })
            }
            libc::SYS_futex => Some(Call {
                always_shown: true,
                ..call("futex", self.names.futex(tgid, args[0]))
            }),
            libc::SYS_futex_waitv => Some(Call {
                always_shown: true,
                ..call("futex", format!("{} futexes", args[1]))
            }),
            libc::SYS_read
            | libc::SYS_readv
            | libc::SYS_recvfrom
            | libc::SYS_recvmsg
            | libc::SYS_recvmmsg => {
                let on = match nr {
                    libc::SYS_read | libc::SYS_readv => "read",
                    _ => "recv",
                };
                self.names
                    .channel(tid, tgid, fd)
                    .map(|object| call(on, object))
            }
            libc::SYS_accept | libc::SYS_accept4 => {
                let object = self
                    .names
                    .channel(tid, tgid, fd)
                    .unwrap_or_else(|| format!("fd {fd}"));
                Some(call("accept", object))
            }
            libc::SYS_connect => {
                let object = objects::socket_address_in_memory(tid, args[1], args[2] as usize)
                    .unwrap_or_else(|| format!("fd {fd}"));
                Some(call("connect", object))
            }
            SYS_SELECT | libc::SYS_pselect6 => {
                let scale = if nr == SYS_SELECT { 1000 } else { 1 };
                let timeout = objects::read_duration(tid, args[4], scale);
                (args[4] == 0 || timeout.is_some_and(|t| t > 0.0))
                    .then(|| call("select", format!("{} fds", args[0])))
            }
            SYS_POLL => {
                let blocks = args[2] as i32 != 0;
                blocks.then(|| call("poll", format!("{} fds", args[1])))
            }
            libc::SYS_ppoll => {
                let timeout = objects::read_duration(tid, args[2], 1);
                (args[2] == 0 || timeout.is_some_and(|t| t > 0.0))
                    .then(|| call("poll", format!("{} fds", args[1])))
            }
            SYS_EPOLL_WAIT | libc::SYS_epoll_pwait => {
                let blocks = args[3] as i32 != 0;
                blocks.then(|| call("epoll", format!("epoll fd {fd}")))
            }
            libc::SYS_epoll_pwait2 => {
                let timeout = objects::read_duration(tid, args[3], 1);
                (args[3] == 0 || timeout.is_some_and(|t| t > 0.0))
                    .then(|| call("epoll", format!("epoll fd {fd}")))
            }
            libc::SYS_nanosleep | libc::SYS_clock_nanosleep => {
                let (pointer, absolute) = match nr {
                    libc::SYS_nanosleep => (args[0], false),
                    _ => (args[2], args[1] as i32 & libc::TIMER_ABSTIME != 0),
                };
                // Python's `time.sleep` sleeps until a deadline on CLOCK_MONOTONIC: what is
                // left of it is what it will sleep.
                let seconds = match (objects::read_duration(tid, pointer, 1), absolute) {
                    (Some(deadline), true) => Some(deadline - clock_now(args[0] as i32)),
                    (relative, _) => relative,
                };
                let object = match seconds {
                    Some(seconds) => format!("{:.3} s", seconds.max(0.0)),
                    None => "?".to_string(),
                };
                Some(Call {
                    always_shown: true,
                    ..call("sleep", object)
                })
            }
            // A file opened to be created, or linked under a new name: followed to its end
            // to learn its path (not a wait: never shown).
            libc::SYS_openat | SYS_OPEN => Some(Call {
                quiet: true,
                ..call("create", String::new())
            }),
            libc::SYS_linkat | SYS_LINK => {
                let (directory, new_path) = match nr {
                    libc::SYS_linkat => (args[2] as i32, args[3]),
                    _ => (libc::AT_FDCWD, args[1]),
                };
                let path = objects::read_c_string(tid, new_path);
                (directory == libc::AT_FDCWD && path.starts_with(SHARED_MEMORY)).then(|| Call {
                    quiet: true,
                    ..call("create", path)
                })
            }
            SYS_PAUSE => Some(Call {
                always_shown: true,
                ..call("signal", "pause()".into())
            }),
            libc::SYS_rt_sigsuspend => Some(Call {
                always_shown: true,
                ..call("signal", "sigsuspend()".into())
            }),
            _ => None,
        };
        match (call, self.threads.get_mut(&tid)) {
            (Some(call), Some(thread)) => {
                thread.call = Some(call);
                Resume::ToSyscallEnd
            }
            _ => Resume::Continue,
        }
    }

    /// The end of a followed system call: the wait's end, and what a `wait4` reaped.
    fn on_syscall_end(&mut self, tid: i32) {
        let Some(mut call) = self.threads.get_mut(&tid).and_then(|t| t.call.take()) else {
            return;
        };
        if let (Some(child), false) = (call.child, call.announced) {
            call.object = self.child_description(child);
        }
        let Some((value, is_error)) = syscall_exit(tid) else {
            return;
        };
        let errno = if is_error { -value as i32 } else { 0 };
        let interrupted = matches!(errno, libc::EINTR | 512..=516);
        // It did not wait at all: a lock's value had changed, a descriptor was non-blocking.
        let no_wait = matches!(errno, libc::EAGAIN | libc::EINPROGRESS);
        let now = context::elapsed();
        let mut reaped = None;
        if let Some(where_pid) = call.reaps
            && !is_error
        {
            let pid = match where_pid {
                0 => value as i32,
                // waitid's siginfo: si_pid is at offset 16.
                address => objects::read_memory(tid, address + 16, 4)
                    .try_into()
                    .map(i32::from_ne_bytes)
                    .unwrap_or(0),
            };
            reaped = (pid > 0).then_some(pid);
        }
        if call.on == "create" && !is_error {
            let path = match call.object.is_empty() {
                true => objects::fd_link(tid, value as i32).unwrap_or_default(),
                false => call.object.clone(),
            };
            if path.starts_with(SHARED_MEMORY) {
                super::note_shared_file(&path);
            }
        }
        let got = match call.on {
            _ if is_error => call.on == "signal" && interrupted,
            "join" => reaped.is_some(),
            "read" | "recv" | "poll" | "select" | "epoll" => value > 0,
            _ => true,
        };
        // How the wait ended, of the five ways a `woke` says.
        let ended = match call.on {
            _ if got => Ended::Got,
            _ if interrupted => Ended::Interrupted,
            _ if errno == libc::ETIMEDOUT => Ended::TimedOut,
            _ if is_error => Ended::Error,
            "read" | "recv" => Ended::EndOfFile,
            "poll" | "select" | "epoll" => Ended::TimedOut,
            _ => Ended::Error,
        };
        let lasted = now - call.began;
        let shown = !call.quiet
            && (call.announced || (!no_wait && (call.always_shown || lasted >= SHOWN_AFTER)));
        if shown {
            if !call.announced {
                let mut wait = self.event(
                    tid,
                    Kind::Wait {
                        on: call.on.into(),
                        object: call.object.clone(),
                    },
                );
                wait.t = call.began;
                self.hold_or_send(tid, wait);
            }
            self.say(
                tid,
                Kind::Woke {
                    on: call.on.into(),
                    object: call.object,
                    after: lasted,
                    got,
                    ended: Some(ended),
                },
            );
        }
        if let Some(child) = reaped {
            let exitcode = self.ended.remove(&child).map_or(0, |(code, _)| code);
            self.say(
                tid,
                Kind::Exit {
                    child,
                    exitcode,
                    is_thread: false,
                },
            );
        }
    }

    /// The timer rang: every wait that has lasted `SHOWN_AFTER` is said now, from its start.
    fn announce_long_waits(&mut self) {
        let now = context::elapsed();
        let due: Vec<i32> = self
            .threads
            .iter()
            .filter_map(|(tid, thread)| {
                let call = thread.call.as_ref()?;
                // A join on a child that has not told its name yet waits for it: the wait
                // is said under the name the child will have.
                let child_unnamed = call
                    .child
                    .and_then(|child| self.processes.get(&child))
                    .is_some_and(|child| child.held.is_some());
                (!call.announced
                    && !call.quiet
                    && !child_unnamed
                    && now - call.began >= SHOWN_AFTER)
                    .then_some(*tid)
            })
            .collect();
        for tid in due {
            let Some(call) = self.threads.get_mut(&tid).and_then(|t| t.call.as_mut()) else {
                continue;
            };
            call.announced = true;
            let child = call.child;
            let (on, began) = (call.on, call.began);
            let object = match child {
                Some(child) => self.child_description(child),
                None => call.object.clone(),
            };
            if let Some(call) = self.threads.get_mut(&tid).and_then(|t| t.call.as_mut()) {
                call.object = object.clone();
            }
            let mut wait = self.event(
                tid,
                Kind::Wait {
                    on: on.into(),
                    object,
                },
            );
            wait.t = began;
            self.hold_or_send(tid, wait);
        }
        self.flush();
    }

    /// Sets the timer when a wait may need announcing while it lasts.
    fn arm_timer(&self) {
        let waiting = self.threads.values().any(|thread| {
            thread
                .call
                .as_ref()
                .is_some_and(|call| !call.announced && !call.quiet)
        });
        if !waiting {
            return;
        }
        let interval = libc::itimerval {
            it_interval: libc::timeval {
                tv_sec: 0,
                tv_usec: 0,
            },
            it_value: libc::timeval {
                tv_sec: 0,
                tv_usec: (SHOWN_AFTER * 2e6) as libc::suseconds_t,
            },
        };
        // SAFETY: plain system call.
        unsafe { libc::setitimer(libc::ITIMER_REAL, &interval, std::ptr::null_mut()) };
    }

    /// `sitecustomize.py` told a name: `proclab-name process Process-1`.
    fn on_name(&mut self, tid: i32, message: &str) {
        let Some(rest) = message.strip_prefix("proclab-name ") else {
            return;
        };
        let Some((kind, name)) = rest.split_once(' ') else {
            return;
        };
        let tgid = self.threads.get(&tid).map_or(tid, |t| t.tgid);
        match kind {
            "process" => {
                if let Some(process) = self.processes.get_mut(&tgid) {
                    process.name = name.to_string();
                    process.python = true;
                }
                self.release_process(tgid);
            }
            "joined" => {
                // `joined 1234 0`: this thread's join of thread 1234 returned, which ended
                // with code 0 (1: its target raised).
                let mut words = name.split(' ').map(str::parse::<i32>);
                if let (Some(Ok(child)), Some(Ok(code))) = (words.next(), words.next()) {
                    self.say(
                        tid,
                        Kind::Exit {
                            child,
                            exitcode: code,
                            is_thread: true,
                        },
                    );
                }
            }
            "thread" if tid != tgid => {
                let Some(thread) = self.threads.get_mut(&tid) else {
                    return;
                };
                thread.name = Some(name.to_string());
                let held = thread.held.take().unwrap_or_default();
                for mut event in held {
                    event.thread = Some(name.to_string());
                    self.hold_or_send(tgid, event);
                }
            }
            _ => {}
        }
    }

    /// Sends what was held for process `tgid`, under the name it has now.
    fn release_process(&mut self, tgid: i32) {
        let Some(process) = self.processes.get_mut(&tgid) else {
            return;
        };
        let name = process.name.clone();
        for mut event in process.held.take().unwrap_or_default() {
            if event.pid == tgid {
                event.name = name.clone();
            }
            if let Kind::Spawn { child, child_name } = &mut event.kind
                && *child == tgid
            {
                *child_name = name.clone();
            }
            self.send(event);
        }
    }

    fn on_output(&mut self, tid: i32, stream: usize, bytes: &[u8]) {
        let Some(thread) = self.threads.get_mut(&tid) else {
            return;
        };
        let partial = &mut thread.partial[stream];
        partial.extend_from_slice(bytes);
        let mut lines = Vec::new();
        // Taken off the front once, not line by line (which moved the rest every time).
        let mut consumed = 0;
        while let Some(newline) = partial[consumed..].iter().position(|&b| b == b'\n') {
            let line = &partial[consumed..consumed + newline];
            lines.push(String::from_utf8_lossy(line).into_owned());
            consumed += newline + 1;
        }
        partial.drain(..consumed);
        for text in lines {
            self.say(tid, Kind::Say { text });
        }
    }

    fn on_signal_sent(&mut self, tid: i32, target: i32, signal: i32) {
        if signal == 0 {
            return; // kill(pid, 0) only asks whether pid exists
        }
        let name = signal_name(signal);
        let whom = self.child_description(target);
        self.say(
            tid,
            Kind::Note {
                text: text!(en: "sends {name} to {whom}", zh: "向 {whom} 发送 {name}"),
            },
        );
    }

    /// `Process-1 (1234)`, `any child`.
    fn child_description(&self, pid: i32) -> String {
        match pid {
            -1 => text!(en: "any child", zh: "任一子进程"),
            pid if pid > 0 => match (self.processes.get(&pid), self.ended.get(&pid)) {
                (Some(process), _) => format!("{} ({pid})", process.name),
                (None, Some((_, name))) => format!("{name} ({pid})"),
                (None, None) => pid.to_string(),
            },
            0 => text!(en: "its process group", zh: "本进程组"),
            group => text!(en: "process group {}", zh: "进程组 {}", -group),
        }
    }

    /// An event said by thread `tid` now.
    fn event(&self, tid: i32, kind: Kind) -> Event {
        let tgid = self.threads.get(&tid).map_or(tid, |t| t.tgid);
        let (name, ppid) = match self.processes.get(&tgid) {
            Some(process) => (process.name.clone(), process.ppid),
            None if tgid == self.lab => {
                (context::name(), std::os::unix::process::parent_id() as i32)
            }
            None => (format!("pid {tgid}"), 0),
        };
        let thread = (tid != tgid)
            .then(|| self.threads.get(&tid).and_then(|t| t.name.clone()))
            .flatten();
        Event {
            t: context::elapsed(),
            pid: tgid,
            ppid,
            tid: (tid != tgid).then_some(tid),
            name,
            thread,
            task: None,
            kind,
        }
    }

    /// Thread `tid` says `kind` now.
    fn say(&mut self, tid: i32, kind: Kind) {
        let event = self.event(tid, kind);
        self.hold_or_send(tid, event);
    }

    /// Holds `event` (about tracee `tid`) while its process or thread has not told its name.
    fn hold_or_send(&mut self, tid: i32, event: Event) {
        let tgid = self.threads.get(&tid).map_or(tid, |t| t.tgid);
        if let Some(held) = self.processes.get_mut(&tgid).and_then(|p| p.held.as_mut()) {
            held.push(event);
            return;
        }
        if let Some(held) = self.threads.get_mut(&tid).and_then(|t| t.held.as_mut()) {
            held.push(event);
            return;
        }
        self.send(event);
    }

    fn send(&mut self, event: Event) {
        let mut line = event.to_json();
        if line.len() >= crate::runtime::event::line::MAX_EVENT_BYTES {
            line = crate::runtime::event::line::shortened(event);
        }
        self.out.extend_from_slice(line.as_bytes());
        self.out.push(b'\n');
        if self.out.len() > 32 * 1024 {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if !self.out.is_empty() {
            context::send_lines(&self.out);
            self.out.clear();
        }
    }

    /// The end: whatever is still held goes out.
    fn flush_everything(&mut self) {
        let pids: Vec<i32> = self.processes.keys().copied().collect();
        for pid in pids {
            self.release_process(pid);
        }
        let tids: Vec<i32> = self.threads.keys().copied().collect();
        for tid in tids {
            let held = self
                .threads
                .get_mut(&tid)
                .and_then(|t| t.held.take())
                .unwrap_or_default();
            for event in held {
                self.send(event);
            }
        }
        self.flush();
    }
}

impl Thread {
    fn new(tgid: i32, hold: bool) -> Thread {
        Thread {
            tgid,
            name: None,
            held: hold.then(Vec::new),
            call: None,
            seen: false,
            partial: [Vec::new(), Vec::new()],
        }
    }
}

/// The time on clock `clock` (a process's sleep deadline is on it), in seconds.
fn clock_now(clock: i32) -> f64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: plain system call writing `now`.
    unsafe { libc::clock_gettime(clock, &mut now) };
    now.tv_sec as f64 + now.tv_nsec as f64 / 1e9
}

/// `SIGTERM`, or the number.
fn signal_name(signal: i32) -> String {
    nix::sys::signal::Signal::try_from(signal)
        .map_or_else(|_| format!("signal {signal}"), |s| s.as_str().to_string())
}

/// The system call `tid` is stopped at by the filter: its number and arguments.
fn syscall_entry(tid: i32) -> Option<(libc::c_long, [u64; 6])> {
    let info = syscall_info(tid)?;
    if info.op != libc::PTRACE_SYSCALL_INFO_SECCOMP {
        return None;
    }
    // SAFETY: a seccomp stop fills the `seccomp` member (op 3).
    unsafe { Some((info.u.seccomp.nr as libc::c_long, info.u.seccomp.args)) }
}

/// The value a system call returned at its end, and whether it is an error (`-errno`).
fn syscall_exit(tid: i32) -> Option<(i64, bool)> {
    let info = syscall_info(tid)?;
    if info.op != libc::PTRACE_SYSCALL_INFO_EXIT {
        return None;
    }
    // SAFETY: a syscall-exit stop fills the `exit` member (op 2).
    unsafe { Some((info.u.exit.sval, info.u.exit.is_error != 0)) }
}

fn syscall_info(tid: i32) -> Option<libc::ptrace_syscall_info> {
    // SAFETY: the kernel writes at most `size` bytes into `info`.
    unsafe {
        let mut info: libc::ptrace_syscall_info = std::mem::zeroed();
        let size = std::mem::size_of::<libc::ptrace_syscall_info>();
        let got = libc::ptrace(
            libc::PTRACE_GET_SYSCALL_INFO,
            tid,
            size,
            &mut info as *mut libc::ptrace_syscall_info,
        );
        (got > 0).then_some(info)
    }
}

/// The bytes of a `writev`'s buffers (at most 16 of them, `MAX_WRITE` bytes).
fn read_iovecs(tid: i32, address: u64, count: usize) -> Vec<u8> {
    let mut bytes = Vec::new();
    let raw = objects::read_memory(tid, address, count.min(16) * 16);
    for iovec in raw.chunks_exact(16) {
        let base = u64::from_ne_bytes(iovec[..8].try_into().expect("8 bytes"));
        let len = u64::from_ne_bytes(iovec[8..].try_into().expect("8 bytes")) as usize;
        let room = MAX_WRITE.saturating_sub(bytes.len());
        bytes.extend(objects::read_memory(tid, base, len.min(room)));
    }
    bytes
}
