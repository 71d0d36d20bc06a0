#!/usr/bin/env bash
# matrix_remind.sh -- a daily reminder from the Matrix bot with a fake
# clock (PUSHPULL_CLOCK names a file this test rewrites while the bot runs;
# tests/matrix/remind.json): sent at 20:00 in the user's zone, once; not
# again after a SIGKILL and a restart at the same moment (and a resend
# would carry the same txnId); the user leaves the room: the bot leaves,
# deletes the reminder, and sends nothing the next day.
set -u
MX_LIB=1 . "$SRC/tests/matrix.sh"
export PUSHPULL_CLOCK=$TMPDIR/clock
clock() { date -u -d "$1" +%s >"$TMPDIR/clock.tmp" && mv "$TMPDIR/clock.tmp" "$TMPDIR/clock"; }
# reminders: the reminder notices the server stored (and how many PUTs of them)
reminders() {
    python3 -c '
import json, sys
st = json.load(open(sys.argv[1]))
r = [s for s in st["sent"] if s["txn"].startswith("pp.rem.")]
puts = sum(n for t, n in st.get("send_puts", {}).items() if t.startswith("pp.rem."))
print(len(r), puts)' "$MX_D/state.json"
}
clock "2026-12-07 10:00:00"
mx_server remind
mx_bot --sync-timeout 1000
mx_wait_file set
grep -q '"body": "Done: I.ll check in with you every day at 20:00 (+01:00), first today at 20:00' "$MX_D/state.json" ||
    mx_fail "/remind did not answer as set"
clock "2026-12-07 19:00:30"
end=$((SECONDS + 15))
until [ "$(reminders)" = "1 1" ]; do
    [ $SECONDS -gt $end ] && mx_fail "no reminder at 20:00 (+01:00): $(reminders)"; sleep 0.2; done
sleep 2.5
[ "$(reminders)" = "1 1" ] || mx_fail "the reminder came more than once: $(reminders)"
mx_kill
mx_bot --sync-timeout 1000
mx_wait_log 'event=start .*resume=yes'
sleep 2.5
[ "$(reminders)" = "1 1" ] || mx_fail "the reminder was sent again after a restart: $(reminders)"
touch "$MX_D/go_leave"
mx_wait_file left
mx_wait_log 'event=reminder_stopped room="!dm1:example.org" reason=left'
clock "2026-12-08 19:00:30"
sleep 2.5
[ "$(reminders)" = "1 1" ] || mx_fail "a reminder went to a room the user left: $(reminders)"
touch "$MX_D/finish"
mx_wait_file done
mx_stop
mx_check
python3 - "$MX_D/state.db" <<'PY' || mx_fail "the reminder row is still there"
import sqlite3, sys
n = sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM reminder").fetchone()[0]
sys.exit(1 if n else 0)
PY
grep -q 'event=reminder_sent room="!dm1:example.org" day=2026-12-07 late_s=30' "$MX_D/bot.log" ||
    mx_fail "the reminder was not logged"
echo "matrix_remind: sent once at 20:00 +01:00, not again after SIGKILL, stopped when the user left"
