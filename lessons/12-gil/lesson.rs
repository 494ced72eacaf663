//! Lesson 12: the global interpreter lock (GIL), made visible.
//!
//! Rust has no GIL. This lesson builds a model of CPython's (`threading::Gil`, honestly a
//! model: a lock each "interpreter" thread must hold to run a slice of work, handed over every
//! switch interval and released around blocking calls) and measures, on this machine's cores
//! and in one run, the same CPU-bound work done by one thread and by N: N processes (each its
//! own interpreter, with its own GIL), N threads under one GIL, N threads without it. Then
//! I/O-bound threads, which overlap fine under the GIL.
//!
//! For graders: the first step says `cores=N` (the CPUs this process may run on), and every
//! measured run says one line `<what>: wall W ms, on a CPU C ms, waiting for a CPU R ms,
//! speed-up S×` (C and R summed over the workers, from `/proc/thread-self/schedstat`). With
//! one core no speed-up is possible, and the notes say so.
//!
//! System calls: `clone` and `fork` for the workers, `futex` (the GIL's condition variable,
//! with a timeout of one switch interval), `/proc/thread-self/schedstat`, `nanosleep`.

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::time::{Duration, Instant};

use crate::lesson::prelude::*;
use crate::multiprocessing::process::Process;
use crate::threading::{Gil, Thread, ThreadError};

/// One unit of CPU-bound work: what the interpreter does between two looks at the GIL's drop
/// request (CPython 3.11 looks at backward jumps and calls; a unit here is a few thousand
/// turns of the loop).
const UNIT: Duration = Duration::from_micros(50);
/// The whole CPU-bound job, on one thread, in switch intervals: 20 × 5 ms = 100 ms. The same
/// job is split between N workers. Under the GIL each handover is one `wait` and one `woke`
/// event, so the job's size also bounds how many there are (at most about 1 per interval).
const JOB_IN_SWITCH_INTERVALS: u32 = 20;
/// Most workers: more CPUs than this are not used (it keeps the events countable).
const MOST_WORKERS: usize = 4;
/// The I/O-bound job of step 5: each thread "reads" this many times, each read a sleep.
/// (`outcomes.rs` reads them too, to know how long one thread's reads take.)
pub(crate) const READS: u32 = 3;
pub(crate) const READ_TAKES: Duration = Duration::from_millis(500);

pub fn run(lab: &mut Lab) -> Result<()> {
    lab.step("The work, and this machine")?;
    let setup = setup();
    lab.step("N processes, N interpreters")?;
    processes(&setup)?;
    lab.step("N threads under one GIL")?;
    threads_under_the_gil(&setup)?;
    cpython_threads();
    lab.step("N threads without a GIL")?;
    threads_without_a_gil(&setup)?;
    lab.step("I/O-bound threads under the GIL")?;
    io_bound(&setup)
}

fn thread_error(error: ThreadError) -> Error {
    Error::lesson(error.to_string())
}

// ---------------------------------------------------------------------------------------------
// The work, and how it is measured.

/// CPU-bound work that the compiler cannot skip: the tutorial's countdown, `while n > 0: n -= 1`.
fn count_down(iterations: u64) -> u64 {
    let mut n = black_box(iterations);
    let mut steps = 0u64;
    while n > 0 {
        n = black_box(n - 1);
        steps += 1;
    }
    steps
}

/// What step 1 found out, for the other steps.
struct Setup {
    cores: usize,
    workers: usize,
    /// Iterations of `count_down` in one unit of work.
    unit: u64,
    /// Units in the whole job.
    job_units: u64,
    switch_interval: Duration,
}

fn setup() -> Setup {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers = cores.clamp(2, MOST_WORKERS);
    // How many iterations take one UNIT of CPU time here: time a growing countdown until it
    // has taken 5 ms of CPU (CPU time, not wall time, so that a busy machine, which makes the
    // wall time longer, does not make the units smaller).
    let mut iterations = 1_000u64;
    let unit = loop {
        let (cpu_before, _) = cpu_and_queue();
        count_down(iterations);
        let took = Duration::from_nanos(cpu_and_queue().0 - cpu_before);
        if took >= Duration::from_millis(5) {
            break (iterations as f64 * UNIT.as_secs_f64() / took.as_secs_f64()).max(1.0) as u64;
        }
        iterations *= 2;
    };
    let switch_interval = Gil::new().switch_interval();
    let job = switch_interval * JOB_IN_SWITCH_INTERVALS;
    let job_units = (job.as_secs_f64() / UNIT.as_secs_f64()) as u64;
    say!(
        en: "cores={cores}: CPUs this process may run on (Python: len(os.sched_getaffinity(0)))",
        zh: "cores={cores}：本进程可以使用的 CPU 个数（Python：len(os.sched_getaffinity(0))）",
    );
    say!(
        en: "switch interval: {} (Python: sys.getswitchinterval() = {})",
        zh: "切换间隔：{}（Python：sys.getswitchinterval() = {}）",
        describe(switch_interval),
        switch_interval.as_secs_f64()
    );
    let one_core = if cores < 2 {
        text!(
            en: ": with one core nothing can run in parallel, so no speed-up is possible at all",
            zh: "：只有一个核，什么都不可能并行，所以根本不可能有加速",
        )
    } else {
        String::new()
    };
    note!(
        en: "The job: a countdown (the tutorial's `while n > 0: n -= 1`) that takes about {job} \
             on one thread here, cut into {job_units} units of {unit_us} µs ({unit} iterations \
             each, measured just now). Between two units an interpreter thread looks whether \
             another thread asked for the GIL. Each step runs the job on one worker, then split \
             between {workers}, and compares: speed-up = one worker's wall time / {workers} \
             workers' wall time. This machine lets the lesson use {cores_here}{one_core}.",
        zh: "任务：一个倒数循环（教程里的 `while n > 0: n -= 1`），在这里单线程大约要 {job}，\
             切成 {job_units} 份，每份 {unit_us} µs（每份 {unit} 次迭代，刚刚测出）。解释器线程\
             每做完一份，就看一眼有没有别的线程在要 GIL。每一步先让一个工作者 (worker) 做完整个\
             任务，再分给 {workers} 个工作者，然后比较：加速比 (speed-up) = 一个工作者的墙钟时间 \
             / {workers} 个工作者的墙钟时间。这台机器允许本课使用 {cores_here}{one_core}。",
        job = describe(job),
        unit_us = UNIT.as_micros(),
        cores_here = cores_phrase(cores),
    );
    Setup {
        cores,
        workers,
        unit,
        job_units,
        switch_interval,
    }
}

/// Nanoseconds the calling thread has spent on a CPU, and waiting in a run queue for one (it
/// was ready to run, and every CPU was busy): the first two fields of its schedstat.
fn cpu_and_queue() -> (u64, u64) {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    let mut fields = text.split_whitespace().map(|f| f.parse().unwrap_or(0));
    (fields.next().unwrap_or(0), fields.next().unwrap_or(0))
}

process_shared! {
    /// A measured worker: its CPU time and its time waiting for a CPU, in nanoseconds.
    #[derive(Default)]
    struct WorkerSlot {
        cpu: AtomicU64,
        queued: AtomicU64,
    }
}

/// Runs `work` on the calling thread and records its CPU and run-queue time in `slot`.
fn measured(slot: &WorkerSlot, work: impl FnOnce()) {
    let (cpu_before, queued_before) = cpu_and_queue();
    work();
    let (cpu_after, queued_after) = cpu_and_queue();
    slot.cpu.store(cpu_after - cpu_before, SeqCst);
    slot.queued.store(queued_after - queued_before, SeqCst);
}

/// One measured run: the wall time from starting the workers to joining the last, and the
/// workers' CPU and queue times summed.
struct Measured {
    wall: Duration,
    cpu: Duration,
    queued: Duration,
}

fn sum(slots: &[WorkerSlot]) -> (Duration, Duration) {
    let cpu: u64 = slots.iter().map(|s| s.cpu.load(SeqCst)).sum();
    let queued: u64 = slots.iter().map(|s| s.queued.load(SeqCst)).sum();
    (Duration::from_nanos(cpu), Duration::from_nanos(queued))
}

fn report(what: &str, run: &Measured, one: &Measured) -> f64 {
    let speed_up = one.wall.as_secs_f64() / run.wall.as_secs_f64();
    // The outcomes read these lines (`wall`, `on a CPU`) in either language.
    say!(
        en: "{what}: wall {:.1} ms, on a CPU {:.1} ms, waiting for a CPU {:.1} ms, speed-up \
             {speed_up:.2}×",
        zh: "{what}：墙钟时间 {:.1} ms，在 CPU 上 {:.1} ms，等待 CPU {:.1} ms，加速比 \
             {speed_up:.2}×",
        run.wall.as_secs_f64() * 1e3,
        run.cpu.as_secs_f64() * 1e3,
        run.queued.as_secs_f64() * 1e3
    );
    speed_up
}

/// "1 core", "2 cores" (in Chinese "1 个核").
fn cores_phrase(cores: usize) -> String {
    if cores == 1 {
        text!(en: "1 core", zh: "1 个核")
    } else {
        text!(en: "{cores} cores", zh: "{cores} 个核")
    }
}

/// How long the workers waited for a CPU, for the notes, and for whom: with fewer cores than
/// workers they wait for each other (on one core, one runs while the other waits); with enough
/// cores, for a CPU another program had.
fn busy_remark(run: &Measured, setup: &Setup) -> String {
    let share = run.queued.as_secs_f64() / (run.cpu + run.queued).as_secs_f64().max(1e-9);
    if share <= 0.2 {
        return String::new();
    }
    let percent = format!("{:.0}", share * 100.0);
    if setup.cores < setup.workers {
        let (cores_here, workers) = (cores_phrase(setup.cores), setup.workers);
        text!(
            en: " The workers spent {percent}% of their time waiting for a CPU: {workers} \
                 workers on {cores_here} wait for each other, one running while the other \
                 waits.",
            zh: "工作者们有 {percent}% 的时间在等 CPU：{workers} 个工作者挤在 {cores_here}上，\
                 只能互相等，一个运行时另一个就在等。",
        )
    } else {
        text!(
            en: " The workers spent {percent}% of their time waiting for a CPU that another \
                 program had: this machine is busy, and the figures are less reliable than on a \
                 quiet one.",
            zh: "工作者们有 {percent}% 的时间在等别的程序占着的 CPU：这台机器很忙，这些数字不如\
                 在空闲的机器上可靠。",
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Step 2: processes, each with its own interpreter and so its own GIL. First, because the lab
// does not fork a process with threads running (POSIX allows it; the child may hang).

/// One "interpreter" doing `units` units of the job under its own GIL.
fn interpret(gil: &Gil, unit: u64, units: u64) {
    let mut running = gil.acquire();
    for _ in 0..units {
        count_down(unit);
        running.check();
    }
}

fn run_processes(setup: &Setup, workers: usize) -> Result<Measured> {
    let slots = SharedMemory::new(<[WorkerSlot; MOST_WORKERS]>::default())?;
    let units = setup.job_units / workers as u64;
    let unit = setup.unit;
    let began = Instant::now();
    let mut processes = Vec::new();
    for index in 0..workers {
        let slots = slots.clone();
        let mut process = Process::new(move || {
            // A new interpreter: its own GIL, which nobody else ever asks for.
            let gil = Gil::new();
            measured(&slots[index], || interpret(&gil, unit, units));
        })
        .named(&format!("interpreter-{}", index + 1));
        process.start()?;
        processes.push(process);
    }
    for process in &mut processes {
        process.join()?;
    }
    let wall = began.elapsed();
    let (cpu, queued) = sum(&slots[..workers]);
    Ok(Measured { wall, cpu, queued })
}

fn processes(setup: &Setup) -> Result<()> {
    let one = run_processes(setup, 1)?;
    report(&text!(en: "1 process", zh: "1 个进程"), &one, &one);
    let many = run_processes(setup, setup.workers)?;
    let workers = setup.workers;
    let speed_up = report(
        &text!(en: "{workers} processes", zh: "{workers} 个进程"),
        &many,
        &one,
    );
    let (cores, workers) = (setup.cores, setup.workers);
    let cores_here = cores_phrase(cores);
    let cpus_busy = many.cpu.as_secs_f64() / many.wall.as_secs_f64().max(1e-9);
    // What the figure says, read from this run: the sentence follows the measurement.
    let how_they_ran = if cores < workers {
        text!(
            en: "With {cores_here} for {workers} processes they take turns on the CPU: \
                 the job cannot go faster than on one worker, and a speed-up other than 1 is \
                 noise (together they kept {cpus_busy:.2} CPUs busy).",
            zh: "{workers} 个进程只有 {cores_here}，只能轮流使用 CPU：任务不可能比一个工作者\
                 更快，加速比偏离 1 只是噪声（它们合起来让 {cpus_busy:.2} 个 CPU 忙着）。",
        )
    } else if cpus_busy > 1.2 {
        text!(
            en: "Nobody else ever asks for a process's own GIL, so they ran side by side, each \
                 on a core of its own: together they kept {cpus_busy:.2} CPUs busy.",
            zh: "进程自己的 GIL 从来没有别人来要，所以它们并排运行，各占一个核：合起来让 \
                 {cpus_busy:.2} 个 CPU 忙着。",
        )
    } else {
        text!(
            en: "Nobody else asks for a process's own GIL, yet here they did not run side by \
                 side: together they kept only {cpus_busy:.2} CPUs busy, because other programs \
                 had the other cores.",
            zh: "进程自己的 GIL 没有别人来要，可这次它们并没有并排运行：合起来只让 \
                 {cpus_busy:.2} 个 CPU 忙着，因为别的核被别的程序占着。",
        )
    };
    note!(
        en: "{workers} processes, each its own interpreter with its own GIL, took {many_wall} \
             for the job, one process {one_wall}: a speed-up of {speed_up:.2}. {how_they_ran} \
             Processes are how CPython uses several cores for CPU-bound work (the tutorial's \
             advice, multiprocessing).{busy}",
        zh: "{workers} 个进程各是一个解释器、各有自己的 GIL，完成任务用了 {many_wall}，一个进程\
             用了 {one_wall}：加速比 {speed_up:.2}。{how_they_ran}CPython 正是靠进程在计算密集型 \
             (CPU-bound) 任务上用上多个核（教程的建议：multiprocessing）。{busy}",
        many_wall = describe(many.wall),
        one_wall = describe(one.wall),
        busy = busy_remark(&many, setup),
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Steps 3 and 4: threads, with and without the GIL.

fn run_threads(setup: &Setup, workers: usize, gil: Option<Arc<Gil>>) -> Result<Measured> {
    let slots: Arc<[WorkerSlot]> = (0..workers).map(|_| WorkerSlot::default()).collect();
    let units = setup.job_units / workers as u64;
    let unit = setup.unit;
    let began = Instant::now();
    let mut threads = Vec::new();
    for index in 0..workers {
        let (slots, gil) = (slots.clone(), gil.clone());
        let mut thread = Thread::new(move || {
            measured(&slots[index], || match &gil {
                Some(gil) => interpret(gil, unit, units),
                // Rust's own threads: the same work, no lock at all.
                None => {
                    for _ in 0..units {
                        count_down(unit);
                    }
                }
            })
        })
        .named(&format!("worker-{}", index + 1));
        thread.start().map_err(thread_error)?;
        threads.push(thread);
    }
    for thread in &mut threads {
        thread.join().map_err(thread_error)?;
    }
    let wall = began.elapsed();
    let (cpu, queued) = sum(&slots);
    Ok(Measured { wall, cpu, queued })
}

fn threads_under_the_gil(setup: &Setup) -> Result<()> {
    let one = run_threads(setup, 1, Some(Arc::new(Gil::new())))?;
    report(
        &text!(en: "1 thread with the GIL", zh: "1 个线程（有 GIL）"),
        &one,
        &one,
    );
    let gil = Arc::new(Gil::new());
    let many = run_threads(setup, setup.workers, Some(gil.clone()))?;
    let workers = setup.workers;
    let speed_up = report(
        &text!(en: "{workers} threads with the GIL", zh: "{workers} 个线程（有 GIL）"),
        &many,
        &one,
    );
    let cpus_busy = many.cpu.as_secs_f64() / many.wall.as_secs_f64();
    // Only the CPU time tells the truth on a busy machine: the one thread's run may have
    // waited for a CPU more than the N threads' did, and then the speed-up looks real. Which
    // of the two waited longer is read from this run, not assumed.
    let verdict = if speed_up < 1.3 {
        text!(en: "i.e. none", zh: "也就是没有加速")
    } else if one.queued > many.queued {
        text!(
            en: "which only looks like one: the one thread waited {one_queued} for a CPU that \
                 other programs had, the {workers} threads {many_queued}",
            zh: "这只是看起来像加速：那一个线程等别的程序让出 CPU 等了 {one_queued}，\
                 {workers} 个线程只等了 {many_queued}",
            one_queued = describe(one.queued),
            many_queued = describe(many.queued),
            workers = setup.workers,
        )
    } else {
        text!(
            en: "which does not come from running side by side (see how many CPUs they kept \
                 busy)",
            zh: "这不是并排运行带来的（看它们让几个 CPU 忙着）",
        )
    };
    note!(
        en: "{workers} threads under one GIL took {many_wall} for the job, one thread {one_wall}: \
             a speed-up of {speed_up:.2}, {verdict}. Together they kept {cpus_busy:.2} CPUs busy: \
             only the holder of the GIL computes, the others sleep until it is handed over. It \
             changed hands {switches} times (each a waiter asking after {interval} without a \
             switch, then the holder giving way at its next check), and a thread had to wait for \
             it {waits} times: each wait is one `wait` and one `woke` line on `gil` above, and one \
             ▒ stretch in the timeline, where the workers' lanes take turns. A waiter asks \
             only after a whole switch interval, so there is at most about one handover per \
             interval: {per_interval:.1} per interval of the {many_wall} here.{busy}",
        zh: "一个 GIL 下的 {workers} 个线程完成任务用了 {many_wall}，一个线程用了 {one_wall}：\
             加速比 {speed_up:.2}，{verdict}。它们合起来只让 {cpus_busy:.2} 个 CPU 忙着：只有\
             持有 GIL 的线程在计算，其余的都在睡，等着 GIL 交到自己手里。GIL 一共被强制交接了 \
             {switches} 次（每次都是等待者等了 {interval} 还没等到切换，于是提出请求，持有者在下一\
             次检查时让出），线程一共等了它 {waits} 次：每次等待就是上面 `gil` 上的一行 `wait` 和\
             一行 `woke`，也是时间线上的一段 ▒，在那里各个工作者的泳道轮流运行。等待者要等满一个\
             切换间隔才提出请求，所以每个间隔最多大约交接一次：这次的 {many_wall} 里，平均每个间隔 \
             {per_interval:.1} 次。{busy}",
        workers = setup.workers,
        many_wall = describe(many.wall),
        one_wall = describe(one.wall),
        switches = gil.forced_switches(),
        interval = describe(setup.switch_interval),
        waits = gil.waits(),
        per_interval = gil.forced_switches() as f64
            / (many.wall.as_secs_f64() / setup.switch_interval.as_secs_f64()).max(1e-9),
        busy = busy_remark(&many, setup),
    );
    Ok(())
}

/// Step 3's job in CPython (the step's own program, `proclab code 12`), run by python3 in
/// this run after the lab's threads: its threads under its real GIL, beside the model's.
fn cpython_threads() {
    let source = include_str!("code/step3.py");
    let limit = Duration::from_secs(30);
    let printed = match crate::cpython::run_step("step3.py", source, limit) {
        Ok(printed) => printed,
        Err(why) => {
            note!(en: "CPython: {why}.", zh: "CPython：{why}。");
            return;
        }
    };
    // "1 thread: 0.24 s; 2 threads: 0.17 s wall, 0.03 s of CPU: 0.2 CPUs busy"
    let line = printed.after("1 thread: ").unwrap_or_default();
    let numbers: Vec<f64> = line
        .split([' ', ';', ','])
        .filter_map(|word| word.parse().ok())
        .collect();
    let [one, threads, wall, cpu, ..] = numbers[..] else {
        note!(
            en: "CPython: step3.py printed no times ({lines}).",
            zh: "CPython：step3.py 没有打印时间（{lines}）。",
            lines = printed.lines.join(" / ")
        );
        return;
    };
    let version = &printed.version;
    let busy = cpu / wall.max(1e-9);
    // `outcomes.rs` reads `wall` and `on a CPU` here as in the lab's own lines.
    say!(
        en: "CPython {version}, {threads} threads under its GIL: wall {wall:.2} s (one thread \
             {one:.2} s), on a CPU {cpu:.2} s, {busy:.2} CPUs busy",
        zh: "CPython {version}，{threads} 个线程共用它的 GIL：墙钟时间 {wall:.2} s（一个线程 \
             {one:.2} s），在 CPU 上 {cpu:.2} s，{busy:.2} 个 CPU 在忙",
    );
    let speed_up = one / wall.max(1e-9);
    // Its threads time their own CPU: much less than the wall time means that other programs
    // had the CPUs, as the lab's own remark says of its workers.
    let busy_machine = match busy < 0.8 {
        true => text!(
            en: " Its threads were on a CPU only {busy:.2} of the wall time together: other \
                 programs had the CPUs, so these times say more about the machine than about \
                 the GIL.",
            zh: "它的线程合起来只有 {busy:.2} 的墙钟时间在 CPU 上：CPU 被别的程序占着，所以\
                 这些时间说明的更多是这台机器，而不是 GIL。",
        ),
        false => String::new(),
    };
    note!(
        en: "And CPython {version}, on this machine in this run (code/step3.py, the same \
             countdown in Python, run untraced): {threads} threads under its real GIL took \
             {wall:.2} s, one thread {one:.2} s, a speed-up of {speed_up:.2}, and kept \
             {busy:.2} CPUs busy together. Its GIL is the one the lab's models: one thread \
             computes at a time, whatever the cores. A prediction is judged against both runs.{busy_machine}",
        zh: "再看 CPython {version}，在这台机器上、这次运行里（code/step3.py，同样的倒数用 \
             Python 写，不经跟踪运行）：它真正的 GIL 下 {threads} 个线程用了 {wall:.2} s，一个\
             线程 {one:.2} s，加速比 {speed_up:.2}，合起来让 {busy:.2} 个 CPU 忙着。proclab 的 \
             GIL 模仿的就是它：不管有几个核，同一时刻只有一个线程在计算。预测会同时对照两次\
             运行来判。{busy_machine}",
    );
}

fn threads_without_a_gil(setup: &Setup) -> Result<()> {
    let one = run_threads(setup, 1, None)?;
    report(
        &text!(en: "1 thread without a GIL", zh: "1 个线程（没有 GIL）"),
        &one,
        &one,
    );
    let many = run_threads(setup, setup.workers, None)?;
    let workers = setup.workers;
    let speed_up = report(
        &text!(en: "{workers} threads without a GIL", zh: "{workers} 个线程（没有 GIL）"),
        &many,
        &one,
    );
    let cpus_busy = many.cpu.as_secs_f64() / many.wall.as_secs_f64();
    note!(
        en: "The same {workers} threads with no GIL: {many_wall} against {one_wall} for one \
             thread, a speed-up of {speed_up:.2}, with {cpus_busy:.2} CPUs busy on average \
             ({cores_here} here). Threads of one process run in parallel (并行) as well as \
             processes do when nothing makes them take turns: that is the whole difference, and \
             what CPython 3.13's free-threaded build offers (see the notes).{busy}",
        zh: "同样的 {workers} 个线程，没有 GIL：{many_wall}，一个线程是 {one_wall}，加速比 \
             {speed_up:.2}，平均有 {cpus_busy:.2} 个 CPU 在忙（这里有 {cores_here}）。只要没有\
             东西逼它们轮流，同一个进程的线程也能像进程一样并行 (parallel) 运行：区别仅此而已，\
             这也正是 CPython 3.13 的自由线程 (free-threaded) 版本提供的（见课程笔记）。{busy}",
        workers = setup.workers,
        many_wall = describe(many.wall),
        one_wall = describe(one.wall),
        cores_here = cores_phrase(setup.cores),
        busy = busy_remark(&many, setup),
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Step 5: I/O-bound threads.

/// An I/O-bound interpreter thread: a little work, then a blocking read (a sleep), READS times.
/// With `release`, the GIL is released around the read as CPython does; without, it is held
/// (what a C extension that forgot `Py_BEGIN_ALLOW_THREADS` does).
fn read_a_few_times(gil: &Gil, unit: u64, release: bool) {
    let mut running = gil.acquire();
    for _ in 0..READS {
        count_down(unit);
        running.check();
        if release {
            running.allow_threads(|| context::sleep(READ_TAKES));
        } else {
            context::sleep(READ_TAKES);
        }
    }
}

fn run_readers(setup: &Setup, release: bool) -> Result<Duration> {
    let gil = Arc::new(Gil::new());
    let began = Instant::now();
    let mut threads = Vec::new();
    for index in 0..setup.workers {
        let gil = gil.clone();
        let unit = setup.unit;
        let mut thread = Thread::new(move || read_a_few_times(&gil, unit, release))
            .named(&format!("reader-{}", index + 1));
        thread.start().map_err(thread_error)?;
        threads.push(thread);
    }
    for thread in &mut threads {
        thread.join().map_err(thread_error)?;
    }
    Ok(began.elapsed())
}

fn io_bound(setup: &Setup) -> Result<()> {
    let reads_alone = context::scaled(READ_TAKES) * READS;
    let released = run_readers(setup, true)?;
    say!(
        en: "{} threads, {READS} reads each, GIL released while reading: wall {:.1} ms",
        zh: "{} 个线程，每个读 {READS} 次，读的时候释放 GIL：墙钟时间 {:.1} ms",
        setup.workers,
        released.as_secs_f64() * 1e3
    );
    let held = run_readers(setup, false)?;
    say!(
        en: "{} threads, {READS} reads each, GIL held while reading: wall {:.1} ms",
        zh: "{} 个线程，每个读 {READS} 次，读的时候不释放 GIL：墙钟时间 {:.1} ms",
        setup.workers,
        held.as_secs_f64() * 1e3
    );
    note!(
        en: "Each thread's reads take {alone} in all. With the GIL released around each read, as \
             CPython does around every blocking call, {workers} threads took {released}: close to \
             one thread's share, their waits overlapped, so threads do help I/O-bound programs (a \
             server waiting on sockets). Holding the GIL while blocked serialises them: {held}, \
             about {times} times one thread's. The GIL costs CPU-bound threads their \
             parallelism, not I/O-bound ones.",
        zh: "每个线程的几次读一共要 {alone}。像 CPython 在每个阻塞调用前后那样，每次读时都释放 \
             GIL，{workers} 个线程用了 {released}：接近一个线程的用时，它们的等待互相重叠了，所以\
             线程确实能帮到 I/O 密集型 (I/O-bound) 程序（比如等待套接字的服务器）。阻塞时还抱着 \
             GIL，就只能一个接一个：{held}，约为一个线程的 {times} 倍。GIL 让计算密集型线程失去\
             并行，I/O 密集型线程却不受影响。",
        alone = describe(reads_alone),
        workers = setup.workers,
        released = describe(released),
        held = describe(held),
        times = (held.as_secs_f64() / reads_alone.as_secs_f64()).round(),
    );
    Ok(())
}
