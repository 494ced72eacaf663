//! Lesson 8: shared data (共享数据): numbers in shared memory, and a Manager's dict.
//!
//! What the student sees: ten processes each add one to a shared `Value` a thousand times, and
//! the total comes out short: updates were lost, because reading and writing are two steps.
//! With `get_lock()` held around the two, it is exactly 10000. The race repeated twenty times
//! shows how often it loses. Then a `Manager`: a server process (its pid in the tree) that
//! owns a dict and a list, which other processes reach through proxies over a Unix socket;
//! the tutorial's `d['count'] -= 1` in 100 processes loses updates the same way without a
//! lock, and comes to 0 with one. Last, one increment through shared memory against one
//! through the manager, timed: the price of a round trip to another process.
//!
//! System calls: `mmap(MAP_SHARED | MAP_ANONYMOUS)` (the value, the array), `sem_wait` /
//! `sem_post` (the locks), `futex` (the starting gun, an `Event`), `fork`, `socket(AF_UNIX)`,
//! `bind`, `listen`, `accept`, `connect`, `poll` (the manager and its proxies), `waitpid`.

use std::time::{Duration, Instant};

use crate::lesson::prelude::*;
use crate::multiprocessing::event::Event;
use crate::multiprocessing::managers::{DictProxy, ListProxy, Manager, ManagerError};
use crate::multiprocessing::pool::{fork_unreported, wait_unreported};
use crate::multiprocessing::sharedctypes::{Array, Value};
use crate::multiprocessing::{Lock, Process, SyncError};

const ADDERS: usize = 10;
const ADDS_EACH: i32 = 1000;
/// How many times the race of step 2 is run.
const REPETITIONS: usize = 20;
/// The tutorial's Manager example: 100 processes take one from `d['count']`.
const TAKERS: usize = 100;
const MANAGER_REPETITIONS: usize = 5;
/// Increments timed in step 4, through shared memory and through the manager.
const TIMED_SHARED: u32 = 20_000;
const TIMED_MANAGER: u32 = 1_000;
/// How long CPython may take to run a step's program (a second or two on an idle machine).
const CPYTHON_LIMIT: Duration = Duration::from_secs(30);

pub fn run(lab: &mut Lab) -> Result<()> {
    lab.step("Value: ten processes add a thousand each")?;
    ten_adders()?;
    lab.step("The race, repeated")?;
    race_repeated()?;
    lab.step("Manager: a server process owns the dict")?;
    let mut manager = Manager::start().map_err(managed)?;
    manager_example(&manager)?;
    cpython_takers();
    lab.step("Shared memory against a round trip")?;
    let lab_costs = timed_side_by_side(&mut manager)?;
    cpython_timed(lab_costs);
    Ok(())
}

fn sync(error: SyncError) -> Error {
    Error::System(error.to_string())
}

fn managed(error: ManagerError) -> Error {
    Error::System(error.to_string())
}

// ---------------------------------------------------------------------------------------------
// Step 1: lost updates, then none with the lock.

/// One adder: waits for the starting gun, then adds one to `counter` `ADDS_EACH` times, and
/// counts its own tries in its own slot of `tries` (a slot nobody else writes).
fn add(
    me: usize,
    counter: &Value,
    tries: &Array<ADDERS>,
    start: &Event,
    locked: bool,
) -> std::result::Result<(), SyncError> {
    start.wait()?;
    for _ in 0..ADDS_EACH {
        // Python's `with counter.get_lock():`, or nothing.
        let _held = if locked {
            Some(counter.get_lock().hold()?)
        } else {
            None
        };
        // `counter.value += 1`: a read, then a write. Between the two, another process may
        // write; this write then puts back an old number plus one, and its update is lost.
        let read = counter.value();
        counter.set_value(read + 1);
        tries.set(me, tries.get(me).unwrap_or(0) + 1);
    }
    Ok(())
}

/// Runs the ten adders as the lab's processes (named `name-0` ...) and returns the total and
/// the tries they counted.
fn run_adders(name: &str, locked: bool) -> Result<(i32, i32)> {
    let counter = Value::new(0).map_err(sync)?.named("counter");
    let tries = Array::new([0; ADDERS]).map_err(sync)?;
    // The starting gun: every adder is forked before any begins, so they really race (a
    // fork takes longer than a thousand additions).
    let start = Event::new().map_err(sync)?.named("start");
    let mut adders = Vec::new();
    for me in 0..ADDERS {
        let (counter, tries, start) = (counter.clone(), tries.clone(), start.clone());
        let mut adder = Process::new(move || add(me, &counter, &tries, &start, locked))
            .named(&format!("{name}-{me}"));
        adder.start()?;
        adders.push(adder);
    }
    start.set();
    for adder in &mut adders {
        adder.join()?;
    }
    let tried: i32 = tries.to_vec().iter().sum();
    Ok((counter.value(), tried))
}

fn ten_adders() -> Result<()> {
    let (total, tried) = run_adders("adder", false)?;
    say!("without the lock: counter.value = {total}");
    let outcome = if total < tried {
        text!(
            en: "{lost} update(s) lost (丢失更新). When two processes read the same number, \
                 both write the same result, and one addition is gone.",
            zh: "丢失了 {lost} 次更新 (lost update)。两个进程读到同一个数时，会写回同一个\
                 结果，一次加法就没了。",
            lost = tried - total
        )
    } else {
        text!(
            en: "nothing lost this time: the adders happened not to read the same number at \
                 once. The next step runs the race again and again.",
            zh: "这次什么也没丢：加法进程碰巧没有同时读到同一个数。下一步会把这场竞争一遍遍\
                 重跑。"
        )
    };
    note!(
        en: "{ADDERS} processes added one {ADDS_EACH} times each: {tried} additions, counted by \
             the adders themselves in an Array (each in its own slot). The shared Value says \
             {total}: {outcome} `value += 1` is a read and a write, and another process may \
             write in between. Python's `counter.value += 1` is the same: its value property \
             takes the lock for the read and again for the write, never across both (python3 \
             lost updates the same way when we ran it).",
        zh: "{ADDERS} 个进程各加了 {ADDS_EACH} 次一：共 {tried} 次加法，由加法进程自己记在一个 \
             Array 里（各记在自己的槽位）。共享的 Value 显示 {total}：{outcome}`value += 1` \
             是一次读加一次写，另一个进程可能在两者之间写入。Python 的 `counter.value += 1` \
             也一样：它的 value 属性读时取一次锁，写时再取一次，从不把两者一起锁住（我们运行 \
             python3 时，它也这样丢失了更新）。"
    );
    let (total, tried) = run_adders("locked", true)?;
    say!("with get_lock(): counter.value = {total}");
    note!(
        en: "The same {tried} additions, each inside `with counter.get_lock():` (hold() here): \
             {total}. The lock (锁) makes read-and-write one step for everyone: whoever holds it \
             reads and writes before anyone else may read.",
        zh: "同样的 {tried} 次加法，每次都在 `with counter.get_lock():`（这里是 hold()）里面：\
             {total}。锁 (lock) 让“读再写”对所有人来说成为一步：谁拿着锁，谁就先读完写完，\
             别人才能读。"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Step 2: the unlocked race, run many times.

fn race_repeated() -> Result<()> {
    // Nothing here is random: the same program, run again and again. Only the scheduler
    // decides who reads when, and it decides differently each time.
    let mut totals = Vec::new();
    for _ in 0..REPETITIONS {
        totals.push(quiet_race()?);
    }
    let perfect = ADDERS as i32 * ADDS_EACH;
    let lost_runs = totals.iter().filter(|&&t| t < perfect).count();
    let worst = totals.iter().copied().min().unwrap_or(perfect);
    let listed: Vec<String> = totals.iter().map(|t| t.to_string()).collect();
    say!(
        en: "{REPETITIONS} runs without the lock: {}",
        zh: "不加锁的 {REPETITIONS} 次运行：{}",
        listed.join(" ")
    );
    note!(
        en: "{REPETITIONS} more runs of the same race (10 processes each, forked without \
             reporting so the tree stays readable): {lost_runs} of {REPETITIONS} lost updates, \
             the worst ended at {worst} of {perfect}. Nothing random is drawn in these runs: \
             the same program, run again; only the scheduler decided differently. A run that \
             comes out right proves nothing: the race is still there, it only did not strike.",
        zh: "同一场竞争又跑了 {REPETITIONS} 次（每次 10 个进程，fork 时不作报告，好让进程树\
             保持可读）：{REPETITIONS} 次中有 {lost_runs} 次丢失了更新，最差的一次只到 \
             {worst}（应为 {perfect}）。这些运行不抽取任何随机数：同一个程序再跑一遍，只有调度器\
             的决定不同。一次结果正确的运行什么也证明不了：竞争还在，只是这次没有发作。"
    );
    Ok(())
}

/// One run of the unlocked race with bare, silent processes; returns the total.
fn quiet_race() -> Result<i32> {
    let counter = Value::new(0).map_err(sync)?;
    let tries = Array::new([0; ADDERS]).map_err(sync)?;
    let start = Event::new().map_err(sync)?;
    let mut pids = Vec::new();
    for me in 0..ADDERS {
        let (counter, tries, start) = (counter.clone(), tries.clone(), start.clone());
        pids.push(fork_unreported(move || {
            let _ = add(me, &counter, &tries, &start, false);
        })?);
    }
    start.set();
    for pid in pids {
        wait_unreported(pid)?;
    }
    Ok(counter.value())
}

// ---------------------------------------------------------------------------------------------
// Step 3: the tutorial's Manager example.

/// One taker: `d['count'] -= 1`, with or without the lock, and its pid appended to the list.
fn take_one(
    d: &DictProxy,
    taken_by: &ListProxy,
    lock: Option<&Lock>,
) -> std::result::Result<(), String> {
    let _held = match lock {
        Some(lock) => Some(lock.hold().map_err(|e| e.to_string())?),
        None => None,
    };
    // Two requests to the manager: read the count, then write it back less one.
    let count = d.get("count").map_err(|e| e.to_string())?;
    d.set("count", count.as_i64().unwrap_or(0) - 1)
        .map_err(|e| e.to_string())?;
    taken_by
        .append(nix::unistd::getpid().as_raw())
        .map_err(|e| e.to_string())
}

/// Runs `TAKERS` silent processes against a fresh `{'count': 100}`; returns the count left
/// and how many pids the list holds.
fn takers(manager: &Manager, lock: Option<&Lock>) -> Result<(i64, usize)> {
    let d = manager
        .dict([("count", (TAKERS as i64).into())])
        .map_err(managed)?;
    let taken_by = manager.list().map_err(managed)?;
    let mut pids = Vec::new();
    for _ in 0..TAKERS {
        let (d, taken_by, lock) = (d.clone(), taken_by.clone(), lock.cloned());
        pids.push(fork_unreported(move || {
            let _ = take_one(&d, &taken_by, lock.as_ref());
        })?);
    }
    for pid in pids {
        wait_unreported(pid)?;
    }
    let left = d.get("count").map_err(managed)?.as_i64().unwrap_or(-1);
    let appended = taken_by.copy().map_err(managed)?.len();
    Ok((left, appended))
}

fn manager_example(manager: &Manager) -> Result<()> {
    let server = manager.pid().map(|p| p.to_string()).unwrap_or_default();
    let socket = manager
        .address()
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    note!(
        en: "Manager() forked a server process, SyncManager, pid {server}, a child of the main \
             process (see the tree). It owns every dict and list made with it; the other \
             processes hold proxies (代理) that send it requests over a Unix socket, {socket}.",
        zh: "Manager() fork 出一个服务进程 SyncManager，pid {server}，是主进程的子进程（见\
             进程树）。用它创建的每个 dict 和 list 都归它所有；其他进程拿着代理 (proxy)，经 \
             Unix 套接字 {socket} 向它发送请求。"
    );
    let mut lefts = Vec::new();
    let mut appended = 0;
    for _ in 0..MANAGER_REPETITIONS {
        let (left, pids) = takers(manager, None)?;
        lefts.push(left);
        appended = pids;
    }
    let listed: Vec<String> = lefts.iter().map(|l| l.to_string()).collect();
    say!(
        en: "without a lock: d['count'] = {} ({MANAGER_REPETITIONS} runs)",
        zh: "不加锁：d['count'] = {}（共 {MANAGER_REPETITIONS} 次运行）",
        listed.join(", ")
    );
    let lock = Lock::new().map_err(sync)?.named("dict");
    let (locked_left, locked_pids) = takers(manager, Some(&lock))?;
    say!("with the lock: d['count'] = {locked_left}");
    let lost_runs = lefts.iter().filter(|&&l| l > 0).count();
    note!(
        en: "The tutorial's example: d = manager.dict({{'count': {TAKERS}}}), {TAKERS} processes \
             each doing d['count'] -= 1 (forked without reporting). Without a lock the count \
             should end at 0 and ended at {lefts} ({lost_runs} of {MANAGER_REPETITIONS} runs \
             lost updates), though every process did its part: the manager's list holds \
             {appended} pids. The server answers one request at a time, but -= 1 is two \
             requests, a get and a set, and other processes' requests come between them. With \
             a Lock around the two: {locked_left}, and {locked_pids} pids in the list. The \
             tutorial is right: Manager data is not safe without a lock.",
        zh: "教程的例子：d = manager.dict({{'count': {TAKERS}}})，{TAKERS} 个进程各做一次 \
             d['count'] -= 1（fork 时不作报告）。不加锁时计数应该停在 0，实际停在 {lefts}\
             （{MANAGER_REPETITIONS} 次中有 {lost_runs} 次丢失了更新），尽管每个进程都做了\
             自己那一份：manager 的列表里有 {appended} 个 pid。服务进程一次只回答一个请求，但 \
             -= 1 是两个请求，一次 get 一次 set，别的进程的请求会插到它们中间。在两者外面加一把 \
             Lock：{locked_left}，列表里 {locked_pids} 个 pid。教程说得对：Manager 的数据不加锁\
             就不安全。",
        lefts = listed.join(", ")
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Step 4: what a round trip costs.

/// Times the increment both ways; returns what one took in shared memory and through the
/// manager, in µs.
fn timed_side_by_side(manager: &mut Manager) -> Result<(f64, f64)> {
    let counter = Value::new(0).map_err(sync)?;
    let began = Instant::now();
    for _ in 0..TIMED_SHARED {
        let _held = counter.get_lock().hold().map_err(sync)?;
        counter.set_value(counter.value() + 1);
    }
    let shared_took = began.elapsed();

    let d = manager.dict([("count", 0.into())]).map_err(managed)?;
    let began = Instant::now();
    for _ in 0..TIMED_MANAGER {
        let count = d.get("count").map_err(managed)?.as_i64().unwrap_or(0);
        d.set("count", count + 1).map_err(managed)?;
    }
    let manager_took = began.elapsed();
    let per_shared = shared_took.as_secs_f64() * 1e6 / TIMED_SHARED as f64;
    let per_manager = manager_took.as_secs_f64() * 1e6 / TIMED_MANAGER as f64;
    say!(
        en: "one increment: {per_shared:.2} µs in shared memory, {per_manager:.1} µs through \
             the manager",
        zh: "加一一次：在共享内存里 {per_shared:.2} µs，经过 manager {per_manager:.1} µs",
    );
    note!(
        en: "{TIMED_SHARED} increments of a Value under its lock took {shared_took} \
             ({per_shared:.2} µs each); {TIMED_MANAGER} increments of d['count'] through the \
             manager took {manager_took} ({per_manager:.1} µs each): {ratio:.0} times as long. \
             Shared memory is an ordinary memory access; a manager request is a message to \
             another process, a wait for it to be scheduled and answer, and a message back, \
             twice per increment. What the manager gives for it: dicts and lists of any size \
             and shape, which fixed-size shared memory cannot hold.",
        zh: "在锁的保护下对 Value 加 {TIMED_SHARED} 次一，用了 {shared_took}（每次 \
             {per_shared:.2} µs）；经 manager 对 d['count'] 加 {TIMED_MANAGER} 次一，用了 \
             {manager_took}（每次 {per_manager:.1} µs）：是前者的 {ratio:.0} 倍。共享内存是一次\
             普通的内存访问；manager 的一个请求是发给另一个进程的一条消息，等它被调度、作答，\
             再传回一条消息，每次加一要来回两趟。manager 以此换来的是：任意大小和形状的字典和\
             列表，这是固定大小的共享内存装不下的。",
        shared_took = describe(shared_took),
        manager_took = describe(manager_took),
        ratio = per_manager / per_shared.max(1e-9)
    );
    let pid = manager.pid();
    let address = manager.address().to_path_buf();
    let code = manager.shutdown().map_err(managed)?;
    let gone = pid.is_some_and(|pid| procfs::observe(pid).is_none());
    let socket = if address.exists() {
        text!(en: "still there!", zh: "居然还在！")
    } else {
        text!(en: "gone", zh: "已不在")
    };
    let in_proc = if gone {
        text!(en: "/proc no longer has it", zh: "/proc 里已经没有它了")
    } else {
        text!(en: "yet /proc still lists it", zh: "可 /proc 里还列着它")
    };
    note!(
        en: "manager.shutdown(): the server answered, removed its socket ({socket}), left with \
             exitcode {code} and was reaped by the main process: {in_proc}.",
        zh: "manager.shutdown()：服务进程作了回答，删除了它的套接字（{socket}），以 exitcode \
             {code} 退出，并被主进程回收：{in_proc}。"
    );
    Ok((per_shared, per_manager))
}

// ---------------------------------------------------------------------------------------------
// CPython beside the lab: the steps' own Python (`proclab code 8`), run in this run.

/// Step 3's `d['count'] -= 1` in CPython: how far the count fell without the lock and with it.
fn cpython_takers() {
    let source = include_str!("code/step3.py");
    let printed = match crate::cpython::run_step("step3.py", source, CPYTHON_LIMIT) {
        Ok(printed) => printed,
        Err(why) => {
            note!(en: "CPython: {why}.", zh: "CPython：{why}。");
            return;
        }
    };
    let (Some(unlocked), Some(locked)) = (
        printed.number_after("no lock: d['count'] = "),
        printed.number_after("lock: d['count'] = "),
    ) else {
        note!(
            en: "CPython: step3.py printed no count ({lines}).",
            zh: "CPython：step3.py 没有打印计数（{lines}）。",
            lines = printed.lines.join(" / ")
        );
        return;
    };
    let version = &printed.version;
    say!(
        en: "CPython {version}: d['count'] = {unlocked} without a lock, {locked} with it",
        zh: "CPython {version}：不加锁 d['count'] = {unlocked}，加锁 {locked}",
    );
    let lost = match unlocked as i64 {
        0 => text!(en: "no update was lost this time", zh: "这次没有丢失更新"),
        left => text!(en: "{left} of 100 updates lost", zh: "100 次更新丢了 {left} 次"),
    };
    note!(
        en: "And CPython {version}, on this machine in this run: the step's own program \
             (code/step3.py, shown by proclab code 8: 10 processes each doing d['count'] -= 1 \
             ten times from 100, started together at a Barrier) ended at {unlocked} without a \
             lock ({lost}) and at {locked} with one. Its processes and its server are not the \
             lab's (they pickle every request, and its server answers each connection in a \
             thread of its own), so the count lost need not be the lab's; that updates are \
             lost without a lock is the same.",
        zh: "再看 CPython {version}，在这台机器上、这次运行里：这一步自己的程序 \
             （code/step3.py，proclab code 8 可以看到：10 个进程在一个 Barrier 处一起开始，\
             各把 d['count'] 从 100 往下减 1 十次）不加锁停在 {unlocked}（{lost}），加锁停在 \
             {locked}。它的进程和服务进程不是 proclab 的（每个请求都要 pickle，服务进程给每个\
             连接开一个线程），所以丢的次数未必和 proclab 的一样；不加锁就会丢更新，这一点相同。",
    );
}

/// Step 4's increment in CPython, timed both ways, beside the lab's (µs in shared memory and
/// through the manager).
fn cpython_timed((lab_shared, lab_managed): (f64, f64)) {
    let source = include_str!("code/step4.py");
    let printed = match crate::cpython::run_step("step4.py", source, CPYTHON_LIMIT) {
        Ok(printed) => printed,
        Err(why) => {
            note!(en: "CPython: {why}.", zh: "CPython：{why}。");
            return;
        }
    };
    let (Some(shared), Some(managed)) = (
        printed.number_after("shared memory: "),
        printed.number_after("manager: "),
    ) else {
        note!(
            en: "CPython: step4.py printed no times ({lines}).",
            zh: "CPython：step4.py 没有打印时间（{lines}）。",
            lines = printed.lines.join(" / ")
        );
        return;
    };
    let version = &printed.version;
    // The line `outcomes.rs` reads, as it reads the lab's own.
    say!(
        en: "CPython {version}, one increment: {shared:.2} µs in shared memory, {managed:.1} µs \
             through the manager",
        zh: "CPython {version}，加一一次：在共享内存里 {shared:.2} µs，经过 manager {managed:.1} µs",
    );
    let ratio = managed / shared.max(0.01);
    let lab_ratio = lab_managed / lab_shared.max(1e-9);
    // Which of the two costs sets the ratios apart: the one whose CPython/lab factor is larger.
    let shared_factor = shared / lab_shared.max(1e-9);
    let managed_factor = managed / lab_managed.max(1e-9);
    let differs_most = if shared_factor.max(1.0 / shared_factor)
        > managed_factor.max(1.0 / managed_factor)
    {
        text!(
            en: "the increment in shared memory differs most ({shared_factor:.1} times the lab's \
                 in CPython, its round trip {managed_factor:.1} times): a few instructions in \
                 the lab, a loop of Python bytecode around a semaphore in CPython",
            zh: "差得最多的是共享内存里的加一（CPython 是 proclab 的 {shared_factor:.1} 倍，\
                 来回则是 {managed_factor:.1} 倍）：在 proclab 里是几条指令，在 CPython 里是围着\
                 一个信号量 (semaphore) 的一段 Python 字节码循环",
        )
    } else {
        text!(
            en: "the round trip differs most ({managed_factor:.1} times the lab's in CPython, \
                 the increment in shared memory {shared_factor:.1} times)",
            zh: "差得最多的是来回（CPython 是 proclab 的 {managed_factor:.1} 倍，共享内存里的\
                 加一是 {shared_factor:.1} 倍）",
        )
    };
    note!(
        en: "And CPython {version}, on this machine in this run (code/step4.py, the same \
             increments in Python, run untraced: a tracer stops a program at each wait of its \
             round trips, which would change what is timed): {shared:.2} µs in shared memory, \
             {managed:.1} µs through the manager, {ratio:.0} times as long, where the lab's \
             took {lab_ratio:.0} times as long. Of the two costs, {differs_most}. A prediction \
             is judged against both runs.",
        zh: "再看 CPython {version}，在这台机器上、这次运行里（code/step4.py，同样的加一用 \
             Python 写，不经跟踪运行：跟踪会在它每次来回的每个等待处停下它，改变所计的时间）：\
             共享内存里 {shared:.2} µs，经过 manager {managed:.1} µs，是前者的 {ratio:.0} 倍；\
             proclab 的是 {lab_ratio:.0} 倍。两项开销里，{differs_most}。预测会同时对照两次运行\
             来判。",
    );
}
