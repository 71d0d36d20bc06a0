#!/usr/bin/env bash
# matrix_plan.sh -- programs and check-ins through the Matrix bot against
# the fake homeserver (tests/matrix/plan.json), the clock set with
# PUSHPULL_CLOCK: /plan ten-weeks asks the day-1 check-in, the score and
# its note are kept, a second score given as "8/10", /progress charts both,
# /export lists them, and /forget leaves no check-in row and no byte of the
# note in the SQLite file.
set -u
MX_LIB=1 . "$SRC/tests/matrix.sh"
export TZ=UTC
mx_server plan
PUSHPULL_CLOCK=1764669600 mx_bot --programs "$SRC/programs"
mx_wait_file done
mx_stop
mx_check
db=$MX_D/state.db
n=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM checkin").fetchone()[0])' "$db")
[ "$n" = 0 ] || mx_fail "/forget left $n check-in rows"
for f in "$db" "$db-wal"; do
    [ -f "$f" ] && grep -qa "heron-mx" "$f" && mx_fail "the note is still in the bytes of $f"
done
echo "matrix_plan: 2 check-ins kept, charted, exported and forgotten through the fake homeserver"
exit 0
