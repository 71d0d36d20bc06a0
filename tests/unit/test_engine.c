/* test_engine.c -- unit tests for the engine: loader errors, matcher,
 * responder, sessions, input normalisation and the dialog commands.
 * Fixtures: tests/fixtures/basic (a small valid set) and
 * tests/fixtures/broken (one fault per rule, with known line numbers). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sys/stat.h>
#include <pthread.h>

#include "pushpull.h"

static char rules_dir[4096], responses_dir[4096], broken_rules[4096], broken_responses[4096];

static void paths(void)
{
    const char *src = getenv("SRC") ? getenv("SRC") : ".";
    snprintf(rules_dir, sizeof rules_dir, "%s/tests/fixtures/basic/rules", src);
    snprintf(responses_dir, sizeof responses_dir, "%s/tests/fixtures/basic/responses", src);
    snprintf(broken_rules, sizeof broken_rules, "%s/tests/fixtures/broken/rules", src);
    snprintf(broken_responses, sizeof broken_responses, "%s/tests/fixtures/broken/responses", src);
}

/* Load a rule set, printing any error. */
static pp_ruleset *load_dirs(const char *rules, const char *responses)
{
    pp_load_options o = { rules, responses, NULL };
    pp_errors e;
    pp_errors_init(&e);
    pp_ruleset *rs = pp_rules_load(&o, &e);
    for (size_t i = 0; i < e.count; i++) fprintf(stderr, "%s\n", e.msg[i]);
    pp_errors_clear(&e);
    return rs;
}

/* dir/frameworks.catalog: a copy of the shipped catalogue, so that a rule
 * set written for one test may name any shipped framework. */
static void put_catalog(const char *dir)
{
    char from[4200], to[4200], buf[4096];
    const char *src = getenv("SRC") ? getenv("SRC") : ".";
    snprintf(from, sizeof from, "%s/rules/frameworks.catalog", src);
    snprintf(to, sizeof to, "%s/frameworks.catalog", dir);
    FILE *in = fopen(from, "r"), *out = fopen(to, "w");
    assert_true(in && out);
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(in);
    fclose(out);
}

static void rm_catalog(const char *dir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/frameworks.catalog", dir);
    remove(path);
}

static int setup(void **state)
{
    pp_ruleset *rs = load_dirs(rules_dir, responses_dir);
    if (!rs) return -1;
    *state = rs;
    return 0;
}

static int teardown(void **state)
{
    pp_rules_free(*state);
    return 0;
}

static int has_error(const pp_errors *e, const char *file_line, const char *words)
{
    for (size_t i = 0; i < e->count; i++)
        if (strstr(e->msg[i], file_line) && strstr(e->msg[i], words)) return 1;
    return 0;
}

/* ---- loader ------------------------------------------------------------ */

static void test_loader_reports_every_error(void **state)
{
    (void)state;
    pp_load_options o = { broken_rules, broken_responses, NULL };
    pp_errors e;
    pp_errors_init(&e);
    pp_ruleset *rs = pp_rules_load(&o, &e);
    assert_null(rs);
    assert_true(has_error(&e, "a.rules:7:", "bad pattern"));
    assert_true(has_error(&e, "a.rules:11:", "unknown key 'colour'"));
    assert_true(has_error(&e, "a.rules:13:", "duplicate rule id broken.key"));
    assert_true(has_error(&e, "a.rules:19:", "unknown framework"));
    assert_true(has_error(&e, "a.rules:22:", "unknown role 'chaser'"));
    assert_true(has_error(&e, "a.rules:28:", "unknown word class {nosuchclass}"));
    assert_true(has_error(&e, "a.rules:32:", "priority must be a whole number"));
    assert_true(has_error(&e, "a.responses:7:", "placeholder {nocapture}"));
    assert_int_equal(e.count, 8);     /* each problem once: no echo of the bad framework
                                         as a missing response set */
    pp_errors_clear(&e);
}

static void test_loader_missing_dir(void **state)
{
    (void)state;
    pp_load_options o = { "/nonexistent/rules", "/nonexistent/responses", NULL };
    pp_errors e;
    pp_errors_init(&e);
    assert_null(pp_rules_load(&o, &e));
    assert_true(has_error(&e, "/nonexistent/rules", "cannot open directory"));
    pp_errors_clear(&e);
}

static void test_loader_region(void **state)
{
    (void)state;
    pp_load_options o = { rules_dir, responses_dir, "uk" };
    pp_errors e;
    pp_errors_init(&e);
    pp_ruleset *rs = pp_rules_load(&o, &e);
    assert_non_null(rs);
    assert_non_null(strstr(pp_resources(rs), "116 123"));
    pp_rules_free(rs);
    o.region = "atlantis";      /* unknown: the default */
    rs = pp_rules_load(&o, &e);
    assert_non_null(rs);
    assert_non_null(strstr(pp_resources(rs), "emergency"));
    pp_rules_free(rs);
    pp_errors_clear(&e);
}

/* ---- matcher ----------------------------------------------------------- */

static const char *winner(const pp_ruleset *rs, const char *text)
{
    pp_match m;
    assert_int_equal(pp_match_text(rs, text, strlen(text), &m), 0);
    if (m.rule < 0) return "none";
    pp_rule_info ri;
    pp_rules_info(rs, (size_t)m.rule, &ri);
    return ri.id;
}

static void test_match_priority_and_exclusion(void **state)
{
    pp_ruleset *rs = *state;
    assert_string_equal(winner(rs, "he pulls away when we get close"), "test.pulls-away");
    /* the more specific, higher-priority rule wins */
    assert_string_equal(winner(rs, "he pulls away since his ex cheated"), "test.pulls-away-ex");
    /* exclusions */
    assert_string_equal(winner(rs, "he doesn't pull away anymore"), "none");
    assert_string_equal(winner(rs, "he doesn’t pull away anymore"), "none");   /* curly */
    /* crisis outranks any priority, even its own low one */
    assert_string_equal(winner(rs, "he pulls away and he hit me since his ex"), "test.hit");
    /* `after:` rules need a conversation */
    assert_string_equal(winner(rs, "yes"), "none");
    /* caseless, Unicode-aware */
    assert_string_equal(winner(rs, "MY WIFE PULLS AWAY"), "test.pulls-away");
}

/* A rule set written for one test into a fresh directory under $TMPDIR
 * (x.rules and x.responses); NULL when it does not load.  rm_set() removes
 * the directory. */
static pp_ruleset *tmp_set(char *dir, size_t size, const char *rules, const char *responses)
{
    snprintf(dir, size, "%s/pp-set-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    assert_non_null(mkdtemp(dir));
    const char *names[2] = { "x.rules", "x.responses" }, *texts[2] = { rules, responses };
    for (int i = 0; i < 2; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(texts[i], f);
        fclose(f);
    }
    put_catalog(dir);
    return load_dirs(dir, dir);
}

static void rm_set(const char *dir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/x.rules", dir); remove(path);
    snprintf(path, sizeof path, "%s/x.responses", dir); remove(path);
    rm_catalog(dir);
    remove(dir);
}

static void test_match_limits(void **state)
{
    (void)state;
    /* a rule set with a catastrophic pattern: the limit stops it */
    char dir[4096];
    pp_ruleset *rs = tmp_set(dir, sizeof dir,
                             "rule bad.backtrack\n role: none\n framework: five-dimensions\n match: ^(a+)+$\n",
                             "set five-dimensions\n article: x\nvariant\n  ok\n");
    assert_non_null(rs);
    char text[4000];
    memset(text, 'a', sizeof text - 2);
    text[sizeof text - 2] = 'b';
    text[sizeof text - 1] = '\0';
    pp_match m;
    assert_int_equal(pp_match_text(rs, text, strlen(text), &m), 0);
    assert_int_equal(m.rule, -1);
    assert_int_equal(m.limit_hit, 1);
    pp_rules_free(rs);
    rm_set(dir);
}

/* Every matching rule is evidence.  The strongest match answers unless
 * the other side of the dance has more weight in the message; when both
 * sides carry weight the reply says so first (set both-roles); two rules
 * over the same words count once. */
static void test_match_weighs_sides(void **state)
{
    (void)state;
    char dir[4096];
    pp_ruleset *rs = tmp_set(dir, sizeof dir,
        "rule p.text\n role: pursuer\n framework: distance-dance\n priority: 30\n reply: reach\n"
        " match: \\bi\\s+text\\s+(?:him|her)\\b\n"
        "rule p.chase\n role: pursuer\n framework: distance-dance\n priority: 30\n reply: reach\n"
        " match: \\bi\\s+chase\\b\n"
        "rule p.chase-him\n role: pursuer\n framework: distance-dance\n priority: 30\n reply: reach\n"
        " match: \\bchase\\s+him\\b\n"
        "rule w.freeze\n role: withdrawer\n framework: intimacy-threat\n priority: 40\n reply: freeze\n"
        " match: \\bi\\s+freeze\\b\n",
        "set reach\n article: x\nvariant\n  REACH\n"
        "set freeze\n article: x\nvariant\n  FREEZE\n"
        "set both-roles\n article: x\nvariant\n  BOTH.\n"
        "set disclaimer\nvariant\n  D\n");
    assert_non_null(rs);
    static const struct { const char *text, *rule, *reply; int mixed; } cases[] = {
        { "i freeze", "w.freeze", "FREEZE", 0 },
        { "i text him", "p.text", "REACH", 0 },
        /* 30 against 40: the stronger match stands, and both carry weight */
        { "i text him and then i freeze", "w.freeze", "BOTH. FREEZE", 1 },
        /* 60 against 40: two clauses of reaching outweigh one of freezing */
        { "i text her all day, i chase, and then i freeze", "p.text", "BOTH. REACH", 1 },
        /* "i chase him": two rules over the same words are one piece of evidence */
        { "i chase him and i freeze", "w.freeze", "BOTH. FREEZE", 1 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pp_session *s = pp_session_new();
        assert_non_null(s);
        pp_reply r;
        assert_int_equal(pp_reply_make(rs, s, "hello", 5, &r), 0);   /* the disclaimer */
        pp_reply_clear(&r);
        assert_int_equal(pp_reply_make(rs, s, cases[i].text, strlen(cases[i].text), &r), 0);
        assert_string_equal(r.rule ? r.rule : "none", cases[i].rule);
        assert_int_equal(r.mixed, cases[i].mixed);
        assert_string_equal(r.text, cases[i].reply);
        pp_reply_clear(&r);
        pp_session_free(s);
    }
    pp_rules_free(rs);
    rm_set(dir);
}

static int rule_index(const pp_ruleset *rs, const char *id)
{
    for (size_t i = 0; i < pp_rules_count(rs); i++) {
        pp_rule_info ri;
        pp_rules_info(rs, i, &ri);
        if (strcmp(ri.id, id) == 0) return (int)i;
    }
    return -2;
}

/* PP_STEP_BUDGET binds a message: 300 rules that backtrack on a run of
 * a's stop after the first few, which pp_match names; crisis rules that
 * backtrack too, and outrank the one that should answer, do not stop it. */
static void test_match_step_budget(void **state)
{
    (void)state;
    size_t cap = 64 << 10, n = 0;
    char *rules = malloc(cap);
    assert_non_null(rules);
    for (int i = 0; i < 300; i++)
        n += (size_t)snprintf(rules + n, cap - n, "rule bt.r%03d\n role: pursuer\n framework: distance-dance\n"
                              " priority: 90\n match: (?:a+)+[^a]\n", i);
    for (int i = 0; i < 12; i++)
        n += (size_t)snprintf(rules + n, cap - n, "rule bt.crisis%02d\n role: crisis\n framework: safety\n"
                              " priority: 50\n match: (?:a+)+b\n", i);
    snprintf(rules + n, cap - n, "rule bt.die\n role: crisis\n framework: safety\n match: \\bwant\\s+to\\s+die\\b\n"
             "rule bt.slow\n role: none\n framework: distance-dance\n priority: 95\n match: (?:x+)+y\n"
             "rule bt.hello\n role: none\n framework: distance-dance\n match: \\bhello\\b\n");
    char dir[4096];
    pp_ruleset *rs = tmp_set(dir, sizeof dir, rules,
                             "set distance-dance\nvariant\n  ok\nset safety\nvariant\n  safe\n");
    free(rules);
    assert_non_null(rs);
    pp_match m;
    const char *as = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    assert_int_equal(pp_match_text(rs, as, strlen(as), &m), 0);
    assert_int_equal(m.rule, -1);
    assert_int_equal(m.budget_spent, 1);
    assert_int_equal(m.spent_by[0], rule_index(rs, "bt.r000"));
    assert_int_equal(m.spent_by[1], rule_index(rs, "bt.r001"));
    assert_int_equal(m.spent_by[2], rule_index(rs, "bt.r002"));
    /* an ordinary message spends next to nothing */
    assert_int_equal(pp_match_text(rs, "well hello", 10, &m), 0);
    assert_int_equal(m.rule, rule_index(rs, "bt.hello"));
    assert_int_equal(m.budget_spent, 0);
    assert_int_equal(m.spent_by[0], -1);
    /* the crisis rules that backtrack spend the budget; bt.die still runs */
    const char *die = "I want to die aaaaaaaaaaaaaaaaaaaaaaaaaaaaaac b";
    assert_int_equal(pp_match_text(rs, die, strlen(die), &m), 0);
    assert_int_equal(m.rule, rule_index(rs, "bt.die"));
    /* a pattern that needs 12,288 steps (more than a first run allows, less
     * than the per-pattern limit) still matches: it is run again */
    const char *slow = "xxxxxxxxxxxxxz xy";
    assert_int_equal(pp_match_text(rs, slow, strlen(slow), &m), 0);
    assert_int_equal(m.rule, rule_index(rs, "bt.slow"));
    assert_int_equal(m.limit_hit, 0);
    pp_rules_free(rs);
    rm_set(dir);
}

/* ---- responder --------------------------------------------------------- */

static char *say(const pp_ruleset *rs, pp_session *s, const char *text, pp_reply *r)
{
    assert_int_equal(pp_reply_make(rs, s, text, strlen(text), r), 0);
    return r->text;
}

static void test_reply_pronouns(void **state)
{
    pp_ruleset *rs = *state;
    pp_session *s = pp_session_new();
    pp_reply r;
    char *t = say(rs, s, "My wife pulls away every time we get close", &r);
    assert_non_null(strstr(t, "DISCLAIMER"));                /* first reply only */
    assert_non_null(strstr(t, "your wife pulls away, she is"));
    assert_non_null(strstr(t, "Your wife"));                 /* {Partner} */
    assert_null(strstr(t, " he "));
    assert_string_equal(r.framework, "distance-dance");
    assert_int_equal(r.role, PP_ROLE_PURSUER);
    assert_string_equal(r.article, "The Intimacy-Distance Dance");
    pp_reply_clear(&r);
    t = say(rs, s, "Sam pulled away again", &r);
    assert_null(strstr(t, "DISCLAIMER"));
    assert_true(strstr(t, "Sam pulls away, they are") || strstr(t, "They don't"));
    pp_reply_clear(&r);
    pp_session_free(s);

    s = pp_session_new();                                     /* no partner word: not "he" */
    t = say(rs, s, "I need space", &r);
    pp_reply_clear(&r);
    t = say(rs, s, "yes", &r);                                /* no after-match: fallback */
    assert_null(strstr(t, " he "));
    pp_reply_clear(&r);
    pp_session_free(s);
}

static void test_reply_no_repeat_and_roles(void **state)
{
    pp_ruleset *rs = *state;
    pp_session *s = pp_session_new();
    pp_reply r;
    int a1 = 0, a2 = 0;
    for (int i = 0; i < 4; i++) {
        char *t = say(rs, s, "he pulls away", &r);
        assert_null(strstr(t, "W1"));                         /* withdrawer-only variant */
        if (strstr(t, "A1")) a1++;
        if (strstr(t, "A2")) a2++;
        if (i == 1) assert_int_equal(a1 + a2 == 2 && a1 == 1, 1);   /* both seen before any repeat */
        pp_reply_clear(&r);
    }
    assert_int_equal(a1, 2);
    assert_int_equal(a2, 2);
    /* fallbacks never repeat twice in a row */
    char last[64] = "";
    for (int i = 0; i < 6; i++) {
        char *t = say(rs, s, "the weather is nice", &r);
        if (strstr(t, "TOPICS")) { pp_reply_clear(&r); continue; }
        assert_string_not_equal(t, last);
        snprintf(last, sizeof last, "%s", t);
        pp_reply_clear(&r);
    }
    pp_session_free(s);
}

/* The working memory of a reply belongs to the rule set, not the session:
 * two threads replying on one set at once, each in its own sessions, give
 * the replies one thread gives alone (under ASan and UBSan in CI). */
static const char *thread_lines[] = {
    "he pulls away", "the weather is nice", "my husband pulls away when I ask",
    "he pulls away and I chase him", "hello", NULL,
};

typedef struct thread_run {
    const pp_ruleset *rs;
    char rules[200][64];
} thread_run;

static void *reply_many(void *arg)
{
    thread_run *t = arg;
    for (int i = 0; i < 200; i++) {
        pp_session *s = pp_session_new();
        pp_reply r;
        const char *m = thread_lines[i % 5];
        if (!s || pp_reply_make(t->rs, s, m, strlen(m), &r) != 0) { pp_session_free(s); return NULL; }
        snprintf(t->rules[i], sizeof t->rules[i], "%s|%s", r.rule ? r.rule : "-", r.text);
        pp_reply_clear(&r);
        pp_session_free(s);
    }
    return t;
}

static void test_reply_threads_share_set(void **state)
{
    pp_ruleset *rs = *state;
    static thread_run alone, a, b;
    alone.rs = a.rs = b.rs = rs;
    assert_non_null(reply_many(&alone));
    pthread_t ta, tb;
    assert_int_equal(pthread_create(&ta, NULL, reply_many, &a), 0);
    assert_int_equal(pthread_create(&tb, NULL, reply_many, &b), 0);
    void *ra, *rb;
    pthread_join(ta, &ra);
    pthread_join(tb, &rb);
    assert_non_null(ra);
    assert_non_null(rb);
    for (int i = 0; i < 200; i++) {
        assert_string_equal(a.rules[i], alone.rules[i]);
        assert_string_equal(b.rules[i], alone.rules[i]);
    }
    /* a session copied is the conversation alone: it replies the same */
    pp_session *s1 = pp_session_new(), *s2 = pp_session_new();
    pp_reply r1, r2;
    assert_int_equal(pp_reply_make(rs, s1, "he pulls away", 13, &r1), 0);
    assert_int_equal(pp_session_copy(s2, s1), 0);
    pp_reply_clear(&r1);
    assert_int_equal(pp_reply_make(rs, s1, "he pulls away", 13, &r1), 0);
    assert_int_equal(pp_reply_make(rs, s2, "he pulls away", 13, &r2), 0);
    assert_string_equal(r1.text, r2.text);
    pp_reply_clear(&r1);
    pp_reply_clear(&r2);
    pp_session_free(s1);
    pp_session_free(s2);
}

/* A set with one variant for the session's role, visited twice: the same
 * variant again, never one written for the other role. */
static void test_reply_single_fitting_variant(void **state)
{
    pp_ruleset *rs = *state;
    pp_session *s = pp_session_new();
    pp_reply r;
    say(rs, s, "I need space", &r);
    assert_int_equal(pp_session_role(s), PP_ROLE_WITHDRAWER);
    pp_reply_clear(&r);
    for (int i = 0; i < 3; i++) {
        char *t = say(rs, s, "why do people pull away?", &r);
        assert_non_null(strstr(t, "W1"));
        pp_reply_clear(&r);
    }
    pp_session_free(s);
}

static void test_reply_captures_and_reflection(void **state)
{
    pp_ruleset *rs = *state;
    pp_session *s = pp_session_new();
    pp_reply r;
    char *t = say(rs, s, "Honestly I need time alone", &r);
    assert_non_null(strstr(t, "You need time alone."));
    pp_reply_clear(&r);
    char *x = pp_reflect("I feel ignored by my wife", 25);
    assert_string_equal(x, "you feel ignored by your wife");
    free(x);
    x = pp_reflect("I'm tired and I was sad", 23);
    assert_string_equal(x, "you're tired and you were sad");
    free(x);
    pp_session_free(s);
}

static void test_safety_lock(void **state)
{
    pp_ruleset *rs = *state;
    pp_session *s = pp_session_new();
    pp_reply r;
    say(rs, s, "he pulls away", &r);
    assert_string_equal(r.framework, "distance-dance");
    pp_reply_clear(&r);
    say(rs, s, "he hit me", &r);
    assert_int_equal(r.safety, 1);
    assert_int_equal(r.role, PP_ROLE_CRISIS);
    assert_non_null(strstr(r.text, "emergency"));
    pp_reply_clear(&r);
    assert_true(pp_session_safety_locked(s));
    say(rs, s, "he pulls away again", &r);
    assert_string_equal(r.framework, "safety");
    assert_non_null(strstr(r.text, "SUPPORT"));
    pp_reply_clear(&r);
    say(rs, s, "should I give him space?", &r);            /* no rule: still support */
    assert_non_null(strstr(r.text, "SUPPORT"));
    assert_int_equal(r.safety, 1);
    pp_reply_clear(&r);
    pp_session_reset(s);
    say(rs, s, "he pulls away again", &r);
    assert_string_equal(r.framework, "distance-dance");
    pp_reply_clear(&r);
    pp_session_free(s);
}

static void test_followup_after(void **state)
{
    pp_ruleset *rs = *state;
    pp_session *s = pp_session_new();
    pp_reply r;
    say(rs, s, "she pulls away", &r);
    pp_reply_clear(&r);
    char *t = say(rs, s, "yes", &r);
    assert_string_equal(r.rule, "test.followup-yes");
    assert_non_null(strstr(t, "her space"));
    pp_reply_clear(&r);
    pp_session_free(s);
}

/* ---- sessions ---------------------------------------------------------- */

/* After a disclosure (issue 18 item 3): {resources} is the whole list the
 * first time and in every crisis reply, one line after that (the second
 * after self-harm, the third after abuse); the session saves both facts,
 * and a record from before them still loads (a locked one as abuse).
 * Inside a lock, `after: safety-support` holds on every turn. */
static void test_session_disclosure(void **state)
{
    (void)state;
    char dir[] = "/tmp/pp-disclosure-XXXXXX", rdir[64], sdir[64], path[128];
    assert_non_null(mkdtemp(dir));
    snprintf(rdir, sizeof rdir, "%s/rules", dir);
    snprintf(sdir, sizeof sdir, "%s/responses", dir);
    assert_int_equal(mkdir(rdir, 0700), 0);
    assert_int_equal(mkdir(sdir, 0700), 0);
    put_catalog(rdir);
    snprintf(path, sizeof path, "%s/r.rules", rdir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "rule t.die\n  role: crisis\n  framework: safety\n  reply: safety.selfharm\n  match: \\bwant to die\\b\n\n"
               "rule t.hit\n  role: crisis\n  framework: safety\n  flag: abuse\n  match: \\bhit me\\b\n\n"
               "rule t.fine\n  role: none\n  framework: safety\n  reply: t.after\n"
               "  after: safety.selfharm safety-support\n  match: ^fine$\n");
    fclose(f);
    snprintf(path, sizeof path, "%s/r.responses", sdir);
    f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "set safety\nvariant\n  S {resources}\n\nset safety.selfharm\nvariant\n  H {resources}\n\n"
               "set safety-support\nvariant\n  L {resources}\n\nset t.after\nvariant\n  A {resources}\n\n"
               "set fallback\nvariant\n  F\n\nset disclaimer\nvariant\n  D\n");
    fclose(f);
    snprintf(path, sizeof path, "%s/resources.tsv", sdir);
    f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "default\tEMERG\ndefault\tSELFLINE\ndefault\tABUSELINE\ndefault\tOTHERLINE\n");
    fclose(f);
    pp_ruleset *rs = load_dirs(rdir, sdir);
    assert_non_null(rs);

    pp_session *s = pp_session_new(), *t = pp_session_new();
    pp_reply r;
    char err[128];
    say(rs, s, "i want to die", &r);
    assert_non_null(strstr(r.text, "EMERG\nSELFLINE\nABUSELINE\nOTHERLINE"));
    pp_reply_clear(&r);
    say(rs, s, "fine", &r);                       /* after it: one line */
    assert_string_equal(r.set, "t.after");
    assert_int_equal(r.safety, 1);
    assert_non_null(strstr(r.text, "A SELFLINE"));
    assert_null(strstr(r.text, "EMERG"));
    pp_reply_clear(&r);
    say(rs, s, "i want to die", &r);              /* a crisis again: the whole list */
    assert_non_null(strstr(r.text, "OTHERLINE"));
    pp_reply_clear(&r);
    char *json = pp_session_save(s);
    assert_non_null(json);
    assert_non_null(strstr(json, "\"disclosure\":\"selfharm\""));
    assert_non_null(strstr(json, "\"resources_shown\":true"));
    assert_int_equal(pp_session_load(t, json, err, sizeof err), 0);
    free(json);
    say(rs, t, "fine", &r);                       /* the loaded session remembers */
    assert_non_null(strstr(r.text, "A SELFLINE"));
    assert_null(strstr(r.text, "OTHERLINE"));
    pp_reply_clear(&r);

    say(rs, t, "he hit me", &r);                  /* abuse: locked, the whole list */
    assert_non_null(strstr(r.text, "S EMERG"));
    pp_reply_clear(&r);
    say(rs, t, "whatever", &r);                   /* the lock points to the abuse line */
    assert_string_equal(r.set, "safety-support");
    assert_non_null(strstr(r.text, "L ABUSELINE"));
    assert_null(strstr(r.text, "SELFLINE"));
    pp_reply_clear(&r);
    say(rs, t, "he hit me", &r);
    pp_reply_clear(&r);
    say(rs, t, "fine", &r);                       /* after `safety`, but inside the lock */
    assert_string_equal(r.set, "t.after");
    assert_non_null(strstr(r.text, "A ABUSELINE"));
    pp_reply_clear(&r);

    /* a record from before these fields */
    assert_int_equal(pp_session_load(t, "{\"v\":1,\"safety_lock\":true,\"turns\":4}", err, sizeof err), 0);
    json = pp_session_save(t);
    assert_non_null(strstr(json, "\"disclosure\":\"abuse\""));
    assert_non_null(strstr(json, "\"resources_shown\":false"));
    free(json);
    say(rs, t, "whatever", &r);                   /* never shown here: the whole list */
    assert_non_null(strstr(r.text, "EMERG\nSELFLINE"));
    pp_reply_clear(&r);
    assert_int_equal(pp_session_load(t, "{\"disclosure\":\"nosuch\"}", err, sizeof err), PP_ECORRUPT);
    assert_int_equal(pp_session_load(t, "{\"disclosure\":3}", err, sizeof err), PP_ECORRUPT);
    assert_int_equal(pp_session_load(t, "{\"resources_shown\":2}", err, sizeof err), PP_ECORRUPT);
    pp_session_reset(s);                          /* /reset forgets both */
    json = pp_session_save(s);
    assert_null(strstr(json, "\"disclosure\""));
    assert_non_null(strstr(json, "\"resources_shown\":false"));
    free(json);

    pp_session_free(s);
    pp_session_free(t);
    pp_rules_free(rs);
    const char *files[] = { "rules/r.rules", "responses/r.responses", "responses/resources.tsv" };
    for (size_t i = 0; i < 3; i++) { snprintf(path, sizeof path, "%s/%s", dir, files[i]); remove(path); }
    rm_catalog(rdir);
    remove(rdir);
    remove(sdir);
    remove(dir);
}

static void test_session_roundtrip(void **state)
{
    pp_ruleset *rs = *state;
    pp_session *s = pp_session_new(), *t = pp_session_new();
    pp_reply r;
    say(rs, s, "my husband pulled away", &r);
    pp_reply_clear(&r);
    char *json = pp_session_save(s);
    assert_non_null(json);
    char err[128];
    assert_int_equal(pp_session_load(t, json, err, sizeof err), 0);
    assert_int_equal(pp_session_turns(t), 1);
    assert_int_equal(pp_session_role(t), PP_ROLE_PURSUER);
    assert_string_equal(pp_session_framework(t), "distance-dance");
    char *t_text = say(rs, t, "he pulled away", &r);
    assert_null(strstr(t_text, "DISCLAIMER"));                /* already given */
    assert_non_null(strstr(t_text, "He") ? t_text : strstr(t_text, "your husband"));
    pp_reply_clear(&r);
    free(json);
    assert_int_equal(pp_session_load(t, "{not json", err, sizeof err), PP_ECORRUPT);
    assert_int_equal(pp_session_load(t, "{\"turns\":\"x\"}", err, sizeof err), PP_ECORRUPT);
    assert_int_equal(pp_session_load(t, "[1,2]", err, sizeof err), PP_ECORRUPT);
    pp_session_reset(s);
    assert_int_equal(pp_session_turns(s), 1);
    assert_null(pp_session_framework(s));
    pp_session_free(s);
    pp_session_free(t);
}

/* The table of used variants keeps the PP_SESSION_SETS (48) most recent
 * sets: with 50 sets seen, the two oldest are forgotten; saving writes
 * them oldest first, and a loaded session goes on forgetting in that
 * order.  A remembered set still never repeats a variant. */
static void test_session_used_table(void **state)
{
    (void)state;
    char dir[] = "/tmp/pp-used-XXXXXX", path[4096];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/rules", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/responses", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/rules/r.rules", dir);
    FILE *rf = fopen(path, "w");
    snprintf(path, sizeof path, "%s/responses/r.responses", dir);
    FILE *sf = fopen(path, "w");
    assert_true(rf && sf);
    fprintf(sf, "set fallback\nvariant\n  F\n\nset disclaimer\nvariant\n  D\n\n");
    for (int i = 0; i < 51; i++) {
        fprintf(rf, "rule t.%d\n  role: none\n  framework: five-dimensions\n  reply: t.%d\n  match: ^word%d$\n\n", i, i, i);
        fprintf(sf, "set t.%d\nvariant\n  A%d\nvariant\n  B%d\n\n", i, i, i);
    }
    fclose(rf);
    fclose(sf);
    char rdir[4096], sdir[4096];
    snprintf(rdir, sizeof rdir, "%s/rules", dir);
    snprintf(sdir, sizeof sdir, "%s/responses", dir);
    put_catalog(rdir);
    pp_ruleset *rs = load_dirs(rdir, sdir);
    assert_non_null(rs);

    pp_session *s = pp_session_new(), *t = pp_session_new();
    pp_reply r;
    char msg[32], first[32] = "";
    for (int i = 0; i < 50; i++) {
        snprintf(msg, sizeof msg, "word%d", i);
        assert_int_equal(pp_reply_make(rs, s, msg, strlen(msg), &r), 0);
        if (i == 10) snprintf(first, sizeof first, "%s", r.text);
        pp_reply_clear(&r);
    }
    /* each set's own texts (the loader packs them all into one block) */
    assert_true(strcmp(first, "A10") == 0 || strcmp(first, "B10") == 0);
    assert_int_equal(pp_reply_make(rs, s, "word10", 6, &r), 0);   /* remembered */
    assert_string_not_equal(r.text, first);
    assert_true(strcmp(r.text, "A10") == 0 || strcmp(r.text, "B10") == 0);
    pp_reply_clear(&r);
    char *json = pp_session_save(s);
    assert_non_null(json);
    const char *u = strstr(json, "\"used\"");
    assert_non_null(u);
    assert_non_null(strstr(u, "\"t.2\""));
    assert_null(strstr(u, "\"t.1\""));                   /* the two oldest are gone */
    assert_null(strstr(u, "\"t.0\""));
    assert_true(strstr(u, "\"t.2\"") < strstr(u, "\"t.49\""));   /* oldest first */
    char err[128];
    assert_int_equal(pp_session_load(t, json, err, sizeof err), 0);
    free(json);
    assert_int_equal(pp_reply_make(rs, t, "word50", 6, &r), 0);
    pp_reply_clear(&r);
    json = pp_session_save(t);
    u = strstr(json, "\"used\"");
    assert_null(strstr(u, "\"t.2\""));                   /* forgotten next, after the load */
    assert_non_null(strstr(u, "\"t.3\""));
    assert_non_null(strstr(u, "\"t.50\""));
    free(json);
    pp_session_free(s);
    pp_session_free(t);
    pp_rules_free(rs);
    snprintf(path, sizeof path, "rm -rf '%s'", dir);
    assert_int_equal(system(path), 0);
}

/* ---- input ------------------------------------------------------------- */

static void test_normalize(void **state)
{
    (void)state;
    size_t n;
    const char *notice;
    char *t = pp_input_normalize("he  doesn\xE2\x80\x99t\ttext \xF0\x9F\x98\xA2 back", 29, &n, &notice);
    assert_string_equal(t, "he doesn't text back");
    assert_null(notice);
    free(t);
    t = pp_input_normalize("bad \xC3\x28 byte", 11, &n, &notice);
    assert_non_null(notice);
    assert_non_null(strstr(t, "\xEF\xBF\xBD"));              /* U+FFFD */
    free(t);
    t = pp_input_normalize("nul\0byte", 8, &n, &notice);
    assert_string_equal(t, "nul byte");
    free(t);
    size_t big = 1u << 20;
    char *line = malloc(big);
    memset(line, 'x', big);
    for (size_t i = 5; i < big; i += 6) line[i] = ' ';
    t = pp_input_normalize(line, big, &n, &notice);
    assert_true(n <= PP_MAX_INPUT);
    assert_non_null(notice);
    free(t);
    free(line);
    /* overlong and surrogate encodings are invalid */
    t = pp_input_normalize("\xC0\xAF\xED\xA0\x80", 5, &n, &notice);
    assert_non_null(notice);
    free(t);
}

/* ---- dialog ------------------------------------------------------------ */

/* What the commands say is data (responses/system.responses): a set
 * system.ID replaces the sentence, filled like a reply ({partner}) with
 * {error} and {command} put in as they are; without the set the built-in
 * short sentence answers.  {command} outside a system set is an error. */
static void test_system_sentences(void **state)
{
    (void)state;
    char dir[4200];
    const char *rules = "define partner_she = my\\s+wife\ndefine partner = (?<partner>{partner_she})\n"
                        "rule t.hi\n role: none\n framework: five-dimensions\n reply: t.hi\n match: \\bmy wife\\b\n";
    pp_ruleset *rs = tmp_set(dir, sizeof dir, rules,
                             "set t.hi\nvariant\n  HI.\n\n"
                             "set system.reset\nvariant\n  FRESH START, {partner}.\n\n"
                             "set system.unknown-command\nvariant\n  NO /{command} {Partner}.\n");
    assert_non_null(rs);
    /* where a variant is written, for a front end that reports a bad one */
    const char *file = NULL;
    int line = 0;
    assert_int_equal(pp_rules_variant_at(rs, "system.unknown-command", 0, &file, &line), 0);
    assert_int_equal(line, 10);
    assert_non_null(file);
    assert_non_null(strstr(file, "x.responses"));
    assert_int_equal(pp_rules_variant_at(rs, "system.reset", 0, NULL, &line), 0);
    assert_int_equal(line, 6);
    assert_int_equal(pp_rules_variant_at(rs, "system.reset", 1, &file, &line), PP_EINPUT);
    assert_int_equal(pp_rules_variant_at(rs, "no.such-set", 0, &file, &line), PP_EINPUT);
    pp_session *s = pp_session_new();
    pp_dialog d = { .rules = rs, .key = "test:sys", .session = s };
    pp_answer a;
    assert_int_equal(pp_dialog_turn(&d, "my wife {error} left", 20, &a), 0);
    pp_answer_clear(&a);
    assert_int_equal(pp_dialog_turn(&d, "/frob{x}", 8, &a), 0);     /* not a command name */
    pp_answer_clear(&a);
    assert_int_equal(pp_dialog_turn(&d, "/frob", 5, &a), 0);
    assert_string_equal(a.text, "NO /frob Your wife.");
    pp_answer_clear(&a);
    assert_int_equal(pp_dialog_turn(&d, "/quit", 5, &a), 0);       /* no set: the built-in one */
    assert_string_equal(a.text, "Take care of yourself.");
    pp_answer_clear(&a);
    assert_int_equal(pp_dialog_turn(&d, "/reset", 6, &a), 0);
    assert_string_equal(a.text, "FRESH START, your partner.");  /* reset forgot the wife */
    pp_answer_clear(&a);
    d.store_unusable = "state.db {resources}: locked";        /* a value goes in as it is */
    assert_int_equal(pp_dialog_turn(&d, "/forget", 7, &a), PP_ESTORE);
    assert_string_equal(a.text, "I couldn't delete anything: state.db {resources}: locked.");
    pp_answer_clear(&a);
    pp_session_free(s);
    pp_rules_free(rs);
    rm_set(dir);

    pp_errors e;
    pp_errors_init(&e);
    snprintf(dir, sizeof dir, "%s/pp-set-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    assert_null(tmp_set(dir, sizeof dir, rules, "set t.hi\nvariant\n  HI {command}.\n"));
    rm_set(dir);
    pp_errors_clear(&e);
}

static void test_dialog_commands(void **state)
{
    pp_ruleset *rs = *state;
    pp_session *s = pp_session_new();
    pp_dialog d = { .rules = rs, .key = "test:1", .session = s };
    pp_answer a;
    assert_int_equal(pp_dialog_turn(&d, "/why", 4, &a), 0);
    assert_non_null(strstr(a.text, "nothing to explain"));
    pp_answer_clear(&a);
    pp_dialog_turn(&d, "he pulls away", 13, &a);
    assert_int_equal(a.had_reply, 1);
    pp_answer_clear(&a);
    pp_dialog_turn(&d, "/why@pushpull_bot", 17, &a);
    assert_int_equal(a.command, 1);
    assert_non_null(strstr(a.text, "test.pulls-away"));
    assert_non_null(strstr(a.text, "test.rules:"));
    assert_non_null(strstr(a.text, "The Intimacy-Distance Dance"));
    pp_answer_clear(&a);
    pp_dialog_turn(&d, "!help", 5, &a);
    assert_non_null(strstr(a.text, "HELP"));
    assert_non_null(strstr(a.text, "emergency"));
    pp_answer_clear(&a);
    pp_dialog_turn(&d, "/reset", 6, &a);
    assert_null(pp_session_framework(s));
    pp_answer_clear(&a);
    const char *rf = "/reframe You never plan anything for us";
    pp_dialog_turn(&d, rf, strlen(rf), &a);                  /* same layout as `pushpull reframe` */
    assert_non_null(strstr(a.text, "Found: criticism\n"));
    assert_non_null(strstr(a.text, "Try saying:\n  I feel"));
    pp_answer_clear(&a);
    pp_dialog_turn(&d, "/frobnicate", 11, &a);
    assert_non_null(strstr(a.text, "/help"));
    pp_answer_clear(&a);
    pp_dialog_turn(&d, "/forget", 7, &a);
    assert_int_equal(a.forgot, 1);
    assert_int_equal(pp_session_turns(s), 0);
    pp_answer_clear(&a);
    pp_dialog_turn(&d, "/quit", 5, &a);
    assert_int_equal(a.quit, 1);
    pp_answer_clear(&a);
    pp_session_free(s);
}

int main(void)
{
    paths();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loader_reports_every_error),
        cmocka_unit_test(test_loader_missing_dir),
        cmocka_unit_test(test_loader_region),
        cmocka_unit_test(test_match_limits),
        cmocka_unit_test(test_match_step_budget),
        cmocka_unit_test(test_match_weighs_sides),
        cmocka_unit_test(test_normalize),
        cmocka_unit_test(test_session_used_table),
        cmocka_unit_test(test_session_disclosure),
        cmocka_unit_test_setup_teardown(test_match_priority_and_exclusion, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reply_pronouns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reply_no_repeat_and_roles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reply_threads_share_set, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reply_captures_and_reflection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reply_single_fitting_variant, setup, teardown),
        cmocka_unit_test_setup_teardown(test_safety_lock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_followup_after, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dialog_commands, setup, teardown),
        cmocka_unit_test(test_system_sentences),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
