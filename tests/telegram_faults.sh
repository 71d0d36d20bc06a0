#!/usr/bin/env bash
# telegram_faults.sh -- the bot against a misbehaving Bot API:
#  1. 500s, 502s, malformed JSON, dropped connections and a 4-second stall:
#     everything answered exactly once, and the stalled send to one chat did
#     not hold up the others (they were answered while it hung);
#  2. the server restarts (killed, back on the same port a few seconds later
#     with new updates): the bot backs off, reconnects, answers them;
#  3. a 429 storm (40% of sends refused with retry_after): every reply still
#     delivered once, never before retry_after ran out (the fake counts that);
#  4. SIGHUP with a broken rule file keeps the old rules and logs the error;
#     fixed, SIGHUP reloads; the bot answers throughout.
set -u
. "$SRC/tests/telegram/lib.sh"
TOKEN=616161:TEST-faults-token-Wp2
cp -r "$SRC/rules" "$TMPDIR/rules"

start_fake "$SC/faults.json"
start_bot bot "$TOKEN" --rules "$TMPDIR/rules" --max-backoff 2
wait_sent 30 60 || fail "faults: not all answered: $(report "$SC/faults.json")"
sleep 1.2
report "$SC/faults.json" --expect 'answered == 30 and missing == 0' --expect 'duplicates == 0' \
    --expect 'order_ok' --expect 'violations == 0' >"$TMPDIR/r" || { cat "$TMPDIR/r"; fail "faults"; }
echo "faults: $(cat "$TMPDIR/r")"
# the stalled reply (the first send) was recorded after others sent later
python3 - "$TMPDIR/sent.jsonl" <<'PY' || fail "a stalled send held up other chats"
import json, sys
sent = [json.loads(l) for l in open(sys.argv[1])]
first_update_chat = 8000            # the first send is to the first chat
stalled = next(i for i, s in enumerate(sent) if s["chat_id"] == first_update_chat)
print("stalled reply recorded as message %d of %d" % (stalled + 1, len(sent)))
assert stalled >= 5, stalled
PY
for ev in poll_error send_retry rate_limited api_retry; do
    grep -q "event=$ev" "$TMPDIR/bot.err" || fail "no $ev logged"
done

# 2. the server restarts
kill -KILL "$FAKE_PID"; wait "$FAKE_PID" 2>/dev/null
sleep 3
grep -q 'event=poll_error' "$TMPDIR/bot.err" || fail "the dead server was not noticed"
n0=$(sent_count)
start_fake "$SC/storm.json" --port "$PORT"
# 3. ... and storms: 40 updates under random 429s
wait_sent $((n0 + 40)) 90 || fail "storm: $(report "$SC/storm.json")"
sleep 1.2
report "$SC/storm.json" --expect 'answered == 40 and missing == 0' --expect 'duplicates == 0' \
    --expect 'order_ok' --expect 'violations == 0' >"$TMPDIR/r" || { cat "$TMPDIR/r"; fail "storm"; }
echo "restart + storm: $(cat "$TMPDIR/r")"
grep -q 'event=poll_recovered' "$TMPDIR/bot.err" || fail "no recovery logged"
[ "$(grep -c 'event=rate_limited' "$TMPDIR/bot.err")" -ge 5 ] || fail "the storm was not seen"

# 4. SIGHUP
echo "rule broken.rule!" >>"$TMPDIR/rules/pursuer.rules"
kill -HUP "$BOT_PID"
for _ in $(seq 50); do grep -q 'event=reload_failed' "$TMPDIR/bot.err" && break; sleep 0.2; done
grep -q 'event=reload_failed' "$TMPDIR/bot.err" || fail "a broken reload was not reported"
grep -q 'pursuer.rules' "$TMPDIR/bot.err" || fail "the reload error does not name the file"
cp "$SRC/rules/pursuer.rules" "$TMPDIR/rules/pursuer.rules"
kill -HUP "$BOT_PID"
for _ in $(seq 50); do grep -q 'event=reloaded' "$TMPDIR/bot.err" && break; sleep 0.2; done
grep -q 'event=reloaded' "$TMPDIR/bot.err" || fail "the fixed rules did not reload"
kill -0 "$BOT_PID" || fail "the bot died"
stop_bot
[ "$BOT_STATUS" = 0 ] || fail "exit status $BOT_STATUS"
no_token "$TOKEN" "$TMPDIR/bot.err" "$TMPDIR/bot.out" "$TMPDIR/fake.err"
