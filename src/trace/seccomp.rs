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
    libc::SYS_select,
    libc::SYS_pselect6,
    libc::SYS_poll,
    libc::SYS_ppoll,
    libc::SYS_epoll_wait,
    libc::SYS_epoll_pwait,
    libc::SYS_epoll_pwait2,
    libc::SYS_nanosleep,
    libc::SYS_clock_nanosleep,
    libc::SYS_pause,
    libc::SYS_rt_sigsuspend,
    libc::SYS_futex_waitv,
    // Signals sent.
    libc::SYS_kill,
    libc::SYS_tkill,
    libc::SYS_tgkill,
    libc::SYS_rt_sigqueueinfo,
    libc::SYS_rt_tgsigqueueinfo,
    libc::SYS_pidfd_send_signal,
];

/// `futex` operations that block (the low 7 bits of `op`; the rest are flags).
const FUTEX_WAITS: &[u32] = &[
    libc::FUTEX_WAIT as u32,
    libc::FUTEX_LOCK_PI as u32,
    libc::FUTEX_WAIT_BITSET as u32,
    libc::FUTEX_WAIT_REQUEUE_PI as u32,
    13, // FUTEX_LOCK_PI2 (Linux 5.14)
];

/// `AUDIT_ARCH_X86_64`: a call made through another ABI has other numbers, and runs untraced.
const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;

// Offsets in `struct seccomp_data`: int nr; u32 arch; u64 ip; u64 args[6]. An argument's low
// 32 bits come first (little-endian).
const NR: u32 = 0;
const ARCH: u32 = 4;
const ARG0_LOW: u32 = 16;
const ARG1_LOW: u32 = 24;

/// Where a jump goes: the filter is assembled with labels, then the offsets (forward only, as
/// BPF requires) are worked out.
#[derive(Clone, Copy, PartialEq)]
enum Label {
    Allow,
    Trace,
    CheckFd,
    CheckFutex,
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
        load(ARCH),
        Insn::JumpIfEqual {
            k: AUDIT_ARCH_X86_64,
            then: None,
            otherwise: Some(Label::Allow),
        },
        load(NR),
    ];
    for &nr in TRACED {
        insns.push(goto_if(nr as u32, Label::Trace));
    }
    // What a program writes to its standard output and error: only those descriptors.
    insns.push(goto_if(libc::SYS_write as u32, Label::CheckFd));
    insns.push(goto_if(libc::SYS_writev as u32, Label::CheckFd));
    insns.push(goto_if(libc::SYS_futex as u32, Label::CheckFutex));
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
