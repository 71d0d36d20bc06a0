#!/usr/bin/env bash
# telegram_media.sh -- issue 21, item 9 (tests/telegram/media.json): a
# photo's caption is text to answer (before: "I can only read text"); a
# sticker gets "I can only read text"; a group that becomes a supergroup
# (migrate_to_chat_id in the old group, migrate_from_chat_id in the new)
# keeps its conversation: the session moves to the new chat id, once, and
# nothing is left under the old one.  /export in the supergroup shows it.
set -u
. "$SRC/tests/telegram/lib.sh"
TOKEN=929295:TEST-media-token-Vb9
start_fake "$SC/media.json"
start_bot bot "$TOKEN"
wait_sent 3 20 || fail "the caption, the sticker and the group message were not answered"
for _ in $(seq 100); do [ "$(grep -c 'event=chat_migrated' "$TMPDIR/bot.err")" -ge 2 ] && break; sleep 0.1; done
grep -q 'event=chat_migrated chat=-400 to=-1004000 update=1003 moved=yes' "$TMPDIR/bot.err" ||
    fail "the group's conversation was not moved to the supergroup"
grep -q 'event=chat_migrated chat=-400 to=-1004000 update=1004 moved=no' "$TMPDIR/bot.err" ||
    fail "the second migration message moved it again"
curl -fsS -H 'Content-Type: application/json' -d '{"updates":[{"message":{"chat":{"id":-1004000,"type":"supergroup"},
    "from":{"id":55,"is_bot":false,"first_name":"Ana"},"text":"/export@pushpull_test_bot"},"expect":"answer"}]}' \
    "$API/admin/inject" >/dev/null || fail "inject"
wait_sent 4 20 || fail "/export in the supergroup was not answered"
stop_bot
python3 - "$TMPDIR/sent.jsonl" "$TMPDIR/state.db" <<'PY' || fail "see above"
import json, sqlite3, sys
sent = [json.loads(l) for l in open(sys.argv[1])]
by = {}
for s in sent:
    by.setdefault(s["chat_id"], []).append(s["text"])
bad = []
cap = " ".join(by.get(7070, []))
if "only read text" in cap or "husband" not in cap:
    bad.append("the photo's caption was not coached: %r" % cap[:120])
if "only read text" not in " ".join(by.get(7071, [])):
    bad.append("the sticker did not get 'I can only read text': %r" % by.get(7071))
exp = " ".join(by.get(-1004000, []))
for w in ('"conversation": "telegram:-1004000"', '"partner": "your wife"', '"turns": 1'):
    if w not in exp:
        bad.append("/export in the supergroup lacks %s: %r" % (w, exp[:300]))
keys = [r[0] for r in sqlite3.connect(sys.argv[2]).execute("SELECT key FROM session")]
if "telegram:-400" in keys:
    bad.append("the old group's session is still stored: %r" % keys)
for b in bad:
    print("FAIL: " + b)
print("media: caption coached, sticker told, supergroup keeps the conversation; sessions: %s" % sorted(keys))
sys.exit(1 if bad else 0)
PY
report "$SC/media.json" --expect 'missing == 0' --expect 'duplicates == 0' >/dev/null || fail "$(report "$SC/media.json")"
no_token "$TOKEN" "$TMPDIR"/bot*.err
echo "telegram_media: all checks passed"
