/* test_index.c -- the candidate index never loses a match (cmocka).
 *
 * Every case compiles real PCRE2 patterns exactly as the engine does (UTF,
 * UCP, CASELESS, DUPNAMES), runs the real match, and checks that every
 * pattern that matches a text is among the index's candidates for it: a
 * false negative would silently break a rule.  Other cases check that the
 * index is actually selective (a do-nothing index would pass the first kind
 * of test), that ids come back ascending and without repeats, and that a
 * seeded random mix of pattern shapes and tricky texts (Unicode case
 * folding, underscores, apostrophes, digits glued to words) finds no false
 * negative either.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "index.h"

#define OPTS (PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS | PCRE2_DUPNAMES)

typedef struct fixture {
    ppx_index *ix;
    ppx_scratch *sc;
    pcre2_code **code;
    size_t n;
    uint32_t *out;
    pcre2_match_data *md;
} fixture;

static void build(fixture *f, const char *const *pats, size_t n)
{
    memset(f, 0, sizeof *f);
    f->ix = ppx_new();
    assert_non_null(f->ix);
    f->code = calloc(n ? n : 1, sizeof *f->code);
    assert_non_null(f->code);
    f->n = n;
    for (size_t i = 0; i < n; i++) {
        int err;
        PCRE2_SIZE off;
        f->code[i] = pcre2_compile((PCRE2_SPTR)pats[i], PCRE2_ZERO_TERMINATED, OPTS, &err, &off, NULL);
        if (!f->code[i]) {
            PCRE2_UCHAR msg[120];
            pcre2_get_error_message(err, msg, sizeof msg);
            fail_msg("pattern %zu /%s/ does not compile: %s", i, pats[i], (char *)msg);
        }
        assert_int_equal(ppx_add(f->ix, (uint32_t)i, pats[i], f->code[i]), 0);
    }
    assert_int_equal(ppx_finish(f->ix), 0);
    f->sc = ppx_scratch_new(f->ix);
    assert_non_null(f->sc);
    f->out = calloc(n ? n : 1, sizeof *f->out);
    assert_non_null(f->out);
    f->md = pcre2_match_data_create(4, NULL);
    assert_non_null(f->md);
}

static void teardown_fixture(fixture *f)
{
    for (size_t i = 0; i < f->n; i++) pcre2_code_free(f->code[i]);
    free(f->code);
    free(f->out);
    pcre2_match_data_free(f->md);
    ppx_scratch_free(f->sc);
    ppx_free(f->ix);
}

static int matches(fixture *f, size_t i, const char *text)
{
    int rc = pcre2_match(f->code[i], (PCRE2_SPTR)text, strlen(text), 0, 0, f->md, NULL);
    return rc >= 0;
}

/* Candidates for text; checks ascending order and no repeats. */
static size_t cands(fixture *f, const char *text)
{
    size_t k = ppx_candidates(f->ix, f->sc, text, strlen(text), f->out);
    assert_true(k <= f->n);
    for (size_t i = 1; i < k; i++) assert_true(f->out[i - 1] < f->out[i]);
    return k;
}

static int has(const fixture *f, size_t k, uint32_t id)
{
    for (size_t i = 0; i < k; i++) if (f->out[i] == id) return 1;
    return 0;
}

/* Every matching pattern is a candidate.  Returns how many matched. */
static size_t check_no_false_negative(fixture *f, const char *text)
{
    size_t k = cands(f, text), hits = 0;
    for (size_t i = 0; i < f->n; i++) {
        if (!matches(f, i, text)) continue;
        hits++;
        if (!has(f, k, (uint32_t)i))
            fail_msg("false negative: pattern %zu does match \"%s\" but is not a candidate", i, text);
    }
    return hits;
}

/* ---- hand-written tricky cases ----------------------------------------- */

typedef struct tcase { const char *pattern, *text; int match; } tcase;

static const tcase tricky[] = {
    /* alternations, top level and nested */
    { "he pulls away|she withdraws", "Lately SHE WITHDRAWS a lot", 1 },
    { "he pulls away|she withdraws", "he pulls away", 1 },
    { "(?:what|who) is item3", "who is item3", 1 },
    { "\\b(?:my )?(?:wife|husband)\\b", "MY HUSBAND again", 1 },
    { "\\b(?:my )?(?:wife|husband)\\b", "wife", 1 },
    /* optional groups: the optional word is not required */
    { "^(?:please )?tell me about thing7$", "tell me about thing7", 1 },
    { "^(?:please )?tell me about thing7$", "please tell me about thing7", 1 },
    { "pull(?:s|ed|ing)?\\s+(?:away|back)", "she pulled back", 1 },
    { "pull(?:s|ed|ing)?\\s+(?:away|back)", "he pull away", 1 },
    { "pull(?:s|ed|ing)?\\s+(?:away|back)", "he repulls away", 1 },
    { "with\\s?draw(?:s|n|ing)?", "he withdrawing", 1 },
    { "with\\s?draw(?:s|n|ing)?", "with draw", 1 },
    { "\\bwith\\s?draw(?:s|n|ing)?\\b", "withdrawn", 1 },
    /* character classes are not literals */
    { "wom[ae]n", "women", 1 },
    { "\\bwom[ae]n\\b", "Woman", 1 },
    { "[hs]e left", "she left", 1 },
    { "[^a-z]ok\\b", "1ok", 1 },
    { "\\bgo[ -]?away\\b", "go-away", 1 },
    { "\\bgo[ -]?away\\b", "goaway", 1 },
    /* case-insensitivity including Unicode folding to ASCII letters */
    { "\\bask\\b", "please as\xe2\x84\xaa now", 1 },          /* KELVIN SIGN */
    { "\\bsad\\b", "so \xc5\xbf" "ad", 1 },                  /* LONG S */
    { "\\bkiss\\b", "\xe2\x84\xaaI\xc5\xbfS", 1 },
    { "caf\xc3\xa9", "CAF\xc3\x89 time", 1 },
    { "\\bna\xc3\xafve\\b", "so NA\xc3\x8fVE", 1 },
    { "\xe2\x84\xaa" "elvin", "kelvin", 1 },
    { "stra\xc3\x9f" "e", "STRASSE", 0 },
    { "\\bhello\\b", "HeLLo", 1 },
    { "(?-i)Hello", "Hello", 1 },
    { "(?i)HELLO", "hello", 1 },
    { "a(?i:BC)d", "aBcd", 1 },
    /* \b against Unicode word characters and punctuation */
    { "\\bfoo\\b", "\xc3\xa9 foo", 1 },
    { "\\bfoo\\b", "\xc3\xa9" "foo", 0 },
    { "\\bfoo\\b", "\xe2\x80\x99" "foo\xe2\x80\x99", 1 },
    { "\\bfoo\\b", "x_foo", 0 },
    { "\\bfoo", "_foo", 0 },
    { "foo\\b", "afoo bar", 1 },
    { "\\bdon'?t\\b", "i DONT know", 1 },
    { "\\bdon'?t\\b", "i don't know", 1 },
    { "\\bit'?s\\b", "it\xe2\x80\x99s", 0 },
    { "foo_bar", "x foo_bar y", 1 },
    { "\\bfoo_bar\\b", "afoo_bar", 0 },
    { "\\d+ times", "asked 12 times", 1 },
    { "\\btopic12\\b", "topic12", 1 },
    { "\\btopic1\\b", "topic12", 0 },
    { "thing12", "about thing123", 1 },
    { "^i like topic5\\b.*$", "i like topic5 very much", 1 },
    { "^i like topic5\\b.*$", "i like topic5", 1 },
    { "^i like topic5\\b.*$", "i like topic5, very much", 1 },
    /* lookarounds: a negative lookahead's words are not required */
    { "\\bcall(?!ed)", "call me", 1 },
    { "\\bcall(?!ed)", "calling", 1 },
    { "(?<!not )\\bhappy\\b", "i am happy", 1 },
    { "(?=.*\\bsad\\b)i feel", "i feel sad", 1 },
    { "(?<=my )wife", "my wife", 1 },
    { "(?<![a-z])he(?= )", "he left", 1 },
    /* named groups, quantifiers, escapes */
    { "(?<partner>my wife|my husband|he|she)\\s+(?:\\w+\\s+){0,3}?(?:ignores|ignored)\\b", "my wife always ignores me", 1 },
    { "(?<partner>my wife|my husband|he|she)\\s+(?:\\w+\\s+){0,3}?(?:ignores|ignored)\\b", "He ignored me", 1 },
    { "(?'who'he|she) left", "she left", 1 },
    { "(?P<who>he|she) left", "he left", 1 },
    { "(?P<who>he|she) (?P=who)?left", "he left", 1 },
    { "\\b(\\w+) and \\1\\b", "again and again", 1 },
    { "ha{2,}\\b", "haaa", 1 },
    { "\\bha{1}\\b", "ha", 1 },
    { "(?:ha){2,4}", "hahaha", 1 },
    { "(?:\\bhe\\b\\s*){3}", "he he he", 1 },
    { "x{0}yes", "yes", 1 },
    { "\\x{48}ello", "hello", 1 },
    { "\\x48ello", "hello", 1 },
    { "\\110ello", "hello", 1 },
    { "\\N{U+0048}ello", "hello", 1 },
    { "\\p{Lu}ello", "Hello", 1 },
    { "\\pLello", "hello", 1 },
    { "\\u0048ello", NULL, 0 },   /* not valid PCRE2: skipped */
    { "a\\.b", "a.b", 1 },
    { "\\Qa.b\\E", "a.b", 1 },
    { "(?#comment)hello", "hello", 1 },
    /* positive lookarounds: what they look for is a requirement too */
    { "x(?=[^|]* ~away(?!\\w))", "x ~away", 1 },
    { "(?:^|\\| )@p(?=[^|:]* ~away(?![\\w]))[^|]*", "@u ~toward | @p ~away : he go", 1 },
    { "(?<=ab)c", "abc", 1 },
    { "(?<=\\bhe )goes", "he goes", 1 },
    { "(?=(?:he|she) )\\w+ left", "she left", 1 },
    { "(?=.*\\bwin)\\w+", "we win", 1 },
    { "(?!foo)bar", "bar", 1 },
    { "(?=away)awayness", "awayness", 1 },
    { "(?x) h e l l o ", "hello", 1 },
    { "(?>hel|he)lo", "hello", 1 },
    { "(?|(a)|(b))c", "bc", 1 },
    { "(?(?=x)xy|ab)", "ab", 1 },
    { "(a)(?1)", "aa", 1 },
    { "(*UCP)hi", "hi", 1 },
    { "a{,3}", "a{,3}", 1 },
    { "\\Ahello\\z", "hello", 1 },
    { "hello\\Z", "hello\n", 1 },
    { "(?m)^yes$", "no\nyes\nok", 1 },
    { "\\R", "a\r\nb", 1 },
    { "\\bword\\W+next", "word, next", 1 },
    { "\\bword\\s+next", "word\xc2\xa0next", 1 },
    { "ab\\Kcd", "abcd", 1 },
    { "[]a]x", "]x", 1 },
    { "[^]a]x", "bx", 1 },
    { "[[:alpha:]]x", "ax", 1 },
    { "[\\]]x", "]x", 1 },
    { "", "anything", 1 },
    { "x?", "anything", 1 },
    { ".*", "", 1 },
    { "\\bverylongliteralwordthatgoesonandonandonforeverandeverandmoreletters\\b",
      "a verylongliteralwordthatgoesonandonandonforeverandeverandmoreletters b", 1 },
    { "xverylongliteralwordthatgoesonandonandonforeverandeverandmoreletters\\b",
      "axverylongliteralwordthatgoesonandonandonforeverandeverandmoreletters b", 1 },
    { "\\bverylongliteralwordthatgoesonandonandonforeverandeverandmorelettersx",
      "verylongliteralwordthatgoesonandonandonforeverandeverandmorelettersxyz", 1 },
};

static void test_tricky_cases(void **state)
{
    (void)state;
    size_t n = sizeof tricky / sizeof tricky[0];
    const char **pats = calloc(n, sizeof *pats);
    assert_non_null(pats);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (!tricky[i].text) continue;
        pats[m++] = tricky[i].pattern;
    }
    fixture f;
    build(&f, pats, m);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (!tricky[i].text) continue;
        /* the case says what PCRE2 does; a wrong expectation is a bad case */
        if (matches(&f, j, tricky[i].text) != tricky[i].match)
            fail_msg("case %zu: /%s/ on \"%s\": pcre2 says %d", i, tricky[i].pattern,
                     tricky[i].text, !tricky[i].match);
        check_no_false_negative(&f, tricky[i].text);
        j++;
    }
    teardown_fixture(&f);
    free(pats);
}

/* ---- the index is selective -------------------------------------------- */

static void test_selective(void **state)
{
    (void)state;
    static const char *const pats[] = {
        "^hello word0$",                            /* 0: exact words */
        "^i like topic1\\b.*$",                     /* 1 */
        "^(?:please )?tell me about thing2$",       /* 2 */
        "^(?:what|who) is item3$",                  /* 3 */
        "\\bpull(?:s|ed|ing)?\\s+away",             /* 4: prefix "pull" */
        "(?:ignores|ignored) me\\b",                /* 5 */
        "[a-z]+ing",                                /* 6: no boundary at all */
        "\\w+",                                     /* 7: nothing required */
        "\\bwom[ae]n\\b",                           /* 8: prefix "wom" */
        "\\bcheat(?:s|ed|ing)?\\b",                 /* 9: prefix "cheat" */
    };
    fixture f;
    build(&f, pats, 10);
    assert_int_equal(ppx_always(f.ix), 2);   /* 6 and 7 */
    assert_true(ppx_is_always(f.ix, 6));
    assert_true(ppx_is_always(f.ix, 7));
    for (uint32_t i = 0; i < 6; i++) assert_false(ppx_is_always(f.ix, i));

    size_t k = cands(&f, "hello word0");
    assert_int_equal(k, 3);                       /* 0, and the two always */
    assert_int_equal(f.out[0], 0);
    assert_int_equal(f.out[1], 6);
    assert_int_equal(f.out[2], 7);

    k = cands(&f, "zzz unmatched sentence 5");
    assert_int_equal(k, 2);

    k = cands(&f, "she PULLED away, women");
    assert_true(has(&f, k, 4));
    assert_true(has(&f, k, 8));
    assert_false(has(&f, k, 0));
    assert_false(has(&f, k, 5));

    k = cands(&f, "he ignored me");
    assert_true(has(&f, k, 5));
    assert_false(has(&f, k, 3));
    teardown_fixture(&f);
}

/* A `clause:` pattern's concepts sit in lookaheads: they make it
 * selective. */
static void test_lookahead_selective(void **state)
{
    (void)state;
    static const char *const pats[] = {
        "(?:^|\\| )@p(?=[^|:]* ~away(?![\\w]))(?=[^|:]* ~~?long_distance(?![\\w]))[^|]*",
        "(?:^|\\| )@u(?![^|:]* ~away(?![\\w]))[^|]*",   /* negative: proves nothing */
    };
    fixture f;
    build(&f, pats, 2);
    assert_false(ppx_is_always(f.ix, 0));
    size_t k = cands(&f, "@p ~toward : he text");
    assert_false(has(&f, k, 0));
    k = cands(&f, "@p ~away : he pull away");
    assert_false(has(&f, k, 0));                  /* no ~long_distance */
    k = cands(&f, "@p ~away ~~long_distance : he pull away");
    assert_true(has(&f, k, 0));
    check_no_false_negative(&f, "@p ~away ~~long_distance : he pull away");
    check_no_false_negative(&f, "@u ~toward : i text");
    teardown_fixture(&f);
}

/* Synth-shaped rule sets: one candidate per message at any size. */
static void test_synth_scale(void **state)
{
    (void)state;
    enum { N = 2000 };
    char **pats = calloc(N, sizeof *pats);
    assert_non_null(pats);
    for (int i = 0; i < N; i++) {
        char buf[80];
        switch (i % 4) {
        case 0: snprintf(buf, sizeof buf, "^hello word%d$", i); break;
        case 1: snprintf(buf, sizeof buf, "^i like topic%d\\b.*$", i); break;
        case 2: snprintf(buf, sizeof buf, "^(?:please )?tell me about thing%d$", i); break;
        default: snprintf(buf, sizeof buf, "^(?:what|who) is item%d$", i); break;
        }
        pats[i] = strdup(buf);
        assert_non_null(pats[i]);
    }
    fixture f;
    build(&f, (const char *const *)pats, N);
    assert_int_equal(ppx_always(f.ix), 0);
    for (int i = 0; i < N; i += 37) {
        char msg[80];
        switch (i % 4) {
        case 0: snprintf(msg, sizeof msg, "hello word%d", i); break;
        case 1: snprintf(msg, sizeof msg, "i like topic%d very much", i); break;
        case 2: snprintf(msg, sizeof msg, "please tell me about thing%d", i); break;
        default: snprintf(msg, sizeof msg, "who is item%d", i); break;
        }
        size_t k = cands(&f, msg);
        assert_int_equal(k, 1);
        assert_int_equal(f.out[0], (uint32_t)i);
        assert_true(matches(&f, (size_t)i, msg));
    }
    assert_int_equal(cands(&f, "zzz unmatched sentence 1"), 0);
    teardown_fixture(&f);
    for (int i = 0; i < N; i++) free(pats[i]);
    free(pats);
}

/* ---- seeded random mix ------------------------------------------------- */

static uint32_t rng_state = 2463534242u;
static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state % n;
}

static const char *const words[] = {
    "he", "she", "my", "wife", "pull", "pulls", "away", "ask", "sad", "item3",
    "word12", "don", "t", "it", "s", "a", "ha", "foo", "bar", "k",
};
/* Text pieces: words plus separators and look-alikes. */
static const char *const text_pieces[] = {
    "he", "She", "MY", "wife", "pull", "pulls", "PULLED", "away", "ask", "sad",
    "item3", "word12", "word123", "don't", "dont", "it\xe2\x80\x99s", "a", "ha", "haha",
    "foo", "bar", "foo_bar", "k", "\xe2\x84\xaa", "as\xe2\x84\xaa", "\xc5\xbf" "ad",
    "\xc3\xa9", "caf\xc3\xa9", "-", ",", "'", "_", "1", "x",
};
static const char *const seps[] = { " ", " ", " ", "", "-", ", ", "_", "\xc2\xa0", "'" };

static void random_pattern(char *buf, size_t cap)
{
    size_t len = 0;
    int items = 1 + (int)rnd(4);
    if (rnd(4) == 0) len += (size_t)snprintf(buf + len, cap - len, "^");
    for (int i = 0; i < items && len < cap - 64; i++) {
        const char *w = words[rnd(sizeof words / sizeof words[0])];
        const char *w2 = words[rnd(sizeof words / sizeof words[0])];
        switch (rnd(12)) {
        case 0: len += (size_t)snprintf(buf + len, cap - len, "\\b%s\\b", w); break;
        case 1: len += (size_t)snprintf(buf + len, cap - len, "(?:%s|%s)", w, w2); break;
        case 2: len += (size_t)snprintf(buf + len, cap - len, "(?:%s )?", w); break;
        case 3: len += (size_t)snprintf(buf + len, cap - len, "%s(?:s|ed)?", w); break;
        case 4: len += (size_t)snprintf(buf + len, cap - len, "[ -]"); break;
        case 5: len += (size_t)snprintf(buf + len, cap - len, "\\s+"); break;
        case 6: len += (size_t)snprintf(buf + len, cap - len, "(?!%s)", w); break;
        case 7: len += (size_t)snprintf(buf + len, cap - len, "%s'?", w); break;
        case 8: len += (size_t)snprintf(buf + len, cap - len, "(?:\\w+\\s+){0,2}"); break;
        case 9: len += (size_t)snprintf(buf + len, cap - len, "(%s)+", w); break;
        case 10: len += (size_t)snprintf(buf + len, cap - len, "%s|%s", w, w2); break;
        default: len += (size_t)snprintf(buf + len, cap - len, "%s", w); break;
        }
        if (rnd(2)) len += (size_t)snprintf(buf + len, cap - len, " ");
    }
    if (rnd(4) == 0) snprintf(buf + len, cap - len, "$");
}

static void test_random_mix(void **state)
{
    (void)state;
    enum { NP = 400, NT = 600 };
    char **pats = calloc(NP, sizeof *pats);
    assert_non_null(pats);
    for (int i = 0; i < NP; i++) {
        char buf[256];
        random_pattern(buf, sizeof buf);
        pats[i] = strdup(buf);
        assert_non_null(pats[i]);
    }
    fixture f;
    build(&f, (const char *const *)pats, NP);
    /* many of these patterns must be indexed, or the test proves little
     * (unanchored bare literals and optional-only patterns are not) */
    assert_true(ppx_always(f.ix) < NP / 2);
    size_t total_hits = 0, total_cands = 0;
    for (int t = 0; t < NT; t++) {
        char text[256];
        size_t len = 0;
        int pieces = 1 + (int)rnd(6);
        for (int p = 0; p < pieces && len < sizeof text - 32; p++) {
            len += (size_t)snprintf(text + len, sizeof text - len, "%s%s",
                                    p ? seps[rnd(sizeof seps / sizeof seps[0])] : "",
                                    text_pieces[rnd(sizeof text_pieces / sizeof text_pieces[0])]);
        }
        total_hits += check_no_false_negative(&f, text);
        total_cands += cands(&f, text);
    }
    /* the mix does exercise matches, and the index does filter */
    assert_true(total_hits > NT);
    /* of the indexed patterns, well under half are candidates per text */
    size_t always = ppx_always(f.ix);
    assert_true(total_cands - always * NT < (NP - always) * NT / 3);
    teardown_fixture(&f);
    for (int i = 0; i < NP; i++) free(pats[i]);
    free(pats);
}

/* Hostile inputs: long texts, long tokens, truncated UTF-8 at the end. */
static void test_hostile_text(void **state)
{
    (void)state;
    static const char *const pats[] = {
        "\\baaaa\\b", "aaaa\\b", "\\baaaa", "\\bzz\\b", "\\bk\\b",
    };
    fixture f;
    build(&f, pats, 5);
    char *big = malloc(9000);
    assert_non_null(big);
    memset(big, 'a', 8999);
    big[8999] = '\0';
    check_no_false_negative(&f, big);
    size_t k = cands(&f, big);
    assert_true(has(&f, k, 1) && has(&f, k, 2) && !has(&f, k, 0));
    for (int i = 0; i < 8999; i++) big[i] = (char)(i % 3 == 2 ? ' ' : 'z');
    check_no_false_negative(&f, big);
    /* a cut KELVIN SIGN at the very end, then a whole one */
    k = ppx_candidates(f.ix, f.sc, "x \xe2\x84", 4, f.out);
    assert_false(has(&f, k, 4));
    k = cands(&f, "x \xe2\x84\xaa");
    assert_true(has(&f, k, 4));
    assert_int_equal(ppx_candidates(f.ix, f.sc, NULL, 0, f.out), 0);
    free(big);
    teardown_fixture(&f);
}

/* Every clause of a requirement counts: a pattern posted under one word
 * is dropped when the text lacks another word it needs, and alternatives
 * whose combinations multiply past any limit keep a requirement. */
static void test_clauses(void **state)
{
    (void)state;
    static const char *const pats[] = {
        "\\bhits\\s+(?:\\w+\\s+)?me\\b",                                  /* 0: hits AND me */
        "(?:\\bpunch\\w*|\\bkick\\w*|\\bsmash\\w*)\\s+(?:a\\s+hole|holes|through)\\s+"
        "(?:the\\s+)?(?:wall|door|window)|(?:\\bpunch\\w*|\\bhit\\w*|\\bsmash\\w*)\\s+"
        "(?:the\\s+)?(?:wall|door|window)\\s+(?:right\\s+)?(?:next\\s+to|by|beside|near|"
        "inches\\s+from)\\s+(?:my|me)",                                     /* 1: 135 combinations */
        "\\bone\\b.*\\btwo\\b",                                             /* 2 */
        "(?:he|she|my\\s+(?:wife|husband|partner))\\s+(?:\\w+\\s+){0,3}?(?:ignores|ignored)\\s+me\\b",
    };
    fixture f;
    build(&f, pats, 4);
    assert_int_equal(ppx_always(f.ix), 0);
    static const struct { const char *text; int want[4]; } cases[] = {
        { "she hits the ball", { 0, 0, 0, 0 } },
        { "she hits me", { 1, 0, 0, 0 } },
        { "a bit late for me, he said", { 0, 0, 0, 0 } },
        { "the door is by my bed", { 0, 0, 0, 0 } },
        { "he punched the wall right next to me", { 0, 1, 0, 0 } },
        { "he kicked through the door", { 0, 1, 0, 0 } },
        { "one and two", { 0, 0, 1, 0 } },
        { "two", { 0, 0, 0, 0 } },
        { "one", { 0, 0, 0, 0 } },
        { "she ignored the bill", { 0, 0, 0, 0 } },
        { "my wife always ignores me", { 0, 0, 0, 1 } },
        { "my dog ignores me", { 0, 0, 0, 0 } },
    };
    for (int round = 0; round < 3; round++)          /* the scratch starts clean each time */
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            size_t hits = check_no_false_negative(&f, cases[c].text);
            size_t k = cands(&f, cases[c].text), want = 0;
            for (uint32_t i = 0; i < 4; i++) {
                want += (size_t)cases[c].want[i];
                if (has(&f, k, i) != cases[c].want[i])
                    fail_msg("\"%s\": pattern %u %s a candidate", cases[c].text, i,
                             cases[c].want[i] ? "is not" : "is");
            }
            assert_int_equal(hits, want);             /* the expectations are real matches */
        }
    teardown_fixture(&f);
}

/* "lsexqzd" and "ztxtxde" have the same key hash, kind and length (found
 * by a birthday search over the index's hash): a lookup cannot tell them
 * apart, so they must share one key -- the later word's patterns must not
 * be lost behind the earlier one's. */
static void test_hash_collision(void **state)
{
    (void)state;
    static const char *const pats[] = { "\\blsexqzd\\b", "\\bztxtxde\\b", "\\bother\\b" };
    fixture f;
    build(&f, pats, 3);
    assert_int_equal(check_no_false_negative(&f, "oh ztxtxde"), 1);
    assert_int_equal(check_no_false_negative(&f, "LSEXQZD"), 1);
    size_t k = cands(&f, "ztxtxde");
    assert_true(has(&f, k, 1));
    assert_false(has(&f, k, 2));
    teardown_fixture(&f);
}

/* The scratch (candidate and present-key bits) is clean after every call. */
static void test_many_calls(void **state)
{
    (void)state;
    static const char *const pats[] = { "\\bone\\b", "\\btwo\\b", "three" };
    fixture f;
    build(&f, pats, 3);
    for (int i = 0; i < 100000; i++) {
        size_t k = cands(&f, i % 2 ? "one two" : "two");
        assert_int_equal(k, (size_t)(i % 2 ? 3 : 2));   /* "three" is suffix-less: always */
    }
    teardown_fixture(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tricky_cases),
        cmocka_unit_test(test_selective),
        cmocka_unit_test(test_lookahead_selective),
        cmocka_unit_test(test_synth_scale),
        cmocka_unit_test(test_random_mix),
        cmocka_unit_test(test_hostile_text),
        cmocka_unit_test(test_clauses),
        cmocka_unit_test(test_hash_collision),
        cmocka_unit_test(test_many_calls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
