//! Lesson 15: the producer-consumer model (生产者消费者模型) with Python's `queue` module.
//!
//! What the student sees: the tutorial's 包子 (steamed buns) shop, a chef and two eaters joined
//! by a `queue.Queue`, the eaters waiting (▒) while the queue is empty and going home at their
//! `None`; the same three puts coming out of `Queue`, `LifoQueue` and `PriorityQueue` in three
//! orders, side by side; a fast producer blocked by a bounded queue (▒ on its lane) beside one
//! whose unbounded queue just grows (its peak size shown); `task_done()`/`join()`, with
//! Python's error for one `task_done()` too many; shutting down with one sentinel per consumer
//! (one sentinel for three leaves two waiting); and how many items per second pass through a
//! queue of size 1, 10, 100 and unbounded, measured in this run.
//!
//! System calls: `pthread_create`/`pthread_join` (`Thread`), `futex` under the queue's mutex
//! and its three condition variables (a blocked `put` or `get` sleeps in `futex_wait`), and
//! `/proc/thread-self/status` for how often a thread went to sleep.

use std::fmt::Display;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::lesson::prelude::*;
use crate::threading::Thread;
use crate::threading::queue::{LifoQueue, PriorityQueue, Queue};

// The lesson's durations, all scaled by --speed (at speed 20, one second is 50 ms).
/// Step 1: six buns; the chef takes 0.2 to 1 s for each, an eater 0.5 to 1.5 s to eat one.
const BUNS: usize = 6;
const MAKE_MS: std::ops::RangeInclusive<u64> = 200..=1000;
const EAT_MS: std::ops::RangeInclusive<u64> = 500..=1500;
/// Step 3: twelve items, a consumer that takes a quarter of a second for each, and the
/// bounded queue's size.
const ITEMS: u64 = 12;
const SLOW_CONSUMER: Duration = Duration::from_millis(250);
const BOUND: usize = 3;
/// Step 4: six jobs of 0.3 to 1 s for two workers.
const JOBS: u32 = 6;
const JOB_MS: std::ops::RangeInclusive<u64> = 300..=1000;
/// Step 5: orders, and how long the lesson watches the consumers left without a sentinel.
const ORDERS: u32 = 6;
const SERVE: Duration = Duration::from_millis(200);
const WATCH_STUCK: Duration = Duration::from_secs(1);
/// Step 6: items sent through each queue, and the queue sizes compared (0: unbounded).
const MESSAGES: u64 = 10_000;
const SIZES: [usize; 4] = [1, 10, 100, 0];

/// How long to wait for something that happens at once: not scaled. Reaching it means
/// something is wrong.
const PATIENCE: Duration = Duration::from_secs(10);

pub fn run(lab: &mut Lab) -> Result<()> {
    lab.step("包子: a chef, two eaters and a Queue")?;
    bun_shop(lab)?;
    lab.step("Same puts, three orders")?;
    three_orders();
    lab.step("Bounded against unbounded")?;
    bounded_against_unbounded()?;
    lab.step("task_done() and join()")?;
    task_done_and_join(lab)?;
    lab.step("One sentinel per consumer")?;
    one_sentinel_per_consumer()?;
    lab.step("Throughput against queue size")?;
    throughput()
}

// ---------------------------------------------------------------------------------------------
// Step 1: the tutorial's bun shop.

/// Who ate which bun, in the order each eater ate them.
type Eaten = Arc<Mutex<Vec<(String, usize)>>>;

fn bun_shop(lab: &mut Lab) -> Result<()> {
    // `None` is the sentinel, as Python programs use it: "no more buns, go home".
    let buns: Arc<Queue<Option<usize>>> = Arc::new(Queue::new(0).named("buns"));
    let eaten: Eaten = Arc::new(Mutex::new(Vec::new()));
    let eaters = ["alex", "wupeiqi"];
    // The random times are drawn here, from the seeded generator, and handed to the threads.
    let make: Vec<Duration> = (0..BUNS).map(|_| millis(lab, MAKE_MS)).collect();
    let eat: Vec<Duration> = (0..BUNS).map(|_| millis(lab, EAT_MS)).collect();

    let in_chef = buns.clone();
    let mut chef = Thread::new(move || {
        for (number, time) in make.into_iter().enumerate() {
            context::sleep(time);
            // Said before the put: once the bun is in the queue, an eater may say so first.
            say!("made 包子{number}");
            in_chef.put(Some(number));
        }
        // One sentinel per eater (step 5 shows why one is not enough).
        say!("no more buns: put {} None", eaters.len());
        for _ in eaters {
            in_chef.put(None);
        }
    })
    .named("chef");
    let mut threads = vec![];
    for name in eaters {
        let (buns, eaten, eat) = (buns.clone(), eaten.clone(), eat.clone());
        threads.push(Thread::new(move || eat_buns(&buns, &eaten, &eat)).named(name));
    }
    chef.start().map_err(failed)?;
    for eater in &mut threads {
        eater.start().map_err(failed)?;
    }
    chef.join().map_err(failed)?;
    for eater in &mut threads {
        eater.join().map_err(failed)?;
    }

    let eaten = eaten.lock().unwrap_or_else(|e| e.into_inner());
    let mut who_ate = Vec::new();
    let mut in_order = true;
    for name in eaters {
        let theirs: Vec<usize> = eaten
            .iter()
            .filter(|(eater, _)| eater == name)
            .map(|&(_, bun)| bun)
            .collect();
        in_order &= theirs.windows(2).all(|pair| pair[0] < pair[1]);
        let listed: Vec<String> = theirs.iter().map(|bun| format!("包子{bun}")).collect();
        let buns = listed.join(&text!(en: ", ", zh: "、"));
        who_ate.push(text!(en: "{name} ate {buns}", zh: "{name} 吃了 {buns}"));
    }
    let order = if in_order {
        text!(
            en: "Each eater got its buns in the order they were made: first in, first out \
                 (先进先出).",
            zh: "每位食客拿到包子的顺序都和包子做出来的顺序一致：先进先出。",
        )
    } else {
        text!(
            en: "An eater got its buns out of the order they were made?!",
            zh: "有一位食客拿到包子的顺序和做出来的顺序不一致？！",
        )
    };
    note!(
        en: "{who_ate}. {order} The chef and the eaters share the queue (队列) without a lock of \
             their own: put() and get() take the queue's lock inside. While it was empty, get() \
             made an eater wait (its 'waits: queue buns' lines), and the chef's next put() woke \
             it. Each eater went home when it got its None, the sentinel: a value that means 'no \
             more'.",
        zh: "{who_ate}。{order}厨师和食客共用这个队列，自己不加锁：放入和取出时，队列在内部自己加\
             锁。队列空着时，get() 让食客等待（在队列 buns 上等待的记录），直到厨师下一次放入\
             包子把它唤醒。每位食客拿到自己的 None 就回家：它就是哨兵 (sentinel)，一个表示\
             “没有了”的值。",
        who_ate = who_ate.join(&text!(en: "; ", zh: "；")),
    );
    Ok(())
}

/// An eater: takes buns until it gets the sentinel.
fn eat_buns(buns: &Queue<Option<usize>>, eaten: &Mutex<Vec<(String, usize)>>, eat: &[Duration]) {
    let name = context::thread_name().unwrap_or_default();
    loop {
        let Some(number) = buns.get() else {
            say!("got None: no more buns, going home");
            return;
        };
        say!("eats 包子{number}");
        eaten
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((name.clone(), number));
        context::sleep(eat[number]);
    }
}

// ---------------------------------------------------------------------------------------------
// Step 2: the same puts through the three kinds of queue.

fn three_orders() {
    // Python's documentation suggests tuples, (priority, data): tuples compare item by item, in Rust as
    // in Python, so the smallest number comes out of a PriorityQueue first.
    let puts = [(20, 'a'), (10, 'b'), (30, 'c')];
    let fifo: Queue<(u32, char)> = Queue::new(0).named("fifo");
    let lifo: LifoQueue<(u32, char)> = LifoQueue::new(0).named("lifo");
    let priority: PriorityQueue<(u32, char)> = PriorityQueue::new(0).named("priority");
    for item in puts {
        fifo.put(item);
        lifo.put(item);
        priority.put(item);
    }
    let fifo_order: Vec<(u32, char)> = (0..puts.len()).map(|_| fifo.get()).collect();
    let lifo_order: Vec<(u32, char)> = (0..puts.len()).map(|_| lifo.get()).collect();
    let priority_order: Vec<(u32, char)> = (0..puts.len()).map(|_| priority.get()).collect();
    say!("put, in this order: {}", python_list(&puts));
    say!("Queue gives: {}", python_list(&fifo_order));
    say!("LifoQueue gives: {}", python_list(&lifo_order));
    say!("PriorityQueue gives: {}", python_list(&priority_order));
    note!(
        en: "The same three puts, three orders. Queue: first in, first out, like a line at a \
             counter. LifoQueue: last in, first out (后进先出), a stack. PriorityQueue: the \
             smallest first, here by the number at the front of each tuple (优先级队列). All \
             three have the same put/get, blocking, task_done and join; only which item comes \
             out next differs.",
        zh: "同样三次 put，三种顺序。Queue：先进先出，像柜台前排的队。LifoQueue：后进先出，\
             就是一个栈。PriorityQueue：最小的先出来，这里比的是每个元组最前面的数字（优先级\
             队列）。三种队列的 put/get、阻塞、task_done 和 join 都一样，不同的只是下一个出来\
             的是哪一项。",
    );
}

/// Items as Python prints a list of tuples: `[(20, 'a'), (10, 'b')]`.
fn python_list(items: &[(u32, char)]) -> String {
    let each: Vec<String> = items
        .iter()
        .map(|(number, letter)| format!("({number}, '{letter}')"))
        .collect();
    format!("[{}]", each.join(", "))
}

// ---------------------------------------------------------------------------------------------
// Step 3: a fast producer against a slow consumer, through a bounded and an unbounded queue.

/// What one producer measured.
#[derive(Default)]
struct Produced {
    /// The largest qsize() it saw right after a put.
    peak: AtomicUsize,
    /// How long all its puts took, in µs.
    putting_us: AtomicU64,
}

fn bounded_against_unbounded() -> Result<()> {
    let mut threads = Vec::new();
    let mut measured = Vec::new();
    // The two pairs run at the same time, side by side on the timeline.
    for maxsize in [BOUND, 0] {
        let queue: Arc<Queue<Option<u64>>> =
            Arc::new(Queue::new(maxsize).named(&format!("size-{maxsize}")));
        let produced = Arc::new(Produced::default());
        let (in_producer, produced_in_producer) = (queue.clone(), produced.clone());
        threads.push(
            Thread::new(move || produce_fast(&in_producer, &produced_in_producer))
                .named(&format!("fast-{maxsize}")),
        );
        let in_consumer = queue.clone();
        threads.push(
            Thread::new(move || consume_slowly(&in_consumer)).named(&format!("slow-{maxsize}")),
        );
        measured.push((maxsize, produced));
    }
    for thread in &mut threads {
        thread.start().map_err(failed)?;
    }
    for thread in &mut threads {
        thread.join().map_err(failed)?;
    }
    let report = |(maxsize, produced): &(usize, Arc<Produced>)| {
        (
            *maxsize,
            produced.peak.load(SeqCst),
            describe(Duration::from_micros(produced.putting_us.load(SeqCst))),
        )
    };
    let (bound, bounded_peak, bounded_putting) = report(&measured[0]);
    let (_, unbounded_peak, unbounded_putting) = report(&measured[1]);
    note!(
        en: "Both producers put {ITEMS} items as fast as they could; both consumers took \
             {per_item} per item. fast-{bound}, with Queue({bound}), spent {bounded_putting} in \
             put(): each time the queue was full it waited (▒) until slow-{bound} took one, so \
             it went at the consumer's pace, and the queue never held more than \
             {bounded_peak}. fast-0, with Queue() (maxsize 0: no limit), never waited: its puts \
             took {unbounded_putting}, and its queue grew to {unbounded_peak} items. A bounded \
             queue is back-pressure (背压): it keeps a fast producer from filling memory with \
             work nobody is doing yet.",
        zh: "两个生产者都以最快的速度放了 {ITEMS} 项；两个消费者处理每一项都花 {per_item}。\
             fast-{bound} 用的是 Queue({bound})，在 put() 里花了 {bounded_putting}：每当队列满了，\
             它就等待（▒），直到 slow-{bound} 取走一项，所以它是按消费者的节奏走的，队列里从没\
             超过 {bounded_peak} 项。fast-0 用的是 Queue()（maxsize 0：没有上限），从不等待：\
             它的 put 一共只花了 {unbounded_putting}，而它的队列涨到了 {unbounded_peak} 项。\
             有界队列就是背压 (back-pressure)：它不让快生产者把还没人处理的工作塞满内存。",
        per_item = describe(context::scaled(SLOW_CONSUMER)),
    );
    Ok(())
}

fn produce_fast(queue: &Queue<Option<u64>>, produced: &Produced) {
    let began = Instant::now();
    for item in 0..ITEMS {
        queue.put(Some(item));
        produced.peak.fetch_max(queue.qsize(), SeqCst);
    }
    queue.put(None);
    produced
        .putting_us
        .store(began.elapsed().as_micros() as u64, SeqCst);
    say!(
        en: "put {ITEMS} items in {}; the queue held at most {}",
        zh: "放入 {ITEMS} 个条目用了 {}；队列里同时最多有过的条目数：{}",
        describe(began.elapsed()),
        produced.peak.load(SeqCst)
    );
}

fn consume_slowly(queue: &Queue<Option<u64>>) {
    while queue.get().is_some() {
        context::sleep(SLOW_CONSUMER);
    }
    say!("got None: done");
}

// ---------------------------------------------------------------------------------------------
// Step 4: task_done() and join().

fn task_done_and_join(lab: &mut Lab) -> Result<()> {
    let jobs: Arc<Queue<Option<(u32, Duration)>>> = Arc::new(Queue::new(0).named("jobs"));
    let times = Arc::new(JobTimes::default());
    let began = Instant::now();
    let mut workers = Vec::new();
    for number in 1..=2 {
        let (jobs, times) = (jobs.clone(), times.clone());
        let worker = Thread::new(move || work(&jobs, &times, began));
        workers.push(worker.named(&format!("worker-{number}")));
    }
    for worker in &mut workers {
        worker.start().map_err(failed)?;
    }
    for job in 1..=JOBS {
        jobs.put(Some((job, millis(lab, JOB_MS))));
    }
    say!(
        "put {JOBS} jobs; unfinished_tasks = {}; join()",
        jobs.unfinished_tasks()
    );
    jobs.join();
    let joined_at = began.elapsed();
    let last_taken = Duration::from_micros(times.last_taken_us.load(SeqCst));
    let last_done = Duration::from_micros(times.last_done_us.load(SeqCst));
    say!(
        "join() returned; unfinished_tasks = {}",
        jobs.unfinished_tasks()
    );
    note!(
        en: "Every put() counts one unfinished task; every task_done() takes one away; join() \
             waits until none is left. The queue was empty from {last_taken} on, when the last \
             job was taken out; the last job to finish was marked done at {last_done}, and \
             join() returned at {joined_at}: it waited for the work to be *done*, not just \
             taken out of the queue. The workers are still alive, waiting for more.",
        zh: "每次 put() 记一个未完成的任务；每次 task_done() 减掉一个；join() 一直等到一个都不剩。\
             从 {last_taken} 起，最后一个任务被取出，队列就空了；最后做完的那个任务在 \
             {last_done} 被标记为完成，join() 在 {joined_at} 返回：它等的是工作*做完*，而不只是\
             从队列里取出。工作线程还活着，等着更多的任务。",
        last_taken = describe(last_taken),
        last_done = describe(last_done),
        joined_at = describe(joined_at),
    );
    // The workers stop at their sentinels, which are tasks too.
    for _ in &workers {
        jobs.put(None);
    }
    for worker in &mut workers {
        worker.join().map_err(failed)?;
    }
    match jobs.task_done() {
        Ok(()) => say!("task_done() once more: accepted?!"),
        Err(error) => say!("task_done() once more: ValueError: {error}"),
    }
    note!(
        en: "One task_done() more than the items put is Python's ValueError: the count would go \
             below zero, and join() could return while work is still going on.",
        zh: "task_done() 比放进去的项数多调用一次，就是 Python 的 ValueError：否则计数会降到零\
             以下，join() 可能在工作还没做完时就返回。",
    );
    Ok(())
}

/// When the workers last took a job out, and last finished one (µs since the step began).
#[derive(Default)]
struct JobTimes {
    last_taken_us: AtomicU64,
    last_done_us: AtomicU64,
}

/// A worker: does jobs until its sentinel, marking each one done.
fn work(jobs: &Queue<Option<(u32, Duration)>>, times: &JobTimes, began: Instant) {
    while let Some((job, takes)) = jobs.get() {
        let now = || began.elapsed().as_micros() as u64;
        times.last_taken_us.fetch_max(now(), SeqCst);
        context::sleep(takes);
        say!("job {job} done");
        times.last_done_us.fetch_max(now(), SeqCst);
        // After the work, not after the get: join() is waiting for this.
        let _ = jobs.task_done();
    }
    // The sentinel was an item too.
    let _ = jobs.task_done();
}

// ---------------------------------------------------------------------------------------------
// Step 5: shutting down three consumers.

fn one_sentinel_per_consumer() -> Result<()> {
    let orders: Arc<Queue<Option<u32>>> = Arc::new(Queue::new(0).named("orders"));
    let stopped = Arc::new(AtomicUsize::new(0));
    let names = ["alex", "wupeiqi", "yuanhao"];
    let mut consumers = Vec::new();
    for name in names {
        let (orders, stopped) = (orders.clone(), stopped.clone());
        let consumer = Thread::new(move || serve(&orders, &stopped)).named(name);
        consumers.push(consumer);
    }
    for consumer in &mut consumers {
        consumer.start().map_err(failed)?;
    }
    // Said first: a consumer may get the None before this thread says another word.
    say!("put {ORDERS} orders and one None");
    for order in 1..=ORDERS {
        orders.put(Some(order));
    }
    orders.put(None);
    // The orders take `SERVE` (scaled) each, at worst one after the other: 24 s at
    // `--speed 0.05`.
    let serving = context::scaled(SERVE * ORDERS);
    wait_until(
        "one consumer has stopped and the orders are served",
        serving,
        || stopped.load(SeqCst) == 1 && orders.empty(),
    )?;
    // Watch a while: nobody else stops, because nothing else is coming.
    context::sleep(WATCH_STUCK);
    let alive: Vec<&str> = consumers
        .iter()
        .filter(|c| c.is_alive())
        .map(|c| c.name())
        .collect();
    note!(
        en: "One None, three consumers: the one that got it stopped; {later} later, {count} of \
             them ({names}) were still alive, blocked in get() on an empty queue (▒). Nothing \
             would ever wake them: a program that joins them would hang here. One sentinel \
             stops one consumer.",
        zh: "一个 None，三个消费者：拿到它的那个停了；{later} 之后，其中 {count} 个（{names}）\
             还活着，阻塞在空队列的 get() 上（▒）。什么也不会再唤醒它们：一个去 join 它们的\
             程序会在这里卡死。一个哨兵只能让一个消费者停下。",
        later = describe(context::scaled(WATCH_STUCK)),
        count = alive.len(),
        names = alive.join(&text!(en: ", ", zh: "、")),
    );
    say!("put {} more None", alive.len());
    for _ in &alive {
        orders.put(None);
    }
    for consumer in &mut consumers {
        consumer.join().map_err(failed)?;
    }
    note!(
        en: "With one None per consumer, all {stopped} stopped and were joined. The rule: as \
             many sentinels as consumers, put after the last real item (FIFO brings them out \
             last).",
        zh: "每个消费者一个 None，{stopped} 个全都停下并被 join 了。规则是：哨兵和消费者一样多，\
             放在最后一个真正的数据项之后（先进先出保证它们最后出来）。",
        stopped = stopped.load(SeqCst),
    );
    Ok(())
}

fn serve(orders: &Queue<Option<u32>>, stopped: &AtomicUsize) {
    while let Some(order) = orders.get() {
        say!("serves order {order}");
        context::sleep(SERVE);
    }
    say!("got None: stops");
    stopped.fetch_add(1, SeqCst);
}

// ---------------------------------------------------------------------------------------------
// Step 6: items per second through queues of different sizes.

/// What one producer or consumer measured of itself.
#[derive(Default)]
struct Sleeps {
    producer: AtomicU64,
    consumer: AtomicU64,
}

fn throughput() -> Result<()> {
    let mut results = Vec::new();
    for maxsize in SIZES {
        // A queue that does not report its waits: with a queue of one there are thousands of
        // them, and the events would be what is measured.
        let queue: Arc<Queue<Option<u64>>> = Arc::new(Queue::new(maxsize).without_events());
        let sleeps = Arc::new(Sleeps::default());
        let (in_producer, producer_sleeps) = (queue.clone(), sleeps.clone());
        let mut producer = Thread::new(move || {
            let before = voluntary_switches();
            for item in 0..MESSAGES {
                in_producer.put(Some(item));
            }
            in_producer.put(None);
            producer_sleeps
                .producer
                .store(voluntary_switches().saturating_sub(before), SeqCst);
        })
        .named(&format!("put-{maxsize}"));
        let (in_consumer, consumer_sleeps) = (queue.clone(), sleeps.clone());
        let mut consumer = Thread::new(move || {
            let before = voluntary_switches();
            while in_consumer.get().is_some() {}
            consumer_sleeps
                .consumer
                .store(voluntary_switches().saturating_sub(before), SeqCst);
        })
        .named(&format!("get-{maxsize}"));
        let began = Instant::now();
        consumer.start().map_err(failed)?;
        producer.start().map_err(failed)?;
        producer.join().map_err(failed)?;
        consumer.join().map_err(failed)?;
        let took = began.elapsed();
        let per_second = MESSAGES as f64 / took.as_secs_f64();
        let label = if maxsize == 0 {
            "Queue()".to_string()
        } else {
            format!("Queue({maxsize})")
        };
        say!(
            en: "{label}: {MESSAGES} items in {}, {:.0} items/s; went to sleep: the producer {} \
                 times, the consumer {}",
            zh: "{label}：{MESSAGES} 个条目用了 {}，每秒 {:.0} 个；睡着的次数：生产者 {} 次，\
                 消费者 {} 次",
            describe(took),
            per_second,
            sleeps.producer.load(SeqCst),
            sleeps.consumer.load(SeqCst)
        );
        results.push((label, per_second, sleeps.producer.load(SeqCst)));
    }
    let (slowest, fastest) =
        results
            .iter()
            .fold((&results[0], &results[0]), |(slow, fast), result| {
                (
                    if result.1 < slow.1 { result } else { slow },
                    if result.1 > fast.1 { result } else { fast },
                )
            });
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    note!(
        en: "Measured in this run, on {cpus} CPU(s): the fastest was {fastest} at {fastest_rate:.0} \
             items/s, the slowest {slowest} at {slowest_rate:.0} items/s ({ratio:.1}x). 'Went \
             to sleep' is the thread's count of voluntary context switches (上下文切换, \
             /proc/thread-self/status): each time it blocked in the kernel, waiting for room, \
             for an item, or for the queue's lock, until the other thread woke it. A queue of \
             one makes the two take turns item by item; a bigger queue lets each run on through \
             many items before it has to wait. These queues reported no waits as events, so \
             the events themselves were not measured.",
        zh: "本次运行在 {cpus} 个 CPU 上测得：最快的是 {fastest}，每秒 {fastest_rate:.0} 项；\
             最慢的是 {slowest}，每秒 {slowest_rate:.0} 项（相差 {ratio:.1} 倍）。\
             `went to sleep` 是线程的自愿上下文切换次数（上下文切换 (context switch)，\
             /proc/thread-self/status）：每一次都是它在内核里阻塞，等空位、等数据项或者等队列\
             的锁，直到另一个线程把它唤醒。大小为 1 的队列让两个线程一项一项地轮流；大一些的\
             队列让每个线程都能连着处理很多项，才不得不等一次。这些队列没有把等待报告为事件，\
             所以测到的不包括事件本身的开销。",
        fastest = fastest.0,
        fastest_rate = fastest.1,
        slowest = slowest.0,
        slowest_rate = slowest.1,
        ratio = fastest.1 / slowest.1,
    );
    let lab_rates: Vec<(String, f64)> = results
        .iter()
        .map(|(label, rate, _)| (label.clone(), *rate))
        .collect();
    cpython_queues(&lab_rates);
    Ok(())
}

/// CPython's `queue.Queue` between two threads on this machine, in this run (`code/step6.py`,
/// untraced: a tracer's stops would be what is measured), beside the lab's `rates`.
fn cpython_queues(lab_rates: &[(String, f64)]) {
    let source = include_str!("code/step6.py");
    let printed = match crate::cpython::run_step("step6.py", source, Duration::from_secs(30)) {
        Ok(printed) => printed,
        Err(why) => {
            note!(en: "CPython: {why}.", zh: "CPython：{why}。");
            return;
        }
    };
    // "Queue(1): 29517 items/s, 54414 sleeps"; Python's unbounded queue is Queue(0).
    let rates: Vec<(String, f64)> = printed
        .lines
        .iter()
        .filter_map(|line| {
            let (label, rest) = line.split_once(": ")?;
            let rate: f64 = rest.split(' ').next()?.parse().ok()?;
            let label = if label == "Queue(0)" {
                "Queue()"
            } else {
                label
            };
            Some((label.to_string(), rate))
        })
        .collect();
    let extremes = |rates: &[(String, f64)]| {
        let slowest = rates.iter().min_by(|a, b| a.1.total_cmp(&b.1)).cloned();
        let fastest = rates.iter().max_by(|a, b| a.1.total_cmp(&b.1)).cloned();
        slowest.zip(fastest)
    };
    let (Some((slowest, fastest)), Some((lab_slowest, lab_fastest))) =
        (extremes(&rates), extremes(lab_rates))
    else {
        note!(
            en: "CPython: step6.py printed no rates ({lines}).",
            zh: "CPython：step6.py 没有打印速率（{lines}）。",
            lines = printed.lines.join(" / ")
        );
        return;
    };
    let version = &printed.version;
    let each = rates
        .iter()
        .map(|(label, rate)| format!("{label} {rate:.0}"))
        .collect::<Vec<_>>()
        .join(&text!(en: ", ", zh: "，"));
    say!(
        en: "CPython {version}, items/s: {each}",
        zh: "CPython {version}，每秒条目数：{each}",
    );
    let same_slowest = if slowest.0 == lab_slowest.0 {
        text!(en: "the same queue is the slowest in both", zh: "两边最慢的是同一个队列")
    } else {
        text!(en: "the slowest differs", zh: "两边最慢的队列不同")
    };
    note!(
        en: "And CPython {version}, on this machine in this run (code/step6.py, two threads and a \
             queue.Queue, run untraced): the fastest was {fast} at {fast_rate:.0} items/s, the \
             slowest {slow} at {slow_rate:.0} items/s ({ratio:.1}x); in the lab's run {lab_fast} \
             {lab_fast_rate:.0} and {lab_slow} {lab_slow_rate:.0} ({lab_ratio:.1}x): \
             {same_slowest}. The rates themselves are not the lab's: every put() and get() in \
             CPython runs Python code around a lock, under the GIL.",
        zh: "再看 CPython {version}，同一台机器、同一次运行（code/step6.py，两个线程和一个 \
             queue.Queue，没有跟踪）：最快的是 {fast}，每秒 {fast_rate:.0} 项；最慢的是 {slow}，\
             每秒 {slow_rate:.0} 项（相差 {ratio:.1} 倍）。proclab 这次是 {lab_fast} \
             {lab_fast_rate:.0} 和 {lab_slow} {lab_slow_rate:.0}（相差 {lab_ratio:.1} 倍）：\
             {same_slowest}。速率本身和 proclab 的不一样：CPython 的每次 put() 和 get() \
             都要在锁的周围执行 Python 代码，而且要拿到 GIL。",
        fast = fastest.0,
        fast_rate = fastest.1,
        slow = slowest.0,
        slow_rate = slowest.1,
        ratio = fastest.1 / slowest.1.max(1e-9),
        lab_fast = lab_fastest.0,
        lab_fast_rate = lab_fastest.1,
        lab_slow = lab_slowest.0,
        lab_slow_rate = lab_slowest.1,
        lab_ratio = lab_fastest.1 / lab_slowest.1.max(1e-9),
    );
}

/// How many times the calling thread has gone to sleep of its own accord (waiting for a lock,
/// a condition, a sleep): the kernel's count, from `/proc/thread-self/status`.
fn voluntary_switches() -> u64 {
    let status = std::fs::read_to_string("/proc/thread-self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("voluntary_ctxt_switches:"))
        .and_then(|count| count.trim().parse().ok())
        .unwrap_or(0)
}

// ---------------------------------------------------------------------------------------------
// Small helpers.

/// A random duration in milliseconds, from the seeded generator.
fn millis(lab: &mut Lab, range: std::ops::RangeInclusive<u64>) -> Duration {
    Duration::from_millis(lab.rng().random_range(range))
}

/// A misuse or a system failure, as the lesson's error.
fn failed(error: impl Display) -> Error {
    Error::lesson(error.to_string())
}

/// Asks `check` every few milliseconds until it is true, for at most `expected` (the
/// lesson's own waits, already scaled) and `PATIENCE` more.
fn wait_until(what: &str, expected: Duration, mut check: impl FnMut() -> bool) -> Result<()> {
    let patience = expected + PATIENCE;
    // `expected` is scaled by the caller; the margin is not.
    wait::poll_until(patience, || check().then_some(())).ok_or_else(|| {
        Error::lesson(format!(
            "gave up waiting until {what} after {}",
            describe(patience)
        ))
    })
}
