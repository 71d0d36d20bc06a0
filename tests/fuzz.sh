#!/usr/bin/env bash
# run.sh: early (one of the longest cases; tests/run.sh starts it first)
# fuzz.sh -- the CI smoke of the libFuzzer targets (tests/fuzz/*.c): build
# them with clang under ASan+UBSan (`make fuzz-build`, mk/fuzz.mk) and run
# each for FUZZ_SMOKE_SECONDS (20) from its seeds, with a fixed seed and a
# scratch corpus in $TMPDIR.  Any crash, leak, UBSan report, broken
# invariant or input slower than 10 s fails.  The long runs are
# `make fuzz FUZZ_SECONDS=600`.  Only in the plain pass (the targets carry
# their own sanitizers); clang and libFuzzer are required on Debian
# (`make test-deps`: clang, libclang-rt-14-dev) and skipped elsewhere
# (exit 77, which tests/run.sh counts as skipped).  A line before each
# target says which is running, so the minutes of the smoke are not silent.
set -u
secs=${FUZZ_SMOKE_SECONDS:-20}
if [ "${SAN:-}" = 1 ]; then
    echo "fuzz: skipped in the SAN pass (the fuzz targets carry ASan+UBSan themselves)"
    exit 77
fi
probe=$TMPDIR/probe.c
echo 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }' >"$probe"
if ! command -v clang >/dev/null 2>&1 || ! clang -fsanitize=fuzzer,address,undefined -o "$TMPDIR/probe" "$probe" 2>"$TMPDIR/probe.err"; then
    if command -v dpkg >/dev/null 2>&1; then
        echo "fuzz: FAIL: clang with libFuzzer is missing (make test-deps: clang libclang-rt-14-dev)" >&2
        cat "$TMPDIR/probe.err" >&2 2>/dev/null
        exit 1
    fi
    echo "fuzz: skipped: no clang with libFuzzer, and not Debian"
    exit 77
fi
echo "fuzz: building the targets"
make --no-print-directory -C "$SRC" fuzz-build >"$TMPDIR/build.log" 2>&1 || {
    tail -n 30 "$TMPDIR/build.log"; echo "fuzz: FAIL: the targets do not build"; exit 1; }
status=0
srcs=("$SRC"/tests/fuzz/*.c); i=0
for src in "${srcs[@]}"; do
    t=$(basename "$src" .c); i=$((i+1))
    echo "fuzz $t ($i/${#srcs[@]}): running for ${secs}s"
    mkdir -p "$TMPDIR/corpus/$t" "$TMPDIR/crashes"
    maxlen=16384; [ "$t" = rules ] && maxlen=262144; [ "$t" = reply ] && maxlen=8192; [ "$t" = index ] && maxlen=131072
    if ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
       UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 PP_SRC=$SRC \
       "$SRC/build/fuzz/$t" -seed=1 -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
           -max_len=$maxlen -artifact_prefix="$TMPDIR/crashes/$t-" \
           "$TMPDIR/corpus/$t" "$SRC/tests/fuzz/$t" >"$TMPDIR/$t.log" 2>&1; then
        last=$(grep -E '^#[0-9]+' "$TMPDIR/$t.log" | tail -n 1)
        echo "fuzz $t: ok: ${last:0:120}"
    else
        status=1
        echo "fuzz $t: FAIL"
        grep -E 'ERROR:|runtime error|invariant broken|SUMMARY|Test unit written' "$TMPDIR/$t.log" | head -n 8
        for f in "$TMPDIR"/crashes/"$t"-*; do
            [ -f "$f" ] && echo "  input ($(wc -c <"$f") bytes, base64): $(head -c 300 "$f" | base64 -w0)"
        done
        echo "  add it to tests/fuzz/regressions/$t/ so tests/fuzz_regressions.sh replays it"
    fi
done
exit $status
