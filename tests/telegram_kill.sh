#!/usr/bin/env bash
# telegram_kill.sh -- the bot is killed with SIGKILL in the middle of a burst
# (300 updates from 30 chats) and restarted on the same state: nothing is
# lost, each chat gets at most one duplicate reply (a reply sent just before
# the kill, whose save the kill prevented), order is kept, no limit broken.
# Then a second kill, and a SIGTERM mid-burst (clean stop, then resume).
set -u
. "$SRC/tests/telegram/lib.sh"
TOKEN=515151:TEST-kill-token-Rt7
start_fake "$SC/kill.json"
start_bot bot1 "$TOKEN"
wait_sent 80 60 || fail "no progress before the kill"
kill -KILL "$BOT_PID"; wait "$BOT_PID" 2>/dev/null
k1=$(sent_count)
start_bot bot2 "$TOKEN"
wait_sent $((k1 + 60)) 60 || fail "no progress after the first restart"
kill -KILL "$BOT_PID"; wait "$BOT_PID" 2>/dev/null
k2=$(sent_count)
# a SIGTERM mid-burst: exit 0 at once, the offset confirmed, then resume
start_bot bot3 "$TOKEN"
wait_sent $((k2 + 40)) 60 || fail "no progress after the second restart"
stop_bot
[ "$BOT_STATUS" = 0 ] || fail "SIGTERM mid-burst: exit status $BOT_STATUS"
grep -q 'event=offset_confirmed .*status=0' "$TMPDIR/bot3.err" || fail "SIGTERM mid-burst: offset not confirmed"
start_bot bot4 "$TOKEN"
deadline=$((SECONDS + 60))
while [ $SECONDS -lt $deadline ]; do
    report "$SC/kill.json" --expect 'missing == 0' >/dev/null && break
    sleep 1
done
sleep 1.2
report "$SC/kill.json" --expect 'answered == 300 and missing == 0' --expect 'max_dup_per_chat <= 2' \
    --expect 'order_ok' --expect 'violations == 0' --expect 'unexpected == 0' >"$TMPDIR/r" \
    || { cat "$TMPDIR/r"; fail "kill and restart"; }
echo "after two SIGKILLs (at $k1 and $k2 replies sent): $(cat "$TMPDIR/r")"
stop_bot
[ "$BOT_STATUS" = 0 ] || fail "exit status $BOT_STATUS"
no_token "$TOKEN" "$TMPDIR"/bot*.err
