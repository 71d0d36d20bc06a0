#!/usr/bin/env bash
# The chat REPL in a real pseudo-terminal: prompt, reply, /why, completion,
# exit; the history file keeps commands only; a second run resumes.
set -eu
fx=$SRC/tests/fixtures/basic
opts=(--rules "$fx/rules" --responses "$fx/responses" --state "$TMPDIR/state.db")
"$TESTBIN/ptytest" "$SRC/tests/repl/chat.script" -- "$PUSHPULL" chat "${opts[@]}"
hist=$XDG_STATE_HOME/pushpull/history
test -f "$hist" || { echo "no history file at $hist"; exit 1; }
grep -q '^/why' "$hist" || { echo "history lacks /why"; cat "$hist"; exit 1; }
if grep -q 'pulls away' "$hist"; then echo "history kept message text without --keep-transcripts"; exit 1; fi
[ "$(stat -c %a "$hist")" = 600 ] || { echo "history mode is not 0600"; exit 1; }
"$TESTBIN/ptytest" "$SRC/tests/repl/resume.script" -- "$PUSHPULL" chat "${opts[@]}"
echo "repl ok"
