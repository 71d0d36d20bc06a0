#!/usr/bin/env bash
# programs.sh -- programs and check-ins (issue 24) in the terminal chat,
# with a real state file and the clock moved day by day (PUSHPULL_CLOCK):
# the ten-week plan started, its step asked about and answered, the
# weekly check-in asked unprompted on day 8, scores kept in the checkin
# table, charted in UTF-8 and in ASCII with an honest reading, exported,
# and gone from the raw file after /forget; /plan pause, resume, stop; the
# offer made once; a safety-locked session gets no program prompt; danger
# in a check-in's note gets the safety reply and is not kept; a broken
# program file is reported with file:line and the others load; the REPL
# says on start that a check-in is due.
set -u
: "${PUSHPULL:?}" "${SRC:?}" "${TMPDIR:?}" "${TESTBIN:?}"
export TZ=UTC LANG=C.UTF-8 LC_ALL=C.UTF-8
unset PUSHPULL_REGION
status=0
fail() { echo "FAIL: $*"; status=1; }
D0=1764669600            # Tue 2 Dec 2025, 10:00 UTC
day() { echo $((D0 + ($1 - 1) * 86400)); }
db=$TMPDIR/p.db
# chat DAY [ARGS]: the lines on stdin, piped, on program day DAY
chat() { local d=$1; shift; PUSHPULL_CLOCK=$(day "$d") "$PUSHPULL" chat --state "$db" "$@"; }
sql() { python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print("\n".join("|".join(map(str,r)) for r in c.execute(sys.argv[2])))' "$db" "$1"; }
has() { grep -qF -- "$2" <<<"$1" || fail "$3: no '$2' in: ${1:0:600}"; }
lacks() { ! grep -qF -- "$2" <<<"$1" || fail "$3: '$2' in: ${1:0:600}"; }

# --- 1. the ten-week plan, day by day ----------------------------------------
out=$(printf '/plan\n' | chat 1 2>&1)
has "$out" "/plan ten-weeks" "/plan lists"
has "$out" "/plan notice-the-loop" "/plan lists"
has "$out" "/plan before-you-leave" "/plan lists"
has "$out" "Why We Push Away the People We Love" "the list cites the article"
# a name close to a program's: did you mean, and nothing started
out=$(printf '/plan 10-week\n/plan loop\n/plan distance\n' | chat 1 --no-state 2>&1)
has "$out" 'Did you mean "Ten weeks of small risks"? /plan ten-weeks starts it' "/plan 10-week"
has "$out" "/plan notice-the-loop starts it" "/plan loop"
has "$out" "I don't know a program called distance; /plan lists them." "/plan distance"
out=$(printf '/plan ten-weeks\n6\nwe laughed a lot at dinner\n/plan\n' | chat 1 2>&1)
has "$out" "day 1 of 70" "day 1"
has "$out" "one true feeling" "weeks 1-4: a real feeling a day"
has "$out" "small favour" "weeks 1-4: a small favour"
has "$out" "how connected do you feel" "day 1 is a check-in day"
has "$out" "6 is kept" "the score"
has "$out" "kept that with the score" "the note"
[ "$(sql "SELECT score, note FROM checkin")" = "6|we laughed a lot at dinner" ] || fail "day 1 row: $(sql 'SELECT * FROM checkin')"
# day 2: the first message of the day is coached, then the step is asked about
out=$(printf 'she says I never tell her how I feel\nyes I did, twice\n' | chat 2 2>&1)
has "$out" "did you tell your partner one real feeling yesterday" "day 2 asks how it went"
has "$out" "one small true thing" "the answer 'did' gets its reply"
has "$out" "day 2 of 70" "then today's step"
out=$(printf 'work was hard today\nnot really, I forgot\n' | chat 3 2>&1)
has "$out" "old habit" "the answer 'didnt' gets its reply"
out=$(printf 'hello again\nI tried but it went badly, we argued\n' | chat 4 2>&1)
has "$out" "sorry it went badly" "the gravest kind wins"
# an answer that is no kind of answer is coached instead
out=$(printf 'hi\nhe pulls away every time we get close\n' | chat 5 2>&1)
lacks "$out" "one small true thing" "a story is not an answer"
has "$out" "dance" "a story is coached"
# pause on day 5, resume on day 7: the paused days do not count
out=$(printf '/plan pause\n/plan\n' | chat 5 2>&1)
has "$out" "is paused" "/plan pause"
out=$(printf 'anything\n' | chat 6 2>&1)
lacks "$out" "how connected" "no prompt while paused"
lacks "$out" "yesterday" "no step question while paused"
out=$(printf '/plan resume\n' | chat 7 2>&1)
has "$out" "Welcome back" "/plan resume"
has "$out" "day 5 of 70" "two paused days not counted"
# days 8-10 = program days 6-8: program day 8 is the weekly check-in
for d in 8 9; do printf '/plan\n' | chat $d >/dev/null 2>&1; done
out=$(printf 'we had a quiet evening\n7\nskip\n' | chat 10 2>&1)
has "$out" "check-in day" "program day 8 asks by itself"
has "$out" "7 is kept" "the unasked score"
has "$out" "number says enough" "skip: no note"
# a number in a sentence is not a score unless asked
out=$(printf '/plan\n' | chat 10 2>&1)
has "$out" "day 8 of 70" "program day 8"
[ "$(sql "SELECT count(*) FROM checkin")" = 2 ] || fail "two check-ins kept: $(sql 'SELECT * FROM checkin')"
out=$(printf '/checkin\n12\n8\n' | chat 17 2>&1)
has "$out" "from 1 to 10" "12 is refused"
has "$out" "8 is kept" "then 8"
printf '/checkin\n8/10, a good week\n' | chat 24 >/dev/null 2>&1
printf '/checkin\n9\nno\n' | chat 25 >/dev/null 2>&1
[ "$(sql "SELECT group_concat(score, ' ') FROM checkin")" = "6 7 8 8 9" ] || fail "scores: $(sql 'SELECT * FROM checkin')"
[ "$(sql "SELECT note FROM checkin WHERE score = 8 AND note IS NOT NULL")" = "a good week" ] || fail "the note on the score's line"

# --- 2. the chart and the reading ----------------------------------------------
out=$(printf '/progress\n' | chat 25 2>&1)
echo "$out" >"$TMPDIR/progress-utf8.txt"
has "$out" "5 check-ins since Tue 02 Dec" "the title"
has "$out" "▅▆▇▇█" "the sparkline"
has "$out" "Thu 25 Dec  8 ████████" "a bar row"
has "$out" "3 weeks ago you were mostly at 6; this week 8 and 9." "the reading"
has "$out" "higher than when you started" "the direction"
out=$(printf '/progress\n' | LANG=C LC_ALL=C chat 25 2>&1)
echo "$out" >"$TMPDIR/progress-ascii.txt"
has "$out" "Thu 25 Dec  8 ########" "the ASCII bars"
LC_ALL=C grep -q '[^ -~]' "$TMPDIR/progress-ascii.txt" && fail "the ASCII chart has non-ASCII bytes: $(LC_ALL=C grep -n '[^ -~]' "$TMPDIR/progress-ascii.txt" | head -3)"

# --- 3. export, then /forget on disk --------------------------------------------
PUSHPULL_CLOCK=$(day 25) "$PUSHPULL" export --state "$db" >"$TMPDIR/export.json" 2>&1 || fail "pushpull export"
python3 - "$TMPDIR/export.json" <<'PY' || fail "the export lacks the check-ins: $(head -c 400 "$TMPDIR/export.json")"
import json, sys
d = json.load(open(sys.argv[1]))
c = d["checkins"]
assert [x["score"] for x in c] == [6, 7, 8, 8, 9], c
assert c[0]["day"] == "2025-12-02" and c[0]["note"] == "we laughed a lot at dinner", c[0]
assert d["session"]["plan"]["program"] == "ten-weeks", d["session"]["plan"]
PY
out=$(printf '/export\n' | chat 25 2>&1)
has "$out" '"checkins"' "/export"
printf '/forget\n' | chat 25 >/dev/null 2>&1
[ "$(sql "SELECT count(*) FROM checkin")" = 0 ] || fail "/forget left check-ins"
for f in "$db" "$db-wal"; do
    [ -f "$f" ] && grep -qa "laughed a lot" "$f" && fail "the note is still in the bytes of $f"
done
out=$(printf '/plan\n' | chat 25 2>&1)
has "$out" "/plan ten-weeks" "/forget ended the program"

# --- 4. the offer: once, never again ---------------------------------------------
out=$(printf 'I want to learn to let my partner in, where do I start?\nI need space but I want to let her in\nI find it so hard to open up to her\nI want to be more open with her\nhow do I let her in\n' | chat 1 --session offer --new 2>&1)
out2=$(printf 'I want to let her in more\nhow do I open up to her\nwe keep going round in circles\nI pull back and she chases\n' | chat 2 --session offer 2>&1)
all="$out$out2"
[ "$(grep -c "no need to answer if not" <<<"$out")" -ge 1 ] || fail "no offer after a framework came up three times: ${out:0:1500}"
for p in ten-weeks notice-the-loop before-you-leave; do
    n=$(grep -c "/plan $p starts it" <<<"$all")
    [ "$n" -le 1 ] || fail "$p was offered $n times, want at most once"
done

# --- 5. safety first --------------------------------------------------------------
printf '/plan before-you-leave\nmy husband hit me and I am scared\n' | chat 1 --session unsafe --new >/dev/null 2>&1
out=$(printf 'hello\n/checkin\n/plan\n' | chat 2 --session unsafe 2>&1)
lacks "$out" "how connected" "a locked session got the check-in question"
lacks "$out" "yesterday" "a locked session got the step question"
lacks "$out" "day 2 of" "a locked session got the day's step"
has "$out" "safety matters more" "/checkin and /plan when locked"
# danger in a check-in's note: the safety reply, nothing kept
out=$(printf '/checkin\n3\nhe hit me again last night\n' | chat 3 --session note --new 2>&1)
has "$out" "3 is kept" "the score before the note"
lacks "$out" "kept that with the score" "a dangerous note was kept"
grep -qiE "emergency|hotline|crisis|safe" <<<"$(tail -n 8 <<<"$out")" || fail "no safety reply to the note: ${out:0:800}"
[ "$(sql "SELECT count(*) FROM checkin WHERE note IS NOT NULL AND key = 'cli:note'")" = 0 ] || fail "the dangerous note is on disk"
out=$(printf '/checkin\n2, I want to kill myself\n' | chat 3 --session note2 --new 2>&1)
lacks "$out" "is kept" "a dangerous score line was kept"
[ "$(sql "SELECT count(*) FROM checkin WHERE key = 'cli:note2'")" = 0 ] || fail "the dangerous score line is on disk"

# a question after the score is coached, not kept as its note
out=$(printf '/checkin\n5\nwhy does she always pull away when we get close?\n' | chat 26 --session q --new 2>&1)
lacks "$out" "kept that with the score" "a question was kept as a note"
[ "$(sql "SELECT count(*) FROM checkin WHERE key = 'cli:q' AND note IS NOT NULL")" = 0 ] || fail "the question is on disk as a note"

# --- 6. a broken program file ------------------------------------------------------
mkdir -p "$TMPDIR/progs"
cp "$SRC"/programs/*.program "$TMPDIR/progs/"
cat >"$TMPDIR/progs/broken.program" <<'EOF'
program broken
  title: Broken
  framework: no-such-framework
step days 1-3
  do: something
step weeks 0-2
colour: blue
EOF
out=$(printf '/plan\n' | chat 1 --no-state --programs "$TMPDIR/progs" 2>"$TMPDIR/broken.err")
grep -q "broken.program:3: unknown framework 'no-such-framework'" "$TMPDIR/broken.err" || fail "no file:line for the framework: $(cat "$TMPDIR/broken.err")"
grep -q "broken.program:6: expected 'step day N'" "$TMPDIR/broken.err" || fail "no file:line for the step: $(cat "$TMPDIR/broken.err")"
grep -q "broken.program:7: expected 'program ID'" "$TMPDIR/broken.err" || fail "no file:line for the stray line: $(cat "$TMPDIR/broken.err")"
has "$out" "/plan ten-weeks" "the others load"
lacks "$out" "/plan broken" "the broken one is left out"
out=$(printf '/checkin\n/progress\n' | chat 1 --no-state 2>&1)
has "$out" "no state file" "/checkin without a store says so"

# --- 7. the REPL says on start that a check-in is due ---------------------------------
db2=$TMPDIR/r.db
printf '/plan ten-weeks\n5\nskip\n' | PUSHPULL_CLOCK=$(day 1) "$PUSHPULL" chat --state "$db2" >/dev/null 2>&1
cat >"$TMPDIR/due.script" <<'EOF'
expect how connected do you feel
expect you>
send 6
expect 6 is kept
expect you>
send /progress
expect this week
expect you>
send /quit
exit 0
EOF
PUSHPULL_CLOCK=$(day 8) "$TESTBIN/ptytest" -o "$TMPDIR/due.out" "$TMPDIR/due.script" -- \
    /usr/bin/env TZ=UTC LANG=C.UTF-8 "$PUSHPULL" chat --state "$db2" >/dev/null 2>&1 \
    || fail "the REPL did not say a check-in was due: $(tail -c 1500 "$TMPDIR/due.out")"
cat >"$TMPDIR/notdue.script" <<'EOF'
expect you>
send /quit
exit 0
EOF
PUSHPULL_CLOCK=$(day 9) "$TESTBIN/ptytest" -o "$TMPDIR/notdue.out" "$TMPDIR/notdue.script" -- \
    /usr/bin/env TZ=UTC LANG=C.UTF-8 "$PUSHPULL" chat --state "$db2" >/dev/null 2>&1 || fail "the REPL on day 9"
grep -q "how connected" "$TMPDIR/notdue.out" && fail "the REPL asked on a day that is no check-in day"

[ $status = 0 ] && echo "programs: ten-week plan walked 25 days, 5 check-ins charted (UTF-8, ASCII), exported, forgotten; safety, offer, broken file, REPL greeting"
exit $status
