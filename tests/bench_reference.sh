#!/usr/bin/env bash
# bench_reference.sh -- the benchmark's own correctness check, in make test
# (issue 17): a small synthetic workload (bench/synth.py: 300 rules, 2,000
# messages) through ppbench, whose every reply is checked against a plain
# PCRE2 loop over the same patterns (ppbench exits non-zero on any wrong
# reply); then the shipped rules over the corpus.  No speed is asserted:
# the figures live in `make bench`.
set -eu
: "${SRC:?}" "${TMPDIR:?}"
B=${B:-build}
PPB=$SRC/$B/bench/ppbench
[ -x "$PPB" ] || { echo "FAIL: $PPB was not built"; exit 1; }
python3 "$SRC/bench/synth.py" 300 2000 "$TMPDIR" >/dev/null
"$PPB" --tsv "$TMPDIR/synth-300.tsv" --messages "$TMPDIR/messages-300.txt" \
       --work "$TMPDIR/synth-300" --name synth-300 --passes 2 | tee "$TMPDIR/synth.out"
awk '$1 == "synth-300" && $3 == $4 { ok = 1 } END { exit !ok }' "$TMPDIR/synth.out" \
    || { echo "FAIL: not every synthetic reply was right"; exit 1; }
"$PPB" --rules "$SRC/rules" --responses "$SRC/responses" --corpus "$SRC"/tests/corpus/*.tsv \
       --name shipped --passes 1
echo "bench_reference: ok"
