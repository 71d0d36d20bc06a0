/* reply.c -- fuzz target: the whole reply path, bytes in, reply out, one
 * session carried across turns.
 *
 * The shipped rules (rules/, responses/) are loaded once.  Each input is a
 * conversation: it is split on '\n' and every line (commands included:
 * /why, /reset, /reframe, /forget...) goes through pp_dialog_turn with one
 * session.  After every third turn the session is saved to JSON, loaded
 * into a fresh session and saved again; the two JSON texts must be equal,
 * and the conversation goes on with the reloaded session.  Invariants: a
 * turn that succeeds has a reply text; a reply's normalised input is valid
 * for the engine (bounded by PP_MAX_INPUT).
 */
#include "fuzz.h"

#define FZ_REPLY_MAX_TURNS 64


FUZZ_ENTRY(reply)
{
    const pp_ruleset *rs = fz_shipped_rules();
    pp_session *s = pp_session_new();
    FUZZ_CHECK(s != NULL);
    pp_dialog d;
    memset(&d, 0, sizeof d);
    d.rules = rs;
    d.key = "fuzz:reply";
    d.session = s;
    size_t start = 0, turns = 0;
    while (start <= size && turns < FZ_REPLY_MAX_TURNS) {
        const uint8_t *nl = memchr(data + start, '\n', size - start);
        size_t end = nl ? (size_t)(nl - data) : size;
        pp_answer a;
        memset(&a, 0, sizeof a);
        int rc = pp_dialog_turn(&d, (const char *)data + start, end - start, &a);
        if (rc == 0) {
            FUZZ_CHECK(a.text != NULL);
            if (a.had_reply) {
                FUZZ_CHECK(a.reply.text != NULL);
                FUZZ_CHECK(a.reply.input == NULL || strlen(a.reply.input) <= PP_MAX_INPUT);
            }
        }
        pp_answer_clear(&a);
        turns++;
        if (turns % 3 == 0) {
            pp_session *t = fz_session_roundtrip(s);
            pp_session_free(s);
            s = t;
            d.session = s;
        }
        if (!nl) break;
        start = end + 1;
    }
    pp_session_free(s);
    return 0;
}
