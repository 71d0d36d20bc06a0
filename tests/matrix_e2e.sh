#!/usr/bin/env bash
# matrix_e2e.sh -- end-to-end encryption against tests/fake_matrix.py,
# whose users have libolm client devices (tests/e2e_client.py,
# python3-olm): an encrypted DM (coaching and crisis replies in
# m.room.encrypted, read by alice's device as m.notice), kill -9 in the
# middle (no re-answer, keys kept, nothing shared again), a key arriving
# late (answered when it comes), a key that never comes (one notice once
# the bot's clock passed the 60 s wait), then members joining and leaving
# (tests/matrix/e2e.json, e2e_join.json).  Skipped (77) without python3-olm.
set -u
MX_LIB=1 . "$SRC/tests/matrix.sh"
MX_PY=
for p in python3 /usr/bin/python3; do
    if "$p" -c 'import olm' 2>/dev/null; then MX_PY=$p; break; fi
done
if [ -z "$MX_PY" ]; then
    echo "SKIP: no python3 with the olm module (Debian: apt-get install python3-olm)"
    exit 77
fi
export PUSHPULL_CLOCK=$TMPDIR/clock
date +%s >"$PUSHPULL_CLOCK"

# 1. the conversation, a restart, a late key, a key that never comes
mx_server e2e
mx_bot
mx_wait_file phase1
mx_kill
mx_bot
mx_wait_log 'event=e2e status=on .*keys=restored'
touch "$MX_D/restarted"
mx_wait_file waiting
echo $(( $(cat "$PUSHPULL_CLOCK") + 61 )) >"$PUSHPULL_CLOCK.tmp" && mv "$PUSHPULL_CLOCK.tmp" "$PUSHPULL_CLOCK"
mx_wait_file done
mx_stop
mx_check
grep -q 'event=e2e_waiting .*reason=' "$MX_D/bot.log" || mx_fail "no event=e2e_waiting for the late key"
grep -q 'event=e2e_retry .*status=opened' "$MX_D/bot.log" || mx_fail "the late message was not retried"
[ "$(grep -c 'event=e2e status=on .*keys=new' "$MX_D/bot.log")" = 1 ] || mx_fail "the device was made more than once"
for k in "$MX_D/state.db.e2e-key"; do
    [ "$(stat -c %a "$k")" = 600 ] || mx_fail "$k is mode $(stat -c %a "$k")"
done
key=$(cat "$MX_D/state.db.e2e-key")
grep -q -F "$key" "$MX_D/bot.log" && mx_fail "the pickle key is in the log"
grep -a -q -F "$key" "$MX_D/state.db" && mx_fail "the pickle key is in the state database"
grep -q -E 'husband|hits me|boyfriend' "$MX_D/bot.log" && mx_fail "message text in the log"
n=$(sqlite3 "$MX_D/state.db" "SELECT count(*) FROM crypto" 2>/dev/null || python3 -c 'import sqlite3,sys;print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM crypto").fetchone()[0])' "$MX_D/state.db")
[ "$n" = 3 ] || mx_fail "after /forget the state holds $n encryption rows, want 3 (account, devices, waiting)"
echo "e2e: 6 encrypted messages answered once in m.room.encrypted (read as m.notice by alice's device), across kill -9 and a /forget; late key retried; one could-not-read notice"

# 2. members joining and leaving
mx_server e2e_join
mx_bot
mx_wait_file done
mx_stop
mx_check
grep -q 'event=e2e_share .*reason=member_left' "$MX_D/bot.log" || mx_fail "no new session after bob left"
echo "e2e_join: bob's new device read the next reply; after he left, a new session he cannot read"
exit 0
