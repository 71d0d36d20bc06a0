#!/usr/bin/env python3
"""measure.py -- score today's rules on tests/situations (no gate, report only).

    python3 tests/situations/measure.py PUSHPULL [SRC] [--misses] [--train | --fresh | --tune]

Feeds each file through `PUSHPULL reply --json --no-state --rules SRC/rules
--responses SRC/responses` with /reset between messages, exactly as
tests/corpus.sh does, and prints role and framework accuracy per file, then
per situation and role (situation tags come from situations.src; the lines
of the fresh*.tsv and tune*.tsv files have none and count under their
file's name).  By default train.tsv, holdout.tsv and the five fresh*.tsv
files are scored; --train scores train.tsv only, --fresh the fresh*.tsv
files only, --tune the tune*.tsv files (blind batches
kept for tuning) only.  --misses lists the misses of train.tsv and tune*.tsv only, never those of
the held-out files (holdout.tsv, fresh*.tsv): they stay unseen, so that
their figures keep measuring text the rules were not tuned on."""
import json, os, subprocess, sys
from collections import defaultdict
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True
import build

HERE = os.path.dirname(os.path.abspath(__file__))
prog = sys.argv[1]
src = sys.argv[2] if len(sys.argv) > 2 and not sys.argv[2].startswith("-") else os.path.dirname(os.path.dirname(HERE))
tag_of = {msg: tag for tag, msg, _, _ in build.parse(os.path.join(HERE, "situations.src"))}
per = defaultdict(lambda: [0, 0, 0])  # (situation, role) -> n, role ok, framework ok
misses = []
names = ("train.tsv", "holdout.tsv", "fresh.tsv", "fresh2.tsv", "fresh3.tsv", "fresh4.tsv", "fresh5.tsv")
if "--train" in sys.argv: names = ("train.tsv",)
elif "--fresh" in sys.argv: names = ("fresh.tsv", "fresh2.tsv", "fresh3.tsv", "fresh4.tsv", "fresh5.tsv")
elif "--tune" in sys.argv: names = tuple(sorted(f for f in os.listdir(HERE) if f.startswith("tune") and f.endswith(".tsv")))
for name in names:
    rows = [l.rstrip("\n").split("\t") for l in open(os.path.join(HERE, name), encoding="utf-8") if l.strip()]
    feed = "".join(f"{m}\n/reset\n" for m, _, _ in rows)
    out = subprocess.run([prog, "reply", "--json", "--no-state", "--rules", f"{src}/rules",
                          "--responses", f"{src}/responses"], input=feed,
                         capture_output=True, text=True, check=True).stdout
    replies = [json.loads(l) for l in out.splitlines() if l.strip()]
    replies = [r for r in replies if not r.get("command")]
    assert len(replies) == len(rows), (name, len(rows), len(replies))
    ok = fok = 0
    for (msg, role, fws), r in zip(rows, replies):
        got = r.get("role") or "none"; fw = r.get("framework") or "-"
        rok = got == role
        fwok = fw in fws.split(",") or (fws == "-" and got == "none")
        ok += rok; fok += fwok
        tag = tag_of.get(msg, name[:-4] if name.startswith(("fresh", "tune")) else "fresh")
        p = per[(tag, role)]; p[0] += 1; p[1] += rok; p[2] += fwok
        if (not rok or not fwok) and (name == "train.tsv" or name.startswith("tune")):
            misses.append(f"{name}\t{tag}\twant {role}/{fws}\tgot {got}/{fw} ({r.get('rule')})\t{msg}")
    n = len(rows)
    print(f"{name}: {n} messages, role {100*ok/n:.1f}%, framework {100*fok/n:.1f}%")
print("\n| situation | role | n | role ok | framework ok |\n|---|---|---:|---:|---:|")
for (tag, role), (n, a, b) in sorted(per.items(), key=lambda kv: kv[1][1] / kv[1][0]):
    print(f"| {tag} | {role} | {n} | {100*a/n:.0f}% | {100*b/n:.0f}% |")
if "--misses" in sys.argv:
    print("\n" + "\n".join(misses))
