#!/usr/bin/env bash
# matrix_ids.sh -- ids longer than the bot keeps (tests/matrix/ids.json):
# two invited rooms whose 300-byte ids share their first 301 bytes, and a
# message in a direct room from a sender whose id is 300 bytes.  Each is
# refused whole with a log line (event=ids_refused, event=event_refused),
# never cut, so no two ids merge and no reply mentions a cut sender; the
# rest of the conversation is answered once each.
set -u
MX_LIB=1 . "$SRC/tests/matrix.sh"
mx_server ids
mx_bot
mx_wait_file done 50
mx_stop
mx_check
# the two invites may come in one sync or in two
n=$(grep -o 'event=ids_refused rooms=[0-9]*' "$MX_D/bot.log" | awk -F= '{ s += $3 } END { print s + 0 }')
[ "$n" = 2 ] || mx_fail "$n long room ids refused with a log line, want 2"
grep -q 'event=event_refused room="!dm:example.org"' "$MX_D/bot.log" ||
    mx_fail "the long sender's message was not refused with a log line"
python3 - "$MX_D/state.json" <<'PY' || mx_fail "a reply mentions a cut or long id"
import json, sys
st = json.load(open(sys.argv[1]))
for s in st["sent"]:
    for u in s["content"].get("m.mentions", {}).get("user_ids", []):
        assert len(u) < 255, u[:40]
print("ids: %d replies, none to a long id" % len(st["sent"]))
PY
echo "matrix_ids: all checks passed"
