#!/usr/bin/env bash
# bench/run.sh -- what `make bench` runs (B=build bash bench/run.sh).
#
# For N = 100, 1000, 10000 it writes the synthetic workload with
# bench/synth.py (M = 10000 messages each, or $BENCH_M), and has
# $B/bench/ppbench turn each trigger TSV into a rules directory and measure
# it; then the shipped rules over tests/corpus/*.tsv, then pathological
# inputs.  Prints a table and writes bench/results.json (a JSON list, one
# object per workload).  Exits non-zero when any reply was wrong.
set -eu
cd "$(dirname "$0")/.."
B=${B:-build}
M=${BENCH_M:-10000}
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
    "$PPB" --tsv "$WORK/synth-$n.tsv" --messages "$WORK/messages-$n.txt" \
           --work "$WORK/synth-$n" --name "synth-$n" --json "$lines" || status=1
done
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
