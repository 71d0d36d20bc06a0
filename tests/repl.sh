#!/usr/bin/env bash
# The chat REPL in a real pseudo-terminal: prompt, reply, /why, completion,
# /reframe, exit; a second run resumes.  Keys as in python and psql: Ctrl-C
# cancels the line and the chat goes on, empty Enter re-prompts, up-arrow
# recalls this run's messages that the file does not keep, exit/quit/bye
# leave, /forget asks first.  The screen: TERM=dumb gets no escapes,
# --color and NO_COLOR, the banner and a Chinese reply wrap by display
# width at 60 and 40 columns.  The history file: command words
# only ("/reframe", not its text) without --keep-transcripts, every line
# with it; /forget empties it at once (checked after a SIGKILL) and a clean
# exit then writes back only what came after; --no-state writes nothing.
set -eu
fx=$SRC/tests/fixtures/basic
opts=(--rules "$fx/rules" --responses "$fx/responses" --state "$TMPDIR/state.db")
pty() { script=$1; shift; "$TESTBIN/ptytest" "$SRC/tests/repl/$script" -- "$PUSHPULL" chat "$@"; }
# ptyx SIZE OUT SCRIPT [VAR=VALUE...] -- ARGS: another size, the transcript
# kept in OUT, the environment changed
ptyx() {
    local size=$1 out=$2 script=$3; shift 3
    local envs=()
    while [ "$1" != -- ]; do envs+=("$1"); shift; done; shift
    "$TESTBIN/ptytest" -s "$size" -o "$out" "$script" -- /usr/bin/env "${envs[@]}" "$PUSHPULL" chat "$@"
}
# widest FILE: the widest line the program wrote (escapes dropped, wide
# characters two columns; lines that echo what was typed are left out)
widest() { python3 - "$1" <<'PY'
import re, sys, unicodedata
t = open(sys.argv[1], encoding="utf-8", errors="replace").read()
t = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|[\x01\x02\x07]", "", t)
w = 0
for line in re.split(r"\r?\n", t):
    line = line.replace("\r", "")
    if line.startswith("you> "): continue
    w = max(w, sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line))
print(w)
PY
}
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

# Keys: Ctrl-C cancels the line (nothing answered for it), empty lines
# re-prompt, up-arrow recalls a message the file does not keep, exit leaves
pty keys.script "${opts[@]}" --state "$TMPDIR/keys.db" 2>"$TMPDIR/keys.err" \
    || fail "Ctrl-C / Enter / up-arrow / exit: $(cat "$TMPDIR/keys.err")"
"$TESTBIN/ptytest" -o "$TMPDIR/keys.out" "$SRC/tests/repl/keys.script" -- "$PUSHPULL" chat "${opts[@]}" --state "$TMPDIR/keys2.db"
if grep -q -e 'your husband' -e '^F[123] ' "$TMPDIR/keys.out"; then fail "a cancelled or empty line was answered"; fi
if grep -q 'wife pulls away' "$hist"; then fail "up-arrow recall wrote the message to the history file"; fi
for w in quit bye Exit; do
    sed "s/LEAVE/$w/" "$SRC/tests/repl/leave.script" >"$TMPDIR/leave.script"
    "$TESTBIN/ptytest" "$TMPDIR/leave.script" -- "$PUSHPULL" chat "${opts[@]}" --state "$TMPDIR/leave.db" \
        || fail "'$w' did not leave"
done

# the history is written as it goes: killed, it still has the command word
rm -f "$hist"
pty asgoes.script "${opts[@]}"
grep -qx '/why' "$hist" || fail "history not written as it goes (killed after /why)"
if grep -q husband "$hist"; then fail "the file kept a message without --keep-transcripts"; fi
[ "$(stat -c %a "$hist")" = 600 ] || fail "history appended with mode $(stat -c %a "$hist")"

# /forget asks; Enter or "no" deletes nothing
pty decline.script "${opts[@]}" --state "$TMPDIR/decline.db"
grep -qx '/why' "$hist" || fail "declined /forget emptied the history"

# TERM=dumb: not one escape; colour by --color and NO_COLOR
o=$TMPDIR/screen.out
ptyx 100x40 "$o" "$SRC/tests/repl/nostate.script" TERM=dumb -- "${opts[@]}" --new
if grep -q $'\x1b' "$o"; then fail "TERM=dumb got escapes: $(grep -a -o $'\x1b[^a-zA-Z]*[a-zA-Z]' "$o" | sort -u | tr '\n' ' ')"; fi
ptyx 100x40 "$o" "$SRC/tests/repl/nostate.script" TERM=xterm -- "${opts[@]}" --new
grep -q $'\x1b\[36m' "$o" || fail "no colour on an xterm by default"
ptyx 100x40 "$o" "$SRC/tests/repl/nostate.script" TERM=xterm NO_COLOR=1 -- "${opts[@]}" --new
if grep -q $'\x1b\[36m' "$o"; then fail "NO_COLOR=1 still coloured"; fi
ptyx 100x40 "$o" "$SRC/tests/repl/nostate.script" TERM=xterm NO_COLOR=1 -- "${opts[@]}" --new --color=always
grep -q $'\x1b\[36m' "$o" || fail "--color=always did not colour"
ptyx 100x40 "$o" "$SRC/tests/repl/nostate.script" TERM=xterm -- "${opts[@]}" --new --color=never
if grep -q $'\x1b\[36m' "$o"; then fail "--color=never still coloured"; fi
set +e; "$PUSHPULL" chat --color=sometimes </dev/null >/dev/null 2>"$TMPDIR/err"; rc=$?; set -e
[ $rc = 2 ] && grep -q 'auto, always or never' "$TMPDIR/err" || fail "--color=sometimes: exit $rc"

# the banner wraps at 60 columns; Chinese text by display width at 40
ptyx 60x20 "$o" "$SRC/tests/repl/nostate.script" TERM=xterm -- "${opts[@]}" --new
[ "$(widest "$o")" -le 59 ] || fail "at 60 columns a line is $(widest "$o") wide: $(cat "$o")"
grep -q 'Type /help' "$o" || fail "no banner"
ptyx 40x20 "$o" "$SRC/tests/repl/wide.script" TERM=dumb LANG=C.UTF-8 -- "${opts[@]}" --new
[ "$(widest "$o")" -le 39 ] || fail "at 40 columns Chinese text is $(widest "$o") columns wide: $(cat "$o")"
grep -q '我们' "$o" || fail "the reply did not reflect the Chinese text"
echo "repl ok"
