#!/usr/bin/env bash
# telegram_retry.sh -- a 429 whose retry_after asks for 100,000 s (more
# than a day) is capped at 600 s, as the Matrix bot caps its own, and the
# cap is logged (event=retry_after_capped asked=100000 used=600); a
# SIGTERM during that wait ends the bot at once with status 0, the reply
# not sent and its update not confirmed (Telegram delivers it again).
set -u
. "$SRC/tests/telegram/lib.sh"
TOKEN=929292:TEST-retry-token-Kk3

start_fake "$SC/retry.json"
start_bot bot "$TOKEN"
for _ in $(seq 150); do grep -q 'event=rate_limited' "$TMPDIR/bot.err" && break; sleep 0.1; done
grep -q 'event=retry_after_capped method=sendMessage asked=100000 used=600' "$TMPDIR/bot.err" ||
    fail "the huge retry_after was not capped and logged"
grep -q 'event=rate_limited chat=4242 update=1000 retry_after=600 ' "$TMPDIR/bot.err" ||
    fail "the chat does not wait the capped 600 s"
kill -TERM "$BOT_PID"
for _ in $(seq 200); do kill -0 "$BOT_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$BOT_PID" 2>/dev/null && fail "SIGTERM did not end the wait for retry_after"
wait "$BOT_PID"; st=$?
[ "$st" = 0 ] || fail "exit status $st"
[ "$(sent_count)" = 0 ] || fail "a reply was sent before retry_after ran out"
grep -q 'event=offset_confirmed offset=1000 status=0' "$TMPDIR/bot.err" ||
    fail "the unanswered update was confirmed"
no_token "$TOKEN" "$TMPDIR/bot.err" "$TMPDIR/bot.out"
echo "telegram_retry: all checks passed"
