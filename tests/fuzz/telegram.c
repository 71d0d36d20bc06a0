/* telegram.c -- fuzz target: what the Telegram bot does with a getUpdates
 * response, through the functions bots/telegram.h exposes.
 *
 * The bot's own update parser (take_update/take_updates) is static in
 * bots/telegram.c and tied to the bot's threads and store, so it cannot be
 * called from here; until a pure pp_tg_parse_updates() is exposed this
 * target covers the narrowest non-static pieces on hostile input:
 *   - the first line of the input as an offset cursor (pp_tg_cursor_parse);
 *   - the input as a getUpdates body (jansson): every message.text goes
 *     through pp_dialog_turn (one session per chat id seen, shipped rules),
 *     and both the text and the reply are split for sendMessage with
 *     pp_tg_split at 4096 units and at a small size taken from the input;
 *   - when the input is not JSON, the raw bytes are split instead.
 * Invariants checked: cursor ids are never below NEXT; split parts are in
 * order, inside the text, never blank, never over the unit limit, and only
 * spaces/newlines are dropped between them.
 */
#include "fuzz.h"
#include "telegram.h"

#include <jansson.h>

#define FZ_TG_MAX_TEXTS 16
#define FZ_TG_MAX_CHATS 4

static void fz_tg_split_check(const char *text, size_t len, size_t max_units)
{
    size_t starts[256], lens[256];
    size_t n = pp_tg_split(text, len, max_units, starts, lens, 256);
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK(starts[i] >= pos);
        FUZZ_CHECK(lens[i] > 0 && starts[i] + lens[i] <= len);
        for (size_t k = pos; k < starts[i]; k++)
            FUZZ_CHECK(text[k] == ' ' || text[k] == '\n');
        FUZZ_CHECK(text[starts[i]] != ' ' && text[starts[i]] != '\n');
        char last = text[starts[i] + lens[i] - 1];
        FUZZ_CHECK(last != ' ' && last != '\n');
        FUZZ_CHECK(pp_tg_utf16_len(text + starts[i], lens[i]) <= max_units);
        pos = starts[i] + lens[i];
    }
    if (n > 0)
        for (size_t k = pos; k < len; k++) FUZZ_CHECK(text[k] == ' ' || text[k] == '\n');
    FUZZ_CHECK(pp_tg_utf16_len(text, len) <= len);
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
    if (pp_tg_cursor_parse(line, &next, done, 8, &n_done) == 0) {
        FUZZ_CHECK(next >= 0);
        FUZZ_CHECK(n_done <= 8);
        for (size_t i = 0; i < n_done; i++) FUZZ_CHECK(done[i] >= next);
    }
}

FUZZ_ENTRY(telegram)
{
    fz_tg_cursor(data, size);
    size_t small = size ? 2 + data[size - 1] % 64 : 2;

    json_error_t je;
    json_t *root = json_loadb((const char *)data, size, 0, &je);
    json_t *result = json_object_get(root, "result");
    if (!json_is_array(result)) {
        fz_tg_split_check((const char *)data, size, PP_TG_MAX_UNITS);
        fz_tg_split_check((const char *)data, size, small);
        json_decref(root);
        return 0;
    }
    const pp_ruleset *rs = fz_shipped_rules();
    int64_t chat_ids[FZ_TG_MAX_CHATS];
    pp_session *sessions[FZ_TG_MAX_CHATS];
    size_t n_chats = 0, n_texts = 0, i;
    json_t *u;
    json_array_foreach(result, i, u) {
        if (n_texts >= FZ_TG_MAX_TEXTS) break;
        json_t *m = json_object_get(u, "message");
        json_t *cid = json_object_get(json_object_get(m, "chat"), "id");
        json_t *jt = json_object_get(m, "text");
        if (!json_is_string(jt)) continue;
        n_texts++;
        const char *text = json_string_value(jt);
        size_t len = json_string_length(jt);
        fz_tg_split_check(text, len, small);
        int64_t id = json_is_integer(cid) ? json_integer_value(cid) : 0;
        size_t c = 0;
        while (c < n_chats && chat_ids[c] != id) c++;
        if (c == n_chats) {
            if (n_chats == FZ_TG_MAX_CHATS) c = 0;
            else {
                chat_ids[n_chats] = id;
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
            fz_tg_split_check(a.text, strlen(a.text), PP_TG_MAX_UNITS);
            fz_tg_split_check(a.text, strlen(a.text), small);
        }
        pp_answer_clear(&a);
    }
    for (size_t c = 0; c < n_chats; c++) pp_session_free(sessions[c]);
    json_decref(root);
    return 0;
}
