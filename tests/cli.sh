#!/usr/bin/env bash
# The program's contract: --help/--version everywhere, `reply --json` keys,
# a broken rules directory gives file:line errors and exit 1, `check`
# passes on the shipped rules, `reply` resumes its session across runs.
set -eu
P=$PUSHPULL
fx=$SRC/tests/fixtures/basic
fail() { echo "FAIL: $*"; exit 1; }

for sub in "" chat reply reframe check telegram matrix; do
    $P $sub --help >/dev/null || fail "pushpull $sub --help"
    $P $sub --version | grep -q '^pushpull [0-9]' || fail "pushpull $sub --version"
done
set +e; $P frobnicate >/dev/null 2>&1; [ $? = 2 ] || fail "unknown subcommand must exit 2"; set -e

# the shipped rules: the issue's own example
out=$(echo "he pulls away when we get close" | $P reply --json --no-state)
echo "$out" | python3 -c '
import json, sys
o = json.loads(sys.stdin.readline())
for k in ("text", "rule", "role", "framework", "safety", "reply"):
    assert k in o, k
assert o["role"] == "pursuer", o
assert o["framework"] and o["rule"], o
assert o["safety"] is False
' || fail "reply --json on the shipped rules: $out"

# a broken rules directory: every fault, as file:line, exit 1
set +e
err=$($P check --rules "$SRC/tests/fixtures/broken/rules" --responses "$SRC/tests/fixtures/broken/responses" 2>&1)
rc=$?
set -e
[ $rc = 1 ] || fail "broken rules: exit $rc"
for l in 7 11 13 19 22 28 32; do
    echo "$err" | grep -q "a.rules:$l: " || fail "broken rules: no error for line $l: $err"
done
echo "$err" | grep -q "a.responses:7: " || fail "broken responses: no error for line 7"

# check on the shipped rules passes
$P check --quiet >"$TMPDIR/check.out" 2>&1 || { cat "$TMPDIR/check.out"; fail "pushpull check on the shipped rules"; }

# reply resumes the session: the second run does not repeat the disclaimer
st=$TMPDIR/state.db
r1=$(echo "my wife pulls away" | $P reply --json --rules "$fx/rules" --responses "$fx/responses" --state "$st")
r2=$(echo "she pulls away" | $P reply --json --rules "$fx/rules" --responses "$fx/responses" --state "$st")
echo "$r1" | grep -q DISCLAIMER || fail "first reply lacks the disclaimer"
echo "$r2" | grep -q DISCLAIMER && fail "second run did not resume the session"
r3=$(echo "she pulls away" | $P reply --json --rules "$fx/rules" --responses "$fx/responses" --state "$st" --new)
echo "$r3" | grep -q DISCLAIMER || fail "--new did not start afresh"
# /forget deletes it
echo "/forget" | $P reply --rules "$fx/rules" --responses "$fx/responses" --state "$st" | grep -q "deleted" || fail "/forget"
r4=$(echo "she pulls away" | $P reply --json --rules "$fx/rules" --responses "$fx/responses" --state "$st")
echo "$r4" | grep -q DISCLAIMER || fail "after /forget the session should be new"

# no state file: still answers, says so
: >"$TMPDIR/plainfile"   # a file where a directory should be: the store cannot open
out=$(echo "he pulls away" | $P reply --rules "$fx/rules" --responses "$fx/responses" --state "$TMPDIR/plainfile/state.db" 2>"$TMPDIR/err")
[ -n "$out" ] || fail "no reply without a state file"
grep -q "memory only" "$TMPDIR/err" || fail "no notice about running in memory"
echo "cli ok"
