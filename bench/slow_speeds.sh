#!/usr/bin/env bash
# bench/slow_speeds.sh: every lesson at slow speeds, to the end. A lesson's patience with its own
# processes must be scaled as its sleeps are (README, "Reliability"): a wait with a fixed deadline
# for something that follows a scaled sleep fails at a slow enough --speed. Too slow for the test
# suite (lesson 4 takes about 4 minutes at --speed 0.05), so it is run by hand; the suite checks
# the same thing statically (tests/reliability.rs, `every_lesson_wait_is_scaled_...`).
#
#     bench/slow_speeds.sh [BINARY] [SPEEDS] [LESSONS]
#
# BINARY defaults to target/release/proclab (built if missing); SPEEDS to "0.1 0.05"; LESSONS to
# 1-17. Runs JOBS (default 4) lessons at a time: they mostly sleep. Prints one line per run:
# lesson, speed, exit status, wall time, and the last line of standard error when it failed.
# Exits 1 if any run failed.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BINARY=${1:-$ROOT/target/release/proclab}
SPEEDS=${2:-0.1 0.05}
LESSONS=${3:-$(seq 1 17)}
JOBS=${JOBS:-4}
if [ ! -x "$BINARY" ]; then
    (cd "$ROOT" && cargo build --release --quiet) || exit 2
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/proclab-slow.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

one() {
    local lesson=$1 speed=$2 began status took
    began=$(date +%s%N)
    "$BINARY" run "$lesson" --json --speed "$speed" >"$WORK/$lesson-$speed.out" \
        2>"$WORK/$lesson-$speed.err" </dev/null
    status=$?
    took=$(( ($(date +%s%N) - began) / 1000000 ))
    took="$((took / 1000)).$(printf '%03d' $((took % 1000)) | cut -c1)"
    if [ "$status" -eq 0 ]; then
        printf 'lesson %2s  --speed %-5s status 0  %7s s\n' "$lesson" "$speed" "$took"
    else
        printf 'lesson %2s  --speed %-5s status %s  %7s s  %s\n' "$lesson" "$speed" "$status" \
            "$took" "$(tail -n 1 "$WORK/$lesson-$speed.err")"
    fi
}

failed=0
for speed in $SPEEDS; do
    for lesson in $LESSONS; do
        while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do
            wait -n || true
        done
        one "$lesson" "$speed" &
    done
done
wait
for out in "$WORK"/*.out; do
    grep -q '"outcome":"finished"' "$out" || failed=1
done
exit $failed
