#!/usr/bin/env bash
# The echo of a message no rule understood quotes whole words of it (issue
# 19, item 4): a whole sentence, the question first; a long sentence only
# by whole clauses; "I" reflected to "you".  The shipped rules with the
# fallback set cut down to its first variant, which always quotes.
set -u
d=$TMPDIR/set
mkdir -p "$d"
cp -r "$SRC/rules" "$SRC/responses" "$d/"
python3 - "$d/responses/general.responses" <<'PY'
import re, sys
p = sys.argv[1]; s = open(p).read()
a = s.index("set fallback\n"); z = s.index("set fallback-topics")
s = s[:a] + 'set fallback\n\nvariant\n  You said "{said}". I\'d like to understand that better.\n\n' + s[z:]
open(p, "w").write(s)
PY
status=0
check() {   # message, the quote wanted ("" = whole clauses of the first sentence)
    local got
    got=$(printf '%s\n' "$1" | "$PUSHPULL" reply --no-state --json --rules "$d/rules" --responses "$d/responses")
    python3 - "$got" "$2" <<'PY' || status=1
import json, re, sys
r, want = json.loads(sys.argv[1]), sys.argv[2]
m = re.search(r'You said "([^"]+)"', r["reply"])
q = m.group(1) if m else None
ok = r["rule"] is None and q is not None
if ok and want: ok = q == want
if ok and not want:   # whole clauses from the start, within 160 bytes
    ok = q.startswith("you went to the market") and len(q) <= 160 and not re.search(r"\b(and|the|with|a)$", q)
if ok and re.search(r"\b(i|my|me)\b", q): ok = False
print(("ok   " if ok else "FAIL ") + repr(q) + ("" if ok else f"  (reply: {r['reply'][:200]!r})"))
sys.exit(0 if ok else 1)
PY
}
check "There's this boy who asked me out a while ago, weeks before the summer started and long before school. I said no because my friends and family would think weirdly of me. How do I be with him and tell him and tell my friends?" \
      "how do you be with him and tell him and tell your friends"
check "I went to the market on saturday morning with my sister and her two kids, and we bought far too many apples, and then we sat by the river for a long time talking about nothing in particular, which was nice" ""
check "The weather is nice today. I went for a walk with my dog and then I had a long nap in the afternoon sun." \
      "you went for a walk with your dog and then you had a long nap in the afternoon sun"
check "The weather is nice." "the weather is nice"
exit $status
