#!/usr/bin/env bash
# matrix_faults.sh -- the Matrix bot under a 429 storm (both hint styles),
# 500s and dropped connections (tests/matrix/faults.json), plus SIGHUP: a
# reload that works and one that fails (the old rules keep answering).
set -u
MX_LIB=1 . "$SRC/tests/matrix.sh"
rules=$TMPDIR/rules
mkdir -p "$rules"
cp "$MX_RULES"/*.rules "$MX_RULES"/*.lexicon "$MX_RULES"/*.catalog "$rules/"   # the lexicon: clause: lines need it; the catalogue: framework: lines
MX_RULES=$rules
mx_server faults
mx_bot --log-text
mx_wait_file phase1
kill -HUP "$MX_BOT_PID"
mx_wait_log 'event=reload status=ok'
touch "$MX_D/hup1"
mx_wait_file phase2
printf 'rule broken rule\n  role: nonsense\n  match: ((\n' >"$rules/zz-broken.rules"
kill -HUP "$MX_BOT_PID"
mx_wait_log 'event=reload status=failed'
touch "$MX_D/hup2"
mx_wait_file done
mx_stop
mx_check
grep -q 'zz-broken.rules' "$MX_D/bot.log" || mx_fail "the failed reload did not log its errors"
grep -q 'text="and I panic' "$MX_D/bot.log" || mx_fail "--log-text did not log the text"
echo "faults: $(mx_count 429) x 429, $(mx_count 500) x 500, $(mx_count drop) dropped, $(grep -c 'event=rate_limited' "$MX_D/bot.log") waits logged, 0 early retries"
exit 0
