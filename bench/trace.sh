#!/usr/bin/env bash
# bench/trace.sh: what `proclab trace` costs a program, against `strace -f --seccomp-bpf`
# tracing the same system calls and against the program untraced, in one run on this machine.
#
# Three programs (built or found in a temporary directory):
#   forks    1000 x fork + _exit + waitpid (bench/trace/forks.c)
#   lockpass two threads passing a lock back and forth 100,000 times (bench/trace/lockpass.c):
#            every pass is a futex wait
#   lesson5  the tutorial's lesson 5 program: lessons/05-process-lock/code/step2.py when it is
#            there, else bench/trace/tickets.py (ten buyers, a lock, a 0.1 s sleep each)
# Each is run REPS times (default 3) untraced, under `proclab trace --json` (events written to
# /dev/null: the supervisor still parses every one) and under strace (its lines written to
# /dev/null); the median wall time of each and the overhead (traced - untraced) are printed.
# strace's filter cannot look at arguments, so it stops at every write and every futex call;
# proclab's stops only at writes to descriptors 1 and 2 and at futex waits.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
REPS=${REPS:-3}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/proclab-bench-trace.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

for tool in cc strace python3; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "bench/trace.sh needs $tool on PATH" >&2
        exit 2
    fi
done

(cd "$ROOT" && cargo build --release --quiet)
PROCLAB=$ROOT/target/release/proclab
cc -O2 -o "$WORK/forks" "$ROOT/bench/trace/forks.c"
cc -O2 -pthread -o "$WORK/lockpass" "$ROOT/bench/trace/lockpass.c"
LESSON5=$ROOT/lessons/05-process-lock/code/step2.py
[ -f "$LESSON5" ] || LESSON5=$ROOT/bench/trace/tickets.py
# The real interpreter, not a pyenv shim (proclab resolves a shim too; strace would trace it).
PYTHON=$(python3 -c 'import sys; print(sys.executable)')

# The same calls proclab's filter stops at (process: fork, clone, exec, exit, wait, kill ...).
CALLS=process,wait4,waitid,futex,futex_waitv,read,readv,recvfrom,recvmsg,recvmmsg,accept,accept4
CALLS=$CALLS,connect,select,pselect6,poll,ppoll,epoll_wait,epoll_pwait,epoll_pwait2,nanosleep
CALLS=$CALLS,clock_nanosleep,pause,rt_sigsuspend,kill,tkill,tgkill,rt_sigqueueinfo
CALLS=$CALLS,rt_tgsigqueueinfo,pidfd_send_signal,write,writev

# Wall seconds of one run of "$@", its output thrown away; a failed run stops the benchmark.
seconds() {
    local start end
    start=$(date +%s.%N)
    if ! "$@" >/dev/null 2>&1; then
        echo "failed: $*" >&2
        exit 1
    fi
    end=$(date +%s.%N)
    awk -v a="$start" -v b="$end" 'BEGIN { print b - a }'
}

median() {
    sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

measure() {
    local i
    for ((i = 0; i < REPS; i++)); do seconds "$@"; done | median
}

printf '%-10s %12s %14s %14s %16s %16s\n' program "untraced s" "proclab s" "strace s" \
    "proclab +s" "strace +s"
row() {
    local name=$1
    shift
    local bare ours theirs
    bare=$(measure "$@")
    ours=$(measure "$PROCLAB" trace --json -- "$@")
    theirs=$(measure strace -f --seccomp-bpf -e "trace=$CALLS" -o /dev/null "$@")
    awk -v n="$name" -v b="$bare" -v o="$ours" -v t="$theirs" \
        'BEGIN { printf "%-10s %12.3f %14.3f %14.3f %16.3f %16.3f\n", n, b, o, t, o - b, t - b }'
}

row forks "$WORK/forks" 1000
row lockpass "$WORK/lockpass" 100000
row lesson5 "$PYTHON" "$LESSON5"
echo "($REPS runs each, medians; $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg);"
echo " $(uname -r); $(strace -V | head -1))"
