#!/usr/bin/env bash
# bots_notify.sh -- the bots speak systemd's notify protocol (app/notify.c),
# heard by a python3 AF_UNIX datagram socket posing as $NOTIFY_SOCKET:
#   telegram (a socket path, WATCHDOG_USEC=400000, against the fake Bot API):
#     READY=1 first, WATCHDOG=1 from the poll loop (twice or more), and
#     STOPPING=1 last after SIGTERM;
#   matrix (an abstract "@name" socket, WATCHDOG_PID of another process,
#     against the fake homeserver): READY=1, STOPPING=1, no WATCHDOG=1
#     (it is another process's watchdog);
#   matrix with a refused token: exit 1 and no READY=1, so `systemctl
#     start` of a Type=notify unit fails at once.
# Without NOTIFY_SOCKET the other bot tests run unchanged.
set -u
. "$SRC/tests/telegram/lib.sh"
TOKEN=123456:TEST-chat-token-Zq9
# listen ADDR OUT: every datagram to ADDR, one JSON string a line in OUT
listen() {
    python3 - "$1" "$2" <<'PY' &
import json, socket, sys
addr, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + addr[1:] if addr.startswith("@") else addr)
open(out + ".ready", "w").close()
with open(out, "a") as f:
    while True:
        f.write(json.dumps(s.recv(4096).decode()) + "\n"); f.flush()
PY
    PIDS+=($!)
    for _ in $(seq 50); do [ -e "$2.ready" ] && return 0; sleep 0.1; done
    fail "the notify listener did not start"
}
msgs() { python3 -c 'import json,sys; [print(json.loads(l).replace("\n", "|")) for l in open(sys.argv[1])]' "$1"; }

# --- telegram: READY, WATCHDOG from the loop, STOPPING ----------------------
listen "$TMPDIR/notify.sock" "$TMPDIR/tg.notify"
start_fake "$SC/chat.json"
export NOTIFY_SOCKET=$TMPDIR/notify.sock WATCHDOG_USEC=400000
start_bot bot1 "$TOKEN" --poll-timeout 1
unset NOTIFY_SOCKET WATCHDOG_USEC
wait_sent 10 30 || fail "not every message was answered"
sleep 2.5     # idle polls of 1 s: the loop comes round, the watchdog is fed
stop_bot
[ "$BOT_STATUS" = 0 ] || fail "telegram: SIGTERM exit status $BOT_STATUS"
sleep 0.3
m=$(msgs "$TMPDIR/tg.notify")
echo "telegram sent: $(echo "$m" | sort | uniq -c | tr -s ' \n' ' ')"
[ "$(echo "$m" | head -n 1)" = "READY=1|STATUS=polling" ] || fail "telegram: the first message is not READY=1: $(echo "$m" | head -n 1)"
[ "$(echo "$m" | tail -n 1)" = "STOPPING=1" ] || fail "telegram: the last message is not STOPPING=1: $(echo "$m" | tail -n 1)"
nw=$(echo "$m" | grep -c '^WATCHDOG=1$')
[ "$nw" -ge 2 ] || fail "telegram: $nw WATCHDOG=1 in about 4 s of a 400 ms watchdog"
[ "$(echo "$m" | grep -c '^READY=1')" = 1 ] || fail "telegram: READY=1 more than once"

# --- matrix: an abstract socket; another process's watchdog ------------------
# (matrix.sh's helpers `wait` for every child: end ours first)
cleanup; PIDS=()
MX_LIB=1 . "$SRC/tests/matrix.sh"
trap 'for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; mx_cleanup' EXIT
mx_server conversation
abs=@pushpull-notify-test-$$-$RANDOM
listen "$abs" "$TMPDIR/mx.notify"
export NOTIFY_SOCKET=$abs WATCHDOG_USEC=100000 WATCHDOG_PID=1
mx_bot --allow '@*:example.org'
unset NOTIFY_SOCKET WATCHDOG_USEC WATCHDOG_PID
mx_wait_file done 50
mx_stop
sleep 0.3
m=$(msgs "$TMPDIR/mx.notify")
echo "matrix sent: $(echo "$m" | sort | uniq -c | tr -s ' \n' ' ')"
[ "$(echo "$m" | head -n 1)" = "READY=1|STATUS=syncing" ] || fail "matrix: the first message is not READY=1: $(echo "$m" | head -n 1)"
[ "$(echo "$m" | tail -n 1)" = "STOPPING=1" ] || fail "matrix: the last message is not STOPPING=1"
echo "$m" | grep -q WATCHDOG && fail "matrix: WATCHDOG=1 although WATCHDOG_PID is another process"

# --- a refused token: no READY ----------------------------------------------
: >"$TMPDIR/mx.notify"
NOTIFY_SOCKET=$abs MATRIX_ACCESS_TOKEN=syt_refused_token_0 "$PUSHPULL" matrix --homeserver "$MX_URL" \
    --state "$TMPDIR/bad.db" --rules "$MX_RULES" --responses "$MX_RESP" >"$TMPDIR/bad.out" 2>&1
rc=$?
sleep 0.3
[ "$rc" = 1 ] || fail "matrix with a refused token: exit $rc, want 1"
grep -q READY "$TMPDIR/mx.notify" && fail "matrix sent READY=1 with a refused token"
echo "refused token: exit 1, no READY=1 ($(msgs "$TMPDIR/mx.notify" | tr '\n' ' '))"
echo "bots_notify: ok"
