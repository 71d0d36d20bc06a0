/* matrix.c -- fuzz target: the Matrix bot's reading of a /sync answer,
 * mx_parse_sync (bots/matrix.h), which is the code the bot runs on
 * every batch before its HTTP calls, and what the bot then does with each
 * text it would answer.
 *
 * The input is the /sync body, read as "@coach:example.org" (display name
 * "Coach", the fake homeserver's), with 0, 1 or 2 --allow globs chosen by
 * the input's length.  The result is checked against the JSON read again
 * with jansson; every room id, inviter, event id, sender and answered body
 * is quoted for a log line with net_quote (as mx_q() does) into a small
 * and a large buffer, and redacted with net_redact against a secret
 * taken from the input ("access_token"); every TEXT the bot would answer
 * (rooms of more than two members, or of unknown size, only when it
 * mentions the bot, then without its leading mention) goes through
 * pp_dialog_turn with one session per room (shipped rules).
 * Invariants: the answer is read iff it is an object with a next_batch
 * string of at most PP_MX_MAX_BATCH bytes, copied exactly; invites, leaves
 * and joined rooms are keys of rooms.invite/leave/join with a valid id; an
 * allowed invite has a valid inviter the allow-list takes; every timeline
 * event is there, in order; own events, notices, edits and encrypted events
 * are never TEXT or NONTEXT, and a TEXT is an m.text/m.emote from someone
 * else with the JSON's body; events up to the bot's own join are
 * BEFORE_JOIN; a room is encrypted iff an m.room.encryption event is in it;
 * a stripped leading mention is inside the body and counts as a mention.
 * Quoted log values are bounded, free of control bytes, and never leave a
 * quote unescaped; the secret is gone after redaction.
 */
#include "fuzz.h"
#include "matrix.h"
#include "net.h"

#include <fnmatch.h>
#include <jansson.h>
#include <strings.h>

#define FZ_MX_MAX_BODIES 16
#define FZ_MX_USER       "@coach:example.org"

static void fz_mx_quote_check(const char *s, size_t outlen)
{
    char out[512];
    FUZZ_CHECK(outlen <= sizeof out);
    const char *q = net_quote(s, out, outlen);
    FUZZ_CHECK(q == out);
    size_t n = strlen(out);
    FUZZ_CHECK(n < outlen);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)out[i];
        FUZZ_CHECK(c >= 0x20 && c != 0x7f);
        if (c == '"' && i > 0 && i + 1 < n) {
            size_t bs = 0;   /* an inner quote needs an odd run of backslashes */
            for (size_t k = i; k > 0 && out[k - 1] == '\\'; k--) bs++;
            FUZZ_CHECK(bs % 2 == 1);
        }
    }
}

/* A string the bot may log: quoted both ways, and redacted. */
static void fz_mx_log_check(const char *s, const char *secret)
{
    if (!s) return;
    fz_mx_quote_check(s, 64);
    fz_mx_quote_check(s, 300);
    char *copy = strdup(s);
    FUZZ_CHECK(copy != NULL);
    net_redact(copy, secret);
    if (strlen(secret) >= 4) FUZZ_CHECK(strstr(copy, secret) == NULL);
    free(copy);
}

/* An id as the bot takes it from the wire: 1..255 printable bytes. */
static int fz_mx_id(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > PP_MX_MAX_ID) return 0;      /* the spec allows 255 bytes */
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f) return 0;
    return 1;
}

static const char *fz_mx_str(json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

static int fz_mx_same(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static int fz_mx_is(json_t *ev, const char *key, const char *want)
{
    const char *v = fz_mx_str(ev, key);
    return v && strcmp(v, want) == 0;
}

static void fz_mx_event_check(const mx_me *me, const mx_event *e, json_t *ev)
{
    json_t *content = json_object_get(ev, "content");
    json_t *bj = json_object_get(content, "body");
    FUZZ_CHECK(fz_mx_same(e->event_id, fz_mx_str(ev, "event_id")) && fz_mx_same(e->sender, fz_mx_str(ev, "sender")));
    int message = e->kind == PP_MX_TEXT || e->kind == PP_MX_NONTEXT;
    if (!message) FUZZ_CHECK(e->body_len == 0 && e->strip == 0 && !e->mentioned && !e->thread);
    if (e->thread) {     /* a valid root id from an m.thread relation */
        json_t *rel = json_object_get(content, "m.relates_to");
        FUZZ_CHECK(fz_mx_is(rel, "rel_type", "m.thread") && fz_mx_id(e->thread) &&
                   fz_mx_same(e->thread, fz_mx_str(rel, "event_id")));
    }
    if (e->kind == PP_MX_BEFORE_JOIN || e->kind == PP_MX_MALFORMED) return;
    FUZZ_CHECK(e->sender && fz_mx_id(e->event_id));
    FUZZ_CHECK((e->kind == PP_MX_OWN) == (strcmp(e->sender, me->user_id) == 0));
    if (e->kind == PP_MX_ENCRYPTED) FUZZ_CHECK(fz_mx_is(ev, "type", "m.room.encrypted"));
    if (e->kind == PP_MX_NOTICE) FUZZ_CHECK(fz_mx_is(content, "msgtype", "m.notice"));
    if (!message) return;
    if (fz_mx_is(ev, "type", "m.sticker")) {   /* an image: never text */
        FUZZ_CHECK(e->kind == PP_MX_NONTEXT && e->body_len == 0 && !e->mentioned);
        return;
    }
    FUZZ_CHECK(fz_mx_is(ev, "type", "m.room.message"));
    const char *mt = fz_mx_str(content, "msgtype");
    FUZZ_CHECK(mt && strcmp(mt, "m.notice") != 0);
    FUZZ_CHECK(!fz_mx_is(json_object_get(content, "m.relates_to"), "rel_type", "m.replace"));
    if (e->kind == PP_MX_TEXT)
        FUZZ_CHECK(json_is_string(bj) && (strcmp(mt, "m.text") == 0 || strcmp(mt, "m.emote") == 0));
    if (json_is_string(bj)) {
        /* the body, or its end after a reply fallback taken off */
        size_t n = json_string_length(bj);
        FUZZ_CHECK(e->body_len <= n && (e->body_len == 0 ||
                   memcmp(e->body, json_string_value(bj) + (n - e->body_len), e->body_len) == 0));
        if (e->body_len < n)
            FUZZ_CHECK(json_is_object(json_object_get(json_object_get(content, "m.relates_to"), "m.in_reply_to")) &&
                       json_string_value(bj)[0] == '>');
    } else
        FUZZ_CHECK(e->body_len == 0);
    FUZZ_CHECK(e->strip <= e->body_len);
    if (e->strip) {
        FUZZ_CHECK(e->mentioned);
        FUZZ_CHECK(strncasecmp(e->body, me->user_id, strlen(me->user_id)) == 0 ||
                   strncasecmp(e->body, me->displayname, strlen(me->displayname)) == 0 ||
                   strncasecmp(e->body, me->localpart, strlen(me->localpart)) == 0);
    }
}

static void fz_mx_room_check(const mx_me *me, const mx_sync_room *r, json_t *room)
{
    FUZZ_CHECK(room != NULL);
    json_t *cnt = json_object_get(json_object_get(room, "summary"), "m.joined_member_count");
    FUZZ_CHECK(r->has_count == json_is_integer(cnt));
    json_t *state = json_object_get(json_object_get(room, "state"), "events");
    json_t *tl = json_object_get(json_object_get(room, "timeline"), "events");
    FUZZ_CHECK(r->n_events == json_array_size(tl));
    int encrypted = 0;
    size_t i, joined = 0, invite_at = 0;
    int invited = 0, own_join = 0;
    json_t *ev;
    json_array_foreach(state, i, ev) encrypted |= fz_mx_is(ev, "type", "m.room.encryption");
    json_array_foreach(tl, i, ev) {
        encrypted |= fz_mx_is(ev, "type", "m.room.encryption");
        /* the line: the bot's invite when one precedes its join, else the join */
        int own = fz_mx_is(ev, "type", "m.room.member") && fz_mx_is(ev, "state_key", me->user_id);
        if (own && fz_mx_is(json_object_get(ev, "content"), "membership", "invite")) {
            invited = 1;
            invite_at = i + 1;
        }
        if (own && fz_mx_is(json_object_get(ev, "content"), "membership", "join")) {
            joined = invited ? invite_at : i + 1;
            invited = 0;
            own_join = 1;
        }
    }
    FUZZ_CHECK(r->encrypted == encrypted);
    FUZZ_CHECK(r->joined == own_join);
    json_array_foreach(tl, i, ev) {
        FUZZ_CHECK((r->events[i].kind == PP_MX_BEFORE_JOIN) == (i < joined));
        fz_mx_event_check(me, &r->events[i], ev);
    }
}

FUZZ_ENTRY(matrix)
{
    static const char *const allow[] = { "@*:example.org", "@alice:*" };
    const mx_me me = { FZ_MX_USER, "coach", "Coach", allow, size % 3 };
    mx_sync s;
    int rc = mx_parse_sync((const char *)data, size, &me, &s);
    json_error_t je;
    json_t *root = json_loadb((const char *)data, size, JSON_ALLOW_NUL, &je);
    const char *nb = fz_mx_str(root, "next_batch");
    FUZZ_CHECK((rc == 0) == (json_is_object(root) && nb && strlen(nb) <= PP_MX_MAX_BATCH));
    if (rc != 0) {
        FUZZ_CHECK(s.next_batch == NULL && s.root == NULL && s.n_rooms == 0);
        json_decref(root);
        return 0;
    }
    FUZZ_CHECK(strcmp(s.next_batch, nb) == 0);
    const char *tok = fz_mx_str(root, "access_token");
    char secret[128];
    snprintf(secret, sizeof secret, "%s", tok ? tok : "syt_fuzz_secret");

    json_t *rooms = json_object_get(root, "rooms");
    json_t *inv = json_object_get(rooms, "invite"), *lv = json_object_get(rooms, "leave");
    json_t *jn = json_object_get(rooms, "join");
    FUZZ_CHECK(s.n_invites <= json_object_size(inv) && s.n_leaves <= json_object_size(lv) &&
               s.n_rooms <= json_object_size(jn));
    for (size_t k = 0; k < s.n_invites; k++) {
        const mx_invite *v = &s.invites[k];
        FUZZ_CHECK(fz_mx_id(v->room_id) && json_object_get(inv, v->room_id) != NULL);
        if (v->allowed) {
            int taken = me.n_allow == 0;
            for (size_t a = 0; a < me.n_allow; a++) taken |= fnmatch(me.allow[a], v->inviter, 0) == 0;
            FUZZ_CHECK(fz_mx_id(v->inviter) && taken);
        }
        fz_mx_log_check(v->room_id, secret);
        fz_mx_log_check(v->inviter, secret);
    }
    for (size_t k = 0; k < s.n_leaves; k++)
        FUZZ_CHECK(fz_mx_id(s.leaves[k]) && json_object_get(lv, s.leaves[k]) != NULL);

    const pp_ruleset *rs = fz_shipped_rules();
    size_t bodies = 0;
    for (size_t k = 0; k < s.n_rooms; k++) {
        const mx_sync_room *r = &s.rooms[k];
        FUZZ_CHECK(fz_mx_id(r->id));
        fz_mx_room_check(&me, r, json_object_get(jn, r->id));
        fz_mx_log_check(r->id, secret);
        int group = !r->has_count || r->count < 0 || r->count > 2;
        pp_session *session = NULL;
        for (size_t i = 0; i < r->n_events; i++) {
            const mx_event *e = &r->events[i];
            fz_mx_log_check(e->event_id, secret);
            fz_mx_log_check(e->sender, secret);
            if (e->kind != PP_MX_TEXT || (group && !e->mentioned) || bodies >= FZ_MX_MAX_BODIES) continue;
            bodies++;
            size_t off = group ? e->strip : 0;
            fz_mx_log_check(e->body + off, secret);
            if (!session) { session = pp_session_new(); FUZZ_CHECK(session != NULL); }
            pp_dialog d;
            memset(&d, 0, sizeof d);
            d.rules = rs;
            d.key = "matrix:fuzz";
            d.session = session;
            pp_answer a;
            memset(&a, 0, sizeof a);
            if (pp_dialog_turn(&d, e->body + off, e->body_len - off, &a) == 0) {
                FUZZ_CHECK(a.text != NULL);
                FUZZ_CHECK(!a.had_reply || !a.reply.input || strlen(a.reply.input) <= PP_MAX_INPUT);
            }
            pp_answer_clear(&a);
        }
        pp_session_free(session);
    }
    mx_sync_free(&s);
    json_decref(root);
    return 0;
}
