#!/usr/bin/env bash
# flood.sh -- resource limits: 100,000 messages through ONE session
# (`pushpull reply --json --no-state`, the corpus in a cycle) must keep the
# resident memory flat: VmRSS after 100,000 replies may exceed VmRSS after
# 10,000 by at most 4 MiB (tests/tools/flood.c measures it from
# /proc/<pid>/status while the program runs).  Skipped in the SAN=1 pass:
# ASan's quarantine and shadow memory make RSS meaningless there.
set -eu
if [ "${SAN:-}" = 1 ]; then
    echo "flood: skipped in the SAN pass (RSS under ASan is not the program's)"
    exit 77
fi
if [ ! -r /proc/self/status ]; then
    echo "flood: FAIL: no /proc/<pid>/status to read memory from" >&2
    exit 1
fi
"$TESTBIN/flood" "$SRC/tests/corpus/train.tsv" 10000 100000 4096 -- \
    "$PUSHPULL" reply --json --no-state --rules "$SRC/rules" --responses "$SRC/responses"
