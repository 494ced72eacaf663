//! The judge: one run of a student's program under `proclab trace`, in a scenario the lab
//! drives, with a time limit and a process limit, and the [`Evidence`] an exercise's
//! `check.rs` reads from it.
//!
//! How a run is made. The judging process (`proclab exercise check`) forks a child that is an
//! ordinary supervised trace run, as `proclab trace --json` makes one: its own supervisor, its
//! guard and temp directory, the tracer as main process, the program below it. The child's
//! standard output is a pipe back to the judge, which reads the events as they come. So the
//! run cleans up after itself as every run of the lab does (Ctrl-C, SIGTERM, a panic, the
//! child's `kill -9`); and if the judge itself is killed, the child's parent-death signal
//! (`SIGTERM`) makes it stop and clean up too.
//!
//! The limits. Time: at the limit the judge asks the run to stop (`SIGTERM` to its supervisor,
//! which kills and reaps everything); the evidence then says what each thread was waiting in.
//! Processes: the tracer counts the program's processes as it meets them (running or not yet
//! reaped) and kills them all past the limit (`trace::set_process_limit`): `RLIMIT_NPROC`
//! would count every process of the user, the student's shell and editor too.
//!
//! Nothing here trusts what the program prints about itself: the evidence is what the kernel
//! told the tracer (forks, ends, reaps, waits), or what the lab read from `/proc` while it ran.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::poll::{PollFd, PollFlags, poll};
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::waitpid;
use nix::unistd::{ForkResult, Pid, fork, getpid, pipe2};

use crate::error::{Error, Result};
use crate::runtime::event::{Ended, Event, Kind};
use crate::runtime::procfs;
use crate::runtime::stop;
use crate::supervisor::{self, Program, RunOptions};
use crate::text;
use crate::view::render::{JsonView, View};

/// How long a program may run, and how many processes it may have at once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    pub seconds: f64,
    pub processes: usize,
}

/// The lab's side of a scenario, on a thread of its own while the program runs.
type Driver = Box<dyn FnOnce(&Live) + Send>;

/// What the lab does around one run: the environment it gives the program, and a driver that
/// plays the other side (a client of the student's server) while the program runs.
#[derive(Default)]
pub struct Scenario {
    env: Vec<(String, String)>,
    driver: Option<Driver>,
    stop_when_driven: bool,
}

impl Scenario {
    pub fn new() -> Scenario {
        Scenario::default()
    }

    /// An environment variable for the program (`PROCLAB_SEED`, `PROCLAB_PORT` ...).
    pub fn env(mut self, key: &str, value: impl ToString) -> Scenario {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    /// `drive` runs on a thread of the judge while the program runs; it ends when the program
    /// has ended or when `drive` returns, whichever comes last. It should give up once
    /// `Live::time_left` is zero. What it finds, it keeps in what it captured.
    pub fn driver(mut self, drive: impl FnOnce(&Live) + Send + 'static) -> Scenario {
        self.driver = Some(Box::new(drive));
        self
    }

    /// The program is a server, which does not end by itself: once the driver has returned,
    /// the lab stops it (that is not a failure: `Ending::StoppedByLab`).
    pub fn stop_when_driven(mut self) -> Scenario {
        self.stop_when_driven = true;
        self
    }
}

/// What a driver sees of the run while it goes on.
pub struct Live {
    events: Arc<Mutex<Vec<Event>>>,
    deadline: Instant,
    ended: Arc<AtomicBool>,
}

impl Live {
    /// The events so far.
    pub fn events(&self) -> Vec<Event> {
        self.events.lock().map(|e| e.clone()).unwrap_or_default()
    }

    /// Time left before the time limit (zero once the run has ended).
    pub fn time_left(&self) -> Duration {
        if self.ended.load(Ordering::SeqCst) {
            return Duration::ZERO;
        }
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// The program's own first process, once it runs (read from `/proc`: the tracer's child),
    /// waiting for it up to the time limit.
    pub fn program_pid(&self) -> Option<Pid> {
        loop {
            let tracer = tracer_pid(&self.events());
            if let Some(tracer) = tracer
                && let Some(top) = procfs::all_processes()
                    .into_iter()
                    .find(|p| p.ppid.as_raw() == tracer)
            {
                return Some(top.pid);
            }
            if self.time_left().is_zero() {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// The tracer's pid: the run's main process, which the supervisor forks first (the lab's
/// side of the trace, the program's parent and the reaper of its orphans).
fn tracer_pid(events: &[Event]) -> Option<i32> {
    events.iter().find_map(|e| match &e.kind {
        Kind::Spawn { child, child_name } if child_name == "tracer" => Some(*child),
        _ => None,
    })
}

/// The processes that hold the write end of the pipe `object` (`pipe:[1234]`, as a wait names
/// it) open right now, read from `/proc/<pid>/fd` and the access mode in `fdinfo`: who keeps
/// its reader from seeing the end of file.
pub fn pipe_write_holders(object: &str) -> Vec<Pid> {
    let mut holders = Vec::new();
    for process in procfs::all_processes() {
        let pid = process.pid;
        let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
            continue;
        };
        let writes = fds.flatten().any(|fd| {
            let is_it = std::fs::read_link(fd.path()).is_ok_and(|link| link.as_os_str() == object);
            let info = format!("/proc/{pid}/fdinfo/{}", fd.file_name().to_string_lossy());
            let flags = std::fs::read_to_string(info).ok().and_then(|text| {
                let flags = text.lines().find_map(|l| l.strip_prefix("flags:"))?;
                i32::from_str_radix(flags.trim(), 8).ok()
            });
            is_it && flags.is_some_and(|f| f & libc::O_ACCMODE == libc::O_WRONLY)
        });
        if writes {
            holders.push(pid);
        }
    }
    holders
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Ending {
    /// The program ended by itself, with this exit code (-N: killed by signal N).
    Exited(i32),
    /// Still running at the time limit: the lab stopped it.
    TimedOut { after: f64 },
    /// More processes at once than the limit: the tracer killed them all.
    TooManyProcesses { limit: usize },
    /// A server, stopped by the lab once the scenario was over.
    StoppedByLab,
    /// Ctrl-C or another stop signal came to the lab: no verdict.
    Interrupted(i32),
}

/// One process of the program, from the trace.
#[derive(Debug, Clone, PartialEq)]
pub struct Life {
    pub pid: i32,
    /// Its parent when it was created (the tracer's pid for the program's first process).
    pub parent: i32,
    /// Its last name (Python's: `MainProcess`, `alex`, `Process-1`).
    pub name: String,
    pub spawned: f64,
    /// When it ended, with its exit code (-N for signal N).
    pub ended: Option<(f64, i32)>,
    /// When it was reaped, and by whom (the tracer's pid: by the lab).
    pub reaped: Option<(f64, i32)>,
}

/// One thread other than a process's main thread.
#[derive(Debug, Clone, PartialEq)]
pub struct ThreadLife {
    pub pid: i32,
    pub tid: i32,
    pub name: String,
    pub started: f64,
    pub ended: Option<f64>,
}

/// One wait of one thread (its main thread: `tid == pid`), as the tracer saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct WaitSpan {
    pub pid: i32,
    pub tid: i32,
    /// The process's name, and the thread's after a `/` when it is not the main thread.
    pub who: String,
    /// `futex`, `read`, `join`, `accept`, `sleep` ...
    pub on: String,
    pub object: String,
    pub began: f64,
    /// When it ended, and how; `None`: it had not ended when the run did.
    pub ended: Option<(f64, Option<Ended>)>,
}

/// A line the program wrote on standard output or error.
#[derive(Debug, Clone, PartialEq)]
pub struct Said {
    pub t: f64,
    pub pid: i32,
    pub tid: i32,
    pub name: String,
    pub text: String,
}

/// Everything one run showed: the events, and the program's lives, waits and lines read from
/// them. A `check.rs` reads this.
#[derive(Debug, Clone)]
pub struct Evidence {
    pub events: Vec<Event>,
    pub ending: Ending,
    /// The environment the lab gave (`PROCLAB_SEED` ...).
    pub env: Vec<(String, String)>,
    /// The tracer's pid: the lab, as a parent and reaper.
    pub lab: i32,
    /// The program's processes, the first one first.
    pub processes: Vec<Life>,
    pub threads: Vec<ThreadLife>,
    pub waits: Vec<WaitSpan>,
    pub said: Vec<Said>,
    /// When the run's last event was stamped.
    pub last: f64,
    /// At a time limit on a busy machine: the load average and the number of CPUs. The limit
    /// may then have come before the program could end, and the verdict says so.
    pub busy: Option<(f64, usize)>,
}

impl Evidence {
    /// Reads the lives, waits and lines from a run's events.
    pub fn from_events(events: Vec<Event>, ending: Ending) -> Evidence {
        let lab = tracer_pid(&events).unwrap_or(0);
        let mut processes: Vec<Life> = Vec::new();
        let mut threads: Vec<ThreadLife> = Vec::new();
        let mut waits: Vec<WaitSpan> = Vec::new();
        let mut said = Vec::new();
        let is_program = |pid: i32, processes: &[Life]| processes.iter().any(|p| p.pid == pid);
        let mut sorted = events.clone();
        sorted.sort_by(|a, b| a.t.total_cmp(&b.t));
        for event in &sorted {
            let tid = event.tid.unwrap_or(event.pid);
            match &event.kind {
                Kind::Spawn { child, child_name }
                    if (event.pid == lab || is_program(event.pid, &processes))
                        && !is_program(*child, &processes) =>
                {
                    processes.push(Life {
                        pid: *child,
                        parent: event.pid,
                        name: child_name.clone(),
                        spawned: event.t,
                        ended: None,
                        reaped: None,
                    });
                }
                _ if !is_program(event.pid, &processes) && event.pid != lab => {}
                Kind::Start if event.tid.is_some() => threads.push(ThreadLife {
                    pid: event.pid,
                    tid,
                    name: event.thread.clone().unwrap_or_default(),
                    started: event.t,
                    ended: None,
                }),
                Kind::Start => {
                    if let Some(life) = processes.iter_mut().find(|p| p.pid == event.pid) {
                        life.name = event.name.clone();
                    }
                }
                Kind::Done { .. } if event.tid.is_some() => {
                    if let Some(thread) = threads.iter_mut().rev().find(|th| th.tid == tid) {
                        thread.ended = Some(event.t);
                    }
                }
                Kind::Done { code } => {
                    if let Some(life) = processes.iter_mut().find(|p| p.pid == event.pid) {
                        life.ended = Some((event.t, *code));
                        life.name = event.name.clone();
                    }
                }
                Kind::Exit {
                    child,
                    is_thread: false,
                    ..
                } => {
                    if let Some(life) = processes.iter_mut().find(|p| p.pid == *child) {
                        life.reaped = Some((event.t, event.pid));
                    }
                }
                Kind::Wait { on, object } => waits.push(WaitSpan {
                    pid: event.pid,
                    tid,
                    who: match &event.thread {
                        Some(thread) => format!("{}/{thread}", event.name),
                        None => event.name.clone(),
                    },
                    on: on.clone(),
                    object: object.clone(),
                    began: event.t,
                    ended: None,
                }),
                Kind::Woke {
                    on, object, ended, ..
                } => {
                    if let Some(wait) = waits.iter_mut().rev().find(|w| {
                        w.tid == tid && w.on == *on && w.object == *object && w.ended.is_none()
                    }) {
                        wait.ended = Some((event.t, *ended));
                    }
                }
                Kind::Say { text } => said.push(Said {
                    t: event.t,
                    pid: event.pid,
                    tid,
                    name: event.name.clone(),
                    text: text.clone(),
                }),
                _ => {}
            }
        }
        let last = sorted.last().map_or(0.0, |e| e.t);
        Evidence {
            events,
            ending,
            env: Vec::new(),
            lab,
            processes,
            threads,
            waits,
            said,
            last,
            busy: None,
        }
    }

    /// The program's first process.
    pub fn program(&self) -> Option<&Life> {
        self.processes.first()
    }

    /// The processes the program started for its work: every one but its first, and not
    /// Python's own helpers (`resource_tracker`, `forkserver`).
    pub fn workers(&self) -> Vec<&Life> {
        self.processes
            .iter()
            .skip(1)
            .filter(|p| p.name != "resource_tracker" && p.name != "forkserver")
            .collect()
    }

    /// When the program ended by itself with an error (its first process's exit code not 0),
    /// the failing verdict that says so, with its last lines (a Python traceback ends there).
    pub fn failed(&self, hint: usize, step: u32) -> Option<Verdict> {
        let Ending::Exited(code) = self.ending else {
            return None;
        };
        if code == 0 {
            return None;
        }
        let top = self.program().map_or(0, |p| p.pid);
        let last: Vec<&str> = self
            .said
            .iter()
            .filter(|s| s.pid == top)
            .map(|s| s.text.as_str())
            .collect();
        let last = last[last.len().saturating_sub(3)..].join(" / ");
        let code = crate::runtime::event::describe_exitcode(code);
        Some(
            Verdict::fail(text!(
                en: "the program failed (exit code {code}); its last lines: {last}",
                zh: "程序失败了（退出码 {code}）；它最后输出：{last}",
            ))
            .hint(hint)
            .shown_in_step(step),
        )
    }

    /// The processes `pid` created.
    pub fn children_of(&self, pid: i32) -> Vec<&Life> {
        self.processes.iter().filter(|p| p.parent == pid).collect()
    }

    /// The waits not over at time `t` (begun before it).
    pub fn waiting_at(&self, t: f64) -> Vec<&WaitSpan> {
        self.waits
            .iter()
            .filter(|w| w.began <= t && w.ended.is_none_or(|(end, _)| end > t))
            .collect()
    }

    /// Most processes of the program at once, running or not yet reaped, as the trace shows.
    pub fn most_processes_at_once(&self) -> usize {
        let mut changes: Vec<(f64, i32)> = Vec::new();
        for life in &self.processes {
            changes.push((life.spawned, 1));
            if let Some((t, _)) = life.reaped {
                changes.push((t, -1));
            }
        }
        changes.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let mut now = 0;
        let mut most = 0;
        for (_, change) in changes {
            now += change;
            most = most.max(now);
        }
        most as usize
    }

    /// The value the lab gave the program for `key`.
    pub fn env(&self, key: &str) -> Option<&str> {
        self.env
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// When the run was stopped for a limit (time, processes), the failing verdict that says
    /// so with the evidence; `None` when the program ended by itself or the lab stopped a
    /// server as planned. `hint` and `step` point to why, as in [`Verdict::fail`].
    pub fn stopped(&self, hint: usize, step: u32) -> Option<Verdict> {
        let why = match &self.ending {
            Ending::Exited(_) | Ending::StoppedByLab => return None,
            Ending::Interrupted(_) => text!(en: "the check was interrupted", zh: "检查被中断"),
            Ending::TimedOut { after } => {
                let waiting = self.describe_waits_at(self.last);
                let busy = self.busy_note();
                text!(
                    en: "the program was still running after {after} s{waiting}; it was stopped{busy}",
                    zh: "程序运行 {after} 秒后仍未结束{waiting}；已被停止{busy}",
                )
            }
            Ending::TooManyProcesses { limit } => {
                let most = self.most_processes_at_once();
                let first = self.program().map_or(0, |p| p.pid);
                text!(
                    en: "the program had {most} processes at once (the limit is {limit}), from \
                         pid {first} on: a fork bomb? The lab killed them all",
                    zh: "程序同时有 {most} 个进程（上限是 {limit} 个），从 pid {first} 开始：\
                         是 fork 炸弹吗？proclab 把它们全部杀掉了",
                )
            }
        };
        Some(Verdict::fail(why).hint(hint).shown_in_step(step))
    }

    /// " (the machine was busy ...)" after a time limit on a busy machine, else nothing.
    pub fn busy_note(&self) -> String {
        match self.busy {
            Some((load, cpus)) => text!(
                en: " (the machine was busy: load average {load:.1} on {cpus} CPU(s), so the \
                     limit may have come before the program could end: check again when it is \
                     quieter)",
                zh: "（机器很忙：{cpus} 个 CPU 上负载均值 {load:.1}，时间限制可能在程序来得及结束之前\
                     就到了：等机器空闲些再检查一次）",
            ),
            None => String::new(),
        }
    }

    /// ": threads 4130 and 4131 both waiting in futex since 0.21 s (a deadlock?)", from the
    /// waits still open at `t`, grouped by what they waited in and since when.
    pub fn describe_waits_at(&self, t: f64) -> String {
        let open = self.waiting_at(t);
        if open.is_empty() {
            return String::new();
        }
        // One group per kind of wait, with the earliest start.
        let mut groups: BTreeMap<&str, (Vec<String>, f64)> = BTreeMap::new();
        for wait in &open {
            let group = groups
                .entry(wait.on.as_str())
                .or_insert((Vec::new(), f64::MAX));
            group.0.push(format!("{} ({})", wait.tid, wait.who));
            group.1 = group.1.min(wait.began);
        }
        let futex_waiters = open.iter().filter(|w| w.on == "futex").count();
        let parts: Vec<String> = groups
            .iter()
            .map(|(on, (who, since))| {
                let many = who.len() > 1;
                let who = list_of(who);
                match many {
                    true => text!(
                        en: "threads {who} all waiting in {on} since {since:.2} s",
                        zh: "线程 {who} 自 {since:.2} 秒起都在 {on} 中等待",
                    ),
                    false => text!(
                        en: "thread {who} waiting in {on} since {since:.2} s",
                        zh: "线程 {who} 自 {since:.2} 秒起在 {on} 中等待",
                    ),
                }
            })
            .collect();
        let deadlock = match futex_waiters >= 2 {
            true => text!(en: " (a deadlock?)", zh: "（死锁？）"),
            false => String::new(),
        };
        text!(en: ": {}{deadlock}", zh: "：{}{deadlock}", parts.join("; "))
    }
}

/// "a, b and c" (in Chinese "a、b 和 c").
pub fn list_of(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => {
            let rest = rest.join(&text!(en: ", ", zh: "、"));
            text!(en: "{rest} and {last}", zh: "{rest} 和 {last}")
        }
    }
}

/// What a check concluded, with the evidence in words, and where to look when it failed.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub passed: bool,
    /// What was measured, with pids and times: "3 zombies left: pid 4121 (handler) ...".
    pub why: String,
    /// The hint to read (from 1), for a failure.
    pub hint: Option<usize>,
    /// The step of the exercise's lesson that shows why.
    pub step: Option<u32>,
    /// How many runs of the program the check made.
    pub runs: u32,
    /// A time limit came on a busy machine: the verdict may be the machine's, not the
    /// program's (a grader checks again).
    pub busy: bool,
}

impl Verdict {
    pub fn pass(why: String) -> Verdict {
        Verdict {
            passed: true,
            why,
            hint: None,
            step: None,
            runs: 0,
            busy: false,
        }
    }

    pub fn fail(why: String) -> Verdict {
        Verdict {
            passed: false,
            why,
            hint: None,
            step: None,
            runs: 0,
            busy: false,
        }
    }

    /// The hint (from 1, in `exercise.toml`'s order) that leads out of this failure.
    pub fn hint(mut self, hint: usize) -> Verdict {
        self.hint = Some(hint);
        self
    }

    /// The step of the exercise's lesson that shows why.
    pub fn shown_in_step(mut self, step: u32) -> Verdict {
        self.step = Some(step);
        self
    }
}

/// What a `check.rs` is handed: the program to judge, and the means to run it.
pub struct Judge {
    command: crate::trace::Command,
    limits: Limits,
    runs: u32,
    /// See [`Judge::scratch`].
    scratch: Option<crate::supervisor::OwnDir>,
    busy: bool,
}

impl Judge {
    pub fn new(command: crate::trace::Command, limits: Limits) -> Judge {
        Judge {
            command,
            limits,
            runs: 0,
            scratch: None,
            busy: false,
        }
    }

    /// A folder for files the lab and the program exchange: a file the lab names for the
    /// program to write its result in, the lab's own solution run beside the student's. Made
    /// at the first call, removed with the judge; one left by a check that was killed is
    /// removed by the next run of the lab (it is marked as the lab's: see `OwnDir`).
    pub fn scratch(&mut self) -> Result<std::path::PathBuf> {
        if self.scratch.is_none() {
            self.scratch = Some(crate::supervisor::OwnDir::create()?);
        }
        Ok(self.scratch.as_ref().expect("made").path().to_path_buf())
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Whether a run met its time limit on a busy machine.
    pub fn was_busy(&self) -> bool {
        self.busy
    }

    /// How many runs were made so far.
    pub fn runs(&self) -> u32 {
        self.runs
    }

    /// Runs the program once, in `scenario`, to its end or its limit, and returns what it
    /// showed. An error only when the lab itself failed; a stop signal to the lab comes back
    /// as `Ending::Interrupted`.
    pub fn run(&mut self, scenario: Scenario) -> Result<Evidence> {
        self.runs += 1;
        let env = scenario.env.clone();
        let (events, ending) = supervised_run(&self.command, scenario, self.limits)?;
        let mut evidence = Evidence::from_events(events, ending);
        evidence.env = env;
        if matches!(evidence.ending, Ending::TimedOut { .. }) {
            evidence.busy = crate::runtime::procfs::overloaded();
            self.busy |= evidence.busy.is_some();
        }
        if !matches!(evidence.ending, Ending::Interrupted(_)) {
            // The tracer's limit shows in the trace: more processes at once than allowed.
            if evidence.most_processes_at_once() > self.limits.processes {
                evidence.ending = Ending::TooManyProcesses {
                    limit: self.limits.processes,
                };
            }
        }
        Ok(evidence)
    }
}

/// How long the run's supervisor gets to clean up after it was asked to stop, before it is
/// killed (its guard then cleans up).
const STOP_GRACE: Duration = Duration::from_secs(10);

/// One supervised trace run of `command` in a child of this process: its events, and how it
/// ended.
fn supervised_run(
    command: &crate::trace::Command,
    scenario: Scenario,
    limits: Limits,
) -> Result<(Vec<Event>, Ending)> {
    let (reader, writer) = pipe2(OFlag::O_CLOEXEC)?;
    let _ = io::stdout().flush();
    let _ = io::stderr().flush();
    let judge = getpid();
    let started = Instant::now();
    // SAFETY: the judge is single-threaded here (a driver thread of an earlier run has been
    // joined). The child becomes a supervisor and leaves with `_exit`.
    let child = match unsafe { fork() }.map_err(|e| Error::System(format!("cannot fork: {e}")))? {
        ForkResult::Child => {
            drop(reader);
            be_the_run(writer, command.clone(), &scenario.env, limits, judge)
        }
        ForkResult::Parent { child } => child,
    };
    drop(writer);
    fcntl(reader.as_fd(), FcntlArg::F_SETFL(OFlag::O_NONBLOCK))?;

    let events = Arc::new(Mutex::new(Vec::new()));
    let ended = Arc::new(AtomicBool::new(false));
    let deadline = started + Duration::from_secs_f64(limits.seconds);
    let driven = Arc::new(AtomicBool::new(scenario.driver.is_none()));
    let driver = scenario.driver.map(|drive| {
        let live = Live {
            events: events.clone(),
            deadline,
            ended: ended.clone(),
        };
        let driven = driven.clone();
        std::thread::spawn(move || {
            drive(&live);
            driven.store(true, Ordering::SeqCst);
        })
    });

    let mut ending = None;
    let mut asked_to_stop: Option<Instant> = None;
    let mut buffer = Vec::new();
    loop {
        let mut fds = [PollFd::new(reader.as_fd(), PollFlags::POLLIN)];
        let _ = poll(&mut fds, 100u16);
        if !read_lines(&reader, &mut buffer, &events) {
            break;
        }
        let reason = if let Some(signal) = stop::stop_signal() {
            Some(Ending::Interrupted(signal))
        } else if Instant::now() >= deadline {
            Some(Ending::TimedOut {
                after: limits.seconds,
            })
        } else if scenario.stop_when_driven && driven.load(Ordering::SeqCst) {
            Some(Ending::StoppedByLab)
        } else {
            None
        };
        if let Some(reason) = reason
            && asked_to_stop.is_none()
        {
            // The run's supervisor stops it as Ctrl-C would: everything killed and reaped.
            let _ = kill(child, Signal::SIGTERM);
            asked_to_stop = Some(Instant::now());
            ending = Some(reason);
        }
        if let Some(asked) = asked_to_stop
            && asked.elapsed() > STOP_GRACE
        {
            let _ = kill(child, Signal::SIGKILL);
        }
    }
    let _ = waitpid(child, None);
    ended.store(true, Ordering::SeqCst);
    if let Some(driver) = driver {
        let _ = driver.join();
    }
    let events = std::mem::take(&mut *events.lock().map_err(|_| {
        Error::System("a driver of the exercise panicked while holding the events".into())
    })?);
    let ending = match ending {
        Some(ending) => ending,
        None => Ending::Exited(program_exit_code(&events)),
    };
    Ok((events, ending))
}

/// Reads what the run wrote; false at its end of file.
fn read_lines(reader: &OwnedFd, buffer: &mut Vec<u8>, events: &Mutex<Vec<Event>>) -> bool {
    let mut chunk = [0u8; 64 * 1024];
    loop {
        match nix::unistd::read(reader, &mut chunk) {
            Ok(0) => return false,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            Err(nix::errno::Errno::EINTR) => {}
            Err(_) => return true,
        }
        while let Some(end) = buffer.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = buffer.drain(..=end).collect();
            if let Some(event) = Event::from_json(String::from_utf8_lossy(&line).trim())
                && let Ok(mut events) = events.lock()
            {
                events.push(event);
            }
        }
    }
}

/// The exit code of the program's first process (1 if the trace never saw it end).
fn program_exit_code(events: &[Event]) -> i32 {
    let evidence = Evidence::from_events(events.to_vec(), Ending::Exited(0));
    evidence
        .program()
        .and_then(|p| p.ended)
        .map_or(1, |(_, code)| code)
}

/// The child: an ordinary supervised trace run, whose events go to the judge.
fn be_the_run(
    writer: OwnedFd,
    command: crate::trace::Command,
    env: &[(String, String)],
    limits: Limits,
    judge: Pid,
) -> ! {
    // SAFETY: plain system calls on this process.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
        if libc::getppid() != judge.as_raw() {
            // The judge died before the line above: nobody reads this run.
            libc::_exit(1);
        }
        libc::dup2(writer.as_raw_fd(), 1);
    }
    drop(writer);
    for (key, value) in env {
        // SAFETY: this process has one thread.
        unsafe { std::env::set_var(key, value) };
    }
    crate::trace::set_process_limit(limits.processes);
    let options = RunOptions {
        program: Program::Trace { command },
        speed: 1.0,
    };
    let code = match supervisor::run(options, View::Json(JsonView::new())) {
        Ok(_) => 0,
        Err(error) => {
            eprintln!("proclab: {error}");
            1
        }
    };
    let _ = io::stdout().flush();
    // SAFETY: leaves at once, as every child of the lab does.
    unsafe { libc::_exit(code) }
}
