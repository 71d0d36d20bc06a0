#!/usr/bin/env bash
# telegram_send_failed.sh -- honest send failures.  Before, a reply that
# finally failed (12 retries of 5xx, or a 403/400) was logged event=reply
# and its update confirmed: the user never got an answer and the operator
# never knew.  Now:
#  1. a 403 (the user blocked the bot) and a 400 are final: logged
#     event=send_failed reason=blocked|refused status=..., never
#     event=reply, and the offset moves past them; the next messages of the
#     chat are answered;
#  2. an outage (500s) keeps the update unconfirmed and retried: a SIGKILL
#     in the middle and a restart, and the reply goes out once the server
#     is back, with no send_failed;
#  3. an outage longer than --keep-unsent gives the update up: event=
#     send_failed reason=outage action=dropped, and the offset moves on.
set -u
. "$SRC/tests/telegram/lib.sh"
TOKEN=484848:TEST-sendfail-token-Hw5
base=$TMPDIR
scenario() {   # scenario NAME FAULTS-JSON TEXT...: a private chat 71 saying TEXT...
    local name=$1 faults=$2; shift 2
    python3 - "$TOKEN" "$faults" "$@" >"$base/$name.json" <<'PY'
import json, sys
tok, faults, texts = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3:]
print(json.dumps({"token": tok, "bot": {"id": 777, "username": "pushpull_test_bot"},
                  "updates": [{"message": {"chat": {"id": 71, "type": "private"}, "text": t}} for t in texts],
                  "faults": faults}))
PY
    TMPDIR=$base/$name; mkdir -p "$TMPDIR"
}

# 1. 403 then 400: final, logged as failures, the offset moves on
scenario refused '[{"method": "sendMessage", "call": 1, "kind": "403"}, {"method": "sendMessage", "call": 3, "kind": "400"}]' \
    "my wife pulls away every time we get close" "I text her all the time when she goes quiet" \
    "she says I am too much for her" "what can I do"
start_fake "$base/refused.json"
start_bot bot "$TOKEN"
wait_sent 2 30 || fail "refused: the messages after the refusals were not answered"
for _ in $(seq 50); do grep -q 'event=send_failed .*update=1002' "$TMPDIR/bot.err" && break; sleep 0.1; done
stop_bot
[ "$BOT_STATUS" = 0 ] || fail "refused: exit status $BOT_STATUS"
grep -q 'event=send_failed chat=71 update=1000 reason=blocked status=403 attempts=1 .*msg="Forbidden: bot was blocked by the user" action=dropped' \
    "$TMPDIR/bot.err" || fail "refused: the 403 was not logged as send_failed reason=blocked"
grep -q 'event=send_failed chat=71 update=1002 reason=refused status=400 ' "$TMPDIR/bot.err" ||
    fail "refused: the 400 was not logged as send_failed reason=refused"
grep -q 'event=reply chat=71 update=100[02] ' "$TMPDIR/bot.err" && fail "refused: a failed send logged as event=reply"
grep -q 'event=reply chat=71 update=1001 ' "$TMPDIR/bot.err" || fail "refused: update 1001 not answered"
grep -q 'event=offset_confirmed offset=1004 status=0' "$TMPDIR/bot.err" || fail "refused: the offset did not move past the refused updates"
[ "$(sent_count)" = 2 ] || fail "refused: $(sent_count) sent, want 2"
no_token "$TOKEN" "$TMPDIR/bot.err"
echo "refused: $(grep -o 'event=send_failed .*update=1000 reason=[a-z]* status=[0-9]*' "$TMPDIR/bot.err"); 400 likewise; offset 1004 confirmed"

# 2. an outage: 12 sends answered 500; a SIGKILL during it; the reply goes out once it is over
scenario outage "[{\"method\": \"sendMessage\", \"calls\": $(python3 -c 'print(list(range(1, 13)))'), \"kind\": \"500\"}]" \
    "my wife pulls away every time we get close"
start_fake "$base/outage.json"
start_bot bot "$TOKEN" --max-backoff 1
for _ in $(seq 100); do [ "$(grep -c 'event=send_retry' "$TMPDIR/bot.err")" -ge 3 ] && break; sleep 0.1; done
[ "$(grep -c 'event=send_retry' "$TMPDIR/bot.err")" -ge 3 ] || fail "outage: no retries"
kill -KILL "$BOT_PID"; wait "$BOT_PID" 2>/dev/null
report "$base/outage.json" --expect 'confirmed_offset in (None, 0, 1000)' >/dev/null ||
    fail "outage: the update was confirmed while its reply had not gone out"
mv "$TMPDIR/bot.err" "$TMPDIR/bot1.err"
start_bot bot "$TOKEN" --max-backoff 1
wait_sent 1 40 || fail "outage: the reply never went out after the outage"
stop_bot
[ "$BOT_STATUS" = 0 ] || fail "outage: exit status $BOT_STATUS"
grep -q 'event=send_failed' "$TMPDIR/bot1.err" "$TMPDIR/bot.err" && fail "outage: a kept update was logged as failed"
grep -q 'event=reply chat=71 update=1000 ' "$TMPDIR/bot.err" || fail "outage: no reply logged after the restart"
grep -q 'event=offset_confirmed offset=1001 status=0' "$TMPDIR/bot.err" || fail "outage: offset not confirmed after the reply"
echo "outage: $(cat "$TMPDIR"/bot*.err | grep -c 'event=send_retry') retries across a SIGKILL, the update kept unconfirmed, answered once when the server was back"

# 3. an outage longer than --keep-unsent: given up, logged, the offset moves on
scenario bound "[{\"method\": \"sendMessage\", \"calls\": $(python3 -c 'print(list(range(1, 500)))'), \"kind\": \"500\"}]" \
    "my wife pulls away every time we get close"
start_fake "$base/bound.json"
start_bot bot "$TOKEN" --max-backoff 1 --keep-unsent 3
for _ in $(seq 100); do grep -q "event=send_failed" "$TMPDIR/bot.err" 2>/dev/null && break; sleep 0.1; done
stop_bot
grep -q 'event=send_failed chat=71 update=1000 reason=outage status=500 attempts=[0-9]* .*action=dropped' "$TMPDIR/bot.err" ||
    fail "bound: no send_failed reason=outage after --keep-unsent 3"
grep -q 'event=reply chat=71' "$TMPDIR/bot.err" && fail "bound: logged as event=reply"
grep -q 'event=offset_confirmed offset=1001 status=0' "$TMPDIR/bot.err" || fail "bound: the offset did not move on"
echo "bound: $(grep -o 'event=send_failed .* attempts=[0-9]*' "$TMPDIR/bot.err"), offset 1001 confirmed"
exit 0
