#!/usr/bin/env bash
# matrix_synapse.sh -- the Matrix bot against a real homeserver: Synapse
# 1.67 on loopback, from the testbed in ../shared/testbeds/synapse (issue
# 21, "shown by").  Alice (a python3 urllib client) and the real bot:
#   1. a DM (invite with is_direct): the bot joins and says hello once;
#   2. a coaching message: answered once, as an m.notice;
#   3. a crisis message in a second DM: answered with crisis resources;
#   4. a reply in Element's format quoting those resources (the reply
#      fallback): coached on its own words, not matched by a crisis rule;
#   5. kill -9 right after a message, two more while the bot is down, a
#      restart: each of the three answered once (no loss, no duplicate);
#   6. a message in a thread: answered in that thread;
#   7. a room created encrypted: the bot's hello there is m.room.encrypted
#      (never in the clear), a plaintext message there not coached
#      (tests/matrix_e2e_synapse.sh has the encrypted conversation).
# The server (started, stopped, skipped with exit 77 when the testbed is
# not there) is tests/matrix/synapse.sh's.  Timing: `up` takes about 30 s
# the first time (it installs ~22 python3 Debian packages), then about
# 2.5 s; the whole test about 25 s.
set -u
: "${SRC:?}" "${PUSHPULL:?}" "${TMPDIR:?}"
. "$SRC/tests/matrix/synapse.sh"
synapse_up

python3 - "$D" "$PUSHPULL" "$SRC" <<'PY'
import json, os, signal, subprocess, sys, time, urllib.error, urllib.request

D, PUSHPULL, SRC = sys.argv[1:4]
U = json.load(open(os.path.join(D, "hs", "users.json")))
HS = U["homeserver"]
ALICE = U["users"]["alice"]["access_token"]
COACH_ID = U["users"]["coach"]["user_id"]
TOKEN = U["users"]["coach"]["access_token"]
tokfile = os.path.join(D, "coach.token")
fd = os.open(tokfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
os.write(fd, (TOKEN + "\n").encode())
os.close(fd)
LOG = os.path.join(D, "bot.log")
failures = []
txn = [0]


def step(msg):
    """Say how a step went: ok, or FAIL when it added failures."""
    print("%s %s" % ("FAIL" if len(failures) > step.seen else "ok  ", msg))
    step.seen = len(failures)


step.seen = 0


def fail(msg):
    print("FAIL: " + msg)
    failures.append(msg)


def api(method, path, body=None, token=ALICE):
    req = urllib.request.Request(HS + "/_matrix/client/v3" + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": "Bearer " + token,
                                          "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        raise SystemExit("FAIL: %s %s: HTTP %d %s" % (method, path.split("?")[0], e.code, e.read()[:200]))


def q(s):
    return urllib.request.quote(s, safe="")


def send(room, content):
    txn[0] += 1
    return api("PUT", "/rooms/%s/send/m.room.message/alice.%d.%d" % (q(room), os.getpid(), txn[0]),
               content)["event_id"]


def say(room, text, **extra):
    c = {"msgtype": "m.text", "body": text}
    c.update(extra)
    return send(room, c)


def coach_events(room):
    """The bot's messages in the room, oldest first."""
    r = api("GET", "/rooms/%s/messages?dir=b&limit=100" % q(room))
    return [e for e in reversed(r.get("chunk", []))
            if e.get("sender") == COACH_ID and e.get("type") == "m.room.message"]


def wait_coach(room, n, secs=20, what=""):
    """Until the room holds n messages of the bot; returns them."""
    end = time.time() + secs
    while True:
        evs = coach_events(room)
        if len(evs) >= n or time.time() > end:
            if len(evs) < n:
                fail("%s: %d bot messages in the room after %d s, want %d" % (what, len(evs), secs, n))
            return evs
        time.sleep(0.2)


def settle(room, n, what, secs=3.0):
    """No more than n bot messages, seen over secs (nothing answered twice)."""
    time.sleep(secs)
    k = len(coach_events(room))
    if k != n:
        fail("%s: %d bot messages, want exactly %d" % (what, k, n))


bot = None


def start_bot():
    global bot
    starts = log().count("event=start ") if os.path.exists(LOG) else 0
    bot = subprocess.Popen([PUSHPULL, "matrix", "--homeserver", HS, "--token-file", tokfile,
                            "--state", os.path.join(D, "state.db"), "--rules", os.path.join(SRC, "rules"),
                            "--responses", os.path.join(SRC, "responses"), "--sync-timeout", "2000",
                            "--allow", "@alice:localhost", "--log-rules"],
                           stdout=subprocess.DEVNULL, stderr=open(LOG, "a"))
    end = time.time() + 20
    while log().count("event=start ") <= starts:
        if time.time() > end or bot.poll() is not None:
            print("FAIL: the bot did not start; its log:")
            print("\n".join(log().splitlines()[-15:]))
            sys.exit(1)
        time.sleep(0.1)


def log():
    return open(LOG).read()


def wait_log(needle, secs=20):
    end = time.time() + secs
    while needle not in log():
        if time.time() > end or bot.poll() is not None:
            fail("no %r in the bot's log" % needle)
            return
        time.sleep(0.1)


def dm(name, **extra):
    body = {"name": name, "preset": "trusted_private_chat", "is_direct": True, "invite": [COACH_ID]}
    body.update(extra)
    return api("POST", "/createRoom", body)["room_id"]


def joined(room, secs=20):
    end = time.time() + secs
    while time.time() < end:
        m = api("GET", "/rooms/%s/joined_members" % q(room)).get("joined", {})
        if COACH_ID in m:
            return True
        time.sleep(0.2)
    fail("the bot did not join %s" % room)
    return False


start_bot()
time.sleep(2.5)   # the first sync (skips any backlog) is behind it

# 1. a DM: joined, one hello
A = dm("coaching")
joined(A)
evs = wait_coach(A, 1, what="hello")
if evs and "automated relationship coach" not in evs[0]["content"].get("body", ""):
    fail("the first message in a new DM is not the hello: %r" % evs[0]["content"].get("body", "")[:100])
step("1. DM %s: joined, hello sent" % A)

# 2. a coaching message: one m.notice
m1 = say(A, "my husband pulls away every time I try to talk")
evs = wait_coach(A, 2, what="coaching message")
settle(A, 2, "coaching message")
r = evs[-1]["content"] if len(evs) >= 2 else {}
if r.get("msgtype") != "m.notice":
    fail("the reply is a %r, not an m.notice" % r.get("msgtype"))
if "husband" not in r.get("body", ""):
    fail("the coaching reply does not follow the user's words: %r" % r.get("body", "")[:160])
step("2. coaching message answered once, as m.notice: %r" % r.get("body", "")[:70])

# 3. a crisis message in a second DM: crisis resources
B = dm("hard times")
joined(B)
wait_coach(B, 1, what="hello in the second DM")
say(B, "my partner hits me when he is angry")
evs = wait_coach(B, 2, what="crisis message")
crisis = evs[-1] if len(evs) >= 2 else {"content": {}, "event_id": ""}
cb = crisis["content"].get("body", "")
if "findahelpline" not in cb.lower():
    fail("the crisis message did not get the crisis resources: %r" % cb[:200])
step("3. crisis message answered with resources (%d characters)" % len(cb))

# 4. a reply quoting those resources, as Element writes it: the quote is
# not the user's words (issue 21, item 2).  Sent in the first DM, whose
# session is not safety-locked, so only the quote could make it a crisis.
lines = cb.split("\n")
fb = "> <%s> %s" % (COACH_ID, lines[0]) + "".join("\n> " + x for x in lines[1:])
new = "my boyfriend goes quiet for days whenever we get close"
say(A, fb + "\n\n" + new, format="org.matrix.custom.html",
    formatted_body="<mx-reply><blockquote>In reply to %s<br>%s</blockquote></mx-reply>%s" % (COACH_ID, cb, new),
    **{"m.relates_to": {"m.in_reply_to": {"event_id": crisis["event_id"]}}})
evs = wait_coach(A, 3, what="reply fallback")
rb = evs[-1]["content"].get("body", "") if len(evs) >= 3 else ""
if "findahelpline" in rb.lower() or "Europe" in rb:
    fail("the reply was coached on the quoted resources: %r" % rb[:200])
line = [l for l in log().splitlines() if "event=reply room=\"%s\"" % A in l][-1:]
if not line or " rule=safety." in line[0]:
    fail("the reply fallback matched a crisis rule: %r" % line)
step("4. reply quoting the resources coached on its own words (%s)" %
      (line[0].split(" rule=")[1].split(" ")[0] if line and " rule=" in line[0] else "?"))

# 5. kill -9 just after a message, two more while down, restart: 3 answers
before = len(coach_events(A))
say(A, "I text him a lot until he answers")
bot.send_signal(signal.SIGKILL)
bot.wait()
say(A, "he says I am too much")
say(A, "then he goes to his brother's for the weekend")
start_bot()
wait_coach(A, before + 3, secs=30, what="after kill -9 and restart")
settle(A, before + 3, "after kill -9 and restart")
step("5. kill -9 and restart: 3 messages, %d answers (no loss, no duplicate)"
      % (len(coach_events(A)) - before))

# 6. a message in a thread: answered in it
n = len(coach_events(A))
say(A, "he did it again last night", **{"m.relates_to": {
    "rel_type": "m.thread", "event_id": m1, "is_falling_back": True, "m.in_reply_to": {"event_id": m1}}})
evs = wait_coach(A, n + 1, what="thread message")
rel = evs[-1]["content"].get("m.relates_to", {}) if len(evs) > n else {}
if rel.get("rel_type") != "m.thread" or rel.get("event_id") != m1:
    fail("the thread message was not answered in its thread: %r" % rel)
settle(A, n + 1, "thread message", secs=1.5)
step("6. threaded message answered in its thread (root %s)" % m1)

# 7. an encrypted room: the bot speaks there only encrypted (its hello an
# m.room.encrypted, which this plaintext client cannot read; the
# encrypted conversation is tests/matrix_e2e_synapse.sh), and a
# plaintext message there is not coached in the clear
E = dm("secret", initial_state=[{"type": "m.room.encryption", "state_key": "",
                                 "content": {"algorithm": "m.megolm.v1.aes-sha2"}}])
joined(E)


def coach_any(room):
    r = api("GET", "/rooms/%s/messages?dir=b&limit=100" % q(room))
    return [e for e in reversed(r.get("chunk", [])) if e.get("sender") == COACH_ID
            and e.get("type") in ("m.room.message", "m.room.encrypted")]


end = time.time() + 20
while not coach_any(E) and time.time() < end:
    time.sleep(0.2)
evs = coach_any(E)
if not evs or evs[0]["type"] != "m.room.encrypted":
    fail("the bot's first message in the encrypted room is not m.room.encrypted: %r" % evs[:1])
say(E, "my wife goes quiet when I ask about the weekend")
wait_log("reason=encrypted_room")
time.sleep(2)
if len(coach_any(E)) != 1 or coach_events(E):
    fail("the encrypted room: %d bot messages (%d in the clear), want its encrypted hello only"
         % (len(coach_any(E)), len(coach_events(E))))
step("7. encrypted room: the hello sent encrypted, the plaintext message not coached")

bot.send_signal(signal.SIGTERM)
if bot.wait(timeout=10) != 0:
    fail("the bot exited %d after SIGTERM" % bot.returncode)
text = log()
if TOKEN in text:
    fail("the access token is in the bot's log")
if "ERROR: AddressSanitizer" in text or "runtime error:" in text:
    fail("a sanitizer report in the bot's log")
if failures:
    print("--- bot log (last 25 lines)")
    print("\n".join(text.splitlines()[-25:]))
    sys.exit(1)
PY
st=$?
synapse_down
[ $st -eq 0 ] || { echo "FAIL: matrix_synapse (see above)"; exit 1; }
echo "matrix_synapse: all checks passed against Synapse 1.67 in $SECONDS s"
