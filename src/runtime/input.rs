//! A line typed at a prompt (`run --step`, `--predict`, `replay --step`), read with a bound.
//!
//! It is read a byte at a time, so that nothing beyond the line is taken into a buffer (a
//! buffer that a later `fork` would copy into every child), and it is at most
//! [`MAX_LINE`] bytes: standard input may be a file without a newline in it
//! (`< /dev/zero`), and a prompt must not take all memory waiting for one. Past the bound,
//! what was read is the answer (not a choice of any question), and the rest is read as the
//! next line.

use std::io::IsTerminal;
use std::os::fd::BorrowedFd;
use std::sync::atomic::{AtomicU8, Ordering};

use nix::errno::Errno;

/// Whether the answers come from a terminal: 0 not known yet, 1 yes, 2 no.
static TYPED: AtomicU8 = AtomicU8::new(0);

/// In the supervisor, before it forks the main process: whether its standard input, which
/// it passes on to the main process through a pipe, is a terminal (someone typing). The main
/// process inherits the answer.
pub fn note_whether_typed() {
    let typed = std::io::stdin().is_terminal();
    TYPED.store(if typed { 1 } else { 2 }, Ordering::Relaxed);
}

/// Whether the answers read at a prompt are typed at a terminal, rather than read from a file
/// or a pipe: as the supervisor noted it, or else as this process's standard input is.
pub fn typed() -> bool {
    match TYPED.load(Ordering::Relaxed) {
        1 => true,
        2 => false,
        _ => std::io::stdin().is_terminal(),
    }
}

/// The longest answer a prompt takes, in bytes.
pub const MAX_LINE: usize = 4096;

/// One line from `input` (without its newline, at most `MAX_LINE` bytes), or `None` at its
/// end, on an error, or when a read is interrupted by a signal and `go_on()` says not to
/// try again.
pub fn read_line(input: BorrowedFd, go_on: impl Fn() -> bool) -> Option<String> {
    let mut line = Vec::new();
    while line.len() < MAX_LINE {
        let mut byte = [0u8; 1];
        match nix::unistd::read(input, &mut byte) {
            Ok(1) if byte[0] == b'\n' => break,
            Ok(1) => line.push(byte[0]),
            Ok(_) if line.is_empty() => return None,
            Ok(_) => break,
            Err(Errno::EINTR) if go_on() => {}
            Err(_) => return None,
        }
    }
    Some(String::from_utf8_lossy(&line).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::fd::AsFd;

    #[test]
    fn a_line_without_an_end_is_cut_at_the_bound() {
        let (reader, writer) = nix::unistd::pipe().unwrap();
        let mut writer = std::fs::File::from(writer);
        writer.write_all(&vec![b'x'; MAX_LINE + 10]).unwrap();
        writer.write_all(b"\nq\n").unwrap();
        drop(writer);
        let first = read_line(reader.as_fd(), || true).unwrap();
        assert_eq!(first.len(), MAX_LINE);
        assert_eq!(read_line(reader.as_fd(), || true).unwrap(), "x".repeat(10));
        assert_eq!(read_line(reader.as_fd(), || true).unwrap(), "q");
        assert_eq!(read_line(reader.as_fd(), || true), None);
    }
}
