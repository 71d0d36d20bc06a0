#!/usr/bin/env bash
# matrix_fallback.sh -- replies in Element's format (tests/matrix/fallback.json):
# the quoted message in front of a reply (the reply fallback) is taken off
# before the coach reads it, so a reply quoting the crisis resources is
# coached on the user's own words (no crisis rule, no partner "Europe"),
# and in a group a reply to the bot counts as addressed to it.
set -u
MX_LIB=1 . "$SRC/tests/matrix.sh"
mx_server fallback
mx_bot --log-rules          # the reply lines name their rule: checked below
mx_wait_file done
mx_stop
mx_check
grep -q 'event_id="$q1[^"]*" .*rule=' "$MX_D/bot.log" || mx_fail "no rule logged for q1 with --log-rules"
if grep -q 'event_id="$q1[^"]*" .*rule=safety' "$MX_D/bot.log"; then
    mx_fail "the quoted crisis resources were matched by a crisis rule"; fi
echo "fallback: replies quoting the bot answered on their own text: $(grep -c 'event=reply ' "$MX_D/bot.log") replies"
exit 0
