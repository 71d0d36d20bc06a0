#!/usr/bin/env bash
# bots_lock.sh -- one bot per state file.  Two instances on one state
# database each answered part of a room's messages and lost session
# updates; now the second refuses to start (exit 1, naming the state file
# and the pid holding its lock) while the first goes on answering: the
# Matrix bot (tests/matrix/lock.json) and the Telegram bot (a message
# injected after the refusal is answered by the first).  A lock left by a
# SIGKILLed bot is no lock: the next start takes it.
set -u
MX_LIB=1 . "$SRC/tests/matrix.sh"

# Matrix
mx_server lock
mx_bot
mx_wait_log 'event=start '
first=$MX_BOT_PID
set +e
MATRIX_ACCESS_TOKEN=$MX_TOKEN timeout 20 "$PUSHPULL" matrix --homeserver "$MX_URL" --state "$MX_D/state.db" \
    --rules "$MX_RULES" --responses "$MX_RESP" >"$MX_D/second.out" 2>&1
rc=$?
[ $rc -eq 1 ] || { cat "$MX_D/second.out"; mx_fail "matrix: the second instance exited $rc, want 1"; }
grep -q "another instance is running on the state file $MX_D/state.db (pid $first holds $MX_D/state.db.lock)" \
    "$MX_D/second.out" || mx_fail "matrix: no clear refusal: $(cat "$MX_D/second.out")"
grep -q -F "$MX_TOKEN" "$MX_D/second.out" && mx_fail "matrix: the token in the refusal"
echo "matrix: $(grep -m1 'another instance' "$MX_D/second.out")"
touch "$MX_D/second_refused"
mx_wait_file done
kill -0 "$first" || mx_fail "the first instance died"
mx_kill
mx_check
echo "matrix: the first instance answered both messages, each once"
# the lock of a killed bot is free
mx_bot
mx_wait_log 'event=start .*resume=yes'
mx_stop

# Telegram
mx_cleanup
trap - EXIT
. "$SRC/tests/telegram/lib.sh"
TOKEN=373737:TEST-lock-token-Lq2
cat >"$TMPDIR/tg.json" <<JSON
{"token": "$TOKEN", "bot": {"id": 777, "username": "pushpull_test_bot"},
 "updates": [{"message": {"chat": {"id": 61, "type": "private"}, "text": "my wife pulls away every time we get close"}}]}
JSON
start_fake "$TMPDIR/tg.json"
start_bot bot1 "$TOKEN"
wait_sent 1 30 || fail "telegram: the first instance did not answer"
first=$BOT_PID
TELEGRAM_BOT_TOKEN=$TOKEN timeout 20 "$PUSHPULL" telegram --api-url "$API" --state "$TMPDIR/state.db" \
    --rules "$SRC/rules" --poll-timeout 5 >"$TMPDIR/bot2.out" 2>"$TMPDIR/bot2.err"
rc=$?
[ $rc -eq 1 ] || { cat "$TMPDIR/bot2.err"; fail "telegram: the second instance exited $rc, want 1"; }
grep -q "another instance is running on the state file $TMPDIR/state.db (pid $first holds $TMPDIR/state.db.lock)" \
    "$TMPDIR/bot2.err" || fail "telegram: no clear refusal: $(cat "$TMPDIR/bot2.err")"
no_token "$TOKEN" "$TMPDIR/bot2.err" "$TMPDIR/bot2.out"
echo "telegram: $(grep -m1 'another instance' "$TMPDIR/bot2.err")"
python3 - "$API" <<'PY'
import json, sys, urllib.request
ups = [{"message": {"chat": {"id": 61, "type": "private"}, "text": "I text her all the time when she goes quiet"}}]
urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/admin/inject",
    data=json.dumps({"updates": ups}).encode(), headers={"Content-Type": "application/json"})).read()
PY
wait_sent 2 30 || fail "telegram: the first instance stopped answering"
stop_bot
[ "$BOT_STATUS" = 0 ] || fail "telegram: exit status $BOT_STATUS"
[ "$(sent_count)" = 2 ] || fail "telegram: $(sent_count) replies, want 2"
echo "telegram: the first instance answered both messages"

# without --state the lock sits beside the default state file
# ($XDG_STATE_HOME/pushpull/state.db), never as "(null).lock" in the
# working directory, so two bots started from different directories on
# the default file still exclude each other
mkdir -p "$TMPDIR/cwd" "$TMPDIR/xdg"
(cd "$TMPDIR/cwd" && XDG_STATE_HOME=$TMPDIR/xdg TELEGRAM_BOT_TOKEN=$TOKEN timeout 3 "$PUSHPULL" telegram \
    --api-url http://127.0.0.1:9 --rules "$SRC/rules" >/dev/null 2>&1)
[ -z "$(ls -A "$TMPDIR/cwd")" ] || fail "telegram left $(ls -A "$TMPDIR/cwd") in its working directory"
[ -f "$TMPDIR/xdg/pushpull/state.db.lock" ] || fail "no lock beside the default state file: $(ls -A "$TMPDIR/xdg/pushpull" 2>&1)"
echo "telegram: the default state file's lock is $TMPDIR/xdg/pushpull/state.db.lock"
exit 0
