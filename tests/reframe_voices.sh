#!/usr/bin/env bash
# reframe_voices.sh -- `pushpull reframe --json` on complaints in many
# voices (tests/reframe/voices.tsv: every line must pass) and on the
# held-out set (tests/reframe/holdout.tsv: written first, never tuned on;
# its figure is printed and must stay at or above HOLDOUT_FLOOR).
# A line passes when the horsemen found are exactly the ones listed, the
# rewrite mentions the situation (one of the listed words) or is the
# template when the line says TEMPLATE, and the rewrite has the properties
# of a gentle start-up: it starts with "I", says no "you always/never",
# keeps none of the input's insult or blame words, and ends with a request.
set -eu
P=$PUSHPULL
HOLDOUT_FLOOR=${HOLDOUT_FLOOR:-14}
for f in voices holdout; do
    grep -v '^#' "$SRC/tests/reframe/$f.tsv" | grep -v '^$' | cut -f1 >"$TMPDIR/$f.in"
    "$P" reframe --json <"$TMPDIR/$f.in" >"$TMPDIR/$f.out"
done
python3 - "$SRC/tests/reframe" "$TMPDIR" "$HOLDOUT_FLOOR" <<'PY'
import json, re, sys
src, tmp, floor = sys.argv[1], sys.argv[2], int(sys.argv[3])
BLAME = ("idiot moron loser pathetic stupid lazy selfish useless genius slob pig jerk "
         "child baby mature joke typical whatever always never constantly ridiculous dumb "
         "clueless unbelievable impossible nag nagging bitch asshole damn fucking bloody "
         "insane crazy psycho drama").split()

def words(s):
    return re.findall(r"[a-z']+", s.lower())

def check(line, r):
    text, want_h, mentions = line
    got = sorted(r["horsemen"])
    want = sorted([] if want_h == "-" else want_h.split(","))
    if got != want:
        return "horsemen %s, want %s" % (",".join(got) or "-", ",".join(want) or "-")
    rw = r["rewrite"]
    if mentions == "TEMPLATE":
        return None if r["template"] else "expected the template"
    if r["template"]:
        return "got the template"
    if r["gentle"]:
        return "praised as gentle"
    if not rw.startswith("I "):
        return "does not start with I"
    low = rw.lower()
    if "you always" in low or "you never" in low:
        return "says you always/never"
    if not rw.rstrip().endswith("?"):
        return "no request at the end"
    kept = set(words(text)) & set(words(rw)) & set(BLAME)
    if kept:
        return "keeps %s" % ", ".join(sorted(kept))
    if mentions != "-" and not any(re.search(r"\b" + re.escape(m.lower()), low) for m in mentions.split("|")):
        return "mentions none of " + mentions
    return None

def run(name, show):
    lines = []
    for l in open("%s/%s.tsv" % (src, name), encoding="utf-8"):
        l = l.rstrip("\n")
        if not l or l.startswith("#"):
            continue
        f = l.split("\t")
        assert len(f) == 3, "%s.tsv: needs 3 fields: %r" % (name, l)
        lines.append(f)
    outs = [json.loads(l) for l in open("%s/%s.out" % (tmp, name), encoding="utf-8")]
    assert len(outs) == len(lines), (name, len(outs), len(lines))
    bad = 0
    for line, r in zip(lines, outs):
        why = check(line, r)
        if why:
            bad += 1
            if show:
                print("%s: %s\n  input:   %s\n  found:   %s\n  rewrite: %s" % (name, why, line[0],
                      ",".join(r["horsemen"]) or "-", r["rewrite"]))
    return len(lines), bad

n, bad = run("voices", True)
print("reframe voices: %d/%d pass" % (n - bad, n))
hn, hbad = run("holdout", False)   # held out: the figure only, never the lines
print("reframe holdout: %d/%d pass (floor %d)" % (hn - hbad, hn, floor))
ok = True
if n < 60:
    print("FAIL: voices.tsv needs at least 60 lines"); ok = False
if bad:
    print("FAIL: %d voices lines fail" % bad); ok = False
if hn != 20:
    print("FAIL: holdout.tsv has %d lines, not 20" % hn); ok = False
if hn - hbad < floor:
    print("FAIL: holdout below its floor"); ok = False
sys.exit(0 if ok else 1)
PY
