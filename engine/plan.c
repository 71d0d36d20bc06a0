/* plan.c -- programs and check-ins in the conversation.
 *
 * /plan lists the programs, starts one, says where the user is, pauses,
 * resumes or stops it; /checkin asks the 1-10 connection question;
 * /progress charts the scores kept in the store.  Around an ordinary turn:
 * before it, a line may answer what the coach asked (a score, the line
 * about it, how a step went); after it, the coach may offer a program once
 * its framework came up often enough (once per program, never again if
 * ignored), and on the first line of the user's day in a program it asks
 * the check-in question (a check-in day) or how the last step went.
 *
 * Safety first: every answer is screened by the crisis rules before it is
 * read as a score or a note, and a line that reveals danger goes to the
 * ordinary turn (the safety reply, the lock); a safety-locked session gets
 * no program step, no offer and no check-in prompt.
 *
 * What the coach keeps: where the user is lives in the session (saved
 * with it); the scores live in the store's checkin table, written through
 * d->plans.  Every sentence is a system.plan-* / system.checkin-* /
 * system.progress-* set (responses/programs.responses).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

#define SAYV(b, d, id, vars, fallback) ppy_system_text(b, (d)->rules, (d)->session, id, vars, fallback)
#define NOTE_MAX 280
#define CHART_MAX 400

static void para(ppb_buf *b)
{
    if (b->len) ppb_adds(b, "\n\n");
}

/* ---- a program's step, in words ---------------------------------------- */

static void fill(ppb_buf *b, const pp_ruleset *rs, const pp_session *s, const char *t)
{
    ppy_template_fill(b, rs, s, t ? t : "", NULL);
}

/* "{title}, day {day} of {days}: {step}" */
static void today_text(ppb_buf *b, const pp_ruleset *rs, const pp_session *s, const ppp_program *p,
                       int day)
{
    const ppp_step *st = ppp_step_on(p, day);
    ppb_buf step = {0};
    fill(&step, rs, s, st ? st->todo : "");
    char dn[16], dd[16];
    snprintf(dn, sizeof dn, "%d", day);
    snprintf(dd, sizeof dd, "%d", p->days);
    const char *vars[] = { "title", p->title, "day", dn, "days", dd,
                           "step", step.s ? step.s : "", NULL };
    ppy_system_text(b, rs, s, "system.plan-today", vars, "{title}, day {day} of {days}: {step}");
    free(step.s);
}

static void question(ppb_buf *b, const pp_dialog *d)
{
    SAYV(b, d, "system.checkin-question", NULL,
         "On a scale of 1 to 10, how connected do you feel to {partner} today? Send the number.");
}

/* ---- reading an answer ------------------------------------------------- */

/* Would the crisis rules answer this line?  Asked of a fresh session, so
 * the conversation is not changed; 1 yes, 0 no (and on failure: the line
 * then goes to the ordinary turn, which screens it again). */
static int crisis_line(const pp_ruleset *rs, const char *t, size_t n)
{
    pp_session *fresh = pp_session_new();
    pp_reply r;
    int crisis = 1;
    if (fresh && pp_reply_make(rs, fresh, t, n, &r) == 0) {
        crisis = r.safety;
        pp_reply_clear(&r);
    }
    pp_session_free(fresh);
    return crisis;
}

/* A score at the start of the line ("6", "a 6", "6/10", "7 out of 10,
 * we talked"): 1-10, 0 for a number outside it, -1 for no number.
 * *rest points to what follows (a note), past separators. */
static int read_score(const char *t, size_t n, const char **rest, size_t *rest_len, int *out_of)
{
    *out_of = 0;
    static const char *const lead[] = { "a ", "about ", "maybe ", "around ", "i'd say ", "id say ",
                                        "i think ", "probably ", "like ", NULL };
    size_t i = 0;
    while (i < n && isspace((unsigned char)t[i])) i++;
    for (int k = 0; lead[k]; k++) {
        size_t m = strlen(lead[k]);
        if (n - i > m && strncasecmp(t + i, lead[k], m) == 0) { i += m; break; }
    }
    if (i >= n || !isdigit((unsigned char)t[i])) return -1;
    long v = 0;
    size_t digits = 0;
    while (i < n && isdigit((unsigned char)t[i]) && digits < 4) v = v * 10 + (t[i++] - '0'), digits++;
    if (i < n && (isdigit((unsigned char)t[i]) || isalpha((unsigned char)t[i]))) return -1;   /* "3am", "12345" */
    if (i + 3 <= n && strncmp(t + i, "/10", 3) == 0) i += 3, *out_of = 1;
    else if (i + 10 <= n && strncasecmp(t + i, " out of 10", 10) == 0) i += 10, *out_of = 1;
    while (i < n && (isspace((unsigned char)t[i]) || strchr(",.;:-!", t[i]))) i++;
    *rest = t + i;
    *rest_len = n - i;
    return v >= 1 && v <= 10 ? (int)v : 0;
}

/* The note as kept: its first line, at most NOTE_MAX bytes. */
static void note_of(char *dst, size_t size, const char *t, size_t n)
{
    size_t m = 0;
    while (m < n && t[m] != '\n' && t[m] != '\r') m++;
    if (m > size - 1) m = size - 1;
    if (m > NOTE_MAX) m = NOTE_MAX;
    char tmp[NOTE_MAX + 2];
    memcpy(tmp, t, m);
    tmp[m] = '\0';
    m = ppu_cut(tmp, m);
    memcpy(dst, t, m);
    dst[m] = '\0';
    while (m > 0 && isspace((unsigned char)dst[m - 1])) dst[--m] = '\0';
}

static int is_skip(const char *t, size_t n)
{
    static const char *const skip[] = { "skip", "no", "nope", "nothing", "pass", "none", "n/a",
                                        "not now", "no thanks", NULL };
    while (n && (isspace((unsigned char)t[n - 1]) || t[n - 1] == '.' || t[n - 1] == '!')) n--;
    while (n && isspace((unsigned char)*t)) t++, n--;
    for (int k = 0; skip[k]; k++)
        if (strlen(skip[k]) == n && strncasecmp(t, skip[k], n) == 0) return 1;
    return 0;
}

static void record(pp_dialog *d, ppb_buf *b, int score, const char *note, size_t note_len)
{
    pp_session *s = d->session;
    ppp_state *p = &s->plan;
    char err[256] = "", nb[NOTE_MAX + 4] = "";
    if (note_len) note_of(nb, sizeof nb, note, note_len);
    if (pp_checkin_record(d->plans, d->key, score, nb[0] ? nb : NULL, d->now, d->utc_offset,
                          err, sizeof err) != 0) {
        const char *vars[] = { "error", err, NULL };
        SAYV(b, d, "system.checkin-failed", vars, "I couldn't keep that score: {error}");
        p->pending = PP_PENDING_NONE;
        return;
    }
    p->checkin_day = ppp_day(d->now, d->utc_offset);
    char sc[8];
    snprintf(sc, sizeof sc, "%d", score);
    const char *vars[] = { "score", sc, NULL };
    if (nb[0]) {
        SAYV(b, d, "system.checkin-kept-note", vars, "Thank you: {score}, and what you said about it, are kept.");
        p->pending = PP_PENDING_NONE;
    } else {
        SAYV(b, d, "system.checkin-kept", vars, "Thank you: {score} is kept. What made it a {score}?");
        p->pending = PP_PENDING_NOTE;
        p->note_at = d->now;
    }
}

int ppp_answer(pp_dialog *d, const char *bytes, size_t len, ppb_buf *b)
{
    pp_session *s = d->session;
    ppp_state *p = &s->plan;
    long long today = ppp_day(d->now, d->utc_offset);
    int due = ppp_due(d->rules, s, today);
    int pending = p->pending;
    if (!pending && !due) return 0;
    if (!bytes || !len) return 0;
    if (crisis_line(d->rules, bytes, len)) {
        p->pending = PP_PENDING_NONE;      /* the safety reply, never a score */
        return 0;
    }
    if (s->safety_lock) { p->pending = PP_PENDING_NONE; return 0; }
    const char *rest;
    size_t rest_len;
    if (pending == PP_PENDING_NOTE) {
        p->pending = PP_PENDING_NONE;
        if (is_skip(bytes, len)) {
            SAYV(b, d, "system.checkin-no-note", NULL, "That's fine; the number says enough.");
            return 1;
        }
        /* a question or a story is for the coach, not a note */
        if (len > NOTE_MAX || memchr(bytes, '?', len)) return 0;
        char nb[NOTE_MAX + 4];
        note_of(nb, sizeof nb, bytes, len);
        char err[256] = "";
        if (!d->plans || !nb[0] ||
            ppk_checkin_note(d->plans, d->key, p->note_at, nb, err, sizeof err) != 0)
            return 0;
        SAYV(b, d, "system.checkin-note-kept", NULL, "Thank you; I've kept that with the score.");
        return 1;
    }
    if (pending == PP_PENDING_STEP) {
        p->pending = PP_PENDING_NONE;
        const ppp_program *pg = ppp_find(d->rules, p->program);
        const ppp_step *st = ppp_step_on(pg, p->asked_day);
        int kind = st ? ppp_answer_kind(d->rules, bytes, len) : -1;
        if (kind < 0) return 0;
        fill(b, d->rules, s, st->reply[kind]);
        int day = ppp_program_day(s, today);
        if (pg && day <= pg->days && !p->paused) {
            para(b);
            today_text(b, d->rules, s, pg, day);
        }
        return 1;
    }
    int out_of;
    int score = read_score(bytes, len, &rest, &rest_len, &out_of);
    /* unasked, only a bare number or "N/10" is a score: "3 years ago..." is not */
    if (pending != PP_PENDING_SCORE && !out_of && rest_len) score = -1;
    if (score < 0) {
        if (pending == PP_PENDING_SCORE) p->pending = PP_PENDING_NONE;   /* they went on talking */
        return 0;
    }
    if (score == 0) {
        SAYV(b, d, "system.checkin-range", NULL, "A whole number from 1 to 10, please.");
        p->pending = PP_PENDING_SCORE;
        return 1;
    }
    if (!d->plans) {
        SAYV(b, d, "system.checkin-nostore", NULL, "I can't keep scores here: there is no state file.");
        p->pending = PP_PENDING_NONE;
        return 1;
    }
    record(d, b, score, rest, rest_len);
    return 1;
}

/* ---- after an ordinary reply ------------------------------------------- */

/* The offer of a program whose framework came up offer_after times, once. */
static void offer(pp_dialog *d, const pp_reply *r, ppb_buf *b)
{
    pp_session *s = d->session;
    ppp_state *ps = &s->plan;
    if (!r->framework || ps->program[0]) return;
    for (size_t i = 0; i < d->rules->n_programs; i++) {
        const ppp_program *p = &d->rules->programs[i];
        if (!p->offer_after || strcmp(p->framework, r->framework) != 0) continue;
        int k = 0;
        while (k < PP_PLAN_OFFERS && ps->offers[k].program[0] && strcmp(ps->offers[k].program, p->id)) k++;
        if (k == PP_PLAN_OFFERS) continue;
        if (!ps->offers[k].program[0]) ppe_strlcpy(ps->offers[k].program, p->id, PP_ID_MAX);
        if (ps->offers[k].offered) continue;
        if (++ps->offers[k].count < (unsigned)p->offer_after) continue;
        ps->offers[k].offered = 1;
        char days[16];
        snprintf(days, sizeof days, "%d", p->days);
        const char *vars[] = { "program", p->id, "title", p->title, "days", days,
                               "article", p->article ? p->article : "", NULL };
        para(b);
        SAYV(b, d, "system.plan-offer", vars,
             "If you'd like to practise this, there is a program: /plan {program}. Only if you want it.");
        return;
    }
}

void ppp_after(pp_dialog *d, const pp_reply *r, ppb_buf *b)
{
    pp_session *s = d->session;
    ppp_state *ps = &s->plan;
    if (r->safety || s->safety_lock) { ps->pending = PP_PENDING_NONE; return; }
    offer(d, r, b);
    long long today = ppp_day(d->now, d->utc_offset);
    if (!ps->program[0] || ps->paused || ps->seen_day == today) return;
    ps->seen_day = today;
    const ppp_program *p = ppp_find(d->rules, ps->program);
    int day = ppp_program_day(s, today);
    if (!p || day > p->days) {
        const char *vars[] = { "title", p ? p->title : ps->program, NULL };
        para(b);
        SAYV(b, d, "system.plan-finished", vars, "You've come to the end of {title}. Well done.");
        ps->program[0] = '\0';
        return;
    }
    para(b);
    if (ppp_due(d->rules, s, today)) {
        SAYV(b, d, "system.checkin-due", NULL, "It's a check-in day.");
        ppb_adds(b, " ");
        question(b, d);
        ps->pending = PP_PENDING_SCORE;
        return;
    }
    const ppp_step *st = day > 1 ? ppp_step_on(p, day - 1) : NULL;
    if (st && st->ask && st->ask[0]) {
        fill(b, d->rules, s, st->ask);
        ps->pending = PP_PENDING_STEP;
        ps->asked_day = day - 1;
    } else {
        today_text(b, d->rules, s, p, day);
    }
}

/* ---- /plan ------------------------------------------------------------- */

static void list_programs(ppb_buf *b, const pp_dialog *d)
{
    const pp_ruleset *rs = d->rules;
    if (!rs->n_programs) {
        SAYV(b, d, "system.plan-none", NULL, "There are no programs here yet.");
        return;
    }
    SAYV(b, d, "system.plan-list", NULL, "Programs you can follow (start one with /plan NAME):");
    for (size_t i = 0; i < rs->n_programs; i++) {
        const ppp_program *p = &rs->programs[i];
        char days[16];
        snprintf(days, sizeof days, "%d", p->days);
        ppb_buf sum = {0};
        fill(&sum, rs, d->session, p->summary);
        const char *vars[] = { "program", p->id, "title", p->title, "days", days,
                               "article", p->article ? p->article : "",
                               "summary", sum.s ? sum.s : "", NULL };
        ppb_adds(b, "\n");
        SAYV(b, d, "system.plan-item", vars, "- /plan {program}: {title} ({days} days). {summary}");
        free(sum.s);
    }
}

static void status(ppb_buf *b, const pp_dialog *d, long long today)
{
    const ppp_state *ps = &d->session->plan;
    const ppp_program *p = ppp_find(d->rules, ps->program);
    if (!p) {
        const char *vars[] = { "program", ps->program, NULL };
        SAYV(b, d, "system.plan-gone", vars, "The program {program} is not here any more; /plan stop ends it.");
        return;
    }
    int day = ppp_program_day(d->session, today);
    if (day > p->days) {
        const char *vars[] = { "title", p->title, NULL };
        SAYV(b, d, "system.plan-finished", vars, "You've come to the end of {title}. Well done.");
        return;
    }
    today_text(b, d->rules, d->session, p, day);
    para(b);
    if (ps->paused) SAYV(b, d, "system.plan-paused-note", NULL, "(Paused: /plan resume goes on.)");
    else SAYV(b, d, "system.plan-controls", NULL, "/plan pause, /plan stop.");
}

void ppp_cmd(ppb_buf *b, pp_dialog *d, const char *args, size_t n)
{
    pp_session *s = d->session;
    ppp_state *ps = &s->plan;
    long long today = ppp_day(d->now, d->utc_offset);
    char word[PP_ID_MAX] = "";
    while (n && isspace((unsigned char)args[n - 1])) n--;
    if (n >= sizeof word) n = sizeof word - 1;
    for (size_t i = 0; i < n; i++) word[i] = (char)tolower((unsigned char)args[i]);
    word[n] = '\0';
    const char *vars[] = { "title", "", "program", word, NULL };
    const ppp_program *cur = ppp_find(d->rules, ps->program);
    if (cur) vars[1] = cur->title;
    if (!word[0]) {
        if (s->safety_lock) SAYV(b, d, "system.plan-locked", NULL, "Your safety comes first now.");
        else if (ps->program[0]) status(b, d, today);
        else list_programs(b, d);
        return;
    }
    if (strcmp(word, "pause") == 0 || strcmp(word, "resume") == 0 || strcmp(word, "stop") == 0) {
        if (!ps->program[0]) { SAYV(b, d, "system.plan-not-running", NULL, "You're not following a program."); return; }
        if (strcmp(word, "stop") == 0) {
            vars[1] = cur ? cur->title : ps->program;
            SAYV(b, d, "system.plan-stopped", vars, "I've stopped {title}.");
            ps->program[0] = '\0';
            ps->paused = 0;
            ps->pending = PP_PENDING_NONE;
        } else if (word[0] == 'p') {
            if (!ps->paused) { ps->paused = 1; ps->paused_on = today; }
            ps->pending = PP_PENDING_NONE;
            SAYV(b, d, "system.plan-paused", vars, "{title} is paused; /plan resume goes on where you left it.");
        } else {
            if (ps->paused) {
                if (today > ps->paused_on) ps->paused_days += today - ps->paused_on;
                ps->paused = 0;
            }
            if (s->safety_lock) { SAYV(b, d, "system.plan-locked", NULL, "Your safety comes first now."); return; }
            SAYV(b, d, "system.plan-resumed", vars, "Welcome back to {title}.");
            para(b);
            ps->seen_day = today;
            today_text(b, d->rules, s, cur, ppp_program_day(s, today));
        }
        return;
    }
    const ppp_program *p = ppp_find(d->rules, word);
    if (!p) {
        const ppp_program *near = ppp_nearest(d->rules, word);
        if (near) {
            const char *nv[] = { "program", word, "near", near->id, "title", near->title, NULL };
            SAYV(b, d, "system.plan-did-you-mean", nv,
                 "I don't know a program called {program}. Did you mean /plan {near} ({title})?");
        } else {
            SAYV(b, d, "system.plan-unknown", vars, "There is no program {program}; /plan lists them.");
        }
        return;
    }
    if (s->safety_lock) { SAYV(b, d, "system.plan-locked", NULL, "Your safety comes first now."); return; }
    if (ps->program[0] && strcmp(ps->program, p->id) != 0) {
        SAYV(b, d, "system.plan-busy", vars, "You're following {title}; /plan stop ends it first.");
        return;
    }
    if (ps->program[0]) { status(b, d, today); return; }
    ppe_strlcpy(ps->program, p->id, sizeof ps->program);
    ps->started = today;
    ps->paused = 0;
    ps->paused_days = 0;
    ps->seen_day = today;
    ps->pending = PP_PENDING_NONE;
    char days[16];
    snprintf(days, sizeof days, "%d", p->days);
    ppb_buf sum = {0};
    fill(&sum, d->rules, s, p->summary);
    const char *sv[] = { "title", p->title, "days", days, "article", p->article ? p->article : "",
                         "summary", sum.s ? sum.s : "", NULL };
    SAYV(b, d, "system.plan-started", sv, "Starting {title} ({days} days). {summary}");
    free(sum.s);
    para(b);
    today_text(b, d->rules, s, p, 1);
    if (ppp_due(d->rules, s, today)) {
        para(b);
        question(b, d);
        ps->pending = PP_PENDING_SCORE;
    }
}

/* ---- /checkin ---------------------------------------------------------- */

void ppp_checkin_cmd(ppb_buf *b, pp_dialog *d)
{
    pp_session *s = d->session;
    if (s->safety_lock) {
        SAYV(b, d, "system.checkin-locked", NULL, "Your safety comes first now.");
        return;
    }
    if (!d->plans) {
        SAYV(b, d, "system.checkin-nostore", NULL, "I can't keep scores here: there is no state file.");
        return;
    }
    question(b, d);
    s->plan.pending = PP_PENDING_SCORE;
}

/* ---- /progress --------------------------------------------------------- */

typedef struct scores {
    pp_checkin c[CHART_MAX];
    size_t n, total;
} scores;

static int take(const pp_checkin *c, void *arg)
{
    scores *sc = arg;
    if (sc->n == CHART_MAX) { memmove(sc->c, sc->c + 1, (CHART_MAX - 1) * sizeof *sc->c); sc->n--; }
    sc->c[sc->n] = *c;
    sc->c[sc->n].note = NULL;   /* valid during the call only */
    sc->n++;
    sc->total++;
    return 0;
}

/* "Mon 30 Nov" for a day number */
static void day_label(char *buf, size_t len, long long day)
{
    time_t t = (time_t)(day * 86400);
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(buf, len, "%a %d %b", &tm)) snprintf(buf, len, "day %lld", day);
}

/* The most frequent score of c[from..to) (the lower one on a tie). */
static int mostly(const scores *sc, size_t from, size_t to)
{
    int count[11] = {0}, best = 0;
    for (size_t i = from; i < to; i++) count[sc->c[i].score]++;
    for (int v = 1; v <= 10; v++) if (count[v] > count[best]) best = v;
    return best;
}

/* The distinct scores of c[from..to), ascending: "6 and 7", "4, 5 and 6". */
static void score_list(ppb_buf *b, const pp_dialog *d, const scores *sc, size_t from, size_t to)
{
    int seen[11] = {0}, k = 0, n = 0;
    for (size_t i = from; i < to; i++) seen[sc->c[i].score] = 1;
    for (int v = 1; v <= 10; v++) n += seen[v];
    for (int v = 1; v <= 10; v++) {
        if (!seen[v]) continue;
        if (k > 0 && k == n - 1) {
            ppb_adds(b, " ");
            SAYV(b, d, "system.progress-and", NULL, "and");
            ppb_adds(b, " ");
        } else if (k > 0) {
            ppb_adds(b, ", ");
        }
        ppb_addf(b, "%d", v);
        k++;
    }
}

static double mean(const scores *sc, size_t from, size_t to)
{
    double t = 0;
    for (size_t i = from; i < to; i++) t += sc->c[i].score;
    return to > from ? t / (double)(to - from) : 0;
}

/* The short honest reading: the first week against this one. */
static void reading(ppb_buf *b, const pp_dialog *d, const scores *sc, long long today)
{
    size_t week = sc->n;     /* the first of this week's (the last 7 days) */
    while (week > 0 && sc->c[week - 1].day > today - 7) week--;
    long long first = sc->c[0].day;
    size_t early = 0;        /* the end of the first week's */
    while (early < sc->n && sc->c[early].day < first + 7) early++;
    ppb_buf now = {0}, before = {0};
    score_list(&now, d, sc, week, sc->n);
    score_list(&before, d, sc, 0, early);
    char weeks[24], was[16];
    snprintf(weeks, sizeof weeks, "%lld", (today - first) / 7);
    snprintf(was, sizeof was, "%d", mostly(sc, 0, early));
    const char *vars[] = { "weeks", weeks, "before", was, "now", now.s ? now.s : "",
                           "all", before.s ? before.s : "", NULL };
    if (first > today - 7) {
        SAYV(b, d, sc->n < 3 ? "system.progress-start" : "system.progress-one-week", vars,
             "So far: {all}.");
    } else if (week == sc->n) {
        SAYV(b, d, "system.progress-quiet", vars,
             "{weeks} weeks ago you were mostly at {before}; nothing this week yet.");
    } else {
        SAYV(b, d, (today - first) / 7 == 1 ? "system.progress-trend-1" : "system.progress-trend",
             vars, "{weeks} weeks ago you were mostly at {before}; this week {now}.");
        double diff = mean(sc, week, sc->n) - mean(sc, 0, early);
        ppb_adds(b, " ");
        SAYV(b, d, diff >= 1 ? "system.progress-up" : diff <= -1 ? "system.progress-down"
                   : "system.progress-same", NULL, "");
    }
    free(now.s);
    free(before.s);
}

void ppp_progress_cmd(ppb_buf *b, pp_dialog *d)
{
    if (!d->plans) {
        SAYV(b, d, "system.checkin-nostore", NULL, "I can't keep scores here: there is no state file.");
        return;
    }
    scores *sc = calloc(1, sizeof *sc);
    char err[256] = "";
    if (!sc) { b->oom = 1; return; }
    if (pp_store_checkins(d->plans, d->key, 0, take, sc, err, sizeof err) != 0) {
        const char *vars[] = { "error", err, NULL };
        SAYV(b, d, "system.checkin-failed", vars, "I couldn't read the scores: {error}");
        free(sc);
        return;
    }
    if (!sc->n) {
        SAYV(b, d, "system.progress-empty", NULL, "No check-ins yet: /checkin starts one.");
        free(sc);
        return;
    }
    char n[16], since[32];
    snprintf(n, sizeof n, "%zu", sc->total);
    day_label(since, sizeof since, sc->c[0].day);
    const char *vars[] = { "count", n, "since", since, NULL };
    SAYV(b, d, "system.progress-title", vars, "Connection, 1 to 10 ({count} check-ins since {since}):");
    /* the sparkline: the last 30, one block each (UTF-8 only); ten
     * scores on eight heights, 3 to 8 (where most scores are) apart */
    static const unsigned char height[11] = { 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 7 };
    static const char *const blocks[] = { "\xe2\x96\x81", "\xe2\x96\x82", "\xe2\x96\x83",
                                          "\xe2\x96\x84", "\xe2\x96\x85", "\xe2\x96\x86",
                                          "\xe2\x96\x87", "\xe2\x96\x88" };
    size_t from = sc->n > 30 ? sc->n - 30 : 0;
    if (!d->ascii) {
        ppb_adds(b, "\n");
        for (size_t i = from; i < sc->n; i++) ppb_adds(b, blocks[height[sc->c[i].score]]);
    }
    /* one row each for the last ones: the day, the score, a bar */
    size_t rows = d->ascii ? 10 : 7;
    from = sc->n > rows ? sc->n - rows : 0;
    for (size_t i = from; i < sc->n; i++) {
        char label[32];
        day_label(label, sizeof label, sc->c[i].day);
        ppb_addf(b, "\n%s %2d ", label, sc->c[i].score);
        for (int k = 0; k < sc->c[i].score; k++) ppb_adds(b, d->ascii ? "#" : "\xe2\x96\x88");
    }
    ppb_adds(b, "\n\n");
    reading(b, d, sc, ppp_day(d->now, d->utc_offset));
    free(sc);
}

/* ---- for the front ends ------------------------------------------------ */

int pp_dialog_wants_plans(const pp_session *s, const char *bytes, size_t len,
                          long long now, int utc_offset)
{
    pp_command c = pp_dialog_command(bytes, len);
    if (c == PP_CMD_PLAN || c == PP_CMD_CHECKIN || c == PP_CMD_PROGRESS || c == PP_CMD_FORGET ||
        c == PP_CMD_EXPORT)
        return 1;
    if (!s) return 0;
    if (s->plan.pending) return 1;
    return s->plan.program[0] && s->plan.seen_day != ppp_day(now, utc_offset);
}

int pp_plan_nudge(const pp_ruleset *rs, pp_store *st, const char *key, long long now,
                  int utc_offset, char **text, char *err, size_t errlen)
{
    *text = NULL;
    if (!rs || !st || !key) {
        if (err && errlen) snprintf(err, errlen, "no rules, store or key");
        return PP_EINPUT;
    }
    pp_session *s = pp_session_new();
    if (!s) return PP_ENOMEM;
    int got = pp_store_load(st, key, s, err, errlen);
    if (got <= 0 || s->safety_lock) {
        pp_session_free(s);
        return got < 0 ? got : 0;
    }
    long long today = ppp_day(now, utc_offset);
    const ppp_state *ps = &s->plan;
    const ppp_program *p = ppp_find(rs, ps->program);
    int day = ppp_program_day(s, today);
    ppb_buf b = {0};
    if (p && !ps->paused && day <= p->days) today_text(&b, rs, s, p, day);
    if (ppp_due(rs, s, today)) {
        if (b.len) ppb_adds(&b, "\n\n");
        ppy_system_text(&b, rs, s, "system.checkin-question", NULL,
                       "On a scale of 1 to 10, how connected do you feel to {partner} today? Send the number.");
    }
    pp_session_free(s);
    if (b.oom) { free(b.s); return PP_ENOMEM; }
    if (!b.len) { free(b.s); return 0; }
    *text = ppb_take(&b);
    return *text ? 1 : PP_ENOMEM;
}
