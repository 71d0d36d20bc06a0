#!/usr/bin/env bash
# bots_cli -- the bots' command lines behave like the rest of pushpull
# (issue 22): --help on stdout describing every option, --version, an
# unknown option named with "did you mean" (exit 2), a missing token file
# named, a token file others can read warned about, and `matrix login`
# refusing before it contacts the server when the token file cannot be
# written (the server would make a device whose token is then lost).
set -u
P=$PUSHPULL
T=$TMPDIR
status=0
fail() { echo "FAIL: $*"; status=1; }

for cmd in "telegram" "matrix" "matrix login"; do
    out=$($P $cmd --help 2>"$T/err"); rc=$?
    [ $rc = 0 ] || fail "$cmd --help exit $rc"
    [ -s "$T/err" ] && fail "$cmd --help wrote to stderr: $(cat "$T/err")"
    grep -q "^usage: pushpull" <<<"$out" || fail "$cmd --help has no usage line: $out"
    v=$($P $cmd --version); [ "${v#pushpull }" != "$v" ] || fail "$cmd --version: $v"
done
help=$($P telegram --help)
for o in --token-file --api-url --allow-insecure-http --workers --max-backoff --keep-unsent \
         --max-chats --poll-timeout --log-text --log-rules --rules --responses --region --state --keep-transcripts; do
    grep -q -- "^  $o" <<<"$help" || fail "telegram --help does not describe $o"
done
help=$($P matrix --help)
for o in --homeserver --token-file --allow --sync-timeout --log-text --log-rules --allow-insecure-http \
         --rules --responses --region --state --keep-transcripts; do
    grep -q -- "^  $o" <<<"$help" || fail "matrix --help does not describe $o"
done
for o in --user --password-file; do grep -q -- "$o" <<<"$help" || fail "matrix --help does not describe login's $o"; done

# unknown options: named, a close one suggested, exit 2
check_unknown() {   # want-suggestion cmd...
    local want=$1; shift
    "$P" "$@" >/dev/null 2>"$T/err"; local rc=$?
    [ $rc = 2 ] || fail "$* exit $rc, want 2"
    grep -q "unknown option '${@: -1}'" "$T/err" || fail "$* does not name the option: $(cat "$T/err")"
    grep -q "did you mean '$want'" "$T/err" || fail "$* suggests no '$want': $(cat "$T/err")"
    grep -q -- "--help" "$T/err" || fail "$* has no pointer to --help"
}
check_unknown --workers telegram --wokers
check_unknown --homeserver matrix --homesrver
check_unknown --user matrix login --usr
$P telegram --workers abc >/dev/null 2>"$T/err"; rc=$?
[ $rc = 2 ] && grep -q "bad value for --workers: abc" "$T/err" || fail "--workers abc: exit $rc, $(cat "$T/err")"

# token files
$P telegram --token-file "$T/no-such-token" --state "$T/tg.db" >/dev/null 2>"$T/err"; rc=$?
[ $rc != 0 ] || fail "telegram with a missing token file exit 0"
grep -q "cannot open the token file $T/no-such-token" "$T/err" || fail "the missing token file is not named: $(cat "$T/err")"
echo "123456:ABCdef_ghi" > "$T/tok"; chmod 644 "$T/tok"
timeout 5 $P telegram --token-file "$T/tok" --api-url http://127.0.0.1:9 --state "$T/tg2.db" >/dev/null 2>"$T/err"
grep -q "token file $T/tok is readable by others" "$T/err" || fail "no warning for a token file others can read"
grep -q "ABCdef_ghi" "$T/err" && fail "the token reached the log"
chmod 600 "$T/tok"
timeout 5 $P telegram --token-file "$T/tok" --api-url http://127.0.0.1:9 --state "$T/tg3.db" >/dev/null 2>"$T/err"
grep -q "readable by others" "$T/err" && fail "a 0600 token file was warned about"

# matrix login checks the token file's directory before any request
echo "secret-password" > "$T/pw"; chmod 600 "$T/pw"
$P matrix login --homeserver http://127.0.0.1:9 --user @coach:example.org --password-file "$T/pw" \
    --token-file "$T/missing-dir/token" >/dev/null 2>"$T/err"; rc=$?
[ $rc = 1 ] || fail "matrix login into a missing directory: exit $rc"
grep -q "directory of --token-file $T/missing-dir/token does not exist" "$T/err" \
    || fail "matrix login did not refuse before logging in: $(cat "$T/err")"
grep -q "login failed" "$T/err" && fail "matrix login contacted the server first"
grep -q "secret-password" "$T/err" && fail "the password reached stderr"
[ $status = 0 ] && echo "bots_cli ok"
exit $status
