#!/usr/bin/env bash
# reframe.sh -- `pushpull reframe` end to end: arguments, stdin, --json,
# --help, exit statuses, hostile bytes.  The library's behaviour is covered
# by tests/unit/test_reframe.c; this checks the program around it.
set -eu
P=$PUSHPULL
fail() { echo "FAIL: $*" >&2; exit 1; }

# --help: exit 0, usage on stdout
out=$("$P" reframe --help) || fail "--help exit status $?"
grep -q "usage: pushpull reframe" <<<"$out" || fail "--help text"

# unknown option: exit 2
set +e; "$P" reframe --bogus >/dev/null 2>"$TMPDIR/err"; rc=$?; set -e
[ "$rc" -eq 2 ] || fail "unknown option exit $rc"
grep -q "unknown option" "$TMPDIR/err" || fail "unknown option message"

# plain output from the arguments
out=$("$P" reframe You never plan anything for us)
grep -qx "Found: criticism" <<<"$out" || fail "plain: Found line: $out"
grep -q "^- Criticism: " <<<"$out" || fail "plain: criticism note"
grep -qx "Try saying:" <<<"$out" || fail "plain: Try saying"
grep -qx "  I feel lonely when you don't plan anything for us. I need time with you. Could we keep Thursday evenings just for us?" <<<"$out" \
    || fail "plain: rewrite: $out"

# already gentle: praised, kept
out=$("$P" reframe "I feel lonely when we don't talk in the evenings. Could we have dinner together on Friday?")
grep -q "already a gentle start-up" <<<"$out" || fail "gentle praise"
grep -qx "Keep saying:" <<<"$out" || fail "gentle: Keep saying"

# stdin, one complaint per line, blank lines skipped, hostile bytes, --json
printf 'You always leave your dishes in the sink\n\n   \nFine.\nhello\n\xff\xfe you\x00 never \x01 listen\n' \
    | "$P" reframe --json >"$TMPDIR/out.jsonl" || fail "--json stdin exit $?"
python3 - "$TMPDIR/out.jsonl" <<'PY' || exit 1
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
assert len(rows) == 4, len(rows)
for r in rows:
    assert list(r) == ["text", "horsemen", "rewrite", "notes", "gentle", "template"], list(r)
    assert isinstance(r["notes"], list) and all(isinstance(n, str) for n in r["notes"]) and r["notes"]
    assert isinstance(r["gentle"], bool) and isinstance(r["template"], bool)
a, b, c, d = rows
assert a["horsemen"] == ["criticism"], a
assert a["rewrite"] == ("I feel overwhelmed when you leave your dishes in the sink. I need us to share the work "
                        "at home. Could we agree on who takes care of the dishes on which days?"), a
assert b["horsemen"] == ["stonewalling"] and b["rewrite"].endswith("in twenty minutes?"), b
assert c["template"] is True and c["horsemen"] == [], c
assert c["rewrite"] == "I feel ___ when ___. I need ___. Would you be willing to ___?", c
assert d["horsemen"] == ["criticism"] and "\ufffd" in d["text"], d
assert "you never" not in d["rewrite"].lower(), d
print("json ok")
PY

# empty stdin: nothing printed, exit 0
out=$("$P" reframe --json </dev/null) || fail "empty stdin exit"
[ -z "$out" ] || fail "empty stdin printed: $out"

# a very long line is read bounded and still answered
python3 -c 'import sys; sys.stdout.write("you never help " * 20000 + "\n")' \
    | "$P" reframe --json >"$TMPDIR/long.jsonl" || fail "long line exit"
[ "$(wc -l <"$TMPDIR/long.jsonl")" -eq 1 ] || fail "long line: one object"
# the word lists are data (responses/reframe.words): a coach's own topic,
# object and note are used; a bad entry is an error at its file:line; a
# responses directory without word lists cannot reframe, and says so
w=$TMPDIR/words
mkdir -p "$w"
cp "$SRC"/responses/* "$w/"
cat >"$w/zz-local.words" <<'EOF'
topic pets
  match: \b(?<obj>the\s+dog|dog)\b
  object: the pets
  feeling: worn out
  now: {obj} {is} left to me
  past: {obj} {was} left to me
  need: a hand with the pets
  request: Could you walk {obj} on weekday mornings?
  label: {obj}
object the dog: our dog
EOF
# the sentences and labels are data too (responses/reframe.responses)
sed -i 's/^  Try saying:$/  Say it like this:/; s/need a short break to calm down/need ten minutes to calm down/' "$w/reframe.responses"
out=$("$P" reframe --rules "$SRC/rules" --responses "$w" "Whatever") || fail "reworded sets: exit $?"
grep -qx "Say it like this:" <<<"$out" && grep -q "I need ten minutes to calm down" <<<"$out" \
    || fail "reframe.responses not used: $out"
# topics run in file order: reframe.words first, so only a complaint none
# of its topics knows reaches this one
out=$("$P" reframe --rules "$SRC/rules" --responses "$w" "Why am I the one walking the dog") \
    || fail "a coach's topic: exit $?"
grep -q "I feel worn out when I'm the one walking the dog. I need a hand with the pets. Could you walk our dog on weekday mornings?" <<<"$out" \
    || fail "a coach's topic was not used: $out"
printf 'topic broken\n  match: (\n  colour: blue\nnote gentle: twice\nobject nothing\n' >"$w/zz-local.words"
set +e
out=$("$P" reframe --rules "$SRC/rules" --responses "$w" "You never listen" 2>&1); rc=$?
[ $rc -eq 1 ] || fail "bad word lists: exit $rc"
for want in "zz-local.words:2: bad pattern" "zz-local.words:3: unknown key 'colour'" \
            "zz-local.words:4: this note given twice" "zz-local.words:5: expected" \
            "zz-local.words:2: topic broken has no feeling:"; do
    grep -qF "$want" <<<"$out" || fail "bad word lists: no '$want' in: $out"
done
rm "$w/zz-local.words" "$w/reframe.words"
out=$("$P" reframe --rules "$SRC/rules" --responses "$w" "You never listen" 2>&1); rc=$?
[ $rc -eq 1 ] && grep -q "has no reframe word lists" <<<"$out" || fail "no word lists: exit $rc: $out"
out=$(printf '/reframe You never listen\n' | "$P" reply --no-state --rules "$SRC/rules" --responses "$w" 2>&1) \
    || fail "no word lists: reply exit $?"
grep -q "couldn't work on that sentence" <<<"$out" || fail "no word lists: /reframe said: $out"
set -e
echo "reframe.sh ok"

# The draft inside a conversation ("how do I tell her?") is made from the
# last complaint the session kept.  Without transcripts the store keeps no
# words of it: a second run has nothing to draft from.  With transcripts
# it is kept, and a second run drafts from it.  Inside a safety lock there
# is no draft.
db=$TMPDIR/draft.db
printf 'my girlfriend goes quiet for days whenever we argue\n' | "$P" reply --state "$db" >/dev/null
python3 - "$db" <<'PY' || fail "the store kept the complaint without transcripts"
import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
for (t,) in con.execute("select name from sqlite_master where type='table'"):
    for row in con.execute("select * from %s" % t):
        assert not any(isinstance(v, str) and "quiet for days" in v for v in row), (t, row)
PY
out=$(printf 'how do I tell her without hurting her?\n' | "$P" reply --state "$db" --json)
grep -q '"set":"act.what-say"' <<<"${out// /}" || fail "no transcripts: a draft after a restart: $out"
db=$TMPDIR/draft-kept.db
printf 'my girlfriend goes quiet for days whenever we argue\n' | "$P" reply --state "$db" --keep-transcripts >/dev/null
out=$(printf 'how do I tell her without hurting her?\n' | "$P" reply --state "$db" --keep-transcripts --json)
grep -q 'I feel upset when you go quiet for days whenever we argue' <<<"$out" \
    || fail "transcripts kept: no draft after a restart: $out"
out=$(printf '%s\n' "my boyfriend never listens to me" "he hit me last night" "how do I tell him?" \
      | "$P" reply --no-state --json | tail -1)
grep -q 'I feel' <<<"$out" && fail "a draft inside a safety lock: $out"
grep -q '"safety":true' <<<"${out// /}" || fail "the turn after a disclosure is not answered from safety: $out"
echo "reframe.sh draft ok"
