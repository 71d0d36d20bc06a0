#!/usr/bin/env bash
# telegram_menu.sh -- the command menu and the notices are data
# (responses/bots.responses, docs/deploy.md).  With the shipped responses
# the fake's setMyCommands sees the shipped menu; with a copy where a
# coach edited one description and the not-text sentence, and added four
# entries Telegram or the bot cannot take, the edited words reach the fake
# (setMyCommands, sendMessage), each bad entry is left out with its
# file:line in the log and in `pushpull check`, and the bot still starts;
# without the menu set it starts too and leaves Telegram's menu alone.
# The first run also proves the check of the edited words can fail.
set -u
. "$SRC/tests/telegram/lib.sh"
TOKEN=727272:TEST-menu-token-Mn5
SHIPPED="Turn a complaint into a gentle start-up"
EDITED="Soften a complaint before you say it"
NOTTEXT="Words only, please: I cannot see stickers or pictures."
COMMANDS='["start", "help", "reframe", "why", "reset", "plan", "checkin", "progress", "forget", "remind", "timezone", "pair", "answer", "unpair"]'

# run NAME RESPONSES: a fresh fake and state, the bot on RESPONSES until
# both updates are answered
run() {
    [ -n "${FAKE_PID:-}" ] && kill "$FAKE_PID" 2>/dev/null
    rm -f "$TMPDIR/sent.jsonl" "$TMPDIR"/state.db*
    start_fake "$SC/menu.json"
    start_bot "$1" "$TOKEN" --responses "$2"
    wait_sent 2 30 || fail "$1: not both updates answered: $(report "$SC/menu.json")"
}

# 1. the shipped responses: the shipped menu, and the edited expectation fails
run shipped "$SRC/responses"
report "$SC/menu.json" --expect "commands == $COMMANDS" --expect "menu['reframe'] == '$SHIPPED'" \
    --expect 'violations == 0' >"$TMPDIR/r" || { cat "$TMPDIR/r"; fail "the shipped menu did not reach the fake"; }
report "$SC/menu.json" --expect "menu['reframe'] == '$EDITED'" >/dev/null &&
    fail "the check of the edited description passes with the shipped one"
grep -q "\"I can only read text" "$TMPDIR/sent.jsonl" || fail "the sticker did not get the shipped sentence"
grep -q "$NOTTEXT" "$TMPDIR/sent.jsonl" && fail "the edited sentence without the edit"
grep -q 'event=menu_set commands=14' "$TMPDIR/shipped.err" || fail "no menu_set log line"
grep -q 'menu_entry_skipped' "$TMPDIR/shipped.err" && fail "the shipped menu has an entry left out"
stop_bot
[ "$BOT_STATUS" = 0 ] || fail "shipped: exit status $BOT_STATUS"

# 2. a coach's copy: one description and the not-text sentence edited,
# four bad entries added (their variant lines in $TMPDIR/lines)
R=$TMPDIR/responses
cp -r "$SRC/responses" "$R"
python3 - "$R/bots.responses" "$SHIPPED" "$EDITED" "$NOTTEXT" >"$TMPDIR/lines" <<'PY' || fail "could not edit the copy"
import sys
path, shipped, edited, nottext = sys.argv[1:5]
lines = open(path).read().split("\n")
def find(text):
    hits = [i for i, l in enumerate(lines) if l.strip() == text]
    assert len(hits) == 1, text
    return hits[0]
lines[find("reframe: " + shipped)] = "  reframe: " + edited
lines[find("I can only read text. Write to me in words and I will answer.")] = "  " + nottext
at = find("unpair: End the pairing") + 1
bad = ["Bad-Cmd: capital letters and a dash", "frobnicate: no command the bot answers",
       "help: said a second time", "why:"]
new = []
for b in bad:
    new += ["", "variant", "  " + b]
lines[at:at] = new
open(path, "w").write("\n".join(lines))
for k in range(len(bad)):          # the line of each bad entry's "variant"
    print(at + 2 + 3 * k)
PY
[ "$(wc -l <"$TMPDIR/lines")" = 4 ] || fail "the edit did not say its lines"
run edited "$R"
report "$SC/menu.json" --expect "commands == $COMMANDS" --expect "menu['reframe'] == '$EDITED'" \
    --expect "menu['help'] == 'What I can do'" --expect 'violations == 0' >"$TMPDIR/r" ||
    { cat "$TMPDIR/r"; fail "the edited menu did not reach the fake"; }
grep -q "\"$NOTTEXT\"" "$TMPDIR/sent.jsonl" || fail "the sticker did not get the edited sentence"
why=(lowercase "not a command the bot answers" "in the menu already" "no description")
k=0
while read -r line; do
    grep "event=menu_entry_skipped file=\"$R/bots.responses\" line=$line " "$TMPDIR/edited.err" |
        grep -q "${why[$k]}" || fail "entry at line $line: no menu_entry_skipped saying '${why[$k]}': $(grep menu_entry "$TMPDIR/edited.err")"
    k=$((k + 1))
done <"$TMPDIR/lines"
[ "$(grep -c menu_entry_skipped "$TMPDIR/edited.err")" = 4 ] || fail "not four entries left out"
grep -q 'event=menu_set commands=14' "$TMPDIR/edited.err" || fail "edited: no menu_set log line"
stop_bot
[ "$BOT_STATUS" = 0 ] || fail "edited: exit status $BOT_STATUS"
# ... and `pushpull check` warns of the same four, at the same lines
"$PUSHPULL" check --rules "$SRC/rules" --responses "$R" --quiet >"$TMPDIR/check.out" 2>&1 ||
    { tail -5 "$TMPDIR/check.out"; fail "check failed on the edited copy"; }
while read -r line; do
    grep -q "^$R/bots.responses:$line: WARN Telegram menu entry" "$TMPDIR/check.out" ||
        fail "check did not warn of the entry at line $line: $(grep 'menu entry' "$TMPDIR/check.out")"
done <"$TMPDIR/lines"
"$PUSHPULL" check --rules "$SRC/rules" --quiet 2>&1 | grep -q 'Telegram menu entry' &&
    fail "check warns of the shipped menu"

# 3. no menu set at all: the bot starts, answers, and calls no setMyCommands
python3 "$SRC/tests/tools/drop_block.py" "$R/bots.responses" "set telegram.menu" "# ---- notices ----" ||
    fail "could not drop the menu"
run nomenu "$R"
report "$SC/menu.json" --expect '"setMyCommands" not in calls' --expect 'menu is None' >"$TMPDIR/r" ||
    { cat "$TMPDIR/r"; fail "setMyCommands was called without a menu"; }
grep -q 'event=menu_empty' "$TMPDIR/nomenu.err" || fail "no menu_empty log line"
stop_bot
[ "$BOT_STATUS" = 0 ] || fail "nomenu: exit status $BOT_STATUS"
no_token "$TOKEN" "$TMPDIR"/shipped.err "$TMPDIR"/edited.err "$TMPDIR"/nomenu.err
echo "telegram_menu: all checks passed"
