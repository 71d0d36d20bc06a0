#!/usr/bin/env bash
# matrix_restart.sh -- restarts of the Matrix bot: a replayed sync after a
# clean restart (tests/matrix/replay.json), SIGKILL while a reply hangs and
# while parked in the long poll (kill.json), and SIGKILL at random moments
# under a steady stream of messages (storm.json).  Each must end with every
# message answered exactly once (checked by fake_matrix.py check).
set -u
MX_LIB=1 . "$SRC/tests/matrix.sh"

# 1. replay: stop, make the server replay from position 0, restart.
mx_server replay
mx_bot
mx_wait_file phase1
mx_stop
touch "$MX_D/stopped"
mx_wait_file rewound
mx_bot
mx_wait_log 'event=start .*resume=yes'
touch "$MX_D/started2"
mx_wait_file done
mx_stop
mx_check
skips=$(grep -c 'event=skip .*reason=already_handled' "$MX_D/bot.log")
[ "$skips" -ge 2 ] || mx_fail "replayed events were not skipped as handled ($skips)"
echo "replay: $skips replayed events skipped, each message answered once"

# 2. SIGKILL while a send hangs after and before the server acted, then
#    while parked in the long poll.
mx_server kill
mx_bot
n=1
for m in hung hung2 idle2; do
    mx_wait_file $m
    mx_kill
    mx_bot
    n=$((n+1))
    end=$((SECONDS + 30))
    until [ "$(grep -c 'event=start .*resume=yes' "$MX_D/bot.log")" -ge $((n-1)) ]; do
        [ $SECONDS -gt $end ] && mx_fail "restart $n did not start"; sleep 0.1; done
    touch "$MX_D/started$n"
done
mx_wait_file done
mx_stop
mx_check
echo "kill: 3 SIGKILLs (send hung after/before acting, long poll): each reply stored once, $(mx_count duplicate_txn) resend(s) folded by txnId"

# 3. SIGKILL at random moments while 31 messages flow.
mx_server storm
RANDOM=42
kills=0
mx_bot
mx_wait_file go
end=$((SECONDS + 50))
while [ ! -e "$MX_D/done" ]; do
    [ $SECONDS -gt $end ] && mx_fail "storm did not finish"
    sleep "0.$((RANDOM % 4 + 1))"
    [ -e "$MX_D/done" ] && break
    if [ $kills -lt 15 ]; then
        mx_kill; kills=$((kills+1)); mx_bot
    fi
done
mx_stop
mx_check
echo "storm: $kills SIGKILLs, duplicate txn PUTs folded by the server: $(mx_count duplicate_txn)"
exit 0
