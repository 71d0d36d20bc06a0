# lib.sh -- helpers shared by tests/telegram*.sh: start the fake Bot API
# (tests/fake_telegram.py) and the bot against it, read the fake's report.
# Needs PUSHPULL, SRC and TMPDIR from tests/run.sh.
FAKE=$SRC/tests/fake_telegram.py
SC=$SRC/tests/telegram
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$TMPDIR"/bot*.err; do [ -f "$f" ] && { echo "--- $f"; tail -n 25 "$f"; }; done; exit 1; }

# start_fake SCENARIO [extra args...]: sets FAKE_PID, PORT, API; log in $TMPDIR/sent.jsonl
start_fake() {
    local sc=$1; shift
    rm -f "$TMPDIR/port"
    python3 "$FAKE" --scenario "$sc" --port-file "$TMPDIR/port" --log "$TMPDIR/sent.jsonl" "$@" \
        2>>"$TMPDIR/fake.err" &
    FAKE_PID=$!; PIDS+=("$FAKE_PID")
    for _ in $(seq 100); do [ -s "$TMPDIR/port" ] && break; sleep 0.1; done
    [ -s "$TMPDIR/port" ] || fail "the fake server did not start"
    PORT=$(cat "$TMPDIR/port"); API=http://127.0.0.1:$PORT
}

# start_bot NAME TOKEN [args...]: sets BOT_PID; stderr in $TMPDIR/NAME.err
start_bot() {
    local name=$1 token=$2; shift 2
    TELEGRAM_BOT_TOKEN=$token "$PUSHPULL" telegram --api-url "$API" --state "$TMPDIR/state.db" \
        --rules "$SRC/rules" --poll-timeout 5 "$@" >"$TMPDIR/$name.out" 2>"$TMPDIR/$name.err" &
    BOT_PID=$!; PIDS+=("$BOT_PID")
}

# report SCENARIO [--expect EXPR]...: the fake's summary of what was sent
# (and of its /admin/state) as JSON; exit 1 when an expectation is false
report() { local sc=$1; shift; python3 "$FAKE" report --scenario "$sc" --log "$TMPDIR/sent.jsonl" --api "$API" "$@"; }
sent_count() { [ -f "$TMPDIR/sent.jsonl" ] && wc -l <"$TMPDIR/sent.jsonl" || echo 0; }

# wait_sent N SECONDS: until N messages were accepted by the fake (or the bot died)
wait_sent() {
    local deadline=$((SECONDS + $2))
    while [ $SECONDS -lt $deadline ]; do
        [ "$(sent_count)" -ge "$1" ] && return 0
        kill -0 "$BOT_PID" 2>/dev/null || return 1
        sleep 0.2
    done
    return 1
}

# stop_bot: SIGTERM, wait, the exit status in BOT_STATUS
stop_bot() { kill -TERM "$BOT_PID"; wait "$BOT_PID"; BOT_STATUS=$?; }

# no_token TOKEN FILES...: the token appears in none of them
no_token() { local t=$1; shift; ! grep -F -q -- "$t" "$@" || fail "the token leaked into $*"; }

# say CHAT TEXT: the fake delivers TEXT from private chat CHAT
say() {
    python3 - "$API" "$1" "$2" <<'PY'
import json, sys, urllib.request
u = {"message": {"chat": {"id": int(sys.argv[2]), "type": "private", "first_name": "U"},
                 "text": sys.argv[3]}}
urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/admin/inject",
    data=json.dumps({"updates": [u]}).encode(), headers={"Content-Type": "application/json"}))
PY
}
# to_chat CHAT: how many messages the fake accepted for CHAT
to_chat() { local n=0; [ -f "$TMPDIR/sent.jsonl" ] && n=$(grep -c "\"chat_id\": $1," "$TMPDIR/sent.jsonl"); echo "${n:-0}"; }
# wait_chat CHAT N SECONDS: until CHAT got N messages
wait_chat() {
    local deadline=$((SECONDS + $3))
    while [ $SECONDS -lt $deadline ]; do
        [ "$(to_chat "$1")" -ge "$2" ] && return 0
        kill -0 "$BOT_PID" 2>/dev/null || return 1
        sleep 0.2
    done
    return 1
}
# last_to CHAT: the text of the last message to CHAT
last_to() { python3 -c '
import json, sys
m = [json.loads(l) for l in open(sys.argv[1]) if json.loads(l)["chat_id"] == int(sys.argv[2])]
print(m[-1]["text"] if m else "")' "$TMPDIR/sent.jsonl" "$1" 2>/dev/null; }
# set_clock "2026-12-07 19:00:30" (UTC): the fake time the bot reads
set_clock() { date -u -d "$1" +%s >"$TMPDIR/clock.tmp" && mv "$TMPDIR/clock.tmp" "$TMPDIR/clock"; }
