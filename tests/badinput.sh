#!/usr/bin/env bash
# Hostile input: invalid UTF-8, NUL bytes, a 1 MiB line, 10,000 random
# lines.  No crash, every line answered (one output line per input line).
set -eu
P=$PUSHPULL
fail() { echo "FAIL: $*"; exit 1; }
in=$TMPDIR/in
python3 - "$in" <<'PY'
import random, sys
rnd = random.Random(7)
with open(sys.argv[1], "wb") as f:
    f.write(b"he \xc3\x28 pulls away \xff\xfe\n")          # invalid UTF-8
    f.write(b"she\x00 goes\x00 quiet\x00\n")               # NUL bytes
    f.write(b"\xed\xa0\x80 surrogate \xc0\xaf overlong\n")
    f.write(b"x" * (1 << 20) + b"\n")                      # 1 MiB line
    f.write(b"he pulls away " * 80000 + b"\n")             # 1 MiB of words
    f.write(b"\n")                                          # empty line
    f.write(b"\x1b[31m\x07\x08 control chars\n")
    words = [b"he", b"she", b"pulls", b"away", b"I", b"need", b"space", b"my", b"wife",
             b"\xe2\x80\x99", b"\xf0\x9f\x98\xa2", b"(", b"*", b"\\", b"aaaa", b"?", b"don't"]
    for i in range(10000):
        if i % 3 == 0:
            line = bytes(rnd.randrange(1, 256) for _ in range(rnd.randrange(0, 200))).replace(b"\n", b" ")
        else:
            line = b" ".join(rnd.choice(words) for _ in range(rnd.randrange(0, 40)))
        f.write(line + b"\n")
PY
want=$(wc -l <"$in")
$P reply --json --no-state <"$in" >"$TMPDIR/out" || fail "reply exited $?"
got=$(wc -l <"$TMPDIR/out")
[ "$got" = "$want" ] || fail "answered $got of $want lines"
python3 - "$TMPDIR/out" <<'PY' || fail "bad JSON or missing notices"
import json, sys
lines = open(sys.argv[1], encoding="ascii").read().splitlines()
objs = [json.loads(l) for l in lines]
assert all(o["reply"] for o in objs), "empty reply"
assert objs[0]["notice"] and "UTF-8" in objs[0]["notice"], objs[0]
assert objs[3]["notice"] and "long" in objs[3]["notice"], objs[3]
assert len(objs[3]["text"].encode()) <= 4096
assert "\x00" not in objs[1]["text"]
PY
# plain mode too: one line per reply
$P reply --no-state <"$in" >"$TMPDIR/out2"
[ "$(wc -l <"$TMPDIR/out2")" = "$want" ] || fail "plain mode line count"
echo "badinput ok: $want lines answered"
