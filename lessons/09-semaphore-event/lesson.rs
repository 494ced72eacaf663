//! Lesson 9: a semaphore lets N in at once; an event lets everyone go when it is set.
//!
//! What the student sees: seven users and a room with three seats, `Semaphore(3)` (信号量):
//! never more than three inside, counted by the users themselves in shared memory and from the
//! events, while the others are blocked (▒ on the timeline) until someone leaves. Then a traffic
//! light (红绿灯) process switching an `Event` (事件) between red (clear) and green (set), cars
//! that `wait()` for green, and police cars that wait only so long (`wait(timeout)`) before
//! they drive through anyway; the notes say when each car passed and why. A car waiting for
//! green is asleep in the kernel: state `S`, no CPU time used.
//!
//! System calls: `fork` (`Process::start`), `sem_wait`/`sem_post` on a `sem_t` in shared
//! memory (the semaphore), `futex` wait/wake on a word in shared memory (the event),
//! `/proc/<pid>/stat` for a waiting car's state and CPU time.

use std::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, Ordering::SeqCst};
use std::time::Duration;

use crate::lesson::prelude::*;
use nix::unistd::Pid;

use crate::multiprocessing::event::Event;
use crate::multiprocessing::{Process, Semaphore, SyncError};

// The lesson's durations, scaled by --speed (at speed 20 one second is 50 ms).
/// How long a user stays in the room: 1 to 3 s, drawn from the seed.
const STAY_SECONDS: std::ops::RangeInclusive<u64> = 1..=3;
/// How long the light stays red, then green, then red ...
const LIGHT_SWITCH: Duration = Duration::from_secs(3);
/// When the cars arrive: within this many milliseconds of the start, drawn from the seed.
const ARRIVALS_WITHIN_MS: u64 = 10_000;
/// How long a police car waits for green before it drives through anyway.
const POLICE_PATIENCE: Duration = Duration::from_secs(1);

const USERS: usize = 7;
const SEATS: u32 = 3;
const CARS: usize = 6;
const POLICE_CARS: usize = 2;

pub fn run(lab: &mut Lab) -> Result<()> {
    lab.step("Semaphore(3): at most three in the room")?;
    room_with_three_seats(lab)?;
    lab.step("Event: a traffic light")?;
    traffic_light(lab)
}

/// A `SyncError` (a lock, a semaphore or an event refused) as the lesson's error.
fn sync(error: SyncError) -> Error {
    Error::System(error.to_string())
}

// ---------------------------------------------------------------------------------------------
// Step 1: the room with three seats.

process_shared! {
    /// Written by the users, read by the main process afterwards.
    #[derive(Default)]
    struct Room {
        /// How many are inside right now, and the most there ever were at once.
        inside: AtomicU32,
        most_inside: AtomicU32,
    }
}

fn room_with_three_seats(lab: &mut Lab) -> Result<()> {
    let seats = Semaphore::new(SEATS).map_err(sync)?.named("room");
    let room = SharedMemory::new(Room::default())?;
    let mut users = Vec::new();
    for i in 0..USERS {
        let name = format!("user{i}");
        let stay = Duration::from_secs(lab.rng().random_range(STAY_SECONDS));
        let (seats, room) = (seats.clone(), room.clone());
        let who = name.clone();
        let mut user = Process::new(move || use_the_room(&who, &seats, &room, stay)).named(&name);
        user.start()?;
        users.push(user);
    }
    for user in &mut users {
        user.join()?;
    }
    let most = room.most_inside.load(SeqCst);
    note!(
        en: "{USERS} users, {SEATS} seats: at most {most} were inside at once, counted by the \
             users themselves (each adds itself to a counter in shared memory when it gets in, \
             and takes itself off before it leaves). The others were blocked in acquire() (▒ on \
             the timeline): a semaphore (信号量) is a counter of free seats; acquire() takes one \
             or sleeps until one is given back. A lock (互斥锁) is the same thing with one seat.",
        zh: "{USERS} 个用户，{SEATS} 个座位：同时在里面的最多是 {most} 个，这是用户们自己数的（每个\
             用户进去时在共享内存的计数器上加一，离开前减一）。其余的用户阻塞在 acquire() 里（时间\
             线上的 ▒）：信号量 (semaphore) 就是一个空座位的计数器，acquire() 取走一个，没有就睡眠\
             到有人归还。互斥锁 (lock) 就是只有一个座位的信号量。",
    );
    Ok(())
}

/// One user: takes a seat (waiting if the room is full), stays a while, gives it back.
fn use_the_room(
    name: &str,
    seats: &Semaphore,
    room: &Room,
    stay: Duration,
) -> std::result::Result<(), SyncError> {
    // Python's `with sem:`: the seat is given back when `_seat` is dropped.
    let _seat = seats.hold()?;
    let now_inside = room.inside.fetch_add(1, SeqCst) + 1;
    room.most_inside.fetch_max(now_inside, SeqCst);
    say!("{name} gets a seat ({now_inside} inside)");
    context::sleep(stay);
    // Counted out before the seat is given back, so the count never shows one too many.
    room.inside.fetch_sub(1, SeqCst);
    say!("{name} leaves after {} s", stay.as_secs());
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Step 2: the traffic light.

/// How a car got through.
const GREEN_ON_ARRIVAL: u32 = 1;
const WOKEN_BY_GREEN: u32 = 2;
const GAVE_UP_WAITING: u32 = 3;

process_shared! {
    /// What the light and the cars write down, in microseconds since the lesson started.
    #[derive(Default)]
    struct Road {
        arrived_us: [AtomicU64; CARS + POLICE_CARS],
        passed_us: [AtomicU64; CARS + POLICE_CARS],
        how: [AtomicU32; CARS + POLICE_CARS],
        /// The times the light turned green.
        greens: AtomicU32,
        green_at_us: [AtomicU64; 16],
        /// A car that is parked at red, for the main process to look at in /proc.
        waiting_pid: AtomicI32,
    }
}

fn traffic_light(lab: &mut Lab) -> Result<()> {
    let green = Event::new().map_err(sync)?.named("green light");
    let road = SharedMemory::new(Road::default())?;

    let (in_light, road_in_light) = (green.clone(), road.clone());
    let mut light = Process::new(move || switch_forever(&in_light, &road_in_light)).named("light");
    light.start()?;

    let mut cars = Vec::new();
    for i in 0..CARS + POLICE_CARS {
        let police = i >= CARS;
        let name = if police {
            format!("police{}", i - CARS)
        } else {
            format!("car{i}")
        };
        // The police cars come during the first red: the first early enough to give up before
        // green, the second late enough for green to come within its patience.
        let arrive_ms = if !police {
            lab.rng().random_range(0..ARRIVALS_WITHIN_MS)
        } else if i == CARS {
            lab.rng().random_range(200..1000)
        } else {
            lab.rng().random_range(2200..2700)
        };
        let arrive = Duration::from_millis(arrive_ms);
        let (green, road) = (green.clone(), road.clone());
        let who = name.clone();
        let mut car =
            Process::new(move || drive(&who, i, police, arrive, &green, &road)).named(&name);
        car.start()?;
        cars.push(car);
    }

    // While the cars come and go, find one waiting at red and look at it from /proc.
    let parked = crate::runtime::wait::poll_until(context::scaled(LIGHT_SWITCH * 4), || {
        let pid = road.waiting_pid.load(SeqCst);
        (pid != 0).then_some(Pid::from_raw(pid))
    });
    if let Some(pid) = parked {
        let before = cpu_ticks(pid);
        // Give it a little time in its wait, then look again.
        context::sleep(Duration::from_millis(500));
        let state = procfs::observe(pid);
        let after = cpu_ticks(pid);
        match (state, before, after) {
            (Some(state), Some(before), Some(after)) if state.state == 'S' => note!(
                en: "A car waiting for green, pid {pid}, read from /proc: state S (sleeping: \
                     waiting for an event), CPU time {before} clock tick(s) before a pause and \
                     {after} after it: it sleeps in the kernel (a futex wait) until set() wakes \
                     it; it does not check the light in a loop.",
                zh: "一辆等绿灯的车，pid {pid}，从 /proc 读到：状态 S（睡眠：在等某个事件），停顿\
                     之前 CPU 时间 {before} 个时钟滴答 (clock tick)，停顿之后 {after} 个：它在内核\
                     里睡眠（一次 futex 等待），直到 set() 把它唤醒；它并没有在循环里反复查看红绿\
                     灯。",
            ),
            _ => note!(
                en: "The lab looked for a car waiting at red (pid {pid}), but it had already \
                     driven on.",
                zh: "本课去找一辆在红灯前等待的车（pid {pid}），但它已经开走了。",
            ),
        }
    }

    for car in &mut cars {
        car.join()?;
    }
    light.terminate()?;
    let light_code = light.join()?;

    let greens: Vec<f64> = (0..road.greens.load(SeqCst).min(16) as usize)
        .map(|i| seconds(&road.green_at_us[i]))
        .collect();
    // One sentence per car, in the order they came.
    let mut order: Vec<usize> = (0..cars.len()).collect();
    order.sort_by_key(|&i| road.arrived_us[i].load(SeqCst));
    let mut passed = Vec::new();
    for i in order {
        let arrived = seconds(&road.arrived_us[i]);
        let at = seconds(&road.passed_us[i]);
        let name = cars[i].name();
        let patience = describe(context::scaled(POLICE_PATIENCE));
        passed.push(match road.how[i].load(SeqCst) {
            GREEN_ON_ARRIVAL => text!(
                en: "{name} came at {arrived:.3} s on green and drove on",
                zh: "{name} 在 {arrived:.3} s 遇到绿灯，直接开过",
            ),
            WOKEN_BY_GREEN => text!(
                en: "{name} came at {arrived:.3} s on red, waited, and set() woke it: it passed \
                     at {at:.3} s",
                zh: "{name} 在 {arrived:.3} s 遇到红灯，等待，set() 唤醒了它：{at:.3} s 通过",
            ),
            GAVE_UP_WAITING => text!(
                en: "{name} came at {arrived:.3} s on red, waited {patience}, wait(timeout) \
                     returned False and it passed at red at {at:.3} s",
                zh: "{name} 在 {arrived:.3} s 遇到红灯，等了 {patience}，wait(timeout) 返回 \
                     False，它在 {at:.3} s 闯红灯通过",
            ),
            _ => text!(
                en: "{name} did not say how it passed",
                zh: "{name} 没有说明它是怎么通过的",
            ),
        });
    }
    let green_times: Vec<String> = greens.iter().map(|g| format!("{g:.3} s")).collect();
    // Chinese lists with its own punctuation: 、 between items, ； between sentences.
    let green_times = green_times.join(&text!(en: ", ", zh: "、"));
    let passed = passed.join(&text!(en: "; ", zh: "；"));
    note!(
        en: "The light turned green at {green_times}. {passed}.",
        zh: "灯在 {green_times} 变绿。{passed}。",
    );
    note!(
        en: "An event (事件) is one flag for everyone: set() lets every waiting car through at \
             once, clear() makes the next ones wait. A car that wants to be sure the light is \
             still green when it moves must check again; the flag may be cleared a moment after \
             it woke. The light ran forever (a `while True` as in the tutorial), so the main \
             process ended it with terminate(): exitcode {light_code}.",
        zh: "事件 (event) 是给所有人看的同一个标志：set() 一下子放行所有在等的车，clear() 让后来的\
             车等待。一辆车如果要确认自己起步时灯仍是绿的，就得再查看一次：它被唤醒之后片刻，标志\
             就可能已被清除。灯永远在运行（和教程一样是一个 `while True`），所以主进程用 \
             terminate() 结束了它：退出码 (exitcode) {light_code}。",
    );
    Ok(())
}

/// The traffic light: red (clear) at first, then green (set), red ... until it is terminated.
fn switch_forever(green: &Event, road: &Road) {
    say!("light: red");
    loop {
        context::sleep(LIGHT_SWITCH);
        // The light says what it does first, so that its line comes before any car's
        // reaction to it.
        if green.is_set() {
            say!("light: red");
            green.clear();
        } else {
            let n = road.greens.fetch_add(1, SeqCst) as usize;
            if let Some(cell) = road.green_at_us.get(n) {
                store_now(cell);
            }
            say!("light: green");
            green.set();
        }
    }
}

/// A car: comes to the light, waits for green (a police car only for so long), drives on.
fn drive(
    name: &str,
    index: usize,
    police: bool,
    arrive: Duration,
    green: &Event,
    road: &Road,
) -> std::result::Result<(), SyncError> {
    context::sleep(arrive);
    store_now(&road.arrived_us[index]);
    let how = if green.is_set() {
        say!("{name}: green, driving through");
        GREEN_ON_ARRIVAL
    } else if police {
        say!(
            "{name}: red; waiting at most {} s",
            POLICE_PATIENCE.as_secs()
        );
        if green.wait_timeout(POLICE_PATIENCE)? {
            say!("{name}: green, driving through");
            WOKEN_BY_GREEN
        } else {
            say!("{name}: still red, driving through anyway");
            GAVE_UP_WAITING
        }
    } else {
        say!("{name}: red, waiting");
        let _ =
            road.waiting_pid
                .compare_exchange(0, nix::unistd::getpid().as_raw(), SeqCst, SeqCst);
        green.wait()?;
        say!("{name}: green, driving through");
        WOKEN_BY_GREEN
    };
    road.how[index].store(how, SeqCst);
    store_now(&road.passed_us[index]);
    Ok(())
}

/// The CPU time `pid` has used so far (user + system), in clock ticks, from /proc.
fn cpu_ticks(pid: Pid) -> Option<u64> {
    let line = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // After the name in parentheses: state is field 3, utime field 14, stime field 15.
    let fields: Vec<&str> = line[line.rfind(')')? + 1..].split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

fn store_now(cell: &AtomicU64) {
    cell.store((context::elapsed() * 1e6) as u64, SeqCst);
}

fn seconds(cell: &AtomicU64) -> f64 {
    cell.load(SeqCst) as f64 / 1e6
}
