#!/usr/bin/env bash
# fuzz_regressions.sh -- every input that ever broke a fuzz target, plus the
# seed corpora, replayed through the same code with the normal compiler
# (tests/tools/fuzzreplay.c includes every tests/fuzz/<target>.c).  Runs in
# both passes; the SAN=1 pass is the one that sees undefined behaviour and
# memory errors, the plain pass sees broken invariants (aborts).
# Inputs: tests/fuzz/regressions/<target>/* (named after the bug) and
# tests/fuzz/<target>/* (the seeds).
set -eu
cd "$SRC"
status=0
failed=()
for dir in tests/fuzz/*/; do
    t=$(basename "$dir")
    [ "$t" = regressions ] && continue
    [ -f "tests/fuzz/$t.c" ] || continue
    paths=("tests/fuzz/$t")
    [ -d "tests/fuzz/regressions/$t" ] && paths+=("tests/fuzz/regressions/$t")
    if PP_SRC=$SRC "$TESTBIN/fuzzreplay" "$t" "${paths[@]}" >"$TMPDIR/$t.log" 2>&1; then
        tail -n 1 "$TMPDIR/$t.log"
    else
        status=1
        failed+=("$t")
    fi
done
# failures last, so that the end of the log shows them: the last input
# named before the crash is the one that broke the target
for t in "${failed[@]}"; do
    echo "FAIL: fuzz target $t; last input and messages:"
    grep -v -E '^tests/fuzz/[^/]+/' "$TMPDIR/$t.log" | tail -n 12
    grep -E '^tests/fuzz/' "$TMPDIR/$t.log" | tail -n 1
done
exit $status
