#!/usr/bin/env bash
# bench/run.sh -- what `make bench` runs (B=build bash bench/run.sh).
#
# For N = 100, 1000, 10000 it writes the synthetic workload with
# bench/synth.py (M = 10000 messages each, or $BENCH_M), and has
# $B/bench/ppbench turn each trigger TSV into a rules directory and measure
# it ($BENCH_ROUNDS rounds, default 3, the best kept); then the shipped rules
# over tests/corpus/*.tsv, then pathological inputs.  Prints a table and writes bench/results.json (a JSON list, one
# object per workload).  Exits non-zero when any reply was wrong.
set -eu
cd "$(dirname "$0")/.."
B=${B:-build}
M=${BENCH_M:-10000}
ROUNDS=${BENCH_ROUNDS:-3}
PPB=$B/bench/ppbench
WORK=bench/work
OUT=bench/results.json
rm -rf "$WORK"
mkdir -p "$WORK"
lines=$WORK/results.lines
: >"$lines"
echo "pushpull bench: $(nproc) cpu(s), commit $(git rev-parse --short HEAD 2>/dev/null || echo none), $(date -u +%Y-%m-%dT%H:%MZ)"
"$PPB" --header
status=0
for n in 100 1000 10000; do
    python3 bench/synth.py "$n" "$M" "$WORK" >/dev/null
done
# Each synthetic workload is measured $ROUNDS times, the three in turn, and
# its fastest round is the one reported: on a shared machine a burst of
# someone else's work then spoils one round, not the figure, and the three
# N are measured over the same stretch of time (their ratio is a goal).
for r in $(seq "$ROUNDS"); do
    for n in 100 1000 10000; do
        "$PPB" --tsv "$WORK/synth-$n.tsv" --messages "$WORK/messages-$n.txt" \
               --work "$WORK/synth-$n" --name "synth-$n" --json "$WORK/round-$r-$n.json" \
               >"$WORK/round-$r-$n.txt" || status=1
    done
done
python3 - "$WORK" "$ROUNDS" "$lines" <<'EOF'
import json, sys
work, rounds, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with open(out, "a") as o:
    for n in (100, 1000, 10000):
        best = None
        for r in range(1, rounds + 1):
            try:
                with open(f"{work}/round-{r}-{n}.txt") as f: row = f.read().rstrip("\n")
                with open(f"{work}/round-{r}-{n}.json") as f: obj = f.read().strip()
            except OSError:
                continue
            if not obj: continue
            rps = json.loads(obj)["replies_per_s"]
            if best is None or rps > best[0]: best = (rps, row, obj)
        if best:
            print(best[1])
            o.write(best[2] + "\n")
EOF
"$PPB" --rules rules --responses responses --corpus tests/corpus/*.tsv \
       --name shipped --json "$lines" || status=1
{
    echo "["
    sed '$!s/$/,/' "$lines" | sed 's/^/  /'
    echo "]"
} >"$OUT"
echo "wrote $OUT"
"$PPB" --rules rules --responses responses --pathological || status=1
exit $status
