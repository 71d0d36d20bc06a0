#!/usr/bin/env bash
# telegram_remind.sh -- /remind and /timezone in the Telegram bot, with a
# fake clock (PUSHPULL_CLOCK names a file the test rewrites while the bot
# runs; the fake logs that time with each message):
#  - /timezone Europe/Berlin, an unknown zone refused, a night time refused;
#  - the reminder comes at 20:00 Berlin (19:00 UTC), once, and not again
#    after a kill -9 and a restart at the same moment;
#  - missed while the bot was down: sent once when it is back 30 minutes
#    late, skipped when it would go out at night (21:30 owed at 22:45),
#    skipped when stale (more than 3 hours late);
#  - none in a safety-locked chat; none after the user blocked the bot
#    (the fake answers 403): the reminder row is deleted.
set -u
. "$SRC/tests/telegram/lib.sh"
TOKEN=515151:TEST-remind-token-Kp2
export PUSHPULL_CLOCK=$TMPDIR/clock
DB=$TMPDIR/state.db
set_clock "2026-12-07 10:00:00"          # a Monday

start_fake "$SC/remind.json" --clock "$TMPDIR/clock"
start_bot bot "$TOKEN" --poll-timeout 1
say 101 "/timezone Europe/Berlin"; wait_chat 101 1 20 || fail "no answer to /timezone"
last_to 101 | grep -q "Europe/Berlin; it's 11:00 there" || fail "/timezone: $(last_to 101)"
say 101 "/timezone Mars/Olympus_Mons"; wait_chat 101 2 20 || fail "no answer"
last_to 101 | grep -q "I don't know the time zone \"Mars/Olympus_Mons\"" || fail "unknown zone: $(last_to 101)"
say 101 "/remind 23:30"; wait_chat 101 3 20 || fail "no answer"
last_to 101 | grep -q "I don't send reminders at night" || fail "night time accepted: $(last_to 101)"
say 101 "/remind 20:00"; wait_chat 101 4 20 || fail "no answer"
last_to 101 | grep -q "every day at 20:00 (Europe/Berlin), first today at 20:00" || fail "/remind: $(last_to 101)"
say 101 "/remind"; wait_chat 101 5 20 || fail "no answer"
last_to 101 | grep -q "Your daily reminder is at 20:00 (Europe/Berlin)" || fail "/remind shows: $(last_to 101)"
say 102 "/remind 08:00"; wait_chat 102 1 20 || fail "no answer from 102"
say 103 "/remind 09:00"; wait_chat 103 1 20 || fail "no answer from 103"
say 103 "my husband hit me last night and I am scared of him"; wait_chat 103 2 20 || fail "no answer"
say 104 "/timezone UTC+0"; say 104 "/remind 21:30"; wait_chat 104 2 20 || fail "no answer from 104"
sleep 1.5
base=$(to_chat 101)

# 19:00:30 UTC = 20:00:30 in Berlin: one reminder, within a poll or two
set_clock "2026-12-07 19:00:30"
wait_chat 101 $((base + 1)) 10 || fail "no reminder at 20:00 Berlin"
last_to 101 | grep -q "Your daily check-in: on a scale of 1 to 10" || fail "reminder text: $(last_to 101)"
sleep 2.5
[ "$(to_chat 101)" = $((base + 1)) ] || fail "the reminder came more than once"
# killed and started again at the same moment: not sent twice
kill -9 "$BOT_PID"; wait "$BOT_PID" 2>/dev/null
start_bot bot2 "$TOKEN" --poll-timeout 1
sleep 3.5
[ "$(to_chat 101)" = $((base + 1)) ] || fail "the reminder was sent again after a restart"
stop_bot

# down over 21:30 UTC; back at 22:45: 104's reminder is owed but it is
# night there: skipped, never sent
set_clock "2026-12-07 22:45:00"
start_bot bot3 "$TOKEN" --poll-timeout 1
sleep 3
stop_bot
[ "$(to_chat 104)" = 2 ] || fail "a reminder was sent at night"
grep -q 'event=reminder_skipped chat=104 day=2026-12-07 reason=night' "$TMPDIR/bot3.err" ||
    fail "the night reminder was not logged as skipped"

# down over Tuesday 20:00 Berlin, back 30 minutes late: sent once; 102's
# 08:00 UTC is 11.5 hours late: skipped as stale
set_clock "2026-12-08 19:30:00"
start_bot bot4 "$TOKEN" --poll-timeout 1
wait_chat 101 $((base + 2)) 10 || fail "the reminder missed while down was not sent"
sleep 2.5
[ "$(to_chat 101)" = $((base + 2)) ] || fail "the missed reminder came more than once"
[ "$(to_chat 102)" = 1 ] || fail "a stale reminder was sent"
grep -q 'event=reminder_skipped chat=102 day=2026-12-08 reason=stale' "$TMPDIR/bot4.err" ||
    fail "the stale reminder was not logged as skipped"
grep -q 'event=reminder_sent chat=101 day=2026-12-08 late_s=1800' "$TMPDIR/bot4.err" ||
    fail "the late reminder was not logged"

# Wednesday: 102 blocked the bot; 103 is safety-locked
python3 -c 'import urllib.request, sys; urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/admin/block", data=b"{\"chat\": 102}", headers={"Content-Type": "application/json"}))' "$API"
set_clock "2026-12-09 08:00:30"
for _ in $(seq 50); do grep -q 'event=reminder_stopped chat=102 reason=blocked' "$TMPDIR/bot4.err" && break; sleep 0.2; done
grep -q 'event=reminder_stopped chat=102 reason=blocked' "$TMPDIR/bot4.err" || fail "a 403 did not stop the reminder"
set_clock "2026-12-09 09:00:30"
for _ in $(seq 50); do grep -q 'event=reminder_skipped chat=103 day=2026-12-09 reason=locked' "$TMPDIR/bot4.err" && break; sleep 0.2; done
grep -q 'event=reminder_skipped chat=103 day=2026-12-09 reason=locked' "$TMPDIR/bot4.err" ||
    fail "the locked chat's reminder was not skipped"
[ "$(to_chat 103)" = 2 ] || fail "a reminder went to a safety-locked chat"
set_clock "2026-12-10 08:00:30"
sleep 2.5
stop_bot
[ "$BOT_STATUS" = 0 ] || fail "exit status $BOT_STATUS"
n=$(grep -c 'chat=102 kind=reminder' "$TMPDIR/bot4.err")
[ "$n" = 1 ] || fail "after the block the bot tried again ($n attempts)"
python3 - "$DB" <<'PY' || fail "the reminder rows are wrong"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = dict(db.execute("SELECT key, last_day FROM reminder").fetchall())
assert "telegram:102" not in rows, "the blocked chat still has a reminder"
assert rows.get("telegram:101") == "2026-12-09", rows  # sent 12-08, 12-09 skipped as stale
PY
report "$SC/remind.json" --expect 'violations == 0' >"$TMPDIR/r" || { cat "$TMPDIR/r"; fail "rate limits broken"; }
no_token "$TOKEN" "$TMPDIR"/bot*.err
echo "telegram_remind: all checks passed"
