#!/usr/bin/env bash
# Run every test: the cmocka unit binaries in $B/tests/unit/, then every
# tests/*.sh script.  Each is one case; the last line is "N passed, N failed".
# Scripts get PUSHPULL (the program), TESTBIN (helper programs), SRC (the tree)
# and TMPDIR (a fresh directory, removed afterwards).
set -u
cd "$(dirname "$0")/.."
B=${B:-build}
export SRC=$PWD PUSHPULL=$PWD/$B/pushpull TESTBIN=$PWD/$B/tests
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=99}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=98}
unset PUSHPULL_REGION XDG_STATE_HOME TELEGRAM_BOT_TOKEN MATRIX_ACCESS_TOKEN
pass=0; fail=0; failed=()
only=${1:-}
run_case() {
    local name=$1; shift
    [ -n "$only" ] && [[ "$name" != *"$only"* ]] && return
    local log tmp start=$SECONDS
    tmp=$(mktemp -d); log=$tmp/log
    if TMPDIR=$tmp XDG_STATE_HOME=$tmp/state "$@" >"$log" 2>&1 && ! grep -q -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$log"; then
        pass=$((pass+1)); echo "ok   $name ($((SECONDS-start))s)"
    else
        fail=$((fail+1)); failed+=("$name"); echo "FAIL $name"
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
[ ${#failed[@]} -gt 0 ] && echo "failed: ${failed[*]}"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
