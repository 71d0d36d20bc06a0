#!/usr/bin/env bash
# matrix.sh -- the Matrix bot against tests/fake_matrix.py: login (token file
# 0600), a bad token (clear error, exit 1, token never printed), then the
# conversation scenario (tests/matrix/conversation.json: invites, two rooms
# at once, commands, notices and echo ignored, mentions in groups, an
# encrypted room, leaving when alone), a clean SIGTERM, and a restart that
# must answer nothing twice.
#
# Sourced with MX_LIB=1 it only defines the helpers the other matrix_*.sh
# scripts share.
set -u
: "${SRC:?}" "${PUSHPULL:?}" "${TMPDIR:?}"
MX_RULES=${MX_RULES:-$SRC/rules}
MX_RESP=${MX_RESP:-$SRC/responses}
MX_TOKEN=syt_Y29hY2g_fakeSecretToken_0001
MX_SRV_PID=; MX_BOT_PID=
mx_fail() { echo "FAIL: $*"; mx_dump; exit 1; }
mx_dump() {
    [ -n "${MX_D:-}" ] || return 0
    echo "--- bot log (last 30 lines)"; tail -n 30 "$MX_D/bot.log" 2>/dev/null
    echo "--- server log"; tail -n 20 "$MX_D/server.log" 2>/dev/null
}
mx_cleanup() {
    [ -n "$MX_BOT_PID" ] && kill -9 "$MX_BOT_PID" 2>/dev/null
    [ -n "$MX_SRV_PID" ] && kill "$MX_SRV_PID" 2>/dev/null
    MX_BOT_PID=; MX_SRV_PID=
    wait 2>/dev/null
}
trap mx_cleanup EXIT
# mx_server SCENARIO: start the fake homeserver; sets MX_D, MX_URL.
mx_server() {
    mx_cleanup
    MX_SC=$SRC/tests/matrix/$1.json
    MX_D=$TMPDIR/$1; mkdir -p "$MX_D"
    ${MX_PY:-python3} "$SRC/tests/fake_matrix.py" serve "$MX_SC" "$MX_D" 2>"$MX_D/server.log" &
    MX_SRV_PID=$!
    mx_wait_file port 10
    MX_URL=http://127.0.0.1:$(cat "$MX_D/port")
}
# mx_wait_file NAME [SECONDS]: wait for the server (or us) to create it.
mx_wait_file() {
    local end=$((SECONDS + ${2:-45}))
    while [ ! -e "$MX_D/$1" ]; do
        [ $SECONDS -gt $end ] && mx_fail "no $1 after ${2:-45}s"
        sleep 0.1
    done
}
# mx_count NAME: a counter of the fake server (counts in state.json).
mx_count() {
    python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["counts"][sys.argv[2]])' \
        "$MX_D/state.json" "$1"
}
# mx_wait_log REGEX: wait until the bot's log has a matching line.
mx_wait_log() {
    local end=$((SECONDS + 30))
    until grep -q -E "$1" "$MX_D/bot.log"; do
        [ $SECONDS -gt $end ] && mx_fail "no log line matching $1"
        sleep 0.1
    done
}
# mx_wait_caught_up: wait until a sync parks with nothing to deliver.
mx_wait_caught_up() {
    local c0 end=$((SECONDS + 30))
    c0=$(mx_count idle_polls)
    until [ "$(mx_count idle_polls)" -gt "$c0" ]; do
        [ $SECONDS -gt $end ] && mx_fail "the bot never caught up"
        sleep 0.1
    done
}
# mx_bot ARGS...: start the bot in the background (log: $MX_D/bot.log).
mx_bot() {
    MATRIX_ACCESS_TOKEN=${MX_ENV_TOKEN-$MX_TOKEN} "$PUSHPULL" matrix --homeserver "$MX_URL" \
        --state "$MX_D/state.db" --rules "$MX_RULES" --responses "$MX_RESP" \
        --sync-timeout 5000 "$@" 2>>"$MX_D/bot.log" &
    MX_BOT_PID=$!
}
# mx_stop: SIGTERM, which must end the bot with status 0.
mx_stop() {
    kill -TERM "$MX_BOT_PID"; wait "$MX_BOT_PID"; local rc=$?
    MX_BOT_PID=
    [ $rc -eq 0 ] || mx_fail "bot exited with $rc after SIGTERM"
}
mx_kill() { kill -9 "$MX_BOT_PID"; wait "$MX_BOT_PID" 2>/dev/null; MX_BOT_PID=; }
mx_check() {
    ${MX_PY:-python3} "$SRC/tests/fake_matrix.py" check "$MX_SC" "$MX_D/state.json" || mx_fail "scenario $MX_SC"
    if grep -q -F "$MX_TOKEN" "$MX_D/bot.log"; then mx_fail "the access token is in the bot's log"; fi
    if grep -q -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$MX_D/bot.log"; then
        mx_fail "sanitizer report in the bot's log"; fi
}
[ "${MX_LIB:-}" = 1 ] && return 0

# 1. login stores the token in a 0600 file and never prints it.
mx_server conversation
printf 'correct horse\n' >"$TMPDIR/pw"
out=$("$PUSHPULL" matrix login --homeserver "$MX_URL" --user coach --password-file "$TMPDIR/pw" \
      --token-file "$TMPDIR/token" 2>&1) || mx_fail "login: $out"
[ "$(cat "$TMPDIR/token")" = "$MX_TOKEN" ] || mx_fail "login stored the wrong token"
[ "$(stat -c %a "$TMPDIR/token")" = 600 ] || mx_fail "token file mode is $(stat -c %a "$TMPDIR/token")"
case $out in *"$MX_TOKEN"*) mx_fail "login printed the token";; esac
printf 'wrong\n' >"$TMPDIR/badpw"
if "$PUSHPULL" matrix login --homeserver "$MX_URL" --user coach --password-file "$TMPDIR/badpw" \
      --token-file "$TMPDIR/token2" >"$TMPDIR/badlogin" 2>&1; then mx_fail "a wrong password logged in"; fi
grep -q M_FORBIDDEN "$TMPDIR/badlogin" || mx_fail "bad login: $(cat "$TMPDIR/badlogin")"
[ ! -e "$TMPDIR/token2" ] || mx_fail "a failed login wrote a token file"
echo "login: token file 0600, token never printed, wrong password refused"

# 2. a bad token: clear error, exit 1, the token never shown.
bad=syt_bad_SECRET_9f8e7d6c
set +e
MATRIX_ACCESS_TOKEN=$bad "$PUSHPULL" matrix --homeserver "$MX_URL" --state "$TMPDIR/bad.db" \
    --rules "$MX_RULES" --responses "$MX_RESP" >"$TMPDIR/bad.out" 2>&1
rc=$?
[ $rc -eq 1 ] || { cat "$TMPDIR/bad.out"; mx_fail "bad token: exit $rc, want 1"; }
grep -q "M_UNKNOWN_TOKEN" "$TMPDIR/bad.out" || mx_fail "bad token: no clear message: $(cat "$TMPDIR/bad.out")"
if grep -q -F "$bad" "$TMPDIR/bad.out"; then mx_fail "bad token: the token was printed"; fi
echo "bad token: exit 1, message: $(grep -m1 M_UNKNOWN_TOKEN "$TMPDIR/bad.out")"

# 3. the conversation scenario, with the token from the login's file.
MX_ENV_TOKEN= mx_bot --token-file "$TMPDIR/token" --allow '@*:example.org'
mx_wait_file done 50
mx_stop
mx_check
grep -q 'event=invite .*action=decline' "$MX_D/bot.log" || mx_fail "no declined invite in the log"
grep -q 'event=leave .*reason=alone' "$MX_D/bot.log" || mx_fail "did not leave the empty room"
if grep -q 'pulls away' "$MX_D/bot.log"; then mx_fail "message text in the log without --log-text"; fi
n=$(grep -c 'event=reply ' "$MX_D/bot.log")
echo "conversation: $n replies logged, scenario checks passed"

# 4. restart on the same state: the cursor resumes, nothing is answered twice.
cp "$MX_D/state.json" "$TMPDIR/before.json"
MX_ENV_TOKEN= mx_bot --token-file "$TMPDIR/token" --allow '@*:example.org'
mx_wait_log 'event=start .*resume=yes'
mx_wait_caught_up
mx_stop
python3 - "$TMPDIR/before.json" "$MX_D/state.json" <<'PY' || mx_fail "restart answered again"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
assert len(a["sent"]) == len(b["sent"]), (len(a["sent"]), len(b["sent"]))
assert b["counts"]["send"] == a["counts"]["send"], "resent after restart"
print("restart: %d bot messages before and after, no send" % len(b["sent"]))
PY
exit 0
