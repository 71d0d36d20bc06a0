#!/usr/bin/env bash
# matrix_encrypted.sh -- a plaintext message in an encrypted room is not
# coached in the clear (issue 21, item 6; tests/matrix/encrypted.json):
# (the bot speaks E2EE, so the room is not told it cannot be read) neither the first
# plaintext message nor, after a restart (an incremental sync without the
# room's state), the next ones are answered; the unencrypted room beside
# it is.  After the restart the bot asks the server for the room's
# m.room.encryption state before it answers there.
set -u
MX_LIB=1 . "$SRC/tests/matrix.sh"
mx_server encrypted
mx_bot
mx_wait_file phase1
mx_stop
mx_bot
mx_wait_log 'event=start .*resume=yes'
touch "$MX_D/restarted"
mx_wait_file done
mx_stop
mx_check
n=$(grep -c 'event=skip room="!enc:example.org" .*reason=encrypted_room' "$MX_D/bot.log")
[ "$n" = 3 ] || mx_fail "want 3 plaintext messages in the encrypted room skipped and logged, got $n"
echo "encrypted: 3 plaintext messages in an encrypted room not answered (one before, two after a restart)"
exit 0
