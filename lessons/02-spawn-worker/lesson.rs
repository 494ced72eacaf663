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

use nix::unistd::{getpid, getppid};
use rand::RngExt;

use crate::error::{Error, Result};
use crate::lab::{Lab, describe};
use crate::multiprocessing::process::{Process, ProcessError, Worker};
use crate::runtime::context;
use crate::runtime::procfs;
use crate::view::lang::Text;
use crate::{note, say};

pub const TITLE: Text = Text {
    en: "Spawning processes from a Worker",
    zh: "用 Worker 类创建进程",
};
pub const TEACHES: Text = Text {
    en: "the Worker trait (subclassing Process), run() versus start(), names",
    zh: "Worker trait（相当于继承 Process）、run() 与 start() 的区别、进程名",
};
pub const NOTES: Text = Text {
    en: include_str!("notes.md"),
    zh: "",
};

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
            parents.push(format!(
                "{} ({pid}) has parent {}",
                worker.name(),
                stat.ppid
            ));
        }
    }
    note!(
        "Each worker printed getppid() and getpid() from inside its own process. /proc agrees: \
         {}. The main process is {main_pid}: it forked all three, so it is their parent.",
        parents.join(", ")
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
    note!(
        "run() called directly: the worker's lines above carry pid {main_pid}, the main \
         process's own pid, and run() did not return until the work was done ({} for a {} \
         sleep). No process was created: run() is only the function that start() calls in the \
         child.",
        describe(run_took),
        describe(context::scaled(sleep))
    );
    let began = Instant::now();
    let child_pid = worker.start()?;
    let start_took = began.elapsed();
    note!(
        "start() on the same worker returned after {}, and the work now runs in pid {child_pid}, \
         a new child of {main_pid}.",
        describe(start_took)
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
        "Both mistakes are errors with Python's messages, returned as values: there is no child \
         to wait for, and a process can only be started once."
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
    note!(
        "The default names are {}, {} and {}: N counts every process created in this process, \
         named or not, so these are numbers {number} to {} (the earlier steps created {} before \
         them). A worker with no name of its own is named after its type, {}, as Python names \
         an unnamed instance of a subclass after its class. The grandchild is named {}:1 after \
         its parent, the way Python names it. A name is only a label: {} was chosen by us, and \
         the kernel knows it too (/proc/<pid>/comm, what ps shows).",
        unnamed_a.name(),
        unnamed_b.name(),
        unnamed_piao.name(),
        number + 2,
        number.saturating_sub(1),
        unnamed_piao.name(),
        unnamed_a.name(),
        named.name()
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

/// The hidden `proclab spawn-child --port P`: what a spawn-style child is. The lab's own binary,
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
            .args(["spawn-child", "--port", &port.to_string()])
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
        "fork-child ({fork_pid}) began as a copy of the main process: the socket was already \
         open in it, and the count of module-level runs was its parent's. Nothing ran again \
         (exitcode {fork_code})."
    );
    note!(
        "spawn-child ({spawn_pid}) exec'd the lab's binary, a new program that starts from the \
         top: it ran the module-level bind again {}, and ended with exitcode {spawn_code}. That \
         is the tutorial's server under Python's spawn (macOS, Windows) or forkserver (Linux \
         from 3.14). Hence section 三's rule: start processes only under if __name__ == \
         '__main__':, and put there what must run once, such as this bind.",
        if failed_to_bind {
            "and failed with Address already in use (the main process holds the port)"
        } else {
            "(and did not fail?)"
        }
    );
    Ok(())
}
