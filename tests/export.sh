#!/usr/bin/env bash
# export -- one's own data (issue 22), on a real SQLite file:
# 1. `pushpull export` and /export write what the file holds about one
#    conversation as JSON (python3's json reads it): its session (with the
#    facts it keeps), partner, transcript (only with --keep-transcripts) and settings, and nothing of
#    another conversation; export changes nothing; --no-state makes no file.
# 2. `pushpull sessions` lists the saved conversations (name, last used,
#    turns); `sessions delete NAME` takes its words out of the file's bytes
#    (state.db and -wal), as /forget does, and leaves the others.
# 3. A state file of schema 1, whose meta table held the CLI's last session
#    (the store used to know the CLI's names), is migrated: the next run
#    without --session continues that conversation.
# 4. A resumed chat says so on start, in a real pty ("Continuing the
#    conversation from 3 days ago; /new starts afresh."); /new starts
#    afresh, and the next start says nothing.
# 5. /export in the Telegram bot (a long export split within 4096 units)
#    and in the Matrix bot, through the fake servers: the chat's own data
#    as JSON, none of the other chat's.
set -u
P=$PUSHPULL
T=$TMPDIR
db=$T/state.db
fail() { echo "FAIL: $*"; exit 1; }
# check_json FILE KEY PYTHON-ASSERTIONS...: FILE parses as one JSON
# document d; each assertion must hold
check_json() {
    local f=$1; shift
    python3 - "$f" "$@" <<'PY' || fail "$f: $(head -c 600 "$f")"
import json, sys
d = json.load(open(sys.argv[1]))
for a in sys.argv[2:]:
    if not eval(a, {"d": d}):
        print("not true: %s" % a)
        sys.exit(1)
PY
}
# in_file STRING FILES...: how many of the files' bytes hold STRING
in_file() { local s=$1 n=0 f; shift; for f in "$@"; do [ -f "$f" ] && n=$((n + $(grep -c -a -F -- "$s" "$f"))); done; echo $n; }

# ---- 1. export -------------------------------------------------------------
printf 'my girlfriend Maya pulls away when I get close walrus-alice-fact\nwe have been together for 7 years and she goes quiet for days\n' |
    $P reply --session alice --state "$db" --keep-transcripts >/dev/null || fail "alice's run"
echo "my husband never listens narwhal-bob-fact" |
    $P reply --session bob --state "$db" --keep-transcripts >/dev/null || fail "bob's run"
$P export --session alice --state "$db" >"$T/alice.json" || fail "export exited $?"
check_json "$T/alice.json" 'd["format"] == "pushpull-export/1"' 'd["conversation"] == "cli:alice"' \
    'd["session"]["turns"] == 2' 'd["saved"] is not None' \
    'any("walrus-alice-fact" in l["text"] and l["who"] == "user" for l in d["transcript"])' \
    'len([l for l in d["transcript"] if l["who"] == "bot"]) == 2' \
    'd["partner"] is not None and d["partner"]["pronouns"] == "she/her"' \
    'd["settings"] == []' \
    '"7 years" in d["session"]["facts"]["together"]["text"]'
[ "$(in_file narwhal "$T/alice.json")" = 0 ] || fail "alice's export holds bob's words"
# bob was used last (exporting alice's did not change that): the CLI's
# note of it is a setting about bob's conversation
$P export --state "$db" >"$T/bob.json" || fail "export of the last session"
check_json "$T/bob.json" 'd["conversation"] == "cli:bob"' \
    '[(s["name"], s["value"]) for s in d["settings"]] == [("cli.last_session", "bob")]'
[ "$(in_file walrus "$T/bob.json")" = 0 ] || fail "bob's export holds alice's words"
# /export in the conversation: the same document, as the reply; no save
echo /export | $P reply --session alice --state "$db" --keep-transcripts >"$T/dialog.json"
check_json "$T/dialog.json" 'd["conversation"] == "cli:alice"' 'd["session"]["turns"] == 2' \
    'd["transcripts_kept"] is True'
# without transcripts: the quote the /why decision keeps stays off the disk
echo "my wife pulls away whenever we get close" | $P reply --session quiet --state "$db" >/dev/null
$P export --session quiet --state "$db" >"$T/quiet.json"
check_json "$T/quiet.json" 'd["transcript"] == []' 'd["transcripts_kept"] is False' \
    'd["session"]["why"] is not None and "quote" not in d["session"]["why"]'
# --no-state: nothing is read or made
$P export --no-state --state "$T/none.db" >"$T/none.json" || fail "export --no-state"
check_json "$T/none.json" 'd["state_file"] is None' 'd["session"]["turns"] == 0'
[ ! -e "$T/none.db" ] || fail "export --no-state made a state file"
# they only read: no state file is made to say there is nothing in it
$P export --state "$T/missing.db" >"$T/missing.json" || fail "export of a missing file"
check_json "$T/missing.json" 'd["state_file"] is None' 'd["session"]["turns"] == 0'
$P sessions --json --state "$T/missing.db" >"$T/missing-list.json" || fail "sessions of a missing file"
check_json "$T/missing-list.json" 'd == []'
[ ! -e "$T/missing.db" ] || fail "export or sessions made a state file"
echo "export: alice's and bob's documents apart, /export the same, no state file with --no-state"

# ---- 2. sessions -----------------------------------------------------------
$P sessions --json --state "$db" >"$T/list.json" || fail "sessions --json"
check_json "$T/list.json" 'sorted(s["name"] for s in d) == ["alice", "bob", "quiet"]' \
    '{s["name"]: s["turns"] for s in d} == {"alice": 2, "bob": 1, "quiet": 1}' \
    'all(s["last_used"].endswith("Z") for s in d)'
$P sessions --state "$db" >"$T/list.txt"
grep -q '^NAME ' "$T/list.txt" && grep -q '^alice ' "$T/list.txt" || fail "sessions: $(cat "$T/list.txt")"
[ "$(in_file walrus-alice-fact "$db" "$db-wal")" -gt 0 ] || fail "alice's words were never on disk: the check below could not fail"
$P sessions delete alice --state "$db" >"$T/del.out" || fail "sessions delete exited $?"
grep -q 'Deleted the session alice' "$T/del.out" || fail "delete said: $(cat "$T/del.out")"
[ "$(in_file walrus-alice-fact "$db" "$db-wal")" = 0 ] || fail "alice's words are still in the file's bytes"
[ "$(in_file "Maya" "$db" "$db-wal")" = 0 ] || fail "alice's partner is still in the file's bytes"
[ "$(in_file "for 7 years" "$db" "$db-wal")" = 0 ] || fail "alice's facts are still in the file's bytes"
[ "$(in_file narwhal-bob-fact "$db" "$db-wal")" -gt 0 ] || fail "bob's conversation went too"
$P sessions --json --state "$db" >"$T/list2.json"
check_json "$T/list2.json" 'sorted(s["name"] for s in d) == ["bob", "quiet"]'

$P sessions delete alice --state "$db" >/dev/null 2>"$T/del2.err"; rc=$?
$P sessions delete "$(printf 'x%.0s' $(seq 200))" --state "$db" >/dev/null 2>&1; rc2=$?
$P sessions delete --state "$db" >/dev/null 2>&1; rc3=$?
[ $rc = 1 ] && grep -q 'no saved session' "$T/del2.err" || fail "deleting a missing session: exit $rc, $(cat "$T/del2.err")"
[ $rc2 = 2 ] && [ $rc3 = 2 ] || fail "bad delete arguments: exit $rc2 and $rc3, want 2"
# deleting the last session used ("quiet") deletes the CLI's note of it too
settings() { python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM setting WHERE value = ?", (sys.argv[2],)).fetchone()[0])' "$db" "$1"; }
[ "$(settings quiet)" = 1 ] || fail "no note of the last session: the check below could not fail"
$P sessions delete quiet --state "$db" >/dev/null
[ "$(settings quiet)" = 0 ] || fail "the note of quiet as the last session outlived it"
echo "sessions: listed with turns; delete leaves no byte of alice in state.db or -wal"

# ---- 3. a schema-1 file ----------------------------------------------------
old=$T/old.db
python3 - "$old" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.executescript("""
CREATE TABLE session (key TEXT PRIMARY KEY, json TEXT NOT NULL, updated INTEGER NOT NULL);
CREATE TABLE cursor (name TEXT PRIMARY KEY, value TEXT NOT NULL, updated INTEGER NOT NULL);
CREATE TABLE seen (id INTEGER PRIMARY KEY AUTOINCREMENT, channel TEXT NOT NULL,
  event_id TEXT NOT NULL, key TEXT, at INTEGER NOT NULL, UNIQUE (channel, event_id));
CREATE INDEX seen_by_channel ON seen (channel, id);
CREATE INDEX seen_by_key ON seen (key);
CREATE TABLE transcript (id INTEGER PRIMARY KEY, key TEXT NOT NULL, at INTEGER NOT NULL,
  who TEXT NOT NULL CHECK (who IN ('user', 'bot')), text TEXT NOT NULL);
CREATE INDEX transcript_by_key ON transcript (key, id);
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO session VALUES ('cli:walrus', '{"v":1,"role":"pursuer","partner":"your wife","pronoun":2,"turns":3}', 1700000000);
INSERT INTO meta VALUES ('last_cli', 'walrus');
PRAGMA user_version = 1;
""")
c.commit()
PY
chmod 600 "$old"
echo "she pulls away again" | $P reply --state "$old" >/dev/null 2>"$T/old.err" || fail "the schema-1 file: $(cat "$T/old.err")"
python3 - "$old" <<'PY' || fail "the schema-1 file was not migrated"
import json, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
assert c.execute("PRAGMA user_version").fetchone()[0] >= 4
assert not c.execute("SELECT name FROM sqlite_schema WHERE name = 'meta'").fetchall(), "meta kept"
turns = json.loads(c.execute("SELECT json FROM session WHERE key = 'cli:walrus'").fetchone()[0])["turns"]
assert turns == 4, "the last session was not continued: %d turns" % turns
assert c.execute("SELECT value, key FROM setting WHERE name = 'cli.last_session'").fetchall() == [("walrus", "cli:walrus")]
assert not c.execute("SELECT key FROM session WHERE key = 'cli:default'").fetchall(), "default was used"
PY
echo "schema 1: migrated to the newest, meta.last_cli became the CLI's setting, walrus continued"

# ---- 4. the resumed chat says so -------------------------------------------
fx=$SRC/tests/fixtures/basic
ropts=(--rules "$fx/rules" --responses "$fx/responses" --state "$T/resume.db")
echo "my husband pulls away at night" | $P reply "${ropts[@]}" >/dev/null
python3 - "$T/resume.db" <<'PY'
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1])
c.execute("UPDATE session SET updated = ?", (int(time.time()) - 3 * 86400 - 60,))
c.commit()
PY
cat >"$T/resumed.script" <<'EOF'
expect Continuing the conversation from 3 days ago; /new starts afresh.
expect you>
send /new
expect you>
send /quit
exit 0
EOF
"$TESTBIN/ptytest" -o "$T/pty1.out" "$T/resumed.script" -- "$P" chat "${ropts[@]}" || fail "the resume notice"
cat >"$T/plain.script" <<'EOF'
expect you>
send /quit
exit 0
EOF
"$TESTBIN/ptytest" -o "$T/pty2.out" "$T/plain.script" -- "$P" chat "${ropts[@]}" || fail "the chat after /new"
! grep -q Continuing "$T/pty2.out" || fail "after /new the chat still says it continues"
"$TESTBIN/ptytest" -o "$T/pty3.out" "$T/plain.script" -- "$P" chat "${ropts[@]}" --session fresh || fail "a new session"
! grep -q Continuing "$T/pty3.out" || fail "a session never saved says it continues"
echo "chat: a resumed conversation says so; after /new, and for a new session, it does not"

# ---- 5. the bots -------------------------------------------------------------
. "$SRC/tests/telegram/lib.sh"
TOKEN=818182:TEST-export-token-Xq9
start_fake "$SC/export.json"
start_bot bot "$TOKEN" --keep-transcripts
python3 - "$TMPDIR/sent.jsonl" <<'PY' || fail "Telegram /export"
import json, sys, time
def utf16(s): return len(s.encode("utf-16-le")) // 2
deadline = time.time() + 60
while True:
    try:
        sent = [json.loads(l) for l in open(sys.argv[1])]
    except (OSError, ValueError):
        sent = []
    mine = [s["text"] for s in sent if s["chat_id"] == 501]
    parts = [t for t in mine if t.lstrip().startswith("{")]
    if parts:
        start = mine.index(parts[0])
        try:
            d = json.loads("".join(mine[start:]))
            break
        except ValueError:
            pass
    if time.time() > deadline:
        sys.exit("no /export document in chat 501: %r" % [t[:80] for t in mine])
    time.sleep(0.3)
n = len(mine) - start
assert n >= 2, "the export was not long enough to be split (%d part)" % n
assert all(utf16(t) <= 4096 for t in mine), "a part over 4096 units"
assert d["conversation"] == "telegram:501", d["conversation"]
assert any("walrus501" in l["text"] for l in d["transcript"]), "no transcript"
assert "narwhal" not in json.dumps(d), "chat 502's words in chat 501's export"
print("telegram: /export in %d parts of at most 4096 units" % n)
PY
stop_bot
no_token "$TOKEN" "$TMPDIR/bot.err" "$TMPDIR/bot.out"
kill "$FAKE_PID"; wait "$FAKE_PID" 2>/dev/null

MX_LIB=1 . "$SRC/tests/matrix.sh"
mx_server export
mx_bot --keep-transcripts
mx_wait_file done 50
mx_stop
mx_check
python3 - "$MX_D/state.json" <<'PY' || mx_fail "Matrix /export"
import json, sys
st = json.load(open(sys.argv[1]))
alice = [s["body"] for s in st["sent"] if s["room_id"] == "!alice:example.org"]
docs = [b for b in alice if b.lstrip().startswith("{")]
assert docs, "no export notice in alice's room: %r" % [b[:80] for b in alice]
d = json.loads("".join(alice[alice.index(docs[0]):]))
assert d["conversation"] == "matrix:!alice:example.org", d["conversation"]
assert any("walrus-mx-alice" in l["text"] for l in d["transcript"]), "no transcript"
assert "narwhal" not in json.dumps(d), "bob's words in alice's export"
print("matrix: /export as a notice, alice's only")
PY
echo "export: all checks passed"
