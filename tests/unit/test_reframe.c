/* test_reframe.c -- pp_reframe(rs, ) against tests/reframe/complaints.tsv,
 * plus properties on every result, hostile bytes and threads.
 *
 * The corpus is data (see tests/reframe/README.md): each line names the
 * exact set of horsemen and either a golden rewrite (compared byte for
 * byte) or the kind of answer expected (-, GENTLE, TEMPLATE).  Every result
 * must also hold the properties of a gentle start-up: it starts with "I",
 * never says "you always"/"you never", carries no insult from the input,
 * and ends with a request, unless it is praise or the template.  The word
 * lists are the shipped ones (responses/reframe.words), loaded with the
 * rules once for every test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pushpull.h"

#define TEMPLATE "I feel ___ when ___. I need ___. Would you be willing to ___?"

static pp_ruleset *rs;   /* the shipped rules and responses, read-only */

static int load_shipped(void **state)
{
    (void)state;
    char rdir[4096], sdir[4096];
    const char *src = getenv("SRC") ? getenv("SRC") : ".";
    snprintf(rdir, sizeof rdir, "%s/rules", src);
    snprintf(sdir, sizeof sdir, "%s/responses", src);
    pp_load_options o = { rdir, sdir, NULL };
    pp_errors e;
    pp_errors_init(&e);
    rs = pp_rules_load(&o, &e);
    for (size_t i = 0; i < e.count; i++) fprintf(stderr, "%s\n", e.msg[i]);
    pp_errors_clear(&e);
    return rs ? 0 : -1;
}

static int free_shipped(void **state)
{
    (void)state;
    pp_rules_free(rs);
    return 0;
}

/* Words the rewrite must never repeat from the input. */
static const char *const insults[] = {
    "idiot", "moron", "loser", "pathetic", "stupid", "lazy", "selfish", "useless", "genius",
    "pig", "brat", "child", "joke", "dramatic", "jerk", "rude", "cold", "negative", "sensitive",
    "always", "never", "whatever", "typical", NULL
};

static int contains_word(const char *hay, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = hay; *p; p++) {
        if (strncasecmp(p, word, n) == 0 && (p == hay || !isalpha((unsigned char)p[-1]))
            && !isalpha((unsigned char)p[n]))
            return 1;
    }
    return 0;
}

static int contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *p = hay; *p; p++)
        if (strncasecmp(p, needle, n) == 0)
            return 1;
    return 0;
}

/* The properties every result must hold; returns a reason or NULL. */
static const char *property_failure(const char *input, const pp_reframe_result *r)
{
    if (!r->text || !r->rewrite || r->n_notes == 0)
        return "missing text, rewrite or notes";
    for (unsigned bit = 1; bit <= PP_HORSEMAN_STONEWALLING; bit <<= 1)
        if ((r->horsemen & bit) && r->n_notes < 2)
            return "a horseman without its note";
    if (r->already_gentle) {
        if (r->template_only || r->horsemen || strcmp(r->rewrite, r->text) != 0)
            return "praise must keep the text and find no horseman";
        return NULL;
    }
    if (r->template_only)
        return strcmp(r->rewrite, TEMPLATE) == 0 ? NULL : "template text differs";
    if (strncmp(r->rewrite, "I ", 2) != 0)
        return "rewrite does not start with I";
    if (contains_ci(r->rewrite, "you always") || contains_ci(r->rewrite, "you never"))
        return "rewrite says you always/never";
    size_t n = strlen(r->rewrite);
    if (n == 0 || r->rewrite[n - 1] != '?')
        return "rewrite does not end with a request";
    for (size_t i = 0; insults[i]; i++)
        if (contains_word(input, insults[i]) && contains_word(r->rewrite, insults[i]))
            return "rewrite repeats a blaming word from the input";
    return NULL;
}

static unsigned parse_horsemen(const char *s)
{
    unsigned bits = 0;
    if (strcmp(s, "-") == 0)
        return 0;
    char buf[128];
    snprintf(buf, sizeof buf, "%s", s);
    for (char *save = NULL, *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        unsigned hit = 0;
        for (unsigned bit = 1; bit <= PP_HORSEMAN_STONEWALLING; bit <<= 1)
            if (strcmp(w, pp_horseman_name(bit)) == 0)
                hit = bit;
        if (!hit)
            fail_msg("unknown horseman '%s' in corpus", w);
        bits |= hit;
    }
    return bits;
}

static FILE *open_corpus(void)
{
    char path[4096];
    const char *src = getenv("SRC");
    snprintf(path, sizeof path, "%s/tests/reframe/complaints.tsv", src ? src : ".");
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s (run from the repo root or set SRC)", path);
    return f;
}

static void test_corpus(void **state)
{
    (void)state;
    FILE *f = open_corpus();
    char line[8192];
    int lineno = 0, cases = 0, goldens = 0, gentle = 0, templates = 0, failures = 0;
    unsigned seen = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        char *text = line, *tab1 = strchr(line, '\t');
        char *tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;
        if (!tab1 || !tab2)
            fail_msg("complaints.tsv:%d: needs three tab-separated fields", lineno);
        *tab1 = *tab2 = '\0';
        const char *want_h = tab1 + 1, *want = tab2 + 1;
        unsigned bits = parse_horsemen(want_h);
        seen |= bits;
        pp_reframe_result r;
        assert_int_equal(pp_reframe(rs, text, strlen(text), &r), 0);
        cases++;
        const char *why = NULL;
        if (r.horsemen != bits)
            why = "horsemen differ";
        else if (strcmp(want, "GENTLE") == 0) {
            gentle++;
            if (!r.already_gentle)
                why = "expected praise (already gentle)";
        } else if (strcmp(want, "TEMPLATE") == 0) {
            templates++;
            if (!r.template_only)
                why = "expected the template";
        } else if (r.already_gentle || r.template_only)
            why = "expected a rewrite";
        else if (strcmp(want, "-") != 0) {
            goldens++;
            if (strcmp(r.rewrite, want) != 0)
                why = "golden rewrite differs";
        }
        if (!why)
            why = property_failure(text, &r);
        if (why) {
            failures++;
            char got[128] = "";
            for (unsigned bit = 1; bit <= PP_HORSEMAN_STONEWALLING; bit <<= 1)
                if (r.horsemen & bit)
                    snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s", *got ? "," : "",
                             pp_horseman_name(bit));
            print_message("complaints.tsv:%d: %s\n  input:    %s\n  horsemen: %s (want %s)\n"
                          "  rewrite:  %s\n  want:     %s\n",
                          lineno, why, text, *got ? got : "-", want_h, r.rewrite, want);
        }
        pp_reframe_clear(&r);
    }
    fclose(f);
    print_message("reframe corpus: %d cases, %d goldens, %d gentle, %d templates, %d failures\n",
                  cases, goldens, gentle, templates, failures);
    assert_int_equal(failures, 0);
    assert_true(cases >= 130);
    assert_true(goldens >= 40);
    assert_true(gentle >= 5);
    assert_true(templates >= 5);
    assert_int_equal(seen, 0xFu);   /* every horseman is covered */
}

static void test_names_and_errors(void **state)
{
    (void)state;
    assert_string_equal(pp_horseman_name(PP_HORSEMAN_CRITICISM), "criticism");
    assert_string_equal(pp_horseman_name(PP_HORSEMAN_CONTEMPT), "contempt");
    assert_string_equal(pp_horseman_name(PP_HORSEMAN_DEFENSIVENESS), "defensiveness");
    assert_string_equal(pp_horseman_name(PP_HORSEMAN_STONEWALLING), "stonewalling");
    assert_string_equal(pp_horseman_name(0x30), "");
    assert_int_equal(pp_reframe(rs, "x", 1, NULL), PP_EINPUT);
    pp_reframe_result r;
    assert_int_equal(pp_reframe(rs, NULL, 5, &r), 0);    /* nothing: the template */
    assert_true(r.template_only);
    pp_reframe_clear(&r);
    pp_reframe_clear(&r);                            /* twice is harmless */
    pp_reframe_clear(NULL);
    assert_int_equal(pp_reframe(NULL, "x", 1, &r), PP_EINPUT);   /* no word lists */
    pp_reframe_clear(&r);
    /* clauses that end where the reader looks one word further */
    static const char *const edges[] = { "do my wife", "are my husband", "does he", "why do", "why",
                                         "never", "he never", "my wife never", "every time",
                                         "and and and", "whenever whenever", "Sam's Sam's", "do you even",
                                         "my husband and", "she always and", NULL };
    for (int i = 0; edges[i]; i++) {
        assert_int_equal(pp_reframe(rs, edges[i], strlen(edges[i]), &r), 0);
        const char *why = property_failure(edges[i], &r);
        if (why) fail_msg("%s: %s: %s", edges[i], why, r.rewrite);
        pp_reframe_clear(&r);
    }
}

/* The same complaint, said with apostrophes dropped, curly quotes, shouting
 * and stray bytes, is read the same way. */
static void test_messy_variants(void **state)
{
    (void)state;
    static const char *const variants[] = {
        "You never listen to me",
        "you never listen to me",
        "YOU NEVER LISTEN TO ME!!!",
        "You   never\tlisten\nto me",
        "You never listen to me \xff\xfe",
        "You never listen to me \xf0\x9f\x98\xa1",
    };
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
        pp_reframe_result r;
        assert_int_equal(pp_reframe(rs, variants[i], strlen(variants[i]), &r), 0);
        assert_int_equal(r.horsemen, PP_HORSEMAN_CRITICISM);
        assert_string_equal(r.rewrite, "I feel alone when you don't listen to me. "
                                       "I need to feel heard. Could we take ten minutes tonight where I "
                                       "talk and you tell me what you heard?");
        pp_reframe_clear(&r);
    }
    /* curly apostrophe in "can’t" */
    const char *curly = "Why can\xe2\x80\x99t you ever put your phone down?";
    pp_reframe_result r;
    assert_int_equal(pp_reframe(rs, curly, strlen(curly), &r), 0);
    assert_int_equal(r.horsemen, PP_HORSEMAN_CRITICISM);
    assert_non_null(strstr(r.rewrite, "when you can't put your phone down."));
    pp_reframe_clear(&r);
}

/* Deterministic random bytes: nothing crashes, properties hold, output is
 * bounded. */
static void test_hostile_bytes(void **state)
{
    (void)state;
    uint64_t x = 0x9E3779B97F4A7C15ull;
    static const char *const words[] = { "you ", "never ", "always ", "idiot ", "dishes ", "phone ",
                                         "fine. ", "I feel ", "could we ", "?", "'", "\\", "(", "*",
                                         "\xc3\xa9", "\xff", "\x00", "\n" };
    char buf[6000];
    for (int iter = 0; iter < 1500; iter++) {
        size_t len = 0, want = (size_t)(iter * 7 % 5000) + 1;
        while (len < want) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            if (x & 1) {
                buf[len++] = (char)(x >> 8);
            } else {
                const char *w = words[(x >> 8) % (sizeof words / sizeof words[0])];
                size_t wl = strlen(w);
                if (wl == 0)
                    wl = 1;   /* the NUL byte */
                for (size_t k = 0; k < wl && len < want; k++)
                    buf[len++] = w[k];
            }
        }
        pp_reframe_result r;
        assert_int_equal(pp_reframe(rs, buf, len, &r), 0);
        assert_true(strlen(r.text) <= PP_MAX_INPUT);
        const char *why = property_failure(r.text, &r);
        if (why)
            fail_msg("iteration %d: %s: %s", iter, why, r.rewrite);
        pp_reframe_clear(&r);
    }
}

/* Inputs shaped to make backtracking patterns slow finish (the match and
 * depth limits turn a runaway match into "no match"). */
static void test_pathological(void **state)
{
    (void)state;
    static const char *const units[] = { "you ", "a", "you you ", "I feel ", "why can't you ",
                                         "my partner ", "oh ", "! ", "aaaa " };
    char *big = malloc(200000);
    assert_non_null(big);
    for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
        size_t n = 0, ul = strlen(units[u]);
        while (n + ul < 200000 - 1) {
            memcpy(big + n, units[u], ul);
            n += ul;
        }
        pp_reframe_result r;
        assert_int_equal(pp_reframe(rs, big, n, &r), 0);
        assert_null(property_failure(r.text, &r));
        pp_reframe_clear(&r);
    }
    free(big);
}

typedef struct worker {
    const char *input;
    const char *want;
    int failures;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < 300; i++) {
        pp_reframe_result r;
        if (pp_reframe(rs, w->input, strlen(w->input), &r) != 0 || strcmp(r.rewrite, w->want) != 0)
            w->failures++;
        pp_reframe_clear(&r);
    }
    return NULL;
}

/* Many threads at once on one rule set's word lists. */
static void test_threads(void **state)
{
    (void)state;
    static const char *const inputs[] = { "You always leave your dishes in the sink", "Fine.",
                                          "That's not true, I do plenty around here", "hello" };
    const char *wants[4];
    pp_reframe_result r[4];
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pp_reframe(rs, inputs[i], strlen(inputs[i]), &r[i]), 0);
        wants[i] = r[i].rewrite;
    }
    pthread_t t[8];
    worker w[8];
    for (int i = 0; i < 8; i++) {
        w[i] = (worker){ inputs[i % 4], wants[i % 4], 0 };
        assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].failures, 0);
    }
    for (int i = 0; i < 4; i++)
        pp_reframe_clear(&r[i]);
}

/* The situation in the complaint's own words: the question and "never"
 * turned into a statement, the partner said of as "you", the insult and
 * the verdict left out, the tense kept. */
static void test_objects_and_tense(void **state)
{
    (void)state;
    struct { const char *in, *want; } cases[] = {
        { "You never do the laundry", "I feel overwhelmed when you don't do the laundry." },
        { "He never does the dishes", "I feel overwhelmed when you don't do the dishes." },
        { "You left the dishes again last night", "I felt overwhelmed when you left the dishes last night." },
        { "My MIL always criticises how I cook and you say nothing",
          "I feel torn when my mil criti" },
        { "you're such an idiot, you never call me back",
          "I feel worried when you don't call me back." },
        { "why does she always have to be on her phone", "I feel shut out when you're on your phone." },
        { "Do you even know what I do all day?", "I feel unseen when you don't know what I do." },
        { "Why do you always have to make everything about you? You're so selfish",
          "I feel unimportant when you make everything about you. I need to feel that my side matters" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pp_reframe_result r;
        assert_int_equal(pp_reframe(rs, cases[i].in, strlen(cases[i].in), &r), 0);
        if (strncmp(r.rewrite, cases[i].want, strlen(cases[i].want)) != 0)
            fail_msg("%s\n  got:  %s\n  want: %s...", cases[i].in, r.rewrite, cases[i].want);
        assert_null(property_failure(cases[i].in, &r));
        pp_reframe_clear(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_corpus),
        cmocka_unit_test(test_names_and_errors),
        cmocka_unit_test(test_messy_variants),
        cmocka_unit_test(test_objects_and_tense),
        cmocka_unit_test(test_hostile_bytes),
        cmocka_unit_test(test_pathological),
    };
    return cmocka_run_group_tests(tests, load_shipped, free_shipped);
}
