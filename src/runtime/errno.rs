//! What a failed system call means, in words a student can act on: the cause, and the remedy.
//!
//! `fork` failing with `EAGAIN` prints "Resource temporarily unavailable" by default, which
//! names neither the limit that was reached nor how to raise it. Every early failure of the
//! lab goes through [`describe`], so that it reads as one line with both.

use nix::errno::Errno;

/// The cause of `errno`, and what to do about it when there is something to do.
pub fn describe(errno: Errno) -> String {
    match errno {
        Errno::EAGAIN => "the limit on processes for this user is reached (ulimit -u)".into(),
        Errno::EMFILE => {
            "too many open files: this process's limit is reached (raise it with ulimit -n)".into()
        }
        Errno::ENFILE => "too many open files: the system's limit is reached".into(),
        Errno::ENOMEM => "out of memory (ulimit -v, or the machine's memory)".into(),
        Errno::ENOSPC => "no space left on the device".into(),
        Errno::EACCES | Errno::EPERM => "permission denied".into(),
        other => other.desc().to_string(),
    }
}

/// The same for an `io::Error`, which carries an errno when the kernel refused.
pub fn describe_io(error: &std::io::Error) -> String {
    match error.raw_os_error() {
        Some(code) => describe(Errno::from_raw(code)),
        None => error.to_string(),
    }
}
