//! The seccomp-bpf filter a traced program runs under: which system calls stop it for the
//! tracer (`SECCOMP_RET_TRACE`), and which run on untouched (`SECCOMP_RET_ALLOW`).
//!
//! Without a filter, a tracer that wants to see *some* system calls must stop the program at
//! *every* one (`PTRACE_SYSCALL`): two context switches to the tracer and back for each
//! `getpid`, `mmap`, `brk`. With this filter, installed by the child just before its `execve`
//! and inherited by everything it forks, the kernel itself decides, in a few instructions,
//! and only the calls of interest stop (`strace --seccomp-bpf` works the same way).
//!
//! The program is classic BPF, written out by hand with libc's `sock_filter`: it reads the
//! fields of `struct seccomp_data` (`nr`, `arch`, `args[]`) and returns a verdict.

use libc::{
    BPF_ABS, BPF_ALU, BPF_AND, BPF_JEQ, BPF_JMP, BPF_K, BPF_LD, BPF_RET, BPF_W, SECCOMP_RET_ALLOW,
    SECCOMP_RET_TRACE, sock_filter, sock_fprog,
};

/// The descriptor a traced Python program's `sitecustomize` writes its names to. No process
/// has it open (it is negative), so the write fails with `EBADF` and changes nothing; the
/// tracer reads the name from the write's buffer as the call begins (see `sitecustomize.py`).
pub const NAMES_FD: i32 = -1729;

/// What differs between the two architectures the tracer knows (checked against the libc
/// crate's numbers for each by `cargo check --target aarch64-unknown-linux-gnu`, in `.ci/run`):
/// the `arch` of a system call, which the filter checks first, and six calls that only
/// x86_64 has. aarch64's table is the newer generic one, with only their successors
/// (`pselect6`, `ppoll`, `epoll_pwait`, `rt_sigsuspend`, `openat`, `linkat`), which are traced
/// on both.
#[cfg(target_arch = "x86_64")]
pub mod arch {
    /// `AUDIT_ARCH_X86_64` (`EM_X86_64` 62, 64-bit, little-endian).
    pub const AUDIT_ARCH: u32 = 0xc000_003e;
    pub const SYS_SELECT: libc::c_long = libc::SYS_select;
    pub const SYS_POLL: libc::c_long = libc::SYS_poll;
    pub const SYS_EPOLL_WAIT: libc::c_long = libc::SYS_epoll_wait;
    pub const SYS_PAUSE: libc::c_long = libc::SYS_pause;
    pub const SYS_OPEN: libc::c_long = libc::SYS_open;
    pub const SYS_LINK: libc::c_long = libc::SYS_link;
}

#[cfg(target_arch = "aarch64")]
pub mod arch {
    /// `AUDIT_ARCH_AARCH64` (`EM_AARCH64` 183, 64-bit, little-endian).
    pub const AUDIT_ARCH: u32 = 0xc000_00b7;
    // Calls this architecture does not have: numbers no system call has, never matched (and
    // left out of the filter).
    pub const SYS_SELECT: libc::c_long = -1;
    pub const SYS_POLL: libc::c_long = -2;
    pub const SYS_EPOLL_WAIT: libc::c_long = -3;
    pub const SYS_PAUSE: libc::c_long = -4;
    pub const SYS_OPEN: libc::c_long = -5;
    pub const SYS_LINK: libc::c_long = -6;
}

/// The system calls that always stop the program: the waits the lab shows, and the signals.
const TRACED: &[libc::c_long] = &[
    // Waiting for a child (join).
    libc::SYS_wait4,
    libc::SYS_waitid,
    // Reading from a pipe or a socket (a file read is let go on at once by the tracer).
    libc::SYS_read,
    libc::SYS_readv,
    libc::SYS_recvfrom,
    libc::SYS_recvmsg,
    libc::SYS_recvmmsg,
    libc::SYS_accept,
    libc::SYS_accept4,
    libc::SYS_connect,
    arch::SYS_SELECT,
    libc::SYS_pselect6,
    arch::SYS_POLL,
    libc::SYS_ppoll,
    arch::SYS_EPOLL_WAIT,
    libc::SYS_epoll_pwait,
    libc::SYS_epoll_pwait2,
    libc::SYS_nanosleep,
    libc::SYS_clock_nanosleep,
    arch::SYS_PAUSE,
    libc::SYS_rt_sigsuspend,
    libc::SYS_futex_waitv,
    // Signals sent.
    libc::SYS_kill,
    libc::SYS_tkill,
    libc::SYS_tgkill,
    libc::SYS_rt_sigqueueinfo,
    libc::SYS_rt_tgsigqueueinfo,
    libc::SYS_pidfd_send_signal,
    // A file made under a new name (glibc's `sem_open` makes a semaphore's file under a
    // temporary name, then links it to its own): the run removes what the program made under
    // /dev/shm and left there.
    arch::SYS_LINK,
    libc::SYS_linkat,
];

/// `futex` operations that block (the low 7 bits of `op`; the rest are flags).
const FUTEX_WAITS: &[u32] = &[
    libc::FUTEX_WAIT as u32,
    libc::FUTEX_LOCK_PI as u32,
    libc::FUTEX_WAIT_BITSET as u32,
    libc::FUTEX_WAIT_REQUEUE_PI as u32,
    13, // FUTEX_LOCK_PI2 (Linux 5.14)
];

// Offsets in `struct seccomp_data`: int nr; u32 arch; u64 ip; u64 args[6]. An argument's low
// 32 bits come first (little-endian).
const NR: u32 = 0;
const ARCH: u32 = 4;
const ARG0_LOW: u32 = 16;
const ARG1_LOW: u32 = 24;
const ARG2_LOW: u32 = 32;

/// Where a jump goes: the filter is assembled with labels, then the offsets (forward only, as
/// BPF requires) are worked out.
#[derive(Clone, Copy, PartialEq)]
enum Label {
    Allow,
    Trace,
    CheckFd,
    CheckFutex,
    CheckOpen,
    CheckOpenat,
    CheckCreate,
}

enum Insn {
    Plain(sock_filter),
    /// `if A == k goto then else goto otherwise` (`None`: the next instruction).
    JumpIfEqual {
        k: u32,
        then: Option<Label>,
        otherwise: Option<Label>,
    },
    Here(Label),
}

fn load(offset: u32) -> Insn {
    Insn::Plain(stmt((BPF_LD | BPF_W | BPF_ABS) as u16, offset))
}

fn ret(verdict: u32) -> Insn {
    Insn::Plain(stmt((BPF_RET | BPF_K) as u16, verdict))
}

fn stmt(code: u16, k: u32) -> sock_filter {
    sock_filter {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

fn goto_if(k: u32, then: Label) -> Insn {
    Insn::JumpIfEqual {
        k,
        then: Some(then),
        otherwise: None,
    }
}

/// The filter's instructions.
pub fn program() -> Vec<sock_filter> {
    let mut insns = vec![
        // A call made through another ABI (x86_64's 32-bit one) has other numbers, and runs
        // untraced.
        load(ARCH),
        Insn::JumpIfEqual {
            k: arch::AUDIT_ARCH,
            then: None,
            otherwise: Some(Label::Allow),
        },
        load(NR),
    ];
    for &nr in TRACED.iter().filter(|&&nr| nr >= 0) {
        insns.push(goto_if(nr as u32, Label::Trace));
    }
    // What a program writes to its standard output and error: only those descriptors.
    insns.push(goto_if(libc::SYS_write as u32, Label::CheckFd));
    insns.push(goto_if(libc::SYS_writev as u32, Label::CheckFd));
    insns.push(goto_if(libc::SYS_futex as u32, Label::CheckFutex));
    // Opening with O_CREAT: the file may be new (shm_open's under /dev/shm are followed).
    insns.push(goto_if(libc::SYS_openat as u32, Label::CheckOpenat));
    if arch::SYS_OPEN >= 0 {
        insns.push(goto_if(arch::SYS_OPEN as u32, Label::CheckOpen));
    }
    insns.push(Insn::Here(Label::Allow));
    insns.push(ret(SECCOMP_RET_ALLOW));

    insns.push(Insn::Here(Label::CheckFd));
    insns.push(load(ARG0_LOW));
    insns.push(goto_if(1, Label::Trace));
    insns.push(goto_if(2, Label::Trace));
    insns.push(goto_if(NAMES_FD as u32, Label::Trace));
    insns.push(ret(SECCOMP_RET_ALLOW));

    insns.push(Insn::Here(Label::CheckFutex));
    insns.push(load(ARG1_LOW));
    insns.push(Insn::Plain(stmt((BPF_ALU | BPF_AND | BPF_K) as u16, 0x7f)));
    for &op in FUTEX_WAITS {
        insns.push(goto_if(op, Label::Trace));
    }
    insns.push(ret(SECCOMP_RET_ALLOW));

    // `open(path, flags)` and `openat(dirfd, path, flags)`: stop only when O_CREAT is set.
    insns.push(Insn::Here(Label::CheckOpen));
    insns.push(load(ARG1_LOW));
    // Both ways to the same place: a jump over openat's load.
    insns.push(Insn::JumpIfEqual {
        k: 0,
        then: Some(Label::CheckCreate),
        otherwise: Some(Label::CheckCreate),
    });
    insns.push(Insn::Here(Label::CheckOpenat));
    insns.push(load(ARG2_LOW));
    insns.push(Insn::Here(Label::CheckCreate));
    insns.push(Insn::Plain(stmt(
        (BPF_ALU | BPF_AND | BPF_K) as u16,
        libc::O_CREAT as u32,
    )));
    insns.push(goto_if(libc::O_CREAT as u32, Label::Trace));
    insns.push(ret(SECCOMP_RET_ALLOW));

    insns.push(Insn::Here(Label::Trace));
    insns.push(ret(SECCOMP_RET_TRACE));
    assemble(&insns)
}

/// Replaces labels by jump offsets.
fn assemble(insns: &[Insn]) -> Vec<sock_filter> {
    // Where each label lands, in real instructions.
    let mut at = Vec::new();
    let mut index = 0usize;
    for insn in insns {
        match insn {
            Insn::Here(label) => at.push((*label, index)),
            _ => index += 1,
        }
    }
    let target = |label: Label| at.iter().find(|(l, _)| *l == label).map(|(_, i)| *i);
    let mut out = Vec::new();
    for insn in insns {
        match insn {
            Insn::Here(_) => {}
            Insn::Plain(filter) => out.push(*filter),
            Insn::JumpIfEqual { k, then, otherwise } => {
                let next = out.len() + 1;
                let offset = |label: Option<Label>| match label {
                    None => 0,
                    Some(label) => {
                        let to = target(label).expect("every label is placed");
                        u8::try_from(to - next).expect("a BPF jump goes at most 255 ahead")
                    }
                };
                out.push(sock_filter {
                    code: (BPF_JMP | BPF_JEQ | BPF_K) as u16,
                    jt: offset(*then),
                    jf: offset(*otherwise),
                    k: *k,
                });
            }
        }
    }
    out
}

/// Installs the filter on the calling process (the traced child, just before `execve`). No
/// allocation: it runs after `fork`. `PR_SET_NO_NEW_PRIVS` first, as the kernel requires of a
/// process without `CAP_SYS_ADMIN` (a set-user-ID program then runs without its privileges,
/// as under `strace --seccomp-bpf`).
pub fn install(filter: &[sock_filter]) -> std::io::Result<()> {
    let program = sock_fprog {
        len: filter.len() as u16,
        filter: filter.as_ptr() as *mut sock_filter,
    };
    // SAFETY: plain system calls; `program` points at `filter`, which outlives them.
    unsafe {
        if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        if libc::prctl(
            libc::PR_SET_SECCOMP,
            libc::SECCOMP_MODE_FILTER,
            &program as *const sock_fprog,
        ) != 0
        {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the filter as the kernel does on one call (`struct seccomp_data`: nr, arch, ip,
    /// args), for the instructions it uses: load a word, jump if equal, and, return.
    fn verdict(filter: &[sock_filter], arch: u32, nr: libc::c_long, args: [u64; 6]) -> u32 {
        let mut data = Vec::new();
        data.extend_from_slice(&(nr as i32).to_ne_bytes());
        data.extend_from_slice(&arch.to_ne_bytes());
        data.extend_from_slice(&0u64.to_ne_bytes());
        for arg in args {
            data.extend_from_slice(&arg.to_ne_bytes());
        }
        let (mut a, mut pc) = (0u32, 0usize);
        loop {
            let insn = filter[pc];
            pc += 1;
            match insn.code as u32 {
                code if code == BPF_LD | BPF_W | BPF_ABS => {
                    let at = insn.k as usize;
                    a = u32::from_ne_bytes(data[at..at + 4].try_into().unwrap());
                }
                code if code == BPF_ALU | BPF_AND | BPF_K => a &= insn.k,
                code if code == BPF_JMP | BPF_JEQ | BPF_K => {
                    pc += if a == insn.k { insn.jt } else { insn.jf } as usize;
                }
                code if code == BPF_RET | BPF_K => return insn.k,
                code => panic!("an instruction the filter does not use: {code:#x}"),
            }
        }
    }

    /// The calls the lab shows stop the program, on this machine's architecture; the rest,
    /// and every call made through another ABI, run on.
    #[test]
    fn the_filter_stops_only_the_calls_the_lab_shows() {
        let filter = program();
        let call = |nr, args| verdict(&filter, arch::AUDIT_ARCH, nr, args);
        let with = |a0: u64, a1: u64| [a0, a1, 0, 0, 0, 0];
        assert_eq!(call(libc::SYS_write, with(1, 0)), SECCOMP_RET_TRACE);
        assert_eq!(call(libc::SYS_write, with(2, 0)), SECCOMP_RET_TRACE);
        assert_eq!(call(libc::SYS_writev, with(1, 0)), SECCOMP_RET_TRACE);
        let names_fd = NAMES_FD as i64 as u64;
        assert_eq!(call(libc::SYS_write, with(names_fd, 0)), SECCOMP_RET_TRACE);
        assert_eq!(call(libc::SYS_write, with(5, 0)), SECCOMP_RET_ALLOW);
        // A futex wait (FUTEX_WAIT | FUTEX_PRIVATE_FLAG) stops; a wake runs on.
        let private = libc::FUTEX_PRIVATE_FLAG as u64;
        let wait = libc::FUTEX_WAIT as u64 | private;
        assert_eq!(call(libc::SYS_futex, with(0, wait)), SECCOMP_RET_TRACE);
        let wake = libc::FUTEX_WAKE as u64 | private;
        assert_eq!(call(libc::SYS_futex, with(0, wake)), SECCOMP_RET_ALLOW);
        for nr in [
            libc::SYS_wait4,
            libc::SYS_read,
            libc::SYS_ppoll,
            libc::SYS_clock_nanosleep,
            libc::SYS_kill,
            arch::SYS_POLL,
        ]
        .into_iter()
        .filter(|&nr| nr >= 0)
        {
            assert_eq!(call(nr, with(0, 0)), SECCOMP_RET_TRACE, "call {nr}");
        }
        for nr in [libc::SYS_getpid, libc::SYS_mmap, libc::SYS_openat] {
            assert_eq!(call(nr, with(0, 0)), SECCOMP_RET_ALLOW, "call {nr}");
        }
        // Opening stops only to create (O_CREAT): openat's flags are its third argument,
        // open's its second.
        let creat = libc::O_CREAT as u64 | libc::O_RDWR as u64;
        let openat = |flags| call(libc::SYS_openat, [0, 0, flags, 0, 0, 0]);
        assert_eq!(openat(creat), SECCOMP_RET_TRACE);
        assert_eq!(openat(libc::O_RDONLY as u64), SECCOMP_RET_ALLOW);
        if arch::SYS_OPEN >= 0 {
            assert_eq!(call(arch::SYS_OPEN, with(0, creat)), SECCOMP_RET_TRACE);
            assert_eq!(call(arch::SYS_OPEN, with(0, 0)), SECCOMP_RET_ALLOW);
        }
        assert_eq!(call(libc::SYS_linkat, with(0, 0)), SECCOMP_RET_TRACE);
        let other_abi = verdict(&filter, 0x4000_0003, libc::SYS_wait4, with(0, 0));
        assert_eq!(other_abi, SECCOMP_RET_ALLOW);
    }

    #[test]
    fn every_jump_lands_inside_the_program_and_it_ends_in_a_return() {
        let filter = program();
        for (i, insn) in filter.iter().enumerate() {
            if insn.code == (BPF_JMP | BPF_JEQ | BPF_K) as u16 {
                assert!(i + 1 + (insn.jt as usize) < filter.len());
                assert!(i + 1 + (insn.jf as usize) < filter.len());
            }
        }
        assert_eq!(filter.last().unwrap().code, (BPF_RET | BPF_K) as u16);
        assert_eq!(filter.last().unwrap().k, SECCOMP_RET_TRACE);
    }
}
