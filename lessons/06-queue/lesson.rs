//! Lesson 6: a queue (队列) between processes.
//!
//! What the student sees: `Queue(3)` filled, then `put` with no room and `get` with nothing
//! there, with and without a timeout (Python's `queue.Full` and `queue.Empty`, as error
//! values); `empty()`, `full()` and `qsize()` are answers that can be wrong a moment later,
//! shown by two consumers racing for one item, twenty times; the tutorial's producer and
//! consumers, ended by one sentinel (`None`) per consumer, with a bounded queue that makes the
//! producer wait (▒ on the timeline); `JoinableQueue`, whose `join()` waits until every item
//! was marked done, with daemon consumers; and what a queue is underneath: a pipe plus a
//! lock. Two writers on a bare pipe tear each other's long messages; through a queue they
//! arrive whole.
//!
//! System calls: `pipe2`, `write`/`read` with a length before each message, `poll`,
//! `sem_wait`/`sem_timedwait`/`sem_post` on the queue's locks and free places (semaphores in
//! shared memory), `futex` for `JoinableQueue.join()`, and `fork`/`waitpid`.

use std::fs::File;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::SeqCst};
use std::time::{Duration, Instant};

use crate::lesson::prelude::*;
use crate::multiprocessing::{JoinableQueue, Process, Queue, QueueError};

/// How long `put` and `get` wait in step 1 before they give up.
const TIMEOUT: Duration = Duration::from_secs(1);
/// Step 2: how many races of two consumers for one item.
const ROUNDS: usize = 20;
/// Step 3: the baozi the producer makes, the queue's size, and how long a consumer eats.
const BAOZI: usize = 6;
const QUEUE_SIZE: usize = 2;
const EAT_MIN_MS: u64 = 500;
const EAT_MAX_MS: u64 = 1500;
/// Step 5: two writers, each sending messages of this size; longer than the pipe's buffer.
const LONG_MESSAGE: usize = 200 * 1024;
const LONG_ROUNDS: usize = 5;

pub fn run(lab: &mut Lab) -> Result<()> {
    lab.step("put, get, and their errors")?;
    put_and_get()?;
    lab.step("empty(), full() and qsize() are hints")?;
    hints_race()?;
    lab.step("A producer, two consumers, one sentinel each")?;
    producer_and_consumers(lab)?;
    lab.step("JoinableQueue: task_done() and join()")?;
    joinable()?;
    lab.step("Underneath: a pipe plus a lock")?;
    pipe_plus_lock()
}

// ---------------------------------------------------------------------------------------------
// Step 1: the tutorial's `q = Queue(3)`, filled and emptied in the main process.

fn put_and_get() -> Result<()> {
    let q: Queue<String> = Queue::new(3)?.named("q");
    for i in 1..=3 {
        q.put(&format!("baozi {i}"))?;
    }
    say!(
        "put 3 into Queue(3): full() = {}, qsize() = {}",
        q.full(),
        q.qsize()
    );
    show(
        "put_nowait(\"baozi 4\")",
        q.put_nowait(&"baozi 4".to_string()),
    );
    let began = Instant::now();
    show(
        "put(\"baozi 4\", timeout)",
        q.put_timeout(&"baozi 4".to_string(), TIMEOUT),
    );
    let put_waited = began.elapsed();
    let mut got = Vec::new();
    for _ in 0..3 {
        got.push(q.get()?);
    }
    say!(
        "got {}: empty() = {}, qsize() = {}",
        got.join(", "),
        q.empty(),
        q.qsize()
    );
    show("get_nowait()", q.get_nowait());
    let began = Instant::now();
    show("get(timeout)", q.get_timeout(TIMEOUT));
    let get_waited = began.elapsed();
    q.close();
    show("put() after close()", q.put(&"baozi 5".to_string()));

    let unbounded: Queue<u32> = Queue::new(0)?;
    for i in 0..100 {
        unbounded.put_nowait(&i)?;
    }
    say!(
        en: "Queue(0): 100 put_nowait() calls, none refused, qsize() = {}",
        zh: "Queue(0)：100 次 put_nowait() 调用，没有一次被拒绝，qsize() = {}",
        unbounded.qsize()
    );
    // task_done() is bounded by the items put, not by the items got: two puts and one get
    // allow two task_done() calls; the third is the error.
    let done: JoinableQueue<u32> = JoinableQueue::new(0)?;
    done.put(&1)?;
    done.put(&2)?;
    done.get()?;
    show(
        "JoinableQueue: 2 put(), 1 get(), 2 task_done()",
        done.task_done().and_then(|()| done.task_done()),
    );
    show("JoinableQueue: a third task_done()", done.task_done());
    note!(
        en: "A full Queue(3) refuses put_nowait() at once (queue.Full), and put() with a timeout \
             waited {put_waited} (▒ on main's lane) before it gave up with the same error. An \
             empty one refuses get_nowait() (queue.Empty), and get() with a timeout waited \
             {get_waited}. Without a timeout, both would wait as long as it takes. Queue(0) has \
             no bound, as in Python.",
        zh: "满的 Queue(3) 立即拒绝 put_nowait()（queue.Full）；带超时的 put() 先等了 \
             {put_waited}（main 那一行上的 ▒），才以同样的错误放弃。空队列立即拒绝 \
             get_nowait()（queue.Empty），带超时的 get() 等了 {get_waited}。不带超时，两者都会\
             一直等下去。Queue(0) 没有上限，和 Python 一样。",
        put_waited = describe(put_waited),
        get_waited = describe(get_waited)
    );
    Ok(())
}

/// Says what a call gave: its error, or that it succeeded.
fn show<T>(what: &str, result: std::result::Result<T, QueueError>) {
    match result {
        Err(error) => say!("{what}: error: {error}"),
        Ok(_) => say!("{what}: ok"),
    }
}

// ---------------------------------------------------------------------------------------------
// Step 2: two consumers see one item, and both try to take it.

process_shared! {
    /// What the two racers of one round write down.
    #[derive(Default)]
    struct Race {
        ready: AtomicU32,
        go: AtomicBool,
        /// How many saw `empty() == false`, and how many of those then got `Empty`.
        saw_an_item: AtomicU32,
        found_none: AtomicU32,
    }
}

fn hints_race() -> Result<()> {
    let mut both_saw_it = 0;
    let mut misled = 0;
    for round in 1..=ROUNDS {
        let q: Queue<String> = Queue::new(0)?.named("one-item");
        q.put(&"the last baozi".to_string())?;
        let race = SharedMemory::new(Race::default())?;
        let mut racers = Vec::new();
        for name in ["left", "right"] {
            let (q, race) = (q.clone(), race.clone());
            racers.push(
                Process::new(move || look_then_take(&q, &race)).named(&format!("r{round}-{name}")),
            );
        }
        for racer in &mut racers {
            racer.start()?;
        }
        // Both are started and spinning: let them go at the same moment.
        while race.ready.load(SeqCst) < 2 {
            std::thread::yield_now();
        }
        race.go.store(true, SeqCst);
        for racer in &mut racers {
            racer.join()?;
        }
        let (saw, none) = (race.saw_an_item.load(SeqCst), race.found_none.load(SeqCst));
        say!(
            en: "round {round}: {saw} of 2 saw empty() = false; {none} of them then got \
                 queue.Empty",
            zh: "第 {round} 轮：2 个里有 {saw} 个看到 empty() = false；其中 {none} 个随后得到 \
                 queue.Empty",
        );
        both_saw_it += usize::from(saw == 2);
        misled += usize::from(none > 0);
    }
    note!(
        en: "One item, two consumers that each ask empty() and then get_nowait(). In \
             {both_saw_it} of {ROUNDS} rounds both were told the queue was not empty, and in \
             {misled} a consumer that was told so found nothing to get. empty(), full() and \
             qsize() describe the queue at the moment they looked; another process can change \
             it before the next line runs. Use them as hints; to take an item, call get() and \
             handle queue.Empty.",
        zh: "一个条目，两个消费者，各自先问 empty() 再调用 get_nowait()。{ROUNDS} 轮中有 \
             {both_saw_it} 轮两个都被告知队列不空，有 {misled} 轮一个被这样告知的消费者什么也\
             没拿到。empty()、full() 和 qsize() 描述的是它们查看那一刻的队列；在下一行执行\
             之前，别的进程就可能改变它。把它们当作提示；要取条目，就调用 get() 并处理 \
             queue.Empty。",
    );
    Ok(())
}

fn look_then_take(q: &Queue<String>, race: &Race) {
    race.ready.fetch_add(1, SeqCst);
    // Ready, and waiting for the start signal, to look at the same moment as the other.
    while !race.go.load(SeqCst) {
        std::thread::yield_now();
    }
    if !q.empty() {
        race.saw_an_item.fetch_add(1, SeqCst);
        if let Err(QueueError::Empty) = q.get_nowait() {
            race.found_none.fetch_add(1, SeqCst);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Step 3: the tutorial's producer and consumers, with a sentinel per consumer.

process_shared! {
    /// What the producer writes down: how often and how long it waited for room.
    #[derive(Default)]
    struct ProducerRecord {
        blocked_puts: AtomicU32,
        blocked_us: AtomicU64,
    }
}

fn producer_and_consumers(lab: &mut Lab) -> Result<()> {
    // `None` is the sentinel, Python's `q.put(None)`: "no more baozi, stop".
    let q: Queue<Option<String>> = Queue::new(QUEUE_SIZE)?.named("baozi");
    let record = SharedMemory::new(ProducerRecord::default())?;
    let (in_producer, record_in_producer) = (q.clone(), record.clone());
    let mut producer =
        Process::new(move || produce(&in_producer, &record_in_producer)).named("producer");
    let mut consumers = Vec::new();
    for name in ["c1", "c2"] {
        // The parent draws each consumer's eating times, so that a seed replays the run.
        let meals: Vec<Duration> = (0..BAOZI)
            .map(|_| Duration::from_millis(lab.rng().random_range(EAT_MIN_MS..=EAT_MAX_MS)))
            .collect();
        let in_consumer = q.clone();
        consumers.push(Process::new(move || consume(&in_consumer, name, &meals)).named(name));
    }
    producer.start()?;
    for consumer in &mut consumers {
        consumer.start()?;
    }
    producer.join()?;
    // The producer is done: one sentinel per consumer, each consumer stops at the first it gets.
    for _ in &consumers {
        q.put(&None)?;
    }
    say!("main: the producer is done; put one None per consumer");
    for consumer in &mut consumers {
        consumer.join()?;
    }
    let blocked = Duration::from_micros(record.blocked_us.load(SeqCst));
    note!(
        en: "The queue holds {QUEUE_SIZE}, and the producer is faster than the consumers: \
             {blocked_puts} of its {BAOZI} put() calls found the queue full and waited, \
             {blocked} in all (▒ on its lane, 'wait' on queue baozi). A bounded queue slows a \
             fast producer down to the consumers' pace. A consumer's get() cannot know that no \
             more is coming, so the main process put one None per consumer after the producer \
             ended: two consumers, two sentinels. With one, the other consumer would wait for \
             ever.",
        zh: "队列只能放 {QUEUE_SIZE} 个，生产者又比消费者快：它的 {BAOZI} 次 put() 中有 \
             {blocked_puts} 次碰到队列已满而等待，一共 {blocked}（它那一行上的 ▒，队列 baozi \
             上的 wait）。有界队列让快的生产者放慢到消费者的节奏。消费者的 get() 无法知道不会\
             再有包子了，所以生产者结束后，主进程为每个消费者放入一个 None：两个消费者，两个\
             哨兵。只放一个的话，另一个消费者会永远等下去。",
        blocked_puts = record.blocked_puts.load(SeqCst),
        blocked = describe(blocked)
    );
    Ok(())
}

fn produce(
    q: &Queue<Option<String>>,
    record: &ProducerRecord,
) -> std::result::Result<(), QueueError> {
    for i in 1..=BAOZI {
        let baozi = Some(format!("baozi {i}"));
        // put_nowait() first, only to count for the note how often the queue was full; a
        // producer would simply call put().
        match q.put_nowait(&baozi) {
            Ok(()) => {}
            Err(QueueError::Full) => {
                let began = Instant::now();
                q.put(&baozi)?;
                record.blocked_puts.fetch_add(1, SeqCst);
                record
                    .blocked_us
                    .fetch_add(began.elapsed().as_micros() as u64, SeqCst);
            }
            Err(error) => return Err(error),
        }
        say!("producer: made baozi {i}");
    }
    Ok(())
}

fn consume(
    q: &Queue<Option<String>>,
    name: &str,
    meals: &[Duration],
) -> std::result::Result<(), QueueError> {
    let mut eaten = 0;
    while let Some(baozi) = q.get()? {
        context::sleep(meals[eaten % meals.len()]);
        eaten += 1;
        say!("{name}: ate {baozi}");
    }
    say!("{name}: got None, stopping after {eaten} baozi");
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Step 4: JoinableQueue, and consumers that are daemons.

fn joinable() -> Result<()> {
    let mut shop = Process::new(run_the_shop).named("shop");
    shop.start()?;
    let code = shop.join()?;
    note!(
        en: "The producer's join() waited (▒) until each of its {BAOZI} baozi had been marked \
             done by a consumer's task_done(), so when it returned every baozi was eaten, not \
             only taken. The consumers loop for ever and got no sentinel: they are daemons, and \
             shop terminated them (exitcode -15) on its way out, once the producer it waited \
             for was done. shop ended with exitcode {code}.",
        zh: "生产者的 join() 一直等待（▒），直到它的 {BAOZI} 个包子都被消费者的 task_done() \
             标记为完成，所以它返回时每个包子都已被吃掉，而不只是被取走。消费者无限循环，也没\
             拿到哨兵：它们是守护进程，shop 等的生产者一结束，shop 在退出时就终止了它们\
             （exitcode -15）。shop 的 exitcode 是 {code}。"
    );
    Ok(())
}

/// The tutorial's `__main__` of the JoinableQueue example, as a process of its own.
fn run_the_shop() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let q: JoinableQueue<String> = JoinableQueue::new(0)?.named("orders");
    let in_producer = q.clone();
    let mut producer = Process::new(move || -> std::result::Result<(), QueueError> {
        for i in 1..=BAOZI {
            in_producer.put(&format!("baozi {i}"))?;
        }
        say!("p1: made {BAOZI} baozi; waiting until all are eaten");
        in_producer.join();
        say!("p1: all eaten, leaving");
        Ok(())
    })
    .named("p1");
    let mut consumers = Vec::new();
    for name in ["c3", "c4"] {
        let in_consumer = q.clone();
        let mut consumer = Process::new(move || eat_and_mark_done(&in_consumer, name)).named(name);
        consumer.set_daemon(true)?;
        consumers.push(consumer);
    }
    for consumer in &mut consumers {
        consumer.start()?;
    }
    producer.start()?;
    producer.join()?;
    say!("shop: p1 is done, so is every baozi; the daemon consumers end with me");
    Ok(())
}

fn eat_and_mark_done(q: &JoinableQueue<String>, name: &str) -> std::result::Result<(), QueueError> {
    loop {
        let baozi = q.get()?;
        context::sleep(Duration::from_millis(EAT_MIN_MS));
        say!("{name}: ate {baozi}");
        q.task_done()?;
    }
}

// ---------------------------------------------------------------------------------------------
// Step 5: a bare pipe with two writers, then a queue with two writers.

fn pipe_plus_lock() -> Result<()> {
    let mut torn_rounds = 0;
    let mut pieces_seen = Vec::new();
    for _ in 0..LONG_ROUNDS {
        let pieces = bare_pipe_round()?;
        torn_rounds += usize::from(pieces > 2);
        pieces_seen.push(pieces.to_string());
    }
    say!(
        en: "bare pipe: {torn_rounds} of {LONG_ROUNDS} rounds torn; pieces per round: {}",
        zh: "裸管道：{torn_rounds} 轮被撕碎（共 {LONG_ROUNDS} 轮）；每轮的碎片数：{}",
        pieces_seen.join(", ")
    );
    let mut whole = 0;
    for _ in 0..LONG_ROUNDS {
        whole += queue_round()?;
    }
    say!(
        en: "queue: {whole} of {} messages whole",
        zh: "队列：{whole} 条消息完整（共 {} 条）",
        2 * LONG_ROUNDS
    );
    note!(
        en: "On a bare pipe, each of two writers wrote one message of {kib} KiB in a single \
             write(); the reader read what came until the end of file. In {torn_rounds} of \
             {LONG_ROUNDS} rounds the two messages arrived cut into pieces and interleaved (two \
             pieces means whole). The kernel keeps a write whole only up to PIPE_BUF \
             ({pipe_buf} bytes); a longer one goes in as the pipe empties, and the other \
             writer's bytes land in between. Through a Queue, the same messages came whole, \
             {whole} of {sent}: each put() takes the queue's write lock, writes the length and \
             the message, and lets go. That is the queue: a pipe, a length in front of each \
             message, and a lock (plus, in Python, a feeder thread that does the writing).",
        zh: "在裸管道上，两个写者各用一次 write() 写了一条 {kib} KiB 的消息；读者一直读到文件\
             结尾 (EOF)。{LONG_ROUNDS} 轮中有 {torn_rounds} 轮，两条消息被切成几段、交错到达\
             （两段就表示完整）。内核只保证不超过 PIPE_BUF（{pipe_buf} 字节）的写入是完整的；\
             更长的写入随着管道被读空一段段写进去，另一个写者的字节就落在中间。经过 Queue，\
             同样的消息完整到达，{sent} 条中 {whole} 条：每次 put() 取得队列的写锁，写入长度\
             和消息，然后释放。这就是队列：一根管道，每条消息前面一个长度，再加一把锁（Python \
             里还有一个在后台负责写入的线程）。",
        kib = LONG_MESSAGE / 1024,
        pipe_buf = libc::PIPE_BUF,
        sent = 2 * LONG_ROUNDS
    );
    Ok(())
}

/// Two writers, one long message each, on a bare pipe; returns how many runs of one writer's
/// bytes the reader saw (2 when neither message was cut).
fn bare_pipe_round() -> Result<usize> {
    let (read_end, write_end) = nix::unistd::pipe()?;
    // Each writer counts itself here right before its write(); the main process starts
    // reading once both are about to write, so that the two writes overlap.
    let writing = SharedMemory::new(AtomicU32::new(0))?;
    let mut writers = Vec::new();
    for letter in [b'a', b'b'] {
        let mut mine = File::from(write_end.try_clone()?);
        let writing = writing.clone();
        writers.push(
            Process::new(move || {
                let message = vec![letter; LONG_MESSAGE];
                writing.fetch_add(1, SeqCst);
                mine.write_all(&message)
            })
            .named(&format!("bare-{}", letter as char)),
        );
    }
    for writer in &mut writers {
        writer.start()?;
    }
    // Only the writers hold the write end now.
    drop(write_end);
    // Not scaled: the writers sleep nothing before they write.
    wait::poll_until(Duration::from_secs(10), || {
        (writing.load(SeqCst) == 2).then_some(())
    });
    let mut everything = Vec::new();
    File::from(read_end).read_to_end(&mut everything)?;
    for writer in &mut writers {
        writer.join()?;
    }
    let runs = 1 + everything
        .windows(2)
        .filter(|pair| pair[0] != pair[1])
        .count();
    Ok(runs)
}

/// Two writers, one long message each, through a queue; returns how many arrived whole.
fn queue_round() -> Result<usize> {
    let q: Queue<String> = Queue::new(0)?.named("long");
    let mut writers = Vec::new();
    for letter in ['a', 'b'] {
        let mine = q.clone();
        writers.push(
            Process::new(move || mine.put(&letter.to_string().repeat(LONG_MESSAGE)))
                .named(&format!("queued-{letter}")),
        );
    }
    for writer in &mut writers {
        writer.start()?;
    }
    let mut whole = 0;
    for _ in 0..writers.len() {
        let message = q.get()?;
        let first = message.chars().next();
        whole +=
            usize::from(message.len() == LONG_MESSAGE && message.chars().all(|c| Some(c) == first));
    }
    for writer in &mut writers {
        writer.join()?;
    }
    Ok(whole)
}
