#!/usr/bin/env bash
# telegram_long.sh -- a reply longer than Telegram's 4096 UTF-16 units (a
# test responses dir whose /help text is ~5,000 characters with accents,
# curly quotes and emoji, which count 2 units) reaches the user as parts:
# each within the limit (the fake answers 400 "message is too long" past
# it), none cut inside a character, together the whole text, in order; in a
# private chat and in a group (which also has the 20/min limit).
set -u
. "$SRC/tests/telegram/lib.sh"
TOKEN=717171:TEST-long-token-Hx5
cp -r "$SRC/responses" "$TMPDIR/responses"
python3 - "$TMPDIR/responses" <<'PY'
import glob, sys
para = ("Caf\u00e9 talk \U0001F4AC: when one of you reaches and the other steps back, "
        "name the pattern, not the person \u2019cause the pattern is the problem. ")
long_lines = ["  Part %d. %s" % (i, para * 2) for i in range(20)]
for f in glob.glob(sys.argv[1] + "/*.responses"):
    lines = open(f, encoding="utf-8").read().split("\n")
    if "set help" not in lines:
        continue
    i = lines.index("set help")
    j = next(k for k in range(i + 1, len(lines)) if lines[k].startswith("variant"))
    lines[j + 1:j + 1] = long_lines + ["  |"]
    open(f, "w", encoding="utf-8").write("\n".join(lines))
    break
else:
    sys.exit("no help set found")
PY
start_fake "$SC/long.json"
start_bot bot "$TOKEN" --responses "$TMPDIR/responses"
wait_sent 4 30 || fail "the long replies did not arrive: $(report "$SC/long.json")"
sleep 1.5
report "$SC/long.json" --expect 'answered == 2 and missing == 0' --expect 'violations == 0' \
    --expect 'max_len16 <= 4096' --expect 'messages >= 4' >"$TMPDIR/r" || { cat "$TMPDIR/r"; fail "long reply"; }
cat "$TMPDIR/r"
python3 - "$TMPDIR/sent.jsonl" <<'PY' || fail "the parts are not the whole reply"
import json, sys
sent = [json.loads(l) for l in open(sys.argv[1])]
for chat in (9100, -9200):
    parts = [s for s in sent if s["chat_id"] == chat]
    assert len(parts) >= 2, (chat, len(parts))
    assert parts[0]["reply_to"] is not None and all(p["reply_to"] is None for p in parts[1:])
    text = " ".join(p["text"] for p in parts)
    n16 = len(text.encode("utf-16-le")) // 2
    assert n16 > 5000, n16
    assert "\ufffd" not in text
    for i in range(20):
        assert ("Part %d. Caf\u00e9 talk \U0001F4AC" % i) in text, i
    for p in parts:
        assert p["len16"] <= 4096 and p["text"] == p["text"].strip()
    print("chat %d: %d parts, %s UTF-16 units" % (chat, len(parts), [p["len16"] for p in parts]))
PY
stop_bot
[ "$BOT_STATUS" = 0 ] || fail "exit status $BOT_STATUS"
