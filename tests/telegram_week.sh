#!/usr/bin/env bash
# telegram_week.sh -- a week of reminders and shared questions for a
# paired couple (301 and 302, both in Europe/Berlin, /remind 20:00), the
# fake clock moved a day at a time: each gets exactly one reminder a day,
# at 20:00 Berlin, with that day's question (a new one each day, the same
# for both); each sees the other's answer only once both answered; on the
# day only one answers, the other's answer is never shown.  302 follows a
# program (notice-the-loop), so 302's reminder is that day's step
# (pp_plan_nudge), 301's the check-in question.  Prints the
# fake server's transcript (fake time, chat, what the bot sent).
set -u
. "$SRC/tests/telegram/lib.sh"
TOKEN=535353:TEST-week-token-Wk4
export PUSHPULL_CLOCK=$TMPDIR/clock
set_clock "2026-12-07 08:00:00"
ask() { local n; n=$(to_chat "$1"); say "$1" "$2"; wait_chat "$1" $((n + 1)) 20 || fail "no answer to $2"; }

start_fake "$SC/week.json" --clock "$TMPDIR/clock"
start_bot bot "$TOKEN" --poll-timeout 1 --programs "$SRC/programs"
for c in 301 302; do ask $c "/timezone Europe/Berlin"; ask $c "/remind 20:00"; done
ask 302 "/plan notice-the-loop"                 # 302's reminder is the program's step
ask 301 "/pair"
code=$(last_to 301 | grep -o -E 'code is [A-Z0-9]{8}' | cut -c9-)
n301=$(to_chat 301)
ask 302 "/pair $code"
wait_chat 301 $((n301 + 1)) 20 || fail "301 was not told of the pairing"
sleep 1.2
for d in 07 08 09 10 11 12 13; do
    a=$(to_chat 301); b=$(to_chat 302)
    set_clock "2026-12-$d 19:00:20"                     # 20:00:20 in Berlin
    wait_chat 301 $((a + 1)) 15 || fail "no reminder to 301 on the $d"
    wait_chat 302 $((b + 1)) 15 || fail "no reminder to 302 on the $d"
    last_to 301 | grep -q "Today's question for you both" || fail "no shared question on the $d"
    set_clock "2026-12-$d 19:20:00"
    ask 301 "/answer day $d from Ann: WEEK-301-$d"
    if [ "$d" != 10 ]; then
        ask 302 "/answer day $d from Ben: WEEK-302-$d"
        wait_chat 301 $((a + 3)) 15 || fail "301 was not shown 302's answer on the $d"
    fi
done
sleep 1.2
stop_bot
[ "$BOT_STATUS" = 0 ] || fail "exit status $BOT_STATUS"
python3 - "$TMPDIR/sent.jsonl" <<'PY' || fail "the week went wrong"
import json, re, sys, datetime
sent = [json.loads(l) for l in open(sys.argv[1])]
bad = []
berlin = datetime.timezone(datetime.timedelta(hours=1))     # CET, no DST in December
print("fake time (Berlin)  to   what the bot sent")
for m in sent:
    t = datetime.datetime.fromtimestamp(m["clock"], berlin).strftime("%a %d %b %H:%M")
    first = m["text"].replace("\n", " ")
    print("%-19s %-4d %s" % (t, m["chat_id"], first[:150] + ("..." if len(first) > 150 else "")))
for chat in (301, 302):
    rem = [m for m in sent if m["chat_id"] == chat and "Today's question for you both" in m["text"]]
    checkin = [m for m in rem if m["text"].startswith("Your daily check-in")]
    if chat == 301 and len(checkin) != len(rem):
        bad.append("301 (no program) did not get the check-in question each day")
    if chat == 302 and checkin:
        bad.append("302 (in a program) got the check-in question instead of the step")
    days = [datetime.datetime.fromtimestamp(m["clock"], berlin).strftime("%d %H") for m in rem]
    if days != ["%02d 20" % d for d in range(7, 14)]:
        bad.append("chat %d: reminders at %s, want one a day at 20:00, 7-13 December" % (chat, days))
qs = {}
for m in sent:
    if "Today's question for you both" in m["text"]:
        q = re.search(r"Today's question for you both: (.*?) Answer with", m["text"], re.S)
        qs.setdefault(m["clock"] // 86400, set()).add(q.group(1) if q else None)
if any(len(v) != 1 or None in v for v in qs.values()) or len(set(min(v) for v in qs.values())) != 7:
    bad.append("not one shared question a day, a new one each day: %r" % qs)
for m in sent:
    if m["chat_id"] == 301 and "WEEK-302-10" in m["text"]:
        bad.append("301 saw an answer of a day 302 did not answer")
    if m["chat_id"] == 302 and "WEEK-301-10" in m["text"]:
        bad.append("302 was shown 301's answer although 302 never answered on the 10th")
for b in bad:
    print("BAD:", b)
sys.exit(1 if bad else 0)
PY
report "$SC/week.json" --expect 'violations == 0' >"$TMPDIR/r" || { cat "$TMPDIR/r"; fail "rate limits broken"; }
echo "telegram_week: all checks passed"
