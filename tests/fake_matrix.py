#!/usr/bin/env python3
"""fake_matrix.py -- a small, faithful Matrix homeserver for the bot's tests.

Standard library only.  It speaks the client-server API shapes pushpull's
Matrix bot uses (v3): login, account/whoami, profile, sync (since/next_batch,
long poll held up to `timeout` ms, rooms.join/invite/leave, timeline and
state, summary), join, leave, joined_members, one state event, and send with transaction-id
idempotency (the same txnId from the same token gives the same event_id and
stores the event once).  Faults are injected per endpoint: 429 with a
Retry-After header or with retry_after_ms in the body, 500, dropped
connections (before or after the request took effect), requests that hang
(before or after they took effect) and 401 M_UNKNOWN_TOKEN.

End-to-end encryption (issue 23): /keys/upload, /keys/query, /keys/claim,
/sendToDevice, to-device events, device_lists and
device_one_time_keys_count in /sync.  The users named in the scenario's
"devices" have client devices here that encrypt with libolm
(tests/e2e_client.py, python3-olm; imported only when a scenario has
devices): they share their room keys with the bot's device over Olm,
send Megolm-encrypted messages, and decrypt what the bot sends, which is
recorded (and checked) as the plaintext they read.  Sync tokens are
"s<room stream>~<to-device stream>".

Design: one ordered stream of room events (stream position = sync token
"sN"), one Condition guarding all state.  A scenario file (tests/matrix/
*.json) is data: initial rooms, then steps, each "when <condition>, do
<action>", run by a driver thread; the test script only starts and kills
processes.  The whole state is written to <dir>/state.json after every
change, and `fake_matrix.py check SCENARIO STATE` checks the scenario's
"expect" section against it (every reply is tied to the event it answers
through its transaction id, "pp." + FNV-1a-64 of the event id).

Usage:
  fake_matrix.py serve SCENARIO.json DIR     (port written to DIR/port)
  fake_matrix.py check SCENARIO.json DIR/state.json
"""
import json
import os
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PREFIX = "/_matrix/client/v3/"
STEP_TIMEOUT = 40.0


def fnv1a64(s):
    h = 0xcbf29ce484222325
    for b in s.encode("utf-8"):
        h ^= b
        h = (h * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


def reply_txn(event_id):
    return "pp." + fnv1a64(event_id)


def parse_tok(tok):
    """"s12~3" -> (12, 3); "s12" -> (12, 0); ValueError otherwise."""
    pos, _, td = tok.lstrip("s").partition("~")
    return int(pos), int(td or 0)


class Room:
    def __init__(self, room_id):
        self.room_id = room_id
        self.members = {}        # user -> "join" | "invite" | "leave"
        self.state = {}          # (type, state_key) -> event
        self.bot_join_pos = None
        self.bot_leave_pos = None


class Server:
    def __init__(self, scenario, outdir):
        self.sc = scenario
        self.dir = outdir
        self.cv = threading.Condition()
        bot = scenario.get("bot", {})
        self.bot = bot.get("user_id", "@coach:example.org")
        self.token = bot.get("token", "syt_Y29hY2g_fakeSecretToken_0001")
        self.password = bot.get("password", "correct horse")
        self.displayname = bot.get("displayname", "Coach")
        self.shared_history = scenario.get("history_visibility") == "shared"
        self.latency = scenario.get("latency_ms", 0) / 1000.0
        self.stream = []         # [(pos, room_id, event)]
        self.pos = 0
        self.rooms = {}
        self.txns = {}           # (token, txn) -> event_id
        self.sent = []           # bot events stored: dicts
        self.send_puts = {}      # txn -> number of PUTs that reached send
        self.faults = []         # [{"endpoint","kind","count","retry_ms"}]
        self.retry_not_before = {}   # endpoint -> time before which a retry is early
        self.counts = {"sync": 0, "send": 0, "join": 0, "leave": 0,
                       "429": 0, "500": 0, "drop": 0, "401": 0,
                       "early_retries": 0, "token_in_url": 0,
                       "duplicate_txn": 0, "hung": 0, "login": 0,
                       "members": 0, "idle_polls": 0}
        self.filters = []
        self.labels = {}         # label -> event_id
        self.last_park = 0.0     # when a sync last parked with nothing to deliver
        self.last_event = 0.0    # when the last event was added
        self.rewind_to = None
        # end-to-end encryption
        self.dkeys = {}          # user -> {device: device_keys}
        self.otks = {}           # user -> {device: {key id: signed key}}
        self.td = []             # [(seq, kind, payload)]: to-device events, device list changes
        self.td_seq = 0
        self.devices = {}        # (user, device) -> e2e_client.Device (scripted users)
        self.held = []           # room keys held back ("key": "late")
        for user, devs in scenario.get("devices", {}).items():
            for d in devs:
                self._add_device(user, d)
        self.result = None
        self.closing = False
        self.evseq = 0
        with self.cv:
            for r in scenario.get("rooms", []):
                self._make_room(r)
        steps = []
        for st in scenario.get("steps", []):
            if st.get("do") != "series":
                steps.append(st)
                continue
            # "series": count messages, each sent once the previous one was
            # answered (replies counted from replies_from).
            for i in range(st["count"]):
                steps.append({"when": {"replies": st.get("replies_from", 0) + i},
                              "do": "say", "room": st["room"], "sender": st["sender"],
                              "id": "%s%d" % (st["id"], i + 1),
                              "body": "%s (%d)" % (st["body"], i + 1)})
        scenario["steps"] = steps

    # ---- end-to-end encryption (caller holds cv) ---------------------------
    def _add_device(self, user, device_id):
        import e2e_client      # python3-olm: only scenarios with devices need it
        d = e2e_client.Device(user, device_id)
        self.devices[(user, device_id)] = d
        self.dkeys.setdefault(user, {})[device_id] = d.device_keys()
        self.otks.setdefault(user, {})[device_id] = d.one_time_keys(5)
        return d

    def _td_add(self, kind, payload):
        self.td_seq += 1
        self.td.append((self.td_seq, kind, payload))
        self.last_event = time.time()
        self.cv.notify_all()

    def _claim(self, user, device):
        keys = self.otks.get(user, {}).get(device, {})
        if not keys:
            return None
        kid = sorted(keys)[0]
        self.counts["claimed"] = self.counts.get("claimed", 0) + 1
        return {kid: keys.pop(kid)}

    def _share_with_bot(self, dev, room, hold):
        """dev's outbound session for room to each of the bot's devices
        that lacks it, over Olm (a bot one-time key claimed for a new
        session): queued as to-device events, or held (hold)."""
        import e2e_client
        for bdev, bk in self.dkeys.get(self.bot, {}).items():
            curve, ed = bk["keys"]["curve25519:" + bdev], bk["keys"]["ed25519:" + bdev]
            if curve in dev.shared.setdefault(room, set()):
                continue
            otk = None
            if not dev.sessions.get(curve):
                got = self._claim(self.bot, bdev) or {}
                one = next(iter(got.values()), None)
                if one is None or not e2e_client.verify(one, self.bot, bdev, ed):
                    self.counts["bad_bot_otk"] = self.counts.get("bad_bot_otk", 0) + 1
                    continue
                otk = one["key"]
            content = dev.olm_encrypt(self.bot, curve, ed, otk, "m.room_key", dev.room_key(room))
            ev = {"type": "m.room.encrypted", "sender": dev.user, "content": content}
            dev.shared[room].add(curve)
            if hold:
                self.held.append(ev)
            else:
                self._td_add("to_device", ev)

    def _say_e2e(self, step, room):
        user = step["sender"]
        dev = self.devices[(user, step.get("device") or
                            sorted(d for (u, d) in self.devices if u == user)[0])]
        key = step.get("key", "now")
        rid = room.room_id
        saved = (dev.outbound.get(rid), dev.shared.get(rid))
        if key in ("late", "never"):       # a session of its own, whose key comes late or never
            dev.new_session(rid)
        if key != "never":
            self._share_with_bot(dev, rid, hold=key == "late")
        content = {"msgtype": step.get("msgtype", "m.text"), "body": step["body"]}
        if step.get("mention"):
            content["m.mentions"] = {"user_ids": [self.bot]}
        enc = dev.megolm_encrypt(rid, "m.room.message", content)
        if key in ("late", "never"):
            if saved[0] is None:
                dev.outbound.pop(rid, None)
                dev.shared.pop(rid, None)
            else:
                dev.outbound[rid], dev.shared[rid] = saved
        self._event(room, "m.room.encrypted", user, enc, label=step.get("id"))

    def _read_encrypted(self, room, content):
        """What each scripted device in room reads of the bot's encrypted
        event: (plaintext content or None, [devices that read it])."""
        plain, readers = None, []
        for (u, d), dev in sorted(self.devices.items()):
            if room.members.get(u) != "join":
                continue
            try:
                ev = dev.megolm_decrypt(room.room_id, content)
            except (KeyError, ValueError):
                continue
            if ev.get("type") == "m.room.message":
                plain = plain or ev["content"]
                readers.append("%s/%s" % (u, d))
        return plain, readers

    # ---- state helpers (caller holds cv) ---------------------------------
    def _event(self, room, etype, sender, content, state_key=None, label=None):
        self.evseq += 1
        self.pos += 1
        eid = "$%s%d:fake.test" % ((label + ".") if label else "ev", self.evseq)
        ev = {"type": etype, "event_id": eid, "sender": sender,
              "origin_server_ts": 1700000000000 + self.evseq,
              "content": content, "room_id": room.room_id}
        if state_key is not None:
            ev["state_key"] = state_key
            room.state[(etype, state_key)] = ev
        if etype == "m.room.member":
            room.members[state_key] = content.get("membership")
            if state_key == self.bot:
                if content.get("membership") == "join":
                    room.bot_join_pos = self.pos
                    room.bot_leave_pos = None
                elif content.get("membership") == "leave":
                    room.bot_leave_pos = self.pos
        self.stream.append((self.pos, room.room_id, ev))
        self.last_event = time.time()
        if label:
            self.labels[label] = eid
        self.cv.notify_all()
        return ev

    def _make_room(self, r):
        room = Room(r["room_id"])
        self.rooms[room.room_id] = room
        creator = r.get("members", ["@alice:example.org"])[0]
        self._event(room, "m.room.create", creator, {"creator": creator}, "")
        for m in r.get("members", []):
            self._event(room, "m.room.member", m, {"membership": "join"}, m)
        if r.get("encrypted"):
            self._event(room, "m.room.encryption", creator,
                        {"algorithm": "m.megolm.v1.aes-sha2"}, "")
        if r.get("bot_joined"):
            self._event(room, "m.room.member", self.bot, {"membership": "join"}, self.bot)
        return room

    def _visible(self, room, pos):
        if room.bot_join_pos is None:
            return False
        if room.bot_leave_pos is not None and pos > room.bot_leave_pos:
            return False
        if self.shared_history:
            return True
        return pos >= room.bot_join_pos

    def _joined_count(self, room):
        return sum(1 for v in room.members.values() if v == "join")

    def dump(self):
        st = {"counts": self.counts, "sent": self.sent, "labels": self.labels,
              "room_keys": getattr(self, "room_keys", []),
              "send_puts": self.send_puts, "filters": self.filters,
              "result": self.result,
              "rooms": {rid: {"members": r.members} for rid, r in self.rooms.items()}}
        tmp = os.path.join(self.dir, "state.json.tmp")
        with open(tmp, "w") as f:
            json.dump(st, f, indent=1)
        os.replace(tmp, os.path.join(self.dir, "state.json"))

    # ---- sync ------------------------------------------------------------
    def sync(self, since, timeout_ms, limit=None):
        deadline = time.time() + min(max(timeout_ms, 0), 60000) / 1000.0
        with self.cv:
            self.counts["sync"] += 1
            self.cv.notify_all()
            self.dump()
            td_since = 0
            if since is None:
                start = 0
            else:
                try:
                    start, td_since = parse_tok(since)
                except ValueError:
                    return 400, {"errcode": "M_INVALID_PARAM", "error": "bad since"}
                # what the bot had is acknowledged by this since: gone
                self.td = [x for x in self.td if x[0] > td_since]
            if self.rewind_to is not None:
                start = self.rewind_to
                self.rewind_to = None
            initial = since is None
            parked = False
            while True:
                body = self._build(start, initial, limit)
                if body["rooms"]["join"] or body["rooms"]["invite"] or body["rooms"]["leave"] \
                        or body["to_device"]["events"] or body["device_lists"]["changed"] \
                        or body["device_lists"]["left"]:
                    break
                left = deadline - time.time()
                if left <= 0 or self.closing:
                    break
                if not parked:    # counted once per request, no notify:
                    parked = True  # parked syncs must not wake each other
                    self.last_park = time.time()
                    self.counts["idle_polls"] += 1
                    self.dump()
                self.cv.wait(left)
            return 200, body

    def _build(self, start, initial, limit=None):
        rooms = {"join": {}, "invite": {}, "leave": {}}
        for rid, room in self.rooms.items():
            mem = room.members.get(self.bot)
            if mem == "invite":
                inv = room.state.get(("m.room.member", self.bot))
                if inv and (initial or inv_pos(self.stream, inv) > start):
                    stripped = [{"type": e["type"], "state_key": e["state_key"],
                                 "sender": e["sender"], "content": e["content"]}
                                for (t, k), e in room.state.items()
                                if t in ("m.room.create", "m.room.name", "m.room.encryption")
                                or (t == "m.room.member" and k == self.bot)]
                    rooms["invite"][rid] = {"invite_state": {"events": stripped}}
                continue
            if room.bot_join_pos is None:
                continue
            # A room joined since `start` comes with its recent history, as
            # a real server sends it (visible history only).
            fresh = room.bot_join_pos > start
            tl = [e for (p, r, e) in self.stream
                  if r == rid and (p > start or fresh) and self._visible(room, p)]
            # the filter's timeline limit (20 for a room just joined), as a
            # real server cuts it: the newest events, "limited", and a
            # prev_batch to page back from with /messages
            n = min(limit or 50, 20 if fresh else 10 ** 9)
            limited = len(tl) > n
            tl = tl[-n:]
            if not tl:
                continue
            state = []
            first = inv_pos(self.stream, tl[0])
            if initial or fresh:
                state = [e for e in room.state.values() if inv_pos(self.stream, e) < first]
            entry = {"timeline": {"events": tl, "limited": limited,
                                  "prev_batch": "s%d" % (first - 1)},
                     "state": {"events": state},
                     "summary": {"m.joined_member_count": self._joined_count(room)}}
            if mem == "leave":
                rooms["leave"][rid] = {"timeline": entry["timeline"],
                                       "state": entry["state"]}
            else:
                rooms["join"][rid] = entry
        out = {"next_batch": "s%d~%d" % (self.pos, self.td_seq), "rooms": rooms,
               "account_data": {"events": []}, "presence": {"events": []},
               "to_device": {"events": [p for (q, k, p) in self.td if k == "to_device"]},
               "device_lists": {"changed": sorted({p for (q, k, p) in self.td if k == "changed"}),
                                "left": sorted({p for (q, k, p) in self.td if k == "left"})}}
        for dev in self.otks.get(self.bot, {}).values():
            out["device_one_time_keys_count"] = {"signed_curve25519": len(dev)}
        self.counts["to_device_delivered"] = self.counts.get("to_device_delivered", 0) + \
            len(out["to_device"]["events"])
        return out

    # ---- scenario driver --------------------------------------------------
    def cond_ok(self, when):
        for k, v in when.items():
            if k == "syncs" and self.counts["sync"] < v:
                return False
            if k == "replies" and len(self.sent) < v:
                return False
            if k == "sends" and self.counts["send"] < v:
                return False
            if k == "hung" and self.counts["hung"] < v:
                return False
            if k == "joined":
                r = self.rooms.get(v)
                if not r or r.members.get(self.bot) != "join":
                    return False
            if k == "left":
                r = self.rooms.get(v)
                if not r or r.members.get(self.bot) != "leave":
                    return False
            if k == "idle":
                # a sync parked (nothing left to deliver) after the last
                # event and after the file this step also waits for
                after = self.last_event
                if "file" in when:
                    fp = os.path.join(self.dir, when["file"])
                    if not os.path.exists(fp):
                        return False
                    after = max(after, os.path.getmtime(fp))
                if self.last_park <= after:
                    return False
            if k == "file" and not os.path.exists(os.path.join(self.dir, v)):
                return False
            if k == "counts" and any(self.counts.get(c, 0) < n for c, n in v.items()):
                return False
        return True

    def run_steps(self):
        for i, step in enumerate(self.sc.get("steps", [])):
            when = step.get("when", {})
            deadline = time.time() + STEP_TIMEOUT
            with self.cv:
                while not self.cond_ok(when):
                    left = deadline - time.time()
                    if left <= 0:
                        self.result = "timeout at step %d waiting for %s" % (i, json.dumps(when))
                        self.dump()
                        open(os.path.join(self.dir, "done"), "w").close()
                        return
                    self.cv.wait(min(left, 0.2))
                self.act(step)
                self.dump()
            if step.get("do") == "done":
                return

    def act(self, step):
        do = step.get("do")
        room = self.rooms.get(step.get("room", ""))
        if do == "invite":
            self._event(room, "m.room.member", step["sender"],
                        {"membership": "invite", "is_direct": step.get("direct", False)},
                        self.bot)
            if step.get("message"):
                # sent in the same moment as the invite, before the bot can
                # join (clients that create a DM with its first message)
                m = step["message"]
                self._event(room, "m.room.message", step["sender"],
                            {"msgtype": "m.text", "body": m["body"]}, label=m.get("id"))
        elif do == "say":
            content = {"msgtype": step.get("msgtype", "m.text"), "body": step["body"]}
            if step.get("reply_to_answer"):
                # a reply to the bot's answer to that label, with the quote
                # clients put in front of it (the reply fallback, as Element
                # writes it: "> <@sender> line", "> line"..., a blank line)
                t = reply_txn(self.labels[step["reply_to_answer"]])
                quoted = [x for x in self.sent if x["txn"] == t][0]
                lines = quoted["body"].split("\n")
                fb = "> <%s> %s" % (self.bot, lines[0]) + "".join("\n> " + x for x in lines[1:])
                content["body"] = fb + "\n\n" + step["body"]
                content["format"] = "org.matrix.custom.html"
                content["formatted_body"] = ("<mx-reply><blockquote>In reply to %s<br>%s</blockquote>"
                                             "</mx-reply>%s" % (self.bot, quoted["body"], step["body"]))
                content["m.relates_to"] = {"m.in_reply_to": {"event_id": quoted["event_id"]}}
            if step.get("mention"):
                content["m.mentions"] = {"user_ids": [self.bot]}
            if step.get("thread"):
                # in the thread of that label, as Element sends it: the
                # root, and a reply to it only as the thread's fallback
                root = self.labels[step["thread"]]
                content["m.relates_to"] = {"rel_type": "m.thread", "event_id": root,
                                           "is_falling_back": True,
                                           "m.in_reply_to": {"event_id": root}}
            self._event(room, "m.room.message", step["sender"], content, label=step.get("id"))
        elif do == "burst":
            # count messages at once, none waiting for an answer
            for i in range(step["count"]):
                self._event(room, "m.room.message", step["sender"],
                            {"msgtype": "m.text", "body": "%s (%d)" % (step["body"], i + 1)},
                            label="%s%d" % (step["id"], i + 1))
        elif do == "sticker":
            self._event(room, "m.sticker", step["sender"],
                        {"body": step.get("body", "a sticker"), "url": "mxc://fake.test/st1",
                         "info": {"mimetype": "image/png", "w": 64, "h": 64}}, label=step.get("id"))
        elif do == "say_encrypted":
            self._event(room, "m.room.encrypted", step["sender"],
                        {"algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "AwgAEnAC",
                         "session_id": "s1", "device_id": "DEV"}, label=step.get("id"))
        elif do == "member":
            if step.get("device"):           # joins with a device of their own
                self._add_device(step["user"], step["device"])
                self._td_add("changed", step["user"])
            self._event(room, "m.room.member", step["user"],
                        {"membership": step.get("membership", "join")}, step["user"])
            if step.get("membership") == "leave":
                self._td_add("left", step["user"])
        elif do == "say_e2e":
            self._say_e2e(step, room)
        elif do == "release_keys":
            for ev in self.held:
                self._td_add("to_device", ev)
            self.held = []
        elif do == "fault":
            self.faults.append({"endpoint": step["endpoint"], "kind": step["kind"],
                                "count": step.get("count", 1),
                                "retry_ms": step.get("retry_ms", 500)})
        elif do == "forgive":
            # the retry hints given so far no longer count: a bot that was
            # restarted cannot know them (a real server would 429 again)
            self.retry_not_before.clear()
        elif do == "rewind":
            self.rewind_to = step.get("to", 0)
        elif do == "marker":
            open(os.path.join(self.dir, step["name"]), "w").close()
        elif do == "done":
            self.result = "done"
            open(os.path.join(self.dir, "done"), "w").close()
        self.cv.notify_all()

    def take_fault(self, endpoint):
        for f in self.faults:
            if f["count"] > 0 and f["endpoint"] in (endpoint, "any"):
                f["count"] -= 1
                return f
        return None


def inv_pos(stream, ev):
    for p, r, e in stream:
        if e is ev:
            return p
    return 0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-matrix/1"

    def log_message(self, fmt, *args):
        pass

    def setup(self):
        super().setup()
        # one write per answer would still meet delayed ACKs without this
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def reply(self, code, obj, headers=None):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")

    def do_PUT(self):
        self.route("PUT")

    def route(self, method):
        S = self.server.S
        url = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(url.query)
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n > 0 else b""
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            return self.reply(400, {"errcode": "M_NOT_JSON", "error": "bad json"})
        if not url.path.startswith(PREFIX):
            return self.reply(404, {"errcode": "M_UNRECOGNIZED", "error": "unknown"})
        parts = [urllib.parse.unquote(p) for p in url.path[len(PREFIX):].split("/")]
        if "access_token" in q or S.token in self.path:
            with S.cv:
                S.counts["token_in_url"] += 1
        if parts == ["login"]:
            return self.login(S, method, body)
        endpoint = {"sync": "sync", "join": "join", "rooms": None}.get(parts[0], parts[0])
        if parts[0] == "rooms" and len(parts) >= 3:
            endpoint = parts[2]          # send, join, leave, joined_members
        auth = self.headers.get("Authorization", "")
        with S.cv:
            f = S.take_fault(endpoint)
            now = time.time()
            nb = S.retry_not_before.pop(endpoint, None)
            if nb is not None and now < nb - 0.02:
                S.counts["early_retries"] += 1
            if f is not None and f["kind"] in ("429_header", "429_body"):
                S.counts["429"] += 1
                ms = f["retry_ms"]
                S.retry_not_before[endpoint] = now + ms / 1000.0
                S.dump()
                if f["kind"] == "429_header":
                    secs = max(1, (ms + 999) // 1000)
                    S.retry_not_before[endpoint] = now + secs
                    return self.reply(429, {"errcode": "M_LIMIT_EXCEEDED", "error": "Too many requests"},
                                      {"Retry-After": str(secs)})
                return self.reply(429, {"errcode": "M_LIMIT_EXCEEDED", "error": "Too many requests",
                                        "retry_after_ms": ms})
            if f is not None and f["kind"] == "500":
                S.counts["500"] += 1
                S.dump()
                return self.reply(500, {"errcode": "M_UNKNOWN", "error": "Internal server error"})
            if f is not None and f["kind"] == "drop":
                S.counts["drop"] += 1
                S.dump()
                return self.drop()
            if auth != "Bearer " + S.token or (f is not None and f["kind"] == "401"):
                S.counts["401"] += 1
                S.dump()
                return self.reply(401, {"errcode": "M_UNKNOWN_TOKEN",
                                        "error": "Invalid access token passed.", "soft_logout": False})
        after = f["kind"] if f is not None else None
        if after == "hang_before":    # never answers, never acts
            with S.cv:
                S.counts["hung"] += 1
                S.dump()
                while not S.closing:
                    S.cv.wait(1.0)
            return self.drop()
        if S.latency:              # a far-away server: every call takes this long
            time.sleep(S.latency)
        code, obj = self.dispatch(S, method, parts, q, body)
        if after == "drop_after":
            with S.cv:
                S.counts["drop"] += 1
                S.dump()
            return self.drop()
        if after == "hang":
            with S.cv:
                S.counts["hung"] += 1
                S.dump()
                S.cv.notify_all()
                while not S.closing:
                    S.cv.wait(1.0)
            return self.drop()
        return self.reply(code, obj)

    def login(self, S, method, body):
        if method == "GET":
            return self.reply(200, {"flows": [{"type": "m.login.password"}]})
        ident = body.get("identifier", {})
        user = ident.get("user") or body.get("user") or ""
        if not user.startswith("@"):
            user = "@%s:%s" % (user, S.bot.split(":", 1)[1])
        with S.cv:
            S.counts["login"] += 1
        if body.get("type") != "m.login.password" or user != S.bot or body.get("password") != S.password:
            return self.reply(403, {"errcode": "M_FORBIDDEN", "error": "Invalid username or password"})
        return self.reply(200, {"user_id": S.bot, "access_token": S.token, "device_id": "FAKEDEV",
                                "home_server": S.bot.split(":", 1)[1]})

    def dispatch(self, S, method, parts, q, body):
        if parts == ["account", "whoami"]:
            return 200, {"user_id": S.bot, "device_id": "FAKEDEV"}
        if parts[0] == "profile" and len(parts) >= 2:
            return 200, {"displayname": S.displayname}
        if parts[0] == "user" and len(parts) == 3 and parts[2] == "filter" and method == "POST":
            with S.cv:
                S.filters.append(body)
                return 200, {"filter_id": str(len(S.filters))}
        if parts == ["sync"]:
            if "filter" in q:
                try:
                    flt = json.loads(q["filter"][0])
                except ValueError:
                    flt = q["filter"][0]
                with S.cv:
                    if not S.filters or S.filters[-1] != flt:
                        S.filters.append(flt)
            try:
                timeout = int(q.get("timeout", ["0"])[0])
            except ValueError:
                timeout = 0
            limit = None
            try:
                limit = int(flt["room"]["timeline"]["limit"])
            except (KeyError, TypeError, ValueError, NameError, UnboundLocalError):
                pass
            return S.sync(q.get("since", [None])[0], timeout, limit)
        with S.cv:
            if parts[0] == "keys" or parts[0] == "sendToDevice":
                return self.keys(S, method, parts, body)
            if parts[0] == "join" and len(parts) == 2 and method == "POST":
                return self.join(S, parts[1])
            if parts[0] != "rooms" or len(parts) < 3:
                return 404, {"errcode": "M_UNRECOGNIZED", "error": "unknown endpoint"}
            room = S.rooms.get(parts[1])
            if room is None:
                return 404, {"errcode": "M_NOT_FOUND", "error": "no such room"}
            if parts[2] == "join" and method == "POST":
                return self.join(S, parts[1])
            mem = room.members.get(S.bot)
            if parts[2] == "leave" and method == "POST":
                S.counts["leave"] += 1
                if mem in ("join", "invite"):
                    S._event(room, "m.room.member", S.bot, {"membership": "leave"}, S.bot)
                return 200, {}
            if mem != "join":
                return 403, {"errcode": "M_FORBIDDEN", "error": "not in room"}
            if parts[2] == "joined_members" and method == "GET":
                S.counts["members"] += 1
                return 200, {"joined": {u: {"display_name": u[1:].split(":")[0]}
                                        for u, m in room.members.items() if m == "join"}}
            if parts[2] == "messages" and method == "GET":
                return self.messages(S, room, q)
            if parts[2] == "state" and len(parts) in (4, 5) and method == "GET":
                S.counts["state"] = S.counts.get("state", 0) + 1
                ev = room.state.get((parts[3], parts[4] if len(parts) == 5 else ""))
                if ev is None:
                    return 404, {"errcode": "M_NOT_FOUND", "error": "Event not found."}
                return 200, ev["content"]
            if parts[2] == "send" and len(parts) == 5 and method == "PUT":
                return self.send(S, room, parts[3], parts[4], body)
        return 404, {"errcode": "M_UNRECOGNIZED", "error": "unknown endpoint"}

    def keys(self, S, method, parts, body):
        """/keys/upload, /keys/query, /keys/claim and /sendToDevice (to the
        scripted devices, which read their room keys at once)."""
        name = "send_to_device" if parts[0] == "sendToDevice" else "keys_" + (parts[1] if len(parts) > 1 else "")
        S.counts[name] = S.counts.get(name, 0) + 1
        if parts == ["keys", "upload"] and method == "POST":
            dev = "FAKEDEV"
            dk = body.get("device_keys")
            if dk:
                if dk.get("user_id") != S.bot or dk.get("device_id") != dev:
                    return 400, {"errcode": "M_INVALID_PARAM", "error": "not this device"}
                S.dkeys.setdefault(S.bot, {})[dev] = dk
            mine = S.otks.setdefault(S.bot, {}).setdefault(dev, {})
            for kid, k in (body.get("one_time_keys") or {}).items():
                if kid in mine and mine[kid] != k:
                    return 400, {"errcode": "M_INVALID_PARAM", "error": "one-time key %s changed" % kid}
                mine[kid] = k
            S.dump()
            return 200, {"one_time_key_counts": {"signed_curve25519": len(mine)}}
        if parts == ["keys", "query"] and method == "POST":
            want = body.get("device_keys") or {}
            return 200, {"device_keys": {u: dict(S.dkeys.get(u, {})) for u in want}, "failures": {}}
        if parts == ["keys", "claim"] and method == "POST":
            out = {}
            for u, devs in (body.get("one_time_keys") or {}).items():
                for d in devs:
                    got = S._claim(u, d)
                    if got:
                        out.setdefault(u, {})[d] = got
            S.dump()
            return 200, {"one_time_keys": out, "failures": {}}
        if parts[0] == "sendToDevice" and len(parts) == 3 and method == "PUT":
            key = (S.token, "td:" + parts[2])
            if key in S.txns:
                S.counts["duplicate_txn"] += 1
                return 200, {}
            S.txns[key] = parts[2]
            for u, devs in (body.get("messages") or {}).items():
                for d, content in devs.items():
                    dev = S.devices.get((u, d))
                    S.counts["to_device_sent"] = S.counts.get("to_device_sent", 0) + 1
                    if dev is None or parts[1] != "m.room.encrypted":
                        continue
                    try:
                        ev = dev.olm_decrypt(S.bot, content)
                        room, sid = dev.take_room_key(ev, content["sender_key"])
                        S.room_keys = getattr(S, "room_keys", [])
                        S.room_keys.append({"device": "%s/%s" % (u, d), "room": room, "session": sid})
                    except (ValueError, KeyError) as e:
                        S.counts["bad_to_device"] = S.counts.get("bad_to_device", 0) + 1
                        sys.stderr.write("to-device for %s/%s not read: %s\n" % (u, d, e))
            S.dump()
            return 200, {}
        return 404, {"errcode": "M_UNRECOGNIZED", "error": "unknown endpoint"}

    def join(self, S, rid):
        room = S.rooms.get(rid)
        S.counts["join"] += 1
        if room is None:
            return 404, {"errcode": "M_NOT_FOUND", "error": "no such room"}
        if room.members.get(S.bot) not in ("invite", "join"):
            return 403, {"errcode": "M_FORBIDDEN", "error": "not invited"}
        if room.members.get(S.bot) != "join":
            S._event(room, "m.room.member", S.bot, {"membership": "join"}, S.bot)
        return 200, {"room_id": rid}

    def messages(self, S, room, q):
        """GET /rooms/{id}/messages, dir=b only: the room's visible events at
        or before `from`, newest first, down to `to` (excluded), at most
        `limit`; `end` is where the next page starts, absent at the end."""
        S.counts["messages"] = S.counts.get("messages", 0) + 1
        if q.get("dir", ["f"])[0] != "b":
            return 400, {"errcode": "M_INVALID_PARAM", "error": "only dir=b here"}
        try:
            frm = parse_tok(q["from"][0])[0] if "from" in q else S.pos
            to = parse_tok(q["to"][0])[0] if "to" in q else -1
            limit = max(1, min(1000, int(q.get("limit", ["10"])[0])))
        except ValueError:
            return 400, {"errcode": "M_INVALID_PARAM", "error": "bad token"}
        evs = [(p, e) for (p, r, e) in reversed(S.stream)
               if r == room.room_id and to < p <= frm and S._visible(room, p)]
        chunk = evs[:limit]
        out = {"chunk": [e for _, e in chunk], "start": "s%d" % frm}
        if len(evs) > limit:
            out["end"] = "s%d" % (chunk[-1][0] - 1)
        return 200, out

    def send(self, S, room, etype, txn, body):
        S.counts["send"] += 1
        S.send_puts[txn] = S.send_puts.get(txn, 0) + 1
        key = (S.token, txn)
        if key in S.txns:
            S.counts["duplicate_txn"] += 1
            S.dump()
            return 200, {"event_id": S.txns[key]}
        ev = S._event(room, etype, S.bot, body)
        ev["unsigned"] = {"transaction_id": txn}
        S.txns[key] = ev["event_id"]
        rec = {"room_id": room.room_id, "txn": txn, "event_id": ev["event_id"],
               "type": etype, "msgtype": body.get("msgtype"),
               "body": body.get("body", ""), "content": body}
        if etype == "m.room.encrypted":
            # what the users' devices read of it
            plain, readers = S._read_encrypted(room, body)
            rec.update({"msgtype": (plain or {}).get("msgtype", "(not decrypted)"),
                        "body": (plain or {}).get("body", ""), "content": plain or {},
                        "session": body.get("session_id"), "readers": readers})
        S.sent.append(rec)
        S.dump()
        return 200, {"event_id": ev["event_id"]}


def serve(scpath, outdir):
    with open(scpath) as f:
        sc = json.load(f)
    S = Server(sc, outdir)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    httpd.S = S
    with S.cv:
        S.dump()
    tmp = os.path.join(outdir, "port.tmp")
    with open(tmp, "w") as f:
        f.write(str(httpd.server_address[1]))
    os.replace(tmp, os.path.join(outdir, "port"))
    threading.Thread(target=S.run_steps, daemon=True).start()
    try:
        httpd.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    finally:
        with S.cv:
            S.closing = True
            S.cv.notify_all()


def check(scpath, statepath):
    with open(scpath) as f:
        sc = json.load(f)
    with open(statepath) as f:
        st = json.load(f)
    exp = sc.get("expect", {})
    bad = []
    c = st["counts"]
    labels = st["labels"]
    sent = st["sent"]
    token = sc.get("bot", {}).get("token", "syt_Y29hY2g_fakeSecretToken_0001")

    def replies_to(label):
        eid = labels.get(label)
        if eid is None:
            bad.append("scenario label %s was never sent" % label)
            return []
        t = reply_txn(eid)
        return [s for s in sent if s["txn"] == t or s["txn"].startswith(t + ".")]

    if st.get("result") != "done":
        bad.append("scenario did not finish: %s" % st.get("result"))
    once = list(exp.get("answered_once", []))
    for prefix, n in exp.get("answered_once_series", {}).items():
        once += ["%s%d" % (prefix, i + 1) for i in range(n)]
    for label in once:
        rs = replies_to(label)
        if len(rs) != 1:
            bad.append("%s: %d replies stored, want 1" % (label, len(rs)))
        for r in rs:
            if r["msgtype"] != "m.notice" or not r["body"].strip():
                bad.append("%s: reply is not a non-empty m.notice: %r" % (label, r["content"]))
    for label in exp.get("unanswered", []):
        rs = replies_to(label)
        if rs:
            bad.append("%s: answered %d times, want never" % (label, len(rs)))
    for label, words in exp.get("reply_lacks", {}).items():
        for r in replies_to(label):
            for w in words:
                if w.lower() in r["body"].lower():
                    bad.append("%s: reply has %r: %r" % (label, w, r["body"][:200]))
    for label, words in exp.get("reply_contains", {}).items():
        for r in replies_to(label):
            for w in words:
                if w.lower() not in r["body"].lower():
                    bad.append("%s: reply lacks %r: %r" % (label, w, r["body"][:200]))
    for label, root in exp.get("in_thread", {}).items():
        for r in replies_to(label):
            rel = r["content"].get("m.relates_to") or {}
            if rel.get("rel_type") != "m.thread" or rel.get("event_id") != labels.get(root):
                bad.append("%s: reply not in the thread of %s: %r" % (label, root, rel))
    for label in exp.get("not_in_thread", []):
        for r in replies_to(label):
            if (r["content"].get("m.relates_to") or {}).get("rel_type") == "m.thread":
                bad.append("%s: reply in a thread, the message was not" % label)
    for t in exp.get("filter_types", []):
        if not any(t in ((f.get("room") or {}).get("timeline") or {}).get("types", [])
                   for f in st["filters"] if isinstance(f, dict)):
            bad.append("the sync filter does not ask for %s: %r" % (t, st["filters"][-1:]))
    for rid, n in exp.get("room_notices", {}).items():
        k = sum(1 for s in sent if s["room_id"] == rid)
        if k != n:
            bad.append("room %s: %d bot messages, want %d" % (rid, k, n))
    for rid, n in exp.get("e2e_notices", {}).items():
        k = sum(1 for s in sent if s["room_id"] == rid and s["txn"].startswith("pp.e2e."))
        if k != n:
            bad.append("room %s: %d encryption notices, want %d" % (rid, k, n))
    for rid in exp.get("encrypted_rooms", []):
        for s_ in sent:
            if s_["room_id"] == rid and s_["type"] != "m.room.encrypted":
                bad.append("room %s: the bot sent a %s in the clear" % (rid, s_["type"]))
    for label, devs in exp.get("read_by", {}).items():
        for r in replies_to(label):
            for d in devs:
                if d not in r.get("readers", []):
                    bad.append("%s: reply not readable by %s (readers %r)" % (label, d, r.get("readers")))
    for label, devs in exp.get("not_read_by", {}).items():
        for r in replies_to(label):
            for d in devs:
                if d in r.get("readers", []):
                    bad.append("%s: reply readable by %s, who left" % (label, d))
    for a, b_ in exp.get("new_session", []):
        ra, rb = replies_to(a), replies_to(b_)
        if ra and rb and ra[0].get("session") == rb[0].get("session"):
            bad.append("%s and %s: replies in the same Megolm session, want a new one" % (a, b_))
    for a, b_ in exp.get("same_session", []):
        ra, rb = replies_to(a), replies_to(b_)
        if ra and rb and ra[0].get("session") != rb[0].get("session"):
            bad.append("%s and %s: replies in different Megolm sessions, want one" % (a, b_))
    for rid, n in exp.get("unread_notices", {}).items():
        us = [x for x in sent if x["room_id"] == rid and x["txn"].startswith("pp.unread.")]
        if len(us) != n:
            bad.append("room %s: %d could-not-read notices, want %d" % (rid, len(us), n))
        for u in us:
            if "couldn't read" not in u["body"]:
                bad.append("room %s: the could-not-read notice reads %r" % (rid, u["body"][:120]))
    if "total_replies" in exp and len(sent) != exp["total_replies"]:
        bad.append("%d bot messages stored, want %d" % (len(sent), exp["total_replies"]))
    for rid in exp.get("joined", []):
        if st["rooms"][rid]["members"].get(sc.get("bot", {}).get("user_id", "@coach:example.org")) != "join":
            bad.append("bot not joined to %s" % rid)
    for rid in exp.get("not_joined", []):
        if st["rooms"][rid]["members"].get(sc.get("bot", {}).get("user_id", "@coach:example.org")) == "join":
            bad.append("bot joined %s, it should not have" % rid)
    for k, n in exp.get("min_counts", {}).items():
        if c.get(k, 0) < n:
            bad.append("count %s = %d, want >= %d" % (k, c.get(k, 0), n))
    for k, n in exp.get("max_counts", {}).items():
        if c.get(k, 0) > n:
            bad.append("count %s = %d, want <= %d" % (k, c.get(k, 0), n))
    if c["early_retries"]:
        bad.append("%d requests retried before the server's retry hint" % c["early_retries"])
    if c["token_in_url"]:
        bad.append("the access token appeared in a URL %d times" % c["token_in_url"])
    for s in sent:
        if token in s["body"]:
            bad.append("the access token appeared in a message")
        if s["msgtype"] != "m.notice":
            bad.append("bot sent a %s, not m.notice" % s["msgtype"])
    if exp.get("filter", True):
        ok = False
        for flt in st["filters"]:
            try:
                ok = ok or "m.room.message" in flt["room"]["timeline"]["types"]
            except (KeyError, TypeError):
                pass
        if not ok:
            bad.append("no sync filter asking for room messages: %r" % st["filters"])
    if st["counts"]["sync"] and not exp.get("allow_no_summary", True):
        pass
    print("fake_matrix: %d bot messages, %d PUTs, %d duplicate txn PUTs, %d x 429, "
          "%d x 500, %d dropped, %d syncs" % (len(sent), c["send"], c["duplicate_txn"],
                                             c["429"], c["500"], c["drop"], c["sync"]))
    for b in bad:
        print("CHECK FAILED: " + b)
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "serve":
        serve(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 4 and sys.argv[1] == "check":
        sys.exit(check(sys.argv[2], sys.argv[3]))
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)
