#!/usr/bin/env bash
# Run every test: the cmocka unit binaries in $B/tests/unit/, then every
# tests/*.sh script.  Each is one case: exit 0 passed, exit 77 skipped
# (the whole case could not run here: a tool or testbed that is truly
# absent, or a pass it does not belong to; its last line of output says
# why and is printed as "skip NAME: reason"), anything else failed.  Lines
# of a passing case that begin "figure: " (a measured figure) are printed
# under its "ok" line (in the order cases end).  A case
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
only=${1:-}
PROGRESS_SECONDS=${PROGRESS_SECONDS:-30}
# cases run JOBS at a time (default: the number of cores, at most 4); most
# wait on a fake server or a timer, so two at once halve the wall time
# without starving one another.  A script whose first lines hold
# "# run.sh: alone" runs with no other case beside it.
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 1)}
[ "$JOBS" -gt 4 ] 2>/dev/null && JOBS=4
[ "$JOBS" -ge 1 ] 2>/dev/null || JOBS=1
RES=$(mktemp -d); trap 'rm -rf "$RES"' EXIT
# the last non-empty line of a log, at most 120 characters
last_line() { grep -v '^[[:space:]]*$' "$1" 2>/dev/null | tail -n 1 | cut -c1-120; }
# run_case N NAME CMD...: runs one case; its report goes to $RES/N.out and
# its outcome (pass, fail or skip) to $RES/N.st, written last
run_case() {
    local n=$1 name=$2; shift 2
    local log tmp start=$SECONDS rc hb out=$RES/$n.out st
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
        st=pass; echo "ok   $name ($((SECONDS-start))s)" >"$out"
        # a case's measured figures ("figure: ..." lines) are shown too
        grep '^figure: ' "$log" | cut -c9-200 | sed 's/^/     /' >>"$out"
    elif [ "$rc" -eq 77 ]; then
        st=skip; echo "skip $name: $(last_line "$log")" >"$out"
    else
        st=fail; echo "FAIL $name ($why)" >"$out"
        tail -n 40 "$log" | sed 's/^/     | /' >>"$out"
    fi
    echo "$st $name" >"$RES/$n.st"
    rm -rf "$tmp"
}
shown=()
# show_done: print the report of every finished case not yet printed
show_done() {
    local f k
    for f in "$RES"/*.st; do
        [ -e "$f" ] || continue
        k=$(basename "$f" .st)
        [ -n "${shown[$k]:-}" ] && continue
        shown[$k]=1; cat "$RES/$k.out"
    done
}
# wait_slots MAX: wait until fewer than MAX cases run
wait_slots() {
    while [ "$(jobs -rp | wc -l)" -ge "$1" ]; do wait -n 2>/dev/null; show_done; done
}
cases=0
start_case() {
    local name=$1; shift
    [ -n "$only" ] && [[ "$name" != *"$only"* ]] && return
    cases=$((cases+1))
    if [ "${ALONE:-}" = 1 ]; then
        wait_slots 1; run_case "$cases" "$name" "$@"; show_done; return
    fi
    wait_slots "$JOBS"
    run_case "$cases" "$name" "$@" &
}
# the longest cases ("# run.sh: early" in their first lines) start first,
# so the short ones fill the other slots while they run
scripts=$(for t in tests/*.sh; do
    [ "$t" = tests/run.sh ] && continue
    if head -n 20 "$t" | grep -q '^# run.sh: early'; then echo "0 $t"; else echo "1 $t"; fi
done | sort -k1,1 -s | cut -d' ' -f2)
for t in $scripts; do
    ALONE=0; head -n 20 "$t" | grep -q '^# run.sh: alone' && ALONE=1
    ALONE=$ALONE start_case "$(basename "$t" .sh)" bash "$t"
done
for t in "$B"/tests/unit/*; do
    [ -x "$t" ] && start_case "unit/$(basename "$t")" "$t"
done
wait; show_done
pass=0; fail=0; skip=0; failed=(); skipped=()
for f in "$RES"/*.st; do
    [ -e "$f" ] || continue
    read -r st name <"$f"
    case $st in
    pass) pass=$((pass+1)) ;;
    skip) skip=$((skip+1)); skipped+=("$name") ;;
    *) fail=$((fail+1)); failed+=("$name") ;;
    esac
done
[ ${#skipped[@]} -gt 0 ] && echo "skipped: ${skipped[*]}"
[ ${#failed[@]} -gt 0 ] && echo "failed: ${failed[*]}"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
