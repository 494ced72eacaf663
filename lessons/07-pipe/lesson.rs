//! Lesson 7: pipes (管道) between processes, and the end of file that does not come.
//!
//! What the student sees: the tutorial's adder over a duplex pipe (questions one way, answers
//! the other); a one-way pipe whose reader sees the end of file (Python's `EOFError`) only when
//! *every* copy of the write end is closed: the parent's copy kept by mistake, then the
//! reader's own inherited copy, each found in `/proc` while the reader waits, and each fixed by
//! closing it; and two writers on one end at once: small messages arrive whole, large ones
//! torn.
//!
//! System calls: `socketpair` (duplex) and `pipe2` (one-way), `write`/`read` with a 4-byte
//! length before each message, `poll` for `poll(timeout)`, `close`, and `/proc/<pid>/fd` and
//! `/proc/<pid>/fdinfo` to see which processes still hold the write end.

use std::fs;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicU64, Ordering::SeqCst};
use std::time::Duration;

use nix::unistd::getpid;

use crate::lesson::prelude::*;
use crate::multiprocessing::Process;
use crate::multiprocessing::pipe::{Connection, ConnectionError, pipe};

/// How long a reader waits for a message before it looks at who holds the write end.
const PATIENCE: Duration = Duration::from_secs(1);
/// How long the main process waits, past what the lesson itself makes a child wait (scaled
/// by `--speed`), for something the child then does at once: not scaled, and reaching it
/// means something is wrong.
const KERNEL_PATIENCE: Duration = Duration::from_secs(10);
/// The two writers of step 4: small messages fit in one atomic write, large ones do not.
const SMALL: usize = 100;
const SMALL_COUNT: usize = 200;
const LARGE: usize = 100 * 1024;
const LARGE_COUNT: usize = 4;
/// The outcome of the large writes varies: repeated, and counted.
const LARGE_ROUNDS: usize = 5;

pub fn run(lab: &mut Lab) -> Result<()> {
    lab.step("A duplex pipe: the adder")?;
    adder()?;
    lab.step("End of file: the parent's copy")?;
    parents_copy()?;
    lab.step("End of file: the reader's own copy")?;
    readers_own_copy()?;
    lab.step("Two writers on one end")?;
    two_writers()
}

// ---------------------------------------------------------------------------------------------
// Step 1: questions one way, answers the other, on one duplex pipe.

fn adder() -> Result<()> {
    let (server, client) = pipe(true)?;
    let (server, client) = (server.named("adder's end"), client.named("main's end"));
    // The child gets both ends, as in the tutorial, and closes the one it does not use.
    let (server_in_child, client_in_child) = (server.clone(), client.clone());
    let mut adder =
        Process::new(move || serve_sums(&server_in_child, &client_in_child)).named("adder");
    let adder_pid = adder.start()?;
    // The main process is the client: it closes its copy of the server's end.
    server.close();
    let mut answers = Vec::new();
    for (x, y) in [(1, 2), (30, 12), (100, -1)] {
        client.send(&(x, y))?;
        let sum: i64 = client.recv()?;
        say!("main: asked {x} + {y}, got {sum}");
        answers.push(sum);
    }
    client.close();
    let code = adder.join()?;
    note!(
        en: "One pipe, both ways: main sent three pairs on its end and read three sums from the \
             same end; adder (pid {adder_pid}) read each pair from its end and sent the sum \
             back. Every recv() returned exactly one send(): each message went with its length \
             in front. When main closed its end, adder's recv() found the end of file \
             (EOFError) and adder left (exitcode {code}).",
        zh: "一根管道，双向使用：主进程 main 在自己那一端发送了三对数，又从同一端读回三个和；\
             adder（pid {adder_pid}）从它那一端读每一对数，再把和发回去。每次 recv() 恰好返回\
             一次 send() 的内容：每条消息前面都带着它的 4 字节长度。主进程关闭自己那一端后，\
             adder 的下一次 recv() 读到文件结尾，即 EOFError；随后 adder 退出，退出码为 \
             {code}。"
    );
    Ok(())
}

/// The tutorial's adder server: sums pairs until the client closes its end.
fn serve_sums(
    server: &Connection,
    client: &Connection,
) -> std::result::Result<(), ConnectionError> {
    // This process inherited the client's end too: closed, or the end of file never comes.
    client.close();
    loop {
        match server.recv::<(i64, i64)>() {
            Ok((x, y)) => server.send(&(x + y))?,
            Err(ConnectionError::Eof) => break,
            Err(error) => return Err(error),
        }
    }
    say!("adder: end of file, server done");
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Steps 2 and 3: a reader waits for the end of file.

process_shared! {
    /// What a reader writes down for the main process.
    #[derive(Default)]
    struct ReaderRecord {
        /// It waited `PATIENCE` with no message and no end of file.
        gave_up: AtomicBool,
        /// When it saw the end of file (microseconds since the lesson started).
        eof_us: AtomicU64,
        /// The pids that held the write end when it first gave up (0: none), from `/proc`.
        holders: [AtomicI32; 4],
    }
}

impl ReaderRecord {
    fn holders_seen(&self) -> Vec<i32> {
        self.holders
            .iter()
            .map(|pid| pid.load(SeqCst))
            .filter(|&pid| pid != 0)
            .collect()
    }
}

/// A reader's arguments.
struct Reader {
    name: &'static str,
    reader: Connection,
    /// The copy of the write end this process inherited, if the closure was handed it.
    own_writer: Option<Connection>,
    /// Whether to close that copy first thing (the tutorial's `left.close()`).
    closes_own_copy: bool,
    record: SharedMemory<ReaderRecord>,
}

/// Reads messages until the end of file. When nothing comes for a while, it looks in `/proc`
/// for whoever still holds the write end, and if that is itself, closes its own copy.
fn read_to_the_end(r: &Reader) -> std::result::Result<(), ConnectionError> {
    if r.closes_own_copy
        && let Some(own) = &r.own_writer
    {
        own.close();
    }
    loop {
        if !r.reader.poll(PATIENCE)? {
            let holders = write_end_holders(&r.reader);
            say!(
                en: "{}: nothing for {}, and no end of file: the write end is open in pid(s) {}",
                zh: "{}：{} 内什么也没收到，也没有文件结尾：写端仍开在 pid {} 中",
                r.name,
                describe(context::scaled(PATIENCE)),
                list_in_note(&holders)
            );
            if !r.record.gave_up.load(SeqCst) {
                for (slot, pid) in r.record.holders.iter().zip(&holders) {
                    slot.store(*pid, SeqCst);
                }
            }
            if let Some(own) = r.own_writer.as_ref().filter(|own| !own.closed()) {
                say!("{}: one of them is me: closing my own copy", r.name);
                own.close();
            }
            r.record.gave_up.store(true, SeqCst);
            continue;
        }
        match r.reader.recv::<String>() {
            Ok(message) => say!("{}: got {message}", r.name),
            Err(ConnectionError::Eof) => {
                r.record
                    .eof_us
                    .store((context::elapsed() * 1e6) as u64, SeqCst);
                say!("{}: EOFError: every write end is closed", r.name);
                return Ok(());
            }
            Err(error) => return Err(error),
        }
    }
}

fn parents_copy() -> Result<()> {
    // Right: the write end moves into the producer, so the main process holds no copy.
    let (reader, writer) = pipe(false)?;
    let reader = reader.named("baozi");
    let mut producer = Process::new(move || produce(&writer, "baozi", 3)).named("producer");
    producer.start()?;
    let record = SharedMemory::new(ReaderRecord::default())?;
    let in_reader = Reader {
        name: "c1",
        reader,
        own_writer: None,
        closes_own_copy: false,
        record: record.clone(),
    };
    // Forked after the producer, when the main process no longer holds the write end: c1
    // inherits no copy of it.
    let mut c1 = Process::new(move || read_to_the_end(&in_reader)).named("c1");
    c1.start()?;
    producer.join()?;
    c1.join()?;
    let right_way = if record.gave_up.load(SeqCst) {
        text!(
            en: "c1 waited in vain at some point: a write end was still open",
            zh: "c1 曾经白等了一阵：某个写端还开着"
        )
    } else {
        text!(
            en: "c1 got the three messages and then, as soon as the producer ended, the end of \
                 file",
            zh: "c1 收到三条消息，生产者一结束就读到了文件结尾"
        )
    };

    // The mistake: the main process keeps a clone of the write end it hands to the producer.
    let (reader, writer) = pipe(false)?;
    let reader = reader.named("jiaozi");
    let kept = writer.clone();
    let mut producer = Process::new(move || produce(&writer, "jiaozi", 3)).named("producer-2");
    producer.start()?;
    let record = SharedMemory::new(ReaderRecord::default())?;
    // c2 is forked while main holds `kept`, so it inherits a copy too: it is handed that copy
    // and closes it first thing, as it should. The copy left open is main's.
    let in_reader = Reader {
        name: "c2",
        reader,
        own_writer: Some(kept.clone()),
        closes_own_copy: true,
        record: record.clone(),
    };
    let mut c2 = Process::new(move || read_to_the_end(&in_reader)).named("c2");
    c2.start()?;
    producer.join()?;
    // c2 has its three messages; now it waits for an end of file that cannot come.
    // c2 gives up only after `PATIENCE` scaled: at `--speed 0.05` that is 20 s.
    until("c2 has given up waiting", context::scaled(PATIENCE), || {
        record.gave_up.load(SeqCst).then_some(())
    })?;
    let closed_at = context::elapsed();
    say!("main: closing the copy of the write end I kept");
    kept.close();
    c2.join()?;
    misuse()?;
    let eof_after =
        Duration::from_secs_f64((record.eof_us.load(SeqCst) as f64 / 1e6 - closed_at).max(0.0));
    let seen = record.holders_seen();
    let who = if seen == [getpid().as_raw()] {
        text!(en: " (main, and only main)", zh: "（main，而且只有 main）")
    } else {
        String::new()
    };
    note!(
        en: "The right way: {right_way}. The mistake: main kept a clone of the write end. The \
             producer wrote three messages and ended, yet c2 waited {patience} and got neither a \
             message nor the end of file; /proc, read by c2 while it waited, showed the write \
             end open in pid(s) {holders}{who}. The end of file came {eof_after} after main \
             closed its copy. Moving an end into a child's closure closes the parent's copy at \
             start(), by ownership; a clone kept is a copy kept.",
        zh: "正确的做法：{right_way}。错误的做法：main 留着写端的一个克隆。生产者写了三条消息\
             后就结束了，c2 却等了 {patience}，既没收到消息也没读到文件结尾；c2 在等待时读取 \
             /proc，看到写端在 pid {holders}{who} 里还开着。main 关闭它的副本后 \
             {eof_after}，文件结尾就到了。把一端移动进子进程的闭包，start() 时父进程的副本就\
             因所有权而关闭；留着一个克隆，就是留着一个副本。",
        patience = describe(context::scaled(PATIENCE)),
        holders = list_in_note(&seen),
        eof_after = describe(eof_after)
    );
    Ok(())
}

/// Each end used the wrong way: error values, with Python's messages.
fn misuse() -> Result<()> {
    let (reader, writer) = pipe(false)?;
    show_error("send() on the read end", reader.send("x"));
    show_error("recv() on the write end", writer.recv::<String>());
    writer.close();
    show_error(
        "recv() with the only write end closed",
        reader.recv::<String>(),
    );
    show_error("send() on a closed end", writer.send("x"));
    Ok(())
}

fn show_error<T>(what: &str, result: std::result::Result<T, ConnectionError>) {
    match result {
        Err(error) => say!("main: {what}: error: {error}"),
        Ok(_) => say!("main: {what}: no error"),
    }
}

fn readers_own_copy() -> Result<()> {
    let (reader, writer) = pipe(false)?;
    let reader = reader.named("mantou");
    let record = SharedMemory::new(ReaderRecord::default())?;
    // Forked while the main process still holds the write end: c3 inherits a copy of it.
    // The closure is handed that copy, and c3 forgets to close it.
    let in_reader = Reader {
        name: "c3",
        reader,
        own_writer: Some(writer.clone()),
        closes_own_copy: false,
        record: record.clone(),
    };
    let mut c3 = Process::new(move || read_to_the_end(&in_reader)).named("c3");
    let c3_pid = c3.start()?;
    produce(&writer, "mantou", 2)?;
    writer.close();
    say!("main: wrote two messages and closed my write end");
    c3.join()?;
    let seen = record.holders_seen();
    let who = if seen == [c3_pid.as_raw()] {
        text!(
            en: "c3 itself and no one else: it inherited a copy at fork (fork copies every open \
                 descriptor) and was waiting for a writer that was itself",
            zh: "c3 自己，没有别人：它在 fork 时继承了一个副本（fork 会复制每一个打开的文件\
                 描述符），等的写者正是它自己"
        )
    } else {
        text!(en: "pid(s) {holders}", zh: "pid {holders}", holders = list_in_note(&seen))
    };
    note!(
        en: "main closed its write end, and no end of file came to c3 (pid {c3_pid}): after \
             {patience} it looked in /proc, and the write end was held by {who}. Once it closed \
             its own copy, the end of file came at once. The tutorial's consumer closes the end \
             it does not use first thing for exactly this reason.",
        zh: "main 关闭了它的写端，c3（pid {c3_pid}）却没有读到文件结尾：{patience} 后它查看 \
             /proc，拿着写端的是{who}。它关闭自己的副本后，文件结尾立即到来。教程里的消费者\
             一开始就关闭自己不用的那一端，正是这个原因。",
        patience = describe(context::scaled(PATIENCE))
    );
    Ok(())
}

/// Sends `count` messages named after `food`.
fn produce(
    writer: &Connection,
    food: &str,
    count: usize,
) -> std::result::Result<(), ConnectionError> {
    for i in 1..=count {
        writer.send(&format!("{food} {i}"))?;
    }
    Ok(())
}

/// The pids of the processes that have this pipe's write end open, read from `/proc`: each
/// `/proc/<pid>/fd/<n>` that links to `pipe:[<inode>]`, opened for writing (`fdinfo` flags).
fn write_end_holders(reader: &Connection) -> Vec<i32> {
    let Some(fd) = reader.fileno() else {
        return Vec::new();
    };
    let Ok(link) = fs::read_link(format!("/proc/self/fd/{fd}")) else {
        return Vec::new();
    };
    let pipe_name = link.to_string_lossy().to_string();
    // The lab's processes are one process group (the supervisor's): look only at those.
    let group = procfs::stat(getpid()).map(|me| me.pgrp);
    let mut holders = Vec::new();
    for process in procfs::all_processes()
        .into_iter()
        .filter(|p| Some(p.pgrp) == group)
    {
        let pid = process.pid.as_raw();
        let Ok(fds) = fs::read_dir(format!("/proc/{pid}/fd")) else {
            continue;
        };
        let writes_it = fds.flatten().any(|entry| {
            let same_pipe =
                fs::read_link(entry.path()).is_ok_and(|l| l.to_string_lossy() == pipe_name);
            let info = fs::read_to_string(format!(
                "/proc/{pid}/fdinfo/{}",
                entry.file_name().to_string_lossy()
            ));
            same_pipe && info.is_ok_and(|info| opened_for_writing(&info))
        });
        if writes_it {
            holders.push(pid);
        }
    }
    holders
}

/// Whether an `fdinfo` text says the descriptor was opened write-only (`flags:` in octal).
fn opened_for_writing(fdinfo: &str) -> bool {
    fdinfo
        .lines()
        .find_map(|line| line.strip_prefix("flags:"))
        .and_then(|flags| i32::from_str_radix(flags.trim(), 8).ok())
        .is_some_and(|flags| flags & libc::O_ACCMODE == libc::O_WRONLY)
}

// ---------------------------------------------------------------------------------------------
// Step 4: two writers at once on one end.

/// What the reader made of one round of two writers.
struct Received {
    whole: usize,
    /// Messages of the right length that mix both writers' bytes.
    torn: usize,
    /// The reader read a length out of the middle of a message: from there on the stream
    /// means nothing.
    lost_its_place: bool,
}

impl Received {
    fn is_clean(&self) -> bool {
        self.torn == 0 && !self.lost_its_place
    }
}

fn two_writers() -> Result<()> {
    let small = one_round(SMALL, SMALL_COUNT, "small")?;
    say!(
        en: "messages of {SMALL} bytes: {} whole, {} torn, of {} sent",
        zh: "每条 {SMALL} 字节的消息：{} 条完整，{} 条被撕碎，共发送 {} 条",
        small.whole,
        small.torn,
        2 * SMALL_COUNT
    );
    note!(
        en: "Two writers sent {sent} messages of {SMALL} bytes each on one end, at the same \
             time: {whole} arrived whole. A message with its 4-byte length is one write of \
             {bytes} bytes, at most PIPE_BUF ({pipe_buf}): the kernel writes it in one piece, \
             never cut by another writer.",
        zh: "两个写者同时在同一端发送了 {sent} 条各 {SMALL} 字节的消息：{whole} 条完整到达。\
             一条消息连同它 4 字节的长度是一次 {bytes} 字节的写入，不超过 PIPE_BUF\
             （{pipe_buf}）：内核一次性把它写进去，不会被另一个写者切开。",
        sent = 2 * SMALL_COUNT,
        whole = small.whole,
        bytes = SMALL + 4,
        pipe_buf = libc::PIPE_BUF
    );
    let mut torn_rounds = 0;
    for round in 1..=LARGE_ROUNDS {
        let large = one_round(LARGE, LARGE_COUNT, &format!("large-{round}"))?;
        let lost = if large.lost_its_place {
            text!(
                en: ", then a length read from the middle of a message: the stream is lost",
                zh: "，接着从一条消息的中间读出了一个长度：这个流乱了",
            )
        } else {
            String::new()
        };
        say!(
            en: "round {round}, messages of {} KiB: {} whole, {} torn{lost}",
            zh: "第 {round} 轮，每条 {} KiB 的消息：{} 条完整，{} 条被撕碎{lost}",
            LARGE / 1024,
            large.whole,
            large.torn,
        );
        torn_rounds += usize::from(!large.is_clean());
    }
    note!(
        en: "Then {LARGE_ROUNDS} rounds of {count} messages of {kib} KiB, larger than PIPE_BUF \
             and than the pipe's buffer (64 KiB): {torn_rounds} of {LARGE_ROUNDS} rounds were \
             corrupted. A long write goes in pieces as the pipe empties, and the other writer's \
             pieces land between them; once a reader takes someone's bytes for a length, \
             nothing after makes sense. Writers that share an end need a lock around each \
             message: that is what multiprocessing's Queue adds to a pipe (lesson 6).",
        zh: "接着是 {LARGE_ROUNDS} 轮，每轮 {count} 条 {kib} KiB 的消息，比 PIPE_BUF 大，也比管道\
             的缓冲区（64 KiB）大：{LARGE_ROUNDS} 轮中有 {torn_rounds} 轮损坏了。长的写入随着\
             管道被读空一段段写进去，另一个写者的片段就落在它们中间；读者一旦把别人的字节当成\
             长度，之后的一切就都没有意义了。共用一端的写者需要给每条消息加锁：这正是 \
             multiprocessing 的 Queue 在管道之上加的东西（第 6 课）。",
        count = 2 * LARGE_COUNT,
        kib = LARGE / 1024
    );
    Ok(())
}

/// Two writers send `count` messages of `size` bytes each (all `a`s, all `b`s) on one end at
/// the same time; the main process reads until the end of file.
fn one_round(size: usize, count: usize, label: &str) -> Result<Received> {
    let (reader, writer) = pipe(false)?;
    let reader = reader.named("two-writers");
    // Each writer counts itself here before it sends; the main process starts reading once
    // both are about to, so that the two writers overlap.
    let writing = SharedMemory::new(AtomicU32::new(0))?;
    let mut writers = Vec::new();
    for letter in [b'a', b'b'] {
        let (mine, writing) = (writer.clone(), writing.clone());
        let name = format!("writer-{}-{label}", letter as char);
        let target = move || -> std::result::Result<(), ConnectionError> {
            let message = vec![letter; size];
            writing.fetch_add(1, SeqCst);
            for _ in 0..count {
                mine.send_bytes(&message)?;
            }
            Ok(())
        };
        writers.push(Process::new(target).named(&name));
    }
    for w in &mut writers {
        w.start()?;
    }
    // Only the writers hold the write end now: the end of file comes when both have ended.
    writer.close();
    until("both writers are writing", Duration::ZERO, || {
        (writing.load(SeqCst) == 2).then_some(())
    })?;
    let mut received = Received {
        whole: 0,
        torn: 0,
        lost_its_place: false,
    };
    loop {
        match reader.recv_bytes() {
            // Once lost, what follows is read only to reach the end of file.
            Ok(_) if received.lost_its_place => {}
            Ok(message) if message.len() == size && message.iter().all(|&b| b == message[0]) => {
                received.whole += 1
            }
            Ok(_) => received.torn += 1,
            Err(ConnectionError::BadMessageLength(_)) => received.lost_its_place = true,
            Err(ConnectionError::Eof) => break,
            Err(error) => return Err(error.into()),
        }
    }
    reader.close();
    for w in &mut writers {
        w.join()?;
    }
    Ok(received)
}

// ---------------------------------------------------------------------------------------------
// Small helpers.

fn list(pids: &[i32]) -> String {
    let each: Vec<String> = pids.iter().map(|pid| pid.to_string()).collect();
    if each.is_empty() {
        "none".to_string()
    } else {
        each.join(", ")
    }
}

/// `list`, for a note: its one English word in the run's language.
fn list_in_note(pids: &[i32]) -> String {
    if pids.is_empty() {
        text!(en: "none", zh: "无")
    } else {
        list(pids)
    }
}

/// Waits for `check`: `expected` (already scaled) for the lesson's own waits, then
/// `KERNEL_PATIENCE` for what follows at once.
fn until<T>(what: &str, expected: Duration, check: impl FnMut() -> Option<T>) -> Result<T> {
    // `expected` is scaled by the caller; the margin is not.
    wait::poll_until(expected + KERNEL_PATIENCE, check)
        .ok_or_else(|| Error::lesson(format!("gave up waiting until {what}")))
}
