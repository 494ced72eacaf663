//! Lesson 2: the subclass style, `start()` versus `run()`, and process names.
//!
//! What the student sees: three `Worker`s (the Rust analogue of subclassing `Process` and
//! overriding `run`) each print their parent pid and pid, and the main process prints its own;
//! calling `run()` directly does the work in the *main* process's pid and blocks, while
//! `start()` does it in a new pid; `join()` on a process that was never started is an error;
//! default names `Process-N` count the processes created (an unnamed worker is named after its
//! type, `Piao-N`), and a child's children are named after it (`Process-5:1`).
//!
//! Last, Python's start methods: a `fork` child shares the parent's state as it was, while a
//! spawn-style child (fork, then `exec` of the lab's own binary) starts from the top and runs
//! the "module-level" bind again, which fails with `Address already in use`.
//!
//! System calls: `fork` (`Process::start`), `getpid`/`getppid` in the workers, `waitpid`
//! (`Process::join`), `/proc/<pid>/stat` to confirm the parents, `execve` and `bind` (step 4).

use std::io::{self, Read};
use std::net::{SocketAddr, TcpListener};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use crate::lesson::prelude::*;
use nix::unistd::{getpid, getppid};

use crate::multiprocessing::process::{Process, ProcessError, Worker};

/// The tutorial's subclass of `Process`: the state it needs, and a `run` that uses it.
struct Piao {
    /// `None`: no name of its own, so the process is called `Piao-N`, after the type.
    name: Option<String>,
    sleep: Duration,
}

impl Piao {
    fn named(name: &str, sleep: Duration) -> Piao {
        Piao {
            name: Some(name.to_string()),
            sleep,
        }
    }
}

impl Worker for Piao {
    fn run(&mut self) {
        // Python's `self.name`: the name chosen, or else the process's default name.
        let name = self.name.clone().unwrap_or_else(context::name);
        // Like the tutorial's `print(os.getppid(), os.getpid())`.
        say!("parent pid {}, my pid {}", getppid(), getpid());
        say!("{name} is working");
        context::sleep(self.sleep);
        say!("{name} is done");
    }

    fn name(&self) -> Option<String> {
        self.name.clone()
    }
}

pub fn run(lab: &mut Lab) -> Result<()> {
    let main_pid = getpid();

    lab.step("Workers: the subclass style")?;
    let mut workers: Vec<Process> = ["alex", "wupeiqi", "yuanhao"]
        .into_iter()
        .map(|name| {
            let sleep = Duration::from_secs(lab.rng().random_range(1..=3));
            Process::from_worker(Piao::named(name, sleep))
        })
        .collect();
    let mut pids = Vec::new();
    for worker in &mut workers {
        pids.push(worker.start()?);
    }
    say!("主进程 / main process, my pid {main_pid}");
    let mut parents = Vec::new();
    for (worker, &pid) in workers.iter().zip(&pids) {
        if let Some(stat) = procfs::observe(pid) {
            let (name, ppid) = (worker.name(), stat.ppid);
            parents.push(text!(
                en: "{name} ({pid}) has parent {ppid}",
                zh: "{name}（{pid}）的父进程是 {ppid}",
            ));
        }
    }
    let parents = parents.join(text!(en: ", ", zh: "，").as_str());
    note!(
        en: "Each worker printed getppid() and getpid() from inside its own process. /proc \
             agrees: {parents}. The main process is {main_pid}: it forked all three, so it is \
             their parent.",
        zh: "每个 worker 都在自己的进程里打印了 getppid() 和 getpid()。/proc 的记录与之一致：\
             {parents}。主进程是 {main_pid}：三个 worker 都是它 fork 出来的，所以它是它们的\
             父进程。",
    );
    for worker in &mut workers {
        worker.join()?;
    }

    lab.step("start() versus run()")?;
    let sleep = Duration::from_secs(1);
    let mut worker = Process::from_worker(Piao::named("run-direct", sleep));
    let began = Instant::now();
    worker.run().map_err(Error::lesson)?;
    let run_took = began.elapsed();
    let (run_took, slept) = (describe(run_took), describe(context::scaled(sleep)));
    note!(
        en: "run() called directly: the worker's lines above carry pid {main_pid}, the main \
             process's own pid, and run() did not return until the work was done ({run_took} \
             for a {slept} sleep). No process was created: run() is only the function that \
             start() calls in the child.",
        zh: "直接调用 run()：上面 worker 打印的几行带的是 pid {main_pid}，也就是主进程自己的 \
             pid；而且 run() 一直到工作做完才返回（睡眠 {slept}，用了 {run_took}）。没有创建任何\
             进程：run() 只是 start() 在子进程里调用的那个函数。",
    );
    let began = Instant::now();
    let child_pid = worker.start()?;
    let start_took = began.elapsed();
    let start_took = describe(start_took);
    note!(
        en: "start() on the same worker returned after {start_took}, and the work now runs in \
             pid {child_pid}, a new child of {main_pid}.",
        zh: "对同一个 worker 调用 start()，{start_took} 后就返回了，工作现在在 pid {child_pid} \
             里进行，它是 {main_pid} 新的子进程。",
    );
    worker.join()?;
    let mut never_started = Process::from_worker(Piao::named("never-started", sleep));
    match never_started.join() {
        Err(error) => say!("join() on a process that was never started: error: {error}"),
        Ok(code) => say!("join() on a process that was never started returned {code}"),
    }
    match worker.start() {
        Err(error) => say!("start() a second time: error: {error}"),
        Ok(pid) => say!("start() a second time succeeded: pid {pid}"),
    }
    note!(
        en: "Both mistakes are errors with Python's messages, returned as values: there is no \
             child to wait for, and a process can only be started once.",
        zh: "这两种误用都是错误，带着 Python 的报错信息，作为返回值交回：前者根本没有子进程可等，\
             后者是因为一个进程只能启动一次。",
    );

    lab.step("Names: Process-N or your own")?;
    let mut unnamed_a = Process::new(|| -> std::result::Result<(), ProcessError> {
        // A child creating a child of its own: the grandchild's default name starts with the
        // child's number.
        let mut grandchild = Process::new(|| say!("I am a grandchild"));
        grandchild.start()?;
        grandchild.join()?;
        Ok(())
    });
    let mut unnamed_b = Process::new(|| say!("I have a default name"));
    // A worker with no name of its own is named after its type, as Python names an unnamed
    // `Piao(Process)` after its class.
    let mut unnamed_piao = Process::from_worker(Piao {
        name: None,
        sleep: Duration::ZERO,
    });
    let mut named = Process::new(|| say!("I have a name of my own")).named("yuanhao");
    for process in [
        &mut unnamed_a,
        &mut unnamed_b,
        &mut unnamed_piao,
        &mut named,
    ] {
        process.start()?;
    }
    for process in [
        &mut unnamed_a,
        &mut unnamed_b,
        &mut unnamed_piao,
        &mut named,
    ] {
        process.join()?;
    }
    let number: u32 = unnamed_a
        .name()
        .trim_start_matches("Process-")
        .parse()
        .unwrap_or(0);
    let (a, b, piao) = (unnamed_a.name(), unnamed_b.name(), unnamed_piao.name());
    let (last, created_before, named) = (number + 2, number.saturating_sub(1), named.name());
    note!(
        en: "The default names are {a}, {b} and {piao}: N counts every process created in this \
             process, named or not, so these are numbers {number} to {last} (the earlier steps \
             created {created_before} before them). A worker with no name of its own is named \
             after its type, {piao}, as Python names an unnamed instance of a subclass after its \
             class. The grandchild is named {a}:1 after its parent, the way Python names it. A \
             name is only a label: {named} was chosen by us, and the kernel knows it too \
             (/proc/<pid>/comm, what ps shows).",
        zh: "默认名字是 {a}、{b} 和 {piao}：N 统计的是这个进程创建过的所有进程，不管有没有起名字，\
             所以它们是第 {number} 到第 {last} 个（前面几步在它们之前已经创建了 {created_before} \
             个）。没有自己名字的 worker 以它的类型命名，即 {piao}，正如 Python 用类名给子类的\
             无名实例命名。孙进程随它的父进程叫 {a}:1，和 Python 的命名方式一样。名字只是个标签：\
             {named} 是我们自己选的，内核也知道它（/proc/<pid>/comm，即 ps 显示的名字）。",
    );

    lab.step("fork or spawn: what a child runs again")?;
    fork_or_spawn()
}

// ---------------------------------------------------------------------------------------------
// Step 4: start methods. Python starts a child in one of three ways: `fork` (a copy of the
// parent, the Linux default up to 3.13), `spawn` (a new interpreter that imports the main module
// again from the top: macOS, Windows) or `forkserver` (Linux from 3.14: children forked from a
// fresh server process, so they too start from the top). The tutorial's server binds its port at
// module level, outside `if __name__ == '__main__':`; under `spawn` every child runs that again.

/// How many times this process has run its "module-level" work (a static: a forked child has a
/// copy of its parent's count, a freshly started program starts from 0).
static MODULE_LEVEL_RUNS: AtomicU32 = AtomicU32::new(0);

/// The program's "module-level" work, what the tutorial's server does before its `if __name__
/// == '__main__':`: bind the server's port.
fn module_level(address: SocketAddr) -> io::Result<TcpListener> {
    MODULE_LEVEL_RUNS.fetch_add(1, Ordering::SeqCst);
    crate::tools::echo::listen_on(address, true)
}

/// The hidden `proclab spawn-child --lesson 2 --port P`: what a spawn-style child is. The lab's own binary,
/// started again from the top (`exec`), runs the module-level work again, as Python's `spawn`
/// re-imports the main module, and only then would run its target. Its output goes to a pipe
/// the lesson reads.
pub fn spawned_child(port: u16) -> Result<()> {
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    println!("started from the top; module level: binding {address}");
    // An error here ends this program as an uncaught OSError ends Python's child: a message
    // on standard error (`proclab: ...`) and exit status 1.
    module_level(address)?;
    println!("bound: module level ran here once");
    Ok(())
}

fn fork_or_spawn() -> Result<()> {
    let listener = module_level(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    let address = listener.local_addr()?;
    say!("module level: bound {address} (the tutorial's server binds before its main guard)");

    // fork: the child is a copy of the parent as it is now, socket and count included.
    let inherited = listener.try_clone()?;
    let mut forked = Process::new(move || -> io::Result<()> {
        say!(
            "fork child: I hold the listening socket on {} already; module level ran {} time(s), \
             in my parent before the fork; nothing runs again",
            inherited.local_addr()?,
            MODULE_LEVEL_RUNS.load(Ordering::SeqCst)
        );
        Ok(())
    })
    .named("fork-child");
    let fork_pid = forked.start()?;
    let fork_code = forked.join()?;

    // spawn: fork, then exec the lab's own binary, which starts from the top.
    let (output, output_in_child) = nix::unistd::pipe()?;
    let port = address.port();
    let mut spawned = Process::new(move || -> io::Result<()> {
        let error = Command::new("/proc/self/exe")
            .args(["spawn-child", "--lesson", "2", "--port", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::from(output_in_child.try_clone()?))
            .stderr(Stdio::from(output_in_child.try_clone()?))
            .exec();
        // Only reached when exec itself failed.
        Err(error)
    })
    .named("spawn-child");
    let spawn_pid = spawned.start()?;
    let spawn_code = spawned.join()?;
    let mut printed = String::new();
    std::fs::File::from(output).read_to_string(&mut printed)?;
    for line in printed.lines() {
        say!("spawn-child {spawn_pid} printed: {line}");
    }
    let failed_to_bind = printed.contains("Address already in use");
    note!(
        en: "fork-child ({fork_pid}) began as a copy of the main process: the socket was already \
             open in it, and the count of module-level runs was its parent's. Nothing ran again \
             (exitcode {fork_code}).",
        zh: "fork-child（{fork_pid}）一开始就是主进程的副本：套接字 (socket) 在它里面已经打开，\
             模块级代码的执行次数也是父进程的那个计数。没有任何东西重新执行（exitcode \
             {fork_code}）。",
    );
    let bind_again = if failed_to_bind {
        text!(
            en: "and failed with Address already in use (the main process holds the port)",
            zh: "，并以 Address already in use（地址已被占用）失败（端口在主进程手里）",
        )
    } else {
        text!(en: "(and did not fail?)", zh: "（却没有失败？）")
    };
    note!(
        en: "spawn-child ({spawn_pid}) exec'd the lab's binary, a new program that starts from \
             the top: it ran the module-level bind again {bind_again}, and ended with exitcode \
             {spawn_code}. That is the tutorial's server under Python's spawn (macOS, Windows) \
             or forkserver (Linux from 3.14). Hence section 三's rule: start processes only \
             under `if __name__ == '__main__':`, and put there what must run once, such as this \
             bind.",
        zh: "spawn-child（{spawn_pid}）exec 了本实验的程序，一个从头开始的新程序：它把模块级的 \
             bind 又执行了一遍{bind_again}，最后以 exitcode {spawn_code} 结束。这正是教程里的\
             服务端在 Python 的 spawn（macOS、Windows）或 forkserver（3.14 起的 Linux）下的样子。\
             所以教程第三节才有这条规矩：只在 `if __name__ == '__main__':` 下面开启进程，并把只应\
             执行一次的代码（比如这次 bind）放在那里。",
    );
    Ok(())
}
