#!/usr/bin/env bash
# matrix_e2e_synapse.sh -- an encrypted DM with the running bot on a real
# homeserver (Synapse 1.67 from ../shared/testbeds/synapse; issue 23,
# "shown by").  Alice is a client of our own: a libolm device
# (tests/e2e_client.py, python3-olm), her keys uploaded, who opens a DM
# created encrypted, reads the bot's encrypted hello once its room key
# came to her over Olm, sends Megolm-encrypted messages (her room key sent
# to the bot's device over Olm first, a one-time key of the bot's
# claimed) and decrypts the replies: a coaching one and, for a disclosure
# of violence, the crisis resources, each an m.notice.  Then the bot is
# killed (-9) and restarted: her next message is answered once, in the
# bot's same Megolm session.  The transcript (event types sent and
# received, decrypted bodies) is printed.  Skipped (77) without the
# testbed (the server is tests/matrix/synapse.sh's) or python3-olm.
set -u
: "${SRC:?}" "${PUSHPULL:?}" "${TMPDIR:?}"
. "$SRC/tests/matrix/synapse.sh"
PY=/usr/bin/python3
if ! "$PY" -c 'import olm' 2>/dev/null; then
    echo "SKIP: no python3-olm for $PY (apt-get install python3-olm)"
    exit 77
fi
synapse_up

PYTHONPATH=$SRC/tests "$PY" - "$D" "$PUSHPULL" "$SRC" <<'PY'
import json, os, signal, subprocess, sys, time, urllib.error, urllib.request
import e2e_client

D, PUSHPULL, SRC = sys.argv[1:4]
U = json.load(open(os.path.join(D, "hs", "users.json")))
HS = U["homeserver"]
ALICE, ALICE_ID = U["users"]["alice"]["access_token"], U["users"]["alice"]["user_id"]
COACH_ID, TOKEN = U["users"]["coach"]["user_id"], U["users"]["coach"]["access_token"]
tokfile = os.path.join(D, "coach.token")
fd = os.open(tokfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
os.write(fd, (TOKEN + "\n").encode())
os.close(fd)
LOG = os.path.join(D, "bot.log")
failures = []
n_txn = [0]


def fail(msg):
    print("FAIL: " + msg)
    failures.append(msg)


def say(who, what):
    print("  %-6s %s" % (who, what))


def api(method, path, body=None):
    req = urllib.request.Request(HS + "/_matrix/client/v3" + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": "Bearer " + ALICE,
                                          "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=40) as r:
            return json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        raise SystemExit("FAIL: %s %s: HTTP %d %s" % (method, path.split("?")[0], e.code, e.read()[:200]))


def q(s):
    return urllib.request.quote(s, safe="")


def txn():
    n_txn[0] += 1
    return "alice.%d.%d" % (os.getpid(), n_txn[0])


bot = None


def log():
    return open(LOG).read() if os.path.exists(LOG) else ""


def start_bot():
    global bot
    starts = log().count("event=start ")
    bot = subprocess.Popen([PUSHPULL, "matrix", "--homeserver", HS, "--token-file", tokfile,
                            "--state", os.path.join(D, "state.db"), "--rules", os.path.join(SRC, "rules"),
                            "--responses", os.path.join(SRC, "responses"), "--sync-timeout", "2000",
                            "--allow", ALICE_ID], stdout=subprocess.DEVNULL, stderr=open(LOG, "a"))
    end = time.time() + 20
    while log().count("event=start ") <= starts:
        if time.time() > end or bot.poll() is not None:
            print("FAIL: the bot did not start; its log:\n" + "\n".join(log().splitlines()[-15:]))
            sys.exit(1)
        time.sleep(0.1)


# ---- alice's device ------------------------------------------------------
dev_id = api("GET", "/account/whoami")["device_id"]
alice = e2e_client.Device(ALICE_ID, dev_id)
r = api("POST", "/keys/upload", {"device_keys": alice.device_keys(), "one_time_keys": alice.one_time_keys(5)})
print("transcript (-> sent by alice's client, <- received by it):")
say("->", "POST /keys/upload: device %s, 5 signed one-time keys (server counts %s)"
    % (dev_id, r.get("one_time_key_counts", {}).get("signed_curve25519")))
since = api("GET", "/sync?timeout=0")["next_batch"]


def sync_once(timeout=1000):
    """alice's /sync: to-device room keys taken; the coach's encrypted
    room events returned."""
    global since
    s = api("GET", "/sync?timeout=%d&since=%s" % (timeout, q(since)))
    since = s["next_batch"]
    for ev in s.get("to_device", {}).get("events", []):
        c = ev.get("content", {})
        if ev.get("type") != "m.room.encrypted":
            say("<-", "to-device %s from %s (ignored)" % (ev.get("type"), ev.get("sender")))
            continue
        mtype = c.get("ciphertext", {}).get(alice.curve, {}).get("type")
        try:
            plain = alice.olm_decrypt(ev["sender"], c)
            room, sid = alice.take_room_key(plain, c["sender_key"])
            say("<-", "to-device m.room.encrypted from %s (Olm %s message) -> %s for %s, session %s..."
                % (ev["sender"], "pre-key" if mtype == 0 else "normal", plain["type"], room, sid[:10]))
        except (ValueError, KeyError) as e:
            fail("a to-device message from %s did not open: %s" % (ev.get("sender"), e))
    out = []
    for rid, room in s.get("rooms", {}).get("join", {}).items():
        for ev in room.get("timeline", {}).get("events", []):
            if ev.get("sender") == COACH_ID and ev.get("type") in ("m.room.encrypted", "m.room.message"):
                out.append((rid, ev))
    return out


def wait_reply(room, what, secs=30):
    end = time.time() + secs
    while time.time() < end:
        for rid, ev in sync_once(1000):
            if rid != room:
                continue
            if ev["type"] != "m.room.encrypted":
                fail("%s: the bot sent a %s in the clear" % (what, ev["type"]))
                return None
            c = ev["content"]
            try:
                plain = alice.megolm_decrypt(room, c)
            except (KeyError, ValueError) as e:
                fail("%s: alice cannot decrypt the bot's message: %s" % (what, e))
                return None
            say("<-", "m.room.encrypted from %s (Megolm session %s...) -> %s %s: %r"
                % (ev["sender"], c["session_id"][:10], plain["type"], plain["content"].get("msgtype"),
                   plain["content"].get("body", "")[:150]))
            return dict(plain, session=c["session_id"], event_id=ev["event_id"])
    fail("%s: no answer from the bot in %d s" % (what, secs))
    return None


bot_keys = {}


def send_encrypted(room, body):
    """alice's message, Megolm-encrypted; her room key to the bot's
    device(s) first, over Olm."""
    if not bot_keys:
        devs = api("POST", "/keys/query", {"device_keys": {COACH_ID: []}})["device_keys"].get(COACH_ID, {})
        for d, k in devs.items():
            ed, curve = k["keys"]["ed25519:" + d], k["keys"]["curve25519:" + d]
            if not e2e_client.verify(k, COACH_ID, d, ed):
                fail("the bot's device keys do not verify")
            bot_keys[d] = (curve, ed)
        say("->", "POST /keys/query: the bot has %d device(s): %s (signature verified)"
            % (len(devs), ", ".join(devs)))
    msgs = {}
    for d, (curve, ed) in bot_keys.items():
        if curve in alice.shared.get(room, set()):
            continue
        otk = None
        if not alice.sessions.get(curve):
            c = api("POST", "/keys/claim", {"one_time_keys": {COACH_ID: {d: "signed_curve25519"}}})
            got = c["one_time_keys"].get(COACH_ID, {}).get(d, {})
            one = next(iter(got.values()), None)
            if not one or not e2e_client.verify(one, COACH_ID, d, ed):
                fail("no verified one-time key of the bot's to claim")
                continue
            otk = one["key"]
            say("->", "POST /keys/claim: one-time key %s of %s (signature verified)" % (next(iter(got)), d))
        msgs[d] = alice.olm_encrypt(COACH_ID, curve, ed, otk, "m.room_key", alice.room_key(room))
        alice.shared.setdefault(room, set()).add(curve)
    if msgs:
        api("PUT", "/sendToDevice/m.room.encrypted/%s" % txn(), {"messages": {COACH_ID: msgs}})
        say("->", "PUT /sendToDevice m.room.encrypted (Olm) to %s: m.room_key, session %s..."
            % (", ".join(msgs), alice.outbound[room].id[:10]))
    c = alice.megolm_encrypt(room, "m.room.message", {"msgtype": "m.text", "body": body})
    eid = api("PUT", "/rooms/%s/send/m.room.encrypted/%s" % (q(room), txn()), c)["event_id"]
    say("->", "m.room.encrypted (Megolm session %s...), plaintext m.room.message m.text: %r"
        % (c["session_id"][:10], body))
    return eid


start_bot()
time.sleep(2.5)   # its first sync is behind it

# 1. an encrypted DM: the bot joins and says hello, encrypted
E = api("POST", "/createRoom", {"name": "private", "preset": "trusted_private_chat", "is_direct": True,
                                "invite": [COACH_ID], "initial_state": [
                                    {"type": "m.room.encryption", "state_key": "",
                                     "content": {"algorithm": "m.megolm.v1.aes-sha2"}}]})["room_id"]
say("->", "POST /createRoom %s: m.room.encryption (m.megolm.v1.aes-sha2), is_direct, invite %s" % (E, COACH_ID))
hello = wait_reply(E, "hello")
if hello and (hello["content"].get("msgtype") != "m.notice" or "automated" not in hello["content"].get("body", "")):
    fail("the first message in the encrypted DM is not the hello: %r" % hello)

# 2. a coaching message
send_encrypted(E, "my husband pulls away every time I try to talk")
r1 = wait_reply(E, "coaching message")
if r1 and (r1["content"].get("msgtype") != "m.notice" or "husband" not in r1["content"].get("body", "")):
    fail("the coaching reply is not an m.notice following her words: %r" % r1)

# 3. a disclosure of violence: the crisis resources
send_encrypted(E, "he hits me when he is angry")
r2 = wait_reply(E, "crisis message")
if r2 and "findahelpline" not in r2["content"].get("body", "").lower():
    fail("the crisis message did not get the resources: %r" % r2)

# 4. kill -9, a message while the bot is down, restart: answered once
bot.send_signal(signal.SIGKILL)
bot.wait()
say("  ", "(the bot is killed with SIGKILL)")
send_encrypted(E, "my boyfriend needs space after every argument")
start_bot()
say("  ", "(the bot is restarted on the same state)")
r3 = wait_reply(E, "after the restart")
if r3 and hello and r3["session"] != hello["session"]:
    fail("after the restart the bot started a new Megolm session (its keys were not kept?)")
extra = []
end = time.time() + 4
while time.time() < end:
    extra += sync_once(1000)
if [x for x in extra if x[0] == E]:
    fail("the bot sent %d more message(s) after its answer (answered twice?)" % len(extra))
log_text = log()
bot.send_signal(signal.SIGTERM)
if bot.wait(timeout=10) != 0:
    fail("the bot exited %d after SIGTERM" % bot.returncode)
print("bot log, encryption lines:")
for line in log_text.splitlines():
    if " event=e2e" in line:
        print("  " + line.split(" ", 1)[1])
key = open(os.path.join(D, "state.db.e2e-key")).read().strip()
if TOKEN in log_text or key in log_text:
    fail("a secret (token or pickle key) is in the bot's log")
for w in ("husband", "hits me", "boyfriend"):
    if w in log_text:
        fail("message text in the bot's log")
if failures:
    print("--- bot log (last 25 lines)")
    print("\n".join(log_text.splitlines()[-25:]))
    sys.exit(1)
PY
st=$?
synapse_down
[ $st -eq 0 ] || { echo "FAIL: matrix_e2e_synapse (see above)"; exit 1; }
echo "matrix_e2e_synapse: an encrypted DM with the bot on Synapse 1.67, all checks passed in $SECONDS s"
