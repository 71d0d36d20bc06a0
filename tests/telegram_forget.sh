#!/usr/bin/env bash
# telegram_forget.sh -- /forget really deletes, in every spelling the
# dialog reads: "@bot /forget" in a group (the mention taken out leaves a
# leading space), "/forget@bot", "@bot !FORGET", "   /forget" in private.
# With --keep-transcripts on, each chat first talks (a session and
# transcript rows), then forgets: the SQLite file must hold no row of the
# forgotten chats, every forget answer is the store's "deleted" one (not
# "I kept nothing on disk"), and the chat that did not forget keeps its rows.
set -u
. "$SRC/tests/telegram/lib.sh"
TOKEN=818181:TEST-forget-token-Rr4

start_fake "$SC/forget.json"
start_bot bot "$TOKEN" --keep-transcripts
wait_sent 9 40 || fail "not every message was answered: $(report "$SC/forget.json")"
sleep 1.2
report "$SC/forget.json" --expect 'answered == 9 and duplicates == 0' --expect 'violations == 0' \
    >"$TMPDIR/r" || { cat "$TMPDIR/r"; fail "the chat went wrong"; }
stop_bot
[ "$BOT_STATUS" = 0 ] || fail "exit status $BOT_STATUS"
python3 - "$TMPDIR/state.db" "$TMPDIR/sent.jsonl" <<'PY' || fail "/forget did not delete"
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
def rows(table, key):
    return db.execute("SELECT count(*) FROM %s WHERE key = ?" % table, (key,)).fetchone()[0]
bad = []
for chat in (102, -300, -301, -302):
    key = "telegram:%d" % chat
    for table in ("session", "transcript"):
        n = rows(table, key)
        if n:
            bad.append("%s: %d %s rows left after /forget" % (key, n, table))
for table in ("session", "transcript"):
    if rows(table, "telegram:101") == 0:
        bad.append("telegram:101 (no /forget) has no %s row: nothing was stored at all" % table)
sent = [json.loads(l) for l in open(sys.argv[2])]
for chat in (102, -300, -301, -302):
    last = [s["text"] for s in sent if s["chat_id"] == chat][-1]
    if "kept nothing on disk" in last or "deleted" not in last:
        bad.append("chat %d: the forget answer is not the store's: %r" % (chat, last[:120]))
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
PY
no_token "$TOKEN" "$TMPDIR/bot.err" "$TMPDIR/bot.out"
echo "telegram_forget: all checks passed"
