#!/usr/bin/env bash
# The command line as curl and jq behave: an unknown option is named, with
# "did you mean" when it is close and a pointer to --help (exit 2); `reply`
# reads files and "-" in turn, in one session; `check --json`; bad values
# (--min-accuracy abc, reframe "") are usage errors; --region takes ISO
# 3166 codes (gb), warns once about a region it has no lines for, and
# defaults from the locale (en_GB -> uk) for the terminal subcommands.
set -eu
P=$PUSHPULL
fx=$SRC/tests/fixtures/basic
R=(--rules "$fx/rules" --responses "$fx/responses")
fail() { echo "FAIL: $*"; exit 1; }
# usage WHAT WANT... -- COMMAND: exit 2, and stderr holds every WANT
usage() {
    local what=$1; shift
    local want=()
    while [ "$1" != -- ]; do want+=("$1"); shift; done; shift
    set +e; "$@" </dev/null >"$TMPDIR/out" 2>"$TMPDIR/err"; local rc=$?; set -e
    [ $rc = 2 ] || fail "$what: exit $rc, wanted 2: $(cat "$TMPDIR/err")"
    [ ! -s "$TMPDIR/out" ] || fail "$what: wrote to stdout: $(cat "$TMPDIR/out")"
    for w in "${want[@]}"; do
        grep -qF -- "$w" "$TMPDIR/err" || fail "$what: stderr lacks \"$w\": $(cat "$TMPDIR/err")"
    done
}

# unknown options, named, with a suggestion when close
usage "chat --nwe" "'--nwe'" "did you mean '--new'?" "'pushpull chat --help'" -- $P chat --nwe
usage "bare --nwe (the chat's options)" "did you mean '--new'?" -- $P --nwe
usage "reply --jsn" "unknown option '--jsn'" "did you mean '--json'?" -- $P reply --jsn
usage "reply --regoin=uk" "did you mean '--region'?" -- $P reply --regoin=uk
usage "check --min-acuracy" "did you mean '--min-accuracy'?" -- $P check --min-acuracy 5
usage "reframe --jsno" "did you mean '--json'?" "'pushpull reframe --help'" -- $P reframe --jsno x
usage "check --frobnicate-all" "unknown option '--frobnicate-all'" "'pushpull check --help'" -- $P check --frobnicate-all
if grep -q "did you mean" "$TMPDIR/err"; then fail "a far-off option got a suggestion: $(cat "$TMPDIR/err")"; fi
usage "chat foo" "unexpected argument 'foo'" -- $P chat foo
usage "pushpull chta" "unknown subcommand 'chta'" "did you mean 'chat'?" "'pushpull --help'" -- $P chta

# bad values
usage "--min-accuracy abc" "--min-accuracy takes a percentage" "'abc'" -- $P check --min-accuracy abc
usage "--min-accuracy 101" "'101'" -- $P check --min-accuracy=101
usage "--min-accuracy 50x" "'50x'" -- $P check --min-accuracy 50x
usage "--min-accuracy with no value" "needs a value" -- $P check --min-accuracy
usage "--corpus with no value" "needs a value" -- $P check --corpus
usage 'reframe ""' "the complaint is empty" -- $P reframe ""
usage 'reframe " " ""' "the complaint is empty" -- $P reframe " " ""

# reply: files and "-" in turn, one session (the disclaimer once), and a
# file that cannot be read is named, skipped, and fails the run
printf 'my wife pulls away when we get close\n' >"$TMPDIR/a.txt"
printf 'she pulls away again\n' >"$TMPDIR/c.txt"
set +e
printf 'she pulls away\n' | $P reply "${R[@]}" --no-state "$TMPDIR/a.txt" - "$TMPDIR/missing.txt" "$TMPDIR/c.txt" \
    >"$TMPDIR/out" 2>"$TMPDIR/err"; rc=$?
set -e
[ $rc = 1 ] || fail "reply with a missing file: exit $rc"
grep -qF "$TMPDIR/missing.txt: No such file or directory" "$TMPDIR/err" || fail "missing file not named: $(cat "$TMPDIR/err")"
[ "$(wc -l <"$TMPDIR/out")" = 3 ] || fail "reply FILE - FILE: $(cat "$TMPDIR/out")"
head -1 "$TMPDIR/out" | grep -q '^DISCLAIMER.*your wife pulls away' || fail "first file first: $(cat "$TMPDIR/out")"
[ "$(grep -c DISCLAIMER "$TMPDIR/out")" = 1 ] || fail "the files were not one session: $(cat "$TMPDIR/out")"
out=$(printf 'my wife pulls away\n' | $P reply "${R[@]}" --no-state --json -- -)
echo "$out" | grep -q '"rule": *"test.pulls-away"' || fail "reply -- -: $out"

# check --json: one JSON object; the corpus below --min-accuracy fails it
mkdir "$TMPDIR/corpus"
printf 'my wife pulls away\tpursuer\tdistance-dance\nhello there\tpursuer\t-\n' >"$TMPDIR/corpus/a.tsv"
set +e
$P check --json "${R[@]}" --corpus "$TMPDIR/corpus" --min-accuracy 60 >"$TMPDIR/check.json" 2>"$TMPDIR/err"; rc=$?
set -e
[ $rc = 1 ] || fail "check --json below the minimum: exit $rc"
python3 - "$TMPDIR/check.json" <<'PY' || fail "check --json: $(cat "$TMPDIR/check.json")"
import json, sys
o = json.load(open(sys.argv[1]))
assert o["ok"] is False and o["failed"] == 0, o
assert o["rules"] > 0 and o["examples"] > 0
assert isinstance(o["problems"], list)
c, = o["corpus"]
assert c["file"] == "a.tsv" and c["messages"] == 2 and c["role_ok"] == 1, c
assert c["role_accuracy"] == 50 and c["below_minimum"] is True, c
assert o["misses"][0]["text"] == "hello there" and o["misses"][0]["want"] == "pursuer", o["misses"]
assert o["hits"]["rules"]["test.pulls-away"] == 1, o["hits"]
PY
$P check --json "${R[@]}" --corpus "$TMPDIR/corpus" >"$TMPDIR/check.json" || fail "check --json without a minimum failed"
python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); assert o["ok"] is True' "$TMPDIR/check.json" \
    || fail "check --json: ok is not true"
# a failed example is a problem with its file and line
set +e
$P check --json --rules "$SRC/tests/fixtures/broken/rules" --responses "$SRC/tests/fixtures/broken/responses" \
    >"$TMPDIR/check.json" 2>/dev/null; rc=$?
set -e
[ $rc = 1 ] || fail "check --json on broken rules: exit $rc"

# regions: ISO codes, one warning for an unknown region, the locale
crisis() { echo "my wife hit me" | env "$@" "$P" reply "${R[@]}" --no-state 2>"$TMPDIR/err"; }
for r in gb GB GBR uk england; do
    crisis PUSHPULL_REGION=$r | grep -q "Samaritans" || fail "region $r is not the UK"
done
crisis LANG=en_GB.UTF-8 | grep -q "Samaritans" || fail "LANG=en_GB did not give the UK lines"
crisis LANG=en_US.UTF-8 LC_ALL=en_GB.UTF-8 | grep -q "Samaritans" || fail "LC_ALL does not win over LANG"
crisis LANG=en_GB.UTF-8 PUSHPULL_REGION=us | grep -q "local emergency" || fail "PUSHPULL_REGION does not win over the locale"
crisis LANG=de_AT.UTF-8 | grep -q "local emergency" || fail "an unlisted locale country: not the default lines"
[ ! -s "$TMPDIR/err" ] || fail "the locale's region warned: $(cat "$TMPDIR/err")"
crisis PUSHPULL_REGION=xx | grep -q "local emergency" || fail "unknown region: not the default lines"
[ "$(grep -c "no crisis lines for the region 'xx'" "$TMPDIR/err")" = 1 ] || fail "unknown region warning: $(cat "$TMPDIR/err")"
grep -q "using the international ones" "$TMPDIR/err" && grep -q "Regions: uk" "$TMPDIR/err" \
    || fail "the warning does not say which lines: $(cat "$TMPDIR/err")"
printf 'my wife hit me\nmy wife hit me\n' | $P reply "${R[@]}" --no-state --region xx >/dev/null 2>"$TMPDIR/err"
[ "$(grep -c 'no crisis lines' "$TMPDIR/err")" = 1 ] || fail "the warning is not once: $(cat "$TMPDIR/err")"
# check --read: how the shipped rules read a message, and the rule that wins
out=$($P check --rules "$SRC/rules" --responses "$SRC/responses" --read 'he said "I need space" and I cried')
printf '%s\n' "$out" | grep -q '^@p .*: i need space' || fail "check --read: the quote is not the partner's: $out"
printf '%s\n' "$out" | grep -q '^rule: dance.partner-needs-space .*role pursuer' || fail "check --read: winner: $out"
out=$($P check --rules "$SRC/rules" --responses "$SRC/responses" --read=hello)
printf '%s\n' "$out" | grep -q '^rule: ' || fail "check --read=TEXT: $out"
usage "check --read" "--read needs a value" -- $P check --read
echo "cli_args ok"
