"""e2e_client.py -- a Matrix client device that encrypts with libolm
(Debian's python3-olm), for the bot's end-to-end encryption tests.

It is the other side of bots/crypto.c, written independently from the
spec: its own identity keys and signed one-time keys, Olm to-device
messages in both directions (m.room_key), Megolm room messages out (its
own outbound session per room) and in (the sessions others shared with
it).  tests/fake_matrix.py hosts such devices as the users of its rooms;
tests/matrix_e2e_synapse.sh drives one against a real Synapse.  No
network here: callers move the JSON.
"""
import json

import olm

OLM = "m.olm.v1.curve25519-aes-sha2"
MEGOLM = "m.megolm.v1.aes-sha2"


def canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def verify(obj, user, device, ed):
    """Does obj carry user's ed25519:device signature by ed?"""
    sig = obj.get("signatures", {}).get(user, {}).get("ed25519:" + device)
    if not sig:
        return False
    bare = {k: v for k, v in obj.items() if k not in ("signatures", "unsigned")}
    try:
        olm.ed25519_verify(ed, canonical(bare), sig)
        return True
    except olm.OlmVerifyError:
        return False


class Device:
    def __init__(self, user, device_id):
        self.user, self.device_id = user, device_id
        self.account = olm.Account()
        self.curve = self.account.identity_keys["curve25519"]
        self.ed = self.account.identity_keys["ed25519"]
        self.sessions = {}     # their curve25519 -> [olm.Session], newest last
        self.inbound = {}      # (room, session_id) -> (InboundGroupSession, sender_key)
        self.outbound = {}     # room -> OutboundGroupSession
        self.shared = {}       # room -> set of curve keys the outbound session went to

    # ---- keys -----------------------------------------------------------
    def _sign(self, obj):
        obj["signatures"] = {self.user: {"ed25519:" + self.device_id: self.account.sign(canonical(obj))}}
        return obj

    def device_keys(self):
        return self._sign({"algorithms": [OLM, MEGOLM], "device_id": self.device_id, "user_id": self.user,
                           "keys": {"curve25519:" + self.device_id: self.curve,
                                    "ed25519:" + self.device_id: self.ed}})

    def one_time_keys(self, n):
        self.account.generate_one_time_keys(n)
        out = {"signed_curve25519:" + kid: self._sign({"key": key})
               for kid, key in self.account.one_time_keys["curve25519"].items()}
        self.account.mark_keys_as_published()
        return out

    # ---- Olm ------------------------------------------------------------
    def olm_encrypt(self, their_user, their_curve, their_ed, otk, etype, content):
        """The m.room.encrypted to-device content carrying {type, content}
        to that device (a new session from otk when there is none)."""
        if not self.sessions.get(their_curve):
            if otk is None:
                raise ValueError("no session and no one-time key")
            self.sessions[their_curve] = [olm.OutboundSession(self.account, their_curve, otk)]
        s = self.sessions[their_curve][-1]
        plain = {"type": etype, "content": content, "sender": self.user, "recipient": their_user,
                 "recipient_keys": {"ed25519": their_ed}, "keys": {"ed25519": self.ed}}
        msg = s.encrypt(json.dumps(plain))
        return {"algorithm": OLM, "sender_key": self.curve,
                "ciphertext": {their_curve: {"type": msg.message_type, "body": msg.ciphertext}}}

    def olm_decrypt(self, sender, content):
        """The plaintext event of an Olm to-device content, checked to be
        for this device from sender; raises ValueError."""
        if content.get("algorithm") != OLM:
            raise ValueError("not Olm")
        sk = content["sender_key"]
        mine = content["ciphertext"].get(self.curve)
        if not mine:
            raise ValueError("not for this device")
        body, mtype = mine["body"], mine["type"]
        plain = None
        for s in reversed(self.sessions.get(sk, [])):
            try:
                if mtype == 0:
                    if not s.matches(olm.OlmPreKeyMessage(body), sk):
                        continue
                    plain = s.decrypt(olm.OlmPreKeyMessage(body))
                else:
                    plain = s.decrypt(olm.OlmMessage(body))
                break
            except olm.OlmSessionError:
                continue
        if plain is None:
            if mtype != 0:
                raise ValueError("no session decrypts it")
            s = olm.InboundSession(self.account, olm.OlmPreKeyMessage(body), sk)
            self.account.remove_one_time_keys(s)
            self.sessions.setdefault(sk, []).append(s)
            plain = s.decrypt(olm.OlmPreKeyMessage(body))
        ev = json.loads(plain)
        if ev.get("recipient") != self.user or ev.get("recipient_keys", {}).get("ed25519") != self.ed \
                or ev.get("sender") != sender:
            raise ValueError("not addressed to this device by its sender")
        return ev

    def take_room_key(self, ev, sender_key):
        c = ev["content"]
        if ev.get("type") != "m.room_key" or c.get("algorithm") != MEGOLM:
            raise ValueError("not a room key: %r" % ev.get("type"))
        s = olm.InboundGroupSession(c["session_key"])
        if s.id != c["session_id"]:
            raise ValueError("session id does not match its key")
        self.inbound[(c["room_id"], c["session_id"])] = (s, sender_key)
        return c["room_id"], c["session_id"]

    # ---- Megolm ---------------------------------------------------------
    def new_session(self, room):
        """A fresh outbound session for room (its key not shared yet)."""
        self.outbound[room] = olm.OutboundGroupSession()
        self.shared[room] = set()
        return self.outbound[room]

    def room_key(self, room):
        s = self.outbound.get(room) or self.new_session(room)
        return {"algorithm": MEGOLM, "room_id": room, "session_id": s.id, "session_key": s.session_key}

    def megolm_encrypt(self, room, etype, content):
        s = self.outbound.get(room) or self.new_session(room)
        ct = s.encrypt(json.dumps({"type": etype, "content": content, "room_id": room}))
        return {"algorithm": MEGOLM, "sender_key": self.curve, "ciphertext": ct,
                "session_id": s.id, "device_id": self.device_id}

    def megolm_decrypt(self, room, content):
        """The plaintext event {type, content, room_id}; raises KeyError
        when the session is not known, ValueError when it does not open."""
        got = self.inbound.get((room, content.get("session_id")))
        if got is None:
            raise KeyError("no session %s" % content.get("session_id"))
        s, sk = got
        if sk != content.get("sender_key"):
            raise ValueError("session from another device")
        try:
            plain, _index = s.decrypt(content["ciphertext"])
        except olm.OlmGroupSessionError as e:
            raise ValueError(str(e))
        ev = json.loads(plain)
        if ev.get("room_id") != room:
            raise ValueError("for another room")
        return ev
