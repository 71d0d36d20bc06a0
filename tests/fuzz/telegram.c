/* telegram.c -- fuzz target: the Telegram bot's reading of a getUpdates
 * answer, tg_parse_updates (bots/telegram.h), which is the code the bot
 * runs on every poll, what the bot then does with each update id, and what
 * it does with each text.
 *
 *   - the first line of the input as an offset cursor (tg_cursor_parse);
 *   - the input as a getUpdates body, read as the bot "pushpull_test_bot"
 *     (id 777, the fake server's): every update is checked against the
 *     JSON read again with jansson;
 *   - the parsed updates into an update window (tg_window_*, the
 *     bookkeeping of the bot's poll loop), started from the body's
 *     "fz_cursor" string (the bot's reader ignores it, so one input holds
 *     both) with a small capacity taken from the input; input bytes choose
 *     which open updates get handled, then the same updates come again (a
 *     redelivery) and the window's cursor is read back;
 *   - every TEXT through pp_dialog_turn (one session per chat id, shipped
 *     rules); the text and the reply are split for sendMessage with
 *     tg_split at 4096 units and at a small size taken from the input;
 *   - when the input is not such a body, the raw bytes are split instead.
 * Invariants: cursor ids are never below NEXT, never above 2^53 - 1, and
 * ascending.  Window: an id outside 1..2^53-1 is always refused and never
 * held; open and handled ids are ascending, disjoint, within bounds and
 * together under the capacity; a new id is open and below next_new; the
 * offset is the lowest open id or next_new, at most 2^53, and never goes
 * back; only an open id can be handled; a redelivery takes nothing new;
 * the cursor reads back as the offset and the handled ids.  Updates: one
 * per element with an integer update_id, same ids, same order; chat,
 * message id and group flag as in the JSON; text only for TEXT, private
 * chats always answered, NOT_ADDRESSED only in groups, a group TEXT
 * addressed (a mention taken out, a /command, or a reply to the bot); the
 * text is the message text capped at 4 * PP_MAX_INPUT bytes, whole in a
 * private non-command, else with whole "@pushpull_test_bot" mentions taken
 * out and none left.  Split parts are in order, inside the text, never
 * blank, never over the unit limit, and only spaces/newlines are dropped
 * between them.
 */
#include "fuzz.h"
#include "telegram.h"

#include <jansson.h>
#include <strings.h>

#define FZ_TG_MAX_TEXTS 16
#define FZ_TG_MAX_CHATS 4
#define FZ_TG_NAME      "pushpull_test_bot"
#define FZ_TG_ID        777

static void fz_tg_split_check(const char *text, size_t len, size_t max_units)
{
    size_t starts[256], lens[256];
    size_t n = tg_split(text, len, max_units, starts, lens, 256);
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK(starts[i] >= pos);
        FUZZ_CHECK(lens[i] > 0 && starts[i] + lens[i] <= len);
        for (size_t k = pos; k < starts[i]; k++)
            FUZZ_CHECK(text[k] == ' ' || text[k] == '\n');
        FUZZ_CHECK(text[starts[i]] != ' ' && text[starts[i]] != '\n');
        char last = text[starts[i] + lens[i] - 1];
        FUZZ_CHECK(last != ' ' && last != '\n');
        FUZZ_CHECK(tg_utf16_len(text + starts[i], lens[i]) <= max_units);
        pos = starts[i] + lens[i];
    }
    if (n > 0)
        for (size_t k = pos; k < len; k++) FUZZ_CHECK(text[k] == ' ' || text[k] == '\n');
    FUZZ_CHECK(tg_utf16_len(text, len) <= len);
}

#define FZ_TG_CAP 24            /* the window's largest capacity here */

static int fz_tg_ascending(const int64_t *a, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (a[i - 1] >= a[i]) return 0;
    return 1;
}

static void fz_tg_window_check(const tg_window *w)
{
    FUZZ_CHECK(w->n_open + w->n_done < w->cap);
    FUZZ_CHECK(fz_tg_ascending(w->open, w->n_open) && fz_tg_ascending(w->done, w->n_done));
    for (size_t i = 0; i < w->n_open; i++) {
        FUZZ_CHECK(w->open[i] >= 1 && w->open[i] <= PP_TG_MAX_UPDATE_ID);
        FUZZ_CHECK(w->open[i] < w->next_new);
        for (size_t k = 0; k < w->n_done; k++) FUZZ_CHECK(w->open[i] != w->done[k]);
    }
    for (size_t k = 0; k < w->n_done; k++)
        FUZZ_CHECK(w->done[k] >= 1 && w->done[k] <= PP_TG_MAX_UPDATE_ID);
    int64_t off = tg_window_offset(w);
    FUZZ_CHECK(off >= 0 && off <= PP_TG_MAX_UPDATE_ID + 1);
    FUZZ_CHECK(off == (w->n_open ? w->open[0] : w->next_new));
}

/* The parsed updates through the window, as the poll loop takes them. */
static void fz_tg_window(const uint8_t *data, size_t size, const char *cursor,
                         const tg_update *ups, size_t n_ups)
{
    int64_t open[FZ_TG_CAP], done[FZ_TG_CAP];
    tg_window w = { open, done, 0, 0, 4 + (size ? data[0] % (FZ_TG_CAP - 4) : 0), 0 };
    int64_t next;
    size_t nd;
    if (tg_cursor_parse(cursor, &next, done, w.cap / 2, &nd) == 0) {
        w.next_new = next;
        w.n_done = nd;
    }
    fz_tg_window_check(&w);
    for (size_t k = 0; k < n_ups; k++) {
        int64_t uid = ups[k].update_id;
        int64_t off = tg_window_offset(&w);
        tg_take t = tg_window_take(&w, uid);
        FUZZ_CHECK(tg_window_offset(&w) >= off);      /* the offset never goes back */
        int bad = uid < 1 || uid > PP_TG_MAX_UPDATE_ID;
        FUZZ_CHECK((t == PP_TG_TAKE_BAD_ID) == bad);
        if (t == PP_TG_TAKE_CONFIRMED) FUZZ_CHECK(uid < off);
        if (t == PP_TG_TAKE_NEW) {
            FUZZ_CHECK(uid >= off && uid < w.next_new);
            size_t i = 0;
            while (i < w.n_open && w.open[i] != uid) i++;
            FUZZ_CHECK(i < w.n_open);
        }
        fz_tg_window_check(&w);
        if (t == PP_TG_TAKE_FULL) break;           /* as the bot does */
    }
    /* some open updates are answered (input bytes choose), in any order */
    for (size_t i = 0, j = 1; i < w.n_open; j++) {
        int64_t uid = w.open[i], off = tg_window_offset(&w);
        if (j < size && (data[j] & 1)) {
            FUZZ_CHECK(tg_window_handled(&w, uid) == 0);
            FUZZ_CHECK(tg_window_handled(&w, uid) != 0);    /* not open any more */
        } else {
            i++;
        }
        FUZZ_CHECK(tg_window_offset(&w) >= off);
        fz_tg_window_check(&w);
    }
    /* Telegram delivers the same answer again: nothing is new */
    for (size_t k = 0; k < n_ups; k++) {
        tg_take t = tg_window_take(&w, ups[k].update_id);
        FUZZ_CHECK(t != PP_TG_TAKE_NEW);
        if (t == PP_TG_TAKE_FULL) break;
    }
    fz_tg_window_check(&w);
    char cur[64 + FZ_TG_CAP * 24];
    FUZZ_CHECK(tg_window_cursor(&w, cur, sizeof cur) == 0);
    int64_t back[FZ_TG_CAP];
    FUZZ_CHECK(tg_cursor_parse(cur, &next, back, FZ_TG_CAP, &nd) == 0);
    FUZZ_CHECK(next == tg_window_offset(&w) && nd == w.n_done);
    FUZZ_CHECK(nd == 0 || memcmp(back, w.done, nd * sizeof *back) == 0);
    char tiny[4];                                /* too small: refused, not cut */
    if (tg_window_cursor(&w, tiny, sizeof tiny) != 0) FUZZ_CHECK(tiny[0] == '\0');
}

static void fz_tg_cursor(const uint8_t *data, size_t size)
{
    size_t n = 0;
    while (n < size && n < 512 && data[n] != '\n' && data[n] != '\0') n++;
    char line[513];
    memcpy(line, data, n);
    line[n] = '\0';
    int64_t next = -1, done[8];
    size_t n_done = 99;
    if (tg_cursor_parse(line, &next, done, 8, &n_done) == 0) {
        FUZZ_CHECK(next >= 0 && next <= PP_TG_MAX_UPDATE_ID + 1);
        FUZZ_CHECK(n_done <= 8);
        for (size_t i = 0; i < n_done; i++)
            FUZZ_CHECK(done[i] >= next && done[i] <= PP_TG_MAX_UPDATE_ID);
        FUZZ_CHECK(fz_tg_ascending(done, n_done));
    }
}

/* Is there a whole "@name" mention (not followed by a word character)? */
static int fz_tg_has_mention(const char *text)
{
    size_t n = strlen(FZ_TG_NAME);
    for (const char *p = text; (p = strchr(p, '@')) != NULL; p++) {
        char after = strncasecmp(p + 1, FZ_TG_NAME, n) == 0 ? p[1 + n] : 'x';
        if (!(after == '_' || (after >= '0' && after <= '9') || (after >= 'a' && after <= 'z') ||
              (after >= 'A' && after <= 'Z')))
            return 1;
    }
    return 0;
}

/* The parsed text against the message text: at most the cap, the text in
 * order with only whole mentions taken out, or all of it. */
static void fz_tg_text_check(const tg_update *up, const char *orig, int stripped)
{
    size_t cap = strlen(orig), len = strlen(up->text);
    if (cap > 4 * PP_MAX_INPUT) cap = 4 * PP_MAX_INPUT;
    FUZZ_CHECK(len <= cap);
    if (!stripped) {
        FUZZ_CHECK(len == cap && memcmp(up->text, orig, cap) == 0);
        return;
    }
    FUZZ_CHECK((cap - len) % (1 + strlen(FZ_TG_NAME)) == 0);
    size_t k = 0;                      /* up->text is a subsequence of orig */
    for (size_t i = 0; i < cap && k < len; i++)
        if (orig[i] == up->text[k]) k++;
    FUZZ_CHECK(k == len);
    FUZZ_CHECK(!fz_tg_has_mention(up->text));
}

/* One parsed update against its JSON element u. */
static void fz_tg_update_check(const tg_update *up, json_t *u)
{
    FUZZ_CHECK(up->update_id == json_integer_value(json_object_get(u, "update_id")));
    FUZZ_CHECK(strcmp(tg_kind_name(up->kind), "unknown") != 0);
    FUZZ_CHECK((up->text != NULL) == (up->kind == PP_TG_TEXT));
    json_t *m = json_object_get(u, "message");
    if (!json_is_object(m)) {
        FUZZ_CHECK(up->kind == (json_object_get(u, "edited_message") ? PP_TG_EDITED : PP_TG_OTHER));
        return;
    }
    FUZZ_CHECK(up->kind != PP_TG_EDITED && up->kind != PP_TG_OTHER);
    if (up->kind == PP_TG_MALFORMED) return;
    json_t *chat = json_object_get(m, "chat");
    const char *type = json_string_value(json_object_get(chat, "type"));
    FUZZ_CHECK(type != NULL);
    json_int_t cid = json_integer_value(json_object_get(chat, "id"));
    json_t *mto = json_object_get(m, "migrate_to_chat_id"), *mfrom = json_object_get(m, "migrate_from_chat_id");
    if (up->kind == PP_TG_MIGRATE) {    /* old chat -> new chat, whichever message it was */
        FUZZ_CHECK(up->group && up->migrate_to != 0 && up->migrate_to != up->chat_id && !up->text);
        if (json_is_integer(mto))
            FUZZ_CHECK(up->chat_id == cid && up->migrate_to == json_integer_value(mto));
        else
            FUZZ_CHECK(up->migrate_to == cid && up->chat_id == json_integer_value(mfrom));
        return;
    }
    FUZZ_CHECK(up->migrate_to == 0);
    FUZZ_CHECK(up->chat_id == cid);
    FUZZ_CHECK(up->message_id == json_integer_value(json_object_get(m, "message_id")));
    FUZZ_CHECK(up->group == (strcmp(type, "group") == 0 || strcmp(type, "supergroup") == 0));
    FUZZ_CHECK((up->kind == PP_TG_CHANNEL) == (!up->group && strcmp(type, "private") != 0));
    if (up->kind == PP_TG_CHANNEL || up->kind == PP_TG_BOT) return;
    FUZZ_CHECK(!up->group || (!json_is_integer(mto) && !json_is_integer(mfrom)));
    FUZZ_CHECK(!json_is_true(json_object_get(json_object_get(m, "from"), "is_bot")));
    const char *orig = json_string_value(json_object_get(m, "text"));     /* or the caption */
    if (!orig) orig = json_string_value(json_object_get(m, "caption"));
    json_t *rto = json_object_get(json_object_get(json_object_get(m, "reply_to_message"), "from"), "id");
    int to_us = json_is_integer(rto) && json_integer_value(rto) == FZ_TG_ID;
    if (!up->group) FUZZ_CHECK(up->kind == (orig ? PP_TG_TEXT : PP_TG_NONTEXT));
    if (up->kind == PP_TG_NONTEXT) FUZZ_CHECK(!orig && (!up->group || to_us));
    if (up->kind != PP_TG_TEXT) return;
    FUZZ_CHECK(orig != NULL);
    fz_tg_text_check(up, orig, up->group || orig[0] == '/');
    size_t cap = strlen(orig) > 4 * PP_MAX_INPUT ? 4 * PP_MAX_INPUT : strlen(orig);
    if (up->group) FUZZ_CHECK(strlen(up->text) < cap || up->text[0] == '/' || to_us);
}

FUZZ_ENTRY(telegram)
{
    fz_tg_cursor(data, size);
    size_t small = size ? 2 + data[size - 1] % 64 : 2;

    const tg_bot_id me = { FZ_TG_NAME, FZ_TG_ID };
    tg_update *ups;
    size_t n_ups;
    if (tg_parse_updates((const char *)data, size, &me, &ups, &n_ups) != 0) {
        FUZZ_CHECK(ups == NULL && n_ups == 0);
        fz_tg_split_check((const char *)data, size, PP_TG_MAX_UNITS);
        fz_tg_split_check((const char *)data, size, small);
        return 0;
    }
    json_error_t je;
    json_t *root = json_loadb((const char *)data, size, 0, &je);
    json_t *result = json_object_get(root, "result");
    FUZZ_CHECK(json_is_true(json_object_get(root, "ok")) && json_is_array(result));
    size_t k = 0, i;
    json_t *u;
    json_array_foreach(result, i, u) {
        if (!json_is_integer(json_object_get(u, "update_id"))) continue;
        FUZZ_CHECK(k < n_ups);
        fz_tg_update_check(&ups[k++], u);
    }
    FUZZ_CHECK(k == n_ups);
    /* the window starts from a cursor in the body ("fz_cursor", which the
     * bot's reader ignores), so one input holds both */
    const char *cursor = json_string_value(json_object_get(root, "fz_cursor"));
    if (!cursor) cursor = "";
    fz_tg_window(data, size, cursor, ups, n_ups);
    json_decref(root);

    const pp_ruleset *rs = fz_shipped_rules();
    int64_t chat_ids[FZ_TG_MAX_CHATS];
    pp_session *sessions[FZ_TG_MAX_CHATS];
    size_t n_chats = 0, n_texts = 0;
    for (k = 0; k < n_ups && n_texts < FZ_TG_MAX_TEXTS; k++) {
        if (ups[k].kind != PP_TG_TEXT) continue;
        n_texts++;
        const char *text = ups[k].text;
        size_t len = strlen(text);
        fz_tg_split_check(text, len, small);
        size_t c = 0;
        while (c < n_chats && chat_ids[c] != ups[k].chat_id) c++;
        if (c == n_chats) {
            if (n_chats == FZ_TG_MAX_CHATS) c = 0;
            else {
                chat_ids[n_chats] = ups[k].chat_id;
                sessions[n_chats] = pp_session_new();
                FUZZ_CHECK(sessions[n_chats] != NULL);
                n_chats++;
            }
        }
        pp_dialog d;
        memset(&d, 0, sizeof d);
        d.rules = rs;
        d.key = "telegram:fuzz";
        d.session = sessions[c];
        pp_answer a;
        memset(&a, 0, sizeof a);
        if (pp_dialog_turn(&d, text, len, &a) == 0) {
            FUZZ_CHECK(a.text != NULL);
            FUZZ_CHECK(!a.had_reply || !a.reply.input || strlen(a.reply.input) <= PP_MAX_INPUT);
            fz_tg_split_check(a.text, strlen(a.text), PP_TG_MAX_UNITS);
            fz_tg_split_check(a.text, strlen(a.text), small);
        }
        pp_answer_clear(&a);
    }
    for (size_t c = 0; c < n_chats; c++) pp_session_free(sessions[c]);
    tg_updates_free(ups, n_ups);
    return 0;
}
