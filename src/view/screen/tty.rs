//! Taking the terminal for the full-screen view and always giving it back: keys one at a time
//! without echo, the alternate screen, the cursor hidden; then the terminal's own settings,
//! the normal screen and the cursor again, whether the run ended, was stopped (q, Ctrl-C) or
//! panicked.
//!
//! Ctrl-C stays the terminal's interrupt (`ISIG` is kept): it reaches the supervisor as
//! SIGINT, which stops the run the way it stops every run, and the view gives the terminal
//! back as the run ends.
//!
//! A supervisor killed outright (`kill -9`) gives nothing back, and the shell after it would
//! read a terminal without echo, on the alternate screen. Its guard, the process that cleans
//! up after a dead supervisor, is forked after the view took the terminal, so it holds a copy
//! of what to give back: it does so for the supervisor ([`give_back_for`]).

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::sync::Mutex;

use nix::sys::termios::{
    LocalFlags, SetArg, SpecialCharacterIndices, Termios, tcgetattr, tcsetattr,
};

use crate::view::output::Output;

/// The terminal's settings before the view took it, while it has it, and the process that
/// took it: a child forked meanwhile has a copy of this, and must not give back what it does
/// not hold.
static SAVED: Mutex<Option<(Termios, u32)>> = Mutex::new(None);

/// Enter the alternate screen, hide the cursor.
pub const ENTER: &[u8] = b"\x1b[?1049h\x1b[?25l";
/// Show the cursor, leave the alternate screen, plain colours.
pub const LEAVE: &[u8] = b"\x1b[0m\x1b[?25h\x1b[?1049l";

/// Takes the terminal: standard input gives each key at once, unechoed; standard output shows
/// the alternate screen. Fails (and changes nothing) when standard input is not a terminal.
pub fn take() -> nix::Result<()> {
    let stdin = std::io::stdin();
    let saved = tcgetattr(&stdin)?;
    let mut keys = saved.clone();
    keys.local_flags
        .remove(LocalFlags::ICANON | LocalFlags::ECHO | LocalFlags::IEXTEN);
    keys.control_chars[SpecialCharacterIndices::VMIN as usize] = 1;
    keys.control_chars[SpecialCharacterIndices::VTIME as usize] = 0;
    tcsetattr(&stdin, SetArg::TCSANOW, &keys)?;
    *SAVED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some((saved, std::process::id()));
    install_panic_hook();
    Ok(())
}

/// Gives the terminal back as it was found: its settings, the normal screen, the cursor.
/// Safe to call more than once, and from the panic hook: only the first call after `take`
/// does anything.
pub fn give_back() -> bool {
    let given = give_back_quietly();
    if given {
        let mut out = Output::new();
        let _ = out.write_all(LEAVE);
        let _ = out.flush();
    }
    given
}

/// Gives the terminal's settings back, when the screen has been left already.
pub fn give_back_quietly() -> bool {
    let mut held = SAVED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if held
        .as_ref()
        .is_none_or(|(_, owner)| *owner != std::process::id())
    {
        return false;
    }
    let Some((saved, _)) = held.take() else {
        return false;
    };
    drop(held);
    // Whatever the keys typed in the meantime, they were the view's.
    let stdin = std::io::stdin();
    let _ = tcsetattr(&stdin, SetArg::TCSAFLUSH, &saved);
    true
}

/// In the guard of a run whose supervisor `owner` died without a word: gives back the
/// terminal that the supervisor's view took (its settings, the normal screen, the cursor),
/// through the controlling terminal, since the guard's own standard streams are /dev/null.
/// Nothing when that view had not taken it. The guard is not in the terminal's foreground
/// process group, so it must ignore SIGTTOU first, or the kernel would stop it here.
pub fn give_back_for(owner: u32) {
    let held = SAVED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .take();
    let Some((saved, taken_by)) = held else {
        return;
    };
    if taken_by != owner {
        return;
    }
    // Not made this process's controlling terminal: it is one already, or none is wanted.
    let Ok(terminal) = std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NOCTTY)
        .open("/dev/tty")
    else {
        return;
    };
    let _ = tcsetattr(&terminal, SetArg::TCSAFLUSH, &saved);
    let _ = (&terminal).write_all(LEAVE);
}

/// Whether the view has the terminal now.
pub fn taken() -> bool {
    SAVED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .is_some()
}

/// A panic gives the terminal back before its message is printed, or the message would be
/// drawn on the alternate screen and lost with it.
fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        give_back();
        previous(info);
    }));
}
