#!/usr/bin/env bash
# failsafe.sh -- no front end serves a rule set without crisis rules
# (issue 18 item 5).  pp_rules_check_crisis asks for a crisis rule (one
# that can fire on a first message) answering suicide or self-harm and one
# answering violence, each with its kind's set (safety.selfharm,
# safety.violence) or the generic `safety`; app_load_rules refuses a set
# without them, naming the rules directory.  For four directories that must
# be refused --
#   empty       no files at all
#   nocrisis    tests/fixtures/nocrisis: loads cleanly, one coaching rule
#   selfharm    tests/fixtures/crisis-kinds without its violence rule
#   shipped-    the shipped rules without their crisis rules (safety*.rules)
# -- reply, chat (piped), check and reframe exit 1 with the error and print
# nothing a user would read as an answer, and both bots exit 1 before they
# open any connection (a listener here counts them), never showing their
# token.  The shipped rules and tests/fixtures/crisis-kinds whole are
# accepted and answer crisis messages with crisis replies (reframe too);
# the bots' start log line gives the rule count and the data directories;
# a SIGHUP onto a set without crisis rules keeps the rules already loaded.
set -u
P=$PUSHPULL
status=0
fail() { echo "FAIL: $*"; status=1; }
FX=$SRC/tests/fixtures
CRISIS="I want to kill myself"
TG_TOKEN=123456:TEST-chat-token-Zq9   # the token tests/telegram/chat.json accepts
MX_TOKEN=syt_Y29hY2g_fakeSecretToken_0001   # tests/matrix/conversation.json
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT

# ---- the directories ------------------------------------------------------
mkdir -p "$TMPDIR/empty"
sel=$TMPDIR/selfharm; mkdir -p "$sel/rules"
# the fixture up to its violence rule, then from the rule after it
awk '/^rule kinds.violence$/{skip=1} /^rule kinds.coach$/{skip=0} !skip' \
    "$FX/crisis-kinds/rules/kinds.rules" >"$sel/rules/kinds.rules"
cp "$FX/crisis-kinds/rules/frameworks.catalog" "$sel/rules/"
grep -q '^rule kinds.selfharm$' "$sel/rules/kinds.rules" && ! grep -q 'kinds.violence' "$sel/rules/kinds.rules" \
    || fail "could not make the self-harm-only set"
shipped_nc=$TMPDIR/shipped-nocrisis; mkdir -p "$shipped_nc"
for f in "$SRC"/rules/*; do
    case $(basename "$f") in safety*.rules) ;; *) cp "$f" "$shipped_nc/";; esac
done
grep -l 'role: crisis' "$shipped_nc"/*.rules >/dev/null 2>&1 && fail "shipped rules outside safety*.rules have crisis rules: the case below tests nothing"

# name, rules dir, responses dir, what the error must say
refused_sets=(
    "empty|$TMPDIR/empty|$TMPDIR/empty|no rules at all, so no crisis rules"
    "nocrisis|$FX/nocrisis/rules|$FX/nocrisis/responses|no crisis rules (role: crisis), only 1 coaching rule"
    "selfharm|$sel/rules|$FX/crisis-kinds/responses|none of the 1 crisis rules answers violence or threats"
    "shipped-nocrisis|$shipped_nc|$SRC/responses|no crisis rules (role: crisis), only "
)

# says NAME FILE RULES WHY: FILE holds the refusal for RULES, exactly
says() {
    grep -qF "pushpull: $3: $4" "$2" || fail "$1: no '$3: $4' in: $(head -c 600 "$2")"
    grep -qF "pushpull: refusing to use the rules in $3: every rule set needs crisis rules" "$2" \
        || fail "$1: no refusal naming $3 in: $(head -c 600 "$2")"
}

# ---- the command-line front ends refuse -----------------------------------
for spec in "${refused_sets[@]}"; do
    IFS='|' read -r name rules resp why <<<"$spec"
    o=$TMPDIR/$name.out e=$TMPDIR/$name.err
    echo "$CRISIS" | "$P" reply --no-state --rules "$rules" --responses "$resp" >"$o" 2>"$e"; rc=$?
    [ $rc -eq 1 ] || fail "$name: reply exited $rc, not 1: $(cat "$o")"
    [ -s "$o" ] && fail "$name: reply answered: $(cat "$o")"
    says "$name: reply" "$e" "$rules" "$why"

    echo "$CRISIS" | "$P" chat --no-state --rules "$rules" --responses "$resp" >"$o" 2>"$e"; rc=$?
    [ $rc -eq 1 ] || fail "$name: chat exited $rc, not 1: $(cat "$o")"
    [ -s "$o" ] && fail "$name: chat printed: $(cat "$o")"
    says "$name: chat" "$e" "$rules" "$why"

    "$P" check --quiet --rules "$rules" --responses "$resp" >"$o" 2>"$e"; rc=$?
    [ $rc -eq 1 ] || fail "$name: check exited $rc, not 1: $(cat "$o")"
    says "$name: check" "$e" "$rules" "$why"

    "$P" reframe --rules "$rules" --responses "$resp" "You never listen and $CRISIS" >"$o" 2>"$e"; rc=$?
    [ $rc -eq 1 ] || fail "$name: reframe exited $rc, not 1: $(cat "$o")"
    [ -s "$o" ] && fail "$name: reframe printed: $(cat "$o")"
    says "$name: reframe" "$e" "$rules" "$why"
done
echo "reply, chat, check and reframe refuse: ${#refused_sets[@]} directories"

# ---- accepted sets answer crisis with crisis ------------------------------
out=$(echo "$CRISIS" | "$P" reply --json --no-state 2>&1) || fail "shipped rules: reply exited $?: $out"
grep -q '"role": *"crisis"' <<<"$out" && grep -q '"safety": *true' <<<"$out" \
    || fail "shipped rules: '$CRISIS' got no crisis reply: $out"
out=$(echo "$CRISIS" | "$P" chat --no-state 2>&1) || fail "shipped rules: chat exited $?: $out"
grep -q 'findahelpline' <<<"$out" || fail "shipped rules: chat gave no crisis resources: $out"
out=$("$P" check --quiet 2>&1) || fail "shipped rules: check exited $?: $(tail -n 5 <<<"$out")"
grep -q "^pushpull: refusing" <<<"$out" && fail "shipped rules: check refused: $(grep "^pushpull: refusing" <<<"$out")"
n_rules=$(sed -n 's/^rules: \([0-9]*\),.*/\1/p' <<<"$out")
[ -n "$n_rules" ] && [ "$n_rules" -gt 0 ] || fail "shipped rules: no rule count from check: $(tail -n 3 <<<"$out")"

ck=$FX/crisis-kinds
out=$(printf '%s\nhe hits me\nhe pulls away\n' "$CRISIS" \
      | "$P" reply --no-state --rules "$ck/rules" --responses "$ck/responses" 2>&1) \
    || fail "crisis-kinds: reply exited $?: $out"
[ "$(grep -c -e SELFHARM-REPLY -e VIOLENCE-REPLY -e COACHING-REPLY <<<"$out")" = 3 ] \
    && grep -q SELFHARM-REPLY <<<"$(sed -n 1p <<<"$out")" && grep -q VIOLENCE-REPLY <<<"$(sed -n 2p <<<"$out")" \
    || fail "crisis-kinds: the three replies are not self-harm, violence, coaching: $out"
"$P" check --quiet --rules "$ck/rules" --responses "$ck/responses" >"$TMPDIR/ck.out" 2>&1 \
    || fail "crisis-kinds: check exited $?: $(cat "$TMPDIR/ck.out")"
# the generic `safety` set covers both kinds (tests/fixtures/basic)
"$P" check --quiet --rules "$FX/basic/rules" --responses "$FX/basic/responses" >"$TMPDIR/basic.out" 2>&1 \
    || fail "basic fixture (crisis rules answering from 'safety'): check exited $?: $(cat "$TMPDIR/basic.out")"

# reframe screens each complaint with the crisis rules before rewriting it
out=$("$P" reframe "You never listen and $CRISIS" 2>&1) || fail "reframe exited $?: $out"
grep -q 'findahelpline' <<<"$out" || fail "reframe rewrote a crisis message: $out"
grep -q 'Try saying:' <<<"$out" && fail "reframe gave a rewrite for a crisis message: $out"
out=$(printf 'You never listen\n%s\n' "$CRISIS" | "$P" reframe --json 2>&1) || fail "reframe --json exited $?: $out"
python3 - "$out" <<'PY' || fail "reframe --json: $out"
import json, sys
a, b = [json.loads(l) for l in sys.argv[1].splitlines()]
assert a["horsemen"] == ["criticism"] and "safety" not in a, a
assert list(b) == ["text", "safety", "reply"] and b["safety"] is True, b
assert "findahelpline" in b["reply"], b
PY
out=$("$P" reframe --rules "$ck/rules" --responses "$ck/responses" "he hits me" 2>&1) || fail "reframe --rules exited $?: $out"
grep -q VIOLENCE-REPLY <<<"$out" || fail "reframe --rules did not use the given rules: $out"
echo "accepted: shipped rules ($n_rules rules), crisis-kinds, basic; reframe screens for crisis"

# ---- the bots refuse before any connection ---------------------------------
# A listener that counts the connections made to it.
python3 - "$TMPDIR/listen" <<'PY' &
import socket, sys, os
d = sys.argv[1]; os.makedirs(d, exist_ok=True)
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(16)
open(d + "/port.tmp", "w").write(str(s.getsockname()[1])); os.rename(d + "/port.tmp", d + "/port")
while True:
    c, _ = s.accept()
    with open(d + "/connections", "a") as f: f.write("1\n")
    c.close()
PY
LISTEN_PID=$!; PIDS+=("$LISTEN_PID")
for _ in $(seq 100); do [ -s "$TMPDIR/listen/port" ] && break; sleep 0.1; done
LURL=http://127.0.0.1:$(cat "$TMPDIR/listen/port")
for spec in "${refused_sets[@]}"; do
    IFS='|' read -r name rules resp why <<<"$spec"
    e=$TMPDIR/tg-$name.err
    TELEGRAM_BOT_TOKEN=$TG_TOKEN timeout 15 "$P" telegram --api-url "$LURL" --state "$TMPDIR/tg-$name.db" \
        --rules "$rules" --responses "$resp" >"$e" 2>&1; rc=$?
    [ $rc -eq 1 ] || fail "$name: telegram exited $rc, not 1: $(head -c 600 "$e")"
    says "$name: telegram" "$e" "$rules" "$why"
    grep -q 'event=rules_failed' "$e" || fail "$name: telegram logged no rules_failed"
    grep -qF "$TG_TOKEN" "$e" && fail "$name: telegram printed its token"
    e=$TMPDIR/mx-$name.err
    MATRIX_ACCESS_TOKEN=$MX_TOKEN timeout 15 "$P" matrix --homeserver "$LURL" --state "$TMPDIR/mx-$name.db" \
        --rules "$rules" --responses "$resp" >"$e" 2>&1; rc=$?
    [ $rc -eq 1 ] || fail "$name: matrix exited $rc, not 1: $(head -c 600 "$e")"
    says "$name: matrix" "$e" "$rules" "$why"
    grep -q 'event=rules_failed' "$e" || fail "$name: matrix logged no rules_failed"
    grep -qF "$MX_TOKEN" "$e" && fail "$name: matrix printed its token"
done
# the listener works (so "no connection" means something) -- after the bots
python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5).close()' \
    "$(cat "$TMPDIR/listen/port")"
for _ in $(seq 50); do [ -s "$TMPDIR/listen/connections" ] && break; sleep 0.1; done
n_conn=$(wc -l <"$TMPDIR/listen/connections" 2>/dev/null || echo 0)
[ "$n_conn" = 1 ] || fail "the bots connected before refusing: $((n_conn - 1)) connections (plus the probe)"
kill "$LISTEN_PID"
echo "telegram and matrix refuse before any connection: ${#refused_sets[@]} directories"

# ---- the bots' start log lines ----------------------------------------------
# wait_log FILE REGEX: until FILE has a matching line (or 30 s)
wait_log() {
    local end=$((SECONDS + 30))
    until grep -q -E "$2" "$1" 2>/dev/null; do
        [ $SECONDS -gt $end ] && { fail "no log line matching $2 in $1: $(tail -n 5 "$1")"; return 1; }
        sleep 0.1
    done
}
# the rules are a copy, so that a SIGHUP can find them changed
cp -r "$SRC/rules" "$TMPDIR/rules"
python3 "$SRC/tests/fake_telegram.py" --scenario "$SRC/tests/telegram/chat.json" \
    --port-file "$TMPDIR/tg.port" --log "$TMPDIR/sent.jsonl" 2>"$TMPDIR/fake.err" &
FAKE_PID=$!; PIDS+=("$FAKE_PID")
for _ in $(seq 100); do [ -s "$TMPDIR/tg.port" ] && break; sleep 0.1; done
API=http://127.0.0.1:$(cat "$TMPDIR/tg.port")
TELEGRAM_BOT_TOKEN=$TG_TOKEN "$P" telegram --api-url "$API" --state "$TMPDIR/tg.db" --poll-timeout 5 \
    --rules "$TMPDIR/rules" --responses "$SRC/responses" >"$TMPDIR/tg.out" 2>"$TMPDIR/tg.err" &
BOT_PID=$!; PIDS+=("$BOT_PID")
wait_log "$TMPDIR/tg.err" 'event=started ' || exit 1
line=$(grep -m1 'event=started ' "$TMPDIR/tg.err")
grep -qF " rules=$n_rules " <<<"$line" || fail "telegram: the start line does not say rules=$n_rules: $line"
grep -qE ' crisis_rules=[1-9][0-9]* ' <<<"$line" || fail "telegram: the start line has no crisis rule count: $line"
grep -qF " rules_dir=\"$TMPDIR/rules\"" <<<"$line" || fail "telegram: the start line does not name the rules directory: $line"
grep -qF " responses_dir=\"$SRC/responses\"" <<<"$line" || fail "telegram: the start line does not name the responses directory: $line"
# SIGHUP onto rules without crisis rules: refused, the loaded rules kept
rm "$TMPDIR"/rules/safety*.rules
kill -HUP "$BOT_PID"
wait_log "$TMPDIR/tg.err" 'event=reload_failed' || exit 1
grep -qF "pushpull: refusing to use the rules in $TMPDIR/rules" "$TMPDIR/tg.err" || fail "telegram: the SIGHUP refusal does not name the rules directory"
grep -q 'event=reloaded' "$TMPDIR/tg.err" && fail "telegram: reloaded rules without crisis rules"
kill -0 "$BOT_PID" 2>/dev/null || fail "telegram: the bot stopped on a refused reload"
kill -TERM "$BOT_PID"; wait "$BOT_PID"; rc=$?
[ $rc -eq 0 ] || fail "telegram: SIGTERM exit $rc"
grep -qF "$TG_TOKEN" "$TMPDIR/tg.err" "$TMPDIR/tg.out" && fail "telegram: the token is in its log"
kill "$FAKE_PID" 2>/dev/null
echo "telegram: $line"

MX_D=$TMPDIR/mx; mkdir -p "$MX_D"
python3 "$SRC/tests/fake_matrix.py" serve "$SRC/tests/matrix/conversation.json" "$MX_D" 2>"$MX_D/server.log" &
PIDS+=($!)
for _ in $(seq 100); do [ -s "$MX_D/port" ] && break; sleep 0.1; done
MATRIX_ACCESS_TOKEN=$MX_TOKEN "$P" matrix --homeserver "http://127.0.0.1:$(cat "$MX_D/port")" \
    --state "$MX_D/state.db" --sync-timeout 5000 >"$MX_D/bot.out" 2>"$MX_D/bot.log" &
BOT_PID=$!; PIDS+=("$BOT_PID")
wait_log "$MX_D/bot.log" 'event=start ' || exit 1
line=$(grep -m1 'event=start ' "$MX_D/bot.log")
grep -qF " rules=$n_rules " <<<"$line" || fail "matrix: the start line does not say rules=$n_rules: $line"
grep -qE ' crisis_rules=[1-9][0-9]* ' <<<"$line" || fail "matrix: the start line has no crisis rule count: $line"
# the defaults: the source tree the program runs from
grep -qF " rules_dir=\"$(realpath "$SRC/rules")\"" <<<"$line" || fail "matrix: the start line does not name the rules directory: $line"
grep -qF " responses_dir=\"$(realpath "$SRC/responses")\"" <<<"$line" || fail "matrix: the start line does not name the responses directory: $line"
kill -TERM "$BOT_PID"; wait "$BOT_PID"; rc=$?
[ $rc -eq 0 ] || fail "matrix: SIGTERM exit $rc"
grep -qF "$MX_TOKEN" "$MX_D/bot.log" "$MX_D/bot.out" && fail "matrix: the token is in its log"
echo "matrix: $line"

[ $status -eq 0 ] && echo "failsafe ok"
exit $status
