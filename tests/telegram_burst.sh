#!/usr/bin/env bash
# run.sh: early (one of the longest cases; tests/run.sh starts it first)
# telegram_burst.sh -- 1,000 updates from 100 chats at once, against a fake
# that adds 100 ms to every call: every update answered exactly once, each
# chat's replies in order, and no Telegram limit broken (the fake enforces
# 1/s per chat and 30/s overall and counts every breach).  Prints the
# throughput (the figure for the issue; not a pass/fail threshold).
set -u
. "$SRC/tests/telegram/lib.sh"
TOKEN=424242:TEST-burst-token-Lm3
start_fake "$SC/burst.json" --latency-ms 100
t0=$(date +%s.%N)
start_bot bot "$TOKEN" --workers 8
wait_sent 1000 110 || fail "the burst was not answered: $(report "$SC/burst.json")"
t1=$(date +%s.%N)
sleep 1.2
report "$SC/burst.json" --expect 'answered == 1000 and missing == 0' --expect 'duplicates == 0' \
    --expect 'order_ok' --expect 'violations == 0' --expect 'unexpected == 0' >"$TMPDIR/r" \
    || { cat "$TMPDIR/r"; fail "burst"; }
cat "$TMPDIR/r"
stop_bot
[ "$BOT_STATUS" = 0 ] || fail "exit status $BOT_STATUS"
no_token "$TOKEN" "$TMPDIR/bot.err" "$TMPDIR/bot.out"
grep -q 'level=error' "$TMPDIR/bot.err" && fail "errors logged: $(grep 'level=error' "$TMPDIR/bot.err" | head -3)"
python3 -c 'import sys; t=float(sys.argv[2])-float(sys.argv[1]); print("burst: 1000 updates in %.1f s = %.1f updates/s (100 ms latency per call; the 30/s overall limit caps it)" % (t, 1000/t))' "$t0" "$t1"
