//! Lesson 14: semaphores, events, conditions and timers between the threads of one process.
//!
//! What the student sees: eight guests and a `Semaphore(5)`, so at most five are inside at
//! once and the others wait (▒ on the timeline); a `BoundedSemaphore` refusing one release too
//! many, with Python's message. The tutorial's database check: connectors retry
//! `event.wait(0.5)` until a checker thread calls `set()`; the patient one gets through, the
//! impatient one gives up. A `Condition`: `notify(2)` wakes exactly two of five waiters, then
//! `notify_all` the rest. The two classic bugs of a waiter that does not re-check the state it
//! waits for: a notify sent before anyone waits is lost, and a thread woken by `notify_all`
//! finds the bun already gone; `wait_for(predicate)` fixes both. A `Timer` that fires, and one
//! cancelled in time.
//!
//! System calls: `pthread_create`/`pthread_join` (`Thread`), and `futex` underneath every
//! mutex and condition variable; a thread that waits sleeps in the kernel (`futex_wait`) and
//! uses no CPU until it is woken.

use std::fmt::Display;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::lesson::prelude::*;
use crate::threading::{BoundedSemaphore, Condition, Event, Semaphore, Thread, Timer};

// The lesson's durations, all scaled by --speed (at speed 20, one second is 50 ms).
/// Seats in the room of step 1, and how many guests want one.
const SEATS: u32 = 5;
const GUESTS: usize = 8;
/// How long a guest stays: a random 1 to 3 s.
const STAY_SECONDS: std::ops::RangeInclusive<u64> = 1..=3;
/// The database check of step 2 takes 3 to 4 s (drawn in tenths of a second, as the tutorial's
/// `random.uniform(3, 4)`); connectors retry every half second.
const CHECK_TENTHS: std::ops::RangeInclusive<u64> = 30..=40;
const RETRY_EVERY: Duration = Duration::from_millis(500);
/// Tries before giving up: the patient connector outlasts the slowest check by far (10 s
/// against 4 s), the impatient one gives up well before the quickest (1 s against 3 s). Wide
/// margins, so that a busy machine does not change who gets through.
const PATIENT_TRIES: u32 = 20;
const IMPATIENT_TRIES: u32 = 2;
/// How many of step 3's five waiters the first notify wakes.
const WAITERS: usize = 5;
const FIRST_NOTIFY: usize = 2;
/// How long step 3 watches, after notify(2), that nobody else wakes.
const QUIET_AFTER_NOTIFY: Duration = Duration::from_millis(500);
/// How long step 4's waiter waits for a notify that was sent too early. Python's `wait()`
/// would wait forever; the lesson has to go on.
const LOST_PATIENCE: Duration = Duration::from_secs(2);
/// Step 6's timers: one fires after 1 s; the other would after 4 s, but is cancelled at 0.5 s.
const HELLO_AFTER: Duration = Duration::from_secs(1);
const LATE_AFTER: Duration = Duration::from_secs(4);
const CANCEL_AT: Duration = Duration::from_millis(500);

/// How long to wait for something that happens at once (a thread reaching its wait): not
/// scaled. Reaching it means something is wrong.
const PATIENCE: Duration = Duration::from_secs(10);

pub fn run(lab: &mut Lab) -> Result<()> {
    lab.step("Semaphore(5): at most five inside")?;
    semaphore_seats(lab)?;
    lab.step("Event: waiting for the database")?;
    event_database(lab)?;
    lab.step("Condition: notify(n) wakes exactly n")?;
    notify_exactly_n()?;
    lab.step("A notify nobody waits for is lost")?;
    lost_wakeup(false)?;
    lost_wakeup(true)?;
    lab.step("Woken is not the same as ready")?;
    stale_wakeup(false)?;
    stale_wakeup(true)?;
    lab.step("Timer: one fires, one is cancelled")?;
    timers()
}

// ---------------------------------------------------------------------------------------------
// Step 1: Semaphore(5) and eight guests.

/// What the guests write down, for the main thread's notes.
#[derive(Default)]
struct Room {
    inside: AtomicUsize,
    most_inside: AtomicUsize,
    /// Guests that waited more than a millisecond for a seat, and the longest wait (µs).
    waited: AtomicUsize,
    longest_wait_us: AtomicU64,
}

fn semaphore_seats(lab: &mut Lab) -> Result<()> {
    let seats = Arc::new(Semaphore::new(SEATS).named("seats"));
    let room = Arc::new(Room::default());
    let mut guests = Vec::new();
    for number in 1..=GUESTS {
        let stay = Duration::from_secs(lab.rng().random_range(STAY_SECONDS));
        let (seats, room) = (seats.clone(), room.clone());
        let name = format!("guest-{number}");
        guests.push(Thread::new(move || guest(&seats, &room, stay)).named(&name));
    }
    let began = Instant::now();
    for guest in &mut guests {
        guest.start().map_err(failed)?;
    }
    for guest in &mut guests {
        guest.join().map_err(failed)?;
    }
    let wall = began.elapsed();
    note!(
        en: "{GUESTS} guests, {SEATS} seats (信号量 Semaphore({SEATS})). The guests counted \
             themselves in and out: at most {most} were inside at once. {waited} of them waited \
             more than 1 ms for a seat (the ▒ on their lanes), the longest {longest}. All \
             {GUESTS} were done in {wall}.",
        zh: "{GUESTS} 位客人，{SEATS} 个座位（信号量 Semaphore({SEATS})）。客人们进出时\
             自己计数：同时在里面的最多 {most} 位。其中 {waited} 位为等座位等了 1 ms 以上（它们\
             泳道上的 ▒），最长的等了 {longest}。全部 {GUESTS} 位在 {wall} 内结束。",
        most = room.most_inside.load(SeqCst),
        waited = room.waited.load(SeqCst),
        longest = describe(Duration::from_micros(room.longest_wait_us.load(SeqCst))),
        wall = describe(wall),
    );

    // One release too many: a plain Semaphore grows, a BoundedSemaphore refuses.
    let plain = Semaphore::new(SEATS).named("plain");
    plain.release();
    say!(
        "Semaphore({SEATS}).release() without an acquire: now {} seats",
        plain.value()
    );
    let bounded = BoundedSemaphore::new(SEATS).named("bounded");
    match bounded.release() {
        Ok(()) => say!("BoundedSemaphore({SEATS}).release(): accepted?!"),
        Err(error) => say!("BoundedSemaphore({SEATS}).release(): ValueError: {error}"),
    }
    note!(
        en: "A semaphore does not know who holds its seats: any thread may release, even one \
             that took nothing. A plain Semaphore({SEATS}) then quietly has {seats} seats, and \
             the limit is gone. BoundedSemaphore keeps the count at or below where it started \
             and refuses the extra release with Python's ValueError. Prefer it when the release \
             is meant to match an acquire.",
        zh: "信号量不知道座位在谁手里：任何线程都可以 release，哪怕它什么也没拿。于是普通的 \
             Semaphore({SEATS}) 悄悄变成了 {seats} 个座位，上限没了。BoundedSemaphore({SEATS})\
             （有界信号量）让计数不超过起始值，多出来的那次释放会被拒绝，报 Python 的 \
             ValueError。当每次释放都应当对应一次获取时，优先用它。",
        seats = plain.value(),
    );
    Ok(())
}

/// A guest: takes a seat (waiting while all five are taken), stays, leaves.
fn guest(seats: &Semaphore, room: &Room, stay: Duration) {
    let asked = Instant::now();
    // Python's `with sm:`: the seat is given back when `_seat` is dropped, at the end.
    let _seat = seats.hold();
    let waited = asked.elapsed();
    if waited > Duration::from_millis(1) {
        room.waited.fetch_add(1, SeqCst);
        room.longest_wait_us
            .fetch_max(waited.as_micros() as u64, SeqCst);
    }
    let inside = room.inside.fetch_add(1, SeqCst) + 1;
    room.most_inside.fetch_max(inside, SeqCst);
    // Said after taking the seat and (below) before giving it back: so the lines "got a seat"
    // and "leaves" can only undercount who is inside, never overcount.
    say!("got a seat ({inside} inside), staying {} s", stay.as_secs());
    context::sleep(stay);
    room.inside.fetch_sub(1, SeqCst);
    say!("leaves");
}

// ---------------------------------------------------------------------------------------------
// Step 2: the tutorial's database check with an Event.

fn event_database(lab: &mut Lab) -> Result<()> {
    let db_ready = Arc::new(Event::new().named("db-ready"));
    let check_takes = Duration::from_millis(100 * lab.rng().random_range(CHECK_TENTHS));
    let set_at = Arc::new(AtomicU64::new(0));
    let began = Instant::now();

    let (in_checker, set_at_in_checker) = (db_ready.clone(), set_at.clone());
    let mut checker = Thread::new(move || {
        say!("checking mysql (takes {:.1} s)", check_takes.as_secs_f64());
        context::sleep(check_takes);
        say!("mysql is up: set()");
        set_at_in_checker.store(began.elapsed().as_micros() as u64, SeqCst);
        in_checker.set();
    })
    .named("check");
    // Whether conn-1's last wait returned true: set() came while it waited, or just before it
    // began. A wait can also run out a moment before set(); the loop's is_set() then sees the
    // flag without waiting again.
    let patient_woken = Arc::new(AtomicBool::new(false));
    let (in_patient, woken_in_patient) = (db_ready.clone(), patient_woken.clone());
    let mut patient =
        Thread::new(move || connect(&in_patient, PATIENT_TRIES, &woken_in_patient)).named("conn-1");
    let in_impatient = db_ready.clone();
    let mut impatient =
        Thread::new(move || connect(&in_impatient, IMPATIENT_TRIES, &AtomicBool::new(false)))
            .named("conn-2");
    for thread in [&mut checker, &mut patient, &mut impatient] {
        thread.start().map_err(failed)?;
    }
    checker.join().map_err(failed)?;
    // 0 when the connector got through, 1 when it ended with its TimeoutError.
    let patient_code = patient.join().map_err(failed)?;
    let impatient_code = impatient.join().map_err(failed)?;
    let set_after = Duration::from_micros(set_at.load(SeqCst));
    let outcome = |code: i32, tries: u32| {
        let patience = describe(context::scaled(RETRY_EVERY * tries));
        if code == 0 {
            text!(
                en: "connected (patience {tries} tries, {patience})",
                zh: "连上了（耐心：{tries} 次，{patience}）",
            )
        } else {
            text!(
                en: "gave up with TimeoutError (patience {tries} tries, {patience}): in \
                     Python threading.excepthook prints it and join() returns None, as a \
                     thread has no exit code; the lab's join() returned {code}",
                zh: "以 TimeoutError 放弃（耐心：{tries} 次，{patience}）：在 Python 里由 \
                     threading.excepthook 打印这个异常，join() 返回 None，因为线程没有退出码；\
                     本课的 join() 返回了 {code}",
            )
        }
    };
    // What ended conn-1's waiting, as it happened in this run.
    let last_wait = if patient_code != 0 {
        String::new()
    } else if patient_woken.load(SeqCst) {
        text!(
            en: " This time conn-1's last wait returned true: set() came while it waited, or \
                 just before it began.",
            zh: "这一次 conn-1 的最后一次 wait 返回了 true：set() 在它等待时到来，或就在它\
                 开始等待之前。",
        )
    } else {
        text!(
            en: " This time conn-1's wait ran out a moment before set() came and returned \
                 false; the loop's is_set() then saw the flag, and conn-1 connected without \
                 waiting again.",
            zh: "这一次 conn-1 的 wait 恰好在 set() 之前一刻超时，返回 false；接着循环里的 \
                 is_set() 看到了标志，conn-1 没有再等就连上了。",
        )
    };
    note!(
        en: "The checker set the event (事件) {set_after} after it started. Each connector \
             called wait(0.5), {retry} at this speed, in a loop: every wait that ran out \
             returned false (a ▒ span ending 'gave up'), and the connector tried again; a \
             wait running when set() comes returns true at once.{last_wait} conn-1 {patient}; \
             conn-2 {impatient}. set() wakes every thread waiting on the event, and from then \
             on wait() returns at once, until clear().",
        zh: "检查线程在启动 {set_after} 后 set 了这个事件 (event)。每个连接线程都在循环里调用 \
             wait(0.5)，按现在的速度是 {retry}：每次等到超时的 wait 都返回 false（一段以放弃\
             告终的 ▒），连接线程就再试一次；set() 到来时正在进行的 wait 会立刻返回 true。\
             {last_wait}conn-1 {patient}；conn-2 {impatient}。set() 唤醒所有在这个事件上等待\
             的线程，此后 wait() 都立刻返回，直到 clear()。",
        set_after = describe(set_after),
        retry = describe(context::scaled(RETRY_EVERY)),
        patient = outcome(patient_code, PATIENT_TRIES),
        impatient = outcome(impatient_code, IMPATIENT_TRIES),
    );
    Ok(())
}

/// A connector: tries until the database is ready, waiting half a second between tries, and
/// gives up after `tries` (the tutorial's `raise TimeoutError('链接超时')`, which ends the
/// thread with an error). `woken` keeps what its last wait returned.
fn connect(db_ready: &Event, tries: u32, woken: &AtomicBool) -> std::result::Result<(), String> {
    let mut attempt = 1;
    while !db_ready.is_set() {
        if attempt > tries {
            return Err(format!(
                "TimeoutError: 链接超时 (no database after {tries} tries)"
            ));
        }
        say!("try {attempt} to connect");
        woken.store(db_ready.wait_timeout(RETRY_EVERY), SeqCst);
        attempt += 1;
    }
    say!("connected");
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Step 3: notify(n) wakes exactly n waiters.

fn notify_exactly_n() -> Result<()> {
    let go = Arc::new(Condition::new().named("go"));
    let ran = Arc::new(AtomicUsize::new(0));
    let mut runners = Vec::new();
    for number in 0..WAITERS {
        let (go, ran) = (go.clone(), ran.clone());
        let runner = Thread::new(move || -> std::result::Result<(), String> {
            let _held = go.hold();
            // A plain wait. Safe here only because the main thread makes
            // sure all five are waiting before it notifies; step 4 shows why that matters.
            go.wait().map_err(|e| e.to_string())?;
            say!("run the thread: {number}");
            // Counted after saying it, so that when the main thread sees the count, the line
            // is already written.
            ran.fetch_add(1, SeqCst);
            Ok(())
        });
        runners.push(runner.named(&format!("runner-{number}")));
    }
    for runner in &mut runners {
        runner.start().map_err(failed)?;
    }
    wait_until("all five runners wait", || go.waiting() == WAITERS)?;

    let woken = {
        let _held = go.hold();
        go.notify(FIRST_NOTIFY).map_err(failed)?
    };
    say!("notify({FIRST_NOTIFY})");
    wait_until("the woken runners have run", || {
        ran.load(SeqCst) == FIRST_NOTIFY
    })?;
    // Watch a while longer: nobody else may wake.
    context::sleep(QUIET_AFTER_NOTIFY);
    let (ran_after_first, still_waiting) = (ran.load(SeqCst), go.waiting());
    note!(
        en: "notify({FIRST_NOTIFY}) picked {woken} of the {WAITERS} waiting threads. {later} \
             later, {ran_after_first} had run and {still_waiting} were still waiting: a \
             Condition (条件变量) keeps its waiters in a line, and notify(n) wakes the first n \
             of it, exactly.",
        zh: "notify({FIRST_NOTIFY}) 从 {WAITERS} 个等待的线程中挑了 {woken} 个。{later} 之后，\
             {ran_after_first} 个已经运行，{still_waiting} 个还在等：条件变量 (Condition) 让等待\
             的线程排成一队，notify(n) 恰好唤醒队首的 n 个。",
        later = describe(context::scaled(QUIET_AFTER_NOTIFY)),
    );

    let woken_by_all = {
        let _held = go.hold();
        go.notify_all().map_err(failed)?
    };
    say!("notify_all()");
    for runner in &mut runners {
        runner.join().map_err(failed)?;
    }
    note!(
        en: "notify_all() woke the other {woken_by_all}. Each woken thread had to take the lock \
             again before it could return from wait(), so they ran one at a time.",
        zh: "notify_all() 唤醒了其余 {woken_by_all} 个。每个被唤醒的线程都要先重新拿到锁，\
             才能从 wait() 返回，所以它们一个接一个地运行。",
    );

    // Misuse: waiting or notifying without holding the lock.
    match go.wait() {
        Ok(_) => say!("wait() without the lock: returned?!"),
        Err(error) => say!("wait() without the lock: RuntimeError: {error}"),
    }
    match go.notify(1) {
        Ok(_) => say!("notify() without the lock: returned?!"),
        Err(error) => say!("notify() without the lock: RuntimeError: {error}"),
    }
    note!(
        en: "Both need the lock, and both refuse without it, with Python's RuntimeError. The \
             state a waiter waits for must only change with the lock held, or a notify can slip \
             between a waiter's check and its wait.",
        zh: "两者都需要持有锁，没有锁都会拒绝，报 Python 的 RuntimeError。等待者所等的状态只能\
             在持有锁时修改，否则 notify 可能恰好落在等待者检查状态和开始等待之间，被错过。",
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Step 4: a notify sent before anyone waits is lost; wait_for checks the state instead.

fn lost_wakeup(fixed: bool) -> Result<()> {
    let ready_signal = Arc::new(Condition::new().named("ready"));
    let ready = Arc::new(AtomicBool::new(false));
    // The waiter is still busy (starting up) when the main thread notifies. On a real machine
    // that is a matter of luck; here the waiter waits on this event until the main thread has
    // notified, so the unlucky order happens every time.
    let starting_up = Arc::new(Event::new().named("starting-up"));
    let (signal, is_ready, startup) = (ready_signal.clone(), ready.clone(), starting_up.clone());
    // Names of at most 8 characters stay whole in the human view's `main/...` column.
    let name = if fixed { "waiter-2" } else { "waiter-1" };
    let mut waiter = Thread::new(move || -> std::result::Result<(), String> {
        say!("starting up; then I wait for the notify");
        startup.wait();
        let _held = signal.hold();
        let began = Instant::now();
        if fixed {
            // Checks the state with the lock held, and waits only while it is false.
            signal
                .wait_for(|| is_ready.load(SeqCst))
                .map_err(|e| e.to_string())?;
            say!(
                "wait_for(ready) returned after {}: ready was already true",
                describe(began.elapsed())
            );
        } else {
            // A plain `con.wait()`: waits for a notify, whatever the state is.
            let notified = signal
                .wait_timeout(LOST_PATIENCE)
                .map_err(|e| e.to_string())?;
            if notified {
                say!("wait() was notified after {}", describe(began.elapsed()));
            } else {
                say!(
                    en: "wait() gave up after {}: no notify came, though ready is {}",
                    zh: "wait() 等了 {} 后放弃：没有等到 notify，而 ready 已经是 {}",
                    describe(began.elapsed()),
                    is_ready.load(SeqCst)
                );
            }
        }
        Ok(())
    })
    .named(name);
    waiter.start().map_err(failed)?;

    let woken = {
        let _held = ready_signal.hold();
        ready.store(true, SeqCst);
        ready_signal.notify(1).map_err(failed)?
    };
    say!("ready = true; notify(1) woke {woken} thread(s)");
    starting_up.set();
    waiter.join().map_err(failed)?;
    if fixed {
        note!(
            en: "The same order of events with wait_for(lambda: ready): the waiter looked at the \
                 state, with the lock held, found it true and did not wait at all (no ▒ on its \
                 lane). It never needed the notify. The state (ready), not the notify, is the \
                 message; the notify only says 'look again'.",
            zh: "同样的先后顺序，换成 wait_for(lambda: ready)：等待者在持有锁时查看状态，发现它\
                 已经是 true，根本没有等（它的泳道上没有 ▒）。它从来不需要那次 notify。真正传递\
                 消息的是状态 (ready)，而不是 notify；notify 只是说“再看一眼”。",
        );
    } else {
        note!(
            en: "notify(1) woke {woken} threads: nobody was waiting yet, and a Condition does \
                 not remember a notify for later. The waiter then waited for a notify that had \
                 already happened, and gave up only because the lesson gave it a timeout of \
                 {patience}; a plain con.wait() has none and would wait forever. This is the \
                 lost wake-up (丢失唤醒).",
            zh: "notify(1) 唤醒了 {woken} 个线程：那时还没有人在等，而 Condition 不会把 notify \
                 留到以后。等待者随后去等一个早已发生的 notify，它最后放弃，只是因为本课给了它 \
                 {patience} 的超时；普通的 con.wait() 没有超时，会永远等下去。这就是丢失唤醒 \
                 (lost wake-up)。",
            patience = describe(context::scaled(LOST_PATIENCE)),
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Step 5: woken by notify_all, but another thread took the bun first.

/// Who took which bun, for the notes: (name, buns left after taking).
type Taken = Arc<Mutex<Vec<(String, i32)>>>;

fn stale_wakeup(fixed: bool) -> Result<()> {
    let plate = Arc::new(Condition::new().named("plate"));
    let buns = Arc::new(AtomicI32::new(0));
    let taken: Taken = Arc::new(Mutex::new(Vec::new()));
    // eater-1 and eater-2 check with `if`, eater-3 and eater-4 with `wait_for`.
    let numbers = if fixed { [3, 4] } else { [1, 2] };
    let mut eaters = Vec::new();
    for number in numbers {
        let (plate, buns, taken) = (plate.clone(), buns.clone(), taken.clone());
        let name = format!("eater-{number}");
        let eater = Thread::new(move || eat_one_bun(&plate, &buns, &taken, fixed));
        eaters.push(eater.named(&name));
    }
    for eater in &mut eaters {
        eater.start().map_err(failed)?;
    }
    wait_until("both eaters wait", || plate.waiting() == 2)?;

    // One bun for two hungry threads, and everyone is told.
    let woken = {
        let _held = plate.hold();
        buns.fetch_add(1, SeqCst);
        plate.notify_all().map_err(failed)?
    };
    say!("chef: 1 bun on the plate; notify_all() woke {woken}");
    if fixed {
        wait_until("one eater has eaten and the other waits again", || {
            taken_count(&taken) == 1 && plate.waiting() == 1
        })?;
        let first = first_taker(&taken);
        note!(
            en: "Again both were woken, and {first} took the bun. The other one checked the \
                 plate again, as wait_for does after every wake-up, found it empty and went back \
                 to waiting: its lane has a second ▒ span.",
            zh: "两个又都被唤醒了，{first} 拿走了包子。另一个像 wait_for 在每次被唤醒后那样，\
                 又看了一眼盘子，发现是空的，就回去继续等：它的泳道上有第二段 ▒。",
        );
        let woken = {
            let _held = plate.hold();
            buns.fetch_add(1, SeqCst);
            plate.notify(1).map_err(failed)?
        };
        say!("chef: 1 more bun; notify(1) woke {woken}");
    }
    for eater in &mut eaters {
        eater.join().map_err(failed)?;
    }
    let left = buns.load(SeqCst);
    let who = taken_names(&taken);
    if fixed {
        note!(
            en: "Two buns, two eaters, {left} left: {who}. wait_for(predicate) is `while not \
                 predicate(): wait()`, the loop that makes a wake-up a reason to look, never a \
                 promise.",
            zh: "两个包子，两个吃包子的线程，剩下 {left} 个：{who}。wait_for(predicate) 就是 \
                 `while not predicate(): wait()`，这个循环让被唤醒只是“再看一眼”的理由，\
                 而不是“一定有了”的保证。",
        );
    } else {
        note!(
            en: "One bun, two eaters, both woken by notify_all: {who}. The second eater had \
                 been woken, but by the time it got the lock back the first had taken the bun; \
                 it did not look again (`if`, not `while`) and took a bun that was not there. \
                 The plate now holds {left}. In Python, buns.pop() would raise IndexError here. \
                 This happens every time both are woken for one bun, not by bad luck.",
            zh: "一个包子，两个吃包子的线程，都被 notify_all 唤醒：{who}。第二个线程确实被唤醒了，\
                 但等它拿回锁时，第一个已经拿走了包子；它没有再看一眼（用的是 `if` 而不是 \
                 `while`），就去拿一个并不存在的包子。盘子里现在是 {left} 个。在 Python 里，\
                 这里的 buns.pop() 会抛出 IndexError。只要为一个包子唤醒了两个线程，每次都会\
                 这样，不是运气不好。",
        );
    }
    Ok(())
}

/// An eater: waits until there is a bun, takes it. With `fixed`, `wait_for` re-checks after
/// every wake-up; without, an `if` checks once, before the wait.
fn eat_one_bun(
    plate: &Condition,
    buns: &AtomicI32,
    taken: &Mutex<Vec<(String, i32)>>,
    fixed: bool,
) -> std::result::Result<(), String> {
    let _held = plate.hold();
    if fixed {
        plate
            .wait_for(|| buns.load(SeqCst) > 0)
            .map_err(|e| e.to_string())?;
    } else if buns.load(SeqCst) == 0 {
        plate.wait().map_err(|e| e.to_string())?;
    }
    let left = buns.fetch_sub(1, SeqCst) - 1;
    say!("took a bun: {left} left on the plate");
    let name = context::thread_name().unwrap_or_default();
    taken
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((name, left));
    Ok(())
}

fn taken_count(taken: &Taken) -> usize {
    taken.lock().unwrap_or_else(|e| e.into_inner()).len()
}

fn first_taker(taken: &Taken) -> String {
    let taken = taken.lock().unwrap_or_else(|e| e.into_inner());
    taken
        .first()
        .map_or(String::new(), |(name, _)| name.clone())
}

fn taken_names(taken: &Taken) -> String {
    let taken = taken.lock().unwrap_or_else(|e| e.into_inner());
    let said: Vec<String> = taken
        .iter()
        .map(|(name, left)| {
            text!(
                en: "{name} took one and saw {left} left",
                zh: "{name} 拿走一个，看到还剩 {left} 个",
            )
        })
        .collect();
    said.join(&text!(en: ", then ", zh: "，然后 "))
}

// ---------------------------------------------------------------------------------------------
// Step 6: a Timer that fires, and one cancelled in time.

fn timers() -> Result<()> {
    let began = Instant::now();
    let fired_at = Arc::new(AtomicU64::new(0));
    let fired_at_in_timer = fired_at.clone();
    let mut hello = Timer::new(HELLO_AFTER, move || {
        fired_at_in_timer.store(began.elapsed().as_micros() as u64, SeqCst);
        say!("hello, world");
    })
    .named("hello");
    let mut late =
        Timer::new(LATE_AFTER, || say!("too late: this should never print")).named("late");
    hello.start().map_err(failed)?;
    late.start().map_err(failed)?;
    let started_in = began.elapsed();
    context::sleep(CANCEL_AT);
    // Said before the call, so that the line comes before what the cancel causes.
    say!("late.cancel()");
    late.cancel();
    late.join().map_err(failed)?;
    let late_ended = began.elapsed();
    hello.join().map_err(failed)?;
    let fired_after = Duration::from_micros(fired_at.load(SeqCst));
    note!(
        en: "Both start() calls returned within {started_us} µs. The timer hello (interval \
             {hello_interval}) called its function {fired_after} after start: its thread waited \
             on its event for the whole interval (▒), the wait timed out, and only then did it \
             run the function. The timer late (interval {late_interval}) was cancelled at \
             {cancel_at}: cancel() sets the event, the wait ended early, and the thread ended \
             {late_ended} after start without calling its function (fired: {fired}).",
        zh: "两次 start() 调用都在 {started_us} µs 内返回。定时器 hello（间隔 {hello_interval}）在 \
             start 之后 {fired_after} 调用了它的函数：它的线程在自己的事件上等满了整个间隔（▒），\
             等待超时，然后才运行函数。定时器 late（间隔 {late_interval}）在 {cancel_at} 时被取消：\
             cancel() set 了那个事件，等待提前结束，线程在 start 之后 {late_ended} 结束，没有\
             调用它的函数（fired: {fired}）。",
        started_us = started_in.as_micros(),
        hello_interval = describe(context::scaled(HELLO_AFTER)),
        fired_after = describe(fired_after),
        late_interval = describe(context::scaled(LATE_AFTER)),
        cancel_at = describe(context::scaled(CANCEL_AT)),
        late_ended = describe(late_ended),
        fired = late.fired(),
    );
    match hello.start() {
        Ok(()) => say!("hello.start() again: started?!"),
        Err(error) => say!("hello.start() again: RuntimeError: {error}"),
    }
    note!(
        en: "A Timer is a Thread (定时器 = a thread that waits, then calls), and a thread can \
             only be started once: Python's RuntimeError. To run it again, make a new Timer.",
        zh: "Timer 就是一个 Thread（定时器 (timer) = 先等待、再调用的线程），而一个线程只能启动\
             一次：Python 的 RuntimeError。想再运行一次，就新建一个 Timer。",
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Small helpers.

/// A misuse or a system failure, as the lesson's error.
fn failed(error: impl Display) -> Error {
    Error::lesson(error.to_string())
}

/// Asks `check` every few milliseconds until it is true, for at most `PATIENCE`: used to know
/// that threads have reached their wait, rather than sleeping "long enough".
fn wait_until(what: &str, mut check: impl FnMut() -> bool) -> Result<()> {
    // Not scaled: what it waits for follows no sleep of the lesson's.
    wait::poll_until(PATIENCE, || check().then_some(())).ok_or_else(|| {
        Error::lesson(format!(
            "gave up waiting until {what} after {}",
            describe(PATIENCE)
        ))
    })
}
