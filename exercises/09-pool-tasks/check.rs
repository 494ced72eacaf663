//! Exercise 9's judge: a thousand tiny tasks in a few worker processes, about as fast as the
//! lab's own solution. Judged from the trace: the processes are the forks the kernel reported;
//! a task is its 2 ms sleep, seen as a `clock_nanosleep` in the process that ran it (Python
//! 3.11 sleeps until a deadline, so the time the tracer reads as asked is 2 ms or a little less:
//! every sleep counts);
//! the time is the program's life, from its first process's fork to its end. The yardstick is
//! the lab's solution (`solution.py`), run in the same check, on the same machine, the same
//! way, just before: no fixed number of seconds, which a slower machine would miss.

use crate::exercise::prelude::*;

const TASKS: usize = 1000;
/// Python's helpers and a few spare, beyond one worker per CPU.
const SPARE_PROCESSES: usize = 3;
/// How much slower than the lab's solution a program may be.
const SLOWER_AT_MOST: f64 = 2.0;
/// And a margin for a busy machine, in seconds.
const MARGIN_S: f64 = 0.5;

/// The lab's own solution, run beside the student's as the yardstick.
const REFERENCE: &str = include_str!("solution.py");

pub fn check(judge: &mut Judge) -> Result<Verdict> {
    let cpus = cpu_count();
    let allowed = cpus + SPARE_PROCESSES;
    let run = judge.run(scenario(allowed))?;
    let workers = run.workers();
    let n = workers.len();
    if n > allowed {
        let (first, last) = (workers[0].spawned, workers[n - 1].spawned);
        let stopped = match run.ending {
            Ending::StoppedByLab => text!(en: " when the lab stopped it", zh: "，实验室把它停下了"),
            _ => String::new(),
        };
        return Ok(Verdict::fail(text!(
            en: "the program had started {n} processes from {first:.2} s to {last:.2} s{stopped}; \
                 {cpus} CPUs need no more than {allowed}: a few workers that each take many tasks",
            zh: "程序从 {first:.2} 秒到 {last:.2} 秒启动了 {n} 个进程{stopped}；\
                 {cpus} 个 CPU 最多只需要 {allowed} 个：少数几个工作进程，每个做很多任务",
        ))
        .hint(2)
        .shown_in_step(4));
    }
    if let Some(stopped) = run.stopped(1, 4) {
        return Ok(stopped);
    }
    if let Some(failed) = run.failed(2, 4) {
        return Ok(failed);
    }
    let (main_tasks, in_workers) = tasks(&run);
    if main_tasks > 0 || in_workers != TASKS {
        return Ok(Verdict::fail(text!(
            en: "the lab saw {in_workers} of the {TASKS} tasks' 2 ms sleeps in worker processes \
                 and {main_tasks} in the main process: every task runs in a worker, once",
            zh: "实验室看到 {TASKS} 个任务的 2 毫秒睡眠里，{in_workers} 个在工作进程里，\
                 {main_tasks} 个在主进程里：每个任务都要在工作进程里跑一次",
        ))
        .hint(2)
        .shown_in_step(4));
    }
    let mut took = life_of_program(&run);
    // The yardstick: the lab's solution, the same way, now.
    let reference = judge.scratch()?.join("reference.py");
    std::fs::write(&reference, REFERENCE)?;
    let command =
        crate::trace::Command::new(&["python3".to_string(), reference.display().to_string()])?;
    let mut lab = Judge::new(command, judge.limits());
    let Some(mut reference_took) = yardstick(&mut lab)? else {
        return Ok(interrupted());
    };
    let mut limit = reference_took * SLOWER_AT_MOST + MARGIN_S;
    // Too slow once may be the machine's doing (another program's burst during one run and not
    // the other): both are run again, the other way round, and each keeps its better time.
    let mut best_of_two = String::new();
    if took > limit {
        let Some(again) = yardstick(&mut lab)? else {
            return Ok(interrupted());
        };
        let rerun = judge.run(scenario(allowed))?;
        if let Ending::Interrupted(_) = rerun.ending {
            return Ok(interrupted());
        }
        if rerun.ending == Ending::Exited(0) && rerun.workers().len() <= allowed {
            took = took.min(life_of_program(&rerun));
        }
        reference_took = reference_took.min(again);
        limit = reference_took * SLOWER_AT_MOST + MARGIN_S;
        best_of_two = text!(en: " (the better of two runs each)", zh: "（各跑两次取较好的一次）");
    }
    let shares: Vec<String> = workers
        .iter()
        .map(|w| {
            let share = run
                .waits
                .iter()
                .filter(|s| s.pid == w.pid && s.on == "sleep")
                .count();
            format!("{} ({}) {share}", w.name, w.pid)
        })
        .collect();
    let shares = list_of(&shares);
    if took > limit {
        return Ok(Verdict::fail(text!(
            en: "{n} processes ran the {TASKS} tasks ({shares}), but it took {took:.2} s; the lab's \
                 solution took {reference_took:.2} s just now{best_of_two}, and {limit:.2} s is \
                 allowed ({SLOWER_AT_MOST} times that, and {MARGIN_S} s)",
            zh: "{n} 个进程跑完了 {TASKS} 个任务（{shares}），但用了 {took:.2} 秒；实验室的解法\
                 刚才用了 {reference_took:.2} 秒{best_of_two}，允许 {limit:.2} 秒（它的 {SLOWER_AT_MOST} 倍再加 \
                 {MARGIN_S} 秒）",
        ))
        .hint(3)
        .shown_in_step(4));
    }
    Ok(Verdict::pass(text!(
        en: "{n} worker processes ran the {TASKS} tasks, each task's 2 ms sleep in a worker \
             ({shares}), in {took:.2} s; the lab's solution took {reference_took:.2} s just now \
             ({limit:.2} s allowed)",
        zh: "{n} 个工作进程跑完了 {TASKS} 个任务，每个任务的 2 毫秒睡眠都在工作进程里（{shares}），\
             用了 {took:.2} 秒；实验室的解法刚才用了 {reference_took:.2} 秒（允许 {limit:.2} 秒）",
    )))
}

/// The run: the lab stops a program as soon as it has started more processes than `allowed`,
/// rather than wait for a process per task to get through its thousand.
fn scenario(allowed: usize) -> Scenario {
    Scenario::new()
        .driver(move |live| {
            while !live.time_left().is_zero() {
                let so_far = Evidence::from_events(live.events(), Ending::StoppedByLab);
                if so_far.workers().len() > allowed {
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        })
        .stop_when_driven()
}

/// How long the lab's solution takes, run now; `None` when the check was interrupted.
fn yardstick(lab: &mut Judge) -> Result<Option<f64>> {
    let run = lab.run(Scenario::new())?;
    Ok(match run.ending {
        Ending::Interrupted(_) => None,
        _ => Some(life_of_program(&run)),
    })
}

fn interrupted() -> Verdict {
    Verdict::fail(text!(en: "the check was interrupted", zh: "检查被中断"))
}

/// The tasks' sleeps in the main process, and in the others.
fn tasks(run: &Evidence) -> (usize, usize) {
    let main = run.program().map_or(0, |p| p.pid);
    let sleeps = run.waits.iter().filter(|w| w.on == "sleep");
    let (in_main, in_workers): (Vec<&WaitSpan>, Vec<&WaitSpan>) =
        sleeps.partition(|w| w.pid == main);
    (in_main.len(), in_workers.len())
}

/// From the program's first fork to its first process's end.
fn life_of_program(run: &Evidence) -> f64 {
    run.program().map_or(run.last, |p| {
        p.ended.map_or(run.last, |(t, _)| t) - p.spawned
    })
}

/// The CPUs Python's `Pool()` counts (`os.cpu_count()`: those online), or the ones this
/// process may use if that is more.
fn cpu_count() -> usize {
    // SAFETY: sysconf reads a value and has no other effect.
    let online = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    let usable = std::thread::available_parallelism().map_or(1, |n| n.get());
    usable.max(usize::try_from(online).unwrap_or(1))
}
