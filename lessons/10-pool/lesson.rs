//! Lesson 10: a process pool (进程池): a few workers, forked once, run many tasks.
//!
//! What the student sees: `Pool()` forks one worker per CPU; the same worker pids serve every
//! task (tasks per pid counted); `apply` blocks until its task is done, so ten of them run one
//! after another, while `apply_async` returns at once and the tasks overlap; `map` gives the
//! results in the order of the inputs however the tasks finish; a callback runs in the parent
//! (its pid shown); a task's error comes back at `get()` with its message; a closed pool
//! refuses new tasks ("Pool not running"); `join` waits for the workers to leave, `terminate`
//! ends them (-15). Then 1000 tiny tasks through the pool against 1000 processes, one per task,
//! timed in this run.
//!
//! System calls: `fork` (the workers, and the processes of the comparison), `pipe` (tasks to
//! the workers, results back), `sem_wait`/`sem_post` (one worker reads the task pipe at a
//! time), `poll`, `kill` (terminate), `waitpid`.

use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::time::{Duration, Instant};

use crate::lesson::prelude::*;
use nix::unistd::getpid;
use serde::{Deserialize, Serialize};

use crate::multiprocessing::pool::{self, Pool, PoolError, Tasks};

/// How long the tutorial's `work` takes (scaled by --speed: 50 ms at speed 20). Its
/// outcomes (`outcomes.rs`) count step 1's time in these.
pub const WORK_TIME: Duration = Duration::from_secs(1);
/// How many tasks in the comparison of step 4.
const TINY_TASKS: usize = 1000;

// ---------------------------------------------------------------------------------------------
// The tasks. Plain functions, registered in a `Tasks` table before the pool forks its
// workers: each worker has the table in its copy of memory, and a task travels as its name's
// number and its argument (as JSON), the way Python pickles a function by its name.

/// The tutorial's `work(n)`: says which process runs it, takes a while, returns n².
fn work(n: u64) -> std::result::Result<u64, String> {
    say!("{} run (task {n})", getpid());
    context::sleep(WORK_TIME);
    Ok(n * n)
}

/// A task that takes its own time, to finish out of order.
#[derive(Serialize, Deserialize)]
struct Sleepy {
    n: u64,
    sleep_ms: u64,
}

fn work_for(job: Sleepy) -> std::result::Result<u64, String> {
    let sleep = context::scaled(Duration::from_millis(job.sleep_ms));
    context::sleep(Duration::from_millis(job.sleep_ms));
    say!(
        "{} finished task {} after {}",
        getpid(),
        job.n,
        describe(sleep)
    );
    Ok(job.n * job.n)
}

/// A task that fails for one input, as a Python task raises an exception.
fn no_threes(n: u64) -> std::result::Result<u64, String> {
    if n == 3 {
        return Err(format!(
            "ValueError: no threes (task {n} in pid {})",
            getpid()
        ));
    }
    Ok(n * n)
}

/// A task that does almost nothing: what a pool saves is the cost of a process.
fn tiny(n: u64) -> std::result::Result<u64, String> {
    Ok(n + 1)
}

/// A pool error as the lesson's error.
fn failed(error: PoolError) -> Error {
    Error::System(error.to_string())
}

pub fn run(lab: &mut Lab) -> Result<()> {
    let mut tasks = Tasks::new();
    let work_task = tasks.register("work", work);
    let work_for_task = tasks.register("work_for", work_for);
    let no_threes_task = tasks.register("no_threes", no_threes);

    lab.step("Pool(): the same workers for every task")?;
    let pool = Pool::new(None, tasks).map_err(failed)?;
    let pids = pool.pids();
    let pid_list: Vec<String> = pids.iter().map(|p| p.to_string()).collect();
    note!(
        en: "Pool() with no number forks os.cpu_count() workers: this machine has {cpus} \
             CPU(s), so {workers} workers, pids {pid_list}. They were forked now, once, and wait \
             for tasks.",
        zh: "不带数字的 Pool() 会 fork 出 os.cpu_count() 个工作进程 (worker)：这台机器有 {cpus} \
             个 CPU，所以是 {workers} 个工作进程，pid 为 {pid_list}。它们是现在 fork 的，只 fork \
             这一次，然后等着领任务。",
        cpus = pool::cpu_count(),
        workers = pids.len(),
        pid_list = pid_list.join(", "),
    );
    let began = Instant::now();
    let mut squares = Vec::new();
    for n in 0..5 {
        squares.push(pool.apply(&work_task, n).map_err(failed)?);
    }
    let apply_took = began.elapsed();
    say!("apply: {squares:?}");
    let began = Instant::now();
    let pending: Vec<_> = (5..10)
        .map(|n| pool.apply_async(&work_task, n))
        .collect::<std::result::Result<_, _>>()
        .map_err(failed)?;
    let returned_after = began.elapsed();
    let mut squares = Vec::new();
    for result in &pending {
        squares.push(result.get().map_err(failed)?);
    }
    let async_took = began.elapsed();
    say!("apply_async + get: {squares:?}");
    note!(
        en: "Five apply() calls took {apply_took}: apply() sends one task and blocks until its \
             result is back, so they ran one after another (about {each} each) though {workers} \
             workers were there. Five apply_async() calls returned after {returned_after} in \
             all, each with an AsyncResult; the tasks ran side by side and the five get() calls \
             had all results after {async_took}.",
        zh: "五次 apply() 调用用了 {apply_took}：apply() 发出一个任务后就阻塞，直到结果回来，所以\
             尽管有 {workers} 个工作进程在等，它们还是一个接一个地执行（每个约 {each}）。五次 \
             apply_async() 调用一共只用 {returned_after} 就返回了，每次得到一个 AsyncResult；任务\
             并排执行，五次 get() 在 {async_took} 之后拿齐了所有结果。",
        apply_took = describe(apply_took),
        each = describe(context::scaled(WORK_TIME)),
        workers = pids.len(),
        returned_after = describe(returned_after),
        async_took = describe(async_took),
    );
    note!(
        en: "Tasks per worker so far: {per_pid}. Ten tasks, {workers} pids: the pool keeps its \
             workers and gives them task after task; nobody forks per task.",
        zh: "到目前为止每个工作进程执行的任务数：{per_pid}。十个任务，{workers} 个 pid：进程池留着\
             它的工作进程，一个任务接一个任务地交给它们；没有谁为每个任务 fork 一次。",
        per_pid = per_pid(&pool),
        workers = pids.len(),
    );

    lab.step("map() keeps the order; callbacks run in the parent")?;
    let jobs: Vec<Sleepy> = (0..6)
        .map(|n| Sleepy {
            n,
            sleep_ms: lab.rng().random_range(100..1500),
        })
        .collect();
    let sleeps: Vec<String> = jobs
        .iter()
        .map(|job| describe(context::scaled(Duration::from_millis(job.sleep_ms))))
        .collect();
    let squares = pool.map(&work_for_task, jobs).map_err(failed)?;
    say!("map: {squares:?}");
    let sleeps = sleeps.join(&text!(en: ", ", zh: "、"));
    note!(
        en: "The six tasks slept {sleeps} (from the seed), so they finished in another order \
             (see the workers' lines), yet map() returned the squares in the order of the \
             inputs: each result carries its task's number, and map() puts it in its place.",
        zh: "六个任务分别睡了 {sleeps}（由种子决定），所以它们完成的顺序是另一种（看工作进程打印\
             的行），但 map() 仍按输入的顺序返回平方数：每个结果都带着它的任务编号，map() 把它\
             放回原位。",
    );
    let parent = getpid();
    let seen_in = SharedMemory::new(AtomicU64::new(0))?;
    let in_callback = seen_in.clone();
    let result = pool
        .apply_async_with_callback(&work_task, 7, move |square| {
            say!("callback: got {square} in pid {}", getpid());
            in_callback.store(getpid().as_raw() as u64, SeqCst);
        })
        .map_err(failed)?;
    let square = result.get().map_err(failed)?;
    let callback_pid = seen_in.load(SeqCst);
    let ran_in = if callback_pid == parent.as_raw() as u64 {
        text!(
            en: "pid {callback_pid}, the main process itself",
            zh: "pid {callback_pid}，也就是主进程本身",
        )
    } else {
        text!(
            en: "pid {callback_pid}, which is not the main process ({parent})",
            zh: "pid {callback_pid}，它不是主进程（{parent}）",
        )
    };
    note!(
        en: "The task ran in a worker, but the callback ran in {ran_in}, with the result \
             {square}: a worker only sends the result back, and the parent calls the callback. \
             That is why the tutorial's crawler downloads pages in the pool and parses them in \
             a callback.",
        zh: "任务在工作进程里执行，回调 (callback) 执行的地方却是 {ran_in}；它拿到的结果是 \
             {square}。工作进程只把结果送回来，由父进程调用回调。所以教程里的爬虫在进程池里下载\
             网页，在回调里解析它们。",
    );

    lab.step("Errors come back at get(); close(), join(), terminate()")?;
    let results: Vec<_> = (1..=4)
        .map(|n| pool.apply_async(&no_threes_task, n))
        .collect::<std::result::Result<_, _>>()
        .map_err(failed)?;
    for (n, result) in (1..=4).zip(&results) {
        match result.get() {
            Ok(square) => say!("get() of task {n}: {square}"),
            Err(error) => say!("get() of task {n}: error: {error}"),
        }
    }
    note!(
        en: "Task 3 failed in its worker; the worker did not die (it went on to other tasks), \
             and the failure travelled back as a message, raised only when the main process \
             asked for that result with get(). A task nobody calls get() on fails in silence.",
        zh: "任务 3 在它的工作进程里失败了；工作进程并没有死（它接着去做别的任务），失败作为一条\
             消息传了回来，直到主进程用 get() 要这个结果时才抛出。没人对它调用 get() 的任务，\
             失败了也无声无息。",
    );
    pool.close().map_err(failed)?;
    match pool.apply_async(&work_task, 1) {
        Ok(_) => say!("apply_async() after close(): accepted?"),
        Err(error) => say!("apply_async() after close(): error: {error}"),
    }
    let began = Instant::now();
    pool.join().map_err(failed)?;
    let joined_after = began.elapsed();
    let gone = pids
        .iter()
        .filter(|&&pid| procfs::observe(pid).is_none())
        .count();
    note!(
        en: "close() lets the workers finish what was sent and then leave; a task after it is \
             refused with Python's ValueError \"Pool not running\". join() waited {joined_after} \
             for the {workers} workers and reaped them: {gone} of {workers} are gone from \
             /proc. Tasks per worker in all: {per_pid}.",
        zh: "close() 让工作进程做完已发来的任务后离开；之后再交任务会被拒绝，抛出 Python 的 \
             `ValueError: Pool not running`。join() 为 {workers} 个工作进程等了 {joined_after}，\
             并回收了它们：/proc 里 {workers} 个中已有 {gone} 个消失。每个工作进程一共执行的任务\
             数：{per_pid}。",
        joined_after = describe(joined_after),
        workers = pids.len(),
        per_pid = per_pid(&pool),
    );

    let mut tasks = Tasks::new();
    let work_task = tasks.register("work", work);
    let second = Pool::new(Some(2), tasks).map_err(failed)?;
    let unfinished = second.apply_async(&work_task, 99).map_err(failed)?;
    // Let the task begin, then end the pool under it.
    context::sleep(WORK_TIME / 2);
    second.terminate().map_err(failed)?;
    match unfinished.get() {
        Ok(square) => say!("get() after terminate(): {square}"),
        Err(error) => say!("get() after terminate(): error: {error}"),
    }
    note!(
        en: "terminate() does not wait: it sends SIGTERM to every worker (their exitcode -15 in \
             the reaped lines) and the task in progress is lost.",
        zh: "terminate() 不等待：它向每个工作进程发送 SIGTERM（回收那几行里它们的退出码是 \
             -15），正在执行的任务就丢了。",
    );
    drop(second);

    lab.step("1000 tiny tasks: a pool against a process per task")?;
    let mut tasks = Tasks::new();
    let tiny_task = tasks.register("tiny", tiny);
    let pool = Pool::new(None, tasks).map_err(failed)?;
    let began = Instant::now();
    let through_pool = pool.map(&tiny_task, 0..TINY_TASKS as u64).map_err(failed)?;
    let pool_took = began.elapsed();
    pool.close().map_err(failed)?;
    pool.join().map_err(failed)?;

    // The same work, one new process per task, each leaving its answer in shared memory.
    let answers = SharedMemory::new(Answers::default())?;
    let began = Instant::now();
    let mut children = Vec::with_capacity(TINY_TASKS);
    for n in 0..TINY_TASKS {
        let answers = answers.clone();
        children.push(pool::fork_unreported(move || {
            let answer = tiny(n as u64).unwrap_or(0);
            answers.0[n].store(answer, SeqCst);
        })?);
    }
    for child in children {
        pool::wait_unreported(child)?;
    }
    let per_process_took = began.elapsed();
    let same = (0..TINY_TASKS).all(|n| answers.0[n].load(SeqCst) == through_pool[n]);
    say!(
        en: "pool: {TINY_TASKS} tasks in {}; a process per task: {}",
        zh: "进程池：{TINY_TASKS} 个任务用了 {}；每个任务一个进程：{}",
        describe(pool_took),
        describe(per_process_took)
    );
    let ratio = per_process_took.as_secs_f64() / pool_took.as_secs_f64().max(1e-9);
    let agree = if same {
        text!(
            en: "Both gave the same {TINY_TASKS} answers.",
            zh: "两种做法给出的 {TINY_TASKS} 个答案完全相同。",
        )
    } else {
        text!(en: "The answers differ!", zh: "两种做法的答案不一样！")
    };
    note!(
        en: "{TINY_TASKS} tasks of adding one: through the pool's {workers} workers in \
             {pool_took} ({pool_each:.0} µs a task), with a new process per task in \
             {per_process_took} ({process_each:.0} µs a task): {ratio:.1} times as long. \
             {agree} The processes per task were bare fork + _exit + waitpid, reporting nothing \
             (the lab's Process would add four events each and bury this output): the cheapest \
             a process can be, and still the pool wins, because it pays for its processes once.",
        zh: "{TINY_TASKS} 个加一的任务：交给进程池的 {workers} 个工作进程，用了 {pool_took}（每个\
             任务 {pool_each:.0} µs）；每个任务新建一个进程，用了 {per_process_took}（每个任务 \
             {process_each:.0} µs）：是前者的 {ratio:.1} 倍。{agree}每个任务一个的那些进程只是光秃\
             秃的 fork + _exit + waitpid，什么都不报告（proclab 的 Process 每个还会多出四个事件，把\
             这里的输出淹没）：这已是进程最便宜的样子，进程池仍然赢了，因为它只为它的进程付一次\
             钱。",
        workers = pool.pids().len(),
        pool_took = describe(pool_took),
        pool_each = pool_took.as_secs_f64() * 1e6 / TINY_TASKS as f64,
        per_process_took = describe(per_process_took),
        process_each = per_process_took.as_secs_f64() * 1e6 / TINY_TASKS as f64,
    );
    cpython_tiny_tasks(ratio);
    Ok(())
}

/// Step 4's comparison in CPython (the step's own program, `proclab code 10`), run by python3
/// in this run after the lab's: its pool against its process per task, beside the lab's
/// `lab_ratio` (how many times as long a process per task took).
fn cpython_tiny_tasks(lab_ratio: f64) {
    let source = include_str!("code/step4.py");
    let printed = match crate::cpython::run_step("step4.py", source, Duration::from_secs(30)) {
        Ok(printed) => printed,
        Err(why) => {
            note!(en: "CPython: {why}.", zh: "CPython：{why}。");
            return;
        }
    };
    // "pool of 4: 200 tasks in 0.069 s", "a process each: 200 tasks in 1.779 s"
    let numbers = |prefix: &str| -> Vec<f64> {
        printed
            .after(prefix)
            .unwrap_or_default()
            .split([' ', ':'])
            .filter_map(|word| word.parse().ok())
            .collect()
    };
    let (pooled, forked) = (numbers("pool of "), numbers("a process each: "));
    let ([workers, tasks, pool_took, ..], [_, forked_took, ..]) = (&pooled[..], &forked[..]) else {
        note!(
            en: "CPython: step4.py printed no times ({lines}).",
            zh: "CPython：step4.py 没有打印时间（{lines}）。",
            lines = printed.lines.join(" / ")
        );
        return;
    };
    let (workers, tasks, pool_took, forked_took) = (*workers, *tasks, *pool_took, *forked_took);
    let version = &printed.version;
    say!(
        en: "CPython {version}: pool of {workers}: {tasks} tasks in {pool_took:.3} s; a process \
             per task: {forked_took:.3} s",
        zh: "CPython {version}：{workers} 个工作进程的进程池：{tasks} 个任务用了 {pool_took:.3} s；\
             每个任务一个进程：{forked_took:.3} s",
    );
    // CPython's own ratio, from its unrounded times (its pool's time is printed to 1 ms).
    let ratio = printed
        .number_after("a process each is ")
        .unwrap_or(forked_took / pool_took.max(1e-9));
    let winners = match (ratio > 1.0, lab_ratio > 1.0) {
        (true, true) => text!(
            en: "The pool wins in both",
            zh: "两边赢的都是进程池",
        ),
        (false, false) => text!(
            en: "A process per task wins in both",
            zh: "两边赢的都是每任务一进程",
        ),
        _ => text!(
            en: "A different way wins in each",
            zh: "两边赢的不是同一种做法",
        ),
    };
    let pool_each = pool_took * 1e6 / tasks.max(1.0);
    let fork_each = forked_took * 1e6 / tasks.max(1.0);
    note!(
        en: "And CPython {version}, on this machine in this run (code/step4.py, run untraced, \
             with {tasks} tasks, not a thousand): through its pool of {workers} in \
             {pool_took:.3} s ({pool_each:.0} µs a task), with a bare os.fork() per task in \
             {forked_took:.3} s ({fork_each:.0} µs a task): {ratio:.0} times as long, where \
             the lab's process per task took {lab_ratio:.1} times as long as its pool. \
             {winners}; by how much is each one's own cost of a process against its cost of a \
             task.",
        zh: "再看 CPython {version}，在这台机器上、这次运行里（code/step4.py，不经跟踪运行，\
             {tasks} 个任务而不是一千个）：交给它 {workers} 个工作进程的进程池用了 \
             {pool_took:.3} s（每个任务 {pool_each:.0} µs），每个任务一个光秃秃的 os.fork() 用了 \
             {forked_took:.3} s（每个任务 {fork_each:.0} µs）：是前者的 {ratio:.0} 倍；proclab \
             的每任务一进程是它的进程池的 {lab_ratio:.1} 倍。{winners}；赢多少，取决于各自一个\
             进程的开销和一个任务的开销之比。",
    );
}

process_shared! {
    /// Where each process of the comparison leaves its answer.
    struct Answers([AtomicU64; TINY_TASKS]);
}

impl Default for Answers {
    fn default() -> Answers {
        Answers(std::array::from_fn(|_| AtomicU64::new(0)))
    }
}

/// "pid 123: 5 tasks, pid 124: 5 tasks".
fn per_pid(pool: &Pool) -> String {
    let counts: Vec<String> = pool
        .tasks_per_worker()
        .iter()
        .map(|(pid, count)| text!(en: "pid {pid}: {count}", zh: "进程 {pid}：{count} 个"))
        .collect();
    counts.join(&text!(en: ", ", zh: "，"))
}
