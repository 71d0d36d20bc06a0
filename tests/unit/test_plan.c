/* test_plan.c -- unit tests of programs and check-ins (engine/program.c,
 * engine/plan.c) through the public API the reminders use: the shipped
 * programs load; pp_plan_nudge gives today's step and, on a check-in day,
 * the question, nothing while paused, nothing once the session is
 * safety-locked; pp_checkin_record refuses a score outside 1-10 and keeps
 * the rest, read back with pp_store_checkins; pp_dialog_wants_plans says
 * which lines need the store.  A real store file, real turns, the time
 * given (never the clock).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "pushpull.h"

#define D0 1764669600LL   /* Tue 2 Dec 2025, 10:00 UTC */
#define DAY 86400LL

static pp_ruleset *rs;

static int group_setup(void **state)
{
    (void)state;
    const char *src = getenv("SRC");
    char rules[512], responses[512], programs[512];
    snprintf(rules, sizeof rules, "%s/rules", src ? src : ".");
    snprintf(responses, sizeof responses, "%s/responses", src ? src : ".");
    snprintf(programs, sizeof programs, "%s/programs", src ? src : ".");
    pp_load_options opt = { rules, responses, NULL };
    pp_errors errs;
    pp_errors_init(&errs);
    rs = pp_rules_load(&opt, &errs);
    if (rs && pp_rules_load_programs(rs, programs, &errs) < 3) {
        pp_rules_free(rs);
        rs = NULL;
    }
    for (size_t i = 0; i < errs.count; i++) fprintf(stderr, "%s\n", errs.msg[i]);
    int bad = errs.count > 0;
    pp_errors_clear(&errs);
    return rs && !bad ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    pp_rules_free(rs);
    return 0;
}

typedef struct conv {
    char dir[256], db[300];
    pp_store *st;
    pp_session *s;
    pp_dialog d;
} conv;

static void open_conv(conv *c)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(c->dir, sizeof c->dir, "%s/planXXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    assert_non_null(mkdtemp(c->dir));
    snprintf(c->db, sizeof c->db, "%s/state.db", c->dir);
    char err[256];
    c->st = pp_store_open(c->db, err, sizeof err);
    assert_non_null(c->st);
    c->s = pp_session_new();
    assert_non_null(c->s);
    memset(&c->d, 0, sizeof c->d);
    c->d.rules = rs;
    c->d.store = c->st;
    c->d.plans = c->st;
    c->d.key = "cli:plan";
    c->d.session = c->s;
}

static void close_conv(conv *c)
{
    pp_session_free(c->s);
    pp_store_close(c->st);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", c->dir);
    assert_int_equal(system(cmd), 0);
}

/* One turn at time now; the answer's text, malloc'd. */
static char *say(conv *c, long long now, const char *line)
{
    c->d.now = now;
    pp_answer a;
    int rc = pp_dialog_turn(&c->d, line, strlen(line), &a);
    assert_int_equal(rc, 0);
    char *t = strdup(a.text ? a.text : "");
    pp_answer_clear(&a);
    return t;
}

static char *nudge(conv *c, long long now, int want)
{
    char *text = (char *)1, err[256] = "";
    int rc = pp_plan_nudge(rs, c->st, c->d.key, now, 0, &text, err, sizeof err);
    if (rc != want) fail_msg("pp_plan_nudge: %d, want %d (%s)", rc, want, err);
    if (want == 0) assert_null(text);
    return text;
}

static void test_programs_loaded(void **state)
{
    (void)state;
    assert_int_equal(pp_programs_count(rs), 3);
    int found = 0;
    for (size_t i = 0; i < pp_programs_count(rs); i++) {
        pp_program_info in;
        assert_int_equal(pp_programs_info(rs, i, &in), 0);
        if (strcmp(in.id, "ten-weeks") == 0) {
            found = 1;
            assert_int_equal(in.days, 70);
            assert_int_equal(in.n_steps, 3);
            assert_string_equal(in.framework, "micro-vulnerability");
            assert_non_null(strstr(in.article, "Why We Push Away the People We Love"));
        }
    }
    assert_true(found);
    pp_program_info in;
    assert_int_equal(pp_programs_info(rs, 99, &in), PP_EINPUT);
}

static void test_nudge(void **state)
{
    (void)state;
    conv c;
    open_conv(&c);
    nudge(&c, D0, 0);                        /* nothing saved yet */
    free(say(&c, D0, "/plan ten-weeks"));
    char *t = nudge(&c, D0, 1);              /* day 1: a check-in day */
    assert_non_null(strstr(t, "day 1 of 70"));
    assert_non_null(strstr(t, "how connected"));
    free(t);
    t = nudge(&c, D0 + DAY, 1);              /* day 2: the step alone */
    assert_non_null(strstr(t, "day 2 of 70"));
    assert_null(strstr(t, "how connected"));
    free(t);
    t = nudge(&c, D0 + 7 * DAY, 1);          /* day 8: weekly check-in */
    assert_non_null(strstr(t, "how connected"));
    free(t);
    t = nudge(&c, D0 + 63 * DAY, 1);         /* day 64: weeks 9-10, daily */
    assert_non_null(strstr(t, "not going anywhere"));
    assert_non_null(strstr(t, "how connected"));
    free(t);
    nudge(&c, D0 + 70 * DAY, 0);             /* day 71: the plan is over */
    free(say(&c, D0 + DAY, "/plan pause"));
    nudge(&c, D0 + 2 * DAY, 0);              /* paused */
    free(say(&c, D0 + 3 * DAY, "/plan resume"));
    t = nudge(&c, D0 + 3 * DAY, 1);          /* two days paused: day 2 */
    assert_non_null(strstr(t, "day 2 of 70"));
    free(t);
    /* an abuse disclosure locks the session: nothing unprompted */
    t = say(&c, D0 + 3 * DAY, "my husband hit me last night and I am scared");
    free(t);
    assert_true(pp_session_safety_locked(c.s));
    nudge(&c, D0 + 7 * DAY, 0);
    t = say(&c, D0 + 7 * DAY, "/checkin");
    assert_null(strstr(t, "how connected"));
    free(t);
    close_conv(&c);
}

static int collect(const pp_checkin *ck, void *arg)
{
    char *buf = arg;
    size_t n = strlen(buf);
    snprintf(buf + n, 200 - n, "%d:%s;", ck->score, ck->note ? ck->note : "-");
    return 0;
}

static void test_record(void **state)
{
    (void)state;
    conv c;
    open_conv(&c);
    char err[256];
    assert_int_equal(pp_checkin_record(c.st, "cli:plan", 0, NULL, D0, 0, err, sizeof err), PP_EINPUT);
    assert_int_equal(pp_checkin_record(c.st, "cli:plan", 11, NULL, D0, 0, err, sizeof err), PP_EINPUT);
    assert_int_equal(pp_checkin_record(c.st, "cli:plan", 4, NULL, D0, 0, err, sizeof err), 0);
    assert_int_equal(pp_checkin_record(c.st, "cli:plan", 7, "a good talk", D0 + DAY, 3600, err, sizeof err), 0);
    assert_int_equal(pp_checkin_record(c.st, "cli:other", 2, NULL, D0, 0, err, sizeof err), 0);
    char got[200] = "";
    assert_int_equal(pp_store_checkins(c.st, "cli:plan", 0, collect, got, err, sizeof err), 0);
    assert_string_equal(got, "4:-;7:a good talk;");
    got[0] = '\0';
    assert_int_equal(pp_store_checkins(c.st, "cli:plan", D0 + 1, collect, got, err, sizeof err), 0);
    assert_string_equal(got, "7:a good talk;");
    assert_int_equal(pp_store_forget(c.st, "cli:plan", err, sizeof err), 0);
    got[0] = '\0';
    assert_int_equal(pp_store_checkins(c.st, "cli:plan", 0, collect, got, err, sizeof err), 0);
    assert_string_equal(got, "");
    assert_int_equal(pp_store_checkins(c.st, "cli:other", 0, collect, got, err, sizeof err), 0);
    assert_string_equal(got, "2:-;");
    close_conv(&c);
}

static void test_wants_plans(void **state)
{
    (void)state;
    pp_session *s = pp_session_new();
    assert_int_equal(pp_dialog_wants_plans(s, "/progress", 9, D0, 0), 1);
    assert_int_equal(pp_dialog_wants_plans(s, "/CHECKIN@bot", 12, D0, 0), 1);
    assert_int_equal(pp_dialog_wants_plans(s, "hello", 5, D0, 0), 0);
    assert_int_equal(pp_dialog_wants_plans(s, "/why", 4, D0, 0), 0);
    assert_int_equal(pp_dialog_wants_plans(NULL, "hello", 5, D0, 0), 0);
    assert_int_equal(pp_plan_checkin_due(rs, s, D0, 0), 0);
    pp_session_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_programs_loaded),
        cmocka_unit_test(test_nudge),
        cmocka_unit_test(test_record),
        cmocka_unit_test(test_wants_plans),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
