//! Lesson 3: daemon and terminate pitfalls, zombies and orphans, read live from /proc.
//!
//! What the student sees, step by step: a daemon child (守护进程) that counts in a loop is
//! terminated (exit code -15) the moment its parent's main work ends, while the parent waits
//! for its other, non-daemon child (exit code 0); the two daemon rules come back as error
//! values; `terminate()` kills a parent and leaves its own child running as an orphan (孤儿进程),
//! whose parent pid in `/proc` changes to the lab's supervisor; a child that has ended but has
//! not been joined sits in `/proc` in state `Z`, a zombie (僵尸进程), until `join()` reaps it;
//! `is_alive()` and `exitcode` before, during and after a child's life, and five exit codes
//! from five endings; and a lock (锁) whose holder is terminated: a semaphore stays taken
//! forever, an `flock` is released by the kernel at once.
//!
//! System calls: `fork` (`Process::start`), `kill` with `SIGTERM`/`SIGKILL`
//! (`terminate`/`kill`), `waitid(WNOWAIT)` to look at a child's end without reaping it
//! (`is_alive`, `exitcode`), `waitpid` to reap (`join`), `/proc/<pid>/stat` for states and
//! parent pids, `prctl(PR_SET_CHILD_SUBREAPER)` (set by the supervisor when the run begins),
//! `mmap(MAP_SHARED | MAP_ANONYMOUS)` for memory the processes share, `sem_init` and
//! `sem_timedwait` for the semaphore, and `flock`.
//!
//! The children write what they saw (pids, counts, times) into shared memory, because after
//! `fork` an ordinary variable is a separate copy in each process. The main process reads it
//! afterwards and every note is computed from it.

use std::fs::{self, File};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicU64, Ordering::SeqCst};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};
use nix::sys::signal::{Signal, kill};
use nix::unistd::{Pid, getpid, getppid};

use crate::lesson::prelude::*;
use crate::multiprocessing::process::{self, Process, ProcessError};
use crate::multiprocessing::shared;
use crate::multiprocessing::{Semaphore, SyncError};
use crate::runtime::event::describe_exitcode;
use crate::runtime::procfs::describe_state;

// The lesson's own durations, all scaled by --speed (at speed 20, one second is 50 ms).
/// How often the daemon counts.
const COUNT_EVERY: Duration = Duration::from_millis(250);
/// The main work of the parent in step 1; shorter than the worker's, so the parent must wait.
const PARENT_WORK: Duration = Duration::from_secs(1);
const WORKER_WORK: Duration = Duration::from_secs(2);
/// The work of the short-lived child in step 2.
const SHORT_WORK: Duration = Duration::from_millis(500);
/// How often the orphan of step 3 reports its parent, and how long it is left running once
/// it is an orphan.
const ORPHAN_TICK: Duration = Duration::from_millis(250);
const ORPHAN_SHOWN: Duration = Duration::from_secs(1);
/// How long the next taker waits for a lock before it gives up.
const LOCK_PATIENCE: Duration = Duration::from_secs(3);

/// How long to wait for something the kernel does at once (a re-parenting, a reaping), scaled
/// by --speed like everything else but never below `LEAST_PATIENCE`, which a busy machine
/// needs. Reaching it means something is wrong, and the lesson fails.
const KERNEL_PATIENCE: Duration = Duration::from_secs(10);
const LEAST_PATIENCE: Duration = Duration::from_secs(2);

fn kernel_patience() -> Duration {
    context::scaled(KERNEL_PATIENCE).max(LEAST_PATIENCE)
}

/// The exit status of step 2's daemon if it was (wrongly) allowed to start a child: an exit
/// status is the simplest way for a child to tell its parent one small number.
const FORKED_ANYWAY: i32 = 2;

/// The lock file of step 5, in the run's own temp directory.
const LOCK_FILE: &str = "lesson-3.lock";

pub fn run(lab: &mut Lab) -> Result<()> {
    lab.step("A daemon ends with its parent's work")?;
    daemon_and_worker()?;
    lab.step("The daemon rules")?;
    daemon_rules()?;
    lab.step("terminate() leaves orphans, not zombies")?;
    orphan()?;
    lab.step("Zombies, is_alive() and exitcode")?;
    zombie_and_exitcodes()?;
    lab.step("Terminating a lock holder")?;
    semaphore_held_by_the_dead()?;
    flock_released_at_death()
}

// ---------------------------------------------------------------------------------------------
// Step 1: a daemon child is terminated when its parent's work ends; a non-daemon is waited for.

process_shared! {
    /// What the processes of step 1 write down for the main process to read afterwards.
    #[derive(Default)]
    struct DaemonRecord {
        counter_pid: AtomicI32,
        worker_pid: AtomicI32,
        /// How far the daemon has counted, and how far it had when the parent's work ended.
        counted: AtomicU32,
        counted_at_work_end: AtomicU32,
        /// Microseconds since the lesson started.
        work_ended_us: AtomicU64,
        worker_done_us: AtomicU64,
    }
}

fn daemon_and_worker() -> Result<()> {
    let record = SharedMemory::new(DaemonRecord::default())?;
    let in_parent = record.clone();
    let mut parent = Process::new(move || parent_of_two(&in_parent)).named("parent");
    parent.start()?;
    let parent_code = parent.join()?;
    let joined_at = context::elapsed();
    if parent_code != 0 {
        // It could not start its children (a failed fork): there is nothing to look at.
        return Err(Error::lesson(format!(
            "parent failed (exitcode {parent_code}) before its children could run"
        )));
    }

    let counter_pid = Pid::from_raw(record.counter_pid.load(SeqCst));
    let worker_pid = Pid::from_raw(record.worker_pid.load(SeqCst));
    // The parent reaped both on its way out, so /proc should know neither.
    let counter_gone = procfs::observe(counter_pid).is_none();
    let worker_gone = procfs::observe(worker_pid).is_none();

    let work_ended = seconds(&record.work_ended_us);
    let worker_done = seconds(&record.worker_done_us);
    let counted_then = record.counted_at_work_end.load(SeqCst);
    let counted_later = record.counted.load(SeqCst) - counted_then;
    let afterwards = match counted_later {
        0 => text!(en: "and not once after that", zh: "此后一次也没有再数"),
        n => text!(
            en: "and {n} more time(s) in the instant before the signal reached it",
            zh: "在信号到达它之前的那一瞬间又数了 {n} 次"
        ),
    };
    let waited = if worker_done <= joined_at {
        text!(
            en: "finished at {worker_done:.3} s, and only then did the parent end (its join() in \
                 the main process returned at {joined_at:.3} s, exitcode {parent_code}): a parent \
                 waits for its non-daemon children before it leaves",
            zh: "在 {worker_done:.3} s 完成，父进程在那之后才结束（主进程里对它的 join() 在 \
                 {joined_at:.3} s 返回，exitcode {parent_code}）：父进程离开之前，\
                 会等待它的非守护子进程"
        )
    } else {
        text!(
            en: "did not finish before the parent ended ({worker_done:.3} s > {joined_at:.3} s)",
            zh: "在父进程结束前没有完成（{worker_done:.3} s > {joined_at:.3} s）"
        )
    };
    let still_listed = [(counter_gone, counter_pid), (worker_gone, worker_pid)]
        .iter()
        .filter(|(gone, _)| !gone)
        .map(|(_, pid)| pid.to_string())
        .collect::<Vec<_>>();
    let in_proc = if still_listed.is_empty() {
        text!(
            en: "/proc has neither pid any more: the parent reaped both.",
            zh: "/proc 里两个 pid 都没有了：父进程把两个都回收了。"
        )
    } else {
        text!(
            en: "/proc still lists {pids}.",
            zh: "/proc 里仍然列着 {pids}。",
            pids = still_listed.join(&text!(en: " and ", zh: " 和 "))
        )
    };
    note!(
        en: "The parent's main work ended at {work_ended:.3} s. Its daemon child counter (pid \
             {counter_pid}) had counted to {counted_then} by then, {afterwards}, although its \
             loop never ends by itself: the parent terminated it as it left. The worker (pid \
             {worker_pid}) is not a daemon: it {waited}. {in_proc}",
        zh: "父进程的主要工作在 {work_ended:.3} s 结束。它的守护子进程 counter（pid {counter_pid}）\
             那时已经数到 {counted_then}，{afterwards}，尽管它的循环自己永远不会结束：\
             是父进程在离开时终止了它。worker（pid {worker_pid}）不是守护进程：它{waited}。{in_proc}",
    );
    Ok(())
}

/// The parent of step 1: starts a daemon and a worker, does its own work, and returns.
fn parent_of_two(record: &SharedMemory<DaemonRecord>) -> std::result::Result<(), ProcessError> {
    let in_counter = record.clone();
    let mut counter = Process::new(move || count_forever(&in_counter)).named("counter");
    counter.set_daemon(true)?;
    let in_worker = record.clone();
    let mut worker = Process::new(move || work(&in_worker)).named("worker");
    let counter_pid = counter.start()?;
    let worker_pid = worker.start()?;
    record.counter_pid.store(counter_pid.as_raw(), SeqCst);
    record.worker_pid.store(worker_pid.as_raw(), SeqCst);

    say!("parent: my main work takes {}", stated(PARENT_WORK));
    context::sleep(PARENT_WORK);
    record
        .counted_at_work_end
        .store(record.counted.load(SeqCst), SeqCst);
    store_now(&record.work_ended_us);
    say!("parent: main work done, returning");
    // No join(), no terminate(): returning hands over to `process::exit`, which does what
    // Python does when a process's work is done: terminate the daemon children that are
    // still running, then wait for the others.
    Ok(())
}

/// The daemon's target: counts until something stops it.
fn count_forever(record: &DaemonRecord) {
    loop {
        let count = record.counted.fetch_add(1, SeqCst) + 1;
        say!("counter: {count}");
        context::sleep(COUNT_EVERY);
    }
}

/// The worker's target: some work that outlasts the parent's own.
fn work(record: &DaemonRecord) {
    say!("worker: working for {}", stated(WORKER_WORK));
    context::sleep(WORKER_WORK);
    store_now(&record.worker_done_us);
    say!("worker: done");
}

// ---------------------------------------------------------------------------------------------
// Step 2: the two daemon rules, as error values.

fn daemon_rules() -> Result<()> {
    let mut late = Process::new(|| context::sleep(SHORT_WORK)).named("late-daemon");
    late.start()?;
    let late_refused = match late.set_daemon(true) {
        Err(error) => {
            say!(
                en: "set_daemon(true) after start(): error: {error} (the lab adds: set it before)",
                zh: "set_daemon(true) after start(): error: {error}（proclab 补充：要在 start() 之前设置）"
            );
            true
        }
        Ok(()) => {
            say!("set_daemon(true) after start(): accepted");
            false
        }
    };
    let late_is_daemon = late.daemon();
    let late_code = late.join()?;
    let rule_1 = if late_refused {
        text!(
            en: "the error is Python's own message. The child got its own copy of the flag when \
                 start() forked it; a late change would reach the parent's copy only (Python \
                 with -O, which drops the check, then terminates that child at exit although the \
                 child believes it is not a daemon), so it is refused: late-daemon stayed a \
                 non-daemon (daemon() is {late_is_daemon}) and ended with exitcode {late_code}",
            zh: "报错信息就是 Python 自己的那一句。start() 创建子进程时，子进程得到了这个标志的\
                 一份自己的副本；晚来的修改只会改到父进程的那一份（用 -O 运行的 Python 去掉了这项\
                 检查，于是退出时会终止那个子进程，而子进程自以为不是守护进程），所以它被拒绝了：\
                 late-daemon 仍是非守护进程（daemon() 为 {late_is_daemon}），以 exitcode \
                 {late_code} 结束"
        )
    } else {
        text!(
            en: "set_daemon() after start() was accepted (daemon() is {late_is_daemon})",
            zh: "start() 之后的 set_daemon() 被接受了（daemon() 为 {late_is_daemon}）"
        )
    };

    let mut daemon = Process::new(daemon_tries_to_start_a_child).named("daemon");
    daemon.set_daemon(true)?;
    let daemon_pid = daemon.start()?;
    let daemon_code = daemon.join()?;
    let outcome = match daemon_code {
        1 => text!(
            en: "its start() returned the error instead of forking, the daemon let the error end \
                 it, and its exitcode is 1: what Python's uncaught AssertionError does (it would \
                 have left with {FORKED_ANYWAY} had the fork happened)",
            zh: "它的 start() 没有 fork，而是返回了这个错误；守护进程让这个错误结束了自己，\
                 exitcode 是 1：Python 里没有被捕获的 AssertionError 正是这样（要是真的 fork \
                 了，它会以 {FORKED_ANYWAY} 退出）"
        ),
        FORKED_ANYWAY => text!(
            en: "its start() was not refused: it forked a child",
            zh: "它的 start() 没有被拒绝：它 fork 出了一个子进程"
        ),
        code => text!(
            en: "it ended with exitcode {code}",
            zh: "它以 exitcode {code} 结束"
        ),
    };
    note!(
        en: "Rule 1: {rule_1}. Rule 2: daemon (pid {daemon_pid}) tried to start a child of its \
             own; {outcome}. Why the rule: a daemon is ended by a signal when its parent \
             finishes, with no chance to clean up, so its own children would be left behind as \
             orphans. The next step shows exactly that.",
        zh: "规则 1：{rule_1}。规则 2：daemon（pid {daemon_pid}）想启动一个自己的子进程；\
             {outcome}。为什么有这条规则：父进程结束时，守护进程是被信号结束的，没有机会清理，\
             所以它自己的子进程会被丢下，成为孤儿进程 (orphan process)。下一步正好演示这一点。",
    );
    Ok(())
}

/// The target of step 2's daemon: tries to start a child, which a daemon may not do. The
/// error ends the daemon (exit code 1), as the uncaught `AssertionError` does in Python.
fn daemon_tries_to_start_a_child() -> std::result::Result<(), ProcessError> {
    let mut child = Process::new(|| say!("I am a daemon's child")).named("daemon-child");
    match child.start() {
        Err(error) => {
            say!("start() inside a daemon: error: {error}");
            Err(error)
        }
        Ok(_) => {
            let _ = child.join();
            process::exit(FORKED_ANYWAY)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Step 3: terminate() kills one process; its child lives on as an orphan.

process_shared! {
    /// What the grandchild of step 3 writes down: its pid, and its parent as it sees it itself.
    #[derive(Default)]
    struct OrphanRecord {
        pid: AtomicI32,
        parent_seen: AtomicI32,
    }
}

fn orphan() -> Result<()> {
    let main_pid = getpid();
    // The supervisor: the lab's own process, which forked this main process.
    let lab_pid = getppid();
    let record = SharedMemory::new(OrphanRecord::default())?;
    let in_doomed = record.clone();
    let mut doomed = Process::new(move || doomed_parent(&in_doomed)).named("doomed");
    let doomed_pid = doomed.start()?;
    // 0: doomed ended without starting it (its fork failed, say).
    let grandchild = poll_until("doomed has started its child", || {
        match record.pid.load(SeqCst) {
            0 if doomed.exitcode().is_some() => Some(0),
            0 => None,
            pid => Some(pid),
        }
    })?;
    if grandchild == 0 {
        return Err(Error::lesson(format!(
            "doomed ended (exitcode {}) before it could start its child",
            python(doomed.exitcode())
        )));
    }
    let grandchild = Pid::from_raw(grandchild);
    // Let the grandchild say who its parent is before that parent dies, so that the student
    // sees both answers (on a busy machine it may not have run at all yet).
    poll_until("the grandchild has looked at its parent", || {
        (record.parent_seen.load(SeqCst) == doomed_pid.as_raw()).then_some(())
    })?;
    let before = procfs::observe(grandchild)
        .ok_or_else(|| Error::lesson(format!("{grandchild} vanished before the test")))?;

    doomed.terminate()?;
    let doomed_code = doomed.join()?;
    // The kernel re-parents the orphan while its parent dies, so this is normally true at
    // once; poll rather than assume. The same death wakes the orphan for a moment (the lab
    // asks the kernel to tell every process of a run when its parent dies, so that nothing
    // outlives a killed run): look once it is back in its sleep, as it spends its life.
    let after = poll_until("/proc shows the orphan's new parent", || {
        procfs::stat(grandchild).filter(|stat| stat.ppid != doomed_pid && stat.state != 'R')
    })?;
    procfs::observe(grandchild);
    // The orphan's own getppid() tells the same story: wait (one tick at most) until it has
    // looked again.
    poll_until("the orphan sees its new parent", || {
        (record.parent_seen.load(SeqCst) == after.ppid.as_raw()).then_some(())
    })?;

    let new_parent = match after.ppid {
        pid if pid == lab_pid => text!(
            en: "the proclab supervisor (pid {lab_pid}, the main process's own parent). The \
                 supervisor marked itself a child subreaper (prctl PR_SET_CHILD_SUBREAPER) when \
                 the run began, so that nothing a lesson starts can slip out of its reach; \
                 without it, {grandchild} would have gone to pid 1 (or to a subreaper further \
                 up, such as a systemd --user manager). Note that it skipped main ({main_pid}), \
                 its grandparent: only a subreaper adopts orphans",
            zh: "proclab 监督进程 (supervisor)（pid {lab_pid}，也就是主进程自己的父进程）。监督进程\
                 在运行开始时把自己标成了 child subreaper（prctl PR_SET_CHILD_SUBREAPER），\
                 好让课程启动的任何东西都逃不出它的掌握；没有它，{grandchild} 就会归 1 号进程\
                 （或者归更上层的某个 subreaper，比如 systemd --user 管理进程）。注意它跳过了\
                 它的祖父进程 main（{main_pid}）：只有 subreaper 才收养孤儿进程"
        ),
        pid if pid.as_raw() == 1 => text!(
            en: "pid 1, init, which adopts every orphan that has no subreaper above it",
            zh: "1 号进程 init，它收养每一个上面没有 subreaper 的孤儿进程"
        ),
        pid => text!(
            en: "pid {pid} ({comm}), a subreaper above the lab",
            zh: "pid {pid}（{comm}），proclab 之上的一个子进程回收者 (subreaper)",
            comm = procfs::stat(pid).map_or("gone".to_string(), |s| s.comm)
        ),
    };
    let before_parent = before.ppid;
    let was_doomed = if before.ppid == doomed_pid {
        " (doomed)"
    } else {
        ""
    };
    note!(
        en: "Before: /proc/{grandchild}/stat gave parent {before_parent}{was_doomed}. \
             terminate() sent SIGTERM to doomed, which died at once (exitcode {doomed_code}) \
             without running any exit code of its own: it neither terminated its daemon child \
             nor waited for it. After: {grandchild} is still there, in state {state}: \
             {state_means}; and its parent is now {after_parent}: {new_parent}. Its own \
             getppid() says {seen} too.",
        zh: "之前：/proc/{grandchild}/stat 给出的父进程是 {before_parent}{was_doomed}。\
             terminate() 给 doomed 发了 SIGTERM，它当场死去（退出码 {doomed_code}），\
             没有执行自己的任何退出代码：它既没有终止它的守护子进程，也没有等它。之后：\
             {grandchild} 还在，状态 {state}：{state_means}；而它的父进程现在是 {after_parent}：\
             {new_parent}。它自己的 getppid() 也说是 {seen}。",
        doomed_code = describe_exitcode(doomed_code),
        state = after.state,
        state_means = describe_state(after.state),
        after_parent = after.ppid,
        seen = record.parent_seen.load(SeqCst),
    );
    note!(
        en: "So {grandchild} is an orphan (孤儿进程): alive, working, its parent gone. The \
             tutorial says terminate() turns such children into zombies; a zombie is a process \
             that has ended and not been reaped (step 4 shows one), while {grandchild} is \
             {state_means}.",
        zh: "所以 {grandchild} 是一个孤儿进程 (orphan process)：活着、在工作，它的父进程没了。\
             教程说 terminate() 会把这样的子进程变成僵尸进程；而僵尸进程\
             是已经结束、还没被回收的进程（第 4 步会展示一个），可 {grandchild} 的状态是：\
             {state_means}。",
        state_means = describe_state(after.state)
    );
    // Let the orphan run a moment longer, so that its lines show the new parent too.
    context::sleep(ORPHAN_SHOWN);

    // The lab removes the orphan. Any process may signal it (same user); only its new parent,
    // the supervisor, can reap it, and does so when it sees it end.
    let removing = Instant::now();
    kill(grandchild, Signal::SIGTERM)?;
    // Between its death and its reaping the orphan is a zombie, now of the supervisor: catch
    // that moment if the supervisor is not quicker than we are.
    let mut dead_after = None;
    poll_until(
        "the supervisor has reaped the orphan",
        || match procfs::stat(grandchild) {
            Some(stat) if stat.state == 'Z' && dead_after.is_none() => {
                dead_after = Some(removing.elapsed());
                procfs::observe(grandchild);
                None
            }
            Some(_) => None,
            None => Some(()),
        },
    )?;
    let reaped_after = removing.elapsed();
    procfs::observe(grandchild);
    let how = match dead_after {
        Some(dead_after) => text!(
            en: "it was dead {dead} after the signal, and stayed a zombie (the supervisor's, \
                 now) until the supervisor reaped it, {reaped} after the signal",
            zh: "信号发出 {dead} 后它已经死了，之后一直是僵尸进程（现在是监督进程的），\
                 直到监督进程在信号发出 {reaped} 后回收了它",
            dead = describe(dead_after),
            reaped = describe(reaped_after)
        ),
        None => text!(
            en: "/proc/{grandchild} was gone {reaped} after it",
            zh: "信号发出 {reaped} 后，/proc/{grandchild} 已经没有了",
            reaped = describe(reaped_after)
        ),
    };
    note!(
        en: "The main process sent SIGTERM to {grandchild}. Only a parent can reap, so the \
             supervisor {supervisor} did (its 'reaped' line): {how}. Nothing of the orphan is \
             left.",
        zh: "主进程给 {grandchild} 发了 SIGTERM。只有父进程能回收 (reap)，所以由监督进程 \
             {supervisor} 来回收（看它的 reaped 那一行）：{how}。这个孤儿进程什么也没留下。",
        supervisor = after.ppid,
    );
    Ok(())
}

/// The parent of step 3: starts a daemon child, then waits to be terminated.
fn doomed_parent(record: &SharedMemory<OrphanRecord>) -> std::result::Result<(), ProcessError> {
    // A daemon, even: daemon children are ended by their parent's *exit*, and a parent killed
    // by a signal never runs it.
    let in_grandchild = record.clone();
    let mut grandchild =
        Process::new(move || report_parent_forever(&in_grandchild)).named("grandchild");
    grandchild.set_daemon(true)?;
    let pid = grandchild.start()?;
    record.pid.store(pid.as_raw(), SeqCst);
    say!("doomed: my daemon child {pid} is running; I wait to be terminated");
    sleep_until_signalled()
}

/// The grandchild of step 3: runs until a signal ends it, saying now and then who its parent
/// is, as `getppid()` tells it.
fn report_parent_forever(record: &OrphanRecord) {
    loop {
        let parent = getppid().as_raw();
        say!("grandchild: still running; my parent is {parent}");
        // Recorded after saying it, so that whoever waits for this has the line already.
        record.parent_seen.store(parent, SeqCst);
        context::sleep(ORPHAN_TICK);
    }
}

// ---------------------------------------------------------------------------------------------
// Step 4: a zombie in /proc; is_alive() and exitcode through a child's life.

fn zombie_and_exitcodes() -> Result<()> {
    // The child waits for a permit from this semaphore before it returns, so "while running"
    // below is certain, not a matter of timing.
    let go = shared::Semaphore::shared(0)?;
    let in_child = go.clone();
    let mut returns = Process::new(move || -> std::result::Result<(), Errno> {
        in_child.acquire()?;
        say!("returns: told to go, returning");
        Ok(())
    })
    .named("returns");

    let (alive_before, code_before) = (returns.is_alive(), returns.exitcode());
    say!(
        "before start(): is_alive() = {alive_before}, exitcode = {}",
        python(code_before)
    );
    let pid = returns.start()?;
    let (alive_running, code_running) = (returns.is_alive(), returns.exitcode());
    say!(
        "while it runs: is_alive() = {alive_running}, exitcode = {}",
        python(code_running)
    );

    go.release()?;
    // kernel_patience() is scaled.
    if process::wait_for_any(&[&returns], kernel_patience()).is_empty() {
        return Err(Error::lesson(format!("{pid} did not end")));
    }
    poll_until("/proc shows the ended child as a zombie", || {
        procfs::stat(pid).filter(|stat| stat.state == 'Z')
    })?;
    let (alive_after, code_after) = (returns.is_alive(), returns.exitcode());
    say!(
        "after it ended: is_alive() = {alive_after}, exitcode = {}",
        python(code_after)
    );
    // Read again after is_alive() and exitcode(): neither of them reaped it.
    let zombie = procfs::observe(pid);
    let state = zombie.as_ref().map_or('?', |s| s.state);
    let state_means = zombie.as_ref().map_or_else(
        || text!(en: "gone", zh: "已经没有了"),
        |s| describe_state(s.state).to_string(),
    );
    note!(
        en: "The child named returns (pid {pid}) has ended, and nobody has joined it: \
             /proc/{pid}/stat says state {state} ({state_means}). That is a zombie (僵尸进程): \
             the process is dead, its memory freed, but the kernel keeps its pid and exit status \
             until the parent collects them. is_alive() and exitcode() read that status with \
             waitid(WNOWAIT), which looks without collecting, so the zombie is still there after \
             them. (In Python, is_alive(), exitcode, active_children() and the next start() \
             would each have reaped it.)",
        zh: "名为 returns 的子进程（pid {pid}）已经结束，而没有人 join 它：/proc/{pid}/stat \
             显示状态 {state}（{state_means}）。这就是僵尸进程 (zombie process)：进程已经死了，\
             内存也释放了，但内核保留着它的 pid 和退出状态，直到父进程来取走。is_alive() 和 \
             exitcode() 用 waitid(WNOWAIT) 读这个状态，只看不取，所以调用它们之后僵尸进程还在。\
             （在 Python 里，is_alive()、exitcode、active_children() 和下一次 start() \
             每一个都会把它回收掉。）",
    );
    let code = returns.join()?;
    let gone = procfs::observe(pid).is_none();
    let now = if gone {
        text!(en: "is gone", zh: "已经没有了")
    } else {
        text!(en: "is still there", zh: "还在")
    };
    note!(
        en: "join() collected the exit status ({code}) with waitpid, and the kernel let go of \
             the last of the process: /proc/{pid} {now}.",
        zh: "join() 用 waitpid 取走了退出状态（{code}），内核放掉了这个进程剩下的最后一点东西：\
             /proc/{pid} {now}。",
    );

    // Five processes, five endings.
    let never = Process::new(|| {}).named("never-started");
    let mut exits_3 = Process::new(leave_with_3).named("exits-3");
    let mut terminated = Process::new(wait_for_a_signal).named("terminated");
    let mut killed = Process::new(wait_for_a_signal).named("killed");
    for child in [&mut exits_3, &mut terminated, &mut killed] {
        child.start()?;
    }
    terminated.terminate()?;
    killed.kill()?;
    for child in [&mut exits_3, &mut terminated, &mut killed] {
        child.join()?;
    }
    let codes: Vec<String> = [&never, &returns, &exits_3, &terminated, &killed]
        .iter()
        .map(|child| format!("{}: {}", child.name(), python(child.exitcode())))
        .collect();
    say!("exitcode of each: {}", codes.join(", "));
    let explained: Vec<String> = [&terminated, &killed]
        .iter()
        .filter_map(|child| child.exitcode().map(|code| (child.name(), code)))
        .map(|(name, code)| format!("{name}: {}", describe_exitcode(code)))
        .collect();
    let explained = explained.join(", ");
    note!(
        en: "exitcode is None for a process that has not ended (or never started); the status \
             it passed to exit when it ended by itself (returning from the target is exit(0)); \
             and -N when signal N ended it ({explained}). terminate() sends SIGTERM (15), kill() \
             SIGKILL (9), which no process can catch or ignore.",
        zh: "进程还没结束（或者从没启动）时，exitcode 是 None；它自己结束时，是它传给 exit 的\
             状态（从目标函数返回就是 exit(0)）；被信号 N 结束时是 -N（{explained}）。\
             terminate() 发送 SIGTERM（15），kill() 发送 SIGKILL（9），任何进程都无法捕获或忽略 \
             SIGKILL。",
    );
    Ok(())
}

/// The target of exits-3: Python's `sys.exit(3)`.
fn leave_with_3() {
    say!("exits-3: leaving with exit(3)");
    process::exit(3)
}

/// The target of a child that only waits to be ended by a signal.
fn wait_for_a_signal() {
    sleep_until_signalled()
}

// ---------------------------------------------------------------------------------------------
// Step 5: terminating a process that holds a lock.

process_shared! {
    /// What a lock holder and the next taker write down for the main process.
    #[derive(Default)]
    struct LockRecord {
        holder_pid: AtomicI32,
        taker_got_it: AtomicBool,
        taker_waited_us: AtomicU64,
    }
}

/// A semaphore used as a lock, as `multiprocessing.Lock` is: the kernel does not know who
/// holds it, so the holder's death releases nothing.
fn semaphore_held_by_the_dead() -> Result<()> {
    // One permit: a lock. Waiting for it is reported (`wait`/`woke`), so the taker's wait is
    // drawn on the timeline.
    let lock = Semaphore::new(1)?.named("the lock");
    let record = SharedMemory::new(LockRecord::default())?;
    let (in_holder, record_in_holder) = (lock.clone(), record.clone());
    let mut holder = Process::new(move || -> std::result::Result<(), SyncError> {
        in_holder.acquire()?;
        record_in_holder.holder_pid.store(getpid().as_raw(), SeqCst);
        say!("holder: I hold the lock (a semaphore), working");
        sleep_until_signalled()
    })
    .named("holder");
    let holder_pid = holder.start()?;
    poll_until("the holder has taken the lock", || {
        (record.holder_pid.load(SeqCst) == holder_pid.as_raw()).then_some(())
    })?;
    holder.terminate()?;
    let holder_code = holder.join()?;
    let free_after_death = lock.value();

    let (in_taker, record_in_taker) = (lock.clone(), record.clone());
    let mut taker =
        Process::new(move || take_semaphore(&in_taker, &record_in_taker)).named("taker");
    taker.start()?;
    taker.join()?;
    let waited = Duration::from_micros(record.taker_waited_us.load(SeqCst));
    let holder_gone = procfs::stat(holder_pid).is_none();
    let waited = describe(waited);
    if record.taker_got_it.load(SeqCst) {
        note!(
            en: "The taker got the lock after {waited}: something released it.",
            zh: "taker 等了 {waited} 拿到了锁：有什么东西释放了它。",
        );
    } else {
        let holder_code = describe_exitcode(holder_code);
        let holder_now = if holder_gone {
            text!(
                en: "/proc/{holder_pid} is gone, yet",
                zh: "/proc/{holder_pid} 已经没有了，可是"
            )
        } else {
            text!(
                en: "/proc/{holder_pid} is still there, and",
                zh: "/proc/{holder_pid} 还在，而且"
            )
        };
        note!(
            en: "holder (pid {holder_pid}) took the lock and was terminated while holding it \
                 (exitcode {holder_code}). {holder_now} the semaphore still has \
                 {free_after_death} free permit(s): a semaphore is only a counter in shared \
                 memory, and the kernel does not know which process lowered it, so nothing \
                 raises it again. The taker waited {waited} and gave up; without a timeout it \
                 would wait forever, a deadlock (死锁), which is what the tutorial warns of.",
            zh: "holder（pid {holder_pid}）拿到了锁，并在持有它的时候被终止（exitcode \
                 {holder_code}）。{holder_now}信号量 (semaphore) 的空闲许可仍然是 \
                 {free_after_death} 个：信号量只是共享内存里的一个计数器，内核不知道是哪个进程\
                 把它减了一，所以没有谁会再把它加回去。taker 等了 {waited} 就放弃了；要是没有\
                 超时，它会永远等下去，这就是死锁 (deadlock)，也正是教程警告的情况。",
        );
    }
    // `lock` and `record` are unmapped here, as the last handles in this process are dropped
    // (the children's copies went with the children).
    Ok(())
}

/// The next taker of the semaphore: waits for it, but not for ever.
fn take_semaphore(lock: &Semaphore, record: &LockRecord) -> std::result::Result<(), SyncError> {
    let patience = context::scaled(LOCK_PATIENCE);
    say!(
        "taker: acquiring the lock (giving up after {})",
        describe(patience)
    );
    let began = Instant::now();
    // The timeout is a lesson duration: acquire_timeout scales it by --speed itself.
    let got_it = lock.acquire_timeout(LOCK_PATIENCE)?;
    let waited = began.elapsed();
    record.taker_got_it.store(got_it, SeqCst);
    record
        .taker_waited_us
        .store(waited.as_micros() as u64, SeqCst);
    if got_it {
        say!("taker: got the lock after {}", describe(waited));
        let _ = lock.release();
    } else {
        let holder = Pid::from_raw(record.holder_pid.load(SeqCst));
        let holder_is = if procfs::stat(holder).is_none() {
            "dead"
        } else {
            "living"
        };
        say!(
            "taker: gave up after {}: the lock is still held by {holder_is} pid {holder}",
            describe(waited)
        );
    }
    Ok(())
}

/// The same with `flock`: the kernel ties the lock to the holder's open file, and closes a
/// dying process's files, so the lock dies with its holder.
fn flock_released_at_death() -> Result<()> {
    let path = context::temp_dir().join(LOCK_FILE);
    let record = SharedMemory::new(LockRecord::default())?;
    let (path_in_holder, record_in_holder) = (path.clone(), record.clone());
    let mut holder = Process::new(move || -> std::io::Result<()> {
        // Held until the process ends: nothing in this child ever unlocks it.
        let _held = Flock::lock(open_lock_file(&path_in_holder)?, FlockArg::LockExclusive)
            .map_err(|(_, errno)| errno)?;
        record_in_holder.holder_pid.store(getpid().as_raw(), SeqCst);
        say!("flock-holder: I hold the flock on {LOCK_FILE}, working");
        sleep_until_signalled()
    })
    .named("flock-holder");
    let holder_pid = holder.start()?;
    poll_until("the flock holder has taken the lock", || {
        (record.holder_pid.load(SeqCst) == holder_pid.as_raw()).then_some(())
    })?;
    holder.terminate()?;
    let holder_code = holder.join()?;

    let (path_in_taker, record_in_taker) = (path.clone(), record.clone());
    let mut taker =
        Process::new(move || take_flock(&path_in_taker, &record_in_taker)).named("flock-taker");
    taker.start()?;
    taker.join()?;
    fs::remove_file(&path)?;

    let waited = describe(Duration::from_micros(record.taker_waited_us.load(SeqCst)));
    if record.taker_got_it.load(SeqCst) {
        note!(
            en: "flock-holder (pid {holder_pid}) was terminated holding an flock (exitcode \
                 {holder_code}), and the next taker got the lock after {waited}, out of a \
                 patience of {patience}. An flock belongs to an open file, and when a process \
                 dies the kernel closes its files: the lock went with its holder. {LOCK_FILE} is \
                 deleted again.",
            zh: "flock-holder（pid {holder_pid}）在持有 flock 时被终止（exitcode {holder_code}），\
                 下一个 taker 只等了 {waited} 就拿到了锁（它最多肯等 {patience}）。flock \
                 属于一个打开的文件，而进程死去时内核会关闭它的文件：锁随持有者一起走了。\
                 {LOCK_FILE} 也已经删掉了。",
            holder_code = describe_exitcode(holder_code),
            patience = describe(context::scaled(LOCK_PATIENCE)),
        );
    } else {
        note!(
            en: "The flock taker gave up after {waited}: the lock was still held.",
            zh: "flock 的 taker 等了 {waited} 就放弃了：锁仍被持有。",
        );
    }
    Ok(())
}

/// The next taker of the flock: tries without blocking until it has it or runs out of
/// patience (flock itself has no timeout).
fn take_flock(path: &Path, record: &LockRecord) -> std::io::Result<()> {
    let patience = context::scaled(LOCK_PATIENCE);
    say!(
        "flock-taker: taking the flock (giving up after {})",
        describe(patience)
    );
    let began = Instant::now();
    let mut file = open_lock_file(path)?;
    let held = loop {
        match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(held) => break Some(held),
            Err((_, Errno::EWOULDBLOCK)) if began.elapsed() >= patience => break None,
            Err((back, Errno::EWOULDBLOCK | Errno::EINTR)) => {
                file = back;
                std::thread::sleep(Duration::from_millis(1));
            }
            Err((_, errno)) => return Err(errno.into()),
        }
    };
    let waited = began.elapsed();
    record.taker_got_it.store(held.is_some(), SeqCst);
    record
        .taker_waited_us
        .store(waited.as_micros() as u64, SeqCst);
    match held {
        Some(held) => {
            say!("flock-taker: got the flock after {}", describe(waited));
            drop(held);
        }
        None => say!("flock-taker: gave up after {}", describe(waited)),
    }
    Ok(())
}

fn open_lock_file(path: &Path) -> std::io::Result<File> {
    File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
}

// ---------------------------------------------------------------------------------------------
// Small helpers.

/// The body of a child that is meant to be ended by a signal: `pause` sleeps until one comes,
/// and the default action of SIGTERM and SIGKILL ends the process there.
fn sleep_until_signalled() -> ! {
    loop {
        nix::unistd::pause();
    }
}

/// Asks `check` every few milliseconds until it has an answer, for at most
/// `kernel_patience()`. Used instead of sleeping "long enough": as quick as the machine
/// allows, and a clear error if the thing never happens.
fn poll_until<T>(what: &str, check: impl FnMut() -> Option<T>) -> Result<T> {
    let patience = kernel_patience();
    // `patience`: kernel_patience(), scaled.
    wait::poll_until(patience, check).ok_or_else(|| {
        Error::lesson(format!(
            "gave up waiting until {what} after {}",
            describe(patience)
        ))
    })
}

/// Records the time now (since the lesson started) in shared memory, in microseconds.
fn store_now(cell: &AtomicU64) {
    cell.store((context::elapsed() * 1e6) as u64, SeqCst);
}

fn seconds(cell: &AtomicU64) -> f64 {
    cell.load(SeqCst) as f64 / 1e6
}

/// An exitcode as Python prints it: `None`, `0`, `-15`.
fn python(exitcode: Option<i32>) -> String {
    exitcode.map_or("None".to_string(), |code| code.to_string())
}
