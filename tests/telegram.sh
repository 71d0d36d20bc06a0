#!/usr/bin/env bash
# telegram.sh -- `pushpull telegram` against the fake Bot API: a normal
# multi-turn chat (private and group, commands, a sticker, an edited message,
# a duplicate delivery), a clean SIGTERM that confirms the offset, a restart
# that repeats nothing, --log-text, an invalid token and a 409 conflict.
set -u
. "$SRC/tests/telegram/lib.sh"
TOKEN=123456:TEST-chat-token-Zq9

start_fake "$SC/chat.json"
start_bot bot1 "$TOKEN" --max-chats 2   # small: idle chats are evicted and reloaded
wait_sent 10 30 || fail "not every message was answered: $(report "$SC/chat.json")"
sleep 1.5   # a late extra reply (duplicate, or to the edited message) would land now
report "$SC/chat.json" --expect 'answered == 10 and expected == 10' --expect 'duplicates == 0' \
    --expect 'unexpected == 0' --expect 'order_ok' --expect 'violations == 0' \
    --expect 'commands == ["start", "help", "reframe", "why", "reset", "plan", "checkin", "progress", "forget", "remind", "timezone", "pair", "answer", "unpair"]' \
    --expect 'calls["getMe"] == 1' || fail "the chat went wrong"
grep -q '"I can only read text' "$TMPDIR/sent.jsonl" || fail "the sticker got no 'I can only read text' answer"
grep -q '"chat_id": -300, "reply_to": 3' "$TMPDIR/sent.jsonl" || fail "the group mention was not answered"
grep -q 'parse_mode' "$TMPDIR/sent.jsonl" && fail "parse_mode used"
grep -q 'event=update_ignored update=1006 kind=edited' "$TMPDIR/bot1.err" || fail "the edited message was not logged as ignored"
stop_bot
[ "$BOT_STATUS" = 0 ] || fail "SIGTERM exit status $BOT_STATUS"
grep -q 'event=offset_confirmed offset=1013 status=0' "$TMPDIR/bot1.err" || fail "offset not confirmed"
report "$SC/chat.json" --expect 'confirmed_offset == 1013' >/dev/null || fail "the fake did not see the confirmed offset"
# privacy: no message text in the log without --log-text; never the token
grep -q -i 'pulls away\|goes silent\|text him' "$TMPDIR/bot1.err" && fail "message text logged"
no_token "$TOKEN" "$TMPDIR/bot1.err" "$TMPDIR/bot1.out"
grep -q 'latency_ms=' "$TMPDIR/bot1.err" || fail "no latency in the log lines"

# A restart with the same state answers only what is new, and remembers.
n_before=$(wc -l <"$TMPDIR/sent.jsonl")
start_bot bot2 "$TOKEN" --log-text
sleep 1
python3 - "$API" <<'PY'
import json, sys, urllib.request
ups = [{"message": {"chat": {"id": 101, "type": "private"}, "message_id": 50, "text": "I still text him a lot"}}]
urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/admin/inject",
    data=json.dumps({"updates": ups}).encode(), headers={"Content-Type": "application/json"})).read()
PY
for _ in $(seq 60); do [ "$(wc -l <"$TMPDIR/sent.jsonl")" -gt "$n_before" ] && break; sleep 0.25; done
sleep 1.2
[ "$(wc -l <"$TMPDIR/sent.jsonl")" = $((n_before + 1)) ] || fail "after a restart: expected exactly one new reply"
# the disclaimer comes with the first reply of a session only: none here
tail -n 1 "$TMPDIR/sent.jsonl" | grep -q 'automated coach' && fail "the session was not resumed from the store: $(tail -n 1 "$TMPDIR/sent.jsonl" | cut -c1-200)"
grep -q 'text="I still text him a lot"' "$TMPDIR/bot2.err" || fail "--log-text did not log the text"
stop_bot
[ "$BOT_STATUS" = 0 ] || fail "second SIGTERM exit status $BOT_STATUS"
no_token "$TOKEN" "$TMPDIR/bot2.err" "$TMPDIR/bot2.out"

# An invalid token: a clear error, exit non-zero, the token printed nowhere.
BAD=987654:WRONG-token-never-shown
start_bot bad "$BAD"
wait "$BOT_PID"; st=$?
[ "$st" != 0 ] || fail "an invalid token exited 0"
grep -q 'event=token_refused' "$TMPDIR/bad.err" || fail "no clear token error: $(cat "$TMPDIR/bad.err")"
no_token "$BAD" "$TMPDIR/bad.err" "$TMPDIR/bad.out"
no_token "WRONG-token" "$TMPDIR/bad.err" "$TMPDIR/bad.out"
# ... also from --token-file, and a malformed one is refused before any call
printf '%s\n' "$BAD" >"$TMPDIR/tok"; chmod 600 "$TMPDIR/tok"
"$PUSHPULL" telegram --api-url "$API" --token-file "$TMPDIR/tok" --state "$TMPDIR/state.db" --rules "$SRC/rules" >"$TMPDIR/bad2.out" 2>"$TMPDIR/bad2.err"
[ $? != 0 ] || fail "token file: exit 0"
no_token "$BAD" "$TMPDIR/bad2.err" "$TMPDIR/bad2.out"
TELEGRAM_BOT_TOKEN='12/../x y' "$PUSHPULL" telegram --api-url "$API" --state "$TMPDIR/state.db" >"$TMPDIR/bad3.out" 2>"$TMPDIR/bad3.err"
[ $? != 0 ] && grep -q token_invalid "$TMPDIR/bad3.err" || fail "a malformed token was not refused"
grep -q '\.\./x' "$TMPDIR/bad3.err" && fail "malformed token printed"
kill "$FAKE_PID"

# 409: another instance is polling -> stop with a clear message.
start_fake "$SC/conflict.json"
start_bot conflict 123456:TEST-conflict-token-Qx1
wait "$BOT_PID"; st=$?
[ "$st" != 0 ] || fail "409 exited 0"
grep -q 'event=conflict' "$TMPDIR/conflict.err" || fail "no clear 409 message"
echo "telegram: all checks passed"
