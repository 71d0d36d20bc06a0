#!/usr/bin/env bash
# matrix_notices.sh -- what the Matrix bot says by itself is data
# (responses/bots.responses; tests/matrix/notices.json): with the shipped
# responses an image gets "I can only read text" and a quiet DM the
# greeting; with a copy where a coach edited both sentences, the edited
# words reach the fake homeserver (and the shipped checks would fail on
# them); with a copy without the greeting's set, the DM gets no notice at
# all and the log says why.
set -u
MX_LIB=1 . "$SRC/tests/matrix.sh"
HELLO="Hi there, I am a coaching bot (edited): tell me about a moment with your partner."
NOTTEXT="Words only, please: I cannot see pictures (edited)."

# bodies ROOM TXN_PREFIX: the bodies of the bot's messages in ROOM whose
# transaction id starts with TXN_PREFIX, one a line
bodies() {
    python3 -c 'import json,sys
for s in json.load(open(sys.argv[1]))["sent"]:
    if s["room_id"] == sys.argv[2] and s["txn"].startswith(sys.argv[3]): print(s["body"])' \
        "$MX_D/state.json" "$1" "$2"
}
# run RESPONSES: the scenario from scratch with the bot on RESPONSES
run() {
    MX_RESP=$1
    rm -rf "$TMPDIR/notices"     # a fresh server directory and state
    mx_server notices
    mx_bot
    mx_wait_file done
    mx_stop
}

# 1. the shipped sentences
run "$SRC/responses"
mx_check
bodies '!plain:example.org' pp. | grep -q '^I can only read text' || mx_fail "the image did not get the shipped sentence"
bodies '!quiet:example.org' pp.hello. | grep -q 'automated relationship coach' || mx_fail "no shipped greeting"
bodies '!quiet:example.org' pp.hello. | grep -q -F "$HELLO" && mx_fail "the edited greeting without the edit"
bodies '!plain:example.org' pp. | grep -q -F "$NOTTEXT" && mx_fail "the edited not-text sentence without the edit"
echo "shipped: the image and the greeting said as shipped"

# 2. a coach's copy with both sentences edited
R=$TMPDIR/responses
cp -r "$SRC/responses" "$R"
python3 - "$R/bots.responses" "$HELLO" "$NOTTEXT" <<'PY' || mx_fail "could not edit the copy"
import sys
path, hello, nottext = sys.argv[1:4]
text = open(path).read()
for old, new in (("  Hello, I'm an automated relationship coach", "  " + hello + "\n  "),
                 ("  I can only read text. Write to me in words and I will answer.", "  " + nottext)):
    assert text.count(old) == 1, old
    i = text.index(old)
    j = text.index("\n", i)
    text = text[:i] + new.rstrip("\n ") + text[j:]
open(path, "w").write(text)
PY
run "$R"
mx_check
[ "$(bodies '!plain:example.org' pp.)" = "$NOTTEXT" ] ||
    mx_fail "the image did not get the edited sentence: $(bodies '!plain:example.org' pp.)"
[ "$(bodies '!quiet:example.org' pp.hello.)" = "$HELLO" ] ||
    mx_fail "the DM did not get the edited greeting: $(bodies '!quiet:example.org' pp.hello.)"
echo "edited: both edited sentences reached the homeserver"

# 3. no greeting set: no notice in the DM, and the log says why
python3 "$SRC/tests/tools/drop_block.py" "$R/bots.responses" "set matrix.hello" "# Matrix: a room that is end-to-end encrypted" ||
    mx_fail "could not drop the greeting"
run "$R"
mx_check
[ -z "$(bodies '!quiet:example.org' '')" ] || mx_fail "a notice in the DM without a greeting: $(bodies '!quiet:example.org' '')"
grep -q 'event=hello room="!quiet:example.org" action=none' "$MX_D/bot.log" || mx_fail "no log line for the greeting left out"
echo "no greeting set: the DM got no notice, the log says so"
exit 0
