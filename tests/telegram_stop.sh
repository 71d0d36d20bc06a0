#!/usr/bin/env bash
# telegram_stop.sh -- SIGTERM ends the bot promptly (issue 21, item 7),
# whatever it waits for: one chat waits out a 429's retry_after of 600 s,
# another's send stalls for 60 s (tests/telegram/stop.json).  The bot ends
# within a second of the signal (300 ms of it the grace a send in flight
# gets) with status 0 and confirms the offset of what it answered: 1000 was
# answered, 1001 and 1002 were not, so Telegram is told offset=1001 and a
# restart answers those two once.  Then the restarted bot, parked in a
# 50 s long poll, also ends within a second.
set -u
# well under a second: 1 s allowed; under the sanitizers (SAN=1) 2 s, as
# ASan's own exit (the leak check, freeing the rules) takes some 300 ms
LIMIT_MS=1000; [ "${SAN:-0}" = 1 ] && LIMIT_MS=2000
. "$SRC/tests/telegram/lib.sh"
TOKEN=929293:TEST-stop-token-Qw7

# stop_timed: SIGTERM, wait; sets BOT_STATUS and MS (signal to exit)
stop_timed() {
    local t0; t0=$(date +%s%N)
    kill -TERM "$BOT_PID"; wait "$BOT_PID"; BOT_STATUS=$?
    MS=$(( ($(date +%s%N) - t0) / 1000000 ))
}

start_fake "$SC/stop.json"
start_bot bot "$TOKEN"
for _ in $(seq 150); do grep -q "event=rate_limited" "$TMPDIR/bot.err" 2>/dev/null && break; sleep 0.1; done
grep -q 'event=rate_limited chat=4343 update=1001 retry_after=600 ' "$TMPDIR/bot.err" ||
    fail "chat 4343 is not waiting the 600 s retry_after"
wait_sent 1 10 || fail "chat 4242 was not answered"
sleep 0.5                                   # chat 4444's send is stalled by now
stop_timed
echo "telegram_stop: waiting for retry_after and a stalled send: exited ${MS} ms after SIGTERM"
[ "$BOT_STATUS" = 0 ] || fail "exit status $BOT_STATUS"
[ "$MS" -lt $LIMIT_MS ] || fail "SIGTERM took ${MS} ms to end the bot"
grep -q 'event=offset_confirmed offset=1001 status=0' "$TMPDIR/bot.err" ||
    fail "the offset of what was answered (1001) was not confirmed"
grep -q 'event=send_cancelled chat=4444 update=1002 ' "$TMPDIR/bot.err" ||
    fail "the stalled send was not cancelled and logged"
[ "$(sent_count)" = 1 ] || fail "$(sent_count) replies sent, want 1"

start_bot bot2 "$TOKEN" --poll-timeout 50
wait_sent 3 15 || fail "the updates left unanswered were not answered after a restart"
grep -q 'event=offset_confirmed' "$TMPDIR/bot2.err" && fail "bot2 stopped early"
sleep 1                                     # parked in the long poll
stop_timed
echo "telegram_stop: parked in a 50 s long poll: exited ${MS} ms after SIGTERM"
[ "$BOT_STATUS" = 0 ] || fail "exit status $BOT_STATUS"
[ "$MS" -lt $LIMIT_MS ] || fail "SIGTERM took ${MS} ms to end the long poll"
grep -q 'event=offset_confirmed offset=1003 status=0' "$TMPDIR/bot2.err" ||
    fail "the restarted bot did not confirm offset 1003"
report "$SC/stop.json" --expect 'missing == 0' --expect 'duplicates == 0' >/dev/null ||
    fail "$(report "$SC/stop.json")"
no_token "$TOKEN" "$TMPDIR"/bot*.err "$TMPDIR"/bot*.out
echo "telegram_stop: all checks passed"
