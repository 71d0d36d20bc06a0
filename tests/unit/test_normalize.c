/* test_normalize.c -- the Unicode direction controls (marks, embeddings,
 * overrides, isolates) never survive normalisation: not in the text rules
 * see, not in a partner's name or a fallback that quotes the user back, and
 * they cannot hide a crisis sentence from the safety rules.
 * Fixtures: tests/fixtures/basic and the shipped rules/ and responses/. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pushpull.h"

/* Every direction control: LRM, RLM, ALM, LRE..RLO, LRI..PDI. */
static const unsigned controls[] = {
    0x200E, 0x200F, 0x061C, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E,
    0x2066, 0x2067, 0x2068, 0x2069
};
#define N_CONTROLS (sizeof controls / sizeof controls[0])

static char fixture_rules[4096], fixture_responses[4096], shipped_rules[4096],
            shipped_responses[4096];

/* The UTF-8 of a code point of two or three bytes, NUL-terminated. */
static void encode(unsigned cp, char out[4])
{
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        out[2] = '\0';
    } else {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        out[3] = '\0';
    }
}

/* The first direction control found in s, or 0. */
static unsigned control_in(const char *s)
{
    for (size_t i = 0; i < N_CONTROLS; i++) {
        char enc[4];
        encode(controls[i], enc);
        if (strstr(s, enc)) return controls[i];
    }
    return 0;
}

static pp_ruleset *load(const char *rules, const char *responses)
{
    pp_load_options o = { rules, responses, NULL };
    pp_errors e;
    pp_errors_init(&e);
    pp_ruleset *rs = pp_rules_load(&o, &e);
    for (size_t i = 0; i < e.count; i++) fprintf(stderr, "%s\n", e.msg[i]);
    pp_errors_clear(&e);
    return rs;
}

static void test_normalize_drops_controls(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_CONTROLS; i++) {
        char enc[4], in[64];
        encode(controls[i], enc);
        snprintf(in, sizeof in, "%sab%s c%s", enc, enc, enc);
        size_t n;
        const char *notice;
        char *out = pp_input_normalize(in, strlen(in), &n, &notice);
        assert_non_null(out);
        if (strcmp(out, "ab c") != 0)
            fail_msg("U+%04X: normalised to '%s'", controls[i], out);
        assert_null(notice);
        free(out);
    }
}

/* A name the partner rule learns and a fallback that quotes the message:
 * neither brings a control back into the reply. */
static void test_reply_never_echoes_controls(void **state)
{
    (void)state;
    pp_ruleset *rs = load(fixture_rules, fixture_responses);
    assert_non_null(rs);
    for (size_t i = 0; i < N_CONTROLS; i++) {
        char enc[4], name[64], echo[64];
        encode(controls[i], enc);
        snprintf(name, sizeof name, "S%sam%s pulls away", enc, enc);
        snprintf(echo, sizeof echo, "%szorp%s quux %s", enc, enc, enc);
        pp_session *s = pp_session_new();
        assert_non_null(s);
        pp_reply r;
        assert_int_equal(pp_reply_make(rs, s, name, strlen(name), &r), 0);
        if (control_in(r.text) || !strstr(r.text, "When Sam pull"))
            fail_msg("U+%04X in a name: '%s'", controls[i], r.text);
        pp_reply_clear(&r);
        int echoed = 0;
        for (int turn = 0; turn < 6 && !echoed; turn++) {
            assert_int_equal(pp_reply_make(rs, s, echo, strlen(echo), &r), 0);
            if (control_in(r.text) || control_in(r.input))
                fail_msg("U+%04X echoed: '%s'", controls[i], r.text);
            echoed = strstr(r.text, "zorp quux") != NULL;
            pp_reply_clear(&r);
        }
        if (!echoed) fail_msg("U+%04X: no fallback quoted the message back", controls[i]);
        pp_session_free(s);
    }
    pp_rules_free(rs);
}

/* "I want to<RLM> die" is a crisis sentence, for the shipped rules too. */
static void test_crisis_through_controls(void **state)
{
    (void)state;
    const char *sets[2][2] = {
        { fixture_rules, fixture_responses }, { shipped_rules, shipped_responses }
    };
    for (int k = 0; k < 2; k++) {
        pp_ruleset *rs = load(sets[k][0], sets[k][1]);
        assert_non_null(rs);
        for (size_t i = 0; i < N_CONTROLS; i++) {
            char enc[4], in[64];
            encode(controls[i], enc);
            snprintf(in, sizeof in, "I want to%s die", enc);
            pp_session *s = pp_session_new();
            assert_non_null(s);
            pp_reply r;
            assert_int_equal(pp_reply_make(rs, s, in, strlen(in), &r), 0);
            if (!r.safety)
                fail_msg("%s: U+%04X hid a crisis sentence (rule %s)", sets[k][0],
                         controls[i], r.rule ? r.rule : "none");
            pp_reply_clear(&r);
            pp_session_free(s);
        }
        pp_rules_free(rs);
    }
}

int main(void)
{
    const char *src = getenv("SRC") ? getenv("SRC") : ".";
    snprintf(fixture_rules, sizeof fixture_rules, "%s/tests/fixtures/basic/rules", src);
    snprintf(fixture_responses, sizeof fixture_responses, "%s/tests/fixtures/basic/responses", src);
    snprintf(shipped_rules, sizeof shipped_rules, "%s/rules", src);
    snprintf(shipped_responses, sizeof shipped_responses, "%s/responses", src);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalize_drops_controls),
        cmocka_unit_test(test_reply_never_echoes_controls),
        cmocka_unit_test(test_crisis_through_controls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
