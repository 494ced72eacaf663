//! Ctrl-C (`SIGINT`), `SIGTERM` and `SIGHUP`: how the lab is asked to stop, in whichever
//! process catches them (the supervisor, `run --repeat`, `replay`).
//!
//! The handler only records the signal (an atomic store, the one thing a signal handler may
//! safely do); the work of stopping happens in the program's own loop, which looks at
//! [`stop_signal`]. The handler is installed without `SA_RESTART`, so the signal also
//! interrupts a blocking wait (a `poll`, a `read` at a prompt) and the loop sees it at once.
//! Standard output's writer (`view::output`) looks at it too: once a stop is asked, a write
//! that cannot proceed gives up after a grace period, so no reader can hold the lab.

use std::sync::atomic::{AtomicI32, Ordering};

use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};

/// The signals that ask the lab to stop.
pub const STOP_SIGNALS: [Signal; 3] = [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP];

/// The signal that asked this process to stop, or 0.
static STOP_SIGNAL: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_stop_signal(signal: libc::c_int) {
    STOP_SIGNAL.store(signal, Ordering::SeqCst);
}

/// Catches the stop signals from now on.
pub fn catch_stop_signals() -> nix::Result<()> {
    for signal in STOP_SIGNALS {
        let action = SigAction::new(
            SigHandler::Handler(on_stop_signal),
            SaFlags::empty(),
            SigSet::empty(),
        );
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        unsafe { sigaction(signal, &action) }?;
    }
    Ok(())
}

/// The signal that asked this process to stop, if one did.
pub fn stop_signal() -> Option<i32> {
    match STOP_SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        signal => Some(signal),
    }
}
