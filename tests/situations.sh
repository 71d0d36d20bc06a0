#!/usr/bin/env bash
# situations.sh -- right role on the situation sets of tests/situations/
# (issue 19): train.tsv (tuned on), holdout.tsv and fresh.tsv (never tuned
# on: fresh.tsv is 161 short chat lines written blind on 2026-12-02 before
# any rule was touched for it; fresh2.tsv to fresh5.tsv were written by
# helpers who could not open the project).  Validates the sets (3 columns, ids, no
# line shared with another set), scores them with measure.py (the real
# program, /reset between messages) and prints one "figure:" line per file,
# which tests/run.sh shows under the case's "ok" line.  The FLOORS are the
# figures measured when each set was first scored, rounded down a few
# points: they stop a change from making things worse; raise them as the
# rules generalise, never by tuning on holdout.tsv or fresh.tsv.  The
# scorer is shown able to fail on a copy whose roles are rotated.
set -eu
: "${PUSHPULL:?}" "${SRC:?}" "${TMPDIR:?}"
# (raised on 2026-12-07 to a few points under that day's figures)
FLOOR_TRAIN=88     # measured 83.4 at e96f600, 92.7 at 3ef4814
FLOOR_HOLDOUT=65   # measured 64.2 at e96f600, 70.9 at 3ef4814
FLOOR_FRESH=85     # measured 81.4 at e96f600 (first scoring), 90.1 at 3ef4814
FLOOR_FRESH2=66    # measured 62.5 at 02145ed (first scoring), 73.1 at 3ef4814
FLOOR_FRESH3=71    # measured 72.3 at 5840af5 (first scoring), 75.5 at 3ef4814
FLOOR_FRESH4=69    # measured 71.2 at a400338 (first scoring), 73.1 at 3ef4814
FLOOR_FRESH5=67    # measured 71.3 at 3ef4814, the first scoring of fresh5.tsv
HERE=$SRC/tests/situations

python3 "$HERE/validate.py"

# check FIGURES: "figure:" lines; exit 1 when a file's role% is under its floor
check() {
    python3 - "$1" "$FLOOR_TRAIN" "$FLOOR_HOLDOUT" "$FLOOR_FRESH" "$FLOOR_FRESH2" "$FLOOR_FRESH3" "$FLOOR_FRESH4" "$FLOOR_FRESH5" <<'PY'
import re, sys
floors = dict(zip(("train.tsv", "holdout.tsv", "fresh.tsv", "fresh2.tsv", "fresh3.tsv", "fresh4.tsv", "fresh5.tsv"), map(float, sys.argv[2:9])))
bad = seen = 0
for line in open(sys.argv[1], encoding="utf-8"):
    m = re.match(r"(\S+\.tsv): (\d+) messages, role ([\d.]+)%, framework ([\d.]+)%", line)
    if not m: continue
    seen += 1
    name, role = m.group(1), float(m.group(3))
    low = role < floors[name]
    bad += low
    print(f"figure: situations {line.strip()} (floor {floors[name]:g}%)" + ("  BELOW FLOOR" if low else ""))
if seen != 7: print(f"want 7 scored files, got {seen}"); sys.exit(1)
sys.exit(1 if bad else 0)
PY
}

python3 "$HERE/measure.py" "$PUSHPULL" "$SRC" > "$TMPDIR/measure.out"
check "$TMPDIR/measure.out"

# The check can fail: the same sets with every role rotated score far below.
mkdir -p "$TMPDIR/rot/situations"
cp "$HERE"/*.py "$HERE/situations.src" "$TMPDIR/rot/situations/"
for f in train holdout fresh fresh2 fresh3 fresh4 fresh5; do
    awk -F'\t' 'BEGIN{OFS="\t"; nx["pursuer"]="withdrawer"; nx["withdrawer"]="none"; nx["none"]="pursuer"}
                {$2=nx[$2]; print}' "$HERE/$f.tsv" > "$TMPDIR/rot/situations/$f.tsv"
done
python3 -B "$TMPDIR/rot/situations/measure.py" "$PUSHPULL" "$SRC" > "$TMPDIR/rot.out"
if check "$TMPDIR/rot.out" > "$TMPDIR/rot.check"; then
    echo "FAIL: the floors accepted rotated labels"; cat "$TMPDIR/rot.check"; exit 1
fi
