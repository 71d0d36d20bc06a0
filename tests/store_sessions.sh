#!/usr/bin/env bash
# store_sessions -- real `pushpull reply` processes sharing one state file.
#
# 1. Two windows on one session: A (reading from a pipe it keeps open) has
#    loaded the session; B says "he hit me last night" and exits.  A's next
#    reply must be a safety reply, and a fresh run must still be locked (the
#    last writer used to win: A saved the session it had loaded, unlocked).
# 2. Four processes x 50 turns on one session count 200 turns (they used to
#    count about a quarter of them).
# 3. Session names: longer than 127 bytes is a usage error (exit 2), never
#    cut, so two names that differ after byte 127 cannot share a session;
#    names of 127 bytes that differ in the last byte stay apart; an
#    over-long last session in the file is refused, not replaced by
#    "default".
# 4. /why in a new process explains the last reply of the session (the
#    kept decision is saved), without the user's words on disk unless
#    --keep-transcripts.
set -eu
P=$PUSHPULL
T=$TMPDIR
db=$T/state.db
fail() { echo "FAIL: $*"; exit 1; }

# The value of a field of the session row saved under key.
field() {
    python3 - "$db" "$1" "$2" <<'EOF'
import json, sqlite3, sys
c = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
row = c.execute("SELECT json FROM session WHERE key = ?", (sys.argv[2],)).fetchone()
print(json.loads(row[0]).get(sys.argv[3]) if row else "absent")
EOF
}
# "true"/"false": the safety flag of line n of a `reply --json` output.
safety_of() { sed -n "$2p" "$1" | python3 -c 'import json,sys; print(str(json.loads(sys.stdin.read())["safety"]).lower())'; }
wait_lines() {   # file, count: A answers a line before we go on (not timed)
    for _ in $(seq 600); do
        [ "$(wc -l <"$1")" -ge "$2" ] && return 0
        sleep 0.05
    done
    fail "no answer in $1 (have $(wc -l <"$1") lines, want $2)"
}

# ---- 1. two windows ------------------------------------------------------
mkfifo "$T/a.in"
$P reply --json --session s --state "$db" <"$T/a.in" >"$T/a.out" 2>"$T/a.err" &
apid=$!
exec 3>"$T/a.in"
echo "my boyfriend never texts me back" >&3
wait_lines "$T/a.out" 1
[ "$(safety_of "$T/a.out" 1)" = false ] || fail "A's first reply is already a safety reply"

echo "he hit me last night" | $P reply --json --session s --state "$db" >"$T/b.out"
[ "$(safety_of "$T/b.out" 1)" = true ] || fail "B's crisis line got no safety reply: $(cat "$T/b.out")"

echo "I think I should give him space" >&3
wait_lines "$T/a.out" 2
[ "$(safety_of "$T/a.out" 2)" = true ] || fail "A coached after B's crisis line: $(sed -n 2p "$T/a.out")"
grep -q 'another window' "$T/a.out" || fail "A did not say the lock came from another window"
exec 3>&-
wait "$apid" || fail "A exited $?: $(cat "$T/a.err")"

echo "I think I should give him space" | $P reply --json --session s --state "$db" >"$T/c.out"
[ "$(safety_of "$T/c.out" 1)" = true ] || fail "a fresh run is not locked: $(cat "$T/c.out")"
[ "$(field cli:s safety_lock)" = True ] || fail "the row lost the lock"
[ "$(field cli:s turns)" = 4 ] || fail "turns: $(field cli:s turns), want 4"
echo "two windows: A's next reply is a safety reply, the lock holds"

# ---- 2. N processes x M turns --------------------------------------------
pids=()
for i in 1 2 3 4; do
    for j in $(seq 50); do echo "she never wants to talk about it $j"; done |
        $P reply --session n --state "$db" >/dev/null 2>"$T/n$i.err" &
    pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a writer failed: $(cat "$T"/n*.err)"; done
! grep -q . "$T"/n*.err || fail "writers complained: $(cat "$T"/n*.err)"
[ "$(field cli:n turns)" = 200 ] || fail "4 x 50 turns counted as $(field cli:n turns)"
echo "4 processes x 50 turns: 200 turns"

# ---- 3. session names ------------------------------------------------------
long=$(printf 'u%.0s' $(seq 200))
for sub in reply chat; do
    set +e
    echo hello | $P $sub --session "$long" --state "$db" >"$T/long.out" 2>"$T/long.err"
    rc=$?
    set -e
    [ $rc = 2 ] || fail "$sub --session of 200 bytes: exit $rc, want 2"
    grep -q 'at most 127 bytes' "$T/long.err" || fail "$sub: no clear message: $(cat "$T/long.err")"
done
pad=$(printf '0%.0s' $(seq 130))
for who in ALICE BOB; do
    set +e
    echo "my husband Sam never listens" | $P reply --session "user-$pad$who" --state "$db" >/dev/null 2>&1
    rc=$?
    set -e
    [ $rc = 2 ] || fail "user-0...$who: exit $rc, want 2"
done
[ "$(field "cli:user-$(printf '0%.0s' $(seq 122))" turns)" = absent ] || fail "a cut name was saved"
set +e; echo hi | $P reply --session "" --state "$db" >/dev/null 2>&1; rc=$?; set -e
[ $rc = 2 ] || fail "an empty --session: exit $rc, want 2"

n126=$(printf 'v%.0s' $(seq 126))
printf 'my wife never listens\nshe is always busy\n' | $P reply --session "${n126}A" --state "$db" >/dev/null
echo "my wife never listens" | $P reply --session "${n126}B" --state "$db" >/dev/null
[ "$(field "cli:${n126}A" turns)" = 2 ] || fail "127-byte name A: $(field "cli:${n126}A" turns) turns"
[ "$(field "cli:${n126}B" turns)" = 1 ] || fail "127-byte name B: $(field "cli:${n126}B" turns) turns"

# The last session in the file is longer than a name may be: refused.
python3 - "$db" <<'EOF'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("UPDATE setting SET value = ? WHERE name = 'cli.last_session'", ("w" * 300,))
c.commit()
EOF
set +e
echo hi | $P reply --state "$db" >/dev/null 2>"$T/last.err"
rc=$?
set -e
[ $rc != 0 ] || fail "an over-long last session was resumed as something else"
grep -q -- '--session' "$T/last.err" || fail "no advice for the over-long last session: $(cat "$T/last.err")"
[ "$(field cli:default turns)" = absent ] || fail "the over-long last session fell back to default"
echo "session names: over-long refused (exit 2), 127-byte names apart"

# 4. /why after a restart, from the saved decision
wdb=$T/why.db
echo "my wife pulls away whenever we get close" | $P reply --state "$wdb" --session w >/dev/null
out=$(echo /why | $P reply --state "$wdb" --session w)
grep -q "^Rule distance.partner-pulls-away (rules/pursuer.rules:[0-9]*) matched your last message" <<<"$out" \
    || fail "/why after a restart does not name the rule: $out"
grep -q "Framework: distance-dance" <<<"$out" || fail "/why after a restart has no framework: $out"
if cat "$wdb"* | grep -aq "pulls away"; then fail "the /why quote reached the disk without --keep-transcripts"; fi
echo "my wife pulls away whenever we get close" | $P reply --state "$wdb" --session k --keep-transcripts >/dev/null
out=$(echo /why | $P reply --state "$wdb" --session k --keep-transcripts)
grep -q 'matched "my wife pulls away"' <<<"$out" || fail "/why with transcripts lost the quote: $out"
echo "why: the decision survives a restart, its quote only with transcripts"
