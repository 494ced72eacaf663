//! The Process API on its own, forking from this test binary.
//!
//! `Process::start` refuses to fork while another thread runs, and `cargo test` runs tests on
//! threads of its harness. So this file is a program of its own (`harness = false` in
//! `Cargo.toml`): its `main`, the only thread, runs every scenario in turn, and the children
//! only run small closures and leave with `_exit`.

use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use proclab::multiprocessing::process::{self, Pid, Process, ProcessError};
use proclab::runtime::context::{self, RunContext};
use proclab::runtime::event::{Event, Kind};
use proclab::runtime::procfs;
use proclab::threading::Thread;

/// Sets up the run context with an event pipe this test can read back.
fn event_pipe() -> OwnedFd {
    let (reader, writer) = nix::unistd::pipe().unwrap();
    nix::fcntl::fcntl(
        &reader,
        nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
    )
    .unwrap();
    context::init(RunContext {
        start: Instant::now(),
        speed: 1.0,
        event_fd: writer.as_raw_fd(),
        temp_dir: std::env::temp_dir(),
    });
    // The writer must stay open for the whole test.
    std::mem::forget(writer);
    reader
}

fn events_so_far(reader: &OwnedFd) -> Vec<Event> {
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 4096];
    while let Ok(n) = nix::unistd::read(reader, &mut chunk) {
        if n == 0 {
            break;
        }
        bytes.extend_from_slice(&chunk[..n]);
    }
    String::from_utf8_lossy(&bytes)
        .lines()
        .filter_map(Event::from_json)
        .collect()
}

fn main() {
    // Every process of the test writes its events here; the pipe stays open to the end.
    let events = event_pipe();
    the_process_api_behaves_like_pythons(&events);
    a_std_thread_running_refuses_a_fork();
    println!("process_api: every scenario passed");
}

fn the_process_api_behaves_like_pythons(events: &OwnedFd) {
    // A panic in the child's target is that child's exit code 1, not a second copy of the
    // parent's program carrying on.
    let mut panics = Process::new(panic_on_purpose).named("panics");
    panics.start().unwrap();
    assert_eq!(panics.join(), Ok(1));
    assert_eq!(panics.exitcode(), Some(1));
    let seen = events_so_far(events);
    let child = panics.pid().unwrap().as_raw();
    assert!(seen.iter().any(|e| e.pid == child && e.kind == Kind::Start));
    assert!(
        !seen
            .iter()
            .any(|e| e.pid == child && matches!(e.kind, Kind::Done { code: 0 }))
    );

    // A target may return a Result, so child code can use `?`: an Err is reported as an
    // `error` event of the child and becomes exit code 1, as an exception would.
    let mut fails = Process::new(|| -> Result<(), String> { Err("no ticket left".into()) });
    let fails_pid = fails.start().unwrap().as_raw();
    assert_eq!(fails.join(), Ok(1));
    let seen = events_so_far(events);
    assert!(
        seen.iter().any(|e| e.pid == fails_pid
            && e.kind
                == Kind::Error {
                    text: "no ticket left".into()
                }),
        "{seen:?}"
    );

    // Misuse is an error value with Python's message.
    let mut never = Process::new(|| {});
    assert_eq!(never.join(), Err(ProcessError::JoinNotStarted));
    assert_eq!(
        never.join().unwrap_err().to_string(),
        "can only join a started process"
    );
    assert_eq!(never.exitcode(), None);
    assert!(!never.is_alive());
    never.start().unwrap();
    assert_eq!(never.start(), Err(ProcessError::StartedTwice));
    assert_eq!(never.set_daemon(true), Err(ProcessError::DaemonAfterStart));
    assert_eq!(never.join(), Ok(0));
    assert_eq!(never.join(), Ok(0), "joining again gives the same code");

    // join_timeout gives up on a child that is still running, without harming it.
    let mut sleeper = Process::new(|| std::thread::sleep(Duration::from_millis(300)));
    sleeper.start().unwrap();
    assert_eq!(sleeper.join_timeout(Duration::from_millis(20)), Ok(None));
    assert!(sleeper.is_alive());
    assert_eq!(sleeper.exitcode(), None);
    assert_eq!(sleeper.join_timeout(Duration::from_secs(10)), Ok(Some(0)));

    // terminate() and kill() give -15 and -9.
    let mut terminated = Process::new(|| std::thread::sleep(Duration::from_secs(30)));
    let mut killed = Process::new(|| std::thread::sleep(Duration::from_secs(30)));
    terminated.start().unwrap();
    killed.start().unwrap();
    terminated.terminate().unwrap();
    killed.kill().unwrap();
    assert_eq!(terminated.join(), Ok(-15));
    assert_eq!(killed.join(), Ok(-9));
    // Signalling a reaped child is a no-op: its pid may belong to someone else by now.
    assert_eq!(terminated.kill(), Ok(()));

    // A child reaped by someone else (a server's reap_any_ended): its handle still learns the
    // exit code, is not alive, and never signals the pid, which may belong to a stranger now.
    let mut reaped_elsewhere = Process::new(leave_with_7);
    let pid = reaped_elsewhere.start().unwrap();
    let reaped = process::reap_any_ended(true);
    assert_eq!(reaped, [(pid, 7)]);
    assert!(!reaped_elsewhere.is_alive());
    assert_eq!(reaped_elsewhere.exitcode(), Some(7));
    assert_eq!(reaped_elsewhere.terminate(), Ok(()));
    assert_eq!(reaped_elsewhere.join(), Ok(7));

    // A process with a thread still running may not fork: the child would get a copy of this
    // thread only, and whatever the other thread had locked would stay locked there forever.
    let mut thread = Thread::new(|| std::thread::sleep(Duration::from_millis(100))).named("worker");
    thread.start().unwrap();
    let mut refused = Process::new(|| {});
    assert_eq!(refused.start(), Err(ProcessError::ThreadsRunning(1)));
    assert!(
        refused
            .start()
            .unwrap_err()
            .to_string()
            .contains("cannot fork while 1 other thread")
    );
    thread.join().unwrap();
    refused
        .start()
        .expect("once the thread is joined, fork is allowed again");
    assert_eq!(refused.join(), Ok(0));

    // is_alive() and exitcode() do not reap: the finished child stays a zombie until join().
    let mut quick = Process::new(leave_with_3);
    quick.start().unwrap();
    let pid = quick.pid().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while quick.is_alive() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(2));
    }
    assert_eq!(quick.exitcode(), Some(3));
    assert_eq!(procfs::stat(pid).map(|s| s.state), Some('Z'));
    assert_eq!(quick.join(), Ok(3));
    assert_eq!(procfs::stat(pid), None);

    // run() runs the target here, in this process.
    let me = std::process::id() as i32;
    let mut here = Process::new(move || assert_eq!(std::process::id() as i32, me));
    assert_eq!(here.run(), Ok(()));
    assert_eq!(here.pid(), None);

    // Every fork since the first read was reaped, and the parent reported an exit for each.
    let seen = events_so_far(events);
    let exits = |of_thread: bool| {
        seen.iter()
            .filter(|e| matches!(e.kind, Kind::Exit { is_thread, .. } if is_thread == of_thread))
            .count()
    };
    assert_eq!((exits(false), exits(true)), (7, 1), "{seen:?}");

    // The thread was an actor of its own: its start and done carry its tid and its name, and
    // the join was reported by the joining thread, after a visible wait.
    let tid = thread.native_id().expect("it ran");
    let from_thread = |kind: &Kind| {
        seen.iter()
            .any(|e| e.tid == Some(tid) && e.thread.as_deref() == Some("worker") && &e.kind == kind)
    };
    assert!(from_thread(&Kind::Start), "{seen:?}");
    assert!(from_thread(&Kind::Done { code: 0 }), "{seen:?}");
    let joined = seen
        .iter()
        .position(|e| {
            e.kind
                == Kind::Exit {
                    child: tid,
                    exitcode: 0,
                    is_thread: true,
                }
        })
        .expect("the join is reported");
    assert_ne!(seen[joined].tid, Some(tid), "reported by the joiner");
    let waited = seen[..joined].iter().any(|e| {
        e.kind
            == Kind::Wait {
                on: "join".into(),
                object: "worker".into(),
            }
    });
    assert!(waited, "{seen:?}");
    assert!(procfs::zombie_children(Pid::from_raw(me)).is_empty());
}

/// The fork guard counts every thread the kernel counts, not only the lab's: while a
/// `std::thread::scope` thread runs, `start()` refuses; once the scope has ended, it forks.
fn a_std_thread_running_refuses_a_fork() {
    let (tell, told) = std::sync::mpsc::channel::<()>();
    let mut refused = Process::new(|| {}).named("refused");
    let started = std::thread::scope(|scope| {
        scope.spawn(move || told.recv());
        let started = refused.start();
        // The thread ends whatever `start` did, so that a failure is reported, not a hang.
        tell.send(()).unwrap();
        started
    });
    assert_eq!(started, Err(ProcessError::ThreadsRunning(1)));
    // Right after the scope the kernel may count the joined thread for a moment more: the
    // guard waits for it to finish exiting rather than refuse.
    let mut after = Process::new(|| {}).named("after-scope");
    after.start().unwrap();
    assert_eq!(after.join(), Ok(0));
}

fn panic_on_purpose() {
    panic!("on purpose")
}

fn leave_with_3() {
    process::exit(3)
}

fn leave_with_7() {
    process::exit(7)
}
