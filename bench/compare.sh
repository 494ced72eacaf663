#!/usr/bin/env bash
# bench/compare.sh: proclab against the C limit and the tutorial's Python, in one run.
#
# Builds proclab (release) and, when the peers' folder is there (../shared/peers next to the
# repository, or PEERS=dir), the C programs from it into a temporary directory. Then, on this
# machine and in this one run:
#   1. spawn: `proclab bench spawn` (the lab's Process, a bare fork, a thread) and the C
#      program `spawn_c` (fork, thread);
#   2. servers: `proclab serve` (annotated output on, into a file), the C server and the
#      tutorial's Python server, side by side, each on a free port above 20000, each driven by
#      the same client (`proclab load`) in the same three shapes, every repetition taking the
#      servers in turn (a slow spell of the machine falls on all of them); while 500
#      connections are held:
#      memory (PSS of the whole server tree), descriptors, and zombies 0.5 s after they left;
#   3. 2000 connections held at once by `proclab serve`;
#   4. the I/O models: `proclab serve --model thread|poll|epoll|iterative` under the same load,
#      each against its C twin (server_thread, server_epoll), epoll holding 10,000 (MODELS=0
#      skips this part; MODEL_REPS, MODEL_HOLD, EPOLL_HOLD);
#   5. `proclab list`, and lessons 1-4, 16, 17 at --speed 20.
# Prints every figure with its ratio to C. Everything it starts is stopped on exit.
# About 2 minutes on a 2-CPU machine, and 4 more for the I/O models. Sizes: REPS (5), PY_REPS (3), CONNS (1000),
# RR_CLIENTS (8), RR_K (20000), RR_SIZE (16), HOLD (500), BIG_HOLD (2000), HOLD_FOR (3 s),
# SPAWN_N (2000); PY=0 leaves the Python server out, MODELS=0 part 4, LESSONS=0 part 5.
# PROCLAB=path measures that binary instead of building the release one (the test suite's
# smoke run does, with tiny sizes: tests/bench_load.rs).
set -euo pipefail
# Whatever step fails says which, and why, before the script ends.
trap 'say "compare.sh: failed at line $LINENO (status $?): $BASH_COMMAND"' ERR

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PEERS=${PEERS:-$ROOT/../shared/peers}
REPS=${REPS:-5}
PY_REPS=${PY_REPS:-3}
CONNS=${CONNS:-1000}
RR_CLIENTS=${RR_CLIENTS:-8}
RR_K=${RR_K:-20000}
RR_SIZE=${RR_SIZE:-16}
HOLD=${HOLD:-500}
BIG_HOLD=${BIG_HOLD:-2000}
HOLD_FOR=${HOLD_FOR:-3}
SPAWN_N=${SPAWN_N:-2000}
LIFETIME=300 # the peer servers end themselves after this many seconds at the latest

WORK=$(mktemp -d "${TMPDIR:-/tmp}/proclab-compare.XXXXXX")
SERVER_PIDS=()

cleanup() {
    # Every server was started in its own process group (setsid): end the whole group.
    for pid in "${SERVER_PIDS[@]}"; do
        kill -INT -- "-$pid" 2>/dev/null || true
    done
    sleep 0.3
    for pid in "${SERVER_PIDS[@]}"; do
        kill -KILL -- "-$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

say() { printf '%s\n' "$*" >&2; }

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
minmax() { sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%s-%s", lo, hi }'; }

# ---------------------------------------------------------------- build ----
if [ -z "${PROCLAB:-}" ]; then
    say "building proclab (release) ..."
    (cd "$ROOT" && cargo build --release --quiet)
    PROCLAB=$ROOT/target/release/proclab
fi

HAVE_PEERS=0
if [ -f "$PEERS/server_c.c" ] && command -v gcc >/dev/null; then
    HAVE_PEERS=1
    gcc -O2 -Wall -pthread -o "$WORK/spawn_c" "$PEERS/spawn_c.c"
    gcc -O2 -Wall -o "$WORK/server_c" "$PEERS/server_c.c"
else
    say "no peers folder at $PEERS (or no gcc): measuring proclab only, no ratios to C"
fi
HAVE_PY=0
if [ "${PY:-1}" = 1 ] && [ "$HAVE_PEERS" = 1 ] && [ -f "$PEERS/server_py.py" ] && command -v python3 >/dev/null; then
    HAVE_PY=1
fi

printf 'machine: %s CPUs, Linux %s; load average before: %s; soft open-files limit %s\n' \
    "$(nproc)" "$(uname -r)" "$(cut -d' ' -f1-3 /proc/loadavg)" "$(ulimit -n)"
printf 'sizes: REPS=%s PY_REPS=%s CONNS=%s RR=%sx%sx%sB HOLD=%s BIG_HOLD=%s\n\n' \
    "$REPS" "$PY_REPS" "$CONNS" "$RR_CLIENTS" "$RR_K" "$RR_SIZE" "$HOLD" "$BIG_HOLD"

# One table row: label, unit, value, C's value (or empty), which way is better, target note.
# The ratio is always value / C.
row() {
    local label=$1 unit=$2 value=$3 c=${4:-} better=${5:-} note=${6:-}
    local ratio="-"
    if [ -n "$c" ] && [ "$c" != nan ] && [ "$value" != nan ]; then
        ratio=$(awk -v v="$value" -v c="$c" 'BEGIN { if (c + 0 == 0) print "-"; else printf "%.2f", v / c }')
    fi
    printf '%-50s %-7s %12s %8s  %-6s %s\n' "$label" "$unit" "$value" "$ratio" "$better" "$note"
}
header() {
    printf '\n%-50s %-7s %12s %8s  %-6s %s\n' "$1" "unit" "median" "x C" "better" "target / note"
    printf '%s\n' "--------------------------------------------------------------------------------------------------------"
}

# ---------------------------------------------------------------- spawn ----
say "spawn: proclab bench spawn, spawn_c ..."
"$PROCLAB" bench spawn --n "$SPAWN_N" --reps "$REPS" >"$WORK/bench.txt" 2>/dev/null
LAB=$(awk '/^lab Process:/ { print $6 }' "$WORK/bench.txt")
BARE=$(awk '/^bare fork/ { print $7 }' "$WORK/bench.txt")
THREAD=$(awk '/^thread:/ { print $5 }' "$WORK/bench.txt")
LAB_FAULTS=$(awk '/^lab Process:/ { print $NF }' "$WORK/bench.txt")
BARE_FAULTS=$(awk '/^bare fork/ { print $NF }' "$WORK/bench.txt")
C_FORK="" C_THREAD=""
if [ "$HAVE_PEERS" = 1 ]; then
    C_FORK=$("$WORK/spawn_c" fork "$SPAWN_N" "$REPS" | awk '{ print $3 }' | median)
    C_THREAD=$("$WORK/spawn_c" thread $((SPAWN_N * 10)) "$REPS" | awk '{ print $3 }' | median)
fi
header "spawn, µs per operation"
row "C fork + _exit + waitpid (spawn_c)" "µs" "${C_FORK:-nan}" "$C_FORK" lower
row "proclab bare fork + _exit + waitpid" "µs" "$BARE" "$C_FORK" lower "($BARE_FAULTS faults/op)"
row "proclab Process start + join" "µs" "$LAB" "$C_FORK" lower "($LAB_FAULTS faults/op)"
row "  lab Process / bare fork, same run" "ratio" \
    "$(awk -v a="$LAB" -v b="$BARE" 'BEGIN { printf "%.2f", a / b }')" "" lower "target <= 1.15"
row "C pthread_create + join (spawn_c)" "µs" "${C_THREAD:-nan}" "$C_THREAD" lower
row "proclab thread spawn + join" "µs" "$THREAD" "$C_THREAD" lower "target <= 1.15 x C"

# -------------------------------------------------------------- servers ----
# A free port above 20000 and below the kernel's range of ephemeral ports (where the
# thousands of client connections of earlier measurements leave TIME_WAIT entries that would
# make a bind fail): nothing answers a connect there.
free_port() {
    local port low
    low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
    [ "$low" -gt 21000 ] || low=50001 # ephemeral ports start low here: take our chances
    while :; do
        port=$((20001 + RANDOM % (low - 20001)))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
}

# Every pid below $1 in the process tree, $1 included.
tree_pids() {
    ps -e -o pid=,ppid= | awk -v root="$1" '
        { parent[$1] = $2; pids[NR] = $1 }
        END {
            keep[root] = 1; print root
            changed = 1
            while (changed) {
                changed = 0
                for (i in pids) { p = pids[i]; if (!(p in keep) && (parent[p] in keep)) { keep[p] = 1; print p; changed = 1 } }
            }
        }'
}

# The PSS of processes, summed, in MiB: all read in one pass, quickly, while they are still
# held (one awk per process took seconds for 500, and the handlers that ended meanwhile
# counted 0: the figure then depended on how fast the machine read). Says on standard error
# when some could not be read.
pss_mib() {
    local files=() pid
    for pid in "$@"; do files+=("/proc/$pid/smaps_rollup"); done
    [ ${#files[@]} -gt 0 ] || { echo 0.0; return; }
    local result
    # `cat` fails for a process that has ended: that is a shorter count (said below), not an error.
    result=$({ cat "${files[@]}" 2>/dev/null || true; } | awk '/^Pss:/ { kb += $2; n++ } END { printf "%.1f %d", kb / 1024, n }')
    [ "${result#* }" = "$#" ] || say "compare.sh: PSS read from ${result#* } of $# processes (the others ended first)"
    echo "${result% *}"
}

# A process that ended meanwhile has no /proc entry: 0, not a failed pipeline (set -e).
nfds() { ls "/proc/$1/fd" 2>/dev/null | wc -l || true; }

zombies_of() { ps --ppid "$1" -o stat= 2>/dev/null | grep -c '^Z' || true; }

# The process that accepts: for proclab serve, the supervisor's child named "server" (found
# by its name: the supervisor has other children, such as its guard, and their order is no
# promise); else the server itself.
acceptor_of() {
    local kind=$1 pid=$2 server
    if [ "$kind" = proclab ]; then
        server=$(ps --ppid "$pid" -o pid=,comm= | awk '$2 == "server" { print $1; exit }')
        if [ -z "$server" ]; then
            say "compare.sh: proclab serve (pid $pid) has no child named server: $(ps --ppid "$pid" -o pid=,comm= | tr '\n' ' ')"
            return 1
        fi
        echo "$server"
    else
        echo "$pid"
    fi
}

# start_server KIND PORT: starts it in its own process group, waits until it accepts.
start_server() {
    local kind=$1 port=$2 out=$WORK/server-$1.out
    case $kind in
        proclab) setsid "$PROCLAB" serve --port "$port" --max-clients $((BIG_HOLD + 500)) --color never >"$out" 2>&1 & ;;
        c) setsid "$WORK/server_c" "$port" "$LIFETIME" >"$out" 2>&1 & ;;
        py) setsid python3 "$PEERS/server_py.py" "$port" "$LIFETIME" >"$out" 2>&1 & ;;
    esac
    SERVER_PID=$!
    SERVER_PIDS+=("$SERVER_PID")
    for _ in $(seq 100); do
        if grep -q -e READY -e "listening on" "$out" 2>/dev/null; then
            return 0
        fi
        sleep 0.05
    done
    say "server $kind did not start: $(head -3 "$out")"
    return 1
}

stop_server() {
    kill -INT -- "-$1" 2>/dev/null || true
    for _ in $(seq 50); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.05
    done
    kill -KILL -- "-$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

load() { "$PROCLAB" load --color never "$@"; }

# The servers run side by side, and every repetition takes them in turn (proclab, C, Python,
# then the next repetition), so that a change in the machine's speed during the run falls on
# all of them alike. (Measured one server after the other, a run once found the C servers at
# half the rate of the run before, and proclab at 1.66x C.) Every figure is a NAME=value line
# in $WORK/KIND.vals.
declare -A PORT_OF PID_OF ACCEPTOR_OF

start_measured() {
    local kind=$1 port
    port=$(free_port)
    start_server "$kind" "$port" || return 1
    PORT_OF[$kind]=$port
    PID_OF[$kind]=$SERVER_PID
    ACCEPTOR_OF[$kind]=$(acceptor_of "$kind" "$SERVER_PID") || return 1
    : >"$WORK/$kind.vals"
}

reps_of() { if [ "$1" = py ]; then echo "$PY_REPS"; else echo "$REPS"; fi; }

connections_once() {
    local kind=$1
    load --port "${PORT_OF[$kind]}" --connections "$CONNS" >"$WORK/l.txt" || { say "$kind: load --connections failed"; cat "$WORK/l.txt" >&2; }
    awk '$1 == "connections/s" { print "conn=" $2 } $1 == "errors" { print "conn_err=" $2 }' "$WORK/l.txt" >>"$WORK/$kind.vals"
}

round_trips_once() {
    local kind=$1
    load --port "${PORT_OF[$kind]}" --clients "$RR_CLIENTS" --round-trips "$RR_K" --size "$RR_SIZE" >"$WORK/l.txt" || say "$kind: load --clients failed"
    awk '$1 == "requests/s" { print "rr=" $2 } $1 == "errors" { print "rr_err=" $2 }
         $1 == "latency" && $2 == "p50" { print "rr_p50=" $3 } $1 == "latency" && $2 == "p99" { print "rr_p99=" $3 }' "$WORK/l.txt" >>"$WORK/$kind.vals"
}

hold_once() {
    local kind=$1 vals=$WORK/$1.vals pid=${PID_OF[$1]} acceptor=${ACCEPTOR_OF[$1]}
    # Emptied first: the loop below must not find the last run's "holding" line in it
    # before this run's load has even opened the file.
    : >"$WORK/h.txt"
    load --port "${PORT_OF[$kind]}" --hold "$HOLD" --hold-for "$HOLD_FOR" --time-limit 60 >"$WORK/h.txt" &
    local lpid=$!
    for _ in $(seq 600); do
        grep -q "^  holding" "$WORK/h.txt" 2>/dev/null && break
        kill -0 "$lpid" 2>/dev/null || break
        sleep 0.05
    done
    # While all are held: memory of the whole server tree, descriptors, processes.
    local pids handlers maxfd=0 fd h
    pids=$(tree_pids "$pid")
    # Memory first: reading every handler's descriptors takes a while, and the handlers
    # end when the load lets go of them.
    # shellcheck disable=SC2086
    echo "pss=$(pss_mib $pids)" >>"$vals"
    handlers=$(ps --ppid "$acceptor" -o pid= | tr -d ' ')
    for h in $handlers; do
        fd=$(nfds "$h")
        [ "$fd" -gt "$maxfd" ] && maxfd=$fd
    done
    echo "procs=$(echo "$pids" | wc -w)" >>"$vals"
    echo "fds_server=$(nfds "$acceptor")" >>"$vals"
    echo "fds_handler=$maxfd" >>"$vals"
    wait "$lpid" || say "$kind: load --hold failed"
    awk '$1 == "held" { print "held=" $2; print "open_s=" $6 } $1 == "errors" { print "hold_err=" $2 }' "$WORK/h.txt" >>"$vals"
    sleep 0.5
    echo "zombies=$(zombies_of "$acceptor")" >>"$vals"
}

# in_turn STEP: REPS repetitions of STEP, each taking every server in turn.
in_turn() {
    local step=$1 rep kind
    for rep in $(seq "$REPS"); do
        for kind in "${KINDS[@]}"; do
            if [ "$rep" -le "$(reps_of "$kind")" ]; then
                "$step" "$kind"
            fi
        done
    done
}

get() { grep "^$2=" "$WORK/$1.vals" 2>/dev/null | cut -d= -f2- | median; }
most() { grep "^$2=" "$WORK/$1.vals" 2>/dev/null | cut -d= -f2- | sort -g | tail -1; }
spread() { grep "^$2=" "$WORK/$1.vals" 2>/dev/null | cut -d= -f2- | minmax; }

say "servers (the same client, proclab load, for all; each repetition takes them in turn) ..."
KINDS=(proclab)
[ "$HAVE_PEERS" = 1 ] && KINDS+=(c)
[ "$HAVE_PY" = 1 ] && KINDS+=(py)
for kind in "${KINDS[@]}"; do
    start_measured "$kind"
    say "  $kind: port ${PORT_OF[$kind]}, $(reps_of "$kind") x $CONNS connections, $(reps_of "$kind") x ${RR_CLIENTS}x${RR_K} round trips, $(reps_of "$kind") x hold $HOLD"
done
in_turn connections_once
in_turn round_trips_once
in_turn hold_once
for kind in "${KINDS[@]}"; do
    if [ "$kind" = proclab ]; then
        say "  proclab: hold $BIG_HOLD at once"
        load --port "${PORT_OF[proclab]}" --hold "$BIG_HOLD" --time-limit 120 >"$WORK/big.txt" 2>&1 || true
        awk '$1 == "held" { print "big_held=" $2; print "big_open_s=" $6 } $1 == "errors" { print "big_err=" $2 }' "$WORK/big.txt" >>"$WORK/proclab.vals"
        grep -o 'raised the soft limit.*' "$WORK/big.txt" | head -1 | sed 's/^/big_note=/' >>"$WORK/proclab.vals" || true
        echo "serve_lines=$(wc -l <"$WORK/server-proclab.out")" >>"$WORK/proclab.vals"
    fi
    stop_server "${PID_OF[$kind]}"
done

C=""
[ "$HAVE_PEERS" = 1 ] && C=c
cval() { if [ -n "$C" ]; then get c "$1"; fi; }
names=(proclab)
[ "$HAVE_PEERS" = 1 ] && names+=(c)
[ "$HAVE_PY" = 1 ] && names+=(py)
label() { case $1 in proclab) echo "proclab serve (annotated)" ;; c) echo "C server_c" ;; py) echo "tutorial's Python server_py" ;; esac; }
target() { [ "$1" = proclab ] && echo "$2" || true; }

header "connect-send-recv-close x$CONNS, one at a time"
for k in "${names[@]}"; do
    row "$(label "$k") [$(spread "$k" conn)]" "conn/s" "$(get "$k" conn)" "$(cval conn)" higher \
        "errors $(most "$k" conn_err) $(target "$k" "target >= 0.9 x C")"
done
header "${RR_CLIENTS} clients x ${RR_K} round trips of ${RR_SIZE} B"
for k in "${names[@]}"; do
    row "$(label "$k") [$(spread "$k" rr)]" "req/s" "$(get "$k" rr)" "$(cval rr)" higher \
        "p50 $(get "$k" rr_p50) µs, p99 $(get "$k" rr_p99) µs, errors $(most "$k" rr_err) $(target "$k" "target >= 0.9 x C")"
done
header "open and hold $HOLD connections"
for k in "${names[@]}"; do
    row "$(label "$k"): time to open [$(spread "$k" open_s)]" "s" "$(get "$k" open_s)" "$(cval open_s)" lower \
        "held $(get "$k" held), errors $(most "$k" hold_err) $(target "$k" "target <= 1.2 x C")"
    row "$(label "$k"): PSS, whole tree" "MiB" "$(get "$k" pss)" "$(cval pss)" lower \
        "$(get "$k" procs) processes $(target "$k" "target <= 2 x C")"
    row "$(label "$k"): fds, accepting process" "fds" "$(get "$k" fds_server)" "$(cval fds_server)" lower
    row "$(label "$k"): fds, handler (most)" "fds" "$(most "$k" fds_handler)" "$(cval fds_handler)" lower
    row "$(label "$k"): zombies 0.5 s after all left (most)" "procs" "$(most "$k" zombies)" "" lower "$(target "$k" "target 0")"
done
printf '\nproclab serve, %s connections held at once: held %s, errors %s, opened in %s s %s\n' \
    "$BIG_HOLD" "$(get proclab big_held)" "$(get proclab big_err)" "$(get proclab big_open_s)" \
    "$(grep '^big_note=' "$WORK/proclab.vals" | cut -d= -f2- | sed 's/^/(load: /; s/$/)/')"
printf 'proclab serve printed %s lines of annotation during all that (into a file).\n' "$(get proclab serve_lines)"

# ------------------------------------------------------------ I/O models ----
# `proclab serve --model M` for each model, under the same `proclab load`, against its C twin
# from the peers (server_thread for thread, server_epoll for poll and epoll; the fork model is
# `proclab serve` above, against server_c). Each model: MODEL_REPS x CONNS connections one at a
# time, MODEL_REPS x RR round trips (the iterative model: one client, it serves one at a time),
# and a hold: MODEL_HOLD (2000) for thread, poll and their twins, EPOLL_HOLD (10000) for
# epoll and server_epoll, with PSS, processes and threads of the server while all are held.
if [ "${MODELS:-1}" = 1 ]; then
    MODEL_REPS=${MODEL_REPS:-3}
    MODEL_HOLD=${MODEL_HOLD:-2000}
    EPOLL_HOLD=${EPOLL_HOLD:-10000}
    if [ "$HAVE_PEERS" = 1 ]; then
        gcc -O2 -Wall -pthread -o "$WORK/server_thread" "$PEERS/server_thread.c"
        gcc -O2 -Wall -o "$WORK/server_epoll" "$PEERS/server_epoll.c"
    fi

    # Waits (at most 5 s) until something accepts on 127.0.0.1:$1.
    wait_for_port() {
        for _ in $(seq 100); do
            if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
                return 0
            fi
            sleep 0.05
        done
        return 1
    }

    # start_model KIND PORT HOLD: KIND is m-<model> (proclab serve --model) or c-thread, c-epoll.
    start_model() {
        local kind=$1 port=$2 hold=$3 out=$WORK/server-$1.out
        case $kind in
            m-*) setsid "$PROCLAB" serve --model "${kind#m-}" --port "$port" --max-clients $((hold + 500)) \
                --color never >"$out" 2>&1 & ;;
            c-thread) setsid bash -c "ulimit -n $((hold + 500)); exec '$WORK/server_thread' $port $LIFETIME 1024" >"$out" 2>&1 & ;;
            c-epoll) setsid bash -c "ulimit -n $((hold + 500)); exec '$WORK/server_epoll' $port $LIFETIME 1024" >"$out" 2>&1 & ;;
        esac
        SERVER_PID=$!
        SERVER_PIDS+=("$SERVER_PID")
        wait_for_port "$port" || { say "server $kind did not start: $(head -3 "$out")"; return 1; }
    }

    threads_of() {
        local total=0 pid
        for pid in "$@"; do
            total=$((total + $(ls "/proc/$pid/task" 2>/dev/null | wc -l || true)))
        done
        echo "$total"
    }

    # measure_model KIND HOLD: NAME=value lines in $WORK/KIND.vals
    measure_model() {
        local kind=$1 hold=$2 port pid vals=$WORK/$1.vals clients=$RR_CLIENTS
        [ "$kind" = m-iterative ] && clients=1
        port=$(free_port)
        start_model "$kind" "$port" "$hold" || return 1
        pid=$SERVER_PID
        : >"$vals"
        say "  $kind: $MODEL_REPS x $CONNS connections, $MODEL_REPS x ${clients}x${RR_K} round trips, hold $hold (port $port)"
        for _ in $(seq "$MODEL_REPS"); do
            load --port "$port" --connections "$CONNS" >"$WORK/l.txt" || say "$kind: load --connections failed"
            awk '$1 == "connections/s" { print "conn=" $2 } $1 == "errors" { print "conn_err=" $2 }' "$WORK/l.txt" >>"$vals"
        done
        for _ in $(seq "$MODEL_REPS"); do
            load --port "$port" --clients "$clients" --round-trips "$RR_K" --size "$RR_SIZE" >"$WORK/l.txt" || say "$kind: load --clients failed"
            awk '$1 == "requests/s" { print "rr=" $2 } $1 == "errors" { print "rr_err=" $2 }
                 $1 == "latency" && $2 == "p50" { print "rr_p50=" $3 }' "$WORK/l.txt" >>"$vals"
        done
        if [ "$hold" -gt 0 ]; then
            : >"$WORK/h.txt" # not the last run's "holding" line (see measure)
            load --port "$port" --hold "$hold" --hold-for "$HOLD_FOR" --time-limit 120 >"$WORK/h.txt" 2>&1 &
            local lpid=$! pids
            for _ in $(seq 2400); do
                grep -q "^  holding" "$WORK/h.txt" 2>/dev/null && break
                kill -0 "$lpid" 2>/dev/null || break
                sleep 0.05
            done
            pids=$(tree_pids "$pid")
            # shellcheck disable=SC2086
            echo "pss=$(pss_mib $pids)" >>"$vals"
            # shellcheck disable=SC2086
            echo "threads=$(threads_of $pids)" >>"$vals"
            echo "procs=$(echo "$pids" | wc -w)" >>"$vals"
            wait "$lpid" || say "$kind: load --hold $hold failed: $(tail -1 "$WORK/h.txt")"
            awk '$1 == "held" { print "held=" $2; print "open_s=" $6 } $1 == "errors" { print "hold_err=" $2 }' "$WORK/h.txt" >>"$vals"
        fi
        stop_server "$pid"
    }

    say "I/O models (serve --model, and the C twins) ..."
    MODEL_KINDS=(m-iterative m-thread m-poll m-epoll)
    [ "$HAVE_PEERS" = 1 ] && MODEL_KINDS+=(c-thread c-epoll)
    for kind in "${MODEL_KINDS[@]}"; do
        case $kind in
            m-iterative) hold=0 ;;
            m-epoll | c-epoll) hold=$EPOLL_HOLD ;;
            *) hold=$MODEL_HOLD ;;
        esac
        measure_model "$kind" "$hold"
    done
    twin_of() { case $1 in m-thread) echo c-thread ;; m-poll | m-epoll) echo c-epoll ;; esac; }
    twinval() {
        local twin
        twin=$(twin_of "$1")
        if [ -n "$twin" ] && [ "$HAVE_PEERS" = 1 ]; then get "$twin" "$2"; fi
    }
    mlabel() {
        case $1 in
            m-*) echo "proclab serve --model ${1#m-}" ;;
            c-thread) echo "C server_thread" ;;
            c-epoll) echo "C server_epoll" ;;
        esac
    }
    header "I/O models: connect-send-recv-close x$CONNS (x C: against the twin)"
    row "proclab serve --model fork (above) [$(spread proclab conn)]" "conn/s" "$(get proclab conn)" "$(cval conn)" higher "twin server_c, target >= 0.9"
    for k in "${MODEL_KINDS[@]}"; do
        row "$(mlabel "$k") [$(spread "$k" conn)]" "conn/s" "$(get "$k" conn)" "$(twinval "$k" conn)" higher \
            "errors $(most "$k" conn_err)$( [ -n "$(twin_of "$k")" ] && echo ", twin $(twin_of "$k"), target >= 0.9")"
    done
    header "I/O models: ${RR_CLIENTS} clients x ${RR_K} round trips of ${RR_SIZE} B (iterative: 1 client)"
    row "proclab serve --model fork (above) [$(spread proclab rr)]" "req/s" "$(get proclab rr)" "$(cval rr)" higher "twin server_c, target >= 0.9"
    for k in "${MODEL_KINDS[@]}"; do
        row "$(mlabel "$k") [$(spread "$k" rr)]" "req/s" "$(get "$k" rr)" "$(twinval "$k" rr)" higher \
            "p50 $(get "$k" rr_p50) µs, errors $(most "$k" rr_err)$( [ -n "$(twin_of "$k")" ] && echo ", target >= 0.9")"
    done
    header "I/O models: connections held at once (one run each)"
    for k in "${MODEL_KINDS[@]}"; do
        [ "$k" = m-iterative ] && continue
        row "$(mlabel "$k"): held $(get "$k" held), errors $(most "$k" hold_err), time to open" "s" "$(get "$k" open_s)" "$(twinval "$k" open_s)" lower
        row "$(mlabel "$k"): PSS of the server while held" "MiB" "$(get "$k" pss)" "$(twinval "$k" pss)" lower \
            "$(get "$k" procs) processes, $(get "$k" threads) threads"
    done
fi

# ------------------------------------------------------- list, lessons ----
[ "${LESSONS:-1}" = 1 ] || exit 0
say "proclab list, lessons 1-4, 16, 17 ..."
for _ in $(seq 20); do
    s=$(date +%s%N)
    "$PROCLAB" list >/dev/null
    e=$(date +%s%N)
    echo $(((e - s) / 1000))
done >"$WORK/list.txt"
printf '\n%-50s %s µs (median of 20; min-max %s) target < 5000 µs\n' "proclab list" "$(median <"$WORK/list.txt")" "$(minmax <"$WORK/list.txt")"
total=0
for lesson in 1 2 3 4 16 17; do
    s=$(date +%s%N)
    if "$PROCLAB" run "$lesson" --speed 20 --seed 1 --color never >/dev/null 2>"$WORK/lesson.err"; then
        status=ok
    else
        status="FAILED: $(head -1 "$WORK/lesson.err")"
    fi
    e=$(date +%s%N)
    ms=$(((e - s) / 1000000))
    total=$((total + ms))
    printf '%-50s %s ms (%s)\n' "proclab run $lesson --speed 20" "$ms" "$status"
done
printf '%-50s %s ms, target < 15000 ms for 1-4, < 5000 ms each for 16 and 17\n' "lessons 1-4, 16, 17 together" "$total"
printf '\nload average after: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
