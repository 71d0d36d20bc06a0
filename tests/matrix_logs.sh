#!/usr/bin/env bash
# matrix_logs.sh -- log privacy (issue 21, item 8; tests/matrix/logs.json):
# after a crisis message and a coaching message, the bot's raw log names
# no rule id, framework or role (next to a room id they record who
# disclosed what: before, every reply line said rule=safety.violence.hit);
# `--log-rules` (debugging) adds them.  What to look for is asked of
# `pushpull reply --json` for the same messages.
set -u
MX_LIB=1 . "$SRC/tests/matrix.sh"
words=$(for m in "my partner hits me when he is angry" "my husband pulls away every time I try to talk"; do
    printf '%s\n' "$m" | "$PUSHPULL" reply --json --no-state --rules "$MX_RULES" |
        python3 -c 'import json,sys; j=json.loads(sys.stdin.readline()); print(j["rule"]); print(j["framework"]); print(j["role"])'
done | sort -u)
case $words in *safety.*) ;; *) mx_fail "the crisis message matched no safety rule: $words";; esac

mx_server logs
mx_bot
mx_wait_file done
mx_stop
mx_check
for w in $words; do
    [ "$w" = none ] && continue
    if grep -q -w -F -- "$w" "$MX_D/bot.log"; then
        mx_fail "the log names '$w' without --log-rules: $(grep -w -F -- "$w" "$MX_D/bot.log" | head -2)"
    fi
done
grep -q -E ' (rule|framework|role|safety)=' "$MX_D/bot.log" && mx_fail "a rule, framework, role or safety field in the log"
echo "logs: no rule, framework or role in $(wc -l <"$MX_D/bot.log") log lines (looked for: $(echo $words))"

mv "$TMPDIR/logs" "$TMPDIR/logs.plain"
mx_server logs
mx_bot --log-rules
mx_wait_file done
mx_stop
mx_check
for w in $words; do
    grep -q -w -F -- "$w" "$MX_D/bot.log" || mx_fail "--log-rules: '$w' is not in the log"
done
grep -q 'event=reply room="!a:example.org" .* rule=safety\.[a-z.-]* framework=[a-z-]* role=[a-z]* safety=1' "$MX_D/bot.log" ||
    mx_fail "--log-rules: the crisis reply line lacks its rule fields"
echo "logs: --log-rules adds them: $(grep -o 'rule=[^ ]* framework=[^ ]* role=[^ ]*' "$MX_D/bot.log" | tr '\n' ';')"
exit 0
