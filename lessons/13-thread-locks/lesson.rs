//! Lesson 13: locks between threads: the mutex (互斥锁), the deadlock (死锁), the re-entrant
//! lock (递归锁).
//!
//! What the student sees: ten threads take one off a shared `n` with the tutorial's
//! `temp = n; sleep; n = temp - 1`, and most of the updates are lost; the same threads inside
//! `with lock:` (`hold()`) lose none, and take turns. Twenty seeded rounds of each show that
//! the loss varies and the lock's result does not. Then the tutorial's `MyThread`, which takes
//! `mutexA` and `mutexB` in one order in `func1` and in the other in `func2`: two of them
//! deadlock. Timeouts on `acquire` find it, and the wait-for cycle is printed; one global order
//! fixes it. Last, `RLock`: its owner may take it again, where a `Lock` taken twice by one
//! thread blocks that thread; and releasing what you do not hold is an error, with Python's
//! messages.
//!
//! No process is forked here: everything happens in threads of the main process.
//!
//! System calls: `clone` (`Thread::start`), `futex` (waiting for a lock: a condition variable
//! in `threading::Lock` and `RLock`), `nanosleep` (the pauses), `gettid` (an `RLock`'s owner).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering::SeqCst};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::lesson::prelude::*;
use crate::threading::thread::Runnable;
use crate::threading::{Lock, RLock, Thread, ThreadError, current_thread};

/// The tutorial's counter starts at 100; ten threads each take one off.
const START_N: i64 = 100;
const THREADS: usize = 10;
/// The tutorial's `time.sleep(0.1)` between reading n and writing it back.
const PAUSE: Duration = Duration::from_millis(100);
/// The tutorial's threads all arrive at once and pause 0.1 s.
const TUTORIAL_TIMING: Timing = Timing {
    arrive: Duration::ZERO,
    pause: PAUSE,
};
/// The quick rounds: how many, how many threads each; each thread arrives after a random delay
/// and pauses for a random time, up to these (seeded). Arrivals spread wider than the pauses,
/// so that some threads come after others have written, and the loss varies.
const ROUNDS: usize = 20;
const ROUND_THREADS: usize = 5;
const ARRIVE_MAX_MS: u64 = 200;
const PAUSE_MAX_MS: u64 = 50;
/// `func2`'s `time.sleep(2)` while it holds mutexB.
const HOLD_B_FOR: Duration = Duration::from_secs(2);
/// How long a thread waits for a lock before it suspects a deadlock: longer than any lock is
/// held on purpose here (`HOLD_B_FOR`), so that a plain slow holder is not suspected.
const SUSPECT_AFTER: Duration = Duration::from_secs(5);
/// The deadlock depends on how two threads interleave; in the rare run where they slip past
/// each other, the pair is started again, at most this many times in all.
const DEADLOCK_ATTEMPTS: usize = 3;

pub fn run(lab: &mut Lab) -> Result<()> {
    lab.step("Ten threads, one counter, no lock")?;
    no_lock()?;
    lab.step("with lock: one thread at a time")?;
    with_lock()?;
    lab.step("Twenty quick rounds of each")?;
    quick_rounds(lab)?;
    lab.step("Deadlock: two locks in opposite order")?;
    deadlock()?;
    lab.step("The fix: one global order")?;
    one_global_order()?;
    lab.step("RLock: the owner may take it again")?;
    rlock_reentry()?;
    lab.step("Releasing what you do not hold")?;
    release_mistakes()
}

fn thread_error(error: ThreadError) -> Error {
    Error::lesson(error.to_string())
}

// ---------------------------------------------------------------------------------------------
// Steps 1 to 3: the tutorial's `work` on a shared n.

/// The tutorial's global `n`. An atomic, because Rust refuses a plain mutable global that
/// threads share: each `load` and each `store` is whole, so nothing here is undefined
/// behaviour. But `temp = n` and `n = temp - 1` are two separate steps, as they are in Python,
/// and another thread may run in between: that is the race.
static N: AtomicI64 = AtomicI64::new(START_N);

/// The tutorial's `work`: read n, pause, write back one less. Returns the value it read.
fn work(pause: Duration) -> i64 {
    let temp = N.load(SeqCst); //    temp = n
    context::sleep(pause); //        time.sleep(0.1)
    N.store(temp - 1, SeqCst); //    n = temp - 1
    temp
}

/// When one thread of a race arrives at `work`, and how long it pauses in it.
#[derive(Clone, Copy)]
struct Timing {
    arrive: Duration,
    pause: Duration,
}

/// How much the threads of one race show.
#[derive(Clone, Copy, PartialEq)]
enum Shown {
    /// Their start, end and join, their waits, and a line each: what it read and wrote.
    Everything,
    /// Their start, end and join, and their waits for the lock.
    Lifecycle,
    /// Nothing of their own: for the rounds without a lock, where there is no wait to see,
    /// only the result (as lesson 8's quiet processes; a hundred threads' lines saved).
    Nothing,
}

/// One run of the race: n set to `START_N`, one thread per timing running `work` (inside
/// `with lock:` when a lock is given), all joined. Returns what each thread read, the final n,
/// and how long the run took.
fn race(timings: &[Timing], lock: Option<&Arc<Lock>>, shown: Shown) -> Result<Race> {
    N.store(START_N, SeqCst);
    // Each thread writes what it read into its own slot: no lock needed to collect them.
    let read: Arc<Vec<AtomicI64>> = Arc::new(timings.iter().map(|_| AtomicI64::new(0)).collect());
    let began = Instant::now();
    let mut threads = Vec::new();
    for (index, &timing) in timings.iter().enumerate() {
        let (read, lock) = (read.clone(), lock.cloned());
        let thread = Thread::new(move || {
            context::sleep(timing.arrive);
            let temp = match &lock {
                Some(lock) => {
                    // Python's `with lock:` — held until `_held` is dropped at the block's end.
                    let _held = lock.hold();
                    work(timing.pause)
                }
                None => work(timing.pause),
            };
            read[index].store(temp, SeqCst);
            if shown == Shown::Everything {
                say!("temp = {temp}, n = {}", temp - 1);
            }
        });
        let mut thread = match shown {
            Shown::Nothing => thread.without_events(),
            Shown::Everything | Shown::Lifecycle => thread.named(&format!("work-{}", index + 1)),
        };
        thread.start().map_err(thread_error)?;
        threads.push(thread);
    }
    for thread in &mut threads {
        thread.join().map_err(thread_error)?;
    }
    Ok(Race {
        read: read.iter().map(|slot| slot.load(SeqCst)).collect(),
        n: N.load(SeqCst),
        took: began.elapsed(),
    })
}

struct Race {
    read: Vec<i64>,
    n: i64,
    took: Duration,
}

impl Race {
    /// How many of the threads' updates are missing from n.
    fn lost(&self) -> i64 {
        let done = START_N - self.n;
        self.read.len() as i64 - done
    }

    /// How many different values the threads read (each read a fresh one: as many as threads).
    fn distinct_reads(&self) -> usize {
        let mut read = self.read.clone();
        read.sort();
        read.dedup();
        read.len()
    }

    /// "100 (by 7), 99 (by 3)": each value read, and by how many threads.
    fn reads(&self) -> String {
        let mut by_value: BTreeMap<i64, usize> = BTreeMap::new();
        for &value in &self.read {
            *by_value.entry(value).or_default() += 1;
        }
        let parts: Vec<String> = by_value
            .iter()
            .rev()
            .map(|(value, threads)| {
                text!(en: "{value} (by {threads})", zh: "{value}（{threads} 个线程读到）")
            })
            .collect();
        parts.join(&text!(en: ", ", zh: "，"))
    }
}

fn no_lock() -> Result<()> {
    let race = race(&[TUTORIAL_TIMING; THREADS], None, Shown::Everything)?;
    say!("print(n): {}", race.n);
    let expected = START_N - THREADS as i64;
    note!(
        en: "{THREADS} threads each took one off n = {START_N}, so n should be {expected}; it is \
             {n}: {lost} of {THREADS} updates lost (丢失更新). The threads read n as {reads}: each \
             read n, paused {pause} (the tutorial's time.sleep(0.1)), then wrote what it had read \
             minus one, and while it paused the others read the same old n. Reading and writing \
             back are two steps, and another thread ran between them: a race condition (竞争条件).",
        zh: "{THREADS} 个线程各把 n = {START_N} 减一，n 应该是 {expected}；实际是 {n}：\
             {THREADS} 次更新丢失了 {lost} 次（丢失更新, lost update）。各线程读到的 n 是 \
             {reads}：每个线程读出 n，停顿 {pause}（教程里的 time.sleep(0.1)），再写回读到的值\
             减一；它停顿的时候，别的线程读到的还是同一个旧的 n。读和写回是两步，另一个线程在两步\
             之间运行了：这就是竞争条件 (race condition)。",
        n = race.n,
        lost = race.lost(),
        reads = race.reads(),
        pause = describe(context::scaled(PAUSE)),
    );
    Ok(())
}

fn with_lock() -> Result<()> {
    let lock = Arc::new(Lock::new().named("mutex"));
    let race = race(&[TUTORIAL_TIMING; THREADS], Some(&lock), Shown::Everything)?;
    say!("print(n): {}", race.n);
    note!(
        en: "The same {THREADS} threads with `with lock:` around read-pause-write: n = {n} \
             ({lost} lost), and they read {distinct} different values, one each: whoever holds \
             the mutex (互斥锁) reads and writes before anyone else may read. The others waited \
             for it (the `lock` waits above, ▒ on the timeline), so the run took {took}: \
             {THREADS} pauses of {pause} one after another. The critical section (临界区) became \
             serial (串行), the price the tutorial names for correct data.",
        zh: "同样的 {THREADS} 个线程，在读-停顿-写外面套上 `with lock:` 之后，n = {n}（丢失 \
             {lost} 次），它们读到了 {distinct} 个不同的值，每个线程一个：谁持有互斥锁 (mutex)，谁就在\
             别人能读之前读完、写完。其余线程都在等它（上面那些 `lock` 上的等待，时间线上的 ▒），\
             所以这次运行用了 {took}：{THREADS} 次 {pause} 的停顿一个接一个。临界区 (critical \
             section) 变成了串行 (serial) 执行，这就是教程说的、为了数据正确而付出的代价。",
        n = race.n,
        lost = race.lost(),
        distinct = race.distinct_reads(),
        took = describe(race.took),
        pause = describe(context::scaled(PAUSE)),
    );
    Ok(())
}

fn quick_rounds(lab: &mut Lab) -> Result<()> {
    // The main thread draws every pause, so that one seed replays the same rounds.
    let mut rounds = Vec::new();
    for _ in 0..ROUNDS {
        let timings: Vec<Timing> = (0..ROUND_THREADS)
            .map(|_| Timing {
                arrive: Duration::from_millis(lab.rng().random_range(0..=ARRIVE_MAX_MS)),
                pause: Duration::from_millis(lab.rng().random_range(0..=PAUSE_MAX_MS)),
            })
            .collect();
        rounds.push(timings);
    }
    let lock = Arc::new(Lock::new().named("mutex"));
    // How many rounds lost 0, 1, 2 ... updates, without and with the lock.
    let mut without = vec![0usize; ROUND_THREADS + 1];
    let mut with = vec![0usize; ROUND_THREADS + 1];
    let began = Instant::now();
    for (round, timings) in rounds.iter().enumerate() {
        let unlocked = race(timings, None, Shown::Nothing)?;
        let locked = race(timings, Some(&lock), Shown::Lifecycle)?;
        say!(
            en: "round {}: lost {} without the lock, {} with it",
            zh: "第 {} 轮：不加锁丢了 {} 次更新，加锁丢了 {} 次",
            round + 1,
            unlocked.lost(),
            locked.lost()
        );
        without[unlocked.lost().clamp(0, ROUND_THREADS as i64) as usize] += 1;
        with[locked.lost().clamp(0, ROUND_THREADS as i64) as usize] += 1;
    }
    let rounds_with_losses: usize = without.iter().skip(1).sum();
    note!(
        en: "{ROUNDS} rounds of {ROUND_THREADS} threads each way, each thread arriving after a \
             random 0 to {arrive} and pausing a random 0 to {pause} (seeded: --seed replays \
             them), in {took}. Without the lock: {without}; updates lost in \
             {rounds_with_losses} of {ROUNDS} rounds. With the lock: {with}. How many are lost \
             depends on how arrivals and pauses happen to fall, and a round that loses nothing \
             proves nothing. With the lock it is right every time.",
        zh: "不加锁和加锁各跑 {ROUNDS} 轮，每轮 {ROUND_THREADS} 个线程，每个线程随机延迟 0 到 \
             {arrive} 后到达，随机停顿 0 到 {pause}（由种子决定：--seed 能重现它们），一共用了 \
             {took}。不加锁：{without}；{ROUNDS} 轮中有 {rounds_with_losses} 轮丢失了更新。加锁：\
             {with}。丢失多少，取决于到达和停顿碰巧怎样交错；一轮没丢，什么也证明不了。加了锁，\
             每一轮都是对的。",
        arrive = describe(context::scaled(Duration::from_millis(ARRIVE_MAX_MS))),
        pause = describe(context::scaled(Duration::from_millis(PAUSE_MAX_MS))),
        took = describe(began.elapsed()),
        without = distribution(&without),
        with = distribution(&with),
    );
    Ok(())
}

/// "0 lost: 3 rounds, 2 lost: 12 rounds ..." from counts of rounds by updates lost.
fn distribution(rounds_by_lost: &[usize]) -> String {
    let parts: Vec<String> = rounds_by_lost
        .iter()
        .enumerate()
        .filter(|(_, rounds)| **rounds > 0)
        .map(|(lost, rounds)| {
            text!(en: "{lost} lost: {rounds} round(s)", zh: "丢失 {lost} 次：{rounds} 轮")
        })
        .collect();
    parts.join(&text!(en: ", ", zh: "，"))
}

// ---------------------------------------------------------------------------------------------
// Steps 4 to 6: who holds what, who waits for what.

/// Who holds which lock, and who waits for which. Python's `Lock` does not know who holds it,
/// so the threads write it down here themselves, at the moments their `wait` events mark:
/// right after they take a lock, right before they block on one. (The events go to the lab's
/// supervisor, out of this process's reach; this is the same information, kept here.)
///
/// From it a thread whose wait timed out builds the wait-for graph (等待图): an arrow from each
/// waiting thread to the holder of the lock it waits for. A cycle of arrows is a deadlock.
#[derive(Default)]
struct Board {
    /// A plain mutex, held for a few instructions at a time: bookkeeping, not the lesson.
    state: Mutex<BoardState>,
}

#[derive(Default)]
struct BoardState {
    /// Lock name → the thread holding it.
    holder: BTreeMap<String, String>,
    /// Thread name → the lock it waits for.
    waits_for: BTreeMap<String, String>,
}

/// One thread on a wait-for cycle.
struct Link {
    thread: String,
    holds: String,
    waits_for: String,
}

impl Board {
    fn state(&self) -> MutexGuard<'_, BoardState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn took(&self, who: &str, lock: &str) {
        let mut state = self.state();
        state.waits_for.remove(who);
        state.holder.insert(lock.to_string(), who.to_string());
    }

    fn released(&self, lock: &str) {
        self.state().holder.remove(lock);
    }

    fn waits(&self, who: &str, lock: &str) {
        self.state()
            .waits_for
            .insert(who.to_string(), lock.to_string());
    }

    /// If `who` is on a cycle of waits, crosses its wait off (it gives up) and returns the
    /// cycle, starting with `who`. Both in one look at the board, so that of two threads
    /// timing out at once only one gives up: the other then finds no cycle and waits on.
    fn give_up_if_deadlocked(&self, who: &str) -> Option<Vec<Link>> {
        let mut state = self.state();
        // Follow the arrows: who waits for which lock, who holds that lock, what does *it*
        // wait for ... until we are back at `who` (a cycle) or at a thread that waits for
        // nothing (no cycle: that thread will release its lock some day).
        let mut on_the_way: Vec<(String, String)> = Vec::new();
        let mut thread = who.to_string();
        loop {
            let lock = state.waits_for.get(&thread)?.clone();
            let holder = state.holder.get(&lock)?.clone();
            on_the_way.push((thread, lock));
            if holder == who {
                break;
            }
            if on_the_way.iter().any(|(seen, _)| *seen == holder) {
                // A cycle that `who` only leads into: the threads on it will find it.
                return None;
            }
            thread = holder;
        }
        state.waits_for.remove(who);
        // On a cycle each thread holds the lock that the one before it waits for.
        let links = (0..on_the_way.len())
            .map(|i| {
                let before = (i + on_the_way.len() - 1) % on_the_way.len();
                Link {
                    thread: on_the_way[i].0.clone(),
                    holds: on_the_way[before].1.clone(),
                    waits_for: on_the_way[i].1.clone(),
                }
            })
            .collect();
        Some(links)
    }
}

/// "A holds X, waits for Y; B holds Y, waits for X".
fn describe_cycle(cycle: &[Link]) -> String {
    let links: Vec<String> = cycle
        .iter()
        .map(|link| {
            format!(
                "{} holds {}, waits for {}",
                link.thread, link.holds, link.waits_for
            )
        })
        .collect();
    links.join("; ")
}

/// The same cycle for a note, in the language of the run.
fn cycle_in_words(cycle: &[Link]) -> String {
    let links: Vec<String> = cycle
        .iter()
        .map(|link| {
            let (thread, holds, waits_for) = (&link.thread, &link.holds, &link.waits_for);
            text!(
                en: "{thread} holds {holds}, waits for {waits_for}",
                zh: "{thread} 持有 {holds}，在等 {waits_for}",
            )
        })
        .collect();
    links.join(&text!(en: "; ", zh: "；"))
}

/// What the thread that gave up found: the cycle, and how long it had waited.
struct Deadlock {
    cycle: Vec<Link>,
    waited: Duration,
}

/// A lock taken with `take`: released when dropped (Python's `with`), and crossed off the
/// board first, so that the board never shows a lock held by two threads.
struct Taken<'a> {
    lock: &'a Lock,
    board: &'a Board,
}

impl Drop for Taken<'_> {
    fn drop(&mut self) {
        self.board.released(self.lock.name());
        // A `Taken` exists only while its lock is held, so this release cannot fail.
        let _ = self.lock.release();
    }
}

/// Takes `lock` for thread `who`, watching for a deadlock: at once if it is free; otherwise
/// `who` writes on the board that it waits, and waits with a timeout. A timeout is only a
/// suspicion (the holder may just be slow): `who` then looks for a cycle on the board. No
/// cycle, it waits again; a cycle, it gives up, records what it found in `found`, and returns
/// `None`.
fn take<'a>(
    who: &str,
    lock: &'a Lock,
    board: &'a Board,
    found: &Mutex<Option<Deadlock>>,
) -> Option<Taken<'a>> {
    if !lock.try_acquire() {
        board.waits(who, lock.name());
        let began = Instant::now();
        // Each try that times out is one `wait` and one `woke` (gave up) in the output.
        while !lock.acquire_timeout(SUSPECT_AFTER) {
            if let Some(cycle) = board.give_up_if_deadlocked(who) {
                let waited = began.elapsed();
                say!(
                    "{who}: no {} after {}, and a cycle of waits: gives up",
                    lock.name(),
                    describe(waited)
                );
                let mut found = found.lock().unwrap_or_else(|e| e.into_inner());
                found.get_or_insert(Deadlock { cycle, waited });
                return None;
            }
        }
    }
    board.took(who, lock.name());
    Some(Taken { lock, board })
}

/// The tutorial's `class MyThread(Thread)`, with `func1` and `func2`. With `in_order`, `func2`
/// takes the locks in `func1`'s order (the fix); the tutorial's takes them the other way round.
struct MyThread {
    name: String,
    mutex_a: Arc<Lock>,
    mutex_b: Arc<Lock>,
    in_order: bool,
    board: Arc<Board>,
    found: Arc<Mutex<Option<Deadlock>>>,
}

impl Runnable for MyThread {
    fn run(&mut self) {
        // A `None` is a thread that gave up a lock: it stops there, its locks released.
        let done = self.func1().and_then(|()| {
            if self.in_order {
                self.func2_in_order()
            } else {
                self.func2()
            }
        });
        if done.is_some() {
            say!("{} done", self.name);
        }
    }

    fn name(&self) -> Option<String> {
        Some(self.name.clone())
    }
}

impl MyThread {
    fn take<'a>(&'a self, lock: &'a Lock) -> Option<Taken<'a>> {
        take(&self.name, lock, &self.board, &self.found)
    }

    /// mutexA, then mutexB.
    fn func1(&self) -> Option<()> {
        let _a = self.take(&self.mutex_a)?;
        say!("{} 拿到A锁 (got mutexA)", self.name);
        let _b = self.take(&self.mutex_b)?;
        say!("{} 拿到B锁 (got mutexB)", self.name);
        Some(())
    } // released here, mutexB first: locals are dropped in reverse order.

    /// mutexB, a pause, then mutexA: the opposite order.
    fn func2(&self) -> Option<()> {
        let _b = self.take(&self.mutex_b)?;
        say!("{} 拿到B锁 (got mutexB)", self.name);
        context::sleep(HOLD_B_FOR);
        let _a = self.take(&self.mutex_a)?;
        say!("{} 拿到A锁 (got mutexA)", self.name);
        Some(())
    }

    /// The fix: mutexA before mutexB here too, as everywhere.
    fn func2_in_order(&self) -> Option<()> {
        let _a = self.take(&self.mutex_a)?;
        say!("{} 拿到A锁 (got mutexA)", self.name);
        let _b = self.take(&self.mutex_b)?;
        say!("{} 拿到B锁 (got mutexB)", self.name);
        context::sleep(HOLD_B_FOR);
        Some(())
    }
}

/// Runs two `MyThread`s to the end; returns the deadlock one of them found, if any, and how
/// long the pair took.
fn two_threads(in_order: bool) -> Result<(Option<Deadlock>, Duration)> {
    let mutex_a = Arc::new(Lock::new().named("mutexA"));
    let mutex_b = Arc::new(Lock::new().named("mutexB"));
    let board = Arc::new(Board::default());
    let found = Arc::new(Mutex::new(None));
    let began = Instant::now();
    let mut threads: Vec<Thread> = ["Thread-1", "Thread-2"]
        .into_iter()
        .map(|name| {
            Thread::from_runnable(MyThread {
                name: name.to_string(),
                mutex_a: mutex_a.clone(),
                mutex_b: mutex_b.clone(),
                in_order,
                board: board.clone(),
                found: found.clone(),
            })
        })
        .collect();
    for thread in &mut threads {
        thread.start().map_err(thread_error)?;
    }
    for thread in &mut threads {
        thread.join().map_err(thread_error)?;
    }
    let deadlock = found.lock().unwrap_or_else(|e| e.into_inner()).take();
    Ok((deadlock, began.elapsed()))
}

fn deadlock() -> Result<()> {
    let mut attempts = 0;
    let (deadlock, took) = loop {
        attempts += 1;
        let (deadlock, took) = two_threads(false)?;
        if deadlock.is_some() || attempts == DEADLOCK_ATTEMPTS {
            break (deadlock, took);
        }
        say!("attempt {attempts}: the two threads slipped past each other; again");
    };
    let Some(deadlock) = deadlock else {
        note!(
            en: "In {attempts} attempts the two threads never deadlocked: each time one of them \
                 took both locks before the other took its first. Rare, but the order is the \
                 scheduler's to choose; run the lesson again to see the deadlock.",
            zh: "试了 {attempts} 次，两个线程一次也没有死锁：每一次都是其中一个在另一个拿到第一把\
                 锁之前就把两把锁都拿到了。这很少见，但顺序由调度器决定；再运行一次本课就能看到\
                 死锁。",
        );
        return Ok(());
    };
    let victim = &deadlock.cycle[0].thread;
    say!(
        en: "wait-for cycle: {}",
        zh: "等待环：{}",
        cycle_in_words(&deadlock.cycle)
    );
    let at_attempt = if attempts > 1 {
        text!(en: " at attempt {attempts}", zh: "（第 {attempts} 次尝试）")
    } else {
        String::new()
    };
    note!(
        en: "A deadlock (死锁){at_attempt}: each thread holds the lock the other waits for, so \
             neither can ever go on. {victim} had waited {waited} when its timeout ({timeout} a \
             try) ran out; the board of who holds and who waits, which the threads keep as they \
             go, showed the cycle above (both threads' `wait` lines, and no `woke` for either \
             until the timeout). So it gave up, and dropping its lock let the other thread \
             finish: the pair took {took}. Without timeouts both would wait forever, as in the \
             tutorial (然后就卡住, 死锁了).",
        zh: "死锁 (deadlock){at_attempt}：每个线程都持有对方在等的那把锁，谁也永远走不下去。\
             {victim} 等了 {waited}，它的超时（每次尝试 {timeout}）到了；线程们一边运行一边记下的\
             “谁持有、谁在等”的记录板上，出现了上面那个环（两个线程的 `wait` 行，超时之前两者都\
             没有 `woke`）。于是它放弃了，放下它的锁，另一个线程就做完了：这一对线程一共用了 \
             {took}。没有超时的话，两个线程会永远等下去，就像教程里那样（然后就卡住, 死锁了）。",
        waited = describe(deadlock.waited),
        timeout = describe(context::scaled(SUSPECT_AFTER)),
        took = describe(took),
    );
    Ok(())
}

fn one_global_order() -> Result<()> {
    let (deadlock, took) = two_threads(true)?;
    if let Some(deadlock) = deadlock {
        return Err(Error::lesson(format!(
            "a deadlock with one global order: {}",
            describe_cycle(&deadlock.cycle)
        )));
    }
    note!(
        en: "The same two threads, with func2 taking mutexA before mutexB like func1: both \
             finished, in {took}, and no wait timed out. A thread may still wait for a lock (the \
             waits above), but whoever holds mutexB already holds mutexA, so it never waits for \
             a lock that its waiter holds: no cycle can form. One global order for every lock is \
             the usual cure.",
        zh: "同样的两个线程，func2 也像 func1 一样先拿 mutexA 再拿 mutexB：两个都做完了，用了 \
             {took}，没有一次等待超时。线程仍然可能要等锁（上面那些等待），但持有 mutexB 的线程\
             一定已经持有 mutexA，所以它永远不会去等一把被等它的线程持有的锁：环无法形成。给所有\
             的锁规定一个统一的顺序，是通常的解决办法。",
        took = describe(took),
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Step 6: RLock.

/// The tutorial's fix with an `RLock`: `func1` and `func2` over two names for one lock.
fn func1_r(name: &str, mutex_a: &RLock, mutex_b: &RLock) {
    let _a = mutex_a.hold();
    say!("{name} 拿到A锁 (count {})", mutex_a.count_held_by_me());
    let _b = mutex_b.hold();
    say!("{name} 拿到B锁 (count {})", mutex_b.count_held_by_me());
}

fn func2_r(name: &str, mutex_a: &RLock, mutex_b: &RLock) {
    let _b = mutex_b.hold();
    say!("{name} 拿到B锁 (count {})", mutex_b.count_held_by_me());
    context::sleep(HOLD_B_FOR);
    let _a = mutex_a.hold();
    say!("{name} 拿到A锁 (count {})", mutex_a.count_held_by_me());
}

/// What Python prints for a bool.
fn python_bool(value: bool) -> &'static str {
    if value { "True" } else { "False" }
}

fn rlock_reentry() -> Result<()> {
    let me = current_thread().name().to_string();

    // A plain Lock, taken twice by one thread: the second acquire waits for itself.
    let lock = Lock::new().named("lock");
    let board = Board::default();
    let found = Mutex::new(None);
    let first = take(&me, &lock, &board, &found);
    say!("lock.acquire(): {}", python_bool(first.is_some()));
    let second = take(&me, &lock, &board, &found);
    say!(
        "lock.acquire() again, same thread: {}",
        python_bool(second.is_some())
    );
    // Released in reverse order; `second` holds nothing, it gave up.
    drop(second);
    drop(first);
    let self_deadlock = found.into_inner().unwrap_or_else(|e| e.into_inner());

    // An RLock, taken twice by one thread: it goes on.
    let rlock = RLock::new().named("rlock");
    let outer = rlock.hold();
    let inner = rlock.hold();
    let count_twice = rlock.count_held_by_me();
    say!("rlock.acquire() twice, same thread: count {count_twice}");
    drop(inner);
    drop(outer);
    let free_after = rlock.owner().is_none();

    // The tutorial's `mutexA = mutexB = threading.RLock()`, with its two MyThreads.
    let one_rlock = Arc::new(RLock::new().named("mutexA=mutexB"));
    let began = Instant::now();
    let mut threads: Vec<Thread> = ["Thread-1", "Thread-2"]
        .into_iter()
        .map(|name| {
            let (mutex_a, mutex_b) = (one_rlock.clone(), one_rlock.clone());
            Thread::new(move || {
                func1_r(name, &mutex_a, &mutex_b);
                func2_r(name, &mutex_a, &mutex_b);
                say!("{name} done");
            })
            .named(name)
        })
        .collect();
    for thread in &mut threads {
        thread.start().map_err(thread_error)?;
    }
    for thread in &mut threads {
        thread.join().map_err(thread_error)?;
    }
    let took = began.elapsed();

    let cycle = self_deadlock.map_or_else(
        || text!(en: "no cycle found (unexpected)", zh: "没有找到环（意料之外）"),
        |deadlock| cycle_in_words(&deadlock.cycle),
    );
    let after_two_releases = if free_after {
        text!(en: "free again", zh: "又空闲了")
    } else {
        text!(en: "still held (unexpected)", zh: "仍被持有（意料之外）")
    };
    note!(
        en: "A Lock does not know who holds it: its second acquire() in the same thread waited \
             for the lock to be freed by... that same thread, and timed out after {timeout}. The \
             wait-for cycle has one thread on it: {cycle}. An RLock (递归锁, re-entrant lock) \
             knows its owner and counts: taken twice, it said count {count_twice} and went on; \
             released twice, it was {after_two_releases}. With one RLock under both names, the \
             tutorial's two MyThreads finished in {took}: each took it twice (the counts in \
             their lines) while the other waited its turn (the `rlock` waits). The cure there is \
             one lock, not re-entry: see the notes.",
        zh: "Lock 不知道自己被谁持有：同一个线程第二次调用 acquire()，等的是这把锁被……这个线程\
             自己释放，于是在 {timeout} 后超时。等待图上的环里只有一个线程：{cycle}。递归锁 \
             (re-entrant lock, RLock) 知道自己的所有者，还会计数：拿了两次，它报告 count \
             {count_twice} 并继续往下走；释放两次之后，它{after_two_releases}。把一把 RLock 当作\
             两个名字用，教程里的两个 MyThread 在 {took} 内都做完了：每个线程都拿了它两次（见它们\
             输出行里的计数），另一个线程则排队等着（那些 `rlock` 上的等待）。这里真正起作用的是\
             “只有一把锁”，而不是可重入：见课程笔记。",
        timeout = describe(context::scaled(SUSPECT_AFTER)),
        took = describe(took),
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Step 7: releases that are mistakes, and one that is not.

fn release_mistakes() -> Result<()> {
    let lock = Arc::new(Lock::new().named("lock"));
    match lock.release() {
        Err(error) => say!("lock.release() while free: error: {error}"),
        Ok(()) => say!("lock.release() while free: no error"),
    }
    // A Lock has no owner: another thread may release it (Python allows it too).
    lock.acquire();
    let in_thread = lock.clone();
    let mut releaser = Thread::new(move || match in_thread.release() {
        Err(error) => say!("lock.release() by another thread: error: {error}"),
        Ok(()) => say!("lock.release() by another thread: released"),
    })
    .named("releaser");
    releaser.start().map_err(thread_error)?;
    releaser.join().map_err(thread_error)?;

    // An RLock has one: only the owner may release it.
    let rlock = Arc::new(RLock::new().named("rlock"));
    rlock.acquire();
    let in_thread = rlock.clone();
    let mut other = Thread::new(move || match in_thread.release() {
        Err(error) => say!("rlock.release() by a thread that does not own it: error: {error}"),
        Ok(()) => say!("rlock.release() by a thread that does not own it: released"),
    })
    .named("other");
    other.start().map_err(thread_error)?;
    other.join().map_err(thread_error)?;
    match rlock.release() {
        Err(error) => say!("rlock.release() by its owner: error: {error}"),
        Ok(()) => say!("rlock.release() by its owner: released"),
    }
    match rlock.release() {
        Err(error) => say!("rlock.release() while free: error: {error}"),
        Ok(()) => say!("rlock.release() while free: no error"),
    }
    note!(
        en: "Python's RuntimeError messages, returned here as error values: a Lock released \
             while free, and an RLock released by a thread that does not hold it (another \
             thread, or anyone once it is free). A Lock may be released by any thread, though: \
             it has no owner, which is also why it cannot be re-entrant.",
        zh: "这里以错误值的形式返回 Python 的 RuntimeError 消息：一是普通锁在空闲时被释放，二是\
             递归锁被不持有它的线程释放（另一个线程，或者它空闲后的任何线程）。不过普通锁 (Lock) \
             可以被任何线程释放：它没有所有者，这也是它不能重入的原因。",
    );
    Ok(())
}
