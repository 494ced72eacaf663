//! `Thread`: Python's `threading.Thread`, over a plain `pthread_create(3)`.
//!
//! ```ignore
//! let mut t = Thread::new(move || work(&shared)).named("worker");
//! t.start()?;      // pthread_create: a new thread in *this* process (same pid, its own tid)
//! t.join()?;       // pthread_join: the caller waits for that thread
//! ```
//!
//! Why not `std::thread::spawn`: for every thread it also maps a guard signal stack (`mmap`,
//! `mprotect`, `sigaltstack`, and `munmap` when the thread ends) and reads the thread's stack
//! bounds, about seven system calls a C thread does not make, which nearly doubles the cost
//! of a short thread. When the lab says "a thread costs M µs here", M must be what the kernel
//! and the C library cost, so this type makes exactly the calls a C program makes. (The
//! price: a stack overflow in one of these threads is a plain SIGSEGV, with no message.)
//!
//! Threads and `fork` do not mix: a process that has started threads must not fork any more
//! (a lock another thread holds would stay locked in the child forever). The lab's lessons
//! and benchmarks start their threads after their last fork.

use std::ffi::c_void;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};

use nix::errno::Errno;

/// Misuse of a `Thread`, with the message Python gives for the same mistake.
#[derive(Debug, Clone, PartialEq)]
pub enum ThreadError {
    StartedTwice,
    JoinNotStarted,
    /// `pthread_create` or `pthread_join` failed (`EAGAIN`: too many threads).
    System(&'static str, Errno),
}

impl fmt::Display for ThreadError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            ThreadError::StartedTwice => write!(f, "threads can only be started once"),
            ThreadError::JoinNotStarted => write!(f, "cannot join thread before it is started"),
            ThreadError::System(call, errno) => write!(f, "{call} failed: {}", errno.desc()),
        }
    }
}

impl std::error::Error for ThreadError {}

type Target = Box<dyn FnOnce() + Send + 'static>;

/// A thread of this process: created, started, joined.
pub struct Thread {
    name: Option<String>,
    target: Option<Target>,
    handle: Option<libc::pthread_t>,
    /// After `join`: whether the target panicked.
    panicked: Option<bool>,
}

impl Thread {
    /// A thread that will run `target`; capture its arguments in the closure.
    pub fn new(target: impl FnOnce() + Send + 'static) -> Thread {
        Thread {
            name: None,
            target: Some(Box::new(target)),
            handle: None,
            panicked: None,
        }
    }

    /// Names the thread: the kernel shows it in `/proc/<pid>/task/<tid>/comm` (15 bytes).
    pub fn named(mut self, name: &str) -> Thread {
        self.name = Some(name.to_string());
        self
    }

    /// Starts the thread; returns at once.
    pub fn start(&mut self) -> Result<(), ThreadError> {
        let Some(target) = self.target.take() else {
            return Err(ThreadError::StartedTwice);
        };
        let target: Target = match self.name.clone() {
            None => target,
            Some(name) => Box::new(move || {
                // PR_SET_NAME names the calling thread; only a label for `ps -L` and `top -H`.
                let short: Vec<u8> = name.bytes().filter(|&b| b != 0).take(15).collect();
                if let Ok(short) = std::ffi::CString::new(short) {
                    let _ = nix::sys::prctl::set_name(&short);
                }
                target()
            }),
        };
        // The closure travels to the new thread as a raw pointer (a C function gets one
        // `void *` argument); `run_target` turns it back into the box and owns it from then on.
        let argument = Box::into_raw(Box::new(target)).cast::<c_void>();
        let mut handle: libc::pthread_t = 0;
        // SAFETY: `handle` is valid for writing, the attributes are the defaults (null), and
        // `run_target` is a C-ABI function that takes exactly the pointer we pass.
        let status =
            unsafe { libc::pthread_create(&mut handle, std::ptr::null(), run_target, argument) };
        if status != 0 {
            // SAFETY: the thread was not created, so the box is still ours to free.
            drop(unsafe { Box::from_raw(argument.cast::<Target>()) });
            return Err(ThreadError::System(
                "pthread_create",
                Errno::from_raw(status),
            ));
        }
        self.handle = Some(handle);
        Ok(())
    }

    /// Waits until the thread has finished. `Ok(true)` if its target panicked (the panic was
    /// reported on standard error by the panic hook, as Python prints a thread's exception).
    pub fn join(&mut self) -> Result<bool, ThreadError> {
        if let Some(panicked) = self.panicked {
            return Ok(panicked);
        }
        let handle = self.handle.ok_or(ThreadError::JoinNotStarted)?;
        let mut result: *mut c_void = std::ptr::null_mut();
        // SAFETY: `handle` is a thread we created and have neither joined nor detached.
        let status = unsafe { libc::pthread_join(handle, &mut result) };
        if status != 0 {
            return Err(ThreadError::System("pthread_join", Errno::from_raw(status)));
        }
        let panicked = !result.is_null();
        self.panicked = Some(panicked);
        Ok(panicked)
    }
}

impl Drop for Thread {
    fn drop(&mut self) {
        // A thread that is never joined must be detached, or its stack is never freed.
        if let (Some(handle), None) = (self.handle, self.panicked) {
            // SAFETY: a thread we created and have not joined or detached.
            unsafe { libc::pthread_detach(handle) };
        }
    }
}

/// What the new thread runs: takes back the boxed target and calls it. A panic must not
/// unwind out of a C function, so it is caught here and returned as a non-null result.
extern "C" fn run_target(argument: *mut c_void) -> *mut c_void {
    // SAFETY: `start` made this pointer with `Box::into_raw` and gave it to this thread only.
    let target = unsafe { Box::from_raw(argument.cast::<Target>()) };
    match panic::catch_unwind(AssertUnwindSafe(target)) {
        Ok(()) => std::ptr::null_mut(),
        Err(_) => std::ptr::dangling_mut::<c_void>(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[test]
    fn runs_joins_and_reports_panics() {
        let count = Arc::new(AtomicU32::new(0));
        let in_thread = count.clone();
        let mut thread = Thread::new(move || {
            in_thread.fetch_add(1, Ordering::SeqCst);
        });
        assert_eq!(thread.join(), Err(ThreadError::JoinNotStarted));
        thread.start().unwrap();
        assert_eq!(thread.start(), Err(ThreadError::StartedTwice));
        assert_eq!(thread.join(), Ok(false));
        assert_eq!(count.load(Ordering::SeqCst), 1);

        let mut panics = Thread::new(|| panic!("on purpose"));
        panics.start().unwrap();
        assert_eq!(panics.join(), Ok(true));
    }
}
