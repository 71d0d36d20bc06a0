/* matrix.c -- `pushpull matrix`: the coach as a Matrix bot (client-server
 * API v3 over libcurl + jansson, through bots/net.h).
 *
 * One thread, one loop: /sync long poll (inline filter: room messages,
 * membership and encryption state; invites always come), then every event
 * of the batch in order.  A batch is first read by a pure function
 * (mx_parse_sync, matrix.h: what each event is, who invited us, whether
 * a message names the bot), then acted on with the HTTP calls.  Each room is a conversation "matrix:<room_id>"
 * driven through pp_dialog_turn(); replies are m.notice events sent with
 * PUT .../send/m.room.message/<txnId>, where txnId = "pp." + FNV-1a-64 of
 * the event answered, so a retried or repeated send is stored once by the
 * server.
 *
 * Crash safety, the one trick that matters: an event is handled as
 *   1. cursor "matrix.pending" = event id    (survives a crash)
 *   2. pp_store_seen("matrix", event id)     (1 = handled before: skip,
 *                                              unless it is the pending one)
 *   3. reply, send (idempotent txnId)
 *   4. pp_store_save(session + cursor) in one transaction: the cursor is
 *      "matrix.next_batch" for the batch's last event, else "matrix.pending"
 *      cleared.
 * So a SIGKILL anywhere redoes at most the one pending event, whose resend
 * the server folds into the first by txnId: nothing lost, nothing doubled.
 *
 * Encrypted rooms: the part "end-to-end encryption" below drives
 * bots/crypto.c (the only file that sees libolm): an m.room.encrypted
 * event is opened into a plaintext event and then handled as any other;
 * a reply in an encrypted room leaves as m.room.encrypted by the same
 * txnId rule, its Megolm session saved before it is sent.
 *
 * Errors: 429 M_LIMIT_EXCEEDED waits for Retry-After or retry_after_ms;
 * network errors and 5xx back off with full jitter; 401 M_UNKNOWN_TOKEN
 * stops with exit status 1.  The access token only ever goes into the
 * Authorization header; URLs and tokens are never logged.  The only
 * mutable globals are the signal flags (a handler can reach nothing else).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "pushpull.h"
#include "app.h"
#include "clock.h"
#include "notify.h"
#include "pair.h"
#include "remind.h"
#include "matrix.h"
#include "net.h"
#include "crypto.h"
#include "clock.h"

#define MX_API            "/_matrix/client/v3"
#define MX_MAX_URL        16384
#define MX_MAX_TOKEN      4096
#define MX_MAX_ALLOW      64
#define MX_MAX_CHUNK      16000    /* bytes of one m.notice body */
#define MX_BACKOFF_BASE   250
#define MX_BACKOFF_CAP    30000
#define MX_RETRY_CAP_MS   600000   /* never wait longer than this on a 429 */

/* What the bot says is data (responses/bots.responses, system.responses).
 * A sentence stays in C as well only where a set missing from a
 * responses directory, or memory running out, would otherwise lose a
 * message: the answer to a user's message or command, /forget's word
 * that it is done, and the notices that a message could not be read
 * (mx_say).  The greeting has none: without its set it is not said. */
#define MX_WENT_WRONG     "Sorry, something went wrong on my side; please try again."
#define MX_NOT_TEXT       "I can only read text. Write to me in words and I will answer."
#define MX_FORGET_DONE    "Done: I've deleted everything I kept about this conversation."
#define MX_FORGET_FAILED  "I couldn't delete your data: {error}"
#define MX_UNREADABLE     "I couldn't read a message you sent here. Please send it again."
#define MX_ENCRYPTED      "This room is end-to-end encrypted and I cannot read it. To talk, " \
                          "invite me to a room without encryption."

/* Results of an API call. */
#define MX_OK      0
#define MX_FAIL   -1    /* the server refused (4xx other than 401/429) */
#define MX_FATAL  -2    /* the token was refused: stop */
#define MX_CANCEL -3    /* a signal asked us to stop */

static volatile sig_atomic_t mx_wake;   /* any signal: cut the long poll */
static volatile sig_atomic_t mx_stop;   /* SIGTERM / SIGINT */
static volatile sig_atomic_t mx_hup;    /* SIGHUP: reload rules */

static void mx_on_signal(int sig)
{
    if (sig == SIGHUP) mx_hup = 1;
    else mx_stop = 1;
    mx_wake = 1;
}

typedef struct mx_room {
    char *id;
    pp_session *session;     /* loaded from the store on first use */
    int members;             /* joined members, -1 unknown */
    int encrypted;
    int enc_checked;         /* encrypted is known (state seen or asked) */
    int e2e_told;
    int direct;              /* invited as a DM (is_direct) */
    json_t *joined;          /* e2e: joined members' ids, NULL unknown */
    int rot_known;           /* e2e: rotation_period_* read */
    unsigned rot_msgs;       /* 0: the spec's default */
    long long rot_ms;
} mx_room;

typedef struct mx_bot {
    char base[1024];          /* homeserver URL, no trailing slash */
    char *token;
    char auth[MX_MAX_TOKEN + 32];
    char user_id[PP_MX_MAX_ID + 1], localpart[PP_MX_MAX_ID + 1], displayname[PP_MX_MAX_ID + 1];
    const char *allow[MX_MAX_ALLOW];
    size_t n_allow;
    long sync_timeout_ms;
    int timeline_limit;
    int log_text, log_rules;
    app_common common;
    pp_ruleset *rules;
    pp_store *store;
    net_client *sync_net, *api_net;
    uint64_t rng;
    net_bucket sends;
    mx_room *rooms;
    size_t n_rooms, cap_rooms;
    char since[PP_MX_MAX_BATCH + 1];
    char pending[PP_MX_MAX_ID + 1];   /* the event a previous run left in flight */
    unsigned long answered, skipped;
    unsigned call_failures;           /* failed tries of mx_call's last success */
    int lock_fd;                      /* net_lock_state's, -1 none */
    /* end-to-end encryption (its part below); e2e NULL: off */
    e2e_account *e2e;
    unsigned char e2e_key[32];        /* the pickle key, from <state>.e2e-key */
    char device_id[PP_MX_MAX_ID + 1];
    json_t *e2e_devices;              /* {user: {device: {curve, ed}}}: members' devices */
    json_t *e2e_stale;                /* {user: true}: ask again before use */
    json_t *e2e_waiting;              /* [{room, event, at}]: events whose key has not come */
} mx_bot;

/* ---- small helpers ------------------------------------------------------ */

static uint64_t mx_fnv(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* Matrix ids from the wire: bounded, printable, no spaces. */
static int mx_id_ok(const char *s)
{
    if (!s || !*s) return 0;
    size_t n = 0;
    for (; s[n]; n++) {
        unsigned char c = (unsigned char)s[n];
        if (n >= PP_MX_MAX_ID || c <= 0x20 || c == 0x7f) return 0;
    }
    return 1;
}

/* Percent-encode everything but the unreserved characters. */
static int mx_escape(const char *s, char *out, size_t outlen)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            if (o + 1 >= outlen) return -1;
            out[o++] = (char)c;
        } else {
            if (o + 3 >= outlen) return -1;
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
    return 0;
}

static const char *mx_q(const char *s, char *buf, size_t len)
{
    return net_quote(s ? s : "", buf, len);
}

/* Sleep ms milliseconds in short slices; 1 when a stop was asked. */
static int mx_sleep(long ms)
{
    while (ms > 0 && !mx_stop) {
        long step = ms > 100 ? 100 : ms;
        struct timespec ts = { step / 1000, (step % 1000) * 1000000L };
        nanosleep(&ts, NULL);
        ms -= step;
    }
    return mx_stop ? 1 : 0;
}

static const char *mx_json_str(json_t *obj, const char *key)
{
    json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* ---- reading a sync answer (matrix.h): pure, no I/O ------------------------ */

static int mx_allowed(const mx_me *me, const char *user)
{
    if (me->n_allow == 0) return 1;
    for (size_t i = 0; i < me->n_allow; i++)
        if (fnmatch(me->allow[i], user, 0) == 0) return 1;
    return 0;
}

/* The body with a leading mention of the bot ("Coach: ...", "@coach:x ...")
 * taken off, so "Coach: !reframe ..." is still a command.  Returns the
 * offset into body. */
static size_t mx_strip_mention(const mx_me *me, const char *body, size_t len)
{
    const char *names[3] = { me->user_id, me->displayname, me->localpart };
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(names[i]);
        if (n == 0 || n > len || strncasecmp(body, names[i], n) != 0) continue;
        size_t o = n;
        if (o < len && (body[o] == ':' || body[o] == ',')) o++;
        if (o < len && body[o] != ' ') continue;   /* a longer word */
        while (o < len && body[o] == ' ') o++;
        return o;
    }
    return 0;
}

/* A letter, digit or underscore, or a byte of a non-ASCII character (so
 * "Coaché" does not count as "Coach" either). */
static int mx_word_byte(unsigned char c)
{
    return isalnum(c) || c == '_' || c >= 0x80;
}

/* Does hay name needle (any case) as a whole word?  "Coach," and "@coach"
 * do; "coaching" does not, or every message about coaching in a group room
 * would wake the bot. */
static int mx_names(const char *hay, size_t hlen, const char *needle)
{
    size_t n = strlen(needle);
    if (n < 2 || n > hlen) return 0;
    for (size_t i = 0; i + n <= hlen; i++) {
        if (strncasecmp(hay + i, needle, n) != 0) continue;
        if (i > 0 && mx_word_byte((unsigned char)hay[i - 1]) && mx_word_byte((unsigned char)needle[0])) continue;
        if (i + n < hlen && mx_word_byte((unsigned char)hay[i + n]) && mx_word_byte((unsigned char)needle[n - 1])) continue;
        return 1;
    }
    return 0;
}

static int mx_mentioned(const mx_me *me, json_t *content, const char *body, size_t len)
{
    json_t *m = json_object_get(content, "m.mentions");
    json_t *ids = json_is_object(m) ? json_object_get(m, "user_ids") : NULL;
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v)
        if (json_is_string(v) && strcmp(json_string_value(v), me->user_id) == 0) return 1;
    return mx_names(body, len, me->user_id) || mx_names(body, len, me->displayname) ||
           mx_names(body, len, me->localpart);
}

/* The bytes of a reply fallback at the start of body: a message with
 * m.relates_to.m.in_reply_to may begin with the quoted message, lines that
 * start with "> " (or are ">"), then one blank line (client-server API,
 * "Fallbacks for rich replies").  Clients strip it, and so must the coach:
 * a reply to its crisis resources would otherwise be coached on the quote.
 * A thread's reply relation that only falls back (is_falling_back) has no
 * quote.  formatted_body (with its <mx-reply>) is never read.  0: none. */
static size_t mx_reply_fallback(json_t *content, const char *body, size_t len)
{
    json_t *rel = json_object_get(content, "m.relates_to");
    if (!json_is_object(json_object_get(rel, "m.in_reply_to")) ||
        json_is_true(json_object_get(rel, "is_falling_back")))
        return 0;
    size_t o = 0;
    while (o < len && body[o] == '>' && (o + 1 == len || body[o + 1] == ' ' || body[o + 1] == '\n')) {
        const char *nl = memchr(body + o, '\n', len - o);
        o = nl ? (size_t)(nl - body) + 1 : len;
    }
    if (o == 0) return 0;
    if (o < len && body[o] == '\n') o++;   /* the blank line after the quote */
    return o;
}

static void mx_invite_read(const mx_me *me, const char *room_id, json_t *room, mx_invite *inv)
{
    json_t *evs = json_object_get(json_object_get(room, "invite_state"), "events");
    size_t i;
    json_t *ev;
    inv->room_id = room_id;
    inv->inviter = NULL;
    json_array_foreach(evs, i, ev) {
        const char *t = mx_json_str(ev, "type"), *sk = mx_json_str(ev, "state_key");
        const char *mem = mx_json_str(json_object_get(ev, "content"), "membership");
        if (t && sk && mem && strcmp(t, "m.room.member") == 0 &&
            strcmp(sk, me->user_id) == 0 && strcmp(mem, "invite") == 0) {
            inv->inviter = mx_json_str(ev, "sender");
            inv->direct = json_is_true(json_object_get(json_object_get(ev, "content"), "is_direct"));
        }
    }
    inv->allowed = inv->inviter && mx_id_ok(inv->inviter) && mx_allowed(me, inv->inviter);
}

static mx_kind mx_event_read(const mx_me *me, json_t *ev, int before_join, mx_event *e)
{
    const char *t = mx_json_str(ev, "type");
    e->event_id = mx_json_str(ev, "event_id");
    e->sender = mx_json_str(ev, "sender");
    e->body = "";
    e->raw = ev;
    if (before_join) return PP_MX_BEFORE_JOIN;
    if (!t || !mx_id_ok(e->sender) || !mx_id_ok(e->event_id)) return PP_MX_MALFORMED;
    if (strcmp(e->sender, me->user_id) == 0) return PP_MX_OWN;
    if (strcmp(t, "m.room.encrypted") == 0) return PP_MX_ENCRYPTED;
    json_t *content = json_object_get(ev, "content");
    json_t *rel = json_object_get(content, "m.relates_to");
    const char *rt = mx_json_str(rel, "rel_type"), *root = mx_json_str(rel, "event_id");
    if (rt && strcmp(rt, "m.thread") == 0 && mx_id_ok(root)) e->thread = root;
    if (strcmp(t, "m.sticker") == 0) return PP_MX_NONTEXT;     /* an image, as the spec has it */
    if (strcmp(t, "m.room.message") != 0) { e->thread = NULL; return PP_MX_OTHER; }
    const char *mt = mx_json_str(content, "msgtype");
    if (!mt || strcmp(mt, "m.notice") == 0 || (rt && strcmp(rt, "m.replace") == 0)) {
        e->thread = NULL;
        return !mt ? PP_MX_MALFORMED : strcmp(mt, "m.notice") == 0 ? PP_MX_NOTICE   /* other bots */
                                                                    : PP_MX_EDIT;
    }
    json_t *bj = json_object_get(content, "body");
    int reply_to_bot = 0;
    if (json_is_string(bj)) {
        e->body = json_string_value(bj);
        e->body_len = json_string_length(bj);
        size_t fb = mx_reply_fallback(content, e->body, e->body_len);
        if (fb) {   /* "> <@coach:x> ..." quotes the bot: a reply to it */
            size_t n = strlen(me->user_id);
            reply_to_bot = fb > n + 3 && strncmp(e->body, "> <", 3) == 0 &&
                           strncmp(e->body + 3, me->user_id, n) == 0 && e->body[3 + n] == '>';
            e->body += fb;
            e->body_len -= fb;
        }
    }
    e->mentioned = reply_to_bot || mx_mentioned(me, content, e->body, e->body_len);
    e->strip = mx_strip_mention(me, e->body, e->body_len);
    return (strcmp(mt, "m.text") == 0 || strcmp(mt, "m.emote") == 0) && json_is_string(bj)
           ? PP_MX_TEXT : PP_MX_NONTEXT;
}

static int mx_room_read(const mx_me *me, const char *room_id, json_t *room, mx_sync_room *r)
{
    json_t *cnt = json_object_get(json_object_get(room, "summary"), "m.joined_member_count");
    json_t *state = json_object_get(json_object_get(room, "state"), "events");
    json_t *tlo = json_object_get(room, "timeline");
    json_t *tl = json_object_get(tlo, "events");
    size_t i;
    json_t *ev;
    r->id = room_id;
    r->limited = json_is_true(json_object_get(tlo, "limited"));
    r->prev_batch = mx_json_str(tlo, "prev_batch");
    if (r->prev_batch && (!*r->prev_batch || strlen(r->prev_batch) > PP_MX_MAX_BATCH)) r->prev_batch = NULL;
    if (json_is_integer(cnt)) {
        r->has_count = 1;
        r->count = (int)json_integer_value(cnt);
    }
    json_array_foreach(state, i, ev) {
        const char *t = mx_json_str(ev, "type");
        if (t && strcmp(t, "m.room.encryption") == 0) r->encrypted = 1;
        if (t && strcmp(t, "m.room.member") == 0) r->member_change = 1;
    }
    /* Messages sent before the bot was invited were not sent to it; those
     * between its invite and its join were (a client that creates a DM
     * with its first message sends it then), and the server shows them
     * once the bot joined.  With no invite in the timeline before the
     * join, the join is the line. */
    size_t from = 0, invite_at = 0;
    int invited = 0;
    json_array_foreach(tl, i, ev) {
        const char *t = mx_json_str(ev, "type"), *sk = mx_json_str(ev, "state_key");
        if (!t) continue;
        if (strcmp(t, "m.room.member") == 0) {
            r->member_change = 1;
            json_t *c = json_object_get(ev, "content");
            const char *mem = mx_json_str(c, "membership");
            if (sk && mem && strcmp(sk, me->user_id) == 0 && strcmp(mem, "invite") == 0) {
                invited = 1;
                invite_at = i + 1;
                r->direct = json_is_true(json_object_get(c, "is_direct"));
            }
            if (sk && mem && strcmp(sk, me->user_id) == 0 && strcmp(mem, "join") == 0) {
                from = invited ? invite_at : i + 1;
                invited = 0;
                r->joined = 1;
            }
        }
        if (strcmp(t, "m.room.encryption") == 0) r->encrypted = 1;
    }
    r->events = calloc(json_array_size(tl) + 1, sizeof *r->events);
    if (!r->events) return -1;
    json_array_foreach(tl, i, ev)
        r->events[i].kind = mx_event_read(me, ev, i < from, &r->events[i]);
    r->n_events = json_array_size(tl);
    return 0;
}

/* The bot's half of mx_parse_sync: mx_call has parsed the body already.
 * Takes a reference to sync. */
static int mx_sync_read(const mx_me *me, json_t *sync, mx_sync *out)
{
    memset(out, 0, sizeof *out);
    const char *next_batch = mx_json_str(sync, "next_batch");
    if (!next_batch || strlen(next_batch) > PP_MX_MAX_BATCH) return -1;
    out->root = json_incref(sync);
    out->next_batch = next_batch;
    json_t *rooms = json_object_get(sync, "rooms");
    json_t *inv = json_object_get(rooms, "invite"), *lv = json_object_get(rooms, "leave");
    json_t *jn = json_object_get(rooms, "join");
    out->invites = calloc(json_object_size(inv) + 1, sizeof *out->invites);
    out->leaves = calloc(json_object_size(lv) + 1, sizeof *out->leaves);
    out->rooms = calloc(json_object_size(jn) + 1, sizeof *out->rooms);
    if (!out->invites || !out->leaves || !out->rooms) goto fail;
    const char *rid;
    json_t *room;
    json_object_foreach(inv, rid, room) {
        if (!mx_id_ok(rid)) { out->n_refused++; continue; }
        mx_invite_read(me, rid, room, &out->invites[out->n_invites++]);
    }
    json_object_foreach(lv, rid, room) {
        if (!mx_id_ok(rid)) { out->n_refused++; continue; }
        out->leaves[out->n_leaves++] = rid;
    }
    json_object_foreach(jn, rid, room) {
        if (!mx_id_ok(rid)) { out->n_refused++; continue; }
        if (mx_room_read(me, rid, room, &out->rooms[out->n_rooms++]) != 0) goto fail;
    }
    return 0;
fail:
    mx_sync_free(out);
    return -1;
}

int mx_parse_sync(const char *body, size_t len, const mx_me *me, mx_sync *out)
{
    json_error_t je;
    json_t *j = json_loadb(body, len, JSON_ALLOW_NUL, &je);    /* as mx_call reads it */
    int rc = json_is_object(j) ? mx_sync_read(me, j, out) : -1;
    if (rc != 0) memset(out, 0, sizeof *out);
    json_decref(j);
    return rc;
}

void mx_sync_free(mx_sync *s)
{
    for (size_t i = 0; s->rooms && i < s->n_rooms; i++) free(s->rooms[i].events);
    free(s->rooms);
    free(s->invites);
    free(s->leaves);
    json_decref(s->root);
    memset(s, 0, sizeof *s);
}

/* ---- one API call, with the retry policy ---------------------------------- */

/* method path (already escaped, starting with "/"), optional query and JSON
 * body.  Retries 429 (after the server's hint), 5xx and network errors
 * (backoff with jitter) while retry is set; returns MX_OK with *out the
 * parsed body (caller decrefs), or MX_FAIL / MX_FATAL / MX_CANCEL, with
 * errcode (when the server gave one) in errc. */
static int mx_call(mx_bot *b, net_client *net, const char *method, const char *path,
                   const char *query, json_t *body, long timeout_ms, int retry,
                   json_t **out, char *errc, size_t errclen)
{
    char url[MX_MAX_URL], err[256], q1[300];   /* an error text is never cut */
    const char *headers[] = { b->auth, NULL };
    char *payload = NULL;
    unsigned attempt = 0, failures = 0;
    int ret = MX_FAIL;
    if (out) *out = NULL;
    if (errc && errclen) errc[0] = '\0';
    if (snprintf(url, sizeof url, "%s%s%s%s%s", b->base, MX_API, path,
                 query ? "?" : "", query ? query : "") >= (int)sizeof url) return MX_FAIL;
    if (body) {
        payload = json_dumps(body, JSON_COMPACT);
        if (!payload) return MX_FAIL;
    }
    const char *what = path[0] == '/' ? path + 1 : path;
    char ep[32];
    size_t k = 0;
    while (what[k] && what[k] != '/' && k + 1 < sizeof ep) { ep[k] = what[k]; k++; }
    ep[k] = '\0';
    if (strcmp(ep, "rooms") == 0) {   /* name the room call by its verb */
        const char *s = strchr(what + 6, '/');
        if (s) {
            k = 0;
            s++;
            while (s[k] && s[k] != '/' && k + 1 < sizeof ep) { ep[k] = s[k]; k++; }
            ep[k] = '\0';
        }
    }
    for (;;) {
        net_response r;
        long wait = -1;
        int rc = net_request(net, method, url, headers, payload,
                                payload ? strlen(payload) : 0, timeout_ms, &r, err, sizeof err);
        if (rc == PP_NET_ECANCEL) {
            net_response_clear(&r);
            ret = MX_CANCEL;
            break;
        }
        if (rc == PP_NET_ETOOBIG) {
            net_response_clear(&r);
            net_log("error", "http", "call=%s error=%s", ep, mx_q(err, q1, sizeof q1));
            if (errc) snprintf(errc, errclen, "TOO_BIG");
            ret = MX_FAIL;
            break;
        }
        if (rc != 0) {
            net_log("warn", "http", "call=%s attempt=%u error=%s", ep, attempt + 1,
                       mx_q(err, q1, sizeof q1));
            wait = net_backoff_ms(attempt, MX_BACKOFF_BASE, MX_BACKOFF_CAP, &b->rng);
        } else {
            json_error_t je;
            json_t *j = r.len ? json_loadb(r.body, r.len, JSON_ALLOW_NUL, &je) : NULL;
            const char *ec = mx_json_str(j, "errcode");
            if (errc && ec) snprintf(errc, errclen, "%s", ec);
            if (r.status >= 200 && r.status < 300) {
                if (!json_is_object(j)) {
                    json_decref(j);
                    net_log("warn", "http", "call=%s status=%ld error=\"not a JSON object\"",
                               ep, r.status);
                    wait = net_backoff_ms(attempt, MX_BACKOFF_BASE, MX_BACKOFF_CAP, &b->rng);
                } else {
                    if (out) *out = j; else json_decref(j);
                    net_response_clear(&r);
                    b->call_failures = failures;
                    ret = MX_OK;
                    break;
                }
            } else if (r.status == 401 || (ec && strcmp(ec, "M_UNKNOWN_TOKEN") == 0)) {
                json_decref(j);
                net_response_clear(&r);
                ret = MX_FATAL;
                break;
            } else if (r.status == 429 || (ec && strcmp(ec, "M_LIMIT_EXCEEDED") == 0)) {
                json_t *ms = json_is_object(j) ? json_object_get(j, "retry_after_ms") : NULL;
                if (r.retry_after >= 0) wait = r.retry_after * 1000;
                else if (json_is_integer(ms) && json_integer_value(ms) >= 0)
                    wait = json_integer_value(ms) > MX_RETRY_CAP_MS ? MX_RETRY_CAP_MS
                         : (long)json_integer_value(ms);
                else wait = net_backoff_ms(attempt, 1000, MX_BACKOFF_CAP, &b->rng) + 1000;
                if (wait > MX_RETRY_CAP_MS) wait = MX_RETRY_CAP_MS;
                net_log("warn", "rate_limited", "call=%s retry_ms=%ld", ep, wait);
                json_decref(j);
                attempt = 0;
            } else if (r.status >= 500 || r.status == 0) {
                net_log("warn", "http", "call=%s status=%ld attempt=%u", ep, r.status, attempt + 1);
                json_decref(j);
                wait = net_backoff_ms(attempt, MX_BACKOFF_BASE, MX_BACKOFF_CAP, &b->rng);
            } else {
                net_log("error", "http", "call=%s status=%ld errcode=%s", ep, r.status,
                           mx_q(ec, q1, sizeof q1));
                json_decref(j);
                net_response_clear(&r);
                ret = MX_FAIL;
                break;
            }
        }
        net_response_clear(&r);
        failures++;
        if (!retry) { ret = MX_FAIL; break; }
        if (wait >= 0 && mx_sleep(wait)) { ret = MX_CANCEL; break; }
        if (attempt < 30) attempt++;
    }
    free(payload);
    return ret;
}

static int mx_fatal_token(void)
{
    fprintf(stderr, "pushpull matrix: the homeserver refused the access token "
            "(M_UNKNOWN_TOKEN: expired, logged out or wrong).  Log in again with "
            "`pushpull matrix login` and restart.\n");
    net_log("error", "token_refused", "action=stop");
    return 1;
}

/* ---- rooms ---------------------------------------------------------------- */

static mx_room *mx_room_get(mx_bot *b, const char *id, int create)
{
    for (size_t i = 0; i < b->n_rooms; i++)
        if (strcmp(b->rooms[i].id, id) == 0) return &b->rooms[i];
    if (!create) return NULL;
    if (b->n_rooms == b->cap_rooms) {
        size_t nc = b->cap_rooms ? b->cap_rooms * 2 : 16;
        mx_room *nr = realloc(b->rooms, nc * sizeof *nr);
        if (!nr) return NULL;
        b->rooms = nr;
        b->cap_rooms = nc;
    }
    mx_room *r = &b->rooms[b->n_rooms];
    memset(r, 0, sizeof *r);
    r->id = strdup(id);
    if (!r->id) return NULL;
    r->members = -1;
    b->n_rooms++;
    return r;
}

static void mx_room_drop(mx_bot *b, const char *id)
{
    for (size_t i = 0; i < b->n_rooms; i++) {
        if (strcmp(b->rooms[i].id, id) != 0) continue;
        free(b->rooms[i].id);
        pp_session_free(b->rooms[i].session);
        json_decref(b->rooms[i].joined);
        b->rooms[i] = b->rooms[--b->n_rooms];
        return;
    }
}

static void mx_room_path(const char *room_id, const char *verb, char *path, size_t len)
{
    char esc[3 * PP_MX_MAX_ID + 1];
    if (mx_escape(room_id, esc, sizeof esc)) esc[0] = '\0';
    snprintf(path, len, "/rooms/%s/%s", esc, verb);
}

/* Joined member count, asking the server when we do not know it. */
static int mx_room_members(mx_bot *b, mx_room *r)
{
    if (r->members >= 0) return r->members;
    char path[1024], errc[64];
    json_t *j = NULL;
    mx_room_path(r->id, "joined_members", path, sizeof path);
    int rc = mx_call(b, b->api_net, "GET", path, NULL, NULL, 0, 1, &j, errc, sizeof errc);
    if (rc == MX_OK) {
        json_t *joined = json_object_get(j, "joined");
        if (json_is_object(joined)) r->members = (int)json_object_size(joined);
    }
    json_decref(j);
    if (rc == MX_FATAL || rc == MX_CANCEL) return rc;
    return r->members;
}

/* The user left the room (or the bot was removed): no more reminders. */
static void mx_room_gone(mx_bot *b, const char *room_id)
{
    char key[PP_MX_MAX_ID + 16], q[300];
    snprintf(key, sizeof key, "matrix:%s", room_id);
    if (app_remind_stop(b->store, key) > 0)
        net_log("info", "reminder_stopped", "room=%s reason=left", mx_q(room_id, q, sizeof q));
}

static int mx_leave(mx_bot *b, const char *room_id, const char *why)
{
    mx_room_gone(b, room_id);
    char path[1024], q[300];
    json_t *body = json_object();
    mx_room_path(room_id, "leave", path, sizeof path);
    int rc = mx_call(b, b->api_net, "POST", path, NULL, body, 0, 1, NULL, NULL, 0);
    json_decref(body);
    net_log(rc == MX_OK ? "info" : "warn", "leave", "room=%s reason=%s status=%d",
               mx_q(room_id, q, sizeof q), why, rc);
    mx_room_drop(b, room_id);
    return rc;
}

/* ---- sending ---------------------------------------------------------------- */

static int mx_e2e_send(mx_bot *b, mx_room *r, const char *txn, json_t *content, json_t **resp);

/* The sentence of set id for the conversation s (NULL: none loaded), vars
 * and the variant filled as pp_dialog_say does; fallback when the set is
 * missing ("" with none).  malloc'd; NULL out of memory (the caller then
 * sends its C fallback, if it has one). */
static char *mx_say(const mx_bot *b, const pp_session *s, const char *id, const char *const *vars,
                    const char *fallback)
{
    return pp_dialog_say(b->rules, s, id, s ? pp_session_turns(s) : 0, vars, fallback);
}

/* Send text as m.notice (cut in chunks on UTF-8 boundaries).  txn_base is
 * derived from what the notice answers, so a resend is idempotent.
 * reply_to: a reply to that event (groups); thread: in that thread, as a
 * reply to answers (DMs: only as the thread's fallback, is_falling_back). */
static int mx_send_notice(mx_bot *b, const char *room_id, const char *txn_base,
                          const char *text, const char *reply_to, const char *mention,
                          const char *thread, const char *answers)
{
    size_t len = strlen(text), off = 0;
    unsigned part = 0;
    int rc = MX_OK;
    char rq[300];
    do {
        size_t n = len - off;
        if (n > MX_MAX_CHUNK) {
            n = MX_MAX_CHUNK;
            while (n > 0 && ((unsigned char)text[off + n] & 0xC0) == 0x80) n--;
        }
        for (;;) {   /* our own token bucket, before the server's limits */
            long w = net_bucket_wait_ms(&b->sends, net_now_ms());
            if (w <= 0) break;
            if (mx_sleep(w)) return MX_CANCEL;
        }
        net_bucket_take(&b->sends, net_now_ms());
        char txn[128], etxn[400], path[1400], esc[3 * PP_MX_MAX_ID + 1];
        if (part == 0) snprintf(txn, sizeof txn, "%s", txn_base);
        else snprintf(txn, sizeof txn, "%s.%u", txn_base, part);
        if (mx_escape(txn, etxn, sizeof etxn) || mx_escape(room_id, esc, sizeof esc)) return MX_FAIL;
        snprintf(path, sizeof path, "/rooms/%s/send/m.room.message/%s", esc, etxn);
        json_t *c = json_pack("{s:s, s:s%}", "msgtype", "m.notice", "body", text + off, n);
        if (!c) return MX_FAIL;
        if (thread)
            json_object_set_new(c, "m.relates_to",
                                json_pack("{s:s, s:s, s:b, s:{s:s}}", "rel_type", "m.thread",
                                          "event_id", thread, "is_falling_back", reply_to == NULL,
                                          "m.in_reply_to", "event_id", reply_to ? reply_to : answers));
        else if (reply_to)
            json_object_set_new(c, "m.relates_to",
                                json_pack("{s:{s:s}}", "m.in_reply_to", "event_id", reply_to));
        if (mention)
            json_object_set_new(c, "m.mentions", json_pack("{s:[s]}", "user_ids", mention));
        json_t *resp = NULL;
        mx_room *er = b->e2e ? mx_room_get(b, room_id, 0) : NULL;
        if (er && er->encrypted) rc = mx_e2e_send(b, er, txn, c, &resp);   /* as m.room.encrypted */
        else rc = mx_call(b, b->api_net, "PUT", path, NULL, c, 0, 1, &resp, NULL, 0);
        json_decref(c);
        if (rc == MX_OK && !mx_json_str(resp, "event_id"))
            net_log("warn", "send", "room=%s error=\"no event_id in answer\"",
                       mx_q(room_id, rq, sizeof rq));
        json_decref(resp);
        if (rc != MX_OK) return rc;
        off += n;
        part++;
    } while (off < len);
    return rc;
}

/* ---- end-to-end encryption (issue 23) ------------------------------------
 * The crypto itself is bots/crypto.c (no libolm type here).  This part
 * drives it: the bot's device at start (keys made or reopened, uploaded,
 * one-time keys topped up from each sync's count), the to-device events
 * of a sync (room keys over Olm), the members' devices (/keys/query,
 * device_lists.changed / left), m.room.encrypted room events opened into
 * plaintext events the rest of the bot handles as any other, and replies
 * in an encrypted room sent as m.room.encrypted after the room's Megolm
 * session reached every device of its members over Olm (/keys/claim,
 * /sendToDevice).  The account and every session, the device lists and
 * the events still waiting for their key live in the state database
 * (pp_store_set_crypto), the account pickled under the key in
 * <state>.e2e-key; nothing secret is ever logged.
 *
 * Order, for a restart to neither re-answer nor lose a key: a session's
 * state is saved after each encryption and before its message is sent,
 * and a device counts as given the room key only once /sendToDevice took
 * it.  An event whose key has not come waits (saved) and is retried at
 * each sync; after MX_E2E_WAIT_S the room is told once that a message
 * could not be read. */

#define MX_E2E_WAIT_S    60      /* how long an event waits for its key */
#define MX_E2E_WAITING   1000    /* events waiting, at most */

static int mx_e2e_save(mx_bot *b)
{
    char *acc = e2e_account_save(b->e2e, b->e2e_key, sizeof b->e2e_key);
    json_t *dev = json_pack("{s:O, s:O}", "devices", b->e2e_devices, "stale", b->e2e_stale);
    char *dl = dev ? json_dumps(dev, JSON_COMPACT) : NULL;
    char *wl = json_dumps(b->e2e_waiting, JSON_COMPACT);
    int rc = acc && dl && wl && pp_store_set_crypto(b->store, "matrix.account", acc) == 0 &&
             pp_store_set_crypto(b->store, "matrix.devices", dl) == 0 &&
             pp_store_set_crypto(b->store, "matrix.waiting", wl) == 0 ? 0 : -1;
    if (rc) net_log("error", "store", "error=\"cannot save the encryption state\"");
    free(acc);
    free(dl);
    free(wl);
    json_decref(dev);
    return rc;
}

/* POST /keys/upload: the device keys (first time) and one-time keys up to
 * half of what the account holds, given that the server has `have`. */
static int mx_e2e_upload(mx_bot *b, int device_keys, size_t have)
{
    size_t want = e2e_max_one_time_keys(b->e2e) / 2;
    json_t *otk = e2e_one_time_keys(b->e2e, b->user_id, b->device_id, want > have ? want - have : 0);
    json_t *body = json_object();
    if (!otk || !body) { json_decref(otk); json_decref(body); return MX_FAIL; }
    if (device_keys) json_object_set_new(body, "device_keys", e2e_device_keys(b->e2e, b->user_id, b->device_id));
    size_t n = json_object_size(otk);
    json_object_set_new(body, "one_time_keys", otk);
    if (mx_e2e_save(b)) { json_decref(body); return MX_FAIL; }   /* the keys exist before the server has them */
    json_t *j = NULL;
    int rc = mx_call(b, b->api_net, "POST", "/keys/upload", NULL, body, 0, 1, &j, NULL, 0);
    json_decref(body);
    if (rc == MX_OK) {
        e2e_published(b->e2e);
        mx_e2e_save(b);
        json_t *cnt = json_object_get(json_object_get(j, "one_time_key_counts"), "signed_curve25519");
        net_log("info", "e2e_keys", "device_keys=%s one_time_keys=%zu server_count=%lld",
                   device_keys ? "uploaded" : "kept", n, (long long)json_integer_value(cnt));
    }
    json_decref(j);
    return rc;
}

/* At start: the device the access token stands for, its keys reopened (or
 * made, when there are none or they were another device's) and uploaded.
 * 0; -1 with a message on stderr when the key file or the saved keys
 * cannot be used (the bot stops: it must not silently become a new
 * device); encryption stays off (b->e2e NULL) when the server has no
 * device for the token or does not take keys. */
static int mx_e2e_start(mx_bot *b, const char *device_id)
{
    char path[4200], err[256], saved_dev[PP_MX_MAX_ID + 1];
    if (!mx_id_ok(device_id)) {
        net_log("warn", "e2e", "status=off reason=\"whoami gave no device id\"");
        return 0;
    }
    snprintf(b->device_id, sizeof b->device_id, "%s", device_id);
    snprintf(path, sizeof path, "%s.e2e-key", pp_store_path(b->store));
    if (e2e_key_file(path, b->e2e_key, err, sizeof err) != 0) {
        fprintf(stderr, "pushpull matrix: %s\n", err);
        return -1;
    }
    b->e2e_devices = json_object();
    b->e2e_stale = json_object();
    b->e2e_waiting = json_array();
    char *acc = NULL, *dl = NULL, *wl = NULL;
    int same = pp_store_get_cursor(b->store, "matrix.e2e.device", saved_dev, sizeof saved_dev) == 1 &&
               strcmp(saved_dev, device_id) == 0;
    if (same && pp_store_get_crypto(b->store, "matrix.account", &acc) == 1) {
        b->e2e = e2e_account_restore(acc, b->e2e_key, sizeof b->e2e_key, err, sizeof err);
        free(acc);
        if (!b->e2e) {
            fprintf(stderr, "pushpull matrix: the encryption keys in %s: %s\n", pp_store_path(b->store), err);
            return -1;
        }
        if (pp_store_get_crypto(b->store, "matrix.devices", &dl) == 1) {
            json_t *d = json_loads(dl, 0, NULL);
            if (json_is_object(json_object_get(d, "devices")) && json_is_object(json_object_get(d, "stale"))) {
                json_object_update(b->e2e_devices, json_object_get(d, "devices"));
                json_object_update(b->e2e_stale, json_object_get(d, "stale"));
            }
            json_decref(d);
            free(dl);
        }
        if (pp_store_get_crypto(b->store, "matrix.waiting", &wl) == 1) {
            json_t *w = json_loads(wl, 0, NULL);
            if (json_is_array(w)) json_array_extend(b->e2e_waiting, w);
            json_decref(w);
            free(wl);
        }
    } else {
        b->e2e = e2e_account_new();
        if (!b->e2e) { fprintf(stderr, "pushpull matrix: cannot make the encryption keys\n"); return -1; }
        same = 0;
    }
    char v[8];
    int uploaded = same && pp_store_get_cursor(b->store, "matrix.e2e.uploaded", v, sizeof v) == 1 &&
                   strcmp(v, "1") == 0;
    if (!uploaded) {
        pp_store_set_cursor(b->store, "matrix.e2e.uploaded", "0");
        pp_store_set_cursor(b->store, "matrix.e2e.device", device_id);
        int rc = mx_e2e_upload(b, 1, 0);
        if (rc == MX_FATAL || rc == MX_CANCEL) return rc == MX_FATAL ? -2 : -3;
        if (rc != MX_OK) {
            net_log("warn", "e2e", "status=off reason=\"the homeserver did not take the device keys\"");
            e2e_account_free(b->e2e);
            b->e2e = NULL;
            return 0;
        }
        pp_store_set_cursor(b->store, "matrix.e2e.uploaded", "1");
    }
    char curve[64], ed[64];
    e2e_identity(b->e2e, curve, ed);
    char q1[300], q2[100];
    net_log("info", "e2e", "status=on device=%s ed25519=%s keys=%s waiting=%zu",
               mx_q(b->device_id, q1, sizeof q1), mx_q(ed, q2, sizeof q2),
               uploaded ? "restored" : "new", json_array_size(b->e2e_waiting));
    return 0;
}

/* The devices of users (an array of user ids) asked with /keys/query:
 * each one's device_keys checked (its own ids, a signature by its own
 * Ed25519 key) before it is kept; a device whose Ed25519 key changed is
 * refused (the spec: a device id never changes keys). */
static int mx_e2e_query(mx_bot *b, json_t *users)
{
    if (json_array_size(users) == 0) return MX_OK;
    json_t *dk = json_object(), *j = NULL;
    size_t i;
    json_t *u;
    json_array_foreach(users, i, u) json_object_set_new(dk, json_string_value(u), json_array());
    json_t *body = json_pack("{s:o, s:i}", "device_keys", dk, "timeout", 10000);
    int rc = body ? mx_call(b, b->api_net, "POST", "/keys/query", NULL, body, 0, 1, &j, NULL, 0) : MX_FAIL;
    json_decref(body);
    if (rc != MX_OK) { json_decref(j); return rc; }
    char qu[300], qd[300];
    json_array_foreach(users, i, u) {
        const char *user = json_string_value(u);
        json_t *got = json_object_get(json_object_get(j, "device_keys"), user);
        json_t *old = json_object_get(b->e2e_devices, user), *now = json_object();
        const char *dev;
        json_t *k;
        json_object_foreach(got, dev, k) {
            char kc[300], ke[300];
            snprintf(kc, sizeof kc, "curve25519:%s", dev);
            snprintf(ke, sizeof ke, "ed25519:%s", dev);
            const char *curve = mx_json_str(json_object_get(k, "keys"), kc);
            const char *ed = mx_json_str(json_object_get(k, "keys"), ke);
            const char *was = mx_json_str(json_object_get(old, dev), "ed");
            int ok = mx_id_ok(dev) && curve && ed && strlen(curve) < 64 && strlen(ed) < 64 &&
                     mx_json_str(k, "user_id") && strcmp(mx_json_str(k, "user_id"), user) == 0 &&
                     mx_json_str(k, "device_id") && strcmp(mx_json_str(k, "device_id"), dev) == 0 &&
                     e2e_verify_object(k, user, dev, ed) && (!was || strcmp(was, ed) == 0);
            if (strcmp(user, b->user_id) == 0 && strcmp(dev, b->device_id) == 0) continue;   /* us */
            if (!ok) {
                net_log("warn", "e2e_refused", "user=%s device=%s reason=\"device keys not signed by "
                           "the device, or its signing key changed\"", mx_q(user, qu, sizeof qu),
                           mx_q(dev, qd, sizeof qd));
                continue;
            }
            json_object_set_new(now, dev, json_pack("{s:s, s:s}", "curve", curve, "ed", ed));
        }
        json_object_set_new(b->e2e_devices, user, now);
        json_object_del(b->e2e_stale, user);
    }
    json_decref(j);
    mx_e2e_save(b);
    return MX_OK;
}

/* user's devices, asked for when not known or changed: {device: {curve,
 * ed}} (borrowed), or NULL when the query failed. */
static json_t *mx_e2e_devices(mx_bot *b, const char *user, int *rc)
{
    *rc = MX_OK;
    if (!json_object_get(b->e2e_devices, user) || json_object_get(b->e2e_stale, user)) {
        json_t *one = json_pack("[s]", user);
        *rc = mx_e2e_query(b, one);
        json_decref(one);
    }
    return json_object_get(b->e2e_devices, user);
}

/* The device of user whose Curve25519 key is curve: its Ed25519 key, or
 * NULL (not one of theirs). */
static const char *mx_e2e_ed_of(mx_bot *b, const char *user, const char *curve, int *rc)
{
    json_t *devs = mx_e2e_devices(b, user, rc), *d;
    const char *id;
    json_object_foreach(devs, id, d) {
        const char *c = mx_json_str(d, "curve");
        if (c && curve && strcmp(c, curve) == 0) return mx_json_str(d, "ed");
    }
    return NULL;
}

/* A sync's device lists, one-time key count and to-device events. */
static int mx_e2e_sync(mx_bot *b, json_t *sync)
{
    char qu[300], qr[300], err[256];
    size_t i;
    json_t *v;
    int changed = 0, rc = MX_OK;
    json_t *dl = json_object_get(sync, "device_lists");
    json_array_foreach(json_object_get(dl, "changed"), i, v) {
        const char *u = json_string_value(v);
        if (u && json_object_get(b->e2e_devices, u)) { json_object_set_new(b->e2e_stale, u, json_true()); changed = 1; }
    }
    json_array_foreach(json_object_get(dl, "left"), i, v) {
        const char *u = json_string_value(v);
        if (u && json_object_get(b->e2e_devices, u)) { json_object_del(b->e2e_devices, u); changed = 1; }
    }
    json_array_foreach(json_object_get(json_object_get(sync, "to_device"), "events"), i, v) {
        const char *type = mx_json_str(v, "type"), *sender = mx_json_str(v, "sender");
        json_t *content = json_object_get(v, "content");
        if (!type || strcmp(type, "m.room.encrypted") != 0 || !mx_id_ok(sender)) continue;
        json_t *plain = e2e_olm_decrypt(b->e2e, b->user_id, sender, content, err, sizeof err);
        changed = 1;     /* a session may have moved on, or a one-time key gone */
        if (!plain) {
            net_log("warn", "e2e_refused", "from=%s reason=%s", mx_q(sender, qu, sizeof qu),
                       mx_q(err, qr, sizeof qr));
            continue;
        }
        const char *ptype = mx_json_str(plain, "type");
        const char *sender_key = mx_json_str(content, "sender_key");
        const char *signer = mx_json_str(json_object_get(plain, "keys"), "ed25519");
        int qrc;
        const char *ed = mx_e2e_ed_of(b, sender, sender_key, &qrc);
        if (qrc == MX_FATAL || qrc == MX_CANCEL) { json_decref(plain); rc = qrc; break; }
        const char *room = mx_json_str(json_object_get(plain, "content"), "room_id");
        if (ptype && strcmp(ptype, "m.room_key") == 0) {
            /* from a device of its sender, as that device signs */
            int ok = ed && signer && strcmp(ed, signer) == 0 && e2e_room_key_add(b->e2e, plain, sender_key) == 0;
            net_log(ok ? "info" : "warn", ok ? "e2e_room_key" : "e2e_refused", "from=%s room=%s%s",
                       mx_q(sender, qu, sizeof qu), mx_q(room, qr, sizeof qr),
                       ok ? "" : " reason=\"a room key not from a known device of its sender\"");
        } else if (ptype && strcmp(ptype, "m.forwarded_room_key") == 0) {
            /* the bot asks no one for keys (no m.room_key_request), so a
             * forwarded key is one nobody was asked for: not taken */
            net_log("info", "e2e_refused", "from=%s room=%s reason=\"a forwarded room key the bot "
                       "did not ask for\"", mx_q(sender, qu, sizeof qu), mx_q(room, qr, sizeof qr));
        }
        json_decref(plain);
    }
    if (changed) mx_e2e_save(b);
    json_t *cnt = json_object_get(sync, "device_one_time_keys_count");
    if (rc == MX_OK && json_is_object(cnt)) {
        size_t have = (size_t)json_integer_value(json_object_get(cnt, "signed_curve25519"));
        if (have < e2e_max_one_time_keys(b->e2e) / 4) rc = mx_e2e_upload(b, 0, have);
        if (rc == MX_FAIL) rc = MX_OK;   /* logged; tried again at the next sync */
    }
    return rc;
}

/* An m.room.encrypted room event opened: a new plaintext event {type,
 * content, event_id, sender} (caller decrefs), or NULL with *missing = 1
 * when its key has not come yet, 0 when it cannot be read at all. */
static json_t *mx_e2e_open(mx_bot *b, const char *room_id, json_t *ev, int *missing, int *rc)
{
    char err[256], qr[300], qe[300];
    *rc = MX_OK;
    json_t *content = json_object_get(ev, "content");
    json_t *plain = e2e_megolm_decrypt(b->e2e, room_id, content, missing, err, sizeof err);
    if (!plain) {
        if (!*missing)
            net_log("warn", "e2e_refused", "room=%s event_id=%s reason=%s", mx_q(room_id, qr, sizeof qr),
                       mx_q(mx_json_str(ev, "event_id"), qe, sizeof qe), mx_q(err, qe, sizeof qe));
        return NULL;
    }
    /* the session came from a device of the event's sender */
    const char *sender = mx_json_str(ev, "sender"), *sender_key = mx_json_str(content, "sender_key");
    if (!mx_e2e_ed_of(b, sender, sender_key, rc)) {
        if (*rc == MX_OK)
            net_log("warn", "e2e_refused", "room=%s event_id=%s reason=\"encrypted by a device "
                       "that is not its sender's\"", mx_q(room_id, qr, sizeof qr),
                       mx_q(mx_json_str(ev, "event_id"), qe, sizeof qe));
        json_decref(plain);
        return NULL;
    }
    json_t *out = json_pack("{s:O, s:O, s:O, s:O}", "type", json_object_get(plain, "type"),
                            "content", json_object_get(plain, "content"),
                            "event_id", json_object_get(ev, "event_id"), "sender", json_object_get(ev, "sender"));
    json_decref(plain);
    return out;
}

/* Keep ev (an event of room_id whose key has not come) to retry. */
static void mx_e2e_wait(mx_bot *b, const char *room_id, json_t *ev)
{
    const char *id = mx_json_str(ev, "event_id");
    size_t i;
    json_t *w;
    json_array_foreach(b->e2e_waiting, i, w)
        if (strcmp(mx_json_str(json_object_get(w, "event"), "event_id"), id) == 0) return;
    if (json_array_size(b->e2e_waiting) >= MX_E2E_WAITING) json_array_remove(b->e2e_waiting, 0);
    json_array_append_new(b->e2e_waiting, json_pack("{s:s, s:O, s:I}", "room", room_id, "event", ev,
                                                    "at", (json_int_t)app_now()));
    mx_e2e_save(b);
    char qr[300], qe[300];
    net_log("info", "e2e_waiting", "room=%s event_id=%s reason=\"its key has not come yet\"",
               mx_q(room_id, qr, sizeof qr), mx_q(id, qe, sizeof qe));
}

/* The room's joined members (borrowed array), asked once and again after
 * a membership change. */
static json_t *mx_e2e_members(mx_bot *b, mx_room *r, int *rc)
{
    *rc = MX_OK;
    if (r->joined) return r->joined;
    char path[1024];
    json_t *j = NULL;
    mx_room_path(r->id, "joined_members", path, sizeof path);
    *rc = mx_call(b, b->api_net, "GET", path, NULL, NULL, 0, 1, &j, NULL, 0);
    if (*rc == MX_OK) {
        r->joined = json_array();
        const char *u;
        json_t *v;
        json_object_foreach(json_object_get(j, "joined"), u, v)
            if (mx_id_ok(u)) json_array_append_new(r->joined, json_string(u));
    }
    json_decref(j);
    return r->joined;
}

/* The room's rotation_period_ms / _msgs, from its m.room.encryption. */
static int mx_e2e_rotation(mx_bot *b, mx_room *r)
{
    if (r->rot_known) return MX_OK;
    char path[1024];
    json_t *j = NULL;
    mx_room_path(r->id, "state/m.room.encryption/", path, sizeof path);
    int rc = mx_call(b, b->api_net, "GET", path, NULL, NULL, 0, 1, &j, NULL, 0);
    if (rc == MX_FATAL || rc == MX_CANCEL) { json_decref(j); return rc; }
    json_t *ms = json_object_get(j, "rotation_period_ms"), *n = json_object_get(j, "rotation_period_msgs");
    if (json_is_integer(ms) && json_integer_value(ms) > 0) r->rot_ms = json_integer_value(ms);
    if (json_is_integer(n) && json_integer_value(n) > 0 && json_integer_value(n) < 100000)
        r->rot_msgs = (unsigned)json_integer_value(n);
    r->rot_known = 1;
    json_decref(j);
    return MX_OK;
}

typedef struct mx_e2e_ctx { mx_bot *b; json_t *members; } mx_e2e_ctx;

/* still(): is this device still one of a member's? */
static int mx_e2e_still(void *ctx, const char *user, const char *curve)
{
    mx_e2e_ctx *c = ctx;
    size_t i;
    json_t *m;
    int member = 0;
    json_array_foreach(c->members, i, m) member |= strcmp(json_string_value(m), user) == 0;
    const char *id;
    json_t *d;
    json_object_foreach(json_object_get(c->b->e2e_devices, user), id, d)
        if (member && strcmp(mx_json_str(d, "curve"), curve) == 0) return 1;
    return 0;
}

/* The room's Megolm session, made or rotated when due, given to every
 * device of its members that does not have it yet: one-time keys claimed
 * for the devices with no Olm session, the m.room_key sent to each over
 * Olm in one /sendToDevice. */
static int mx_e2e_share(mx_bot *b, mx_room *r)
{
    char qr[300];
    int rc = mx_e2e_rotation(b, r);
    if (rc != MX_OK) return rc;
    json_t *members = mx_e2e_members(b, r, &rc);
    if (!members) return rc == MX_OK ? MX_FAIL : rc;
    json_t *ask = json_array();
    size_t i;
    json_t *m;
    json_array_foreach(members, i, m) {
        const char *u = json_string_value(m);
        if (!json_object_get(b->e2e_devices, u) || json_object_get(b->e2e_stale, u))
            json_array_append(ask, m);
    }
    rc = mx_e2e_query(b, ask);
    json_decref(ask);
    if (rc == MX_FATAL || rc == MX_CANCEL) return rc;
    mx_e2e_ctx ctx = { b, members };
    int left = e2e_megolm_check_members(b->e2e, r->id, mx_e2e_still, &ctx);
    int fresh = 0;
    json_t *rk = e2e_room_key(b->e2e, r->id, r->rot_msgs, r->rot_ms, (long long)app_now() * 1000, &fresh);
    if (!rk) return MX_FAIL;
    /* who lacks it, and who of them needs a one-time key first */
    json_t *need = json_array(), *claim = json_object();
    json_array_foreach(members, i, m) {
        const char *u = json_string_value(m), *id;
        json_t *d;
        json_object_foreach(json_object_get(b->e2e_devices, u), id, d) {
            const char *curve = mx_json_str(d, "curve");
            if (e2e_megolm_shared(b->e2e, r->id, curve)) continue;
            json_array_append_new(need, json_pack("{s:s, s:s, s:s, s:s}", "user", u, "device", id,
                                                  "curve", curve, "ed", mx_json_str(d, "ed")));
            if (!e2e_olm_has_session(b->e2e, curve)) {
                if (!json_object_get(claim, u)) json_object_set_new(claim, u, json_object());
                json_object_set_new(json_object_get(claim, u), id, json_string("signed_curve25519"));
            }
        }
    }
    json_t *claimed = NULL;
    if (json_object_size(claim)) {
        json_t *body = json_pack("{s:O, s:i}", "one_time_keys", claim, "timeout", 10000);
        rc = mx_call(b, b->api_net, "POST", "/keys/claim", NULL, body, 0, 1, &claimed, NULL, 0);
        json_decref(body);
        if (rc == MX_FATAL || rc == MX_CANCEL) goto out;
    }
    json_t *messages = json_object();
    size_t n = 0, missed = 0;
    json_array_foreach(need, i, m) {
        const char *u = mx_json_str(m, "user"), *dev = mx_json_str(m, "device");
        const char *curve = mx_json_str(m, "curve"), *ed = mx_json_str(m, "ed"), *otk = NULL;
        if (!e2e_olm_has_session(b->e2e, curve)) {
            const char *kid;
            json_t *k;
            json_object_foreach(json_object_get(json_object_get(json_object_get(claimed, "one_time_keys"), u), dev), kid, k)
                if (strncmp(kid, "signed_curve25519:", 18) == 0 && e2e_verify_object(k, u, dev, ed))
                    otk = mx_json_str(k, "key");
            if (!otk) { missed++; continue; }   /* no one-time key left: tried again at the next reply */
        }
        json_t *msg = e2e_olm_encrypt(b->e2e, b->user_id, u, curve, ed, otk, "m.room_key", rk);
        if (!msg) { missed++; continue; }
        if (!json_object_get(messages, u)) json_object_set_new(messages, u, json_object());
        json_object_set_new(json_object_get(messages, u), dev, msg);
        n++;
    }
    rc = MX_OK;
    if (n) {
        mx_e2e_save(b);   /* the Olm sessions moved on: saved before they are used */
        char path[200];
        uint64_t t = net_rng_next(&b->rng);
        snprintf(path, sizeof path, "/sendToDevice/m.room.encrypted/pp.k.%016llx", (unsigned long long)t);
        json_t *body = json_pack("{s:O}", "messages", messages);
        rc = mx_call(b, b->api_net, "PUT", path, NULL, body, 0, 1, NULL, NULL, 0);
        json_decref(body);
        if (rc == MX_OK) {
            const char *u;
            json_t *devs;
            json_object_foreach(messages, u, devs) {
                const char *dev;
                json_t *x;
                json_object_foreach(devs, dev, x)
                    e2e_megolm_share(b->e2e, r->id, u, mx_json_str(json_object_get(json_object_get(b->e2e_devices, u), dev), "curve"));
            }
            mx_e2e_save(b);
        }
    }
    if (fresh || n || missed)
        net_log(missed ? "warn" : "info", "e2e_share", "room=%s session=%s reason=%s devices=%zu "
                   "missed=%zu status=%d", mx_q(r->id, qr, sizeof qr), fresh ? "new" : "kept",
                   left ? "member_left" : fresh ? "first_or_due" : "new_devices", n, missed, rc);
    json_decref(messages);
out:
    json_decref(claimed);
    json_decref(claim);
    json_decref(need);
    json_decref(rk);
    return rc == MX_FAIL ? MX_OK : rc;   /* a failed share: the devices that lack it are tried next time */
}

/* Send content (an m.room.message) in the encrypted room as
 * m.room.encrypted with transaction id txn. */
static int mx_e2e_send(mx_bot *b, mx_room *r, const char *txn, json_t *content, json_t **resp)
{
    int rc = mx_e2e_share(b, r);
    if (rc != MX_OK) return rc;
    json_t *enc = e2e_megolm_encrypt(b->e2e, r->id, b->device_id, "m.room.message", content);
    if (!enc) return MX_FAIL;
    mx_e2e_save(b);     /* the session's index moved on before the message goes */
    char etxn[400], esc[3 * PP_MX_MAX_ID + 1], path[1400];
    if (mx_escape(txn, etxn, sizeof etxn) || mx_escape(r->id, esc, sizeof esc)) { json_decref(enc); return MX_FAIL; }
    snprintf(path, sizeof path, "/rooms/%s/send/m.room.encrypted/%s", esc, etxn);
    rc = mx_call(b, b->api_net, "PUT", path, NULL, enc, 0, 1, resp, NULL, 0);
    json_decref(enc);
    return rc;
}

/* /forget in room_id: the events of it still waiting for their key go
 * too (the bot's keys and the room's sessions stay: they are not the
 * user's, and the next message needs them). */
static void mx_e2e_forget(mx_bot *b, const char *room_id)
{
    if (!b->e2e) return;
    size_t before = json_array_size(b->e2e_waiting);
    for (size_t i = 0; i < json_array_size(b->e2e_waiting);) {
        const char *room = mx_json_str(json_array_get(b->e2e_waiting, i), "room");
        if (room && strcmp(room, room_id) == 0) json_array_remove(b->e2e_waiting, i);
        else i++;
    }
    if (json_array_size(b->e2e_waiting) != before) mx_e2e_save(b);
}

/* Events that waited MX_E2E_WAIT_S for their key: the room is told once
 * that a message could not be read, and they are marked handled. */
static int mx_e2e_expire(mx_bot *b)
{
    long long now = app_now();
    char qr[300];
    for (size_t i = 0; i < json_array_size(b->e2e_waiting);) {
        json_t *w = json_array_get(b->e2e_waiting, i);
        json_int_t at = json_integer_value(json_object_get(w, "at"));
        if (now - at < MX_E2E_WAIT_S || json_is_true(json_object_get(w, "opened"))) { i++; continue; }
        const char *room = mx_json_str(w, "room");
        const char *id = mx_json_str(json_object_get(w, "event"), "event_id");
        char txn[64];
        snprintf(txn, sizeof txn, "pp.unread.%016llx", (unsigned long long)mx_fnv(id ? id : ""));
        /* every event of this room that is due goes with one notice */
        size_t n = 0;
        for (size_t k = i; k < json_array_size(b->e2e_waiting);) {
            json_t *x = json_array_get(b->e2e_waiting, k);
            if (strcmp(mx_json_str(x, "room"), room) != 0 || json_is_true(json_object_get(x, "opened")) ||
                now - json_integer_value(json_object_get(x, "at")) < MX_E2E_WAIT_S) { k++; continue; }
            n++;
            k++;
        }
        char *rid = strdup(room);
        if (!rid) return MX_FAIL;
        mx_room *r = mx_room_get(b, rid, 1);
        if (r) r->encrypted = r->enc_checked = 1;   /* its events are m.room.encrypted */
        char *say = r ? mx_say(b, r->session, "matrix.unreadable", NULL, MX_UNREADABLE) : NULL;
        int rc = r ? mx_send_notice(b, rid, txn, say ? say : MX_UNREADABLE, NULL, NULL, NULL, NULL)
                   : MX_FAIL;
        free(say);
        if (rc == MX_FATAL || rc == MX_CANCEL) { free(rid); return rc; }
        for (size_t k = i; k < json_array_size(b->e2e_waiting);) {
            json_t *x = json_array_get(b->e2e_waiting, k);
            if (strcmp(mx_json_str(x, "room"), rid) != 0 || json_is_true(json_object_get(x, "opened")) ||
                now - json_integer_value(json_object_get(x, "at")) < MX_E2E_WAIT_S) { k++; continue; }
            const char *eid = mx_json_str(json_object_get(x, "event"), "event_id");
            char key[PP_MX_MAX_ID + 16];
            snprintf(key, sizeof key, "matrix:%s", rid);
            if (eid) pp_store_seen_key(b->store, "matrix", eid, key);
            json_array_remove(b->e2e_waiting, k);
        }
        mx_e2e_save(b);
        net_log("info", "e2e_unread", "room=%s events=%zu action=told status=%d", mx_q(rid, qr, sizeof qr), n, rc);
        free(rid);
    }
    return MX_OK;
}

/* ---- one message event ---------------------------------------------------- */

static int mx_room_encryption(mx_bot *b, mx_room *r);

/* Before the bot writes to a room by itself (a reminder, a word to a
 * paired partner): the room is known (after a restart it may not be yet),
 * and never in plaintext where it is encrypted and the bot cannot
 * encrypt.  MX_OK send; MX_FAIL never (encrypted, no E2E); 1 not now
 * (its encryption is unknown); MX_FATAL, MX_CANCEL.  May move b->rooms:
 * no mx_room pointer is valid after it. */
static int mx_push_ok(mx_bot *b, const char *room_id)
{
    mx_room *r = mx_room_get(b, room_id, 1);
    if (!r) return 1;
    int rc = mx_room_encryption(b, r);
    if (rc != MX_OK) return rc;
    if (r->encrypted) return b->e2e ? MX_OK : MX_FAIL;
    return r->enc_checked ? MX_OK : 1;
}

static pp_session *mx_room_session(mx_bot *b, mx_room *r, const char *key)
{
    if (r->session) return r->session;
    r->session = pp_session_new();
    if (!r->session) return NULL;
    char err[256], q[300];
    int rc = pp_store_load(b->store, key, r->session, err, sizeof err);
    if (rc < 0)
        net_log("warn", "session_load", "room=%s error=%s action=fresh",
                   mx_q(r->id, q, sizeof q), mx_q(err, q, sizeof q));
    return r->session;
}

/* Handle one message addressed to us.  last: it is the batch's last event
 * to handle, so the session save also carries next_batch. */
static int mx_handle_message(mx_bot *b, mx_room *r, const char *event_id, const char *sender,
                             const char *body, size_t len, int group, int text_ok,
                             const char *thread, int last, const char *next_batch)
{
    char key[PP_MX_MAX_ID + 16], txn[64], err[256], qr[300], qe[300];
    snprintf(key, sizeof key, "matrix:%s", r->id);
    snprintf(txn, sizeof txn, "pp.%016llx", (unsigned long long)mx_fnv(event_id));
    uint64_t t0 = net_now_ms();

    if (pp_store_set_cursor(b->store, "matrix.pending", event_id) != 0) {
        net_log("error", "store", "room=%s event_id=%s error=\"cannot mark pending\"",
                   mx_q(r->id, qr, sizeof qr), mx_q(event_id, qe, sizeof qe));
        return MX_FAIL;
    }
    int seen = pp_store_seen(b->store, "matrix", event_id);
    if (seen == 1 && strcmp(event_id, b->pending) != 0) {
        b->skipped++;
        net_log("info", "skip", "room=%s event_id=%s reason=already_handled",
                   mx_q(r->id, qr, sizeof qr), mx_q(event_id, qe, sizeof qe));
        return MX_OK;
    }
    pp_session *s = mx_room_session(b, r, key);
    if (!s) return MX_FAIL;

    pp_answer a;
    memset(&a, 0, sizeof a);
    const char *text;
    int trc = 0;
    size_t args_at = 0;
    pp_command cmd = text_ok ? pp_dialog_command_args(body, len, &args_at) : PP_CMD_NONE;
    app_pair_out po;
    memset(&po, 0, sizeof po);
    if (app_bot_command(cmd)) {
        /* /remind /timezone /pair /unpair /answer: app/remind.c, pair.c */
        a.command = 1;
        if (cmd == PP_CMD_REMIND || cmd == PP_CMD_TIMEZONE)
            a.text = app_remind_command(b->store, b->rules, s, key, cmd, body + args_at,
                                        len - args_at, app_now());
        else if (app_pair_command(b->store, b->rules, s, key, cmd, body + args_at, len - args_at,
                                  app_now(), &po) == 0) {
            a.text = po.text;
            po.text = NULL;
        }
        if (!a.text) a.text = mx_say(b, s, "system.went-wrong", NULL, MX_WENT_WRONG);
        text = a.text ? a.text : MX_WENT_WRONG;
    } else if (text_ok) {
        /* No store in the dialog but for /export, which only reads it:
         * the session is saved below, after the send, with the cursor (see
         * the top of the file). */
        int export = pp_dialog_command(body, len) == PP_CMD_EXPORT;
        /* one thread: the check-in scores go straight to the store
         * (plans), the session is saved below */
        pp_dialog d = { .rules = b->rules, .store = export ? b->store : NULL, .key = key,
                        .session = s, .plans = b->store, .now = app_now(), .utc_offset = 0 };
        /* the user's /timezone makes a program's days theirs */
        d.utc_offset = b->store ? app_zone_offset(b->store, key, d.now) : 0;
        trc = pp_dialog_turn(&d, body, len, &a);
        if (!a.text) a.text = mx_say(b, s, "system.went-wrong", NULL, MX_WENT_WRONG);
        text = a.text ? a.text : MX_WENT_WRONG;
        if (a.forgot) {   /* delete before saying so; idempotent on a redo */
            mx_e2e_forget(b, r->id);   /* its events still waiting for a key; never the bot's keys */
            app_pair_forgetting(b->store, b->rules, key, &po);   /* the partner is told it ended */
            /* the dialog had no store, so said "nothing on disk": the
             * CLI's sentences of a forget in the store say what happened */
            int frc = pp_store_forget(b->store, key, err, sizeof err);
            const char *vars[] = { "error", err, NULL };
            free(a.text);
            a.text = frc == 0 ? mx_say(b, s, "system.forget-done", NULL, MX_FORGET_DONE)
                              : mx_say(b, s, "system.forget-failed", vars, MX_FORGET_FAILED);
            text = a.text ? a.text : frc == 0 ? MX_FORGET_DONE : MX_WENT_WRONG;
            if (frc != 0)
                net_log("error", "forget", "room=%s error=%s",
                           mx_q(r->id, qr, sizeof qr), mx_q(err, qe, sizeof qe));
        }
    } else {
        a.text = mx_say(b, s, "bots.not-text", NULL, MX_NOT_TEXT);
        text = a.text ? a.text : MX_NOT_TEXT;
    }
    int rc = mx_send_notice(b, r->id, txn, text, group ? event_id : NULL, group ? sender : NULL,
                            thread, event_id);      /* a thread's message is answered in it */
    if (rc == MX_FATAL || rc == MX_CANCEL) {
        pp_answer_clear(&a);
        app_pair_out_clear(&po);
        return rc;
    }
    int src;
    err[0] = '\0';
    if (a.forgot) {
        /* /forget: the rows are gone; only the cursor is saved. */
        src = pp_store_set_cursor(b->store, last ? "matrix.next_batch" : "matrix.pending",
                                  last ? next_batch : "");
    } else {
        int keep = b->common.keep_transcripts && text_ok;
        const char *user = a.had_reply && a.reply.input ? a.reply.input : body;
        src = pp_store_save(b->store, key, s, last ? "matrix.next_batch" : "matrix.pending",
                            last ? next_batch : "", keep ? user : NULL, keep ? text : NULL,
                            err, sizeof err);
    }
    if (src) net_log("error", "store", "room=%s event_id=%s error=%s",
                        mx_q(r->id, qr, sizeof qr), mx_q(event_id, qe, sizeof qe),
                        mx_q(err, qe, sizeof qe));
    if (last && !src) pp_store_set_cursor(b->store, "matrix.pending", "");
    b->answered++;
    /* what the coaching was (rule, framework, role) only with
     * --log-rules, the words only with --log-text */
    char tq[600] = "", rf[400] = "";
    if (b->log_text) {
        char t1[256];
        snprintf(tq, sizeof tq, " text=%s", mx_q(body, t1, sizeof t1));
    }
    if (b->log_rules) net_rule_fields(text_ok ? &a : NULL, rf, sizeof rf);
    net_log(trc == 0 && rc == MX_OK ? "info" : "warn", "reply",
               "room=%s event_id=%s kind=%s send=%s latency_ms=%llu%s%s",
               mx_q(r->id, qr, sizeof qr), mx_q(event_id, qe, sizeof qe),
               !text_ok ? "nontext" : a.command ? "command" : "text",
               rc == MX_OK ? "ok" : "refused",
               (unsigned long long)(net_now_ms() - t0), rf, tq);
    pp_answer_clear(&a);
    if (po.partner[0] && po.partner_text && strncmp(po.partner, "matrix:", 7) == 0) {
        /* what the partner is told, in their room; idempotent on a redo
         * (last: mx_push_ok may move the rooms, r with them) */
        char ptxn[64];
        snprintf(ptxn, sizeof ptxn, "pp.pair.%016llx", (unsigned long long)mx_fnv(event_id));
        int prc = mx_push_ok(b, po.partner + 7);
        if (prc == MX_OK)
            prc = mx_send_notice(b, po.partner + 7, ptxn, po.partner_text, NULL, NULL, NULL, NULL);
        net_log(prc == MX_OK ? "info" : "warn", "push_sent", "room=%s status=%d",
                   mx_q(po.partner + 7, qr, sizeof qr), prc);
    }
    app_pair_out_clear(&po);
    return MX_OK;
}

/* ---- invites ---------------------------------------------------------------- */

static int mx_handle_invite(mx_bot *b, const mx_invite *inv)
{
    char qr[300], qu[300];
    if (!inv->allowed) {
        net_log("info", "invite", "room=%s inviter=%s action=decline",
                   mx_q(inv->room_id, qr, sizeof qr), mx_q(inv->inviter, qu, sizeof qu));
        return mx_leave(b, inv->room_id, "not_allowed");
    }
    char path[1024];
    json_t *body = json_object();
    mx_room_path(inv->room_id, "join", path, sizeof path);
    int rc = mx_call(b, b->api_net, "POST", path, NULL, body, 0, 1, NULL, NULL, 0);
    json_decref(body);
    net_log(rc == MX_OK ? "info" : "warn", "invite", "room=%s inviter=%s action=join status=%d",
               mx_q(inv->room_id, qr, sizeof qr), mx_q(inv->inviter, qu, sizeof qu), rc);
    if (rc == MX_OK) {
        mx_room *r = mx_room_get(b, inv->room_id, 1);
        if (r) {
            r->members = -1;
            r->direct = inv->direct;
        }
    }
    return rc == MX_FATAL || rc == MX_CANCEL ? rc : MX_OK;
}

/* ---- encrypted rooms ---------------------------------------------------------- */

static int mx_tell_encrypted(mx_bot *b, mx_room *r)
{
    if (r->e2e_told) return MX_OK;
    char name[64], txn[64], v[8], q[300];
    uint64_t h = mx_fnv(r->id);
    snprintf(name, sizeof name, "matrix.e2e.%016llx", (unsigned long long)h);
    snprintf(txn, sizeof txn, "pp.e2e.%016llx", (unsigned long long)h);
    if (pp_store_get_cursor(b->store, name, v, sizeof v) == 1) {
        r->e2e_told = 1;
        return MX_OK;
    }
    char *say = mx_say(b, r->session, "matrix.encrypted", NULL, MX_ENCRYPTED);
    int rc = mx_send_notice(b, r->id, txn, say ? say : MX_ENCRYPTED, NULL, NULL, NULL, NULL);
    free(say);
    if (rc == MX_FATAL || rc == MX_CANCEL) return rc;
    pp_store_set_cursor(b->store, name, "1");
    r->e2e_told = 1;
    net_log("info", "encrypted_room", "room=%s action=told", mx_q(r->id, q, sizeof q));
    return MX_OK;
}

/* Is the room encrypted?  A sync carries its m.room.encryption state only
 * the first time (or when it changes), so a bot restarted on an
 * incremental sync would not know: before the first message it would
 * answer in a room, ask the server once (GET .../state/m.room.encryption).
 * Encryption cannot be turned off, so the answer holds.  MX_OK, or
 * MX_FATAL / MX_CANCEL. */
static int mx_room_encryption(mx_bot *b, mx_room *r)
{
    if (r->encrypted || r->enc_checked) return MX_OK;
    char path[1024], errc[64], q[300], v[8], name[64];
    snprintf(name, sizeof name, "matrix.e2e.%016llx", (unsigned long long)mx_fnv(r->id));
    if (pp_store_get_cursor(b->store, name, v, sizeof v) == 1) {   /* told before */
        r->encrypted = r->enc_checked = r->e2e_told = 1;
        return MX_OK;
    }
    mx_room_path(r->id, "state/m.room.encryption/", path, sizeof path);
    json_t *j = NULL;
    int rc = mx_call(b, b->api_net, "GET", path, NULL, NULL, 0, 1, &j, errc, sizeof errc);
    json_decref(j);
    if (rc == MX_FATAL || rc == MX_CANCEL) return rc;
    if (rc == MX_OK) r->encrypted = r->enc_checked = 1;
    else if (strcmp(errc, "M_NOT_FOUND") == 0) r->enc_checked = 1;
    else net_log("warn", "encryption_unknown", "room=%s errcode=%s", mx_q(r->id, q, sizeof q),
                    errc[0] ? errc : "-");     /* asked again at the next message */
    return MX_OK;
}

/* A direct room the bot just joined with nothing in it to answer: say who
 * it is, once (remembered in the store, sent with a transaction id of the
 * room, so a redo is folded by the server). */
static int mx_say_hello(mx_bot *b, mx_room *r)
{
    char name[64], txn[64], v[8], q[300];
    uint64_t h = mx_fnv(r->id);
    snprintf(name, sizeof name, "matrix.hello.%016llx", (unsigned long long)h);
    snprintf(txn, sizeof txn, "pp.hello.%016llx", (unsigned long long)h);
    if (pp_store_get_cursor(b->store, name, v, sizeof v) == 1) return MX_OK;
    char *say = mx_say(b, r->session, "matrix.hello", NULL, NULL);
    if (!say) return MX_FAIL;              /* out of memory: the next batch tries again */
    int rc = say[0] ? mx_send_notice(b, r->id, txn, say, NULL, NULL, NULL, NULL) : MX_OK;
    if (rc == MX_FATAL || rc == MX_CANCEL) { free(say); return rc; }
    pp_store_set_cursor(b->store, name, "1");
    if (say[0]) net_log("info", "hello", "room=%s status=%d", mx_q(r->id, q, sizeof q), rc);
    else net_log("warn", "hello", "room=%s action=none reason=\"no set matrix.hello\"", mx_q(r->id, q, sizeof q));
    free(say);
    return MX_OK;
}

/* ---- catching up ---------------------------------------------------------------- */

#define MX_CATCHUP_MAX   1000   /* events paged back per room and batch, at most */
#define MX_CATCHUP_PAGE  100

/* A limited timeline left events out between our sync position (since) and
 * its first event: page back through /messages from prev_batch to since
 * (the position saved with the last answered event), at most
 * MX_CATCHUP_MAX events, and read them, oldest first, into *out (free it;
 * its strings live in *pages, decref it).  Events already handled are
 * skipped later by their marks, so a server that ignores `to` costs
 * requests, never a second answer. */
static int mx_catch_up(mx_bot *b, const mx_me *me, const mx_sync_room *pr,
                       json_t **pages, mx_event **out, size_t *n_out)
{
    char path[1024], from[PP_MX_MAX_BATCH + 1], efrom[3 * PP_MX_MAX_BATCH + 1],
         eto[3 * PP_MX_MAX_BATCH + 1], query[2 * sizeof efrom + 400], qr[300];
    static const char filter[] = "%7B%22types%22%3A%5B%22m.room.message%22%2C%22m.room.encrypted%22%2C"
                                 "%22m.room.member%22%2C%22m.room.encryption%22%2C%22m.sticker%22%5D%7D";
    json_t *all = json_array();     /* newest first, as /messages gives them */
    int rc = MX_OK, complete = 0;
    size_t n_pages = 0;
    *pages = json_array();
    *out = NULL;
    *n_out = 0;
    if (!all || !*pages) { json_decref(all); return MX_FAIL; }
    snprintf(from, sizeof from, "%s", pr->prev_batch);
    mx_room_path(pr->id, "messages", path, sizeof path);
    if (mx_escape(b->since, eto, sizeof eto)) eto[0] = '\0';
    while (json_array_size(all) < MX_CATCHUP_MAX) {
        json_t *j = NULL;
        if (mx_escape(from, efrom, sizeof efrom)) break;
        snprintf(query, sizeof query, "dir=b&limit=%d&from=%s&filter=%s%s%s", MX_CATCHUP_PAGE,
                 efrom, filter, eto[0] ? "&to=" : "", eto);
        rc = mx_call(b, b->api_net, "GET", path, query, NULL, 0, 1, &j, NULL, 0);
        if (rc != MX_OK) break;
        n_pages++;
        json_array_append(*pages, j);
        json_t *chunk = json_object_get(j, "chunk");
        const char *end = mx_json_str(j, "end");
        size_t i;
        json_t *ev;
        json_array_foreach(chunk, i, ev)
            if (json_array_size(all) < MX_CATCHUP_MAX) json_array_append(all, ev);
        int more = json_array_size(chunk) > 0 && end && strlen(end) <= PP_MX_MAX_BATCH &&
                   strcmp(end, from) != 0;
        if (more) snprintf(from, sizeof from, "%s", end);
        json_decref(j);
        if (!more) { complete = 1; break; }
    }
    size_t n = json_array_size(all);
    if (rc == MX_OK && n) {
        *out = calloc(n, sizeof **out);
        if (!*out) rc = MX_FAIL;
        for (size_t k = 0; *out && k < n; k++)   /* oldest first */
            (*out)[k].kind = mx_event_read(me, json_array_get(all, n - 1 - k), 0, &(*out)[k]);
        if (*out) *n_out = n;
    }
    net_log(complete ? "info" : "warn", "catch_up", "room=%s events=%zu pages=%zu complete=%s",
               mx_q(pr->id, qr, sizeof qr), n, n_pages, complete ? "yes" : "no");
    json_decref(all);
    return rc == MX_FATAL || rc == MX_CANCEL ? rc : MX_OK;
}

/* ---- one sync batch ------------------------------------------------------------ */

typedef struct mx_item {
    const char *room_id;
    const mx_event *ev;
    int group;
} mx_item;

/* The messages of a batch to answer, in order, and the events opened
 * from m.room.encrypted ones (owned). */
typedef struct mx_items {
    mx_item *v;
    size_t n, cap;
    mx_event **opened;
    size_t n_opened, cap_opened;
} mx_items;

/* Is e (TEXT or NONTEXT, in room r) to be answered: in a DM, or
 * mentioning the bot in a group?  Then it is added to the list. */
static int mx_want(mx_bot *b, mx_room *r, const mx_event *e, mx_items *it)
{
    int members = mx_room_members(b, r);
    if (members == MX_FATAL || members == MX_CANCEL) return members;
    int group = members < 0 || members > 2;
    if (group && (e->kind != PP_MX_TEXT || !e->mentioned)) return MX_OK;
    if (it->n == it->cap) {
        size_t nc = it->cap ? it->cap * 2 : 16;
        mx_item *ni = realloc(it->v, nc * sizeof *ni);
        if (!ni) return MX_FAIL;
        it->v = ni;
        it->cap = nc;
    }
    it->v[it->n++] = (mx_item){ r->id, e, group };
    return MX_OK;
}

/* An m.room.encrypted event of room_id opened into *out (a plaintext
 * event kept in held and it, read as any other), or left to wait for its
 * key (*out NULL). */
static int mx_e2e_event(mx_bot *b, const mx_me *me, const char *room_id, json_t *raw, json_t *held,
                        mx_items *it, const mx_event **out)
{
    int missing = 0, rc;
    *out = NULL;
    json_t *ev = mx_e2e_open(b, room_id, raw, &missing, &rc);
    if (!ev) {
        if (missing && rc == MX_OK) mx_e2e_wait(b, room_id, raw);
        return rc;
    }
    json_array_append_new(held, ev);
    if (it->n_opened == it->cap_opened) {
        size_t nc = it->cap_opened ? it->cap_opened * 2 : 8;
        mx_event **no = realloc(it->opened, nc * sizeof *no);
        if (!no) return MX_FAIL;
        it->opened = no;
        it->cap_opened = nc;
    }
    mx_event *d = calloc(1, sizeof *d);
    if (!d) return MX_FAIL;
    it->opened[it->n_opened++] = d;
    d->kind = mx_event_read(me, ev, 0, d);
    if (d->kind == PP_MX_ENCRYPTED) d->kind = PP_MX_MALFORMED;   /* encrypted twice: nonsense */
    *out = d;
    return MX_OK;
}

/* Events that waited for their key, opened now that it may have come;
 * those that open are answered first (they are the oldest). */
static int mx_e2e_retry(mx_bot *b, const mx_me *me, json_t *held, mx_items *it)
{
    int rc = MX_OK;
    size_t i;
    json_t *w;
    json_array_foreach(b->e2e_waiting, i, w)   /* a batch that failed left them: again */
        json_object_del(w, "opened");
    for (i = 0; i < json_array_size(b->e2e_waiting) && rc == MX_OK;) {
        w = json_array_get(b->e2e_waiting, i);
        const char *room = mx_json_str(w, "room");
        json_t *raw = json_object_get(w, "event");
        int missing = 0;
        char err[64];
        json_t *plain = room ? e2e_megolm_decrypt(b->e2e, room, json_object_get(raw, "content"), &missing,
                                                  err, sizeof err) : NULL;
        i++;
        if (!plain && missing) {   /* still no key */
            json_decref(plain);
            continue;
        }
        json_decref(plain);
        /* it stays in the list (marked) until the batch handled it: a
         * restart before that opens it again, and the seen marks keep it
         * from being answered twice */
        json_object_set_new(w, "opened", json_true());
        json_array_append(held, w);
        mx_room *r = room ? mx_room_get(b, room, 1) : NULL;
        const mx_event *d = NULL;
        if (r) {
            r->encrypted = r->enc_checked = 1;
            rc = mx_e2e_event(b, me, r->id, raw, held, it, &d);
        }
        char qr[300], qe[300];
        net_log("info", "e2e_retry", "room=%s event_id=%s status=%s", mx_q(room, qr, sizeof qr),
                   mx_q(mx_json_str(raw, "event_id"), qe, sizeof qe), d ? "opened" : "refused");
        if (rc == MX_OK && d && (d->kind == PP_MX_TEXT || d->kind == PP_MX_NONTEXT)) rc = mx_want(b, r, d, it);
    }
    return rc;
}

/* The batch handled the events that opened: off the list. */
static void mx_e2e_retried(mx_bot *b)
{
    size_t before = json_array_size(b->e2e_waiting);
    for (size_t i = 0; i < json_array_size(b->e2e_waiting);) {
        if (json_is_true(json_object_get(json_array_get(b->e2e_waiting, i), "opened")))
            json_array_remove(b->e2e_waiting, i);
        else i++;
    }
    if (json_array_size(b->e2e_waiting) != before) mx_e2e_save(b);
}

/* Act on a batch read by mx_sync_read: invites, leaves, then the joined
 * rooms' bookkeeping and the list of messages to answer (so the last one
 * can carry next_batch). */
static int mx_handle_batch(mx_bot *b, json_t *sync, int first_run)
{
    mx_me me = { b->user_id, b->localpart, b->displayname, b->allow, b->n_allow };
    mx_sync s;
    mx_items it = { 0 };
    char qr[300], qe[300];
    if (mx_sync_read(&me, sync, &s) != 0) return MX_FAIL;
    int rc;
    if (s.n_refused)
        net_log("warn", "ids_refused", "rooms=%zu msg=\"room ids longer than %d bytes or "
                   "not printable: left out, never cut\"", s.n_refused, PP_MX_MAX_ID - 1);

    json_t *held = json_array();   /* pages of catch-up events, alive till the end */
    mx_event **gaps = calloc(s.n_rooms + 1, sizeof *gaps);
    if (!held || !gaps) { rc = MX_FAIL; goto out; }
    for (size_t k = 0; k < s.n_invites; k++) {
        rc = mx_handle_invite(b, &s.invites[k]);
        if (rc == MX_FATAL || rc == MX_CANCEL) goto out;
    }
    for (size_t k = 0; k < s.n_leaves; k++) {
        net_log("info", "left", "room=%s", mx_q(s.leaves[k], qr, sizeof qr));
        mx_room_gone(b, s.leaves[k]);
        mx_room_drop(b, s.leaves[k]);
    }

    rc = b->e2e && !first_run ? mx_e2e_retry(b, &me, held, &it) : MX_OK;
    for (size_t k = 0; k < s.n_rooms && rc == MX_OK; k++) {
        const mx_sync_room *pr = &s.rooms[k];
        mx_room *r = mx_room_get(b, pr->id, 1);
        if (!r) { rc = MX_FAIL; break; }
        if (pr->encrypted) r->encrypted = r->enc_checked = 1;
        if (pr->joined && !pr->encrypted) r->enc_checked = 1;   /* its state came with the join */
        if (pr->member_change) r->members = -1;
        if (pr->has_count) r->members = pr->count;
        size_t n_gap = 0, n_before = it.n;
        if (pr->limited && pr->prev_batch && !pr->joined && !first_run && b->since[0]) {
            json_t *pages = NULL;
            rc = mx_catch_up(b, &me, pr, &pages, &gaps[k], &n_gap);
            json_array_append_new(held, pages);
            if (rc != MX_OK) break;
        }
        for (size_t i = 0; i < n_gap + pr->n_events && !first_run; i++) {
            const mx_event *e = i < n_gap ? &gaps[k][i] : &pr->events[i - n_gap];
            int opened = 0;
            if (e->kind == PP_MX_ENCRYPTED) {
                r->encrypted = 1;
                if (!b->e2e) continue;
                const mx_event *d = NULL;
                rc = mx_e2e_event(b, &me, pr->id, (json_t *)e->raw, held, &it, &d);
                if (rc != MX_OK) break;
                if (!d) continue;      /* waits for its key */
                e = d;
                opened = 1;
            }
            if (e->kind == PP_MX_MALFORMED)
                net_log("warn", "event_refused", "room=%s reason=\"no type or msgtype, or an "
                           "event id or sender too long or not printable\"", mx_q(pr->id, qr, sizeof qr));
            if (e->kind != PP_MX_TEXT && e->kind != PP_MX_NONTEXT) continue;
            /* A plaintext message in an encrypted room is not answered
             * either: the bot would coach in the clear in a room whose
             * members expect encryption (docs/matrix.md). */
            rc = opened ? MX_OK : mx_room_encryption(b, r);
            if (rc != MX_OK) break;
            if (r->encrypted && !opened) {
                net_log("info", "skip", "room=%s event_id=%s reason=encrypted_room",
                           mx_q(pr->id, qr, sizeof qr), mx_q(e->event_id, qe, sizeof qe));
                continue;
            }
            rc = mx_want(b, r, e, &it);
            if (rc != MX_OK) break;
        }
        if (rc != MX_OK) break;
        if (pr->direct || (r->direct && pr->joined)) r->direct = 1;
        if (pr->joined && r->direct && (!r->encrypted || b->e2e) && !first_run && it.n == n_before) {
            rc = mx_say_hello(b, r);   /* invited to a DM with nothing to answer in it */
            if (rc == MX_FATAL || rc == MX_CANCEL) break;
            rc = MX_OK;
        }
        if (r->encrypted && !first_run && !b->e2e) {
            rc = mx_tell_encrypted(b, r);
            if (rc == MX_FATAL || rc == MX_CANCEL) break;
            rc = MX_OK;
        }
        if (pr->member_change) {
            json_decref(r->joined);     /* e2e: asked again before the next reply */
            r->joined = NULL;
            int m = mx_room_members(b, r);
            if (m == MX_FATAL || m == MX_CANCEL) { rc = m; break; }
            if (m == 1) {   /* only us */
                rc = mx_leave(b, pr->id, "alone");
                if (rc == MX_FATAL || rc == MX_CANCEL) break;
                rc = MX_OK;
            }
        }
    }

    if (rc == MX_OK && b->e2e) rc = mx_e2e_expire(b);
    int cursor_saved = 0;
    for (size_t k = 0; rc == MX_OK && k < it.n; k++) {
        if (mx_stop) { rc = MX_CANCEL; break; }
        mx_room *r = mx_room_get(b, it.v[k].room_id, 1);
        if (!r) { rc = MX_FAIL; break; }
        const mx_event *e = it.v[k].ev;
        size_t off = it.v[k].group ? e->strip : 0;
        int last = k + 1 == it.n;
        rc = mx_handle_message(b, r, e->event_id, e->sender, e->body + off, e->body_len - off,
                               it.v[k].group, e->kind == PP_MX_TEXT, e->thread, last, s.next_batch);
        if (rc == MX_FAIL) rc = MX_OK;   /* logged; go on with the rest */
        if (last && rc == MX_OK) cursor_saved = 1;
    }
    if (rc != MX_OK) goto out;
    if (b->e2e) mx_e2e_retried(b);
    if (!cursor_saved && pp_store_set_cursor(b->store, "matrix.next_batch", s.next_batch) != 0)
        net_log("error", "store", "error=\"cannot save next_batch\"");
    snprintf(b->since, sizeof b->since, "%s", s.next_batch);
    b->pending[0] = '\0';
out:
    free(it.v);
    for (size_t k = 0; k < it.n_opened; k++) free(it.opened[k]);
    free(it.opened);
    for (size_t k = 0; gaps && k < s.n_rooms; k++) free(gaps[k]);
    free(gaps);
    json_decref(held);
    mx_sync_free(&s);
    return rc;
}

/* ---- reminders ---------------------------------------------------------------- */

/* After a sync: send the reminders due now (app/remind.h).  The txnId is
 * the room's and the day's, so a resend after a crash is stored once. */
static int mx_send_reminders(mx_bot *b)
{
    app_remind_job jobs[APP_REMIND_BATCH];
    char q[300];
    size_t n = app_remind_collect(b->store, b->rules, "matrix:", app_now(), jobs, APP_REMIND_BATCH);
    int rc = MX_OK;
    for (size_t i = 0; i < n; i++) {
        app_remind_job *j = &jobs[i];
        const char *room = j->r.key + 7;
        if (rc != MX_OK) {               /* stopping: the rest stay due */
        } else if (j->skip) {
            net_log("info", "reminder_skipped", "room=%s day=%s reason=%s late_s=%lld",
                       mx_q(room, q, sizeof q), j->day, j->skip, j->late);
            app_remind_done(b->store, j);
        } else {
            char txn[64];
            snprintf(txn, sizeof txn, "pp.rem.%016llx.%.15s", (unsigned long long)mx_fnv(j->r.key), j->day);
            int src = mx_push_ok(b, room);
            if (src == MX_OK) src = mx_send_notice(b, room, txn, j->text, NULL, NULL, NULL, NULL);
            else if (src == MX_FAIL) {    /* an encrypted room and no E2E: never in clear */
                net_log("info", "reminder_skipped", "room=%s day=%s reason=encrypted_room late_s=%lld",
                           mx_q(room, q, sizeof q), j->day, j->late);
                app_remind_done(b->store, j);
                app_remind_job_clear(j);
                continue;
            }
            if (src == 1) {               /* its encryption unknown: the next sync */
            } else if (src == MX_OK) {
                app_remind_done(b->store, j);
                net_log("info", "reminder_sent", "room=%s day=%s late_s=%lld",
                           mx_q(room, q, sizeof q), j->day, j->late);
            } else if (src == MX_FAIL) {  /* not in the room any more */
                app_remind_stop(b->store, j->r.key);
                net_log("info", "reminder_stopped", "room=%s reason=refused", mx_q(room, q, sizeof q));
            } else {
                rc = src;
            }
        }
        app_remind_job_clear(j);
    }
    return rc;
}

/* ---- the loop --------------------------------------------------------------- */

static int mx_reload(mx_bot *b)
{
    pp_ruleset *rs = app_load_rules(&b->common);   /* prints every error */
    if (!rs) {
        net_log("error", "reload", "status=failed action=keep_old_rules");
        return -1;
    }
    pp_rules_free(b->rules);
    b->rules = rs;
    net_log("info", "reload", "status=ok rules=%zu", pp_rules_count(rs));
    return 0;
}

static int mx_run(mx_bot *b)
{
    json_t *j = NULL;
    char errc[64], q[300];
    int rc = mx_call(b, b->api_net, "GET", "/account/whoami", NULL, NULL, 0, 1, &j, errc, sizeof errc);
    if (rc == MX_FATAL) return mx_fatal_token();
    if (rc == MX_CANCEL) return 0;
    const char *uid = mx_json_str(j, "user_id");
    if (rc != MX_OK || !mx_id_ok(uid) || uid[0] != '@' || !strchr(uid, ':')) {
        json_decref(j);
        fprintf(stderr, "pushpull matrix: account/whoami failed (%s); is --homeserver right?\n",
                errc[0] ? errc : uid ? "a user id longer than 254 bytes, or not @user:server"
                               : "no user id");
        return 1;
    }
    snprintf(b->user_id, sizeof b->user_id, "%s", uid);
    char device_id[PP_MX_MAX_ID + 1] = "";
    const char *did = mx_json_str(j, "device_id");
    if (did && mx_id_ok(did)) snprintf(device_id, sizeof device_id, "%s", did);
    json_decref(j);
    const char *colon = strchr(b->user_id, ':');
    snprintf(b->localpart, sizeof b->localpart, "%.*s", (int)(colon - b->user_id - 1), b->user_id + 1);
    {
        char path[1024], esc[3 * PP_MX_MAX_ID + 1];
        mx_escape(b->user_id, esc, sizeof esc);
        snprintf(path, sizeof path, "/profile/%s", esc);
        if (mx_call(b, b->api_net, "GET", path, NULL, NULL, 0, 0, &j, NULL, 0) == MX_OK) {
            const char *dn = mx_json_str(j, "displayname");
            if (dn && strlen(dn) < sizeof b->displayname)
                snprintf(b->displayname, sizeof b->displayname, "%s", dn);
            else if (dn)    /* never a cut name: it would match other words */
                net_log("warn", "displayname_ignored", "len=%zu msg=\"longer than %zu bytes: "
                           "mentions by display name are not seen\"", strlen(dn), sizeof b->displayname - 1);
        }
        json_decref(j);
        j = NULL;
    }
    switch (mx_e2e_start(b, device_id)) {
    case -1: return 1;
    case -2: return mx_fatal_token();
    case -3: return 0;
    }
    int have = pp_store_get_cursor(b->store, "matrix.next_batch", b->since, sizeof b->since);
    if (have != 1) b->since[0] = '\0';
    if (pp_store_get_cursor(b->store, "matrix.pending", b->pending, sizeof b->pending) != 1)
        b->pending[0] = '\0';
    {
        /* which rules this bot answers with, so an operator can see them */
        char qr[1024], qs[1024], why[300];
        app_dirs dirs;
        app_data_dirs(&b->common, &dirs);
        net_log("info", "start", "user=%s resume=%s allow=%zu rules=%zu crisis_rules=%d "
                   "rules_dir=%s responses_dir=%s", mx_q(b->user_id, q, sizeof q),
                   b->since[0] ? "yes" : "no", b->n_allow, pp_rules_count(b->rules),
                   pp_rules_check_crisis(b->rules, why, sizeof why),
                   mx_q(dirs.rules, qr, sizeof qr), mx_q(dirs.responses, qs, sizeof qs));
    }
    app_notify("READY=1\nSTATUS=syncing");     /* systemd: Type=notify */

    int status = 0;
    unsigned sync_failures = 0;       /* syncs that failed since the last good one */
    while (!mx_stop) {
        app_notify_watchdog();
        if (mx_hup) { mx_hup = 0; mx_reload(b); }
        mx_wake = 0;
        if (mx_stop) break;
        if (mx_hup) continue;
        int first_run = b->since[0] == '\0';
        char filter[512], efilter[1600], esince[3 * sizeof b->since], query[8192];
        snprintf(filter, sizeof filter,
                 "{\"room\":{\"timeline\":{\"types\":[\"m.room.message\",\"m.room.encrypted\","
                 "\"m.room.member\",\"m.room.encryption\",\"m.sticker\"],\"limit\":%d},"
                 "\"state\":{\"types\":[\"m.room.member\",\"m.room.encryption\"]},"
                 "\"ephemeral\":{\"types\":[]},\"account_data\":{\"types\":[]}},"
                 "\"presence\":{\"types\":[]},\"account_data\":{\"types\":[]}}",
                 b->timeline_limit);
        if (mx_escape(filter, efilter, sizeof efilter) ||
            mx_escape(b->since, esince, sizeof esince)) { status = 1; break; }
        long tmo = first_run ? 0 : b->sync_timeout_ms;
        if (b->e2e && json_array_size(b->e2e_waiting) && tmo > 10000) tmo = 10000;   /* to tell in time */
        snprintf(query, sizeof query, "timeout=%ld&filter=%s%s%s", tmo, efilter,
                 first_run ? "" : "&since=", first_run ? "" : esince);
        rc = mx_call(b, b->sync_net, "GET", "/sync", query, NULL, tmo + 15000, 1, &j, errc, sizeof errc);
        if (rc == MX_FATAL) { status = mx_fatal_token(); break; }
        if (rc == MX_CANCEL) continue;     /* a signal: the loop head decides */
        if (rc == MX_OK && sync_failures + b->call_failures > 0) {
            /* as the Telegram bot's poll_recovered: the outage is over */
            net_log("info", "sync_recovered", "attempts=%u", sync_failures + b->call_failures);
            sync_failures = 0;
        }
        if (rc != MX_OK) {
            sync_failures++;
            if (strcmp(errc, "TOO_BIG") == 0 && b->timeline_limit > 1) b->timeline_limit /= 2;
            if (!first_run && (strcmp(errc, "M_UNKNOWN_POS") == 0 ||
                               strcmp(errc, "M_INVALID_PARAM") == 0)) {
                /* The server forgot our position: start over (the handled
                 * event marks keep old messages from being answered). */
                net_log("warn", "sync", "error=%s action=restart_from_scratch", errc);
                b->since[0] = '\0';
            }
            if (mx_sleep(net_backoff_ms(3, MX_BACKOFF_BASE, MX_BACKOFF_CAP, &b->rng))) break;
            continue;
        }
        rc = b->e2e ? mx_e2e_sync(b, j) : MX_OK;
        if (rc == MX_OK) rc = mx_handle_batch(b, j, first_run);
        json_decref(j);
        j = NULL;
        if (rc == MX_OK) rc = mx_send_reminders(b);   /* at least once a sync period */
        if (rc == MX_FATAL) { status = mx_fatal_token(); break; }
        if (rc == MX_FAIL) {
            net_log("warn", "sync", "error=\"malformed batch\"");
            if (mx_sleep(net_backoff_ms(3, MX_BACKOFF_BASE, MX_BACKOFF_CAP, &b->rng))) break;
        }
    }
    app_notify("STOPPING=1");
    net_log("info", "stop", "answered=%lu skipped=%lu status=%d", b->answered, b->skipped, status);
    return status;
}

/* ---- options, token, login ------------------------------------------------------ */

static void mx_usage(FILE *f)
{
    fprintf(f,
        "usage: pushpull matrix --homeserver URL [OPTIONS]\n"
        "       pushpull matrix login --homeserver URL --user USER --password-file FILE\n"
        "                             --token-file OUT [--allow-insecure-http]\n\n"
        "Runs the coach as a Matrix bot (/sync); `login` makes its access token.\n"
        "See docs/matrix.md.\n\n"
        "  --homeserver URL     the homeserver (https://; http:// only to this machine,\n"
        "                       127.0.0.1, ::1 or localhost, unless --allow-insecure-http)\n"
        "  --token-file FILE    the access token, first line of FILE (else\n"
        "                       MATRIX_ACCESS_TOKEN); a file others can read is warned about\n"
        "  --allow GLOB         join only invites from matching users, e.g.\n"
        "                       '@*:example.org' (repeatable; default: all)\n"
        "  --sync-timeout MS    /sync long-poll timeout, 0-300000 (default 30000)\n"
        "  --log-text           also log the text of messages (off by default)\n"
        "  --log-rules          also log each reply's rule, framework and role (debugging;\n"
        "                       off by default: they say what a user disclosed)\n"
        "  --allow-insecure-http\n"
        "                       allow http:// to another host: the token (and the login\n"
        "                       password) would cross the network in clear\n");
    app_data_usage(f);
    fprintf(f,
        "  --keep-transcripts   also store the text of each turn (off by default)\n"
        "  --help, --version\n"
        "login: --user USER (e.g. @coach:example.org), --password-file FILE (its first\n"
        "line), --token-file OUT (written 0600; its directory must exist and be writable,\n"
        "checked before the server makes a device).\n");
}

static const char *const mx_options[] = {
    "--homeserver", "--token-file", "--allow", "--sync-timeout", "--log-text", "--log-rules",
    "--allow-insecure-http", "--help", "--version", NULL
};
static const char *const mx_login_options[] = {
    "--homeserver", "--user", "--password-file", "--token-file", "--allow-insecure-http",
    "--help", "--version", NULL
};

/* Can OUT be written?  Its directory must exist and take a new file, and
 * an existing OUT must be a regular file: checked before the login, which
 * makes a device on the server whose token would otherwise be lost. */
static int mx_token_out_ok(const char *out)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", out);
    char *slash = strrchr(dir, '/');
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == dir) dir[1] = '\0';
    else *slash = '\0';
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "pushpull matrix: the directory of --token-file %s does not exist "
                "(create it first, e.g. mkdir -p -m 700 %s)\n", out, dir);
        return -1;
    }
    if (access(dir, W_OK | X_OK) != 0) {
        fprintf(stderr, "pushpull matrix: cannot write the token file %s: %s: %s\n", out, dir, strerror(errno));
        return -1;
    }
    if (lstat(out, &st) == 0 && !S_ISREG(st.st_mode)) {
        fprintf(stderr, "pushpull matrix: --token-file %s exists and is not a regular file\n", out);
        return -1;
    }
    return 0;
}

/* Read the first line of a small file into a malloc'd string. */
static char *mx_read_secret(const char *path, const char *what)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "pushpull matrix: cannot open %s file %s: %s\n", what, path, strerror(errno));
        return NULL;
    }
    struct stat sb;
    if (fstat(fd, &sb) == 0 && (sb.st_mode & 077))
        fprintf(stderr, "pushpull matrix: warning: %s file %s is readable by others "
                "(chmod 600 it)\n", what, path);
    char buf[MX_MAX_TOKEN + 2];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n < 0) {
        fprintf(stderr, "pushpull matrix: cannot read %s file %s\n", what, path);
        return NULL;
    }
    buf[n] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    if ((size_t)n >= sizeof buf - 1 && strlen(buf) >= MX_MAX_TOKEN) {
        fprintf(stderr, "pushpull matrix: %s file %s is too long\n", what, path);
        return NULL;
    }
    return strdup(buf);
}

static int mx_token_ok(const char *t)
{
    if (!t || !*t || strlen(t) > MX_MAX_TOKEN) return 0;
    for (; *t; t++)
        if ((unsigned char)*t <= 0x20 || (unsigned char)*t >= 0x7f) return 0;
    return 1;
}

static int mx_set_homeserver(mx_bot *b, const char *url, int insecure_http)
{
    char err[256];
    size_t n = strlen(url);
    if (net_base_url_check(url, insecure_http, err, sizeof err) != 0) {
        fprintf(stderr, "pushpull matrix: --homeserver %s\n", err);
        return -1;
    }
    if (n >= sizeof b->base - 1) {
        fprintf(stderr, "pushpull matrix: --homeserver is too long\n");
        return -1;
    }
    while (n > 0 && url[n - 1] == '/') n--;
    snprintf(b->base, sizeof b->base, "%.*s", (int)n, url);
    return 0;
}

static int mx_login(int argc, char **argv)
{
    const char *hs = NULL, *user = NULL, *pwfile = NULL, *out = NULL;
    int insecure_http = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--allow-insecure-http") == 0) { insecure_http = 1; continue; }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) { mx_usage(stdout); return 0; }
        if (strcmp(a, "--version") == 0) { printf("pushpull %s\n", PP_VERSION); return 0; }
        const char **dst = strcmp(a, "--homeserver") == 0 ? &hs : strcmp(a, "--user") == 0 ? &user
                         : strcmp(a, "--password-file") == 0 ? &pwfile
                         : strcmp(a, "--token-file") == 0 ? &out : NULL;
        if (!dst) return app_unknown_arg("pushpull matrix login", a, mx_login_options, 0);
        if (i + 1 >= argc) {
            fprintf(stderr, "pushpull matrix login: %s needs a value (see pushpull matrix --help)\n", a);
            return 2;
        }
        *dst = argv[++i];
    }
    if (!hs || !user || !pwfile || !out) {
        fprintf(stderr, "pushpull matrix login: needs --homeserver, --user, --password-file and "
                "--token-file (see pushpull matrix --help)\n");
        return 2;
    }
    if (mx_token_out_ok(out) != 0) return 1;
    mx_bot *b = calloc(1, sizeof *b);
    if (!b) return 1;
    int status = 1;
    char err[256], *pw = NULL;
    json_t *j = NULL, *req = NULL;
    if (mx_set_homeserver(b, hs, insecure_http)) { status = 2; goto done; }
    if (!(pw = mx_read_secret(pwfile, "password"))) goto done;
    if (net_global_init() != 0) goto done;
    b->api_net = net_new(NULL, err, sizeof err);
    if (!b->api_net) { fprintf(stderr, "pushpull matrix: %s\n", err); goto done_net; }
    net_set_secret(b->api_net, pw);
    net_rng_seed(&b->rng, (uint64_t)time(NULL) ^ (uint64_t)getpid());
    snprintf(b->auth, sizeof b->auth, "X-Pushpull: login");
    req = json_pack("{s:s, s:{s:s, s:s}, s:s, s:s}", "type", "m.login.password",
                    "identifier", "type", "m.id.user", "user", user, "password", pw,
                    "initial_device_display_name", "pushpull bot");
    char errc[64];
    int rc = req ? mx_call(b, b->api_net, "POST", "/login", NULL, req, 0, 1, &j, errc, sizeof errc)
                 : MX_FAIL;
    const char *tok = mx_json_str(j, "access_token"), *uid = mx_json_str(j, "user_id");
    if (rc != MX_OK || !mx_token_ok(tok)) {
        fprintf(stderr, "pushpull matrix: login failed (%s)\n", errc[0] ? errc : "no access token");
        goto done_net;
    }
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp%ld", out, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        fprintf(stderr, "pushpull matrix: cannot create %s: %s\n", tmp, strerror(errno));
        goto done_net;
    }
    size_t tl = strlen(tok);
    int ok = fchmod(fd, 0600) == 0 && write(fd, tok, tl) == (ssize_t)tl &&
             write(fd, "\n", 1) == 1 && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, out) != 0) {
        fprintf(stderr, "pushpull matrix: cannot write %s: %s\n", out, strerror(errno));
        unlink(tmp);
        goto done_net;
    }
    printf("logged in as %s; the access token is in %s (mode 0600)\n", uid ? uid : user, out);
    status = 0;
done_net:
    net_free(b->api_net);
    net_global_cleanup();
done:
    json_decref(j);
    json_decref(req);
    if (pw) { memset(pw, 0, strlen(pw)); free(pw); }
    free(b);
    return status;
}

int cli_matrix(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "login") == 0) return mx_login(argc - 1, argv + 1);
    app_zone_init();   /* before any thread: TZ is never added later (remind.c) */
    mx_bot *b = calloc(1, sizeof *b);
    if (!b) return 1;
    b->sync_timeout_ms = 30000;
    b->timeline_limit = 50;
    b->lock_fd = -1;
    const char *hs = NULL, *token_file = NULL;
    int status = 2, insecure_http = 0;
    for (int i = 1; i < argc; i++) {
        int c = app_common_opt(&b->common, argc, argv, &i);
        if (c < 0) goto out;
        if (c > 0) continue;
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) { mx_usage(stdout); status = 0; goto out; }
        if (strcmp(a, "--version") == 0) { printf("pushpull %s\n", PP_VERSION); status = 0; goto out; }
        if (strcmp(a, "--log-text") == 0) { b->log_text = 1; continue; }
        if (strcmp(a, "--log-rules") == 0) { b->log_rules = 1; continue; }
        if (strcmp(a, "--allow-insecure-http") == 0) { insecure_http = 1; continue; }
        int known = 0;
        for (int k = 0; mx_options[k]; k++) known |= strcmp(a, mx_options[k]) == 0;
        if (!known) { status = app_unknown_arg("pushpull matrix", a, mx_options, 1); goto out; }
        if (i + 1 >= argc) {
            fprintf(stderr, "pushpull matrix: %s needs a value (see pushpull matrix --help)\n", a);
            goto out;
        }
        if (strcmp(a, "--homeserver") == 0) hs = argv[++i];
        else if (strcmp(a, "--token-file") == 0) token_file = argv[++i];
        else if (strcmp(a, "--allow") == 0) {
            if (b->n_allow == MX_MAX_ALLOW) {
                fprintf(stderr, "pushpull matrix: at most %d --allow patterns\n", MX_MAX_ALLOW);
                goto out;
            }
            b->allow[b->n_allow++] = argv[++i];
        } else if (strcmp(a, "--sync-timeout") == 0) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end || v < 0 || v > 300000) {
                fprintf(stderr, "pushpull matrix: --sync-timeout wants 0..300000 ms\n");
                goto out;
            }
            b->sync_timeout_ms = v;
        }
    }
    if (!hs) { fprintf(stderr, "pushpull matrix: --homeserver URL is required (see pushpull matrix --help)\n"); goto out; }
    if (mx_set_homeserver(b, hs, insecure_http)) goto out;
    if (b->common.no_state) {
        fprintf(stderr, "pushpull matrix: the bot needs its state file (no --no-state)\n");
        goto out;
    }
    status = 1;
    if (token_file) b->token = mx_read_secret(token_file, "token");
    else if (getenv("MATRIX_ACCESS_TOKEN")) b->token = strdup(getenv("MATRIX_ACCESS_TOKEN"));
    else {
        fprintf(stderr, "pushpull matrix: no access token: set MATRIX_ACCESS_TOKEN or use "
                "--token-file (see `pushpull matrix login`)\n");
        status = 2;
        goto out;
    }
    if (!mx_token_ok(b->token)) {
        fprintf(stderr, "pushpull matrix: the access token is empty or has characters a token cannot have\n");
        goto out;
    }
    snprintf(b->auth, sizeof b->auth, "Authorization: Bearer %s", b->token);

    char err[512];
    b->rules = app_load_rules(&b->common);   /* refuses a set without crisis rules */
    if (!b->rules) {
        net_log("error", "rules_failed", "msg=\"the rules did not load or hold no crisis "
                   "rules (errors above); nothing was sent\"");
        goto out;
    }
    b->store = pp_store_open(b->common.state_path, err, sizeof err);
    if (!b->store) { fprintf(stderr, "pushpull matrix: %s\n", err); goto out; }
    /* one bot per state file: two would answer each other's messages and
     * lose session updates */
    b->lock_fd = net_lock_state(pp_store_path(b->store), err, sizeof err);
    if (b->lock_fd < 0) {
        fprintf(stderr, "pushpull matrix: %s\n", err);
        net_log("error", "state_locked", "msg=\"another instance holds the state file; nothing was sent\"");
        goto out;
    }
    pp_store_keep_transcripts(b->store, b->common.keep_transcripts);
    if (net_global_init() != 0) { fprintf(stderr, "pushpull matrix: curl init failed\n"); goto out; }
    net_opts so = { 0 };
    so.timeout_ms = 30000;
    b->sync_net = net_new(&so, err, sizeof err);
    b->api_net = b->sync_net ? net_new(&so, err, sizeof err) : NULL;
    if (!b->api_net) { fprintf(stderr, "pushpull matrix: %s\n", err); goto out_net; }
    net_set_secret(b->sync_net, b->token);
    net_set_secret(b->api_net, b->token);
    net_set_cancel(b->sync_net, &mx_wake);
    /* a stop cuts a call in flight too: every one is safe to redo (a
     * send by its txnId, which the server folds into the first) */
    net_set_cancel(b->api_net, &mx_stop);
    net_rng_seed(&b->rng, (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 16));
    net_bucket_init(&b->sends, 5, 1, 10, net_now_ms());

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = mx_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    status = mx_run(b);
out_net:
    net_free(b->sync_net);
    net_free(b->api_net);
    net_global_cleanup();
out:
    for (size_t i = 0; i < b->n_rooms; i++) {
        free(b->rooms[i].id);
        pp_session_free(b->rooms[i].session);
        json_decref(b->rooms[i].joined);
    }
    free(b->rooms);
    e2e_account_free(b->e2e);
    json_decref(b->e2e_devices);
    json_decref(b->e2e_stale);
    json_decref(b->e2e_waiting);
    memset(b->e2e_key, 0, sizeof b->e2e_key);
    pp_store_close(b->store);
    if (b->lock_fd >= 0) close(b->lock_fd);   /* after the store: the lock outlives it */
    pp_rules_free(b->rules);
    if (b->token) { memset(b->token, 0, strlen(b->token)); free(b->token); }
    memset(b->auth, 0, sizeof b->auth);
    free(b);
    return status;
}
