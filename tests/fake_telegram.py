#!/usr/bin/env python3
"""fake_telegram.py -- a faithful fake of the Telegram Bot API for tests.

Serves /bot<TOKEN>/<method> on 127.0.0.1 (port 0 = random; the chosen port
is written to --port-file).  A scenario file (JSON, tests/telegram/*.json)
says what the fake holds and which faults it injects:

  token, bot {id, username}     what getMe answers; other tokens get 401
  first_update_id               (default 1000)
  updates [..]                  Update objects, numbered in order unless one
                                has its own update_id (bad ids); an extra
                                "expect": "answer"|"none" says whether the
                                bot must answer (default: answer in private
                                chats, none in groups); "dup": true delivers
                                the update twice in one response
  generate {chats, per_chat, first_chat, texts}   a burst of private texts
  faults [{method, call: n | calls: [..], kind, seconds, retry_after, chat}]
        kind: 500 | 502 | 403 | 400 | malformed | drop | stall | 429;
        with "chat", n counts the calls for that chat_id only
  storm {p, retry_after, seed}  random 429s on sendMessage
  conflict                      every getUpdates answers 409

Real semantics: getUpdates(offset) forgets every update below offset (that
is the only way an update is confirmed; 0 asks for all pending, a negative
offset for the last -offset of them) and long-polls up to `timeout`
seconds for new ones; sendMessage enforces 4096 UTF-16 units, 1 message per
second per chat, 30 per second overall and 20 per minute per group (429 with
parameters.retry_after), and counts every breach -- including a send to a
chat before its retry_after ran out -- as a violation.  setMyCommands
refuses (400) a menu beyond Telegram's limits: more than 100 commands, a
command not 1-32 of a-z 0-9 _, a description not 1-256 UTF-16 units (the
last two also count as violations).  --latency-ms delays every answer.
Accepted messages are appended to --log (JSON lines), which survives
restarts; GET /admin/state answers the counters and the last menu taken
("commands" in order, "menu" command -> description), POST
/admin/inject adds updates and POST /admin/block {"chat": ID} makes every
later sendMessage to that chat answer 403 "bot was blocked by the user".
With --clock FILE (the file PUSHPULL_CLOCK names), each logged message
also carries "clock": the fake time the bot ran at when it was sent.

`fake_telegram.py report --scenario F --log L` compares the log with what
the scenario expects and prints a JSON summary (missing, duplicates per
chat, order, violations).
"""
import argparse
import json
import math
import random
import re
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def utf16_len(s):
    return len(s.encode("utf-16-le")) // 2


def build_updates(sc):
    """The scenario's updates, in delivery order, each with update_id."""
    out = []
    uid = sc.get("first_update_id", 1000)
    msg_ids = {}
    def next_mid(chat):
        msg_ids[chat] = msg_ids.get(chat, 0) + 1
        return msg_ids[chat]
    for u in sc.get("updates", []):
        u = json.loads(json.dumps(u))
        for k in ("message", "edited_message"):
            m = u.get(k)
            if m is not None:
                m.setdefault("message_id", next_mid(m["chat"]["id"]))
                m.setdefault("date", 1700000000)
                m.setdefault("from", {"id": m["chat"]["id"] if m["chat"]["id"] > 0 else 42,
                                      "is_bot": False, "first_name": "Sam"})
        if "update_id" not in u:       # a scenario may give its own (bad ids)
            u["update_id"] = uid
            uid += 1
        out.append(u)
    g = sc.get("generate")
    if g:
        texts = g.get("texts", ["hello"])
        first = g.get("first_chat", 5000)
        for r in range(g["per_chat"]):
            for c in range(g["chats"]):
                chat = first + c
                out.append({"update_id": uid, "message": {
                    "message_id": next_mid(chat), "date": 1700000000,
                    "chat": {"id": chat, "type": "private", "first_name": "U%d" % c},
                    "from": {"id": chat, "is_bot": False, "first_name": "U%d" % c},
                    "text": texts[(r + c) % len(texts)]}})
                uid += 1
    return out


def expects_answer(u):
    m = u.get("message")
    if m is None:
        return False
    e = u.get("expect")
    if e is not None:
        return e == "answer"
    return m["chat"]["type"] == "private"


class Fake:
    def __init__(self, sc, log_path, latency_ms):
        self.sc = sc
        self.token = sc.get("token", "123456:TEST-token")
        self.bot = sc.get("bot", {"id": 777, "username": "pushpull_test_bot"})
        self.lock = threading.Condition()
        self.pending = build_updates(sc)
        self.log_path = log_path
        self.latency = latency_ms / 1000.0
        self.calls = {}
        self.chat_calls = {}       # (method, chat_id) -> calls
        self.violations = []
        self.chat_last = {}        # chat -> time of last accepted send
        self.chat_blocked = {}     # chat -> time before which sends are refused
        self.user_blocked = set()  # chats whose user blocked the bot (403)
        self.clock = None          # --clock FILE
        self.global_times = []
        self.group_times = {}
        self.poll_gen = 0
        self.msg_ids = {}
        self.commands = None       # setMyCommands: the commands, in order
        self.menu = None           # ... and each one's description
        self.confirmed = 0
        st = sc.get("storm")
        self.storm = st
        self.rng = random.Random(st.get("seed", 1) if st else 1)
        self.faults = sc.get("faults", [])

    # -- helpers --------------------------------------------------------
    def fault_for(self, method, n, chat_n):
        for f in self.faults:
            if f.get("method") != method:
                continue
            calls = f.get("calls") or ([f["call"]] if "call" in f else [])
            if "chat" in f:
                if chat_n.get(f["chat"]) in calls:
                    return f
            elif n in calls:
                return f
        return None

    def violation(self, kind, **kw):
        kw["kind"] = kind
        kw["t"] = time.time()
        self.violations.append(kw)

    def record(self, entry):
        if self.log_path:
            with open(self.log_path, "a") as f:
                f.write(json.dumps(entry) + "\n")

    # -- methods --------------------------------------------------------
    def get_updates(self, p):
        if self.sc.get("conflict"):
            return 409, {"ok": False, "error_code": 409, "description":
                         "Conflict: terminated by other getUpdates request; "
                         "make sure that only one bot instance is running"}
        offset = int(p.get("offset", 0) or 0)
        limit = max(1, min(100, int(p.get("limit", 100) or 100)))
        timeout = max(0, min(50, int(p.get("timeout", 0) or 0)))
        deadline = time.time() + timeout
        with self.lock:
            self.poll_gen += 1
            gen = self.poll_gen
            self.lock.notify_all()
            if offset > 0:
                self.pending = [u for u in self.pending if u["update_id"] >= offset]
                self.confirmed = max(self.confirmed, offset)
            while True:
                # offset 0: every pending update; negative: the last -offset
                # of them (as the Bot API does)
                ready = ([u for u in self.pending if u["update_id"] >= offset] if offset > 0
                         else self.pending[offset:] if offset < 0 else list(self.pending))[:limit]
                if ready or time.time() >= deadline:
                    break
                if self.poll_gen != gen:
                    return 409, {"ok": False, "error_code": 409, "description":
                                 "Conflict: terminated by other getUpdates request"}
                self.lock.wait(min(0.5, deadline - time.time()))
            res = []
            for u in ready:
                clean = {k: v for k, v in u.items() if k not in ("expect", "dup")}
                res.append(clean)
                if u.get("dup"):
                    res.append(clean)
            return 200, {"ok": True, "result": res}

    def send_message(self, p):
        try:
            chat = int(p.get("chat_id"))
        except (TypeError, ValueError):
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}
        text = p.get("text")
        if not isinstance(text, str) or text.strip() == "":
            self.violation("empty", chat=chat)
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request: message text is empty"}
        if utf16_len(text) > 4096:
            self.violation("too_long", chat=chat, len16=utf16_len(text))
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request: message is too long"}
        if "parse_mode" in p:
            self.violation("parse_mode", chat=chat)
        now = time.time()
        with self.lock:
            if chat in self.user_blocked:
                return 403, {"ok": False, "error_code": 403,
                             "description": "Forbidden: bot was blocked by the user"}
            blocked = self.chat_blocked.get(chat, 0)
            if now < blocked - 0.05:
                self.violation("retry_after_ignored", chat=chat, early=blocked - now)
                return self.too_many(chat, blocked - now)
            last = self.chat_last.get(chat)
            if last is not None and now - last < 1.0:
                self.violation("chat_rate", chat=chat, gap=now - last)
                return self.too_many(chat, 1.0 - (now - last))
            self.global_times = [t for t in self.global_times if now - t < 1.0]
            if len(self.global_times) >= 30:
                self.violation("global_rate", chat=chat)
                return self.too_many(chat, 1.0)
            if chat < 0:
                g = [t for t in self.group_times.get(chat, []) if now - t < 60.0]
                self.group_times[chat] = g
                if len(g) >= 20:
                    self.violation("group_rate", chat=chat)
                    return self.too_many(chat, 60.0 - (now - g[0]))
            if self.storm and self.rng.random() < self.storm.get("p", 0.3):
                return self.too_many(chat, self.storm.get("retry_after", 1))
            self.chat_last[chat] = now
            self.global_times.append(now)
            if chat < 0:
                self.group_times[chat].append(now)
            self.msg_ids[chat] = self.msg_ids.get(chat, 100000) + 1
            mid = self.msg_ids[chat]
            reply_to = None
            rp = p.get("reply_parameters")
            if isinstance(rp, dict):
                reply_to = rp.get("message_id")
            elif p.get("reply_to_message_id") is not None:
                reply_to = p.get("reply_to_message_id")
            entry = {"chat_id": chat, "reply_to": reply_to, "text": text,
                     "len16": utf16_len(text), "t": now}
            if self.clock:
                try:
                    entry["clock"] = int(open(self.clock).read().strip())
                except (OSError, ValueError):
                    pass
            self.record(entry)
        return 200, {"ok": True, "result": {"message_id": mid, "date": int(now),
                                            "chat": {"id": chat}, "text": text}}

    def too_many(self, chat, secs):
        ra = max(1, int(math.ceil(secs)))
        self.chat_blocked[chat] = time.time() + ra
        return 429, {"ok": False, "error_code": 429,
                     "description": "Too Many Requests: retry after %d" % ra,
                     "parameters": {"retry_after": ra}}

    def call(self, method, p):
        if method == "getMe":
            b = dict(self.bot)
            b.setdefault("is_bot", True)
            b.setdefault("first_name", "pushpull")
            return 200, {"ok": True, "result": b}
        if method == "setMyCommands":
            cmds = p.get("commands")
            if not isinstance(cmds, list) or not all(
                    isinstance(c, dict) and isinstance(c.get("command"), str)
                    and isinstance(c.get("description"), str) for c in cmds):
                return 400, {"ok": False, "error_code": 400, "description": "Bad Request: commands"}
            # Telegram's limits: a menu it will not take is refused whole
            if len(cmds) > 100:
                return 400, {"ok": False, "error_code": 400, "description": "Bad Request: BOT_COMMANDS_TOO_MUCH"}
            for c in cmds:
                if not re.fullmatch(r"[a-z0-9_]{1,32}", c["command"]):
                    self.violation("menu_command", command=c["command"])
                    return 400, {"ok": False, "error_code": 400, "description": "Bad Request: BOT_COMMAND_INVALID"}
                if not 1 <= utf16_len(c["description"]) <= 256:
                    self.violation("menu_description", command=c["command"])
                    return 400, {"ok": False, "error_code": 400,
                                 "description": "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID"}
            self.commands = [c["command"] for c in cmds]
            self.menu = {c["command"]: c["description"] for c in cmds}
            return 200, {"ok": True, "result": True}
        if method == "getUpdates":
            return self.get_updates(p)
        if method == "sendMessage":
            return self.send_message(p)
        return 404, {"ok": False, "error_code": 404, "description": "Not Found"}

    def state(self):
        with self.lock:
            return {"calls": self.calls, "violations": self.violations,
                    "pending": len(self.pending), "confirmed_offset": self.confirmed,
                    "commands": self.commands, "menu": self.menu}


def make_handler(fake):
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):   # never print paths (tokens)
            pass

        def reply(self, code, obj=None, raw=None):
            body = raw if raw is not None else json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def params(self):
            u = urllib.parse.urlsplit(self.path)
            p = {k: v[-1] for k, v in urllib.parse.parse_qs(u.query).items()}
            n = int(self.headers.get("Content-Length") or 0)
            if n:
                raw = self.rfile.read(n)
                ct = self.headers.get("Content-Type", "")
                if "json" in ct:
                    try:
                        j = json.loads(raw)
                        if isinstance(j, dict):
                            p.update(j)
                    except ValueError:
                        pass
                else:
                    p.update({k: v[-1] for k, v in urllib.parse.parse_qs(raw.decode()).items()})
            return u.path, p

        def handle_any(self):
            path, p = self.params()
            if path == "/admin/state":
                return self.reply(200, fake.state())
            if path == "/admin/block":
                with fake.lock:
                    fake.user_blocked.add(int(p.get("chat")))
                return self.reply(200, {"ok": True})
            if path == "/admin/inject":
                ups = p.get("updates", [])
                with fake.lock:
                    nxt = max([u["update_id"] for u in fake.pending if 0 < u["update_id"] < 2 ** 53]
                              + [fake.confirmed - 1,
                              fake.sc.get("first_update_id", 1000) + 100000]) + 1
                    sc = {"updates": ups, "first_update_id": nxt}
                    fake.pending.extend(build_updates(sc))
                    fake.lock.notify_all()
                return self.reply(200, {"ok": True})
            parts = path.split("/")
            if len(parts) != 3 or not parts[1].startswith("bot"):
                return self.reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})
            if parts[1][3:] != fake.token:
                return self.reply(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
            method = parts[2]
            chat_n = {}
            with fake.lock:
                fake.calls[method] = fake.calls.get(method, 0) + 1
                n = fake.calls[method]
                try:
                    k = (method, int(p.get("chat_id")))
                    fake.chat_calls[k] = fake.chat_calls.get(k, 0) + 1
                    chat_n = {k[1]: fake.chat_calls[k]}
                except (TypeError, ValueError):
                    pass
            if fake.latency:
                time.sleep(fake.latency)
            f = fake.fault_for(method, n, chat_n)
            if f:
                kind = f.get("kind")
                if kind == "500":
                    return self.reply(500, {"ok": False, "error_code": 500, "description": "Internal Server Error"})
                if kind == "403":
                    return self.reply(403, {"ok": False, "error_code": 403,
                                            "description": "Forbidden: bot was blocked by the user"})
                if kind == "400":
                    return self.reply(400, {"ok": False, "error_code": 400,
                                            "description": "Bad Request: chat not found"})
                if kind == "502":
                    return self.reply(502, raw=b"<html>Bad Gateway</html>")
                if kind == "malformed":
                    return self.reply(200, raw=b'{"ok": true, "result": [ {"update_id": ')
                if kind == "drop":
                    self.close_connection = True
                    try:
                        import socket
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    return
                if kind == "stall":
                    time.sleep(f.get("seconds", 5))
                if kind == "429":
                    return self.reply(429, {"ok": False, "error_code": 429,
                                            "description": "Too Many Requests: retry after %d" % f.get("retry_after", 1),
                                            "parameters": {"retry_after": f.get("retry_after", 1)}})
            code, obj = fake.call(method, p)
            self.reply(code, obj)

        do_GET = handle_any
        do_POST = handle_any
    return H


def report(args):
    sc = json.load(open(args.scenario))
    ups = build_updates(sc)
    want = [(u["message"]["chat"]["id"], u["message"]["message_id"]) for u in ups if expects_answer(u)]
    sent = []
    try:
        with open(args.log) as f:
            sent = [json.loads(l) for l in f if l.strip()]
    except FileNotFoundError:
        pass
    count = {}
    order_ok = True
    last = {}
    for s in sent:
        if s.get("reply_to") is None:
            continue
        k = (s["chat_id"], s["reply_to"])
        count[k] = count.get(k, 0) + 1
        if count[k] == 1:
            if s["reply_to"] < last.get(s["chat_id"], 0):
                order_ok = False
            last[s["chat_id"]] = s["reply_to"]
    wanted = set(want)
    missing = [k for k in want if k not in count]
    unexpected = [k for k in count if k not in wanted]
    dup_per_chat = {}
    for k, c in count.items():
        if c > 1:
            dup_per_chat[k[0]] = dup_per_chat.get(k[0], 0) + c - 1
    out = {"expected": len(want), "answered": len([k for k in want if k in count]),
           "missing": len(missing), "unexpected": len(unexpected),
           "duplicates": sum(dup_per_chat.values()),
           "max_dup_per_chat": max(dup_per_chat.values()) if dup_per_chat else 0,
           "order_ok": order_ok, "messages": len(sent),
           "max_len16": max([s["len16"] for s in sent] or [0])}
    if sent:
        ts = [s["t"] for s in sent]
        out["span_s"] = round(max(ts) - min(ts), 3)
    if args.state:
        out["violations"] = len(args.state.get("violations", []))
        out["confirmed_offset"] = args.state.get("confirmed_offset")
        out["commands"] = args.state.get("commands")
        out["menu"] = args.state.get("menu")
        out["calls"] = args.state.get("calls")
    print(json.dumps(out, sort_keys=True))
    bad = [e for e in args.expect or [] if not eval(e, {}, dict(out))]
    for e in bad:
        print("expectation failed: %s" % e)
    if bad:
        sys.exit(1)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "report":
        ap = argparse.ArgumentParser(prog="fake_telegram.py report")
        ap.add_argument("--scenario", required=True)
        ap.add_argument("--log", required=True)
        ap.add_argument("--api", help="also fetch the fake's /admin/state from this base URL")
        ap.add_argument("--expect", action="append",
                        help="a Python expression over the summary's keys; exit 1 when false")
        a = ap.parse_args(sys.argv[2:])
        a.state = None
        if a.api:
            import urllib.request
            a.state = json.loads(urllib.request.urlopen(a.api + "/admin/state").read())
        report(a)
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenario", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--log")
    ap.add_argument("--latency-ms", type=int, default=0)
    ap.add_argument("--clock")
    a = ap.parse_args()
    fake = Fake(json.load(open(a.scenario)), a.log, a.latency_ms)
    fake.clock = a.clock
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer.allow_reuse_address = True
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), make_handler(fake))
    port = srv.server_address[1]
    if a.port_file:
        with open(a.port_file + ".tmp", "w") as f:
            f.write("%d\n" % port)
        import os
        os.rename(a.port_file + ".tmp", a.port_file)
    else:
        print(port, flush=True)
    try:
        srv.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
