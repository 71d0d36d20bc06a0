#!/usr/bin/env bash
# store_concurrency -- two processes started together on one fresh state
# file, each saving 1500 times to its own keys and to one shared cursor and
# marking 1500 events.  No error may surface (SQLITE_BUSY must be absorbed by
# the busy timeout, migrations by the first opener must not race), the file
# passes integrity_check, and every write is there.  See tests/tools/storecrash.c.
set -eu
db=$TMPDIR/conc/state.db
out=$("$TESTBIN/storecrash" conc "$db" "$SRC/rules" "$SRC/responses" 1500) || { echo "$out"; exit 1; }
echo "$out"
grep -q '^conc: writers=2 iterations=1500 .* sessions_ok=6/6 event_marks=3000 .* integrity=ok$' <<<"$out"
