//! Lesson 1: three children from one function.
//!
//! What the student sees: the main process (主进程) forks three children that run the same
//! function with different arguments; `start()` returns at once, so the main process's own
//! line comes before any child is done; the three sleeps overlap, so the wall time is close to
//! the longest sleep, not their sum; `join()` waits for one child and reaps it;
//! `join(timeout)` returns when the time is up, with the child still alive.
//!
//! System calls: `fork` (in `Process::start`), `pidfd_open` + `poll` to watch the children end
//! without reaping them, `waitpid` (in `Process::join`), and `/proc/<pid>/stat` to confirm each
//! child's parent.

use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::time::{Duration, Instant};

use crate::lesson::prelude::*;
use crate::multiprocessing::process::{self, Process};

/// The target's arguments. A struct with named fields is Rust's keyword arguments: it plays
/// the part of the tutorial's `kwargs={'name': 'alex'}`.
struct WorkArgs {
    name: &'static str,
    sleep: Duration,
    /// Where the child writes down when it finished (microseconds on the lab's clock): the
    /// children run on across the step boundary, so the main process cannot time them by
    /// when it notices; they time themselves.
    finished_at: SharedMemory<AtomicU64>,
}

/// The target: what each child runs. It runs in the child's own process.
fn work(args: WorkArgs) {
    // "alex is working" is the tutorial's line; how long it sleeps is the lab's addition.
    say!(
        en: "{} is working (sleeping {})",
        zh: "{} is working（睡 {}）",
        args.name,
        stated(args.sleep)
    );
    context::sleep(args.sleep);
    args.finished_at
        .store((context::elapsed() * 1e6) as u64, SeqCst);
    say!("{} is done", args.name);
}

pub fn run(lab: &mut Lab) -> Result<()> {
    let main_pid = nix::unistd::getpid();
    let names = ["alex", "wupeiqi", "yuanhao"];

    lab.step("Three children from one function")?;
    // The parent draws the random sleeps (1 to 3 s, as in the tutorial) so that one seed
    // replays the same run; each child gets its own as an argument.
    let sleeps: Vec<Duration> = names
        .iter()
        .map(|_| Duration::from_secs(lab.rng().random_range(1..=3)))
        .collect();
    let finished_at: Vec<SharedMemory<AtomicU64>> = names
        .iter()
        .map(|_| SharedMemory::new(AtomicU64::new(0)))
        .collect::<std::result::Result<_, _>>()?;
    let mut children: Vec<Process> = names
        .iter()
        .zip(&sleeps)
        .zip(&finished_at)
        .map(|((&name, &sleep), finished_at)| {
            let finished_at = finished_at.clone();
            Process::new(move || {
                work(WorkArgs {
                    name,
                    sleep,
                    finished_at: finished_at.clone(),
                })
            })
            .named(name)
        })
        .collect();
    let started_at = Instant::now();
    let started_on_the_lab_clock = context::elapsed();
    let mut pids = Vec::new();
    for child in &mut children {
        pids.push(child.start()?);
    }
    let start_calls_took = started_at.elapsed();
    say!("主进程 / main process");
    let still_running = children.iter().filter(|c| c.is_alive()).count();
    note!(
        en: "The three start() calls returned after {took} in all: start() forks and comes \
             straight back, it does not wait for the child. When the main process printed its \
             line, {still_running} of the 3 children were still running.",
        zh: "三次 start() 调用一共只用了 {took} 就返回了：start() 执行 fork 后立刻返回，不等子进程 \
             (child process)。主进程打印它那一行时，3 个子进程中还有 {still_running} 个在运行。",
        took = describe(start_calls_took),
    );
    let mut parents_seen = Vec::new();
    for (child, &pid) in children.iter().zip(&pids) {
        if let Some(stat) = procfs::observe(pid) {
            let (name, ppid) = (child.name(), stat.ppid);
            parents_seen.push(text!(
                en: "{name} is pid {pid} with parent {ppid}",
                zh: "{name} 的 pid 是 {pid}，父进程是 {ppid}",
            ));
        }
    }
    let all_ours = children.iter().zip(&pids).all(|(child, &pid)| {
        procfs::stat(pid).is_some_and(|s| s.ppid == main_pid) || !child.is_alive()
    });
    let parents_seen = parents_seen.join(text!(en: "; ", zh: "；").as_str());
    let parents_verdict = if all_ours {
        text!(
            en: "Every parent pid is {main_pid}, the main process.",
            zh: "每个父进程 pid 都是 {main_pid}，即主进程。",
        )
    } else {
        text!(
            en: "Not every parent pid is the main process's: something re-parented a child.",
            zh: "并非每个父进程 pid 都是主进程的：有子进程被改换了父进程。",
        )
    };
    note!(
        en: "Read from /proc: {parents_seen}. {parents_verdict} Each child is a new process \
             (进程) with its own pid; its parent pid (父进程 id) is the process that forked it.",
        zh: "从 /proc 读到：{parents_seen}。{parents_verdict}每个子进程都是一个新的进程，有自己的 \
             pid；它的父进程 pid (parent pid) 就是 fork 出它的那个进程。",
    );

    lab.step("They run at the same time")?;
    // Python's `multiprocessing.connection.wait`: wake up as soon as any of the children
    // still running has ended, and wait for the rest (without reaping them). The children
    // started in step 1 and ran on while this step's prompt waited: the times below are the
    // ones each child wrote down as it finished, so a pause at the prompt is not in them.
    let mut ended: Vec<usize> = Vec::new();
    while ended.len() < children.len() {
        let running: Vec<usize> = (0..children.len()).filter(|i| !ended.contains(i)).collect();
        let watched: Vec<&Process> = running.iter().map(|&i| &children[i]).collect();
        for index in process::wait(&watched, Duration::from_secs(30)) {
            ended.push(running[index]);
        }
    }
    let finished: Vec<Duration> = finished_at
        .iter()
        .map(|at| {
            let at = at.load(SeqCst) as f64 / 1e6;
            Duration::from_secs_f64((at - started_on_the_lab_clock).max(0.0))
        })
        .collect();
    let mut finish_order: Vec<(usize, Duration)> = finished.iter().copied().enumerate().collect();
    finish_order.sort_by_key(|&(_, at)| at);
    let wall = finished.iter().copied().max().unwrap_or_default();
    let slept: Duration = sleeps.iter().map(|&s| context::scaled(s)).sum();
    let longest = sleeps
        .iter()
        .map(|&s| context::scaled(s))
        .max()
        .unwrap_or_default();
    let order: Vec<String> = finish_order
        .iter()
        .map(|(i, at)| {
            let (name, slept, ended) = (names[*i], stated(sleeps[*i]), describe(*at));
            text!(
                en: "{name} (slept {slept}, ended at {ended})",
                zh: "{name}（睡了 {slept}，在 {ended} 时结束）",
            )
        })
        .collect();
    let order = order.join(text!(en: ", ", zh: "，").as_str());
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let longest = describe(longest);
    let verdict = if wall < slept.mul_f64(0.9) {
        text!(
            en: "close to the longest sleep ({longest}), not the sum: the children's lives \
                 overlapped. That is concurrency (并发). Parallelism (并行), running at the same \
                 instant on different CPUs ({cpus} here), cannot be told from sleeps: a sleeping \
                 process uses no CPU at all.",
            zh: "接近最长的那次睡眠（{longest}），而不是总和：子进程的生命期相互重叠了。这就是\
                 并发 (concurrency)。并行 (parallelism) 指同一时刻在不同的 CPU 上运行（这台机器有 \
                 {cpus} 个），这从睡眠上看不出来：睡眠中的进程根本不占用 CPU。",
        )
    } else {
        text!(
            en: "about the sum: on this run the children did not overlap (a very busy machine?).",
            zh: "约等于总和：这次运行中子进程没有重叠（机器非常忙？）。",
        )
    };
    let (slept, wall) = (describe(slept), describe(wall));
    note!(
        en: "{slept} of sleeping done in {wall} of wall time, from the first start() to the last \
             child's end (each child wrote down when it ended): {verdict} They ended in this \
             order: {order}.",
        zh: "共 {slept} 的睡眠，只用了 {wall} 的墙钟时间 (wall time)，从第一次 start() 算到最后一个\
             子进程结束（每个子进程自己记下了结束的时刻）：{verdict}它们结束的顺序是：{order}。",
    );

    lab.step("join() waits for a child and reaps it")?;
    let mut joined = Vec::new();
    for (child, &pid) in children.iter_mut().zip(&pids) {
        let before = procfs::stat(pid).map(|s| s.state);
        let join_began = Instant::now();
        let code = child.join()?;
        let waited = join_began.elapsed();
        let gone = procfs::observe(pid).is_none();
        joined.push((child.name().to_string(), pid, before, waited, code, gone));
    }
    let all_zombies = joined.iter().all(|(_, _, before, ..)| *before == Some('Z'));
    let had_ended = if all_zombies {
        text!(
            en: "Here every child had already ended: each was a zombie (僵尸进程, state Z in \
                 /proc), dead but holding its exit status, until its join().",
            zh: "这里每个子进程都早已结束：在各自的 join() 之前，它们都是僵尸进程 (zombie \
                 process，/proc 里的状态为 Z)：已经死了，但还保留着退出状态。",
        )
    } else {
        text!(
            en: "Here not every child had ended yet: a join() on a running child waits.",
            zh: "这里并非每个子进程都已结束：对仍在运行的子进程调用 join() 会等待。",
        )
    };
    note!(
        en: "join() makes the caller wait until that child has ended, then collects its exit \
             status (退出码) with waitpid: it reaps (回收) the child, and the kernel forgets its \
             pid. {had_ended}",
        zh: "join() 让调用者一直等到那个子进程结束，再用 waitpid 取走它的退出状态 (exit \
             status)：这叫回收 (reap) 子进程，之后内核就把它的 pid 忘掉了。{had_ended}",
    );
    for (name, pid, before, waited, code, gone) in &joined {
        let was = match before {
            Some('Z') => text!(en: "was a zombie (Z)", zh: "原先是僵尸进程 (Z)"),
            Some(state) => text!(
                en: "was running (state {state})",
                zh: "原先还在运行（状态 {state}）",
            ),
            None => text!(en: "was not in /proc", zh: "原先就不在 /proc 里"),
        };
        let after = if *gone {
            text!(en: "reaped: gone from /proc", zh: "已回收：/proc 里已经没有它")
        } else {
            text!(en: "yet /proc still lists it", zh: "但 /proc 里仍列着它")
        };
        let waited = describe(*waited);
        note!(
            en: "{name} (pid {pid}) {was}; join() took {waited}, exitcode {code}, {after}.",
            zh: "{name}（pid {pid}）{was}；join() 用了 {waited}，exitcode 为 {code}，{after}。",
        );
    }
    let codes: Vec<String> = children
        .iter()
        .map(|c| {
            format!(
                "{} {}",
                c.name(),
                c.exitcode().map_or("none".into(), |c| c.to_string())
            )
        })
        .collect();
    let codes = codes.join(text!(en: ", ", zh: "，").as_str());
    say!("all children are done");
    note!(
        en: "All three are joined ({codes}). join() makes the *caller* wait for *that one* \
             child; the tutorial says it makes \"the main thread\" wait, which is only true \
             because here the caller happens to be the main process's only thread.",
        zh: "三个子进程都已 join（{codes}）。join() 让*调用者*等待*那一个*子进程；教程说它让\
             “主线程”等待，这只是因为这里的调用者恰好是主进程唯一的线程 (thread)，才说得通。",
    );

    lab.step("join(timeout) gives up; the child runs on")?;
    join_with_a_timeout()
}

/// Step 4, Python's `p.join(0.5)`: the wait ends when the time is up, whether or not the child
/// has; nothing says which, so the caller asks `is_alive()` or `exitcode` afterwards.
fn join_with_a_timeout() -> Result<()> {
    let patience = Duration::from_millis(500);
    let sleep = Duration::from_secs(2);
    let finished_at = SharedMemory::new(AtomicU64::new(0))?;
    let mut alex = Process::new(move || {
        work(WorkArgs {
            name: "alex",
            sleep,
            finished_at: finished_at.clone(),
        })
    })
    .named("alex");
    let pid = alex.start()?;
    let began = Instant::now();
    // `None`: the time ran out first. (Python's join returns None either way.)
    let ended_in_time = alex.join_timeout(patience)?;
    let waited = began.elapsed();
    let (alive, code) = (alex.is_alive(), alex.exitcode());
    say!(
        en: "join(timeout) returned after {}: is_alive() {alive}, exitcode {}",
        zh: "join(timeout) 等了 {} 后返回：is_alive() {alive}，exitcode {}",
        describe(waited),
        python(code)
    );
    let state = procfs::observe(pid).map_or('?', |stat| stat.state);
    let code = alex.join()?;
    let total = began.elapsed();
    say!(
        en: "join() returned after {}: is_alive() {}, exitcode {code}",
        zh: "join() 等了 {} 后返回：is_alive() {}，exitcode {code}",
        describe(total),
        alex.is_alive()
    );
    let (waited, patience) = (describe(waited), describe(context::scaled(patience)));
    let sleep = describe(context::scaled(sleep));
    let verdict = match ended_in_time {
        None => text!(
            en: "join(timeout) gave up after {waited} (timeout {patience}; alex sleeps {sleep}) \
                 and returned without an error: alex (pid {pid}) was still alive (state {state} \
                 in /proc), its exitcode still None",
            zh: "join(timeout) 等了 {waited} 就放弃了（timeout 为 {patience}；alex 要睡 {sleep}），\
                 并且没有报错就返回了：alex（pid {pid}）仍然活着（/proc 里的状态为 {state}），\
                 它的 exitcode 仍是 None",
        ),
        Some(code) => text!(
            en: "alex ended within the timeout (exitcode {code})",
            zh: "alex 在超时之前就结束了（exitcode {code}）",
        ),
    };
    let total = describe(total);
    note!(
        en: "{verdict}. A timeout is not an ending: only the join() without one, {total} after \
             the start, waited for the end and reaped alex (exitcode {code}). The tutorial lists \
             join([timeout]) but shows no example of it.",
        zh: "{verdict}。超时不等于结束：只有不带超时的那次 join()，在启动后 {total} 时，才真正等到 \
             alex 结束并回收了它（exitcode {code}）。教程列出了 join([timeout])，却没有给出它的\
             例子。",
    );
    Ok(())
}

/// An exitcode as Python prints it: `None`, `0`, `-15`.
fn python(exitcode: Option<i32>) -> String {
    exitcode.map_or("None".to_string(), |code| code.to_string())
}
