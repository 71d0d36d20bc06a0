#!/usr/bin/env bash
# conversations.sh -- run every scripted conversation in tests/conversations
# through $TESTBIN/convtest (built by `make tests`), then prove the runner
# can fail: a wrong expectation, a malformed file and a broken rules
# directory must each be reported, with file:line, and a non-zero exit.
set -u
: "${TESTBIN:?}" "${SRC:?}" "${TMPDIR:?}"
ct=$TESTBIN/convtest
status=0

# 1. the real conversations; at least 40 of them are whole conversations
#    of 6-12 messages (issue 20)
out=$("$ct" --rules "$SRC/rules" --responses "$SRC/responses" "$SRC"/tests/conversations/*.conv) || status=1
echo "$out"
whole=$(sed -n 's/^convtest: \([0-9]*\) conversations of 6-12 messages$/\1/p' <<<"$out")
if [ -z "$whole" ] || [ "$whole" -lt 40 ]; then
    echo "only ${whole:-0} conversations of 6-12 messages; at least 40 wanted"; status=1
fi

# 2. a wrong expectation fails, names the file and line, and shows the reply
cat >"$TMPDIR/wrong.conv" <<'CONV'
# deliberately wrong
> he pulls away every time we get close
framework: sexual-fears
lacks: dance
act: thanks
topic: sexual-fears
CONV
out=$("$ct" --rules "$SRC/rules" --responses "$SRC/responses" "$TMPDIR/wrong.conv")
rc=$?
if [ $rc -ne 1 ] \
   || ! grep -q "wrong.conv:3: expected framework sexual-fears, got distance-dance" <<<"$out" \
   || ! grep -q "wrong.conv:4: expected text without dance" <<<"$out" \
   || ! grep -q "wrong.conv:5: expected act thanks, got tell" <<<"$out" \
   || ! grep -q "wrong.conv:6: expected topic sexual-fears, got distance-dance" <<<"$out" \
   || ! grep -q "reply to line 2:" <<<"$out"; then
    echo "convtest did not report a wrong expectation (rc=$rc):"; echo "$out"; status=1
fi

# 2b. a reply said twice in one conversation fails, naming both lines
cat >"$TMPDIR/repeat.conv" <<'CONV'
> my boyfriend pulls away every time we get close
> she uses they/them actually
> she uses they/them actually
CONV
out=$("$ct" --rules "$SRC/rules" --responses "$SRC/responses" "$TMPDIR/repeat.conv")
rc=$?
if [ $rc -ne 1 ] || ! grep -q "repeat.conv:3: expected a reply not said before, not the reply to line 2" <<<"$out"; then
    echo "convtest did not report a repeated reply (rc=$rc):"; echo "$out"; status=1
fi

# 3. a malformed file (unknown check, check before any message) fails
cat >"$TMPDIR/bad.conv" <<'CONV'
framework: distance-dance
> hello
colour: blue
CONV
out=$("$ct" --rules "$SRC/rules" --responses "$SRC/responses" "$TMPDIR/bad.conv")
rc=$?
if [ $rc -ne 1 ] || ! grep -q "bad.conv:1: check 'framework' before any" <<<"$out" \
   || ! grep -q "bad.conv:3: unknown check 'colour'" <<<"$out"; then
    echo "convtest accepted a malformed file (rc=$rc):"; echo "$out"; status=1
fi

# 4. rules that do not load: exit 2 with the loader's file:line message
mkdir -p "$TMPDIR/badrules"
printf 'rule broken\n  role: pursuer\n  framework: no-such-framework\n  match: x\n' >"$TMPDIR/badrules/x.rules"
out=$("$ct" --rules "$TMPDIR/badrules" --responses "$SRC/responses" "$TMPDIR/wrong.conv" 2>&1)
rc=$?
if [ $rc -ne 2 ] || ! grep -q "x.rules:3: unknown framework" <<<"$out"; then
    echo "convtest did not refuse broken rules (rc=$rc):"; echo "$out"; status=1
fi

exit $status
