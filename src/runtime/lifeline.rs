//! What ends a process of a run once the run is gone, whatever it is doing.
//!
//! The supervisor and its guard clean up after a run, however it ends. If both are killed at
//! once (`kill -9` of the two, `pkill -9 proclab`), nobody is left to do it, and a process
//! of the run may be where it never looks at the run again: in a futex wait on a lock whose
//! holder died, reading a pipe nobody writes, spinning in a loop. So the kernel tells it.
//!
//! Every process of a run asks, as soon as it is forked, for a signal when its parent dies
//! (`PR_SET_PDEATHSIG`). The kernel sends it when the parent dies, and again when the
//! process is re-parented and *that* parent dies, if it was a subreaper such as the
//! supervisor (see `prctl(2)`). The handler then asks one question: who is my parent now?
//! - the parent that forked me (the thread that forked me ended, not my parent process), or
//!   the supervisor (my parent ended and the supervisor adopted me, as it adopts every
//!   orphan of a run: lesson 3's orphan lives on, as the lesson means it to): the run lives,
//!   carry on;
//! - anyone else: the supervisor is dead too, so the run is gone: end now (`SIGKILL` to
//!   itself, so that no thread of it runs on).
//!
//! The main process asks for a plain `SIGKILL` instead: its parent is the supervisor.
//! When the supervisor dies, the main process goes, its children are told and go, theirs
//! then, and so on down the tree: nothing of the run outlives the supervisor for long.
//!
//! Why not a pid namespace whose init is the lab's (the kernel kills a namespace's every
//! process when its init dies)? Creating one needs a user namespace where the lab is not
//! root, which many systems switch off, and inside one every process sees other pids than the
//! supervisor shows: the lessons are about pids.

use std::sync::atomic::{AtomicI32, Ordering};

use crate::runtime::raw;

/// The supervisor's pid: an adopted orphan's parent while the run lives.
static SUPERVISOR: AtomicI32 = AtomicI32::new(0);
/// The pid of the process that forked this one. (A new child writes it: in the section of the
/// statics a new child writes, see `FAMILY` in `multiprocessing::process`.)
#[unsafe(link_section = ".data.new_child")]
static FORKED_BY: AtomicI32 = AtomicI32::new(0);

/// `parent_died_signal()`, worked out once by the supervisor before it forks anything: a new
/// child only reads it (calling into the C library for it would run one more page of code
/// in every new child, a page fault each time).
static PARENT_DIED_SIGNAL: AtomicI32 = AtomicI32::new(0);

/// The signal the kernel sends when a parent dies: a real-time signal, which nothing else
/// in the lab or its lessons uses, and which a process of the run handles (below).
fn parent_died_signal() -> libc::c_int {
    libc::SIGRTMIN() + 4
}

/// In the supervisor, before it forks anything: whose adoption means "the run lives".
pub fn set_supervisor(pid: i32) {
    PARENT_DIED_SIGNAL.store(parent_died_signal(), Ordering::Relaxed);
    SUPERVISOR.store(pid, Ordering::Relaxed);
}

/// In the main process, before the lesson starts: the handler every process of the run
/// inherits through `fork`.
pub fn install_handler() {
    let action = nix::sys::signal::SigAction::new(
        nix::sys::signal::SigHandler::Handler(on_parent_died),
        // Restarted: a process whose parent ended while the run lives must not see its
        // reads and waits fail because of it.
        nix::sys::signal::SaFlags::SA_RESTART,
        nix::sys::signal::SigSet::empty(),
    );
    // SAFETY: the handler calls only getppid, getpid and kill, which are async-signal-safe.
    unsafe {
        let _ = libc::sigaction(
            parent_died_signal(),
            &libc::sigaction::from(action),
            std::ptr::null_mut(),
        );
    }
}

/// In a child, first thing after `fork`: ask to be told when the parent (`forked_by`, the
/// pid of the process that called `fork`) dies. If it died already, the run may be gone
/// before the request took: check at once. (With the rest of a new child's first steps:
/// see `build.rs`.)
#[unsafe(link_section = ".text.hot.new_child")]
pub fn follow_the_run(forked_by: i32) {
    // A program of the lab's API run on its own (a step's Rust program, `cargo run --example
    // step`) has no supervisor and no run to follow: its orphans live on, as Python's do.
    if SUPERVISOR.load(Ordering::Relaxed) == 0 {
        return;
    }
    FORKED_BY.store(forked_by, Ordering::Relaxed);
    raw::set_parent_death_signal(PARENT_DIED_SIGNAL.load(Ordering::Relaxed));
    end_if_the_run_is_gone();
}

extern "C" fn on_parent_died(_signal: libc::c_int) {
    end_if_the_run_is_gone();
}

#[unsafe(link_section = ".text.hot.new_child")]
fn end_if_the_run_is_gone() {
    // A plain system call: async-signal-safe, and no C library code to fault in (see `raw`).
    let parent = raw::getppid();
    let supervisor = SUPERVISOR.load(Ordering::Relaxed);
    if parent != FORKED_BY.load(Ordering::Relaxed) && (supervisor == 0 || parent != supervisor) {
        // SAFETY: getpid and kill are async-signal-safe and cannot fail here.
        unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
    }
}
