#!/usr/bin/env bash
# The chat REPL in a real pseudo-terminal: prompt, reply, /why, completion,
# /reframe, exit; a second run resumes.  The history file: command words
# only ("/reframe", not its text) without --keep-transcripts, every line
# with it; /forget empties it at once (checked after a SIGKILL) and a clean
# exit then writes back only what came after; --no-state writes nothing.
set -eu
fx=$SRC/tests/fixtures/basic
opts=(--rules "$fx/rules" --responses "$fx/responses" --state "$TMPDIR/state.db")
pty() { script=$1; shift; "$TESTBIN/ptytest" "$SRC/tests/repl/$script" -- "$PUSHPULL" chat "$@"; }
fail() { echo "FAIL: $*"; [ -f "$hist" ] && sed 's/^/  history: /' "$hist"; exit 1; }
hist=$XDG_STATE_HOME/pushpull/history

pty chat.script "${opts[@]}"
test -f "$hist" || fail "no history file at $hist"
grep -qx '/why' "$hist" || fail "history lacks /why"
grep -qx '/reframe' "$hist" || fail "history lacks the bare command word /reframe"
# the dialog's parser says what a command is: "!RESET" is kept as /reset
grep -qx '/reset' "$hist" || fail "history lacks /reset for !RESET"
if grep -q -e 'pulls away' -e 'never plan' "$hist"; then fail "history kept message text without --keep-transcripts"; fi
[ "$(stat -c %a "$hist")" = 600 ] || fail "history mode is not 0600"
pty resume.script "${opts[@]}"

# --keep-transcripts: the user asked for every line
pty transcripts.script "${opts[@]}" --keep-transcripts
grep -qx 'my husband pulls away at night' "$hist" || fail "--keep-transcripts: message not kept"
grep -qx '/reframe You never plan anything for us' "$hist" || fail "--keep-transcripts: /reframe line not kept"

# /forget: gone before the answer (the program is killed right after it)
pty forget.script "${opts[@]}" --keep-transcripts
if [ -f "$hist" ] && grep -q -e husband -e /why -e /reframe "$hist"; then fail "/forget left the history"; fi
# /forget then a clean exit: only the lines after /forget come back
pty transcripts.script "${opts[@]}" --keep-transcripts
grep -q husband "$hist" || fail "history not refilled"
pty after-forget.script "${opts[@]}" --keep-transcripts
[ "$(cat "$hist")" = "$(printf '/why\n/quit')" ] || fail "after /forget and /quit the history holds more than /why and /quit"

# --no-state: no history file, not even the directory
XDG_STATE_HOME=$TMPDIR/nostate pty nostate.script --rules "$fx/rules" --responses "$fx/responses" --no-state
if [ -e "$TMPDIR/nostate" ]; then hist=$TMPDIR/nostate/pushpull/history; fail "--no-state wrote $(find "$TMPDIR/nostate")"; fi
echo "repl ok"
