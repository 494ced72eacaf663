//! The few system calls behind every event (and a new child's first steps: its name, the
//! lifeline), made with the CPU's own system-call instruction rather than through the C
//! library.
//!
//! Why: a freshly forked child has none of the program's code mapped. Each 64 KiB stretch of
//! code it runs for the first time is a page fault (a few µs; `proclab bench spawn` counts
//! them), and the C library's wrappers lie in stretches of their own: `syscall` and `prctl`
//! in one, `write` in another, away from `fork` and `_exit`, which every child runs anyway.
//! Made here, the calls are a few instructions inside the caller, in the stretch the child
//! is running already. Every other part of the lab calls the C library as usual.
//!
//! Why not the vDSO's `clock_gettime`, which reads the clock without entering the kernel:
//! its code and its data page would be two more faults in every new child, for a saving of a
//! fraction of a µs per reading.
//!
//! Each call returns what the kernel returns: a result, or `-errno` (the C library's wrappers
//! turn that into -1 and `errno`).

use std::time::Duration;

/// One system call with up to three arguments.
///
/// x86-64: the number in `rax`, the arguments in `rdi`, `rsi`, `rdx`; the instruction
/// overwrites `rcx` and `r11`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn syscall3(number: libc::c_long, a: usize, b: usize, c: usize) -> isize {
    let result: isize;
    // SAFETY: the caller passes arguments valid for this system call; the asm touches no
    // memory of ours and no stack.
    unsafe {
        std::arch::asm!(
            "syscall",
            inlateout("rax") number as isize => result,
            in("rdi") a,
            in("rsi") b,
            in("rdx") c,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    result
}

/// aarch64: the number in `x8`, the arguments in `x0`, `x1`, `x2`, the result in `x0`.
#[cfg(target_arch = "aarch64")]
#[inline(always)]
unsafe fn syscall3(number: libc::c_long, a: usize, b: usize, c: usize) -> isize {
    let result: isize;
    // SAFETY: as above.
    unsafe {
        std::arch::asm!(
            "svc 0",
            in("x8") number,
            inlateout("x0") a as isize => result,
            in("x1") b,
            in("x2") c,
            options(nostack),
        );
    }
    result
}

/// Elsewhere, the C library's generic entry, its result turned into the kernel's form.
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
unsafe fn syscall3(number: libc::c_long, a: usize, b: usize, c: usize) -> isize {
    // SAFETY: as above.
    let result = unsafe { libc::syscall(number, a, b, c) } as isize;
    if result == -1 {
        -(std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EIO) as isize)
    } else {
        result
    }
}

pub fn getpid() -> i32 {
    // SAFETY: getpid takes no arguments and cannot fail.
    unsafe { syscall3(libc::SYS_getpid, 0, 0, 0) as i32 }
}

pub fn getppid() -> i32 {
    // SAFETY: getppid takes no arguments and cannot fail.
    unsafe { syscall3(libc::SYS_getppid, 0, 0, 0) as i32 }
}

pub fn gettid() -> i32 {
    // SAFETY: gettid takes no arguments and cannot fail.
    unsafe { syscall3(libc::SYS_gettid, 0, 0, 0) as i32 }
}

/// `CLOCK_MONOTONIC`, the clock behind `std::time::Instant`.
pub fn monotonic() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid timespec to write into; CLOCK_MONOTONIC always exists.
    unsafe {
        syscall3(
            libc::SYS_clock_gettime,
            libc::CLOCK_MONOTONIC as usize,
            &mut now as *mut libc::timespec as usize,
            0,
        )
    };
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

/// `write(2)`: the number of bytes written, or `-errno`.
pub fn write(fd: i32, bytes: &[u8]) -> isize {
    // SAFETY: `bytes` is valid for reading for the duration of the call.
    unsafe {
        syscall3(
            libc::SYS_write,
            fd as usize,
            bytes.as_ptr() as usize,
            bytes.len(),
        )
    }
}

/// Names the calling thread (`PR_SET_NAME`) from a NUL-terminated buffer of 16 bytes.
pub fn set_thread_name(name: &[u8; 16]) {
    // SAFETY: PR_SET_NAME reads a NUL-terminated string of at most 16 bytes; the last byte
    // of `name` is NUL. The result is ignored: the name is only a label for `ps`.
    unsafe {
        syscall3(
            libc::SYS_prctl,
            libc::PR_SET_NAME as usize,
            name.as_ptr() as usize,
            0,
        )
    };
}

/// Asks the kernel for `signal` when this process's parent dies (`PR_SET_PDEATHSIG`).
pub fn set_parent_death_signal(signal: i32) {
    // SAFETY: PR_SET_PDEATHSIG takes a signal number; a valid one cannot fail.
    unsafe {
        syscall3(
            libc::SYS_prctl,
            libc::PR_SET_PDEATHSIG as usize,
            signal as usize,
            0,
        )
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_calls_return_what_the_c_library_returns() {
        // SAFETY: plain queries.
        unsafe {
            assert_eq!(getpid(), libc::getpid());
            assert_eq!(getppid(), libc::getppid());
            assert_eq!(gettid(), libc::gettid());
        }
        let libc_monotonic = || {
            let mut now = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            // SAFETY: `now` is a valid timespec to write into.
            unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
            Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
        };
        let before = libc_monotonic();
        let reading = monotonic();
        let after = libc_monotonic();
        assert!(
            before <= reading && reading <= after,
            "{before:?} {reading:?} {after:?}"
        );
    }

    #[test]
    fn a_failed_write_is_minus_errno() {
        assert_eq!(write(-1, b"x"), -(libc::EBADF as isize));
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for the two descriptors.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        assert_eq!(write(fds[1], b"four"), 4);
        let mut back = [0u8; 4];
        // SAFETY: `back` has room for 4 bytes.
        assert_eq!(
            unsafe { libc::read(fds[0], back.as_mut_ptr().cast(), 4) },
            4
        );
        assert_eq!(&back, b"four");
        // SAFETY: both descriptors are ours.
        unsafe {
            libc::close(fds[0]);
            libc::close(fds[1]);
        }
    }
}
