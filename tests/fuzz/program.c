/* program.c -- fuzz target: the program file parser (programs/NAME.program,
 * docs/programs.md) and the calendar that walks a program.
 *
 * The input is one .program file.  It is parsed into a rule set of its own
 * (the shipped rules, loaded once; its programs and answer words are freed
 * before each input).  Invariants: every program that loads has an id, at
 * least one step, steps in order without overlap inside 1..days, days at
 * most 366, and every step an ask: line; walking a session through every
 * day of every program (ppp_due, ppp_step_on) never fails; the
 * answer kinds of the input's own first line are one of the four or none.
 */
#include "fuzz.h"
#include "internal.h"

static pp_ruleset *fz_program_rules(void)
{
    static pp_ruleset *rs;
    if (!rs) rs = fz_load_shipped();   /* its own copy: its programs change */
    return rs;
}

FUZZ_ENTRY(program)
{
    pp_ruleset *rs = fz_program_rules();
    char *buf = malloc(size + 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';

    ppp_free(rs);
    pp_errors errs;
    pp_errors_init(&errs);
    ppp_parse(rs, "fuzz.program", buf, &errs);
    for (size_t i = 0; i < errs.count; i++) FUZZ_CHECK(errs.msg[i] && errs.msg[i][0]);
    pp_errors_clear(&errs);

    pp_session *s = pp_session_new();
    FUZZ_CHECK(s != NULL);
    for (size_t i = 0; i < pp_programs_count(rs); i++) {
        pp_program_info info;
        FUZZ_CHECK(pp_programs_info(rs, i, &info) == 0);
        FUZZ_CHECK(info.id && info.id[0] && info.title);
        FUZZ_CHECK(info.n_steps >= 1 && info.days >= 1 && info.days <= 366);
        const ppp_program *p = &rs->programs[i];
        FUZZ_CHECK(ppp_find(rs, p->id) != NULL);
        for (size_t k = 0; k < p->n_steps; k++) {
            const ppp_step *st = &p->steps[k];
            FUZZ_CHECK(st->first >= 1 && st->first <= st->last && st->last <= p->days);
            FUZZ_CHECK(k == 0 || st->first > p->steps[k - 1].last);
            FUZZ_CHECK(st->ask != NULL);
        }
        /* a user who started it on day 1000 and checks in every day */
        memset(&s->plan, 0, sizeof s->plan);
        snprintf(s->plan.program, sizeof s->plan.program, "%s", p->id);
        s->plan.started = 1000;
        s->plan.checkin_day = -1;
        for (int d = 0; d <= p->days + 1; d++) {
            int day = ppp_program_day(s, 1000 + d);
            FUZZ_CHECK(day == d + 1);
            const ppp_step *st = ppp_step_on(p, day);
            int due = ppp_due(rs, s, 1000 + d);
            FUZZ_CHECK(due == 0 || due == 1);
            FUZZ_CHECK(!due || st != NULL);
        }
    }
    pp_session_free(s);

    const uint8_t *nl = memchr(data, '\n', size);
    int kind = ppp_answer_kind(rs, (const char *)data, nl ? (size_t)(nl - data) : size);
    FUZZ_CHECK(kind >= -1 && kind < PP_ANSWER_KINDS);
    free(buf);
    return 0;
}
