#!/usr/bin/env bash
# telegram_plan.sh -- programs and check-ins through the Telegram bot, over
# real HTTP to the fake Bot API, with the clock set (PUSHPULL_CLOCK):
# day 1, /plan lists and starts the ten-week plan, the day-1 check-in and
# its note and a second /checkin are kept, /progress charts them; a chat
# that disclosed abuse gets no program and no check-in prompt; a chat
# at UTC+14 (/timezone) has its check-in on its own calendar day.  The bot is
# restarted on day 8 (program day 8, a weekly check-in day): the first
# message is answered and followed by the check-in question, the bare
# number is kept, /progress and /export show the scores, and /forget
# leaves no check-in row and no byte of the note in the SQLite file.
set -u
. "$SRC/tests/telegram/lib.sh"
TOKEN=818183:TEST-plan-token-Pp7
D0=1764669600            # Tue 2 Dec 2025, 10:00 UTC
export TZ=UTC
db=$TMPDIR/state.db
text_of() {   # text_of LOG CHAT N: the N-th message (1-based) sent to CHAT
    python3 - "$1" "$2" "$3" <<'PY'
import json, sys
sent = [json.loads(l) for l in open(sys.argv[1])]
t = [s["text"] for s in sent if s["chat_id"] == int(sys.argv[2])]
n = int(sys.argv[3])
print(t[n - 1] if len(t) >= n else "")
PY
}
expect() { grep -qF -- "$3" <<<"$(text_of "$1" "$2" "$4")" || fail "chat $2, answer $4 lacks '$3': $(text_of "$1" "$2" "$4" | head -c 600)"; }
refuse() { ! grep -qF -- "$3" <<<"$(text_of "$1" "$2" "$4")" || fail "chat $2, answer $4 has '$3': $(text_of "$1" "$2" "$4" | head -c 600)"; }

# --- day 1 ---
start_fake "$SC/plan-day1.json"
PUSHPULL_CLOCK=$D0 start_bot bot "$TOKEN" --programs "$SRC/programs"
wait_sent 15 40 || fail "day 1: not every message was answered: $(report "$SC/plan-day1.json")"
sleep 0.5
stop_bot
kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null
L1=$TMPDIR/sent-day1.jsonl; mv "$TMPDIR/sent.jsonl" "$L1"
expect "$L1" 601 "/plan ten-weeks" 1
expect "$L1" 601 "day 1 of 70" 2
expect "$L1" 601 "how connected do you feel" 2
expect "$L1" 601 "6 is kept" 3
expect "$L1" 601 "kept that with the score" 4
expect "$L1" 601 "how connected do you feel" 5
expect "$L1" 601 "7 is kept" 6
expect "$L1" 601 "number says enough" 7
expect "$L1" 601 "2 check-ins since Tue 02 Dec" 8
expect "$L1" 601 "Tue 02 Dec  7 ███████" 8
refuse "$L1" 602 "how connected" 2
refuse "$L1" 602 "day 1 of" 2
expect "$L1" 602 "safety matters more" 2
expect "$L1" 602 "safety matters more" 3
# a user at UTC+14 (10:00 UTC is 00:00 the next day there): the
# check-in is of their day, Wed 03 Dec, not the server's
expect "$L1" 603 "+14:00" 1
expect "$L1" 603 "5 is kept" 3
expect "$L1" 603 "Wed 03 Dec" 4
refuse "$L1" 603 "Tue 02 Dec" 4
rows=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT group_concat(score) FROM checkin WHERE key = ?", ("telegram:601",)).fetchone()[0])' "$db")
[ "$rows" = "6,7" ] || fail "day 1: the kept scores are $rows, want 6,7"

# --- day 8, after a restart ---
start_fake "$SC/plan-day8.json"
PUSHPULL_CLOCK=$((D0 + 7 * 86400)) start_bot bot2 "$TOKEN" --programs "$SRC/programs"
wait_sent 5 40 || fail "day 8: not every message was answered: $(report "$SC/plan-day8.json")"
sleep 0.5
stop_bot
[ "$BOT_STATUS" = 0 ] || fail "exit status $BOT_STATUS"
L8=$TMPDIR/sent.jsonl
expect "$L8" 601 "check-in day" 1
expect "$L8" 601 "how connected do you feel" 1
expect "$L8" 601 "8 is kept" 2
expect "$L8" 601 "3 check-ins since Tue 02 Dec" 3
expect "$L8" 601 "Tue 09 Dec  8 ████████" 3
expect "$L8" 601 '"checkins"' 4
expect "$L8" 601 "kiwi601" 4
expect "$L8" 601 "deleted" 5
python3 - "$db" <<'PY' || fail "/forget left check-ins behind"
import sqlite3, sys
n = sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM checkin WHERE key = 'telegram:601'").fetchone()[0]
sys.exit(1 if n else 0)
PY
for f in "$db" "$db-wal"; do
    [ -f "$f" ] && grep -qa "kiwi601" "$f" && fail "the note is still in the bytes of $f"
done
no_token "$TOKEN" "$TMPDIR/bot.err" "$TMPDIR/bot2.err" "$TMPDIR/bot.out"
echo "telegram_plan: day 1 and day 8 through the fake Bot API: 3 scores kept, charted, exported, forgotten; a locked chat got no prompt"
