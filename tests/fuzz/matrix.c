/* matrix.c -- fuzz target: what the Matrix bot does with a /sync response,
 * through the functions it shares with the library.
 *
 * The bot's sync parser (mx_handle_batch in bots/matrix.c) is static and
 * makes HTTP calls as it goes (joined_members, leave, send), so it cannot be
 * driven from a fuzzer; until a pure pp_mx_parse_sync() is exposed this
 * target covers what the bot does with the strings of a hostile /sync
 * body, via the non-static functions it calls:
 *   - every string in the JSON (room ids, event ids, senders, errcodes)
 *     is quoted for a log line with pp_net_quote, as mx_q() does, into a
 *     small and a large buffer: the result must be bounded, free of control
 *     bytes and newlines, and never leave a quote unescaped;
 *   - every string is redacted with pp_net_redact against a secret taken
 *     from the input (the access token): the secret must be gone after;
 *   - every m.room.message body in rooms.join.*.timeline.events goes
 *     through pp_dialog_turn with one session per room (shipped rules).
 */
#include "fuzz.h"
#include "net.h"

#include <jansson.h>

#define FZ_MX_MAX_STRINGS 256
#define FZ_MX_MAX_BODIES  16

static void fz_mx_quote_check(const char *s, size_t outlen)
{
    char out[512];
    FUZZ_CHECK(outlen <= sizeof out);
    const char *q = pp_net_quote(s, out, outlen);
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

static void fz_mx_strings(json_t *j, const char *secret, size_t *budget)
{
    if (*budget == 0) return;
    if (json_is_string(j)) {
        (*budget)--;
        const char *s = json_string_value(j);
        fz_mx_quote_check(s, 64);
        fz_mx_quote_check(s, 300);
        char *copy = strdup(s);
        FUZZ_CHECK(copy != NULL);
        pp_net_redact(copy, secret);
        if (secret[0] && strlen(secret) >= 4) FUZZ_CHECK(strstr(copy, secret) == NULL);
        free(copy);
    } else if (json_is_object(j)) {
        const char *k;
        json_t *v;
        json_object_foreach(j, k, v) {
            fz_mx_quote_check(k, 64);
            fz_mx_strings(v, secret, budget);
        }
    } else if (json_is_array(j)) {
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v) fz_mx_strings(v, secret, budget);
    }
}

FUZZ_ENTRY(matrix)
{
    json_error_t je;
    json_t *root = json_loadb((const char *)data, size, 0, &je);
    if (!root) return 0;
    const char *tok = json_string_value(json_object_get(root, "access_token"));
    char secret[128];
    snprintf(secret, sizeof secret, "%s", tok ? tok : "syt_fuzz_secret");
    size_t budget = FZ_MX_MAX_STRINGS;
    fz_mx_strings(root, secret, &budget);

    const pp_ruleset *rs = fz_shipped_rules();
    size_t bodies = 0;
    const char *rid;
    json_t *room;
    json_object_foreach(json_object_get(json_object_get(root, "rooms"), "join"), rid, room) {
        pp_session *s = NULL;
        json_t *tl = json_object_get(json_object_get(room, "timeline"), "events");
        size_t i;
        json_t *ev;
        json_array_foreach(tl, i, ev) {
            if (bodies >= FZ_MX_MAX_BODIES) break;
            const char *t = json_string_value(json_object_get(ev, "type"));
            json_t *bj = json_object_get(json_object_get(ev, "content"), "body");
            if (!t || strcmp(t, "m.room.message") != 0 || !json_is_string(bj)) continue;
            bodies++;
            if (!s) { s = pp_session_new(); FUZZ_CHECK(s != NULL); }
            pp_dialog d;
            memset(&d, 0, sizeof d);
            d.rules = rs;
            d.key = "matrix:fuzz";
            d.session = s;
            pp_answer a;
            memset(&a, 0, sizeof a);
            if (pp_dialog_turn(&d, json_string_value(bj), json_string_length(bj), &a) == 0)
                FUZZ_CHECK(a.text != NULL);
            pp_answer_clear(&a);
        }
        pp_session_free(s);
    }
    json_decref(root);
    return 0;
}
