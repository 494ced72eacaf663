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

use nix::unistd::getpid;
use rand::RngExt;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::lab::{Lab, describe};
use crate::multiprocessing::pool::{self, Pool, PoolError, Tasks};
use crate::multiprocessing::shared::SharedMemory;
use crate::runtime::{context, procfs};
use crate::view::lang::Text;
use crate::{note, say};

pub const TITLE: Text = Text {
    en: "A pool of worker processes",
    zh: "进程池",
};
pub const TEACHES: Text = Text {
    en: "Pool(n): workers reused, apply vs apply_async, map keeps order, callbacks, errors at get(), close/join/terminate, pool vs process per task",
    zh: "Pool(n)：进程复用、apply 与 apply_async、map 保持顺序、回调、错误在 get() 时抛出、close/join/terminate、进程池与每任务一进程",
};
pub const NOTES: Text = Text {
    en: include_str!("notes.md"),
    zh: "",
};

/// How long the tutorial's `work` takes (scaled by --speed: 50 ms at speed 20).
const WORK_TIME: Duration = Duration::from_secs(1);
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
    std::thread::sleep(sleep);
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
        "Pool() with no number forks os.cpu_count() workers: this machine has {} CPU(s), so \
         {} workers, pids {}. They were forked now, once, and wait for tasks.",
        pool::cpu_count(),
        pids.len(),
        pid_list.join(", ")
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
        "Five apply() calls took {}: apply() sends one task and blocks until its result is \
         back, so they ran one after another (about {} each) though {} workers were there. \
         Five apply_async() calls returned after {} in all, each with an AsyncResult; the \
         tasks ran side by side and the five get() calls had all results after {}.",
        describe(apply_took),
        describe(context::scaled(WORK_TIME)),
        pids.len(),
        describe(returned_after),
        describe(async_took)
    );
    note!(
        "Tasks per worker so far: {}. Ten tasks, {} pids: the pool keeps its workers and gives \
         them task after task; nobody forks per task.",
        per_pid(&pool),
        pids.len()
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
    note!(
        "The six tasks slept {} (from the seed), so they finished in another order (see the \
         workers' lines), yet map() returned the squares in the order of the inputs: each \
         result carries its task's number, and map() puts it in its place.",
        sleeps.join(", ")
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
        format!("pid {callback_pid}, the main process itself")
    } else {
        format!("pid {callback_pid}, which is not the main process ({parent})")
    };
    note!(
        "The task ran in a worker, but the callback ran in {ran_in}, with the result {square}: \
         a worker only sends the result back, and the parent calls the callback. That is why \
         the tutorial's crawler downloads pages in the pool and parses them in a callback."
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
        "Task 3 failed in its worker; the worker did not die (it went on to other tasks), and \
         the failure travelled back as a message, raised only when the main process asked \
         for that result with get(). A task nobody calls get() on fails in silence."
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
        "close() lets the workers finish what was sent and then leave; a task after it is \
         refused with Python's ValueError \"Pool not running\". join() waited {} for the {} \
         workers and reaped them: {gone} of {} are gone from /proc. Tasks per worker in all: {}.",
        describe(joined_after),
        pids.len(),
        pids.len(),
        per_pid(&pool)
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
        "terminate() does not wait: it sends SIGTERM to every worker (their exitcode -15 in \
         the reaped lines) and the task in progress is lost."
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
        "pool: {TINY_TASKS} tasks in {}; a process per task: {}",
        describe(pool_took),
        describe(per_process_took)
    );
    let ratio = per_process_took.as_secs_f64() / pool_took.as_secs_f64().max(1e-9);
    note!(
        "{TINY_TASKS} tasks of adding one: through the pool's {} workers in {} ({:.0} µs a \
         task), with a new process per task in {} ({:.0} µs a task): {ratio:.1} times as long. \
         {} The processes per task were bare fork + _exit + waitpid, reporting nothing (the \
         lab's Process would add four events each and bury this output): the cheapest a \
         process can be, and still the pool wins, because it pays for its processes once.",
        pool.pids().len(),
        describe(pool_took),
        pool_took.as_secs_f64() * 1e6 / TINY_TASKS as f64,
        describe(per_process_took),
        per_process_took.as_secs_f64() * 1e6 / TINY_TASKS as f64,
        if same {
            "Both gave the same 1000 answers."
        } else {
            "The answers differ!"
        }
    );
    Ok(())
}

/// Where each process of the comparison leaves its answer.
struct Answers([AtomicU64; TINY_TASKS]);

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
        .map(|(pid, count)| format!("pid {pid}: {count}"))
        .collect();
    counts.join(", ")
}
