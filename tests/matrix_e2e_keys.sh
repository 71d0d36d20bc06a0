#!/usr/bin/env bash
# The Matrix bot's device keys (bots/crypto.c, issue 23's first step)
# against a real Synapse (../shared/testbeds/synapse): the signed device
# keys and one-time keys are taken by /keys/upload, another user reads the
# same keys back with /keys/query and their signature verifies, a claimed
# one-time key verifies, the bot tops its keys up to half of what the
# account holds, and the saved account opens again only with its key file.
# Skipped (exit 77) when the testbed is not there (the server is
# tests/matrix/synapse.sh's).
set -u
. "$SRC/tests/matrix/synapse.sh"
K=$TESTBIN/e2ekeys
synapse_up
python3 - "$D/hs/users.json" "$K" "$TMPDIR" <<'PY'
import json, os, stat, subprocess, sys, urllib.request
users, K, tmp = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
hs = users["homeserver"]
coach, alice = users["users"]["coach"], users["users"]["alice"]
def api(tok, method, path, body=None):
    req = urllib.request.Request(hs + path, method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": "Bearer " + tok, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)
def tool(*args, stdin=None):
    return subprocess.run([K, *args], input=stdin, capture_output=True, text=True)
fails = []
def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok: fails.append(what)
uid, dev = coach["user_id"], api(coach["access_token"], "GET", "/_matrix/client/v3/account/whoami")["device_id"]
keyf, state = os.path.join(tmp, "matrix.key"), os.path.join(tmp, "e2e.state")
# 1. a new device: keys made, uploaded
made = tool("make", uid, dev, "0", keyf, state)
check(made.returncode == 0, "e2ekeys make: " + made.stderr.strip())
up = json.loads(made.stdout)
n_otk = len(up["one_time_keys"])
check(n_otk == 50, f"fifty one-time keys to start with ({n_otk})")
r = api(coach["access_token"], "POST", "/_matrix/client/v3/keys/upload", up)
check(r.get("one_time_key_counts", {}).get("signed_curve25519") == n_otk,
      f"the server counts them: {r.get('one_time_key_counts')}")
curve, ed = tool("identity", keyf, state).stdout.split()
# 2. another user reads the device back
q = api(alice["access_token"], "POST", "/_matrix/client/v3/keys/query", {"device_keys": {uid: []}})
dk = q.get("device_keys", {}).get(uid, {}).get(dev)
check(dk is not None, "alice's /keys/query lists the bot's device")
check(dk and dk["keys"].get("ed25519:" + dev) == ed and dk["keys"].get("curve25519:" + dev) == curve,
      "with the account's identity keys")
check(dk and tool("verify", uid, dev, ed, stdin=json.dumps(dk)).returncode == 0,
      "and the signature the server hands out verifies")
forged = dict(dk or {}); forged["device_id"] = dev + "X"
check(tool("verify", uid, dev, ed, stdin=json.dumps(forged)).returncode == 1,
      "a changed device_keys object does not verify")
# 3. alice claims a one-time key (what she does to open an Olm session)
c = api(alice["access_token"], "POST", "/_matrix/client/v3/keys/claim",
        {"one_time_keys": {uid: {dev: "signed_curve25519"}}})
claimed = c.get("one_time_keys", {}).get(uid, {}).get(dev, {})
check(len(claimed) == 1, f"a one-time key is claimed: {list(claimed)}")
one = next(iter(claimed.values()), {})
check(tool("verify", uid, dev, ed, stdin=json.dumps(one)).returncode == 0, "the claimed key's signature verifies")
# 4. topped up from the server's count (device_one_time_keys_count in /sync)
count = api(coach["access_token"], "GET", "/_matrix/client/v3/sync?timeout=0") \
    .get("device_one_time_keys_count", {}).get("signed_curve25519", 0)
check(count == n_otk - 1, f"/sync counts {count} left")
top = tool("make", uid, dev, str(count), keyf, state)
t = json.loads(top.stdout)
check("device_keys" not in t and len(t["one_time_keys"]) == n_otk - count, f"{len(t['one_time_keys'])} key(s) to top up, device keys not again")
r = api(coach["access_token"], "POST", "/_matrix/client/v3/keys/upload", t)
check(r.get("one_time_key_counts", {}).get("signed_curve25519") == n_otk, f"back to {n_otk}: {r.get('one_time_key_counts')}")
# 5. saved: the same identity after a restart, never with another key file
again = tool("identity", keyf, state).stdout.split()
check(again == [curve, ed], "the saved account opens with its key file and is the same device")
for p in (keyf, state):
    check(stat.S_IMODE(os.stat(p).st_mode) == 0o600, f"{os.path.basename(p)} is 0600")
key = open(keyf).read().strip()
check(key not in open(state).read() and ed not in open(state).read(), "the state file holds neither the key nor the keys in the clear")
other = os.path.join(tmp, "other.key")
bad = tool("identity", other, state)
check(bad.returncode == 2 and "does not open" in bad.stderr, "another key file does not open it: " + bad.stderr.strip())
check(key not in made.stderr + top.stderr + bad.stderr, "no key in any message")
sys.exit(1 if fails else 0)
PY
st=$?
synapse_down
exit $st
