#!/usr/bin/env bash
# matrix_join.sh -- joining a room (tests/matrix/join.json): a message sent
# with the invite, before the bot could join, is answered once it joined
# (before: never); a DM with nothing to answer gets one hello, not repeated
# after a restart; a message sent before the invite is not answered.
set -u
MX_LIB=1 . "$SRC/tests/matrix.sh"
mx_server join
mx_bot
mx_wait_file phase1
mx_stop
mx_bot
mx_wait_log 'event=start .*resume=yes'
touch "$MX_D/restarted"
mx_wait_file done
mx_stop
mx_check
[ "$(grep -c 'event=hello ' "$MX_D/bot.log")" = 2 ] || mx_fail "want 2 hellos (!quiet, !old)"
grep -q 'event=hello room="!new' "$MX_D/bot.log" && mx_fail "a hello in a room with a message to answer"
echo "join: the message sent with the invite answered, 2 hellos, none repeated after a restart"
exit 0
