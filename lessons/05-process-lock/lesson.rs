//! Lesson 5: a lock (互斥锁) for processes, with the tutorial's ticket buyers (抢票).
//!
//! What the student sees: a file `db.json` holds `{"count": 1}`, one ticket. Ten buyer
//! processes each look the count up, wait for "the network", and buy if a ticket is left.
//! Without a lock several of them are told they bought the one ticket; with a
//! `multiprocessing::Lock` around the read-modify-write of the file exactly one is, and the
//! others wait for the lock (▒ on the timeline). Twenty quick rounds of each show that "it
//! worked this time" proves nothing. Last, `join()` after each `start()` also sells one ticket,
//! but makes the whole run serial and slow, where the lock serializes only the purchase.
//!
//! System calls: `fork` (`Process::start`), `read`/`write`/`rename` on the file, `sem_wait`
//! and `sem_post` on the lock (a semaphore in shared memory), `waitpid` (`join`).
//!
//! The buyers count their sales in shared memory (共享内存), since after `fork` an ordinary
//! variable is a separate copy in each process; the main process reads the counts afterwards.

use std::error::Error as StdError;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::SeqCst};
use std::time::{Duration, Instant};

use crate::lesson::prelude::*;
use serde::{Deserialize, Serialize};

use crate::multiprocessing::{Lock, Process};

/// The "database": a JSON file in the run's temporary directory, as the tutorial's `db.txt`.
const DB_FILE: &str = "db.json";
const BUYERS: usize = 10;
/// `search()` asks the server how many tickets are left: a slow query over the network.
const QUERY_DELAY: Duration = Duration::from_millis(300);
/// `get()` reads the count, and the network delays it before it can write the new count.
const NETWORK_DELAY: Duration = Duration::from_millis(100);
/// The quick rounds: how many, how many buyers each, and their random network delays.
const ROUNDS: usize = 20;
const ROUND_BUYERS: usize = 4;
const ROUND_DELAY_MAX_MS: u64 = 100;

/// The content of `db.json`.
#[derive(Serialize, Deserialize)]
struct Db {
    count: u32,
}

process_shared! {
    /// What the buyers of one run write down for the main process: how many "bought" the ticket,
    /// and how long each waited for the lock (microseconds).
    #[derive(Default)]
    struct Sales {
        bought: AtomicU32,
        waited_us: [AtomicU64; BUYERS],
    }
}

/// A buyer's errors: the file's, the lock's. (A `Box` takes either; it can be displayed.)
type BuyerResult = std::result::Result<(), Box<dyn StdError>>;

/// What one buyer process is given: Rust's keyword arguments.
struct Buyer {
    index: usize,
    db: PathBuf,
    /// `None`: no lock, the tutorial's first version.
    lock: Option<Lock>,
    /// The delay between reading the count and writing it back.
    network: Duration,
    /// Whether to look the count up first (the tutorial's `search()`) and say what happens.
    talk: bool,
    sales: SharedMemory<Sales>,
}

pub fn run(lab: &mut Lab) -> Result<()> {
    let db = context::temp_dir().join(DB_FILE);

    lab.step("Ten buyers, one ticket, no lock")?;
    let (sold, _) = sell(&db, BUYERS, None, |_| NETWORK_DELAY, true)?;
    let content = fs::read_to_string(&db)?;
    say!(
        en: "tickets sold: {sold}; {DB_FILE} now holds {}",
        zh: "卖出的票：{sold} 张；{DB_FILE} 现在的内容是 {}",
        content.trim()
    );
    let (network, content) = (describe(context::scaled(NETWORK_DELAY)), content.trim());
    note!(
        en: "There was one ticket, and {sold} of the {BUYERS} buyers were told 购票成功. Each of \
             them read {{\"count\": 1}}, then waited {network} for the network before writing; \
             while it waited, the others read the same old count. The file says {content} only \
             because every winner wrote the same 0: the last write won, and the ticket sold \
             {sold} times over. This is a race condition (竞争条件) on a shared file.",
        zh: "只有一张票，而 {BUYERS} 个买家中有 {sold} 个被告知“购票成功”。每个买家都读到 \
             {{\"count\": 1}}，然后等网络等了 {network} 才写回；在它等待期间，其他买家读到的\
             仍是同一个旧的余票数。文件里是 {content}，只是因为每个买到的人写的都是同一个 0：\
             最后一次写入覆盖了前面的，而这张票实际卖出了 {sold} 次。这就是共享文件上的竞争\
             条件 (race condition)。",
    );

    lab.step("A lock around the purchase")?;
    let lock = Lock::new().map_err(lesson_error)?.named("tickets");
    let began = Instant::now();
    let (sold, waits) = sell(&db, BUYERS, Some(&lock), |_| NETWORK_DELAY, true)?;
    let with_lock = began.elapsed();
    let content = fs::read_to_string(&db)?;
    say!(
        en: "tickets sold: {sold}; {DB_FILE} now holds {}",
        zh: "卖出的票：{sold} 张；{DB_FILE} 现在的内容是 {}",
        content.trim()
    );
    let waited: Duration = waits.iter().sum();
    let longest = waits.iter().max().copied().unwrap_or_default();
    let (waited, longest) = (describe(waited), describe(longest));
    let took = describe(with_lock);
    note!(
        en: "With the lock held from reading the count to writing it back, {sold} ticket was \
             sold. The buyers spent {waited} in all waiting for the lock (▒ on the timeline), \
             the longest {longest}: the purchases happened one at a time. The whole run took \
             {took}.",
        zh: "从读余票到写回的整段时间都拿着锁 (lock)，结果卖出了 {sold} 张票。买家们等锁一共花了 \
             {waited}（时间线上的 ▒），最长的一个等了 {longest}：购票是一个接一个进行的。整个\
             过程用了 {took}。",
    );

    lab.step("Twenty quick rounds of each")?;
    quick_rounds(lab, &db, &lock)?;

    lab.step("join() after each start() is not a lock")?;
    reset(&db)?;
    let began = Instant::now();
    let sales = SharedMemory::new(Sales::default())?;
    for index in 0..BUYERS {
        let mut buyer = buyer_process(Buyer {
            index,
            db: db.clone(),
            lock: None,
            network: NETWORK_DELAY,
            talk: true,
            sales: sales.clone(),
        });
        buyer.start()?;
        // Waiting for each buyer before starting the next: nothing overlaps any more.
        buyer.join()?;
    }
    let serial = began.elapsed();
    let sold = sales.bought.load(SeqCst);
    fs::remove_file(&db)?;
    say!(
        en: "tickets sold: {sold}, in {}",
        zh: "卖出的票：{sold} 张，用时 {}",
        describe(serial)
    );
    let times = serial.as_secs_f64() / with_lock.as_secs_f64().max(1e-9);
    let (serial, with_lock) = (describe(serial), describe(with_lock));
    let query = describe(context::scaled(QUERY_DELAY));
    let network = describe(context::scaled(NETWORK_DELAY));
    note!(
        en: "Joined one by one, the buyers sold {sold} ticket too, but in {serial} against \
             {with_lock} with the lock ({times:.1} times as long). join() made everything serial \
             (串行): each buyer's {query} query waited for the previous buyer to finish. The lock \
             made only the purchase serial: the ten queries overlapped, and only the {network} \
             read-modify-write took turns. Lock the critical section (临界区), not the whole \
             program.",
        zh: "一个接一个地 join，买家们同样只卖出 {sold} 张票，但用了 {serial}，而加锁时只用 \
             {with_lock}（前者是后者的 {times:.1} 倍）。join() 把所有事情都变成了串行 (serial)：每个\
             买家那次 {query} 的查询，都要等前一个买家做完才开始。锁只让购票这一段串行：十次查询\
             是重叠进行的，只有那段 {network} 的读-改-写要排队轮流。锁应当加在临界区 (critical \
             section) 上，而不是整个程序上。",
    );
    Ok(())
}

/// Puts one ticket in the file, lets `buyers` buyers at it at once (with `lock` if given),
/// waits for them all, and returns how many were told they bought it and how long each
/// waited for the lock.
fn sell(
    db: &Path,
    buyers: usize,
    lock: Option<&Lock>,
    network: impl Fn(usize) -> Duration,
    talk: bool,
) -> Result<(u32, Vec<Duration>)> {
    reset(db)?;
    let sales = SharedMemory::new(Sales::default())?;
    let mut processes: Vec<Process> = (0..buyers)
        .map(|index| {
            buyer_process(Buyer {
                index,
                db: db.to_path_buf(),
                lock: lock.cloned(),
                network: network(index),
                talk,
                sales: sales.clone(),
            })
        })
        .collect();
    for buyer in &mut processes {
        buyer.start()?;
    }
    for buyer in &mut processes {
        buyer.join()?;
    }
    let waits = sales
        .waited_us
        .iter()
        .take(buyers)
        .map(|us| Duration::from_micros(us.load(SeqCst)))
        .collect();
    Ok((sales.bought.load(SeqCst), waits))
}

fn buyer_process(buyer: Buyer) -> Process {
    let name = format!("buyer-{}", buyer.index + 1);
    Process::new(move || task(&buyer)).named(&name)
}

/// The tutorial's `task`: look the count up, then buy, with the lock around the buying.
fn task(buyer: &Buyer) -> BuyerResult {
    if buyer.talk {
        search(buyer)?;
    }
    match &buyer.lock {
        None => get(buyer),
        Some(lock) => {
            let asked = Instant::now();
            // Python's `with lock:` — held from here to the end of this block, released when
            // `_held` is dropped, whether `get` succeeds or fails.
            let _held = lock.hold()?;
            let waited = asked.elapsed().as_micros() as u64;
            buyer.sales.waited_us[buyer.index].store(waited, SeqCst);
            get(buyer)
        }
    }
}

/// The tutorial's `search()`: how many tickets are left (a query over the network).
fn search(buyer: &Buyer) -> BuyerResult {
    context::sleep(QUERY_DELAY);
    let left = read(&buyer.db)?.count;
    say!("buyer-{}: {left} ticket(s) left", buyer.index + 1);
    Ok(())
}

/// The tutorial's `get()`: read the count, wait for the network, buy if one is left.
fn get(buyer: &Buyer) -> BuyerResult {
    let mut db = read(&buyer.db)?;
    context::sleep(buyer.network);
    if db.count > 0 {
        db.count -= 1;
        write(&buyer.db, &db)?;
        buyer.sales.bought.fetch_add(1, SeqCst);
        if buyer.talk {
            say!("buyer-{}: bought the ticket (购票成功)", buyer.index + 1);
        }
    } else if buyer.talk {
        say!("buyer-{}: sold out", buyer.index + 1);
    }
    Ok(())
}

fn quick_rounds(lab: &mut Lab, db: &Path, lock: &Lock) -> Result<()> {
    // The parent draws every buyer's delay, so that one seed replays the same rounds.
    let mut delays = Vec::new();
    for _ in 0..ROUNDS {
        let round: Vec<Duration> = (0..ROUND_BUYERS)
            .map(|_| Duration::from_millis(lab.rng().random_range(0..=ROUND_DELAY_MAX_MS)))
            .collect();
        delays.push(round);
    }
    // How many rounds sold the ticket 1, 2, 3 ... times, without and with the lock.
    let mut without = vec![0usize; ROUND_BUYERS + 1];
    let mut with = vec![0usize; ROUND_BUYERS + 1];
    let began = Instant::now();
    for (round, round_delays) in delays.iter().enumerate() {
        let network = |i: usize| round_delays[i];
        let (sold, _) = sell(db, ROUND_BUYERS, None, network, false)?;
        // The outcome reads the number after the colon, in either language.
        say!(
            en: "round {} without the lock: {sold} of {ROUND_BUYERS} buyers got the one ticket",
            zh: "第 {} 轮，不加锁：{sold} 个买家（共 {ROUND_BUYERS} 个）买到了那一张票",
            round + 1
        );
        without[sold as usize] += 1;
        let (sold, _) = sell(db, ROUND_BUYERS, Some(lock), network, false)?;
        say!(
            en: "round {} with the lock: {sold} of {ROUND_BUYERS} buyers got the one ticket",
            zh: "第 {} 轮，加锁：{sold} 个买家（共 {ROUND_BUYERS} 个）买到了那一张票",
            round + 1
        );
        with[sold as usize] += 1;
    }
    fs::remove_file(db)?;
    let took = began.elapsed();
    let oversold = without.iter().skip(2).sum::<usize>();
    let delay_max = describe(context::scaled(Duration::from_millis(ROUND_DELAY_MAX_MS)));
    let took = describe(took);
    let (without, with) = (distribution(&without), distribution(&with));
    note!(
        en: "{ROUNDS} rounds of {ROUND_BUYERS} buyers each way, each buyer with its own random \
             network delay of 0 to {delay_max} (seeded), in {took}. Without the lock: {without}; \
             oversold in {oversold} of {ROUNDS} rounds. With the lock: {with}. A run without the \
             lock that happens to sell once proves nothing; the lock makes it so every time.",
        zh: "不加锁、加锁各跑 {ROUNDS} 轮，每轮 {ROUND_BUYERS} 个买家，每个买家有自己随机的网络\
             延迟，在 0 到 {delay_max} 之间（由种子生成），共用了 {took}。不加锁：{without}；\
             {ROUNDS} 轮中有 {oversold} 轮超卖。加锁：{with}。不加锁的某次运行碰巧只卖出一张，\
             什么也证明不了；加了锁，才能保证每次都如此。",
    );
    Ok(())
}

/// "1 sold: 3 rounds, 2 sold: 12 rounds ..." from counts of rounds by tickets sold.
fn distribution(rounds_by_sold: &[usize]) -> String {
    let parts: Vec<String> = rounds_by_sold
        .iter()
        .enumerate()
        .filter(|(_, rounds)| **rounds > 0)
        .map(|(sold, rounds)| {
            text!(
                en: "{sold} sold: {rounds} round(s)",
                zh: "卖出 {sold} 张的有 {rounds} 轮",
            )
        })
        .collect();
    parts.join(text!(en: ", ", zh: "，").as_str())
}

/// One ticket in the file.
fn reset(db: &Path) -> Result<()> {
    write(db, &Db { count: 1 }).map_err(Error::Io)
}

fn read(db: &Path) -> std::io::Result<Db> {
    let text = fs::read_to_string(db)?;
    serde_json::from_str(&text).map_err(std::io::Error::other)
}

/// Writes the file whole, through a new file renamed over the old one: `rename` replaces it
/// at once, so a buyer reading at the same moment sees the old count or the new one, never a
/// half-written file. (The tutorial's `json.dump(dic, open('db.txt', 'w'))` truncates first: a
/// reader in between finds an empty file.) The race this lesson shows is another one: between
/// reading the count and writing it back.
fn write(db: &Path, content: &Db) -> std::io::Result<()> {
    let fresh = db.with_extension(format!("{}.new", std::process::id()));
    fs::write(
        &fresh,
        serde_json::to_string(content).map_err(std::io::Error::other)?,
    )?;
    fs::rename(&fresh, db)
}

fn lesson_error(error: impl std::fmt::Display) -> Error {
    Error::lesson(error.to_string())
}
