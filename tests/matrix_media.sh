#!/usr/bin/env bash
# matrix_media.sh -- issue 21, item 9 (tests/matrix/media.json): an
# m.sticker gets the same "I can only read text" as an image (before: not
# even asked for by the sync filter, never answered); a message in a
# thread is answered in its thread, in a DM (is_falling_back) and in a
# group (a real reply); after two failed syncs the bot logs
# event=sync_recovered attempts=N, and the transport error is logged
# whole (before: cut at 64 bytes, so its closing parenthesis was lost).
set -u
MX_LIB=1 . "$SRC/tests/matrix.sh"
mx_server media
mx_bot
mx_wait_file done
mx_stop
mx_check
# each failed sync is logged (curl itself retries a drop on a reused
# connection once, so the fake's 3 drops are 2 or 3 failures), and the
# first good sync after them counts them
n=$(grep -c 'event=http call=sync attempt=' "$MX_D/bot.log")
[ "$n" -ge 1 ] || mx_fail "no failed sync logged"
grep -q "event=sync_recovered attempts=$n\$" "$MX_D/bot.log" ||
    mx_fail "want sync_recovered attempts=$n: $(grep -m1 sync_recovered "$MX_D/bot.log")"
grep -q 'event=http call=sync attempt=1 error="connection failed (Server returned nothing (no headers, no data): Empty reply from server)"$' \
    "$MX_D/bot.log" || mx_fail "the transport error is not logged whole: $(grep -m1 'call=sync attempt' "$MX_D/bot.log")"
echo "media: sticker and image told, threads answered in their thread, $(grep -m1 -o 'event=sync_recovered.*' "$MX_D/bot.log")"
exit 0
