#!/usr/bin/env bash
# The CLI's input and output under attack: a 50 MB line streamed through a
# pipe costs no more memory than a short one (under ulimit -v, plain build
# only: ASan reserves terabytes of address space) and the line after it is
# still answered; a read error and a write error (>/dev/full) exit 1 with a
# message; the chat reading a pipe takes "/forget\r\n" as the command.
set -eu
P=$PUSHPULL
fx=$SRC/tests/fixtures/basic
fail() { echo "FAIL: $*"; exit 1; }

# a 50 MB line, then a normal one: both answered, the first cut with notices
long() { python3 -c '
import sys
w = sys.stdout.buffer
for _ in range(50): w.write(b"x" * (1 << 20))
w.write(b"\nhe pulls away when we get close\n")'; }
check_long() {   # $1: what ran
    [ "$(wc -l <"$TMPDIR/long.out")" = 2 ] || fail "$1: answered $(wc -l <"$TMPDIR/long.out") of 2 lines"
    python3 - "$TMPDIR/long.out" <<'PY' || fail "$1: replies"
import json, sys
a, b = [json.loads(l) for l in open(sys.argv[1])]
assert a["notice"] and "long" in a["notice"], a
assert b["role"] == "pursuer" and b["rule"], b
PY
    grep -q "line 1 is longer than 8192 bytes" "$TMPDIR/long.err" || fail "$1: no notice on stderr"
}
if [ "${SAN:-}" = 1 ]; then
    echo "cli_io: the ulimit -v check skipped in the SAN pass (ASan needs huge virtual memory)"
else
    # the program needs about 35 MB of address space; getline's buffer for
    # this line alone would be 64 MB
    (ulimit -v 80000; long | $P reply --json --no-state >"$TMPDIR/long.out" 2>"$TMPDIR/long.err") \
        || fail "reply under ulimit -v exited $?: $(cat "$TMPDIR/long.err")"
    check_long "reply under ulimit -v 80000"
fi
long | $P reply --json --no-state >"$TMPDIR/long.out" 2>"$TMPDIR/long.err" || fail "reply exited $?"
check_long reply

# a read error is an error
set +e
$P reply --no-state </ >/dev/null 2>"$TMPDIR/err"; rc=$?
set -e
[ $rc = 1 ] || fail "reply reading a directory: exit $rc"
grep -q "standard input" "$TMPDIR/err" || fail "reply reading a directory: no message: $(cat "$TMPDIR/err")"

# a write error is an error, for every subcommand that answers on stdout
full() {   # $1: what; the command follows, its stdin already set
    local what=$1; shift
    set +e; "$@" >/dev/full 2>"$TMPDIR/err"; local rc=$?; set -e
    [ $rc = 1 ] || fail "$what >/dev/full: exit $rc"
    grep -q "pushpull: write error: No space left on device" "$TMPDIR/err" \
        || fail "$what >/dev/full: message: $(cat "$TMPDIR/err")"
}
echo "he pulls away" | full reply $P reply --no-state
echo "he pulls away" | full "reply --json" $P reply --json --no-state
echo "he pulls away" | full chat $P chat --no-state
echo "you never listen" | full "reframe (stdin)" $P reframe
full "reframe (arguments)" $P reframe you never listen
full check $P check --rules "$fx/rules" --responses "$fx/responses"
full --help $P --help

# the chat from a pipe strips "\r\n" like reply: /forget and /quit work
printf 'my wife pulls away\r\n/forget\r\n/quit\r\nnot answered\r\n' \
    | $P chat --rules "$fx/rules" --responses "$fx/responses" --state "$TMPDIR/state.db" >"$TMPDIR/chat.out"
grep -q "deleted everything" "$TMPDIR/chat.out" || fail "chat: /forget\\r was not the command: $(cat "$TMPDIR/chat.out")"
grep -q "Take care" "$TMPDIR/chat.out" || fail "chat: /quit\\r was not the command"
[ "$(grep -c . "$TMPDIR/chat.out")" = 4 ] || fail "chat: answered past /quit: $(cat "$TMPDIR/chat.out")"
echo "cli_io ok"
