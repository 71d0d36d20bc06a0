#!/usr/bin/env bash
# telegram_ids.sh -- update ids Telegram cannot send: 9223372036854775807
# (whose "+ 1" overflowed: a UBSan abort, and the plain build polled with a
# negative offset), 2^53, 0 and -7, among good ones.  Each bad one is
# refused with a log line (once, though the fake delivers the two large
# ones on every poll: it never sees them confirmed), never answered; the
# good ones are answered once; the poll loop is not wedged (an update
# injected later is answered, and the bad ones do not make it poll in a
# tight loop); the offset confirmed at SIGTERM is one past the last good
# id.  Run under SAN=1 it is the regression test of the overflow.
# Then the bot's own id: a getMe username longer than the bot keeps (which
# it cut before, so a mention of the cut name addressed it) stops the bot
# with event=getme_invalid and exit status 1, answering nothing.
set -u
. "$SRC/tests/telegram/lib.sh"
TOKEN=939393:TEST-ids-token-Pp8

start_fake "$SC/ids.json"
start_bot bot "$TOKEN"
wait_sent 3 30 || fail "the good updates were not answered: $(report "$SC/ids.json")"
python3 - "$API" <<'PY'
import json, sys, urllib.request
ups = [{"message": {"chat": {"id": 5107, "type": "private"}, "text": "he goes quiet for days"}}]
urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/admin/inject",
    data=json.dumps({"updates": ups}).encode(), headers={"Content-Type": "application/json"})).read()
PY
wait_sent 4 30 || fail "an update after the bad ones was not answered (poll wedged?)"
sleep 1.5
report "$SC/ids.json" --expect 'answered == 3 and missing == 0' --expect 'unexpected == 1' \
    --expect 'duplicates == 0' --expect 'violations == 0' --expect 'calls["getUpdates"] < 40' \
    >"$TMPDIR/r" || { cat "$TMPDIR/r"; fail "the ids went wrong"; }
cat "$TMPDIR/r"
grep -q '"chat_id": 5107' "$TMPDIR/sent.jsonl" || fail "the injected update was not answered"
for id in 9223372036854775807 9007199254740992 0 -7; do
    n=$(grep -c "event=update_refused update=$id " "$TMPDIR/bot.err")
    [ "$n" = 1 ] || fail "update_id $id: $n update_refused lines, want 1"
    grep -q "update=$id kind" "$TMPDIR/bot.err" && fail "update_id $id was taken"
done
for chat in 5102 5104 5105 5106; do
    grep -q "\"chat_id\": $chat," "$TMPDIR/sent.jsonl" && fail "chat $chat (a bad update_id) was answered"
done
stop_bot
[ "$BOT_STATUS" = 0 ] || fail "exit status $BOT_STATUS"
grep -q 'runtime error' "$TMPDIR/bot.err" && fail "UBSan: $(grep -m1 'runtime error' "$TMPDIR/bot.err")"
# 1000, 1001, 1002 from the scenario, then the injected one
inj=$(grep -o 'chat=5107 update=[0-9]*' "$TMPDIR/bot.err" | head -n 1 | cut -d= -f3)
[ -n "$inj" ] || fail "the injected update was not logged"
grep -q "event=offset_confirmed offset=$((inj + 1)) status=0" "$TMPDIR/bot.err" ||
    fail "offset not confirmed as $((inj + 1)): $(grep offset_confirmed "$TMPDIR/bot.err")"
no_token "$TOKEN" "$TMPDIR/bot.err" "$TMPDIR/bot.out"
kill "$FAKE_PID"

start_fake "$SC/longname.json"
rm -f "$TMPDIR/sent.jsonl"
start_bot name 949494:TEST-name-token-Nn6
for _ in $(seq 100); do kill -0 "$BOT_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$BOT_PID" 2>/dev/null && { stop_bot; fail "a too long username was taken"; }
wait "$BOT_PID"; st=$?
[ "$st" = 1 ] || fail "a too long username: exit $st, want 1"
grep -q 'event=getme_invalid' "$TMPDIR/name.err" || fail "no getme_invalid line: $(cat "$TMPDIR/name.err")"
[ "$(sent_count)" = 0 ] || fail "answered with a cut username"
echo "telegram_ids: all checks passed"
