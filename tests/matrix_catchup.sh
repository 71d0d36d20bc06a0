#!/usr/bin/env bash
# matrix_catchup.sh -- catch-up after a stop (tests/matrix/catchup.json): 80
# messages sent into a DM while the bot is down, more than the sync
# filter's timeline limit of 50, so the first sync after the start comes
# "limited"; the bot pages back through /messages from prev_batch down to
# its saved position and answers all 80 exactly once, in order (before:
# 50 answered, 30 never seen).  Then a SIGKILL in the middle of a second
# catch-up: the restart pages back again and answers nothing twice.
set -u
MX_LIB=1 . "$SRC/tests/matrix.sh"
mx_server catchup
mx_bot
mx_wait_log 'event=reply '
mx_stop
touch "$MX_D/stopped"
mx_wait_file sent
mx_bot
mx_wait_file phase1 60
mx_stop
touch "$MX_D/stopped2"
mx_wait_file sent2
n0=$(grep -c 'event=reply ' "$MX_D/bot.log")
mx_bot
end=$((SECONDS + 30))
until [ "$(grep -c 'event=reply ' "$MX_D/bot.log")" -ge $((n0 + 20)) ]; do
    [ $SECONDS -gt $end ] && mx_fail "the second catch-up made no progress"; sleep 0.1; done
mx_kill
killed_at=$(($(grep -c 'event=reply ' "$MX_D/bot.log") - n0))
mx_bot
mx_wait_file done 60
mx_stop
mx_check
grep -q 'event=catch_up room="!dm:example.org" events=[0-9]* pages=[0-9]* complete=yes' "$MX_D/bot.log" ||
    mx_fail "no complete catch-up logged"
python3 - "$MX_D/state.json" <<'PY' || mx_fail "the 80 were not answered in order"
import json, sys
st = json.load(open(sys.argv[1]))
want = ["c%d" % i for i in range(1, 81)] + ["d%d" % i for i in range(1, 81)]
def fnv(s):
    h = 0xcbf29ce484222325
    for b in s.encode():
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return "pp.%016x" % h
txn = {fnv(eid): lab for lab, eid in st["labels"].items()}
got = [txn[s["txn"]] for s in st["sent"] if s["room_id"] == "!dm:example.org" and s["txn"] in txn]
got = [g for g in got if g[0] in "cd"]
assert got == want, got[:10]
print("catch-up: c1..c80 and d1..d80 answered in order")
PY
echo "catch-up: $(grep -o 'event=catch_up .*' "$MX_D/bot.log" | head -1); SIGKILL after $killed_at of the second 80; $(mx_count messages) /messages call(s), 162 replies, each once"
exit 0
