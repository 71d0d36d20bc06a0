#!/usr/bin/env bash
# run.sh: early (one of the longest cases; tests/run.sh starts it first)
# valgrind.sh -- the leak and memory-error check of issue 10, under
#   valgrind --leak-check=full --error-exitcode=1
#            --errors-for-leak-kinds=definite,indirect
# (1) the REPL in batch mode (`pushpull chat --no-state`, stdin not a tty)
# over every message of tests/corpus plus the commands; (2) `pushpull reply
# --no-state` over the whole corpus; (3) the Telegram bot through the chat
# scenario of tests/telegram.sh (fake Bot API, helpers from
# tests/telegram/lib.sh), stopped by SIGTERM; (4) the Matrix bot through the
# conversation scenario of tests/matrix.sh (helpers: MX_LIB=1).  The bots
# run with PUSHPULL pointing at a wrapper that execs valgrind, so the
# scenario scripts drive them unchanged.  Only in the plain pass: under
# SAN=1 the binaries carry ASan, which valgrind cannot run.
set -u
if [ "${SAN:-}" = 1 ]; then
    echo "valgrind: skipped in the SAN pass (ASan binaries cannot run under valgrind)"
    exit 77
fi
if ! command -v valgrind >/dev/null 2>&1; then
    if command -v dpkg >/dev/null 2>&1; then
        echo "valgrind: FAIL: valgrind is not installed (make test-deps installs it)" >&2
        exit 1
    fi
    echo "valgrind: skipped: not installed and not Debian"
    exit 77
fi
REAL=$PUSHPULL
# PCRE2's JIT runs generated code that valgrind cannot map to any object
# (frames "???") and that reads whole words (SIMD: 16 or 32 bytes at a
# time, when it searches for a pattern's first character) past the
# subject's end: those reports are false positives, one suppression per
# kind of report.  obj:??? matches only such unmapped frames
# (every real object has a longer path), so errors in our code, libraries
# and leaks are still reported.
for kind in Cond Value8 Addr16 Addr32; do
    printf '{\n   pcre2-jit-generated-code-%s\n   Memcheck:%s\n   obj:???\n}\n' "$kind" "$kind"
done >"$TMPDIR/pcre2-jit.supp"
VG=(valgrind --suppressions="$TMPDIR/pcre2-jit.supp" --quiet --leak-check=full --error-exitcode=1
    --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect
    --track-fds=no --num-callers=30)
fail() { echo "FAIL: $*"; exit 1; }

corpus=$TMPDIR/corpus.txt
cut -f1 "$SRC/tests/corpus/train.tsv" "$SRC/tests/corpus/holdout.tsv" | grep -v '^#' | grep . >"$corpus"
n=$(wc -l <"$corpus")

# (1) the REPL in batch mode, commands included
{ echo "/help"; head -n 40 "$corpus"; echo "/why"; echo "/reframe you never listen to me"
  echo "/reset"; tail -n +41 "$corpus"; echo "/why"; echo "/quit"; } >"$TMPDIR/chat.in"
"${VG[@]}" --log-file="$TMPDIR/vg-chat.log" "$REAL" chat --no-state \
    --rules "$SRC/rules" --responses "$SRC/responses" <"$TMPDIR/chat.in" >"$TMPDIR/chat.out" 2>&1
rc=$?
[ $rc = 0 ] || { cat "$TMPDIR/vg-chat.log"; tail -5 "$TMPDIR/chat.out"; fail "chat under valgrind: exit $rc"; }
echo "valgrind chat: $n corpus messages + commands, clean"

# (2) reply over the whole corpus
"${VG[@]}" --log-file="$TMPDIR/vg-reply.log" "$REAL" reply --json --no-state \
    --rules "$SRC/rules" --responses "$SRC/responses" <"$corpus" >"$TMPDIR/reply.out" 2>"$TMPDIR/reply.err"
rc=$?
[ $rc = 0 ] || { cat "$TMPDIR/vg-reply.log" "$TMPDIR/reply.err"; fail "reply under valgrind: exit $rc"; }
[ "$(wc -l <"$TMPDIR/reply.out")" = "$n" ] || fail "reply under valgrind: $(wc -l <"$TMPDIR/reply.out") replies for $n messages"
echo "valgrind reply: $n replies, clean"

# the bots: the scenario helpers start "$PUSHPULL", here valgrind around it
cat >"$TMPDIR/vgwrap" <<WRAP
#!/bin/sh
exec ${VG[*]} --log-file=$TMPDIR/vg-bot.%p.log "$REAL" "\$@"
WRAP
chmod +x "$TMPDIR/vgwrap"
bot_logs_clean() {
    local f bad=0
    compgen -G "$TMPDIR/vg-bot.*.log" >/dev/null || { echo "no valgrind log: the bot did not run under valgrind"; return 1; }
    for f in "$TMPDIR"/vg-bot.*.log; do
        [ -s "$f" ] && { echo "--- $f"; cat "$f"; bad=1; }
    done
    rm -f "$TMPDIR"/vg-bot.*.log
    return $bad
}

# (3) Telegram: the chat scenario, then SIGTERM
(
    export PUSHPULL=$TMPDIR/vgwrap
    . "$SRC/tests/telegram/lib.sh"
    start_fake "$SC/chat.json"
    start_bot vgbot 123456:TEST-chat-token-Zq9
    wait_sent 10 90 || fail "telegram under valgrind: not every message answered: $(tail -5 "$TMPDIR/vgbot.err")"
    stop_bot
    [ "$BOT_STATUS" = 0 ] || { tail -20 "$TMPDIR/vgbot.err"; fail "telegram under valgrind: exit $BOT_STATUS"; }
    no_token 123456:TEST-chat-token-Zq9 "$TMPDIR"/vg-bot.*.log
) || exit 1
bot_logs_clean || fail "telegram bot: valgrind errors"
echo "valgrind telegram: chat scenario answered, SIGTERM exit 0, clean"

# (4) Matrix: the conversation scenario, then SIGTERM
(
    export PUSHPULL=$TMPDIR/vgwrap MX_LIB=1
    . "$SRC/tests/matrix.sh"
    mx_server conversation
    mx_bot --allow '@*:example.org'
    mx_wait_file done 90
    mx_stop
    mx_check
) || exit 1
bot_logs_clean || fail "matrix bot: valgrind errors"
echo "valgrind matrix: conversation scenario passed, SIGTERM exit 0, clean"
