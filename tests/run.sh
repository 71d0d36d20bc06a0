#!/usr/bin/env bash
# Run every test: the cmocka unit binaries in $B/tests/unit/, then every
# tests/*.sh script.  Each is one case: exit 0 passed, exit 77 skipped
# (the whole case could not run here: a tool or testbed that is truly
# absent, or a pass it does not belong to; its last line of output says
# why and is printed as "skip NAME: reason"), anything else failed.  Lines
# of a passing case that begin "figure: " (a measured figure) are printed
# under its "ok" line.  A case
# still running after 30 s gets a line every 30 s with its last output
# line, so a long step (the fuzz smoke) is never silent.  The last line is
# "N passed, N failed, N skipped"; the exit status is 0 when nothing failed
# and something passed.
# Scripts get PUSHPULL (the program), TESTBIN (helper programs), SRC (the tree)
# and TMPDIR (a fresh directory, removed afterwards).
set -u
cd "$(dirname "$0")/.."
B=${B:-build}
export SRC=$PWD PUSHPULL=$PWD/$B/pushpull TESTBIN=$PWD/$B/tests
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=99}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=98}
unset PUSHPULL_REGION XDG_STATE_HOME TELEGRAM_BOT_TOKEN MATRIX_ACCESS_TOKEN NOTIFY_SOCKET WATCHDOG_USEC WATCHDOG_PID
pass=0; fail=0; skip=0; failed=(); skipped=()
only=${1:-}
PROGRESS_SECONDS=${PROGRESS_SECONDS:-30}
# the last non-empty line of a log, at most 120 characters
last_line() { grep -v '^[[:space:]]*$' "$1" 2>/dev/null | tail -n 1 | cut -c1-120; }
run_case() {
    local name=$1; shift
    [ -n "$only" ] && [[ "$name" != *"$only"* ]] && return
    local log tmp start=$SECONDS rc hb
    tmp=$(mktemp -d); log=$tmp/log
    # the heartbeat: its sleep has no hold on our stdout, so a pipe
    # reading this script ends when the script does
    ( n=0; while sleep "$PROGRESS_SECONDS" </dev/null >/dev/null 2>&1; do
          n=$((n+PROGRESS_SECONDS)); echo "     ... $name running, ${n}s: $(last_line "$log")"; done ) &
    hb=$!
    TMPDIR=$tmp XDG_STATE_HOME=$tmp/state "$@" >"$log" 2>&1
    rc=$?
    kill "$hb" 2>/dev/null; wait "$hb" 2>/dev/null
    local why="exit $rc"
    if grep -q -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$log"; then
        rc=1; why="a sanitizer report"
    fi
    if [ "$rc" -eq 0 ]; then
        pass=$((pass+1)); echo "ok   $name ($((SECONDS-start))s)"
        # a case's measured figures ("figure: ..." lines) are shown too
        grep '^figure: ' "$log" | cut -c9-200 | sed 's/^/     /'
    elif [ "$rc" -eq 77 ]; then
        skip=$((skip+1)); skipped+=("$name"); echo "skip $name: $(last_line "$log")"
    else
        fail=$((fail+1)); failed+=("$name"); echo "FAIL $name ($why)"
        tail -n 40 "$log" | sed 's/^/     | /'
    fi
    rm -rf "$tmp"
}
for t in "$B"/tests/unit/*; do
    [ -x "$t" ] && run_case "unit/$(basename "$t")" "$t"
done
for t in tests/*.sh; do
    [ "$t" = tests/run.sh ] && continue
    run_case "$(basename "$t" .sh)" bash "$t"
done
[ ${#skipped[@]} -gt 0 ] && echo "skipped: ${skipped[*]}"
[ ${#failed[@]} -gt 0 ] && echo "failed: ${failed[*]}"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
