#!/usr/bin/env bash
# store_crash -- SIGKILL a process that is saving sessions, 50 times at
# random moments, and check after every kill that the state database is
# intact (integrity_check "ok"), that each session and the cursor saved with
# it agree (never torn), that counters never go backwards and that every
# save the writer saw succeed is still there.  Uses the real rules, the real
# engine sessions and a real SQLite file.  See tests/tools/storecrash.c.
set -eu
db=$TMPDIR/crash/state.db
mkdir -p "$TMPDIR/crash"
out=$("$TESTBIN/storecrash" crash "$db" "$SRC/rules" "$SRC/responses" 50 20240601) || { echo "$out"; exit 1; }
echo "$out"
grep -q '^crash: kills=50 .* integrity_ok=50 checks_passed=50 ' <<<"$out"
# The file must still open as a store and be private.
[ "$(stat -c %a "$db")" = 600 ]
