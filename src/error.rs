//! The lab's errors, and the exit status each one gives.

use std::fmt;

use crate::multiprocessing::pipe::ConnectionError;
use crate::multiprocessing::process::ProcessError;
use crate::multiprocessing::queue::QueueError;
use crate::multiprocessing::synchronize::SyncError;
use crate::threading::thread::ThreadError;

pub type Result<T> = std::result::Result<T, Error>;

/// Exit statuses: 0 success, 1 the lesson failed, 2 bad input, 128 + N stopped by signal N
/// (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP), after cleaning up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Status {
    Success,
    Failure,
    Usage,
    /// Stopped by this signal.
    Interrupted(i32),
    /// The traced program's own exit status.
    Exited(i32),
}

impl Status {
    pub fn code(self) -> u8 {
        match self {
            Status::Success => 0,
            Status::Failure => 1,
            Status::Usage => 2,
            // The shell's convention: 128 + the signal's number.
            Status::Interrupted(signal) => (128 + signal).clamp(0, 255) as u8,
            Status::Exited(code) => code.clamp(0, 255) as u8,
        }
    }
}

#[derive(Debug)]
pub enum Error {
    /// Bad input on the command line: exit status 2.
    Usage(String),
    /// Misuse of the Process API (a lesson shows these on purpose).
    Process(ProcessError),
    /// Misuse of a lock or semaphore shared by processes.
    Sync(SyncError),
    /// Misuse of the Thread API.
    Thread(ThreadError),
    /// A system call or file operation failed, with its kind kept (`ErrorKind::BrokenPipe` ...).
    Io(std::io::Error),
    /// A system failure described in words (what the lab was doing when it failed).
    System(String),
    /// A lesson could not do what it set out to show.
    Lesson(String),
    /// The student typed `q` at a `--step` prompt.
    Quit,
}

impl Error {
    pub fn lesson(message: impl Into<String>) -> Error {
        Error::Lesson(message.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Error::Usage(message) | Error::System(message) | Error::Lesson(message) => {
                write!(f, "{message}")
            }
            Error::Process(error) => write!(f, "{error}"),
            Error::Sync(error) => write!(f, "{error}"),
            Error::Thread(error) => write!(f, "{error}"),
            Error::Io(error) => write!(f, "{error}"),
            Error::Quit => write!(f, "stopped at the student's request"),
        }
    }
}

impl std::error::Error for Error {}

impl From<ProcessError> for Error {
    fn from(error: ProcessError) -> Error {
        Error::Process(error)
    }
}

impl From<SyncError> for Error {
    fn from(error: SyncError) -> Error {
        Error::Sync(error)
    }
}

impl From<ThreadError> for Error {
    fn from(error: ThreadError) -> Error {
        Error::Thread(error)
    }
}

/// A pipe or a queue used wrongly is a lesson's error: its message says what went wrong.
impl From<ConnectionError> for Error {
    fn from(error: ConnectionError) -> Error {
        Error::lesson(error.to_string())
    }
}

impl From<QueueError> for Error {
    fn from(error: QueueError) -> Error {
        Error::lesson(error.to_string())
    }
}

impl From<std::io::Error> for Error {
    fn from(error: std::io::Error) -> Error {
        Error::Io(error)
    }
}

impl From<nix::errno::Errno> for Error {
    fn from(errno: nix::errno::Errno) -> Error {
        Error::Io(std::io::Error::from_raw_os_error(errno as i32))
    }
}
