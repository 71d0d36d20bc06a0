#!/usr/bin/env python3
"""validate.py -- check tests/situations/*.tsv: 3 tab-separated columns, a
valid role, valid framework ids (those of rules/*.catalog, or "-"), and no
message duplicated (case-insensitively) within or across tests/corpus/*.tsv
and tests/situations/*.tsv.  Exit 1 on any problem."""
import glob, os, sys
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
ROLES = {"pursuer", "withdrawer", "none"}
# the framework ids of the catalogue (rules/*.catalog)
IDS = {l.split()[1] for p in glob.glob(os.path.join(os.path.dirname(TESTS), "rules", "*.catalog"))
       for l in open(p, encoding="utf-8") if l.startswith("framework ")}
bad, seen, roles = [], {}, Counter()
for path in sorted(glob.glob(os.path.join(TESTS, "corpus", "*.tsv"))):
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        seen.setdefault(line.split("\t")[0].strip().lower(), f"{path}:{n}")
total = 0
for path in sorted(glob.glob(os.path.join(HERE, "*.tsv"))):
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        where = f"{os.path.relpath(path, TESTS)}:{n}"
        f = line.rstrip("\n").split("\t")
        if len(f) != 3:
            bad.append(f"{where}: want 3 tab-separated fields, got {len(f)}"); continue
        msg, role, fws = f
        if not msg.strip(): bad.append(f"{where}: empty message")
        if role not in ROLES: bad.append(f"{where}: bad role {role!r}")
        if fws != "-":
            ids = fws.split(",")
            if not set(ids) <= IDS: bad.append(f"{where}: unknown framework in {fws!r}")
            if not 1 <= len(ids) <= 3: bad.append(f"{where}: want 1-3 frameworks")
            if len(set(ids)) != len(ids): bad.append(f"{where}: repeated framework")
            if "safety" in ids: bad.append(f"{where}: crisis lines belong in tests/safety")
        elif role != "none": bad.append(f"{where}: a {role} line needs a framework")
        key = msg.strip().lower()
        if key in seen: bad.append(f"{where}: duplicate of {seen[key]}")
        else: seen[key] = where
        total += 1; roles[role] += 1
for b in bad: print(b)
print(f"situations: {total} messages: " +
      ", ".join(f"{r} {roles[r]} ({100*roles[r]/max(total,1):.1f}%)" for r in ("pursuer", "withdrawer", "none")))
sys.exit(1 if bad else 0)
