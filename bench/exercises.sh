#!/usr/bin/env bash
# bench/exercises.sh: every exercise's starter and solution checked RUNS times in a row (default
# 20), in Python and, where the exercise has one, in Rust. A verdict that depends on scheduling
# must not flicker: every starter must fail every time with one and the same hint, and every
# solution pass every time. Too slow for the test suite (it checks each solution 3 times,
# tests/exercises.rs), so it is run by hand.
#
#     bench/exercises.sh [BINARY] [RUNS] [EXERCISES]
#
# BINARY defaults to target/debug/proclab (built if missing); EXERCISES to every folder under
# exercises/ (give numbers: "5 7 12"). METHOD=spawn (or forkserver) checks the Python programs
# under that start method instead of Python's default: a copy of each program with
# multiprocessing.set_start_method(METHOD) as the first line of its main block. Prints one line
# per program: the tally of its verdicts (passed, or failed with hint N). Exits 1 if any tally
# is not what it should be.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BINARY=${1:-$ROOT/target/debug/proclab}
RUNS=${2:-20}
WANTED=${3:-}
METHOD=${METHOD:-}
if [ ! -x "$BINARY" ]; then
    (cd "$ROOT" && cargo build --quiet) || exit 2
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/proclab-exercises.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# The program to check: the file itself, or its copy under METHOD.
program() {
    local file=$1 copy
    if [ -z "$METHOD" ] || [ "${file##*.}" != py ]; then
        echo "$file"
        return
    fi
    copy="$WORK/$(basename "$(dirname "$file")")-$(basename "$file")"
    sed "s/^if __name__ == '__main__':\$/if __name__ == '__main__':\n    import multiprocessing\n    multiprocessing.set_start_method('$METHOD')/" \
        "$file" >"$copy"
    echo "$copy"
}

# One verdict, as "passed" or "failed hint N".
verdict() {
    "$BINARY" exercise check "$1" "$2" --json 2>/dev/null </dev/null | python3 -c '
import json, sys
try:
    v = json.loads(sys.stdin.read())
    print("passed" if v["passed"] else "failed hint %s" % v["hint"])
except ValueError:
    print("no verdict")'
}

bad=0
for folder in "$ROOT"/exercises/*/; do
    name=$(basename "$folder")
    number=$((10#${name%%-*}))
    if [ -n "$WANTED" ] && ! [[ " $WANTED " == *" $number "* ]]; then
        continue
    fi
    for lang in py rs; do
        [ -f "$folder/starter.$lang" ] || continue
        for which in starter solution; do
            file=$(program "$folder/$which.$lang")
            tally=$(for _ in $(seq 1 "$RUNS"); do verdict "$number" "$file"; done | sort | uniq -c |
                awk '{$1=$1; print}' | paste -sd ',' -)
            ok=yes
            case "$which:$tally" in
            solution:"$RUNS passed") ;;
            starter:"$RUNS failed hint "*) ;;
            *) ok=no ;;
            esac
            [ "$ok" = yes ] || bad=1
            printf '%-22s %-8s %-3s %s%s\n' "$name" "$which" "$lang" "$tally" \
                "$([ "$ok" = yes ] || echo '   <- not the same every time')"
        done
    done
done
exit "$bad"
