#!/usr/bin/env bash
# facts.sh -- what the user tried or cannot do, and the facts they told,
# are kept with the session in the real state file: a second process
# still holds back the suggestion they ruled out and says a fact back;
# `reply --json` names the act and the topic; /forget deletes it all, on
# disk too.
set -u
: "${PUSHPULL:?}" "${TMPDIR:?}"
export XDG_STATE_HOME=$TMPDIR/state
db=$XDG_STATE_HOME/pushpull/state.db
status=0
bad() { echo "facts.sh: $*"; status=1; }

# 1. first process: a situation, two facts, no friends to call
out=$(printf '%s\n' "my boyfriend pulls away every time we get close" \
    "we have been together for three years" \
    "stop telling me to call a friend, I don't have any" | "$PUSHPULL" reply --json) || bad "reply failed"
grep -q '"act":"tell"' <<<"$out" || bad "no act tell for a situation: $out"
grep -q '"topic":"distance-dance"' <<<"$out" || bad "no topic distance-dance: $out"
grep -q '"act":"tried"' <<<"$out" || bad "no act tried for no friends: $out"

# the state file holds the facts (not the messages: transcripts are off)
python3 - "$db" <<'PY' || bad "the state file does not hold the facts"
import sqlite3, sys, json
con = sqlite3.connect(sys.argv[1])
rows = [r[0] for r in con.execute("select * from session")][:0] or [r for r in con.execute("select * from session")]
blob = " ".join(str(c) for r in rows for c in r)
assert '"avoid":["friend"]' in blob, blob
assert 'you have been together for three years' in blob, blob
assert "call a friend" not in blob, "a message reached the store"
PY

# 2. a second process: the friend step is never offered, the fact is said back
out=$(printf '%s\n' "what is one thing I can do this week" "hmm" "I see" "whatever" | "$PUSHPULL" reply --json) \
    || bad "second reply failed"
if grep -qiw -e friend -e friends <<<"$out"; then bad "a friend was suggested after 'I don't have any': $out"; fi
grep -q 'You said you have been together for three years' <<<"$out" || bad "the fact was not said back: $out"
if grep -q '"set":"fallback"' <<<"$out"; then bad "the generic echo inside a topic: $out"; fi

# 3. /forget deletes the facts from disk
printf '/forget\n' | "$PUSHPULL" reply >/dev/null || bad "/forget failed"
if grep -a -q -e 'three years' -e '"avoid"' "$db" "$db-wal" 2>/dev/null; then bad "facts left on disk after /forget"; fi
out=$(printf '%s\n' "my boyfriend pulls away every time we get close" "what is one thing I can do this week" | "$PUSHPULL" reply)
grep -q 'You said' <<<"$out" && bad "a fact came back after /forget: $out"
exit $status
