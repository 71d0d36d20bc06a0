#!/usr/bin/env bash
# telegram_logs.sh -- log privacy (issue 21, item 8; tests/telegram/logs.json):
# after a crisis message and a coaching message, the bot's raw log names
# no rule id, framework or role (next to a chat id they record who
# disclosed what); `--log-rules` (debugging) adds them.  What to look for
# is asked of `pushpull reply --json` for the same messages, so the check
# follows the rules as they change.
set -u
. "$SRC/tests/telegram/lib.sh"
TOKEN=929294:TEST-logs-token-Zx2
crisis="my partner hits me when he is angry"
coach="my husband pulls away every time I try to talk"
# words: the rule, framework and role of each message, as the engine says
words=$(for m in "$crisis" "$coach"; do
    printf '%s\n' "$m" | "$PUSHPULL" reply --json --no-state --rules "$SRC/rules" |
        python3 -c 'import json,sys; j=json.loads(sys.stdin.readline()); print(j["rule"]); print(j["framework"]); print(j["role"])'
done | sort -u)
case $words in *safety.*) ;; *) fail "the crisis message matched no safety rule: $words";; esac

run_once() {   # NAME [bot args]: both messages answered, then SIGTERM
    local name=$1; shift
    rm -f "$TMPDIR/state.db" "$TMPDIR/sent.jsonl"
    start_fake "$SC/logs.json"
    start_bot "$name" "$TOKEN" "$@"
    wait_sent 2 20 || fail "$name: the two messages were not answered"
    stop_bot
    kill "$FAKE_PID"; wait "$FAKE_PID" 2>/dev/null
    grep -q 'event=reply chat=6161 ' "$TMPDIR/$name.err" || fail "$name: no reply line for the crisis chat"
}

run_once plain
for w in $words; do
    [ "$w" = none ] && continue
    if grep -q -w -F -- "$w" "$TMPDIR/plain.err"; then
        fail "the log names '$w' without --log-rules: $(grep -w -F -- "$w" "$TMPDIR/plain.err" | head -2)"
    fi
done
grep -q -E ' (rule|framework|role|safety)=' "$TMPDIR/plain.err" && fail "a rule, framework, role or safety field in the log"
echo "telegram_logs: no rule, framework or role in $(wc -l <"$TMPDIR/plain.err") log lines (looked for: $(echo $words))"

run_once debug --log-rules
for w in $words; do
    grep -q -w -F -- "$w" "$TMPDIR/debug.err" || fail "--log-rules: '$w' is not in the log"
done
grep -q 'event=reply chat=6161 .* rule=safety\.[a-z.-]* framework=[a-z-]* role=[a-z]* safety=1' "$TMPDIR/debug.err" ||
    fail "--log-rules: the crisis reply line lacks its rule fields"
no_token "$TOKEN" "$TMPDIR"/*.err
echo "telegram_logs: --log-rules adds them: $(grep -o 'rule=[^ ]* framework=[^ ]* role=[^ ]*' "$TMPDIR/debug.err" | tr '\n' ';')"
