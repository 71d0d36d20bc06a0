#!/usr/bin/env python3
"""build.py -- turn situations.src into train.tsv and holdout.tsv.

situations.src holds every message once, under an "@ situation" tag, as
    ROLE CODES | message
ROLE is P (pursuer), W (withdrawer) or N (none); CODES is a comma list of the
short framework codes below, or "-".  A fixed random fifth (python3 random,
seed 19) goes to holdout.tsv, the rest to train.tsv, each in shuffled order.
With --counts it prints the per-situation table used in README.md.
"""
import os, random, sys
from collections import Counter, OrderedDict

SEED = 19
HERE = os.path.dirname(os.path.abspath(__file__))
ROLES = {"P": "pursuer", "W": "withdrawer", "N": "none"}
CODES = {
    "dd": "distance-dance", "def": "intimacy-defense", "bc": "dont-build-a-case",
    "lo": "look-at-ourselves", "ip": "identify-patterns", "ph": "past-hurt",
    "ov": "overwhelmed-by-feelings", "fi": "fear-of-incompetence",
    "aa": "avoidant-attachment", "it": "intimacy-threat", "fd": "five-dimensions",
    "mv": "micro-vulnerability", "tb": "trauma-bond", "dp": "dependency-paradox",
    "sf": "sexual-fears", "rf": "reframe",
}

def parse(path):
    rows, tag = [], None
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        line = line.rstrip("\n")
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith("@ "):
            tag = line[2:].strip(); continue
        head, sep, msg = line.partition(" | ")
        parts = head.split()
        if not sep or len(parts) != 2 or parts[0] not in ROLES or tag is None:
            sys.exit(f"{path}:{n}: bad line: {line}")
        role, codes = parts
        if codes == "-":
            fws = "-"
        else:
            try:
                fws = ",".join(CODES[c] for c in codes.split(","))
            except KeyError as e:
                sys.exit(f"{path}:{n}: unknown code {e}")
        msg = msg.strip()
        if "\t" in msg or not msg:
            sys.exit(f"{path}:{n}: empty message or tab in message")
        rows.append((tag, msg, ROLES[role], fws))
    return rows

def main():
    rows = parse(os.path.join(HERE, "situations.src"))
    order = list(range(len(rows)))
    random.Random(SEED).shuffle(order)
    k = round(len(rows) / 5)
    hold, train = sorted(order[:k]), order[k:]
    random.Random(SEED + 1).shuffle(hold)
    for name, idx in (("holdout.tsv", hold), ("train.tsv", train)):
        with open(os.path.join(HERE, name), "w", encoding="utf-8") as f:
            for i in idx:
                _, msg, role, fws = rows[i]
                f.write(f"{msg}\t{role}\t{fws}\n")
    print(f"train.tsv {len(train)}, holdout.tsv {len(hold)}, total {len(rows)}")
    if "--counts" in sys.argv:
        tags = OrderedDict()
        hset = set(hold)
        for i, (tag, _, role, _) in enumerate(rows):
            c = tags.setdefault(tag, Counter())
            c[role] += 1; c["holdout"] += i in hset
        print("| situation | pursuer | withdrawer | none | total | in holdout |")
        print("|---|---:|---:|---:|---:|---:|")
        tot = Counter()
        for tag, c in tags.items():
            t = c["pursuer"] + c["withdrawer"] + c["none"]
            tot.update(c); tot["all"] += t
            print(f"| {tag} | {c['pursuer']} | {c['withdrawer']} | {c['none']} | {t} | {c['holdout']} |")
        print(f"| **all** | {tot['pursuer']} | {tot['withdrawer']} | {tot['none']} | {tot['all']} | {tot['holdout']} |")

if __name__ == "__main__":
    main()
