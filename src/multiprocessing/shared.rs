//! Memory that several processes share, and a semaphore (信号量) that lives in it.
//!
//! After `fork` a child has a *copy* of its parent's memory: what it writes to an ordinary
//! variable, its parent never sees. A mapping made with `mmap(MAP_SHARED | MAP_ANONYMOUS)`
//! *before* the fork is the exception: parent and children then use the same physical pages.
//! The mapping has no name (nothing appears in `/dev/shm`), so it cannot be left behind: the
//! kernel frees it when the last process that maps it unmaps it or ends.
//!
//! ```ignore
//! let counter = SharedMemory::new(AtomicU32::new(0))?;
//! let in_child = counter.clone();            // another handle to the same pages
//! let mut child = Process::new(move || { in_child.fetch_add(1, Ordering::SeqCst); });
//! child.start()?;
//! child.join()?;
//! assert_eq!(counter.load(Ordering::SeqCst), 1);   // the child's write is visible here
//! ```
//!
//! What goes into shared memory must mean the same thing in every process: atomics, a `sem_t`.
//! Not a `String` or a `Box`: they point into the private heap of the process that made them.
//! Atomics are the way to read and write it, since processes sharing memory race exactly as
//! threads do. `SharedMemory` takes only types marked [`ProcessShared`]: the atomics, the lab's
//! own process primitives, arrays of them, and a lesson's structs of them declared with
//! [`process_shared!`](crate::process_shared).

use std::cell::UnsafeCell;
use std::num::NonZeroUsize;
use std::ops::Deref;
use std::ptr::NonNull;
use std::rc::Rc;
use std::time::{Duration, SystemTime};

use nix::errno::Errno;
use nix::sys::mman::{MapFlags, ProtFlags, mmap_anonymous, munmap};

/// A type that works the same when several processes use one value of it in shared memory:
/// it holds no pointer into one process's memory, and whatever waits on it wakes a waiter in
/// any process. `SharedMemory` takes nothing else.
///
/// `std::sync::Mutex` is `Sync` but not this: it sleeps on a *private* futex (`strace` shows
/// `FUTEX_WAIT_BITSET_PRIVATE`), which the kernel finds by the waiting process's own address
/// space, so an unlock in another process never wakes it, and the waiter hangs. Between
/// processes, use `multiprocessing::Lock`. So this does not compile:
///
/// ```compile_fail,E0277
/// use proclab::multiprocessing::shared::SharedMemory;
/// let shared = SharedMemory::new(std::sync::Mutex::new(0u32));
/// ```
///
/// while an atomic does:
///
/// ```
/// use proclab::multiprocessing::shared::SharedMemory;
/// use std::sync::atomic::{AtomicU32, Ordering};
/// let shared = SharedMemory::new(AtomicU32::new(0)).unwrap();
/// shared.fetch_add(1, Ordering::SeqCst);
/// ```
///
/// # Safety
/// Implement it only for a type whose every part is `ProcessShared` (what
/// [`process_shared!`](crate::process_shared) checks for a struct), or that synchronises through
/// something made for processes (a `sem_t` with `pshared = 1`, a shared futex).
pub unsafe trait ProcessShared: Sync {}

/// Implements `ProcessShared` for the atomics of `std`, each a number that the CPU reads and
/// writes as one, in any process. (Not `AtomicPtr`: a pointer means something in one process.)
macro_rules! atomics_are_process_shared {
    ($($atomic:ty),*) => {
        $(
            // SAFETY: an atomic is its bits, read and written by atomic instructions, which
            // work the same on memory mapped in several processes; it never sleeps on a futex.
            unsafe impl ProcessShared for $atomic {}
        )*
    };
}

atomics_are_process_shared!(
    std::sync::atomic::AtomicBool,
    std::sync::atomic::AtomicI8,
    std::sync::atomic::AtomicI16,
    std::sync::atomic::AtomicI32,
    std::sync::atomic::AtomicI64,
    std::sync::atomic::AtomicIsize,
    std::sync::atomic::AtomicU8,
    std::sync::atomic::AtomicU16,
    std::sync::atomic::AtomicU32,
    std::sync::atomic::AtomicU64,
    std::sync::atomic::AtomicUsize
);

// SAFETY: an array is its elements side by side, each `ProcessShared`.
unsafe impl<T: ProcessShared, const N: usize> ProcessShared for [T; N] {}

/// Declares a struct to share between processes: every field must be `ProcessShared` (atomics,
/// arrays of them, the lab's semaphores, another such struct), which the compiler checks; the
/// struct then is too, and `SharedMemory` takes it.
///
/// ```
/// use proclab::multiprocessing::shared::SharedMemory;
/// use proclab::process_shared;
/// use std::sync::atomic::{AtomicU32, AtomicU64};
///
/// process_shared! {
///     /// What the buyers write down for the main process.
///     #[derive(Default)]
///     struct Sales {
///         bought: AtomicU32,
///         waited_us: [AtomicU64; 3],
///     }
/// }
/// let sales = SharedMemory::new(Sales::default()).unwrap();
/// ```
///
/// A field that is not `ProcessShared` is refused:
///
/// ```compile_fail,E0277
/// proclab::process_shared! {
///     struct Sales {
///         bought: std::sync::Mutex<u32>,
///     }
/// }
/// ```
#[macro_export]
macro_rules! process_shared {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $($(#[$field_meta:meta])* $field_vis:vis $field:ident : $type:ty),* $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis struct $name {
            $($(#[$field_meta])* $field_vis $field: $type),*
        }
        $crate::process_shared!(@every_part_is_shared $name, $($type),*);
    };
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident ( $($(#[$field_meta:meta])* $field_vis:vis $type:ty),* $(,)? );
    ) => {
        $(#[$meta])*
        $vis struct $name ( $($(#[$field_meta])* $field_vis $type),* );
        $crate::process_shared!(@every_part_is_shared $name, $($type),*);
    };
    (@every_part_is_shared $name:ident, $($type:ty),*) => {
        // Does not compile unless every field's type is `ProcessShared`.
        const _: fn() = || {
            fn is_process_shared<T: $crate::multiprocessing::shared::ProcessShared>() {}
            $(is_process_shared::<$type>();)*
        };
        // SAFETY: every field is `ProcessShared` (checked just above), and a struct is its
        // fields side by side.
        unsafe impl $crate::multiprocessing::shared::ProcessShared for $name {}
    };
}

/// One value of type `T` in an anonymous shared mapping. Clones are handles to the same
/// mapping (give one to each child's closure); the last handle dropped in a process unmaps it
/// there.
pub struct SharedMemory<T> {
    mapping: Rc<Mapping<T>>,
}

struct Mapping<T> {
    value: NonNull<T>,
}

impl<T: ProcessShared> SharedMemory<T> {
    /// Maps a new shared page (or more) and moves `value` into it. Every process forked after
    /// this call sees the same value.
    pub fn new(value: T) -> Result<SharedMemory<T>, Errno> {
        // Nothing in shared memory is ever dropped (a child leaves with `_exit`, and several
        // processes hold it at once), so a type that needs dropping has no place there.
        const {
            assert!(
                !std::mem::needs_drop::<T>(),
                "shared memory holds plain data only"
            )
        };
        let length = NonZeroUsize::new(size_of::<T>().max(1)).expect("at least one byte");
        // SAFETY: a new anonymous mapping at an address of the kernel's choosing touches no
        // memory we already use. It is page-aligned, which is enough for any `T` we put there.
        let pages = unsafe {
            mmap_anonymous(
                None,
                length,
                ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
                MapFlags::MAP_SHARED,
            )
        }?;
        let value_at: NonNull<T> = pages.cast();
        assert!(value_at.as_ptr().is_aligned());
        // SAFETY: the mapping is ours, large enough and aligned for a `T`, and nothing else
        // refers to it yet.
        unsafe { value_at.write(value) };
        Ok(SharedMemory {
            mapping: Rc::new(Mapping { value: value_at }),
        })
    }
}

impl<T> Clone for SharedMemory<T> {
    fn clone(&self) -> Self {
        SharedMemory {
            mapping: Rc::clone(&self.mapping),
        }
    }
}

impl<T: ProcessShared> Deref for SharedMemory<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the mapping stays mapped while any handle exists, and holds the `T` written
        // by `new`. Only shared references are handed out, and `T: ProcessShared` makes it
        // sound to use one from several processes at once (they behave like threads towards
        // these pages).
        unsafe { self.mapping.value.as_ref() }
    }
}

impl<T> Drop for Mapping<T> {
    fn drop(&mut self) {
        let length = size_of::<T>().max(1);
        // SAFETY: this is the mapping `new` made, with its length; no handle is left in this
        // process to refer to it. Other processes keep their own mapping of the same pages.
        let _ = unsafe { munmap(self.value.cast(), length) };
    }
}

/// A POSIX semaphore shared between processes (`sem_init` with `pshared = 1`): the kind of
/// lock `multiprocessing.Lock` is. It is only a counter in memory: the kernel does not know
/// which process took it, so when the taker dies the count stays taken.
pub struct Semaphore {
    sem: UnsafeCell<libc::sem_t>,
}

// SAFETY: a `sem_t` is made to be used by many threads and processes at once; every access
// goes through the `sem_*` functions, which synchronise.
unsafe impl Sync for Semaphore {}

// SAFETY: initialised with `pshared = 1` (`Semaphore::shared`), a `sem_t` wakes its waiters in
// every process that maps it: that is what `pshared` asks of the C library.
unsafe impl ProcessShared for Semaphore {}

impl Semaphore {
    /// A semaphore with `value` permits, in shared memory of its own: every process forked
    /// after this call uses the same one. (`value` 1 makes it a lock.)
    pub fn shared(value: u32) -> Result<SharedMemory<Semaphore>, Errno> {
        let memory = SharedMemory::new(Semaphore {
            // SAFETY: a `sem_t` is plain bytes; all-zero is a valid value to overwrite.
            sem: UnsafeCell::new(unsafe { std::mem::zeroed() }),
        })?;
        // A semaphore must be initialised where it will live, so this comes after the move
        // into shared memory. (It is never `sem_destroy`ed: on Linux that frees nothing, and
        // the pages go when the last process unmaps them.)
        // SAFETY: `sem` points to a `sem_t` in memory that stays mapped; pshared = 1 because
        // other processes will use it.
        Errno::result(unsafe { libc::sem_init(memory.sem.get(), 1, value) })?;
        Ok(memory)
    }

    /// Takes a permit, waiting as long as it takes (`sem_wait`).
    pub fn acquire(&self) -> Result<(), Errno> {
        loop {
            // SAFETY: `sem` was initialised by `shared` and is still mapped.
            match Errno::result(unsafe { libc::sem_wait(self.sem.get()) }) {
                Err(Errno::EINTR) => continue,
                other => return other.map(drop),
            }
        }
    }

    /// Takes a permit, waiting at most `timeout` (`sem_timedwait`): `Ok(false)` if none came.
    pub fn acquire_timeout(&self, timeout: Duration) -> Result<bool, Errno> {
        // sem_timedwait wants an absolute deadline on the CLOCK_REALTIME clock, which is the
        // clock `SystemTime` reads.
        let later = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            + timeout;
        let deadline = libc::timespec {
            tv_sec: later.as_secs() as libc::time_t,
            tv_nsec: later.subsec_nanos() as _,
        };
        loop {
            // SAFETY: `sem` was initialised by `shared`; `deadline` is a valid timespec.
            match Errno::result(unsafe { libc::sem_timedwait(self.sem.get(), &deadline) }) {
                Ok(_) => return Ok(true),
                Err(Errno::ETIMEDOUT) => return Ok(false),
                Err(Errno::EINTR) => continue,
                Err(errno) => return Err(errno),
            }
        }
    }

    /// Gives a permit back (`sem_post`).
    pub fn release(&self) -> Result<(), Errno> {
        // SAFETY: `sem` was initialised by `shared` and is still mapped.
        Errno::result(unsafe { libc::sem_post(self.sem.get()) }).map(drop)
    }

    /// The number of permits free right now (`sem_getvalue`): 0 while the lock is held.
    pub fn value(&self) -> Result<i32, Errno> {
        let mut value = 0;
        // SAFETY: `sem` was initialised by `shared`; `value` is a valid place for the result.
        Errno::result(unsafe { libc::sem_getvalue(self.sem.get(), &mut value) })?;
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[test]
    fn clones_are_handles_to_one_value() {
        let memory = SharedMemory::new(AtomicU32::new(7)).unwrap();
        let other = memory.clone();
        other.fetch_add(1, Ordering::SeqCst);
        assert_eq!(memory.load(Ordering::SeqCst), 8);
    }

    #[test]
    fn a_taken_semaphore_times_out_until_released() {
        let lock = Semaphore::shared(1).unwrap();
        assert_eq!(lock.value(), Ok(1));
        lock.acquire().unwrap();
        assert_eq!(lock.value(), Ok(0));
        assert_eq!(lock.acquire_timeout(Duration::from_millis(20)), Ok(false));
        lock.release().unwrap();
        assert_eq!(lock.acquire_timeout(Duration::from_millis(20)), Ok(true));
    }
}
