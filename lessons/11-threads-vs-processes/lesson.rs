//! Lesson 11: threads against processes.
//!
//! What the student sees: the tutorial's two ways to start a thread (a target with arguments,
//! and the subclass style); threads share their process's pid and each has a thread id of its
//! own (from `gettid`, and listed in `/proc/<pid>/task/`), while each process has its own pid;
//! a global changed by a thread is changed for the whole process, while the same change in a
//! child process stays in the child (its memory is a copy-on-write copy); what creating a
//! thread and a process costs, measured here; daemon threads ending with their process; and
//! `current_thread()`, `enumerate()`, `active_count()`, and the misuse errors of `Thread`.
//!
//! Processes come first in every step that has both: a process with threads running may not
//! fork (`Process::start` refuses), because `fork` copies only the calling thread.
//!
//! System calls: `clone` (through `pthread_create`, in `Thread::start`), `gettid`,
//! `/proc/<pid>/task/` and `/proc/<pid>/task/<tid>/comm`, `fork` + `waitpid`, `_exit`.

use std::fs;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering::SeqCst};
use std::time::{Duration, Instant};

use nix::unistd::{Pid, getpid, gettid};

use crate::lesson::prelude::*;
use crate::measure;
use crate::multiprocessing::process::{Process, Worker};
use crate::threading::thread::Runnable;
use crate::threading::{Lock, Thread, active_count, current_thread, enumerate};

/// How long the tutorial's `sayhi` sleeps (scaled by --speed).
const SAYHI_SLEEP: Duration = Duration::from_secs(1);
/// Operations per repetition, and repetitions, when timing threads against processes.
const COST_OPERATIONS: usize = 100;
const COST_REPETITIONS: usize = 5;
/// Step 5's threads: the non-daemon worker's work, and the two daemons' sleeps.
const BAR_WORK: Duration = Duration::from_secs(1);
const FOO_SLEEP: Duration = Duration::from_millis(500);
const EGON_SLEEP: Duration = Duration::from_secs(2);
/// How long to wait for something that happens at once (a new thread running its first
/// line): not scaled; reaching it means something is wrong.
const AT_ONCE: Duration = Duration::from_secs(10);

pub fn run(lab: &mut Lab) -> Result<()> {
    lab.step("Two ways to start a thread")?;
    two_ways()?;
    lab.step("One pid, many thread ids")?;
    one_pid_many_tids()?;
    lab.step("A global: shared by threads, copied by processes")?;
    shared_or_copied()?;
    lab.step("What a thread costs, what a process costs")?;
    cost()?;
    lab.step("Daemon threads end with their process")?;
    daemon_threads()?;
    lab.step("current_thread(), enumerate(), active_count()")?;
    who_is_running()?;
    lab.step("Mistakes are errors")?;
    mistakes()
}

fn thread_error(error: crate::threading::ThreadError) -> Error {
    Error::lesson(error.to_string())
}

// ---------------------------------------------------------------------------------------------
// Step 1: the tutorial's two ways.

/// The first way's target, with its argument: the tutorial's `sayhi(num)`.
fn sayhi(num: u32) {
    say!("running on number:{num}");
    context::sleep(SAYHI_SLEEP);
}

/// The second way: the tutorial's `class MyThread(threading.Thread)` with its own `run`.
struct MyThread {
    num: u32,
}

impl Runnable for MyThread {
    fn run(&mut self) {
        say!("running on number:{}", self.num);
        context::sleep(SAYHI_SLEEP);
    }
}

fn two_ways() -> Result<()> {
    // `threading.Thread(target=sayhi, args=(1,))`: the closure carries the argument.
    let mut t1 = Thread::new(|| sayhi(1));
    // `MyThread(2)`: the subclass style, through the `Runnable` trait.
    let mut t2 = Thread::from_runnable(MyThread { num: 2 });
    let began = Instant::now();
    t1.start().map_err(thread_error)?;
    t2.start().map_err(thread_error)?;
    let start_took = began.elapsed();
    say!("{}", t1.name());
    say!("{}", t2.name());
    t1.join().map_err(thread_error)?;
    t2.join().map_err(thread_error)?;
    note!(
        en: "Both start() calls returned after {took} in all, and the main thread printed the \
             names ({first} and {second}) while the threads slept: start() creates the thread \
             (线程) and comes straight back, as Process.start() did in lesson 1. Every line \
             above carries the same pid, {pid}: threads live inside one process. The two styles \
             are the same thing: from_runnable(MyThread) wraps the object's run() as the target.",
        zh: "两次 start() 调用一共只用了 {took} 就返回了，线程还在睡眠时，主线程就打印出了它们的\
             名字（{first} 和 {second}）：start() 创建线程 (thread) 后立刻返回，和第 1 课的 \
             Process.start() 一样。上面每一行的 pid 都是同一个，{pid}：线程住在同一个进程里。两种\
             写法其实是一回事：from_runnable(MyThread) 把这个对象的 run() 包装成目标函数。",
        took = describe(start_took),
        first = t1.name(),
        second = t2.name(),
        pid = getpid(),
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Step 2: pids and thread ids.

/// The thread ids of process `pid`, each with the name the kernel keeps for it, from
/// `/proc/<pid>/task/`: one directory per thread.
fn tasks_of(pid: Pid) -> Vec<(i32, String)> {
    let mut tasks: Vec<(i32, String)> = fs::read_dir(format!("/proc/{pid}/task"))
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|entry| entry.file_name().to_str()?.parse().ok())
                .map(|tid: i32| {
                    let comm = fs::read_to_string(format!("/proc/{pid}/task/{tid}/comm"))
                        .unwrap_or_default();
                    (tid, comm.trim().to_string())
                })
                .collect()
        })
        .unwrap_or_default();
    tasks.sort();
    tasks
}

fn describe_tasks(tasks: &[(i32, String)]) -> String {
    let each: Vec<String> = tasks
        .iter()
        .map(|(tid, comm)| format!("{tid} ({comm})"))
        .collect();
    each.join(", ")
}

/// The processes of step 2: each says its pid and thread id, and what its `/proc/self/task`
/// holds.
struct Piao {
    name: &'static str,
}

impl Worker for Piao {
    fn run(&mut self) {
        let pid = getpid();
        let tasks = tasks_of(pid);
        say!(
            "{}: pid {pid}, thread id {}; /proc/{pid}/task holds {}",
            self.name,
            gettid(),
            describe_tasks(&tasks)
        );
    }

    fn name(&self) -> Option<String> {
        Some(self.name.to_string())
    }
}

fn one_pid_many_tids() -> Result<()> {
    let main_pid = getpid();
    // Processes first: this process may fork only while it has no thread running.
    let mut processes = [
        Process::from_worker(Piao { name: "alex" }),
        Process::from_worker(Piao { name: "wupeiqi" }),
    ];
    let mut pids = Vec::new();
    for process in &mut processes {
        pids.push(process.start()?);
    }
    for process in &mut processes {
        process.join()?;
    }

    // Then threads. They wait at a lock the main thread holds, so that all three are still
    // alive while the main thread reads /proc.
    let gate = Arc::new(Lock::new().named("gate"));
    gate.acquire();
    let mut threads: Vec<Thread> = ["t-alex", "t-wupeiqi", "t-yuanhao"]
        .into_iter()
        .map(|name| {
            let gate = gate.clone();
            Thread::new(move || {
                say!("{name}: pid {}, thread id {}", getpid(), gettid());
                let _passed = gate.hold();
            })
            .named(name)
        })
        .collect();
    for thread in &mut threads {
        thread.start().map_err(thread_error)?;
    }
    // Not scaled: a thread's start takes the kernel's time, not the lesson's.
    let native_ids: Vec<i32> = wait::poll_until(AT_ONCE, || {
        threads
            .iter()
            .map(Thread::native_id)
            .collect::<Option<Vec<i32>>>()
    })
    .ok_or_else(|| Error::lesson("the threads did not start running"))?;
    let tasks = tasks_of(main_pid);
    gate.release().map_err(|e| Error::lesson(e.to_string()))?;
    for thread in &mut threads {
        thread.join().map_err(thread_error)?;
    }

    let listed: Vec<i32> = tasks.iter().map(|(tid, _)| *tid).collect();
    let all_listed = native_ids.iter().all(|tid| listed.contains(tid));
    let mut distinct = native_ids.clone();
    distinct.push(main_pid.as_raw());
    distinct.sort();
    distinct.dedup();
    let ids: Vec<String> = native_ids.iter().map(i32::to_string).collect();
    let checked = if all_listed && distinct.len() == native_ids.len() + 1 {
        text!(
            en: "Every thread id is there, and no two are the same.",
            zh: "每个线程 id 都在里面，而且没有两个相同的。",
        )
    } else {
        text!(
            en: "Not every thread id is listed there, or two are the same: something is odd.",
            zh: "并非每个线程 id 都列在里面，或者有两个相同：有些不对劲。",
        )
    };
    let (first, second) = (pids[0], pids[1]);
    let (ids, listed_count, listed) = (ids.join(", "), tasks.len(), describe_tasks(&tasks));
    note!(
        en: "The two processes have pids {first} and {second}: each is a process of its own, and \
             its /proc/<pid>/task lists one thread, whose id is the pid. The three threads all \
             say pid {main_pid}, the main process's, and each has its own thread id (线程 id): \
             {ids} (Python's native_id, from gettid). /proc/{main_pid}/task, read while they \
             were alive, lists {listed_count}: {listed}. {checked} The main thread's id is the pid \
             itself: to the kernel, a process is a group of threads that share one memory and \
             one pid.",
        zh: "两个进程的 pid 是 {first} 和 {second}：各是一个独立的进程，它的 /proc/<pid>/task 里只\
             列着一个线程，线程 id 就是 pid。三个线程报出的 pid 都是 {main_pid}，即主进程的 pid，\
             而各有自己的线程 id (thread id)：{ids}（Python 的 native_id，来自 gettid）。趁它们还\
             活着读到的 /proc/{main_pid}/task 列出了 {listed_count} 个：{listed}。{checked}主线程\
             的 id 就是 pid 本身：在内核看来，一个进程就是共享同一块内存、同一个 pid 的一组线程。",
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Step 3: the tutorial's `n = 100` changed to 0 by a child process, then by a thread.

/// The tutorial's global `n`. An atomic, because Rust refuses a plain mutable global that two
/// threads could touch; the point here is not the race but whose memory it lives in.
static N: AtomicI32 = AtomicI32::new(100);

/// What the child process and the thread run: the tutorial's `work()` with `global n; n = 0`.
fn set_n_to_zero(who: &str) {
    N.store(0, SeqCst);
    say!(
        "{who}: n = {} (at address {:p})",
        N.load(SeqCst),
        std::ptr::addr_of!(N)
    );
}

fn shared_or_copied() -> Result<()> {
    N.store(100, SeqCst);
    let mut child = Process::new(|| set_n_to_zero("child process")).named("child");
    let child_pid = child.start()?;
    child.join()?;
    let after_process = N.load(SeqCst);
    say!(
        "main: n = {after_process} (at address {:p})",
        std::ptr::addr_of!(N)
    );

    let mut thread = Thread::new(|| set_n_to_zero("thread")).named("worker");
    thread.start().map_err(thread_error)?;
    thread.join().map_err(thread_error)?;
    let after_thread = N.load(SeqCst);
    say!(
        "main: n = {after_thread} (at address {:p})",
        std::ptr::addr_of!(N)
    );
    note!(
        en: "The child process (pid {child_pid}) set n to 0 and the main process still reads \
             {after_process}, at the very same address. fork gave the child a copy of the \
             parent's memory: the same virtual addresses, but the first write to a page makes \
             the kernel copy it for the writer (copy-on-write, 写时复制), so the child changed \
             its own copy. The thread set n to 0 and the main thread now reads {after_thread}: \
             threads share their process's memory (共享内存), so there is only one n. Sharing \
             needs no IPC, and it is also why threads need locks (lesson 13).",
        zh: "子进程（pid {child_pid}）把 n 设成了 0，主进程读到的仍是 {after_process}，而且就在同一\
             个地址。fork 给了子进程一份父进程内存的副本：虚拟地址相同，但对某一页的第一次写入会\
             让内核为写入者复制那一页（写时复制，copy-on-write），所以子进程改的是它自己的副本。\
             线程把 n 设成 0 之后，主线程读到的是 {after_thread}：线程共享它们所在进程的内存 \
             (shared memory)，n 只有一个。共享不需要进程间通信 (IPC)，也正因为共享，线程才需要锁\
             （第 13 课）。",
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Step 4: the cost of each, measured the way `proclab bench spawn` does.

fn cost() -> Result<()> {
    // `measure::bare_fork` forks: no thread may run in this process (they are all joined).
    if context::threads_not_joined() > 0 {
        return Err(Error::lesson("threads still running: cannot fork"));
    }
    let mut fork_micros = Vec::new();
    let mut fork_faults = Vec::new();
    let mut thread_micros = Vec::new();
    let mut thread_faults = Vec::new();
    // Interleaved repetitions, so that a busy moment of the machine hits both alike.
    for _ in 0..COST_REPETITIONS {
        let (micros, faults) = measure::time_per_op(COST_OPERATIONS, measure::bare_fork)?;
        fork_micros.push(micros);
        fork_faults.push(faults);
        let (micros, faults) = measure::time_per_op(COST_OPERATIONS, measure::spawn_thread)?;
        thread_micros.push(micros);
        thread_faults.push(faults);
    }
    let process = measure::median(&fork_micros);
    let thread = measure::median(&thread_micros);
    say!(
        en: "process (fork + _exit + waitpid): {process:.1} µs, {:.1} page faults each",
        zh: "进程（fork + _exit + waitpid）：{process:.1} µs，每个 {:.1} 次缺页",
        measure::median(&fork_faults)
    );
    say!(
        en: "thread (pthread_create + pthread_join): {thread:.1} µs, {:.1} page faults each",
        zh: "线程（pthread_create + pthread_join）：{thread:.1} µs，每个 {:.1} 次缺页",
        measure::median(&thread_faults)
    );
    let times = process / thread;
    note!(
        en: "Medians of {COST_REPETITIONS} repetitions of {COST_OPERATIONS} each, on this \
             machine now: a process costs {process:.0} µs and a thread {thread:.0} µs: the \
             thread is {times:.0} times cheaper. A new process needs its own memory map: the \
             kernel copies the parent's page tables, and every page either side writes \
             afterwards is copied (the page faults). A new thread needs only a stack and a task \
             in the same memory. These are bare forks and threads with no events, as in \
             `proclab bench spawn`, which also measures the lab's own Process.",
        zh: "{COST_REPETITIONS} 轮重复、每轮 {COST_OPERATIONS} 次的中位数，在这台机器上、此刻：一个\
             进程要 {process:.0} µs，一个线程要 {thread:.0} µs：线程便宜 {times:.0} 倍。新进程需要\
             自己的内存映射：内核复制父进程的页表，之后任何一方写入的每一页都要复制（就是那些缺页 \
             (page fault)）。新线程只需要在同一块内存里有一个栈和一个任务 (task)。这些都是不带事件\
             的裸 fork 和裸线程，和 `proclab bench spawn` 一样；后者还会测量 proclab 自己的 Process。",
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Step 5: daemon threads, in a child process of their own so that the lesson's main process
// can still fork afterwards (a daemon thread is never joined).

process_shared! {
    /// What the child of step 5 writes down for the main process.
    #[derive(Default)]
    struct DaemonRecord {
        egon_tid: AtomicI32,
        /// Set by the threads that finished their work.
        egon_said_hello: AtomicBool,
        foo_ended: AtomicBool,
        bar_ended: AtomicBool,
        /// Whether egon was alive when the child's main thread was done.
        egon_alive_at_main_end: AtomicBool,
        /// How many threads /proc listed for the child then.
        tasks_at_main_end: AtomicI32,
    }
}

fn daemon_threads() -> Result<()> {
    let record = SharedMemory::new(DaemonRecord::default())?;
    let in_child = record.clone();
    let mut child = Process::new(move || daemon_threads_in_child(&in_child)).named("daemons");
    let child_pid = child.start()?;
    child.join()?;
    let egon_tid = record.egon_tid.load(SeqCst);
    let gone = !std::path::Path::new(&format!("/proc/{child_pid}/task/{egon_tid}")).exists();
    let bar_did = if record.bar_ended.load(SeqCst) {
        text!(en: "it finished", zh: "它做完了")
    } else {
        text!(en: "it did not finish", zh: "它没有做完")
    };
    let foo_did = if record.foo_ended.load(SeqCst) {
        text!(
            en: "finished its work anyway, because bar kept the process alive long enough (the \
                 tutorial's puzzle)",
            zh: "还是做完了，因为非守护线程让进程活得够久（教程里的那道谜题）",
        )
    } else {
        text!(en: "did not finish", zh: "没有做完")
    };
    let egon_did = if record.egon_said_hello.load(SeqCst) {
        text!(en: "said hello anyway", zh: "还是打了招呼")
    } else {
        text!(en: "never said hello", zh: "始终没打成招呼")
    };
    let trace = if gone {
        text!(en: "/proc has no trace of it now.", zh: "/proc 里现在已没有它的踪影。")
    } else {
        text!(en: "/proc still lists it.", zh: "/proc 里还列着它。")
    };
    let threads_then = record.tasks_at_main_end.load(SeqCst);
    let egon_alive = if record.egon_alive_at_main_end.load(SeqCst) {
        text!(en: "true", zh: "还活着")
    } else {
        text!(en: "false", zh: "已经不在了")
    };
    note!(
        en: "When its main thread was done, process {child_pid} had {threads_then} threads in \
             /proc and egon (thread {egon_tid}) was alive: {egon_alive}. The process then waited \
             for its non-daemon thread bar ({bar_did}) and left with _exit, which ended every \
             thread it still had: foo, a daemon (守护线程) whose work was shorter than bar's, \
             {foo_did}; egon, a daemon with longer work, {egon_did}. {trace} A daemon thread is \
             not waited for; it simply dies with its process, in the middle of whatever it was \
             doing.",
        zh: "主线程做完时，进程 {child_pid} 在 /proc 里有 {threads_then} 个线程，egon（线程 \
             {egon_tid}）{egon_alive}。随后进程等它的非守护线程 bar（{bar_did}），再用 _exit 离开，\
             这结束了它剩下的所有线程：守护线程 foo 的工作比那个非守护线程短，它{foo_did}；工作更长\
             的守护线程 egon（线程 {egon_tid}）{egon_did}。{trace}守护线程不会被等待；它只是随进程\
             一起死去，不管手头的事做到了哪里。",
    );
    Ok(())
}

/// The child of step 5: the tutorial's two daemon examples at once.
fn daemon_threads_in_child(shared: &SharedMemory<DaemonRecord>) -> Result<()> {
    // The threads write into the shared record too. A `SharedMemory` handle stays in its own
    // thread; the memory it maps lives as long as this process, so one handle is kept for
    // good (leaked) and the threads get a plain `&'static` reference to the record.
    let record: &'static DaemonRecord = Box::leak(Box::new(shared.clone()));
    let in_egon = record;
    let mut egon = Thread::new(move || {
        in_egon.egon_tid.store(gettid().as_raw(), SeqCst);
        context::sleep(EGON_SLEEP);
        say!("egon say hello");
        in_egon.egon_said_hello.store(true, SeqCst);
    })
    .named("egon");
    egon.set_daemon(true).map_err(thread_error)?;
    let in_foo = record;
    let mut foo_thread = Thread::new(move || {
        say!("123");
        context::sleep(FOO_SLEEP);
        say!("end123");
        in_foo.foo_ended.store(true, SeqCst);
    })
    .named("foo");
    foo_thread.set_daemon(true).map_err(thread_error)?;
    let in_bar = record;
    let mut bar = Thread::new(move || {
        say!("456");
        context::sleep(BAR_WORK);
        say!("end456");
        in_bar.bar_ended.store(true, SeqCst);
    })
    .named("bar");
    for thread in [&mut egon, &mut foo_thread, &mut bar] {
        thread.start().map_err(thread_error)?;
    }
    // Not scaled: a thread's start takes the kernel's time, not the lesson's.
    wait::poll_until(AT_ONCE, || egon.native_id());
    say!("main-------");
    record.egon_alive_at_main_end.store(egon.is_alive(), SeqCst);
    record
        .tasks_at_main_end
        .store(tasks_of(getpid()).len() as i32, SeqCst);
    // Returning without joining: the way out joins bar (not a daemon), then `_exit`.
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Step 6: Python's introspection functions.

fn who_is_running() -> Result<()> {
    let me = current_thread();
    say!(
        "current_thread().name = {}, native_id = {}",
        me.name(),
        me.native_id().unwrap_or(0)
    );
    let gate = Arc::new(Lock::new().named("gate"));
    gate.acquire();
    let mut threads: Vec<Thread> = (0..3)
        .map(|i| {
            let gate = gate.clone();
            let thread = Thread::new(move || {
                let me = current_thread();
                say!(
                    "current_thread().name = {}, native_id = {}",
                    me.name(),
                    me.native_id().unwrap_or(0)
                );
                let _passed = gate.hold();
            });
            // Two keep Python's default names (Thread-N); the one between them gets its own,
            // and so draws no number.
            if i == 1 {
                thread.named("yuanhao")
            } else {
                thread
            }
        })
        .collect();
    for thread in &mut threads {
        thread.start().map_err(thread_error)?;
    }
    let names: Vec<String> = enumerate().iter().map(|t| t.name().to_string()).collect();
    let count = active_count();
    say!("enumerate() = [{}]", names.join(", "));
    say!("active_count() = {count}");
    gate.release().map_err(|e| Error::lesson(e.to_string()))?;
    for thread in &mut threads {
        thread.join().map_err(thread_error)?;
    }
    let after = active_count();
    say!("after join(): active_count() = {after}");
    let (main_name, pid, listed) = (me.name(), getpid(), names.len());
    let (first, named, second) = (threads[0].name(), threads[1].name(), threads[2].name());
    let drawn = |name: &str| -> u32 {
        name.trim_start_matches("Thread-")
            .split(' ')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    // Threads created without a name before these: the ones of step 4's timing among them.
    let before = drawn(first).saturating_sub(1);
    let timed = COST_OPERATIONS * COST_REPETITIONS;
    let counting = if drawn(second) == drawn(first) + 1 {
        text!(
            en: "{named}, created between them, drew no number",
            zh: "夹在中间创建的 {named} 有自己的名字，没有占用编号",
        )
    } else {
        text!(
            en: "{named} was created between them",
            zh: "{named} 是在它们之间创建的",
        )
    };
    note!(
        en: "In the main thread current_thread() is {main_name}: Python's name for the thread a \
             process starts with, whose id is the pid ({pid}). enumerate() lists every thread \
             alive, main first: {listed} here while the three waited, so active_count() was \
             {count}; once they were joined, {after}. A thread created without a name is \
             Thread-N, N counting this process's threads created without a name, as Python's \
             threading._counter() does: {first} and {second}; {counting}. {before} came before \
             them (step 4 timed {timed} threads).",
        zh: "在主线程里，current_thread() 是 {main_name}：这是 Python 给进程一开始就有的那个线程\
             起的名字，它的 id 就是 pid（{pid}）。enumerate() 列出所有活着的线程，主线程排第一：\
             三个线程等着的时候这里有 {listed} 个，所以 active_count() 是 {count}；它们被 join \
             之后是 {after}。创建时没有起名的线程叫 Thread-N，N 只数这个进程里没有起名的线程，\
             和 Python 的 threading._counter() 一样：{first} 和 {second}；{counting}。在它们之前\
             已经有 {before} 个（第 4 步计时创建了 {timed} 个线程）。",
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Step 7: misuse.

fn mistakes() -> Result<()> {
    let mut never_started = Thread::new(|| {});
    match never_started.join() {
        Err(error) => say!("join() before start(): error: {error}"),
        Ok(code) => say!("join() before start() returned {code}"),
    }
    let mut twice = Thread::new(|| {}).named("twice");
    twice.start().map_err(thread_error)?;
    match twice.start() {
        Err(error) => say!("start() a second time: error: {error}"),
        Ok(()) => say!("start() a second time succeeded"),
    }
    twice.join().map_err(thread_error)?;
    let mut itself = Thread::new(|| match current_thread().join() {
        Err(error) => say!("current_thread().join(): error: {error}"),
        Ok(code) => say!("current_thread().join() returned {code}"),
    })
    .named("itself");
    itself.start().map_err(thread_error)?;
    itself.join().map_err(thread_error)?;
    note!(
        en: "Three mistakes, three errors with Python's messages, returned as values: there is \
             no thread to wait for before start(); a thread runs once, so it can be started \
             once; and a thread that waited for its own end would wait forever.",
        zh: "三种误用，三个带着 Python 错误信息的错误，都作为值返回：start() 之前还没有线程可等；\
             线程只运行一次，所以只能启动一次；而等待自己结束的线程会永远等下去。",
    );
    Ok(())
}
