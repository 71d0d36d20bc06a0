/* telegram.c -- `pushpull telegram`: the coach as a Telegram bot, by long
 * polling the Bot API with libcurl (bots/net.h) and jansson.
 *
 * Threads: the main thread long-polls getUpdates and queues each update on
 * its chat; a pool of workers (each with its own reused curl handle, so
 * keep-alive) takes the oldest ready chat, runs the dialog turn and sends
 * the reply; one thread waits for signals (SIGHUP reloads the rules,
 * SIGTERM/SIGINT stop).  A chat is handled by one worker at a time, so its
 * order is kept, while a slow send to one chat never holds up another.
 * Token buckets (1/s per chat, 30/s overall, 20/min per group) are checked
 * before every sendMessage; a 429 blocks the chat for retry_after.  What
 * an update is (text, edit, a group message for another bot...) is decided
 * by a pure reader first (tg_parse_updates, telegram.h), so the tests
 * and the fuzz target drive the very code the bot runs.
 *
 * Nothing is lost and nothing repeated across a crash: an update counts as
 * handled only after its reply went out, and then the session and the
 * offset cursor are saved in ONE pp_store_save transaction.  Telegram is
 * never told an update is confirmed (offset past it) before that, so the
 * poll offset is the lowest unhandled update_id; updates above it that are
 * handled already are listed in the cursor itself ("NEXT +ID +ID") and
 * skipped when Telegram delivers them again.  That bookkeeping is the pure
 * update window (tg_window_*, telegram.h), which the fuzz target drives;
 * it refuses an update_id Telegram cannot send (outside 1..2^53-1), so
 * "one past the highest" never overflows.  A kill between the send and
 * the save repeats at most that one reply per chat.
 *
 * A reply that cannot be sent is event=send_failed, never event=reply: a
 * 4xx (blocked by the user, chat not found) is final and the update
 * handled; an outage (5xx, network) keeps the update unconfirmed and
 * retried until it is --keep-unsent old, then it is given up.
 *
 * What the bot says is data, like every sentence of the coach: the
 * command menu (setMyCommands at the start, read by tg_menu_build from the
 * set telegram.menu) and its notices are in responses/bots.responses; an
 * entry of the menu Telegram would refuse is left out and logged, so a
 * slip in that file never keeps the bot from starting.
 *
 * The token is only ever in the URL, and URLs are never logged; errors come
 * from net.c with the token redacted.  Message text is logged only with
 * --log-text.
 */
#include "telegram.h"
#include "net.h"
#include "pushpull.h"
#include "app.h"
#include "clock.h"
#include "notify.h"
#include "pair.h"
#include "remind.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define TG_DEFAULT_API   "https://api.telegram.org"
#define TG_WINDOW        100      /* getUpdates limit: updates in flight */
#define TG_MAX_IDS       (4 * TG_WINDOW + 8)   /* the window's open + handled ids */
#define TG_CURSOR_MAX    8192     /* the store's limit for a cursor value */
/* the fullest cursor: NEXT and TG_MAX_IDS " +ID", 16 digits at most (2^53) */
_Static_assert(17 + TG_MAX_IDS * 18 < TG_CURSOR_MAX, "the offset cursor must fit the store");
#define TG_MAX_TOKEN     256
#define TG_MAX_PARTS     64
#define TG_RETRY_CAP_S   600      /* never wait longer on a 429 (as the Matrix bot) */
#define TG_STOP_GRACE_MS 300      /* a send in flight at a stop may finish this long */
/* What the bot says is data (responses/bots.responses, system.responses);
 * these two stay in C for a reply that must go out when the set is
 * missing or memory ran out: without them the user's message would go
 * unanswered. */
#define TG_NONTEXT_REPLY "I can only read text. Write to me in words and I will answer."
#define TG_WENT_WRONG    "Sorry, something went wrong on my side; please try again."

/* ---- pure helpers (telegram.h) ------------------------------------------ */

static size_t utf8_seq(const unsigned char *p, size_t left, unsigned *units)
{
    unsigned char c = p[0];
    size_t n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3
             : (c & 0xf8) == 0xf0 ? 4 : 1;
    if (n > left) n = 1;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xc0) != 0x80) { n = 1; break; }
    *units = n == 4 ? 2 : 1;
    return n;
}

size_t tg_utf16_len(const char *text, size_t len)
{
    size_t units = 0, i = 0;
    while (i < len) {
        unsigned u;
        i += utf8_seq((const unsigned char *)text + i, len - i, &u);
        units += u;
    }
    return units;
}

size_t tg_split(const char *text, size_t len, size_t max_units,
                   size_t *starts, size_t *lens, size_t max_parts)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t n = 0, i = 0;
    if (max_units < 2) return 0;
    while (i < len) {
        while (i < len && (p[i] == ' ' || p[i] == '\n')) i++;   /* no blank part starts */
        if (i >= len) break;
        size_t start = i, units = 0, cut_ws = 0;
        while (i < len) {
            unsigned u;
            size_t k = utf8_seq(p + i, len - i, &u);
            if (units + u > max_units) break;
            units += u;
            if ((p[i] == ' ' || p[i] == '\n') && units > max_units / 2) cut_ws = i;
            i += k;
        }
        size_t end = i;
        if (i < len && cut_ws > start) end = cut_ws;    /* cut at white space */
        if (n >= max_parts) return 0;
        size_t e = end;
        while (e > start && (p[e - 1] == ' ' || p[e - 1] == '\n')) e--;
        if (e > start) {
            starts[n] = start;
            lens[n] = e - start;
            n++;
        }
        i = end;
    }
    return n;
}

int tg_cursor_parse(const char *s, int64_t *next, int64_t *done,
                       size_t max_done, size_t *n_done)
{
    char *end;
    *n_done = 0;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || errno || v < 0 || v > PP_TG_MAX_UPDATE_ID + 1) return -1;
    *next = v;
    long long prev = v - 1;
    for (s = end; *s; ) {
        while (*s == ' ') s++;
        if (!*s) break;
        if (*s != '+') return -1;
        s++;
        errno = 0;
        long long d = strtoll(s, &end, 10);
        /* ascending, as the window writes them: it searches them so */
        if (end == s || errno || d <= prev || d > PP_TG_MAX_UPDATE_ID) return -1;
        if (*n_done < max_done) done[(*n_done)++] = d;
        prev = d;
        s = end;
    }
    return 0;
}

/* -- the update window (telegram.h) -- */

static int ids_has(const int64_t *a, size_t n, int64_t v)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (a[mid] < v) lo = mid + 1; else hi = mid;
    }
    return lo < n && a[lo] == v;
}

static void ids_add(int64_t *a, size_t *n, int64_t v)
{
    size_t i = *n;
    while (i > 0 && a[i - 1] > v) { a[i] = a[i - 1]; i--; }
    a[i] = v;
    (*n)++;
}

static int ids_del(int64_t *a, size_t *n, int64_t v)
{
    for (size_t i = 0; i < *n; i++)
        if (a[i] == v) {
            memmove(a + i, a + i + 1, (*n - i - 1) * sizeof *a);
            (*n)--;
            return 0;
        }
    return -1;
}

int64_t tg_window_offset(const tg_window *w)
{
    return w->n_open ? w->open[0] : w->next_new;
}

tg_take tg_window_take(tg_window *w, int64_t uid)
{
    if (uid < 1 || uid > PP_TG_MAX_UPDATE_ID) return PP_TG_TAKE_BAD_ID;
    if (uid < tg_window_offset(w)) return PP_TG_TAKE_CONFIRMED;
    if (ids_has(w->open, w->n_open, uid)) return PP_TG_TAKE_OPEN;
    if (ids_has(w->done, w->n_done, uid)) {
        if (uid >= w->next_new) w->next_new = uid + 1;
        return PP_TG_TAKE_DONE;
    }
    if (w->n_open + w->n_done + 1 >= w->cap) return PP_TG_TAKE_FULL;
    if (uid >= w->next_new) w->next_new = uid + 1;
    ids_add(w->open, &w->n_open, uid);
    return PP_TG_TAKE_NEW;
}

int tg_window_handled(tg_window *w, int64_t uid)
{
    if (ids_del(w->open, &w->n_open, uid) != 0) return -1;
    ids_add(w->done, &w->n_done, uid);
    return 0;
}

int tg_window_cursor(tg_window *w, char *buf, size_t len)
{
    int64_t low = tg_window_offset(w);
    /* drop handled ids below the offset: it covers them */
    size_t k = 0;
    for (size_t i = 0; i < w->n_done; i++)
        if (w->done[i] >= low) w->done[k++] = w->done[i];
    w->n_done = k;
    size_t o = 0;
    for (size_t i = 0; i <= w->n_done; i++) {
        int m = snprintf(buf + o, len - o, i == 0 ? "%lld" : " +%lld",
                         (long long)(i == 0 ? low : w->done[i - 1]));
        if (m < 0 || (size_t)m >= len - o) {
            if (len) buf[0] = '\0';
            return -1;
        }
        o += (size_t)m;
    }
    return 0;
}

/* Does the text address this bot (groups)?  Also strips "@username" from
 * the text in place. */
static int addressed(const char *username, char *text, int *other_bot_command)
{
    size_t ulen = strlen(username);
    int hit = 0;
    *other_bot_command = 0;
    if (text[0] == '/') {
        char *at = text + strcspn(text, " @");
        if (*at == '@') {
            char *name = at + 1;
            size_t nlen = strcspn(name, " ");
            if (nlen == ulen && ulen && strncasecmp(name, username, ulen) == 0) hit = 1;
            else *other_bot_command = 1;
        } else {
            hit = 1;            /* a bare /command in a group: answered */
        }
    }
    if (!ulen) return hit;
    for (char *p = text; (p = strchr(p, '@')) != NULL; ) {
        if (strncasecmp(p + 1, username, ulen) == 0) {
            char after = p[1 + ulen];
            if (!(after == '_' || (after >= '0' && after <= '9') ||
                  (after >= 'a' && after <= 'z') || (after >= 'A' && after <= 'Z'))) {
                memmove(p, p + 1 + ulen, strlen(p + 1 + ulen) + 1);
                hit = 1;
                continue;
            }
        }
        p++;
    }
    return hit;
}

/* One update (with an integer update_id) into *out.  0, or -1 when out of
 * memory (nothing to free then). */
static int update_read(json_t *u, const tg_bot_id *me, tg_update *out)
{
    memset(out, 0, sizeof *out);
    out->update_id = json_integer_value(json_object_get(u, "update_id"));
    json_t *m = json_object_get(u, "message");
    if (!json_is_object(m)) {
        out->kind = json_object_get(u, "edited_message") ? PP_TG_EDITED : PP_TG_OTHER;
        return 0;
    }
    json_t *chat = json_object_get(m, "chat");
    json_t *cid = json_object_get(chat, "id");
    const char *type = json_string_value(json_object_get(chat, "type"));
    json_t *mid = json_object_get(m, "message_id");
    if (!json_is_integer(cid) || !type || !json_is_integer(mid)) {
        out->kind = PP_TG_MALFORMED;
        return 0;
    }
    out->chat_id = json_integer_value(cid);
    out->message_id = json_integer_value(mid);
    out->group = strcmp(type, "group") == 0 || strcmp(type, "supergroup") == 0;
    if (!out->group && strcmp(type, "private") != 0) {
        out->kind = PP_TG_CHANNEL;
        return 0;
    }
    json_t *mto = json_object_get(m, "migrate_to_chat_id");
    json_t *mfrom = json_object_get(m, "migrate_from_chat_id");
    if (out->group && (json_is_integer(mto) || json_is_integer(mfrom))) {
        /* the service messages of a group that became a supergroup: its
         * conversation moves to the new chat id */
        int64_t other = json_integer_value(json_is_integer(mto) ? mto : mfrom);
        out->kind = other == 0 || other == out->chat_id ? PP_TG_MALFORMED : PP_TG_MIGRATE;
        if (out->kind == PP_TG_MIGRATE && json_is_integer(mto)) {
            out->migrate_to = other;
        } else if (out->kind == PP_TG_MIGRATE) {
            out->migrate_to = out->chat_id;
            out->chat_id = other;
        }
        return 0;
    }
    if (json_is_true(json_object_get(json_object_get(m, "from"), "is_bot"))) {
        out->kind = PP_TG_BOT;
        return 0;
    }
    /* a photo's or video's caption is what the user wrote: text to answer */
    const char *text = json_string_value(json_object_get(m, "text"));
    if (!text) text = json_string_value(json_object_get(m, "caption"));
    char *copy = NULL;
    if (text) {
        size_t tl = strlen(text);
        if (tl > 4 * PP_MAX_INPUT) tl = 4 * PP_MAX_INPUT;    /* the engine cuts further */
        copy = strndup(text, tl);
        if (!copy) return -1;
    }
    int other = 0;
    if (out->group) {
        json_t *rto = json_object_get(json_object_get(json_object_get(m, "reply_to_message"), "from"), "id");
        int to_us = json_is_integer(rto) && json_integer_value(rto) == me->id;
        int hit = copy ? addressed(me->username, copy, &other) : 0;
        if (other || (!hit && !to_us)) {
            free(copy);
            out->kind = PP_TG_NOT_ADDRESSED;
            return 0;
        }
    } else if (copy && copy[0] == '/') {
        addressed(me->username, copy, &other);
    }
    out->kind = copy ? PP_TG_TEXT : PP_TG_NONTEXT;
    out->text = copy;
    return 0;
}

/* A getUpdates result array into updates; the bot's half of
 * tg_parse_updates (api_call has parsed the answer already). */
static int updates_read(json_t *result, const tg_bot_id *me, tg_update **out, size_t *n_out)
{
    *out = NULL;
    *n_out = 0;
    tg_update *ups = calloc(json_array_size(result) + 1, sizeof *ups);
    if (!ups) return -1;
    size_t n = 0, i;
    json_t *u;
    json_array_foreach(result, i, u) {
        if (!json_is_integer(json_object_get(u, "update_id"))) continue;
        if (update_read(u, me, &ups[n]) != 0) {
            tg_updates_free(ups, n);
            return -1;
        }
        n++;
    }
    *out = ups;
    *n_out = n;
    return 0;
}

int tg_parse_updates(const char *body, size_t len, const tg_bot_id *me,
                        tg_update **out, size_t *n_out)
{
    json_error_t jerr;
    json_t *root = json_loadb(body, len, 0, &jerr);     /* as api_call reads it */
    json_t *result = json_object_get(root, "result");
    int st = -1;
    *out = NULL;
    *n_out = 0;
    if (json_is_true(json_object_get(root, "ok")) && json_is_array(result))
        st = updates_read(result, me, out, n_out);
    json_decref(root);
    return st;
}

void tg_updates_free(tg_update *ups, size_t n)
{
    for (size_t i = 0; ups && i < n; i++) free(ups[i].text);
    free(ups);
}

const char *tg_kind_name(tg_kind kind)
{
    static const char *const names[] = { "text", "nontext", "edited", "other", "malformed",
                                         "channel", "bot", "group_not_addressed", "migrate" };
    return (unsigned)kind < sizeof names / sizeof names[0] ? names[kind] : "unknown";
}

int tg_menu_entry(const char *entry, char *cmd, const char **desc, size_t *desc_len,
                  const char **why)
{
    const char *p = entry, *colon = strchr(entry, ':');
    cmd[0] = '\0';
    *desc = "";
    *desc_len = 0;
    if (!colon) { *why = "not \"command: description\""; return -1; }
    while (*p == ' ' || *p == '\t') p++;
    if (*p == '/') p++;
    size_t n = (size_t)(colon - p);
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t')) n--;
    if (n == 0) { *why = "no command before the ':'"; return -1; }
    if (n > PP_TG_COMMAND_MAX) { *why = "the command is longer than 32 characters"; return -1; }
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9') || p[i] == '_')) {
            *why = "a command is only lowercase a-z, 0-9 and _";
            return -1;
        }
    memcpy(cmd, p, n);
    cmd[n] = '\0';
    char slash[PP_TG_COMMAND_MAX + 2];
    snprintf(slash, sizeof slash, "/%s", cmd);
    pp_command c = pp_dialog_command(slash, n + 1);
    if (c == PP_CMD_NONE || c == PP_CMD_UNKNOWN) { *why = "not a command the bot answers"; return -1; }
    const char *d = colon + 1;
    while (*d == ' ' || *d == '\t') d++;
    size_t dn = strlen(d);
    while (dn && (d[dn - 1] == ' ' || d[dn - 1] == '\t')) dn--;
    if (dn == 0) { *why = "no description after the ':'"; return -1; }
    if (memchr(d, '\n', dn)) { *why = "the description is one line (no '|' in it)"; return -1; }
    if (tg_utf16_len(d, dn) > PP_TG_DESCRIPTION_MAX) {
        *why = "the description is longer than 256 characters";
        return -1;
    }
    *desc = d;
    *desc_len = dn;
    *why = NULL;
    return 0;
}

static int menu_has(const json_t *cmds, const char *cmd)
{
    for (size_t k = 0; k < json_array_size(cmds); k++)
        if (strcmp(json_string_value(json_object_get(json_array_get(cmds, k), "command")), cmd) == 0)
            return 1;
    return 0;
}

json_t *tg_menu_build(const pp_ruleset *rs, tg_menu_skip_fn skipped, void *arg)
{
    json_t *cmds = json_array();
    size_t n = pp_rules_set_variants(rs, PP_TG_MENU_SET);
    for (size_t i = 0; cmds && i < n; i++) {
        char *text = pp_dialog_say(rs, NULL, PP_TG_MENU_SET, i, NULL, NULL);
        if (!text) { json_decref(cmds); return NULL; }
        char cmd[PP_TG_COMMAND_MAX + 1];
        const char *desc, *why;
        size_t dlen;
        json_t *d = NULL;
        if (tg_menu_entry(text, cmd, &desc, &dlen, &why) == 0) {
            if (menu_has(cmds, cmd)) why = "the command is in the menu already";
            else if (json_array_size(cmds) >= PP_TG_MENU_MAX) why = "Telegram takes at most 100 commands";
            else if (!(d = json_stringn(desc, dlen))) why = "the description is not valid UTF-8";
        }
        if (why) {
            const char *file = "?";
            int line = 0;
            pp_rules_variant_at(rs, PP_TG_MENU_SET, i, &file, &line);
            if (skipped) skipped(arg, file, line, cmd, why);
        } else if (json_array_append_new(cmds, json_pack("{s:s,s:o}", "command", cmd, "description", d))) {
            json_decref(cmds);     /* out of memory */
            cmds = NULL;
        }
        free(text);
    }
    return cmds;
}

/* ---- the bot ------------------------------------------------------------ */

typedef struct tg_item {
    int64_t update_id, message_id;
    char *text;                 /* NULL: a message that is not text */
    int64_t migrate_to;         /* not 0: the chat became this supergroup */
    uint64_t queued_ms;
    /* A message the bot sends by itself, not an answer (update_id 0): a
     * daily reminder (remind set, job says which) or a word to a paired
     * partner.  Owned. */
    char *push;
    int remind;
    app_remind_job job;
    struct tg_item *next;
} tg_item;

typedef struct tg_chat {
    int64_t id;
    int group;
    int busy;
    int remind_queued;          /* a reminder item is queued or in flight */
    pp_session *session;        /* NULL until first used */
    tg_item *head, *tail;
    net_bucket rate, group_rate;
    uint64_t last_used;
    char key[40];               /* "telegram:<id>" */
    struct tg_chat *hnext;
} tg_chat;

#define TG_HASH 1024

typedef struct tg_bot {
    /* configuration */
    app_common common;
    char token[TG_MAX_TOKEN];
    const char *api;
    int log_text, log_rules, n_workers, poll_timeout;
    long backoff_cap_ms;
    long keep_unsent_ms;         /* how long an outage may hold an update */
    size_t max_chats;
    char username[128];
    int64_t bot_id;
    uint64_t start_ms;
    /* shared state, guarded by mu */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    tg_chat *hash[TG_HASH];
    size_t n_chats;
    net_bucket global;
    tg_window win;            /* the update ids in hand */
    int64_t refused[8];          /* bad update ids logged lately */
    size_t n_refused;
    volatile int stop;           /* read by the poll's net_client (cancel) */
    volatile int abort_sends;    /* a stop's grace is over: cancel the sends in flight */
    int n_workers_running;       /* workers not yet returned */
    int fatal;                   /* exit status when stopping on an error */
    /* the store (SQLite handle): guarded by store_mu, taken before mu */
    pthread_mutex_t store_mu;
    pp_store *store;
    /* the rule set: read by turns, swapped by SIGHUP */
    pthread_rwlock_t rules_lock;
    pp_ruleset *rules;
    int lock_fd;                 /* net_lock_state's, -1 none */
} tg_bot;

/* The offset to poll with and confirm (mu held). */
static int64_t low_mark(const tg_bot *b)
{
    return tg_window_offset(&b->win);
}

/* -- chats (mu held) -- */

static tg_chat *chat_find(tg_bot *b, int64_t id)
{
    for (tg_chat *c = b->hash[(uint64_t)id % TG_HASH]; c; c = c->hnext)
        if (c->id == id) return c;
    return NULL;
}

static void chat_free(tg_chat *c)
{
    while (c->head) {
        tg_item *it = c->head;
        c->head = it->next;
        free(it->text);
        free(it->push);
        free(it);
    }
    pp_session_free(c->session);
    free(c);
}

/* Drop the least recently used idle chat (its session is in the store). */
static void chat_evict(tg_bot *b)
{
    tg_chat **victim = NULL;
    for (size_t h = 0; h < TG_HASH; h++)
        for (tg_chat **pc = &b->hash[h]; *pc; pc = &(*pc)->hnext)
            if (!(*pc)->busy && !(*pc)->head &&
                (!victim || (*pc)->last_used < (*victim)->last_used))
                victim = pc;
    if (!victim) return;
    tg_chat *c = *victim;
    *victim = c->hnext;
    chat_free(c);
    b->n_chats--;
}

static tg_chat *chat_get(tg_bot *b, int64_t id, int group)
{
    tg_chat *c = chat_find(b, id);
    if (c) return c;
    if (b->n_chats >= b->max_chats) chat_evict(b);
    c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->id = id;
    c->group = group;
    uint64_t now = net_now_ms();
    /* a margin under Telegram's limits, so clock jitter never breaks them */
    net_bucket_init(&c->rate, 1, 1.1, 1, now);
    net_bucket_init(&c->group_rate, 18, 60, 1, now);
    /* Just after a start, a previous instance may have sent to this chat
     * a moment ago: wait out one interval before the first message. */
    if (now < b->start_ms + 1100) net_bucket_block(&c->rate, now, (long)(b->start_ms + 1100 - now));
    c->last_used = now;
    snprintf(c->key, sizeof c->key, "telegram:%lld", (long long)id);
    c->hnext = b->hash[(uint64_t)id % TG_HASH];
    b->hash[(uint64_t)id % TG_HASH] = c;
    b->n_chats++;
    return c;
}

static long chat_wait_ms(tg_bot *b, tg_chat *c, uint64_t now)
{
    long w = net_bucket_wait_ms(&c->rate, now);
    long g = net_bucket_wait_ms(&b->global, now);
    if (g > w) w = g;
    if (c->group) {
        long gr = net_bucket_wait_ms(&c->group_rate, now);
        if (gr > w) w = gr;
    }
    return w;
}

static void chat_take(tg_bot *b, tg_chat *c, uint64_t now)
{
    net_bucket_take(&c->rate, now);
    net_bucket_take(&b->global, now);
    if (c->group) net_bucket_take(&c->group_rate, now);
}

/* Sleep up to ms, waking early on stop (mu held). */
static void wait_locked(tg_bot *b, long ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
    pthread_cond_timedwait(&b->cv, &b->mu, &ts);
}

static void sleep_ms(tg_bot *b, long ms)
{
    pthread_mutex_lock(&b->mu);
    uint64_t until = net_now_ms() + (uint64_t)ms;
    while (!b->stop) {
        uint64_t now = net_now_ms();
        if (now >= until) break;
        wait_locked(b, (long)(until - now));
    }
    pthread_mutex_unlock(&b->mu);
}

static void stop_with(tg_bot *b, int status)
{
    pthread_mutex_lock(&b->mu);
    if (status && !b->fatal) b->fatal = status;
    b->stop = 1;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
}

/* -- Bot API calls -- */

typedef struct tg_result {
    int status;          /* 0 ok; otherwise a PP_NET_E* or the HTTP status */
    json_t *result;      /* the "result" of an ok answer (owned) */
    long retry_after;    /* from parameters.retry_after, -1 none */
    char desc[160];      /* Telegram's description or our error */
} tg_result;

/* A 429's retry_after (seconds, -1 none) as the bot waits it: at most
 * TG_RETRY_CAP_S, and a longer hint is logged. */
static long retry_capped(long long asked, const char *method)
{
    if (asked <= TG_RETRY_CAP_S) return (long)asked;
    net_log("warn", "retry_after_capped", "method=%s asked=%lld used=%d", method, asked,
               TG_RETRY_CAP_S);
    return TG_RETRY_CAP_S;
}

static void api_call(tg_bot *b, net_client *net, const char *method, json_t *params,
                     long timeout_ms, tg_result *r)
{
    char url[512 + TG_MAX_TOKEN];
    memset(r, 0, sizeof *r);
    r->retry_after = -1;
    snprintf(url, sizeof url, "%s/bot%s/%s", b->api, b->token, method);
    char *body = json_dumps(params, JSON_COMPACT);
    if (!body) {
        r->status = PP_NET_EOTHER;
        snprintf(r->desc, sizeof r->desc, "out of memory");
        return;
    }
    net_response resp;
    char err[256];
    int st = net_request(net, "POST", url, NULL, body, strlen(body), timeout_ms,
                            &resp, err, sizeof err);
    free(body);
    memset(url, 0, sizeof url);
    if (st != 0) {
        r->status = st;
        snprintf(r->desc, sizeof r->desc, "%.150s", err);
        net_response_clear(&resp);
        return;
    }
    json_error_t jerr;
    json_t *root = json_loadb(resp.body, resp.len, 0, &jerr);
    r->retry_after = retry_capped(resp.retry_after, method);
    if (!root || !json_is_object(root)) {
        r->status = resp.status == 200 ? PP_NET_EOTHER : (int)resp.status;
        snprintf(r->desc, sizeof r->desc, "HTTP %ld with a body that is not JSON", resp.status);
        json_decref(root);
        net_response_clear(&resp);
        return;
    }
    long http_status = resp.status;
    net_response_clear(&resp);
    json_t *ok = json_object_get(root, "ok");
    const char *d = json_string_value(json_object_get(root, "description"));
    if (d) {
        snprintf(r->desc, sizeof r->desc, "%s", d);
        net_redact(r->desc, b->token);
    }
    json_t *ra = json_object_get(json_object_get(root, "parameters"), "retry_after");
    if (json_is_integer(ra) && json_integer_value(ra) >= 0)
        r->retry_after = retry_capped(json_integer_value(ra), method);
    if (json_is_true(ok)) {
        r->status = 0;
        r->result = json_incref(json_object_get(root, "result"));
    } else {
        json_t *code = json_object_get(root, "error_code");
        r->status = json_is_integer(code) ? (int)json_integer_value(code) : (int)http_status;
        if (r->status == 0) r->status = PP_NET_EOTHER;
        if (!d) snprintf(r->desc, sizeof r->desc, "request refused");
    }
    json_decref(root);
}

static void result_clear(tg_result *r)
{
    json_decref(r->result);
    r->result = NULL;
}

/* Errors that no retry will fix: stop the bot. */
static int fatal_status(int status)
{
    return status == 401 || status == 404 || status == 409;
}

static void log_fatal(const tg_result *r, const char *method)
{
    char q[200];
    if (r->status == 401 || r->status == 404)
        net_log("error", "token_refused", "method=%s status=%d msg=%s", method, r->status,
                   net_quote("Telegram refused the bot token (check TELEGRAM_BOT_TOKEN or --token-file)", q, sizeof q));
    else
        net_log("error", "conflict", "method=%s status=%d msg=%s", method, r->status,
                   net_quote("another getUpdates is running for this bot (a second instance, or a webhook): stop it first", q, sizeof q));
}

/* -- sending -- */

/* Why a send finally failed (send_part), for the send_failed log line. */
typedef struct tg_send_fail {
    int status;             /* the last HTTP status or PP_NET_E* */
    unsigned attempts;
    char desc[160];         /* Telegram's description or the transport error */
} tg_send_fail;

/* Send one part, waiting for the buckets; retries 429, and 5xx and network
 * errors (an outage) until the update is keep_unsent_ms old.  0 sent,
 * 1 refused for good (a 4xx: blocked by the user, chat not found), 2 the
 * outage outlasted the bound, -1 gave up because of stop (the update stays
 * unconfirmed).  *why says what the last failure was. */
static int send_part(tg_bot *b, net_client *net, uint64_t *rng, tg_chat *c, int64_t update_id,
                     int64_t reply_to, const char *text, size_t len, int have_token,
                     uint64_t queued_ms, tg_send_fail *why)
{
    unsigned attempt = 0;
    int limited = 0;            /* a 429 came: a stop ends its wait */
    for (;;) {
        if (!have_token) {
            pthread_mutex_lock(&b->mu);
            for (;;) {
                uint64_t now = net_now_ms();
                long w = chat_wait_ms(b, c, now);
                if (w == 0) { chat_take(b, c, now); break; }
                if (b->stop && (attempt > 0 || limited)) { pthread_mutex_unlock(&b->mu); return -1; }
                wait_locked(b, w);
            }
            pthread_mutex_unlock(&b->mu);
        }
        have_token = 0;
        json_t *p = json_object();
        json_object_set_new(p, "chat_id", json_integer(c->id));
        json_object_set_new(p, "text", json_stringn(text, len));
        if (reply_to > 0)
            json_object_set_new(p, "reply_parameters",
                                json_pack("{s:I,s:b}", "message_id", (json_int_t)reply_to,
                                          "allow_sending_without_reply", 1));
        tg_result r;
        uint64_t t0 = net_now_ms();
        api_call(b, net, "sendMessage", p, 0, &r);
        json_decref(p);
        long ms = (long)(net_now_ms() - t0);
        if (r.status == PP_NET_ECANCEL) {
            /* stopping, and the send outlived the grace: the update stays
             * unconfirmed (if Telegram took the message, it is repeated
             * once after a restart, as after a kill) */
            net_log("warn", "send_cancelled", "chat=%lld update=%lld latency_ms=%ld",
                       (long long)c->id, (long long)update_id, ms);
            return -1;
        }
        if (r.status == 0) {
            /* The server may have taken the message at any moment until it
             * answered: count the chat's interval from the answer. */
            pthread_mutex_lock(&b->mu);
            net_bucket_block(&c->rate, net_now_ms(), 1100);
            pthread_mutex_unlock(&b->mu);
            result_clear(&r);
            return 0;
        }
        if (r.status == 429) {
            long ra = r.retry_after >= 0 ? r.retry_after : 1;
            pthread_mutex_lock(&b->mu);
            net_bucket_block(&c->rate, net_now_ms(), ra * 1000 + 50);
            pthread_mutex_unlock(&b->mu);
            net_log("warn", "rate_limited", "chat=%lld update=%lld retry_after=%ld latency_ms=%ld",
                       (long long)c->id, (long long)update_id, ra, ms);
            limited = 1;
            if (b->stop) return -1;
            continue;
        }
        if (r.status == 401) {
            log_fatal(&r, "sendMessage");
            stop_with(b, 1);
            return -1;
        }
        char q[200];
        why->status = r.status;
        why->attempts = attempt + 1;
        snprintf(why->desc, sizeof why->desc, "%s", r.desc);
        if (r.status >= 400 && r.status < 500) {
            net_log("error", "send_refused", "chat=%lld update=%lld status=%d latency_ms=%ld msg=%s",
                       (long long)c->id, (long long)update_id, r.status, ms,
                       net_quote(r.desc, q, sizeof q));
            return 1;
        }
        long wait = net_backoff_ms(attempt, 500, b->backoff_cap_ms, rng);
        net_log("warn", "send_retry", "chat=%lld update=%lld status=%d attempt=%u backoff_ms=%ld latency_ms=%ld msg=%s",
                   (long long)c->id, (long long)update_id, r.status, attempt + 1, wait, ms,
                   net_quote(r.desc, q, sizeof q));
        if (attempt < 1000) attempt++;
        if (b->stop) return -1;
        /* An outage keeps the update (unconfirmed: a restart gets it
         * again) until it is keep_unsent_ms old, then it is given up. */
        if (net_now_ms() + (uint64_t)wait >= queued_ms + (uint64_t)b->keep_unsent_ms) return 2;
        sleep_ms(b, wait);
        if (b->stop) return -1;
    }
}

/* Save the cursor (and the session, when s is not NULL) in one transaction. */
static void persist(tg_bot *b, tg_chat *c, int64_t update_id, int handled, pp_session *s,
                    const char *user_text, const char *bot_text)
{
    char cur[TG_CURSOR_MAX], err[256] = "could not save the offset";
    pthread_mutex_lock(&b->store_mu);
    pthread_mutex_lock(&b->mu);
    if (handled) tg_window_handled(&b->win, update_id);
    /* never a cut list (a handled id left out would be answered again):
     * TG_CURSOR_MAX holds the fullest window, so this is only a guard */
    const char *cursor = tg_window_cursor(&b->win, cur, sizeof cur) == 0 ? "telegram.offset" : NULL;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
    int st = cursor ? 0 : -1;
    if (b->store) {
        if (s)
            st = pp_store_save(b->store, c->key, s, cursor, cur,
                               b->common.keep_transcripts ? user_text : NULL,
                               b->common.keep_transcripts ? bot_text : NULL, err, sizeof err);
        else if (cursor)
            st = pp_store_set_cursor(b->store, cursor, cur);
        if (!st && !cursor) st = -1;
    }
    pthread_mutex_unlock(&b->store_mu);
    if (st != 0) {
        char q[300];
        net_log("error", "store_failed", "chat=%lld update=%lld msg=%s",
                   c ? (long long)c->id : 0LL, (long long)update_id,
                   net_quote(err, q, sizeof q));
    }
}

/* A group became a supergroup (it->migrate_to): its conversation moves
 * there, unless the supergroup has one already (the second of the two
 * service messages, or a redo after a crash, finds nothing left to move).
 * In the store: saved under the new key, then every row of the old one
 * deleted (its transcript too, with --keep-transcripts: /forget in the
 * new chat must reach everything); in memory, the old chat's session is
 * dropped and the new chat reloads.  Queued on the old chat, so it comes
 * after that chat's earlier messages. */
static void chat_migrate(tg_bot *b, tg_chat *c, tg_item *it)
{
    char to_key[40], err[256] = "", q[300];
    snprintf(to_key, sizeof to_key, "telegram:%lld", (long long)it->migrate_to);
    const char *moved = "no";
    if (b->store) {
        pp_session *probe = pp_session_new(), *loaded = NULL;
        pthread_mutex_lock(&b->store_mu);
        int there = probe ? pp_store_load(b->store, to_key, probe, err, sizeof err) : -1;
        pp_session *s = c->session;
        if (there == 0 && !s && (loaded = pp_session_new()) != NULL &&
            pp_store_load(b->store, c->key, loaded, err, sizeof err) == 1)
            s = loaded;
        if (there == 0 && s) {
            moved = pp_store_save(b->store, to_key, s, NULL, NULL, NULL, NULL, err, sizeof err) == 0 &&
                    pp_store_forget(b->store, c->key, err, sizeof err) == 0 ? "yes" : "failed";
        }
        pthread_mutex_unlock(&b->store_mu);
        pp_session_free(probe);
        pp_session_free(loaded);
        if (strcmp(moved, "no") != 0) {
            pthread_mutex_lock(&b->mu);
            tg_chat *nc = chat_find(b, it->migrate_to);
            if (nc && !nc->busy && nc->session) {      /* reload the moved one */
                pp_session_free(nc->session);
                nc->session = NULL;
            }
            pthread_mutex_unlock(&b->mu);
            pp_session_free(c->session);
            c->session = NULL;
        }
    } else if (c->session) {                           /* --no-state: in memory */
        pthread_mutex_lock(&b->mu);
        tg_chat *nc = chat_get(b, it->migrate_to, 1);
        if (nc && !nc->busy && !nc->session) {
            nc->session = c->session;
            c->session = NULL;
            moved = "yes";
        }
        pthread_mutex_unlock(&b->mu);
    }
    net_log(strcmp(moved, "failed") == 0 ? "error" : "info", "chat_migrated",
               "chat=%lld to=%lld update=%lld moved=%s%s%s", (long long)c->id,
               (long long)it->migrate_to, (long long)it->update_id, moved,
               strcmp(moved, "failed") == 0 ? " msg=" : "",
               strcmp(moved, "failed") == 0 ? net_quote(err, q, sizeof q) : "");
    persist(b, c, it->update_id, 1, NULL, NULL, NULL);
}

/* The chat of a conversation key "telegram:<id>": 0, or -1. */
static int key_chat(const char *key, int64_t *id)
{
    char *end;
    if (strncmp(key, "telegram:", 9) != 0) return -1;
    errno = 0;
    long long v = strtoll(key + 9, &end, 10);
    if (end == key + 9 || *end || errno || v == 0) return -1;
    *id = v;
    return 0;
}

/* Queue a message the bot sends by itself on the chat of key (mu held):
 * text is taken (freed on failure); job, when not NULL, makes it that
 * reminder.  0, or -1. */
static int queue_push(tg_bot *b, const char *key, char *text, const app_remind_job *job)
{
    int64_t id;
    tg_chat *c = key_chat(key, &id) == 0 ? chat_get(b, id, id < 0) : NULL;
    tg_item *it = c ? calloc(1, sizeof *it) : NULL;
    if (!it) {
        free(text);
        return -1;
    }
    it->push = text;
    it->queued_ms = net_now_ms();
    if (job) {
        it->remind = 1;
        it->job = *job;
        it->job.text = NULL;
        c->remind_queued = 1;
    }
    if (c->tail) c->tail->next = it; else c->head = it;
    c->tail = it;
    pthread_cond_broadcast(&b->cv);
    return 0;
}

/* The user blocked the bot or the chat is gone (a 4xx on a send): no more
 * reminders to it (store_mu not held). */
static void chat_gone(tg_bot *b, tg_chat *c, int status)
{
    if (status != 403 && status != 400) return;
    pthread_mutex_lock(&b->store_mu);
    int rc = app_remind_stop(b->store, c->key);
    pthread_mutex_unlock(&b->store_mu);
    if (rc > 0)
        net_log("info", "reminder_stopped", "chat=%lld reason=%s", (long long)c->id,
                   status == 403 ? "blocked" : "refused");
}

/* Send a push item (a reminder, a word to a partner).  0 done (sent or
 * given up), -1 stopping (put back). */
static int handle_push(tg_bot *b, net_client *net, uint64_t *rng, tg_chat *c, tg_item *it)
{
    size_t len = strlen(it->push);
    size_t starts[TG_MAX_PARTS], lens[TG_MAX_PARTS];
    size_t parts = len ? tg_split(it->push, len, PP_TG_MAX_UNITS, starts, lens, TG_MAX_PARTS) : 0;
    tg_send_fail why = { 0, 0, "" };
    int failed = 0;
    for (size_t i = 0; i < parts && !failed; i++) {
        int st = send_part(b, net, rng, c, 0, 0, it->push + starts[i], lens[i], i == 0,
                           it->queued_ms, &why);
        if (st < 0) return -1;
        failed = st;
    }
    const char *what = it->remind ? "reminder" : "push";
    if (failed) {
        char q[200];
        net_log("error", "send_failed", "chat=%lld kind=%s reason=%s status=%d msg=%s action=dropped",
                   (long long)c->id, what, failed == 1 ? (why.status == 403 ? "blocked" : "refused") : "outage",
                   why.status, net_quote(why.desc, q, sizeof q));
        chat_gone(b, c, why.status);
        return 0;
    }
    if (it->remind) {
        pthread_mutex_lock(&b->store_mu);
        app_remind_done(b->store, &it->job);
        pthread_mutex_lock(&b->mu);
        c->remind_queued = 0;
        pthread_mutex_unlock(&b->mu);
        pthread_mutex_unlock(&b->store_mu);
        net_log("info", "reminder_sent", "chat=%lld day=%s late_s=%lld", (long long)c->id,
                   it->job.day, it->job.late);
    } else {
        net_log("info", "push_sent", "chat=%lld parts=%zu", (long long)c->id, parts);
    }
    return 0;
}

/* After a poll: queue the reminders due now, log and pass the skipped
 * ones (docs/deploy.md, "Reminders"). */
static void queue_reminders(tg_bot *b)
{
    if (!b->store) return;
    app_remind_job jobs[APP_REMIND_BATCH];
    long long now = app_now();
    pthread_rwlock_rdlock(&b->rules_lock);
    pthread_mutex_lock(&b->store_mu);
    size_t n = app_remind_collect(b->store, b->rules, "telegram:", now, jobs, APP_REMIND_BATCH);
    for (size_t i = 0; i < n; i++) {
        app_remind_job *j = &jobs[i];
        int64_t id;
        if (j->skip || key_chat(j->r.key, &id) != 0) {
            net_log("info", "reminder_skipped", "chat=%s day=%s reason=%s late_s=%lld",
                       j->r.key + 9, j->day, j->skip ? j->skip : "bad_key", j->late);
            app_remind_done(b->store, j);
            app_remind_job_clear(j);
            continue;
        }
        pthread_mutex_lock(&b->mu);
        tg_chat *c = chat_find(b, id);
        if (!c || !c->remind_queued) {
            queue_push(b, j->r.key, j->text, j);
            j->text = NULL;
        }
        pthread_mutex_unlock(&b->mu);
        app_remind_job_clear(j);
    }
    pthread_mutex_unlock(&b->store_mu);
    pthread_rwlock_unlock(&b->rules_lock);
}

/* /remind /timezone /pair /unpair /answer: answered by app/remind.c and
 * app/pair.c, with the store; what a partner is told is queued on the
 * partner's chat.  *turned: the session changed (a safety reply). */
static char *bot_command(tg_bot *b, tg_chat *c, pp_command cmd, const char *text, size_t args_at,
                         int *turned)
{
    const char *args = text + args_at;
    size_t n = strlen(args);
    long long now = app_now();
    char *reply = NULL;
    pthread_rwlock_rdlock(&b->rules_lock);
    pthread_mutex_lock(&b->store_mu);
    if (cmd == PP_CMD_REMIND || cmd == PP_CMD_TIMEZONE) {
        reply = app_remind_command(b->store, b->rules, c->session, c->key, cmd, args, n, now);
    } else {
        app_pair_out po;
        if (app_pair_command(b->store, b->rules, c->session, c->key, cmd, args, n, now, &po) == 0) {
            reply = po.text;
            po.text = NULL;
            *turned = po.turned;
            if (po.partner[0] && po.partner_text) {
                pthread_mutex_lock(&b->mu);
                queue_push(b, po.partner, po.partner_text, NULL);
                po.partner_text = NULL;
                pthread_mutex_unlock(&b->mu);
            }
        }
        app_pair_out_clear(&po);
    }
    pthread_mutex_unlock(&b->store_mu);
    pthread_rwlock_unlock(&b->rules_lock);
    return reply;
}

/* One update of one chat: the dialog turn, the reply, the save.  Returns 0
 * handled, -1 left unhandled (stopping; Telegram will deliver it again). */
static int handle_item(tg_bot *b, net_client *net, uint64_t *rng, tg_chat *c, tg_item *it)
{
    char err[256];
    if (it->push) return handle_push(b, net, rng, c, it);
    if (it->migrate_to) {
        chat_migrate(b, c, it);
        return 0;
    }
    if (!c->session) {
        c->session = pp_session_new();
        if (!c->session) return -1;
        if (b->store) {
            pthread_mutex_lock(&b->store_mu);
            int st = pp_store_load(b->store, c->key, c->session, err, sizeof err);
            pthread_mutex_unlock(&b->store_mu);
            if (st < 0) {
                char q[300];
                net_log("error", "session_unreadable", "chat=%lld msg=%s", (long long)c->id,
                           net_quote(err, q, sizeof q));
            }
        }
    }
    pp_answer ans;
    memset(&ans, 0, sizeof ans);
    const char *reply = TG_NONTEXT_REPLY;
    int turned = 0;
    pp_session *before = NULL;
    if (!it->text) {
        pthread_rwlock_rdlock(&b->rules_lock);
        ans.text = pp_dialog_say(b->rules, c->session, "bots.not-text", pp_session_turns(c->session),
                                 NULL, TG_NONTEXT_REPLY);
        pthread_rwlock_unlock(&b->rules_lock);
        if (ans.text) reply = ans.text;
    } else {
        /* Keep a copy: if the reply cannot be sent, the turn is undone. */
        before = pp_session_new();
        if (before) pp_session_copy(before, c->session);
        /* The store is given only for /forget and /export (which reads
         * it), in any spelling the dialog reads (" /forget" once a group
         * mention is taken out, "!forget", "/forget@bot"): every other turn
         * is saved by persist() after the reply went out, with the offset
         * cursor. */
        size_t tl = strlen(it->text), args_at;
        pp_command cmd = pp_dialog_command_args(it->text, tl, &args_at);
        int is_forget = cmd == PP_CMD_FORGET || cmd == PP_CMD_EXPORT;
        if (app_bot_command(cmd)) {
            int changed = 0;
            ans.text = bot_command(b, c, cmd, it->text, args_at, &changed);
            ans.command = 1;
            if (!ans.text) {       /* out of memory: the data's sentence if it fits, else C's */
                pthread_rwlock_rdlock(&b->rules_lock);
                ans.text = pp_dialog_say(b->rules, c->session, "system.went-wrong",
                                         pp_session_turns(c->session), NULL, TG_WENT_WRONG);
                pthread_rwlock_unlock(&b->rules_lock);
            }
            reply = ans.text ? ans.text : TG_WENT_WRONG;
            turned = 1;
        } else {
            /* Programs and check-ins write their scores through the store
             * (never the session): given, under store_mu, only to a turn that
             * may need it (/plan, /checkin, /progress, a check-in's answer,
             * the first line of the user's day in a program). */
            long long now = app_now();
            /* the user's /timezone makes a program's days theirs */
            int offset = 0;
            if (b->store) {
                pthread_mutex_lock(&b->store_mu);
                offset = app_zone_offset(b->store, c->key, now);
                pthread_mutex_unlock(&b->store_mu);
            }
            int plans = b->store && pp_dialog_wants_plans(c->session, it->text, tl, now, offset);
            app_pair_out po = { 0 };
            pthread_rwlock_rdlock(&b->rules_lock);
            pp_dialog d = { .rules = b->rules, .store = is_forget ? b->store : NULL,
                            .key = c->key, .session = c->session,
                            .keep_transcripts = b->common.keep_transcripts,
                            .plans = plans ? b->store : NULL, .now = now, .utc_offset = offset };
            if (is_forget || plans) pthread_mutex_lock(&b->store_mu);
            /* /forget ends a pairing: the partner is told it ended, no more */
            if (cmd == PP_CMD_FORGET) app_pair_forgetting(b->store, b->rules, c->key, &po);
            pp_dialog_turn(&d, it->text, tl, &ans);
            if (ans.forgot && po.partner[0] && po.partner_text) {
                pthread_mutex_lock(&b->mu);
                queue_push(b, po.partner, po.partner_text, NULL);
                po.partner_text = NULL;
                pthread_mutex_unlock(&b->mu);
            }
            if (is_forget || plans) pthread_mutex_unlock(&b->store_mu);
            pthread_rwlock_unlock(&b->rules_lock);
            app_pair_out_clear(&po);
            reply = ans.text ? ans.text : TG_WENT_WRONG;   /* out of memory */
            turned = 1;
        }
    }
    size_t len = reply ? strlen(reply) : 0;
    size_t starts[TG_MAX_PARTS], lens[TG_MAX_PARTS];
    size_t parts = len ? tg_split(reply, len, PP_TG_MAX_UNITS, starts, lens, TG_MAX_PARTS) : 0;
    int gave_up = 0, failed = 0;
    size_t sent = 0;
    tg_send_fail why = { 0, 0, "" };
    uint64_t t0 = net_now_ms();
    for (size_t i = 0; i < parts; i++) {
        int st = send_part(b, net, rng, c, it->update_id, i == 0 ? it->message_id : 0,
                           reply + starts[i], lens[i], i == 0, it->queued_ms, &why);
        if (st < 0) { gave_up = 1; break; }
        if (st > 0) { failed = st; break; }
        sent++;
    }
    if (gave_up) {
        /* Stopping before the reply went out: restore the session so the
         * update is answered afresh after a restart. */
        if (before) { pp_session_free(c->session); c->session = before; before = NULL; }
        pp_answer_clear(&ans);
        return -1;
    }
    long latency = (long)(net_now_ms() - it->queued_ms);
    if (failed) {
        /* The reply did not reach the user and never will: say so (not
         * event=reply), and handle the update so the offset moves on.  A
         * turn nobody saw is undone, unless part of it went out. */
        char q[200];
        net_log("error", "send_failed", "chat=%lld update=%lld reason=%s status=%d attempts=%u "
                   "parts_sent=%zu parts=%zu latency_ms=%ld msg=%s action=dropped",
                   (long long)c->id, (long long)it->update_id,
                   failed == 1 ? (why.status == 403 ? "blocked" : "refused") : "outage",
                   why.status, why.attempts, sent, parts, latency, net_quote(why.desc, q, sizeof q));
        if (failed == 1) chat_gone(b, c, why.status);
        if (before && sent == 0) { pp_session_free(c->session); c->session = before; before = NULL; }
        if (before) pp_session_free(before);
        if (turned && ans.forgot) {
            pp_session_free(c->session);
            c->session = pp_session_new();
        }
        persist(b, c, it->update_id, 1, sent && turned && !ans.forgot ? c->session : NULL,
                it->text, reply);
        pp_answer_clear(&ans);
        return 0;
    }
    if (before) pp_session_free(before);
    {
        /* what the coaching was (rule, framework, role) only with
         * --log-rules, the words only with --log-text */
        char q1[600] = "", q2[600] = "", rf[400] = "";
        if (b->log_rules) net_rule_fields(turned ? &ans : NULL, rf, sizeof rf);
        if (b->log_text) {
            char t1[560], t2[560];
            snprintf(q1, sizeof q1, " text=%s", net_quote(it->text ? it->text : "", t1, sizeof t1));
            snprintf(q2, sizeof q2, " reply=%s", net_quote(reply ? reply : "", t2, sizeof t2));
        }
        net_log("info", "reply", "chat=%lld update=%lld parts=%zu send_ms=%ld latency_ms=%ld kind=%s%s%s%s",
                   (long long)c->id, (long long)it->update_id, parts, (long)(net_now_ms() - t0), latency,
                   it->text ? (ans.command ? "command" : "text") : "nontext", rf, q1, q2);
    }
    if (turned && ans.forgot) {
        pp_session_free(c->session);
        c->session = pp_session_new();
        persist(b, c, it->update_id, 1, NULL, NULL, NULL);
    } else if (turned) {
        persist(b, c, it->update_id, 1, c->session, it->text, reply);
    } else {
        persist(b, c, it->update_id, 1, NULL, NULL, NULL);
    }
    pp_answer_clear(&ans);
    return 0;
}

static void *worker_main(void *arg)
{
    tg_bot *b = arg;
    char err[256];
    net_client *net = net_new(NULL, err, sizeof err);
    uint64_t rng;
    net_rng_seed(&rng, (uint64_t)(uintptr_t)&rng ^ net_now_ms());
    if (!net) {
        net_log("error", "worker_failed", "msg=\"no HTTP handle\"");
        stop_with(b, 1);
        return NULL;
    }
    net_set_secret(net, b->token);
    net_set_cancel(net, &b->abort_sends);
    pthread_mutex_lock(&b->mu);
    while (!b->stop) {
        /* The ready chat holding the oldest update: per-chat order is kept
         * by the queue, fairness across chats by the update ids. */
        uint64_t now = net_now_ms();
        tg_chat *best = NULL;
        long min_wait = 1000;
        for (size_t h = 0; h < TG_HASH; h++)
            for (tg_chat *c = b->hash[h]; c; c = c->hnext) {
                if (c->busy || !c->head) continue;
                long w = chat_wait_ms(b, c, now);
                if (w == 0) {
                    if (!best || c->head->update_id < best->head->update_id) best = c;
                } else if (w < min_wait) {
                    min_wait = w;
                }
            }
        if (!best) {
            wait_locked(b, min_wait);
            continue;
        }
        chat_take(b, best, now);
        tg_item *it = best->head;
        best->head = it->next;
        if (!best->head) best->tail = NULL;
        best->busy = 1;
        pthread_mutex_unlock(&b->mu);
        int st = handle_item(b, net, &rng, best, it);
        pthread_mutex_lock(&b->mu);
        if (st < 0) {           /* put it back: still open, never confirmed */
            it->next = best->head;
            best->head = it;
            if (!best->tail) best->tail = it;
        } else {
            free(it->text);
            free(it->push);
            free(it);
        }
        best->busy = 0;
        best->last_used = net_now_ms();
        pthread_cond_broadcast(&b->cv);
    }
    b->n_workers_running--;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
    net_free(net);
    return NULL;
}

/* -- reading updates -- */

/* Queue one update (mu held), taking its text.  Returns 1 when it was
 * queued for a reply, 0 when it needs none. */
static int take_update(tg_bot *b, tg_update *up)
{
    long long uid = up->update_id, chat_id = up->chat_id;
    const char *kind = tg_kind_name(up->kind);
    if (up->kind == PP_TG_EDITED || up->kind == PP_TG_OTHER) {
        net_log("info", "update_ignored", "update=%lld kind=%s", uid, kind);
        return 0;
    }
    if (up->kind == PP_TG_MALFORMED) {
        net_log("warn", "update_malformed", "update=%lld", uid);
        return 0;
    }
    if (up->kind != PP_TG_TEXT && up->kind != PP_TG_NONTEXT && up->kind != PP_TG_MIGRATE) {
        net_log("info", "update_ignored", "chat=%lld update=%lld kind=%s", chat_id, uid, kind);
        return 0;
    }
    tg_chat *c = chat_get(b, up->chat_id, up->group);
    tg_item *it = calloc(1, sizeof *it);
    if (!c || !it) {
        free(it);
        return 0;
    }
    it->update_id = up->update_id;
    it->message_id = up->message_id;
    it->migrate_to = up->migrate_to;
    it->text = up->text;
    up->text = NULL;
    it->queued_ms = net_now_ms();
    if (c->tail) c->tail->next = it; else c->head = it;
    c->tail = it;
    net_log("info", "update", "chat=%lld update=%lld kind=%s", chat_id, uid, kind);
    return 1;
}

/* An update whose id Telegram cannot send (telegram.h): never taken, so
 * never confirmed; logged once while it keeps coming (mu held). */
static void refuse_update(tg_bot *b, int64_t uid)
{
    size_t n = b->n_refused < 8 ? b->n_refused : 8;
    for (size_t i = 0; i < n; i++)
        if (b->refused[i] == uid) return;
    b->refused[b->n_refused++ % 8] = uid;
    net_log("warn", "update_refused", "update=%lld msg=\"an update_id outside 1..2^53-1: "
               "not answered, not confirmed\"", (long long)uid);
}

/* Handle a getUpdates result: read it (pure), then queue what is new.
 * Returns how many updates were new; *refused counts the bad ids. */
static size_t take_updates(tg_bot *b, json_t *arr, size_t *refused)
{
    tg_bot_id me = { b->username, b->bot_id };
    tg_update *ups;
    size_t n_ups;
    *refused = 0;
    if (updates_read(arr, &me, &ups, &n_ups) != 0) return 0;   /* delivered again */
    size_t fresh = 0;
    int64_t ignored[TG_MAX_IDS];    /* the window holds no more new ones */
    size_t n_ignored = 0;
    pthread_mutex_lock(&b->mu);
    for (size_t k = 0; k < n_ups; k++) {
        int64_t uid = ups[k].update_id;
        tg_take t = tg_window_take(&b->win, uid);
        if (t == PP_TG_TAKE_FULL) break;              /* delivered again later */
        if (t == PP_TG_TAKE_BAD_ID) { refuse_update(b, uid); (*refused)++; }
        if (t != PP_TG_TAKE_NEW) continue;            /* confirmed, in hand, handled */
        fresh++;
        if (!take_update(b, &ups[k]) && n_ignored < TG_MAX_IDS) ignored[n_ignored++] = uid;
    }
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
    tg_updates_free(ups, n_ups);
    for (size_t k = 0; k < n_ignored; k++)
        persist(b, NULL, ignored[k], 1, NULL, NULL, NULL);
    return fresh;
}

/* -- signals -- */

static void *signal_main(void *arg)
{
    tg_bot *b = arg;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    struct timespec tick = { 0, 200 * 1000000L };
    while (!b->stop) {
        int sig = sigtimedwait(&set, NULL, &tick);
        if (sig == SIGTERM || sig == SIGINT) {
            net_log("info", "stopping", "signal=%s", sig == SIGTERM ? "TERM" : "INT");
            stop_with(b, 0);
        } else if (sig == SIGHUP) {
            uint64_t t0 = net_now_ms();
            pp_ruleset *rs = app_load_rules(&b->common);   /* prints each error */
            if (!rs) {
                net_log("error", "reload_failed", "msg=\"kept the rules already loaded\"");
                continue;
            }
            pthread_rwlock_wrlock(&b->rules_lock);
            pp_ruleset *old = b->rules;
            b->rules = rs;
            pthread_rwlock_unlock(&b->rules_lock);
            pp_rules_free(old);
            net_log("info", "reloaded", "rules=%zu latency_ms=%ld", pp_rules_count(rs),
                       (long)(net_now_ms() - t0));
        }
    }
    return NULL;
}

/* -- startup -- */

static int read_token(tg_bot *b, const char *file)
{
    const char *src = NULL;
    char buf[TG_MAX_TOKEN + 2];
    if (file) {
        FILE *f = fopen(file, "r");
        if (!f) {
            int e = errno;
            fprintf(stderr, "pushpull telegram: cannot open the token file %s: %s\n", file, strerror(e));
            net_log("error", "token_missing", "msg=\"cannot read the --token-file\" errno=%d", e);
            return -1;
        }
        struct stat sb;
        if (fstat(fileno(f), &sb) == 0 && (sb.st_mode & 077)) {
            fprintf(stderr, "pushpull telegram: warning: token file %s is readable by others "
                    "(chmod 600 it)\n", file);
            net_log("warn", "token_file_mode", "msg=\"the token file is readable by others\" mode=%o",
                       (unsigned)(sb.st_mode & 0777));
        }
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        buf[strcspn(buf, "\r\n")] = '\0';
        src = buf;
    } else {
        src = getenv("TELEGRAM_BOT_TOKEN");
    }
    if (!src || !*src) {
        net_log("error", "token_missing", "msg=\"set TELEGRAM_BOT_TOKEN or give --token-file\"");
        return -1;
    }
    size_t len = strlen(src);
    if (len >= sizeof b->token || strspn(src, "0123456789abcdefghijklmnopqrstuvwxyz"
                                              "ABCDEFGHIJKLMNOPQRSTUVWXYZ:_-") != len) {
        net_log("error", "token_invalid", "msg=\"the token is not in the form Telegram gives (digits:letters)\"");
        memset(buf, 0, sizeof buf);
        return -1;
    }
    memcpy(b->token, src, len + 1);
    memset(buf, 0, sizeof buf);
    return 0;
}

/* A call that must succeed before polling starts: retried on transient
 * errors.  0 ok (r filled), else the exit status. */
/* tg_menu_build's report of an entry left out: a log line. */
static void menu_skipped(void *arg, const char *file, int line, const char *command, const char *why)
{
    (void)arg;
    char qf[1100], qw[200];
    net_log("warn", "menu_entry_skipped", "file=%s line=%d command=%s msg=%s",
            net_quote(file, qf, sizeof qf), line, command[0] ? command : "-",
            net_quote(why, qw, sizeof qw));
}

/* A call before polling starts, retried until it goes through.  0 done,
 * 1 fatal or stopped; with refusable, -1 when Telegram refused it (a 4xx
 * but 429 and the fatal ones, logged): a menu it will not take is no
 * reason to answer nobody, and asking again would not change its mind. */
static int startup_call(tg_bot *b, net_client *net, uint64_t *rng, const char *method,
                        json_t *params, int refusable, tg_result *r)
{
    for (unsigned attempt = 0; ; attempt++) {
        api_call(b, net, method, params, 0, r);
        if (r->status == 0) return 0;
        if (fatal_status(r->status)) { log_fatal(r, method); return 1; }
        if (refusable && r->status >= 400 && r->status < 500 && r->status != 429) {
            char q[200];
            net_log("warn", "api_refused", "method=%s status=%d msg=%s action=skipped", method,
                    r->status, net_quote(r->desc, q, sizeof q));
            result_clear(r);
            return -1;
        }
        char q[200];
        long wait = r->status == 429 && r->retry_after >= 0 ? r->retry_after * 1000
                  : net_backoff_ms(attempt, 500, b->backoff_cap_ms, rng);
        net_log("warn", "api_retry", "method=%s status=%d backoff_ms=%ld msg=%s", method, r->status,
                   wait, net_quote(r->desc, q, sizeof q));
        result_clear(r);
        sleep_ms(b, wait);
        if (b->stop) return b->fatal;
    }
}

static void usage(FILE *f)
{
    fprintf(f,
        "usage: pushpull telegram [OPTIONS]\n\n"
        "Runs the coach as a Telegram bot (long polling).  See docs/deploy.md.\n\n"
        "  --token-file FILE    the bot token, first line of FILE (else TELEGRAM_BOT_TOKEN);\n"
        "                       a file others can read is warned about\n"
        "  --api-url URL        the Bot API (default https://api.telegram.org); http://\n"
        "                       only to this machine unless --allow-insecure-http\n"
        "  --allow-insecure-http\n"
        "                       allow http:// to another host: the token is in every\n"
        "                       request's URL, so it would cross the network in clear\n"
        "  --workers N          chats answered at once, 1-64 (default 8)\n"
        "  --max-backoff SECONDS\n"
        "                       longest wait between retries, 1-3600 (default 60)\n"
        "  --keep-unsent SECONDS\n"
        "                       how long an unsendable reply is retried in an outage,\n"
        "                       1-86400 (default 3600)\n"
        "  --max-chats N        sessions kept in memory, 1-1000000 (default 1024)\n"
        "  --poll-timeout SECONDS\n"
        "                       getUpdates long-poll timeout, 0-50 (default 50)\n"
        "  --log-text           also log the text of messages (off by default)\n"
        "  --log-rules          also log each reply's rule, framework and role (debugging;\n"
        "                       off by default: they say what a user disclosed)\n");
    app_data_usage(f);
    fprintf(f, "  --keep-transcripts   also store the text of each turn (off by default)\n"
               "  --help, --version\n");
}

static const char *const tg_options[] = {
    "--token-file", "--api-url", "--allow-insecure-http", "--workers", "--max-backoff",
    "--keep-unsent", "--max-chats", "--poll-timeout", "--log-text", "--log-rules", "--help", "--version", NULL
};

static long num_arg(const char *s, long lo, long hi)
{
    char *end;
    long v = strtol(s, &end, 10);
    return (*s && !*end && v >= lo && v <= hi) ? v : -1;
}

static void bot_free(tg_bot *b)
{
    for (size_t h = 0; h < TG_HASH; h++)
        while (b->hash[h]) {
            tg_chat *c = b->hash[h];
            b->hash[h] = c->hnext;
            chat_free(c);
        }
    free(b->win.open);
    free(b->win.done);
    if (b->store) pp_store_close(b->store);
    if (b->lock_fd >= 0) close(b->lock_fd);   /* after the store: the lock outlives it */
    pp_rules_free(b->rules);
    pthread_mutex_destroy(&b->mu);
    pthread_mutex_destroy(&b->store_mu);
    pthread_cond_destroy(&b->cv);
    pthread_rwlock_destroy(&b->rules_lock);
    memset(b->token, 0, sizeof b->token);
    free(b);
}

static int run(tg_bot *b);

int cli_telegram(int argc, char **argv)
{
    app_zone_init();   /* before any thread: TZ is never added later (remind.c) */
    tg_bot *b = calloc(1, sizeof *b);
    if (!b) return 1;
    pthread_mutex_init(&b->mu, NULL);
    pthread_mutex_init(&b->store_mu, NULL);
    pthread_cond_init(&b->cv, NULL);
    pthread_rwlock_init(&b->rules_lock, NULL);
    b->api = TG_DEFAULT_API;
    b->n_workers = 8;
    b->poll_timeout = 50;
    b->backoff_cap_ms = 60000;
    b->keep_unsent_ms = 3600L * 1000;
    b->max_chats = 1024;
    b->lock_fd = -1;
    const char *token_file = NULL;
    int status = 2, insecure_http = 0;
    for (int i = 1; i < argc; i++) {
        int r = app_common_opt(&b->common, argc, argv, &i);
        if (r < 0) goto out;
        if (r > 0) continue;
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        long n;
        if (strcmp(a, "--log-text") == 0) { b->log_text = 1; continue; }
        if (strcmp(a, "--log-rules") == 0) { b->log_rules = 1; continue; }
        if (strcmp(a, "--allow-insecure-http") == 0) { insecure_http = 1; continue; }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) { usage(stdout); status = 0; goto out; }
        if (strcmp(a, "--version") == 0) { printf("pushpull %s\n", PP_VERSION); status = 0; goto out; }
        int known = 0;
        for (int k = 0; tg_options[k]; k++) known |= strcmp(a, tg_options[k]) == 0;
        if (!known) { status = app_unknown_arg("pushpull telegram", a, tg_options, 1); goto out; }
        if (!v) {
            fprintf(stderr, "pushpull telegram: %s needs a value (see pushpull telegram --help)\n", a);
            goto out;
        }
        if (strcmp(a, "--token-file") == 0) token_file = v;
        else if (strcmp(a, "--api-url") == 0) b->api = v;
        else if (strcmp(a, "--workers") == 0 && (n = num_arg(v, 1, 64)) > 0) b->n_workers = (int)n;
        else if (strcmp(a, "--max-backoff") == 0 && (n = num_arg(v, 1, 3600)) > 0) b->backoff_cap_ms = n * 1000;
        else if (strcmp(a, "--keep-unsent") == 0 && (n = num_arg(v, 1, 86400)) > 0) b->keep_unsent_ms = n * 1000;
        else if (strcmp(a, "--max-chats") == 0 && (n = num_arg(v, 1, 1000000)) > 0) b->max_chats = (size_t)n;
        else if (strcmp(a, "--poll-timeout") == 0 && (n = num_arg(v, 0, 50)) >= 0) b->poll_timeout = (int)n;
        else {
            fprintf(stderr, "pushpull telegram: bad value for %s: %s (see pushpull telegram --help)\n", a, v);
            goto out;
        }
        i++;
    }
    char err[256];
    if (net_base_url_check(b->api, insecure_http, err, sizeof err) != 0) {
        fprintf(stderr, "pushpull telegram: --api-url %s\n", err);
        goto out;
    }
    status = 1;
    if (read_token(b, token_file) != 0) goto out;
    status = run(b);
out:
    bot_free(b);
    return status;
}

static int run(tg_bot *b)
{
    char err[256];
    int status = 1;
    size_t api_len = strlen(b->api);
    while (api_len > 0 && b->api[api_len - 1] == '/') api_len--;
    char api[512];
    if (api_len >= sizeof api) {
        net_log("error", "bad_option", "msg=\"--api-url is too long\"");
        return 2;
    }
    memcpy(api, b->api, api_len);
    api[api_len] = '\0';
    b->api = api;

    b->rules = app_load_rules(&b->common);   /* refuses a set without crisis rules */
    if (!b->rules) {
        net_log("error", "rules_failed", "msg=\"the rules did not load or hold no crisis "
                   "rules (errors above); nothing was sent\"");
        return 1;
    }
    if (!b->common.no_state) {
        b->store = pp_store_open(b->common.state_path, err, sizeof err);
        if (!b->store) {
            char q[300];
            net_log("error", "store_failed", "msg=%s", net_quote(err, q, sizeof q));
            return 1;
        }
        pp_store_keep_transcripts(b->store, b->common.keep_transcripts);
        /* one bot per state file: two would each answer part of a chat and
         * lose session updates (Telegram's 409 comes only once both poll) */
        b->lock_fd = net_lock_state(pp_store_path(b->store), err, sizeof err);
        if (b->lock_fd < 0) {
            fprintf(stderr, "pushpull telegram: %s\n", err);
            net_log("error", "state_locked", "msg=\"another instance holds the state file; nothing was sent\"");
            return 1;
        }
    }
    b->win.cap = TG_MAX_IDS;
    b->win.open = calloc(b->win.cap, sizeof *b->win.open);
    b->win.done = calloc(b->win.cap, sizeof *b->win.done);
    if (!b->win.open || !b->win.done) return 1;
    if (b->store) {
        char cur[TG_CURSOR_MAX];
        if (pp_store_get_cursor(b->store, "telegram.offset", cur, sizeof cur) > 0 && cur[0]) {
            int64_t next;
            size_t nd;
            if (tg_cursor_parse(cur, &next, b->win.done, b->win.cap / 2, &nd) == 0) {
                /* polling restarts at next; the handled ids above it are
                 * skipped when Telegram delivers them again */
                b->win.next_new = next;
                b->win.n_done = nd;
            } else {
                net_log("warn", "cursor_unreadable", "msg=\"starting from Telegram's own offset\"");
            }
        }
    }
    uint64_t now = net_now_ms();
    net_bucket_init(&b->global, 27, 1, 1, now);
    b->start_ms = now;
    net_bucket_block(&b->global, now, 1000);   /* see chat_get() */

    if (net_global_init() != 0) return 1;
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    net_opts po = { .timeout_ms = 30000, .low_speed_secs = 30 };
    net_client *net = net_new(&po, err, sizeof err);
    uint64_t rng;
    net_rng_seed(&rng, net_now_ms() ^ (uint64_t)(uintptr_t)b);
    pthread_t sig_thread, *workers = NULL;
    int n_started = 0, sig_started = 0;
    if (!net) goto done;
    net_set_secret(net, b->token);
    net_set_cancel(net, &b->stop);
    if (pthread_create(&sig_thread, NULL, signal_main, b) == 0) sig_started = 1;

    tg_result r;
    json_t *p = json_object();
    status = startup_call(b, net, &rng, "getMe", p, 0, &r);
    json_decref(p);
    if (status != 0 || b->stop) goto done;
    const char *uname = json_string_value(json_object_get(r.result, "username"));
    json_t *bid = json_object_get(r.result, "id");
    if (uname && (strlen(uname) >= sizeof b->username ||
                  strspn(uname, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != strlen(uname))) {
        /* cut or odd, it would match mentions of another name */
        net_log("error", "getme_invalid", "msg=\"getMe gave a username that is too long or not "
                   "letters, digits and _\" len=%zu", strlen(uname));
        result_clear(&r);
        status = 1;
        goto done;
    }
    snprintf(b->username, sizeof b->username, "%s", uname ? uname : "");
    b->bot_id = json_is_integer(bid) ? json_integer_value(bid) : 0;
    result_clear(&r);
    /* the command menu, from the responses (tg_menu_build) */
    json_t *menu = tg_menu_build(b->rules, menu_skipped, NULL);
    if (!menu) { status = 1; goto done; }
    if (json_array_size(menu) == 0) {
        json_decref(menu);
        net_log("warn", "menu_empty", "set=%s msg=\"no command to show: Telegram keeps the menu "
                "it had\" action=skipped", PP_TG_MENU_SET);
    } else {
        size_t n_menu = json_array_size(menu);
        p = json_pack("{s:o}", "commands", menu);     /* takes menu */
        if (!p) { status = 1; goto done; }
        status = startup_call(b, net, &rng, "setMyCommands", p, 1, &r);
        json_decref(p);
        if (status > 0 || b->stop) goto done;
        if (status == 0) {
            result_clear(&r);
            net_log("info", "menu_set", "commands=%zu", n_menu);
        }
        status = 0;
    }
    {
        /* which rules this bot answers with, so an operator can see them */
        char q[200], qr[1024], qs[1024], why[300];
        app_dirs dirs;
        app_data_dirs(&b->common, &dirs);
        net_log("info", "started", "bot=%s workers=%d offset=%lld rules=%zu crisis_rules=%d "
                   "rules_dir=%s responses_dir=%s", net_quote(b->username, q, sizeof q),
                   b->n_workers, (long long)low_mark(b), pp_rules_count(b->rules),
                   pp_rules_check_crisis(b->rules, why, sizeof why),
                   net_quote(dirs.rules, qr, sizeof qr), net_quote(dirs.responses, qs, sizeof qs));
    }
    app_notify("READY=1\nSTATUS=polling");     /* systemd: Type=notify */

    workers = calloc((size_t)b->n_workers, sizeof *workers);
    if (!workers) goto done;
    for (; n_started < b->n_workers; n_started++) {
        pthread_mutex_lock(&b->mu);
        b->n_workers_running++;
        pthread_mutex_unlock(&b->mu);
        if (pthread_create(&workers[n_started], NULL, worker_main, b) != 0) {
            pthread_mutex_lock(&b->mu);
            b->n_workers_running--;
            pthread_mutex_unlock(&b->mu);
            break;
        }
    }
    if (n_started == 0) goto done;

    unsigned attempt = 0;
    while (!b->stop) {
        app_notify_watchdog();
        pthread_mutex_lock(&b->mu);
        int64_t offset = low_mark(b);
        int busy = b->win.n_open > 0;
        pthread_mutex_unlock(&b->mu);
        json_t *gp = json_pack("{s:I,s:i,s:i,s:[s,s]}", "offset", (json_int_t)offset, "limit", TG_WINDOW,
                               "timeout", busy ? 0 : b->poll_timeout, "allowed_updates", "message", "edited_message");
        uint64_t t0 = net_now_ms();
        api_call(b, net, "getUpdates", gp, (long)(busy ? 0 : b->poll_timeout) * 1000 + 15000, &r);
        json_decref(gp);
        long ms = (long)(net_now_ms() - t0);
        if (b->stop) { result_clear(&r); break; }
        if (r.status != 0) {
            if (fatal_status(r.status)) {
                log_fatal(&r, "getUpdates");
                stop_with(b, 1);
                break;
            }
            char q[200];
            long wait = r.status == 429 && r.retry_after >= 0 ? r.retry_after * 1000
                      : net_backoff_ms(attempt, 500, b->backoff_cap_ms, &rng);
            net_log("warn", "poll_error", "status=%d attempt=%u backoff_ms=%ld latency_ms=%ld msg=%s",
                       r.status, attempt + 1, wait, ms, net_quote(r.desc, q, sizeof q));
            attempt++;
            result_clear(&r);
            sleep_ms(b, wait);
            continue;
        }
        if (attempt) net_log("info", "poll_recovered", "attempts=%u", attempt);
        attempt = 0;
        queue_reminders(b);     /* at least once a poll period */
        size_t refused = 0;
        size_t fresh = json_is_array(r.result) ? take_updates(b, r.result, &refused) : 0;
        result_clear(&r);
        if (fresh == 0) {
            /* Everything delivered is known, or refused (and delivered
             * again at once): wait until the window moves, at most 2 s. */
            pthread_mutex_lock(&b->mu);
            if ((b->win.n_open > 0 || refused > 0) && !b->stop) {
                int64_t low = low_mark(b);
                uint64_t until = net_now_ms() + 2000;
                while (!b->stop && low_mark(b) == low && net_now_ms() < until)
                    wait_locked(b, (long)(until - net_now_ms()));
            }
            pthread_mutex_unlock(&b->mu);
        }
    }
    status = 0;

done:
    app_notify("STOPPING=1");
    stop_with(b, 0);
    {
        /* A stop ends every wait at once (a retry_after, a backoff, the
         * long poll); a send already on the wire gets TG_STOP_GRACE_MS
         * to be answered, so its update is confirmed, then it is cut. */
        pthread_mutex_lock(&b->mu);
        uint64_t until = net_now_ms() + TG_STOP_GRACE_MS;
        while (b->n_workers_running > 0 && net_now_ms() < until)
            wait_locked(b, (long)(until - net_now_ms()));
        b->abort_sends = 1;
        pthread_mutex_unlock(&b->mu);
    }
    for (int i = 0; i < n_started; i++) pthread_join(workers[i], NULL);
    free(workers);
    if (sig_started) pthread_join(sig_thread, NULL);
    if (b->fatal) status = b->fatal;
    if (net && b->username[0]) {
        /* Confirm what was handled: the cursor is saved, and Telegram is
         * told with one last getUpdates that does not wait. */
        persist(b, NULL, 0, 0, NULL, NULL, NULL);
        pthread_mutex_lock(&b->mu);
        int64_t offset = low_mark(b);
        pthread_mutex_unlock(&b->mu);
        if (!b->fatal && offset > 0) {
            net_set_cancel(net, NULL);
            json_t *gp = json_pack("{s:I,s:i,s:i}", "offset", (json_int_t)offset, "limit", 1, "timeout", 0);
            api_call(b, net, "getUpdates", gp, 10000, &r);
            json_decref(gp);
            net_log(r.status == 0 ? "info" : "warn", "offset_confirmed", "offset=%lld status=%d",
                       (long long)offset, r.status);
            result_clear(&r);
        }
        net_log("info", "stopped", "status=%d", status);
    }
    net_free(net);
    net_global_cleanup();
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return status;
}
