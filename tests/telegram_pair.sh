#!/usr/bin/env bash
# telegram_pair.sh -- pairing end to end in the fake Telegram server with
# users 201 (who makes the code), 202 (the partner) and 203:
#  - /pair gives a one-time code; a wrong code and one's own are refused;
#    the partner joins with it (in lower case), and both are told;
#  - both get the same daily question; each sees the other's answer only
#    once both answered; nothing said in coaching ever reaches the other;
#  - an answer that reveals danger gets the safety reply, is never kept
#    nor shown, and the locked side goes quiet: the partner sees nothing;
#  - /unpair tells the partner only that it ended; a used code is gone;
#  - /forget by one deletes the link and that user's answers (checked in
#    the raw SQLite file), the partner's stay, and the partner is told.
set -u
. "$SRC/tests/telegram/lib.sh"
TOKEN=525252:TEST-pair-token-Hq7
export PUSHPULL_CLOCK=$TMPDIR/clock
DB=$TMPDIR/state.db
set_clock "2026-12-07 09:00:00"
# ask CHAT TEXT: say it and wait for the answer
ask() { local n; n=$(to_chat "$1"); say "$1" "$2"; wait_chat "$1" $((n + 1)) 20 || fail "no answer to $2"; }
# never CHAT WORD: no message to CHAT ever held WORD
never() { ! grep "\"chat_id\": $1," "$TMPDIR/sent.jsonl" | grep -q -- "$2" || fail "chat $1 was shown $2"; }

start_fake "$SC/pair.json" --clock "$TMPDIR/clock"
start_bot bot "$TOKEN" --poll-timeout 1
ask 201 "/answer"
last_to 201 | grep -q "You're not paired" || fail "/answer unpaired: $(last_to 201)"
ask 201 "/pair"
code=$(last_to 201 | grep -o -E 'code is [A-Z0-9]{8}' | cut -c9-)
[ -n "$code" ] || fail "no code in: $(last_to 201)"
last_to 201 | grep -q "nothing you tell me in our conversation is ever shown to your partner" ||
    fail "/pair does not say the privacy promise"
ask 203 "/pair ZZZZ2222"
last_to 203 | grep -q "That code doesn't work" || fail "a wrong code: $(last_to 203)"
ask 201 "/pair $code"
last_to 201 | grep -q "That's your own code" || fail "one's own code: $(last_to 201)"
ask 201 "my wife goes quiet when I ask about the weekend, SECRET-COACHING-201"
lower=$(echo "$code" | tr 'A-Z' 'a-z')
ask 202 "/pair ${lower:0:4}-${lower:4}"
last_to 202 | grep -q "You're paired now" || fail "joining: $(last_to 202)"
wait_chat 201 5 20 || fail "the code's owner was not told"
last_to 201 | grep -q "Your partner used your code" || fail "owner told: $(last_to 201)"
q1=$(last_to 201 | sed -n 's/^Today.s question: //p')
q2=$(last_to 202 | sed -n 's/^Today.s question: //p')
[ -n "$q1" ] && [ "$q1" = "$q2" ] || fail "not the same question: '$q1' / '$q2'"
ask 203 "/pair $code"
last_to 203 | grep -q "That code doesn't work" || fail "a used code worked again"

ask 201 "/answer I felt lonely on Tuesday ANSWER-201-A"
last_to 201 | grep -q "I've kept your answer for your partner" || fail "first answer: $(last_to 201)"
ask 202 "/answer"
last_to 202 | grep -q "Today's question: $q2" || fail "/answer shows the question: $(last_to 202)"
never 202 ANSWER-201-A
ask 202 "/answer I miss our walks ANSWER-202-A"
last_to 202 | grep -q "ANSWER-201-A" || fail "the second answerer did not see the first: $(last_to 202)"
wait_chat 201 7 20 || fail "the first answerer was not shown the second answer"
last_to 201 | grep -q 'Your partner has answered today.s question too: "I miss our walks ANSWER-202-A"' ||
    fail "the first answerer got: $(last_to 201)"

# the next day: 202 reveals danger in an answer
set_clock "2026-12-08 09:00:00"
ask 202 "/answer he hit me last night when I came home late DANGER-202"
last_to 202 | grep -q -i "safe\|danger\|emergency" || fail "no safety reply: $(last_to 202)"
ask 201 "/answer a good day ANSWER-201-B"
last_to 201 | grep -q "I've kept your answer" || fail "after the partner's lock: $(last_to 201)"
ask 202 "/answer fine now ANSWER-202-B"
last_to 202 | grep -q "nothing from you goes to your partner" || fail "locked /answer: $(last_to 202)"
ask 201 "/answer"
last_to 201 | grep -q "I'll show you your partner's answer once they've answered" || fail "201 saw: $(last_to 201)"
sleep 1.5
never 201 DANGER-202
never 201 ANSWER-202-B
never 202 SECRET-COACHING-201
never 201 "hit me"
python3 - "$DB" <<'PY' || fail "the danger answer was kept"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = db.execute("SELECT answer FROM pair_answer WHERE key = 'telegram:202'").fetchall()
assert all("DANGER" not in r[0] and "ANSWER-202-B" not in r[0] for r in rows), rows
PY

n202=$(to_chat 202)
ask 201 "/unpair"
last_to 201 | grep -q "the pairing has ended" || fail "/unpair: $(last_to 201)"
wait_chat 202 $((n202 + 1)) 20 || fail "the partner was not told of the /unpair"
last_to 202 | grep -q "^The pairing has ended" || fail "partner told: $(last_to 202)"
ask 202 "/answer"
last_to 202 | grep -q "You're not paired" || fail "still paired after /unpair"

# 201 pairs with 203; 203 forgets
ask 201 "/pair"
code=$(last_to 201 | grep -o -E 'code is [A-Z0-9]{8}' | cut -c9-)
ask 203 "/pair $code"
ask 203 "/answer we laughed at dinner ANSWER-203"
ask 203 "/forget"
last_to 203 | grep -q "deleted" || fail "/forget: $(last_to 203)"
for _ in $(seq 50); do last_to 201 | grep -q "^The pairing has ended" && break; sleep 0.2; done
last_to 201 | grep -q "^The pairing has ended" || fail "the partner was not told of the /forget"
stop_bot
[ "$BOT_STATUS" = 0 ] || fail "exit status $BOT_STATUS"
python3 - "$DB" <<'PY' || fail "/forget left pairing rows"
import sqlite3, sys
import os
raw = b"".join(open(f, "rb").read() for f in (sys.argv[1], sys.argv[1] + "-wal") if os.path.exists(f))
assert b"ANSWER-203" not in raw, "203's answer is still in the file's bytes"
db = sqlite3.connect(sys.argv[1])
n = db.execute("SELECT count(*) FROM pair WHERE key = 'telegram:203' OR partner = 'telegram:203' "
               "OR key = 'telegram:201'").fetchone()[0]
assert n == 0, "%d pair rows left" % n
assert db.execute("SELECT count(*) FROM pair_answer WHERE key = 'telegram:203'").fetchone()[0] == 0
assert db.execute("SELECT count(*) FROM pair_code WHERE key = 'telegram:203'").fetchone()[0] == 0
assert db.execute("SELECT count(*) FROM pair_answer WHERE key = 'telegram:201'").fetchone()[0] == 2, \
    "the partner's own answers must stay"
PY
report "$SC/pair.json" --expect 'violations == 0' >"$TMPDIR/r" || { cat "$TMPDIR/r"; fail "rate limits broken"; }
no_token "$TOKEN" "$TMPDIR"/bot*.err
echo "telegram_pair: all checks passed"
