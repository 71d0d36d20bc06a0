#!/usr/bin/env bash
# safety.sh -- crisis detection and crisis replies (issue 4).
#
# 1. safetytest on the four sets in tests/safety/: every crisis message (the
#    tuning set and the holdout) must get a safety reply, at most 2% of the
#    near-misses may, and every safety reply and variant must carry the
#    resources and no coaching.
# 2. The response file defines every safety set, each with 3+ variants that
#    all use {resources}.
# 3. The program: `reply --json` marks a crisis as safety, regions pick their
#    own lines (us, uk, au), unknown regions fall back to default.
# 4. The safety conversations (lock at turn 3, /reset unlocks).
set -eu
: "${SRC:?}" "${PUSHPULL:?}" "${TESTBIN:?}" "${TMPDIR:?}"
fail() { echo "FAIL: $*" >&2; exit 1; }

"$TESTBIN/safetytest" --rules "$SRC/rules" --responses "$SRC/responses" \
    "$SRC/tests/safety/crisis.txt" "$SRC/tests/safety/crisis-holdout.txt" \
    "$SRC/tests/safety/near-miss.txt" "$SRC/tests/safety/near-miss-holdout.txt"

# 1b. Text that hides from the rules (issue 18 item 4): every crisis line of
#     the strict sets, disguised four ways -- a right-to-left mark between
#     words, a left-to-right mark inside a word, full-width letters,
#     mathematical bold letters -- must still be caught.
python3 - "$SRC/tests/safety" "$TMPDIR" <<'PY'
import sys
src, out = sys.argv[1], sys.argv[2]
lines = []
for name in ("crisis.txt", "crisis-holdout.txt"):
    for l in open(f"{src}/{name}", encoding="utf-8"):
        l = l.rstrip("\n")
        if l.strip() and not l.startswith("#"): lines.append(l)
def rlm(t):
    w = t.split(" ")
    return " ".join(w[:2]) + "\u200f " + " ".join(w[2:]) if len(w) > 2 else t + "\u200f"
def lrm(t):
    return t[:len(t) // 2] + "\u200e" + t[len(t) // 2:]
def wide(t):
    return "".join("\u3000" if c == " " else chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in t)
def bold(t):
    return "".join(chr(0x1D41A + ord(c) - 97) if "a" <= c <= "z" else
                   chr(0x1D400 + ord(c) - 65) if "A" <= c <= "Z" else c for c in t)
with open(f"{out}/disguised-crisis.txt", "w", encoding="utf-8") as f:
    for l in lines:
        for d in (rlm, lrm, wide, bold):
            f.write(d(l) + "\n")
print(f"disguised: {4 * len(lines)} lines")
PY
"$TESTBIN/safetytest" --rules "$SRC/rules" --responses "$SRC/responses" "$TMPDIR/disguised-crisis.txt" \
    > "$TMPDIR/disguised.out" 2>&1 || { grep -m 20 MISS "$TMPDIR/disguised.out"; fail "disguised crisis lines missed"; }
grep "recall" "$TMPDIR/disguised.out"

# 1c. The second and third sets (tests/safety/*-2*.txt, *-3*.txt, written blind to
#     the rules for issues 18 and 19): not yet at the strict gate, so held to floors measured
#     with the rules of their time -- raise them as the rules improve.
"$TESTBIN/safetytest" --rules "$SRC/rules" --responses "$SRC/responses" \
    "$SRC/tests/safety/crisis-2.txt" "$SRC/tests/safety/crisis-2-holdout.txt" \
    "$SRC/tests/safety/near-miss-2.txt" "$SRC/tests/safety/near-miss-2-holdout.txt" \
    "$SRC/tests/safety/crisis-3.txt" "$SRC/tests/safety/crisis-3-holdout.txt" \
    "$SRC/tests/safety/near-miss-3.txt" "$SRC/tests/safety/near-miss-3-holdout.txt" \
    "$SRC/tests/safety/crisis-4-holdout.txt" "$SRC/tests/safety/near-miss-4-holdout.txt" \
    > "$TMPDIR/second.out" 2>&1 || true
python3 - "$TMPDIR/second.out" <<'PY' || fail "the second safety sets fell below their floors"
import re, sys
# measured after issue 18 item 2 (context): crisis-2 91.2%, near-miss-2 0.0%, near-miss-2-holdout 0.0%;
# after the rest of issue 18: crisis-2 98.6%, crisis-2-holdout 69.2%, both near-miss sets 0.0%
# the third sets (issue 19): crisis-3 98.1%, near-miss-3 0.9% after tuning; the holdout,
# first measured: crisis-3-holdout 58.8% (35.0% on the rules of that morning, 02145ed..32079c7),
# near-miss-3-holdout 3.8% (5.0% before)
# the fourth holdout (veiled warning signs, the suicide_signs tally), first measured:
# crisis-4-holdout 31.2% (21.2% at f604061), near-miss-4-holdout 2.5% (2.5% before)
floors = {"crisis-2.txt": 98.0, "crisis-2-holdout.txt": 68.0,        # recall at least
          "crisis-3.txt": 97.0, "crisis-3-holdout.txt": 55.0,
          "crisis-4-holdout.txt": 30.0}
ceilings = {"near-miss-2.txt": 1.0, "near-miss-2-holdout.txt": 2.5,   # false alarms at most
            "near-miss-3.txt": 2.0, "near-miss-3-holdout.txt": 5.0,
            "near-miss-4-holdout.txt": 4.0}
bad = 0
for line in open(sys.argv[1]):
    m = re.match(r"(\S+)\s+(crisis recall|false positives)\s+(\d+)/(\d+) = ([\d.]+)%", line)
    if not m: continue
    name, kind, pct = m.group(1), m.group(2), float(m.group(5))
    print(line.rstrip())
    if kind == "crisis recall" and pct < floors.get(name, 0): bad += 1; print(f"  below the floor {floors[name]}%")
    if kind == "false positives" and pct > ceilings.get(name, 100): bad += 1; print(f"  above the ceiling {ceilings[name]}%")
sys.exit(1 if bad else 0)
PY

# Each set has at least 3 variants, and every variant uses {resources}.
for set in safety safety.selfharm safety.violence safety.control \
           safety.harming-partner safety.child safety-support \
           safety.selfharm.signs safety.selfharm.signs-no; do
    awk -v want="$set" '
        /^set / { cur = $2; if (cur == want) found = 1; next }
        cur != want { next }
        /^variant/ { if (open && !res) bad++; n++; open = 1; res = 0; next }
        /\{resources\}/ { res = 1 }
        END {
            if (open && !res) bad++
            if (!found) { print "missing set " want; exit 1 }
            if (n < 3) { print "set " want " has " n " variants, want 3+"; exit 1 }
            if (bad) { print "set " want ": " bad " variant(s) without {resources}"; exit 1 }
        }' "$SRC/responses/safety.responses" || fail "responses/safety.responses"
done

# Every region named in the brief has lines.
for r in default us uk ie ca au nz de fr in; do
    n=$(awk -F'\t' -v r="$r" '$1 == r' "$SRC/responses/resources.tsv" | wc -l)
    [ "$n" -ge 2 ] || fail "resources.tsv: region $r has $n lines"
done

out=$(printf 'he hit me last night\n' | "$PUSHPULL" reply --json --no-state)
python3 - "$out" <<'PY' || fail "reply --json: $out"
import json, sys
d = json.loads(sys.argv[1])
assert d["safety"] is True and d["role"] == "crisis" and d["framework"] == "safety", d
assert "findahelpline.com" in d["reply"], d["reply"]
PY

check_region() {  # region, expected text
    local got
    got=$(printf 'i want to kill myself\n' | PUSHPULL_REGION="$1" "$PUSHPULL" reply --no-state)
    case "$got" in *"$2"*) ;; *) fail "region $1: reply lacks '$2': $got";; esac
}
check_region us "988"
check_region us "1-800-799-7233"
check_region uk "116 123"
check_region uk "0808 2000 247"
check_region au "13 11 14"
check_region au "1800 737 732"
check_region xx "findahelpline.com"
got=$(printf 'my wife slapped me\n' | "$PUSHPULL" reply --no-state --region ca)
case "$got" in *"988"*) ;; *) fail "--region ca: $got";; esac

# /reframe inside a conversation is screened like `pushpull reframe` (the
# front ends' own path, pp_dialog_turn): danger in the "complaint" gets the
# safety reply and locks the session; a plain complaint is still reframed.
out=$(printf '%s\n' '/reframe he choked me last night and I want you to make it sound nicer' \
      'he pulls away every time we get close' '/reframe you never plan anything for us' |
      "$PUSHPULL" reply --json --no-state)
python3 - "$out" <<'PY' || fail "/reframe with danger in it: $out"
import json, sys
a, b, c = (json.loads(l) for l in sys.argv[1].splitlines())
assert a["safety"] is True and a["role"] == "crisis" and "findahelpline.com" in a["reply"], a
assert "Try saying" not in a["reply"], a
assert b["safety"] is True and b["set"] == "safety-support", b
assert c["safety"] is False and "Try saying" in c["reply"], c
PY

# A near-miss through the program stays coaching.
out=$(printf 'my boss is murdering me with deadlines\n' | "$PUSHPULL" reply --json --no-state)
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["safety"] is False, d' "$out" \
    || fail "near-miss flagged: $out"

"$TESTBIN/convtest" --rules "$SRC/rules" --responses "$SRC/responses" \
    "$SRC"/tests/conversations/safety-*.conv
echo "safety: ok"
