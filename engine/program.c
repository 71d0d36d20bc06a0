/* program.c -- programs: steps a user takes over days or weeks.
 *
 * A program file (programs/NAME.program, docs/programs.md) holds one or more
 * programs, each a block of `key: text` lines followed by its steps; a
 * step covers program days ("day 3", "days 1-7", "week 2", "weeks 1-4")
 * and says what to do, how the coach asks how it went and what it says to
 * each kind of answer (did it, partly, didn't, it went badly), and which
 * of its days ask the 1-10 connection check-in.  `answer KIND: ...` lines
 * list the phrases that tell the kinds apart.
 *
 * The reader is lenient where the rules reader is strict: a program with
 * a problem is left out, with file:line for each problem, and the others
 * load, so one bad edit never takes the coach down.  Texts are filled
 * like replies ({partner}, {they}, ...).
 *
 * Time: a program's days are the user's calendar days, counted from the
 * day it started, less the days it was paused.  Nothing here reads the
 * clock; every function is given the day.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "lang.h"

#define MAX_PROGRAM_DAYS 366
#define MAX_PROGRAMS 64

static const char *const answer_names[PP_ANSWER_KINDS] = { "did", "partly", "didnt", "badly" };


/* Add a line of text to *slot: joined by a space, "|" a paragraph break. */
static int add_text(char **slot, const char *line)
{
    size_t old = *slot ? strlen(*slot) : 0, n = strlen(line);
    char *t = realloc(*slot, old + n + 3);
    if (!t) return -1;
    if (strcmp(line, "|") == 0) {
        while (old > 0 && t[old - 1] == ' ') old--;
        memcpy(t + old, "\n\n", 3);
    } else {
        size_t at = old;
        if (old > 0 && t[old - 1] != '\n') t[at++] = ' ';
        memcpy(t + at, line, n + 1);
    }
    *slot = t;
    return 0;
}

static void free_step(ppp_step *st)
{
    free(st->todo);
    free(st->ask);
    for (int k = 0; k < PP_ANSWER_KINDS; k++) free(st->reply[k]);
}

static void free_program(ppp_program *p)
{
    for (size_t i = 0; i < p->n_steps; i++) free_step(&p->steps[i]);
    free(p->steps);
    free(p->title);
    free(p->summary);
    free(p->article);
    memset(p, 0, sizeof *p);
}

void ppp_free(pp_ruleset *rs)
{
    for (size_t i = 0; i < rs->n_programs; i++) free_program(&rs->programs[i]);
    free(rs->programs);
    rs->programs = NULL;
    rs->n_programs = 0;
    for (int k = 0; k < PP_ANSWER_KINDS; k++) {
        for (size_t i = 0; i < rs->answers[k].n; i++) free(rs->answers[k].phrases[i]);
        free(rs->answers[k].phrases);
        rs->answers[k].phrases = NULL;
        rs->answers[k].n = 0;
    }
}

const ppp_program *ppp_find(const pp_ruleset *rs, const char *id)
{
    for (size_t i = 0; rs && id && i < rs->n_programs; i++)
        if (strcmp(rs->programs[i].id, id) == 0) return &rs->programs[i];
    return NULL;
}

/* name folded for comparing: letters only, lowercase, a number written as
 * a word ("10-week" -> "tenweek"). */
static void fold_name(const char *name, char *out, size_t size)
{
    static const char *const numbers[] = { "zero", "one", "two", "three", "four", "five", "six",
        "seven", "eight", "nine", "ten", "eleven", "twelve" };
    size_t o = 0;
    for (const char *p = name; *p && o + 1 < size; p++) {
        if (isdigit((unsigned char)*p)) {
            char *end;
            long v = strtol(p, &end, 10);
            const char *w = v >= 0 && v <= 12 ? numbers[v] : "";
            for (; *w && o + 1 < size; w++) out[o++] = *w;
            p = end - 1;
        } else if (isalpha((unsigned char)*p)) {
            out[o++] = (char)tolower((unsigned char)*p);
        }
    }
    out[o] = '\0';
}

const ppp_program *ppp_nearest(const pp_ruleset *rs, const char *word)
{
    char w[64], id[64];
    fold_name(word, w, sizeof w);
    size_t lw = strlen(w);
    if (lw < 3) return NULL;
    const ppp_program *best = NULL;
    int best_d = 3;
    for (size_t i = 0; rs && i < rs->n_programs; i++) {
        const ppp_program *p = &rs->programs[i];
        fold_name(p->id, id, sizeof id);
        int cap = lw < 6 ? 1 : 2, d = ppl_edit_distance(w, id, cap);
        if (d > cap && lw >= 4 && strstr(id, w)) d = cap;   /* "loop": notice-the-loop */
        if (d <= cap && d < best_d) { best = p; best_d = d; }
    }
    return best;
}

/* "day 3", "days 1-7", "week 2", "weeks 1-4": program days first..last. */
static int parse_span(const char *p, int *first, int *last)
{
    int week;
    if (strncmp(p, "days ", 5) == 0 || strncmp(p, "day ", 4) == 0) week = 0;
    else if (strncmp(p, "weeks ", 6) == 0 || strncmp(p, "week ", 5) == 0) week = 1;
    else return -1;
    p = strchr(p, ' ') + 1;
    char *end;
    long a = strtol(p, &end, 10), b = a;
    if (end == p) return -1;
    if (*end == '-') {
        const char *q = end + 1;
        b = strtol(q, &end, 10);
        if (end == q) return -1;
    }
    if (*ppr_skip_space(end) != '\0' || a < 1 || b < a || b > MAX_PROGRAM_DAYS) return -1;
    *first = week ? (int)(a - 1) * 7 + 1 : (int)a;
    *last = week ? (int)b * 7 : (int)b;
    return *last > MAX_PROGRAM_DAYS ? -1 : 0;
}

typedef struct reader {
    pp_ruleset *rs;
    pp_errors *errs;
    const char *path;
    ppp_program cur;           /* the program being read */
    int in_program, bad;
    char **text;              /* the text key continuation lines go to */
} reader;

/* The program read so far: kept when whole, else dropped with a message. */
static void finish_program(reader *R)
{
    if (!R->in_program) return;
    ppp_program *p = &R->cur;
    if (!p->title) { pp_errors_add(R->errs, R->path, p->line, "program %s has no title:", p->id); R->bad = 1; }
    if (!p->framework[0]) {
        pp_errors_add(R->errs, R->path, p->line, "program %s has no framework:", p->id);
        R->bad = 1;
    }
    if (!p->n_steps) { pp_errors_add(R->errs, R->path, p->line, "program %s has no steps", p->id); R->bad = 1; }
    for (size_t i = 0; i < p->n_steps; i++) {
        ppp_step *st = &p->steps[i];
        const char *miss = !st->todo ? "do" : !st->ask ? "ask" : NULL;
        for (int k = 0; !miss && k < PP_ANSWER_KINDS; k++) if (!st->reply[k]) miss = answer_names[k];
        if (miss) {
            pp_errors_add(R->errs, R->path, st->line, "step of program %s has no %s:", p->id, miss);
            R->bad = 1;
        }
        if (st->last > p->days) p->days = st->last;
    }
    if (ppp_find(R->rs, p->id)) {
        pp_errors_add(R->errs, R->path, p->line, "program %s is defined twice", p->id);
        R->bad = 1;
    }
    if (!R->bad && R->rs->n_programs >= MAX_PROGRAMS) {
        pp_errors_add(R->errs, R->path, p->line, "more than %d programs", MAX_PROGRAMS);
        R->bad = 1;
    }
    if (!p->article && p->framework[0]) {
        const ppr_framework *f = ppr_framework_find(R->rs, p->framework);
        if (f && f->article) p->article = ppe_strdup(f->article);
    }
    if (!R->bad) {
        ppp_program *a = realloc(R->rs->programs, (R->rs->n_programs + 1) * sizeof *a);
        if (a) {
            R->rs->programs = a;
            a[R->rs->n_programs++] = *p;
            memset(p, 0, sizeof *p);
        } else {
            pp_errors_add(R->errs, R->path, p->line, "out of memory");
        }
    } else {
        pp_errors_add(R->errs, R->path, p->line, "program %s left out", p->id);
    }
    free_program(p);
    R->in_program = R->bad = 0;
    R->text = NULL;
}

static void answer_line(reader *R, char *p, int lineno)
{
    char *colon = strchr(p, ':');
    if (!colon) { pp_errors_add(R->errs, R->path, lineno, "expected 'answer KIND: phrase, ...'"); return; }
    *colon = '\0';
    char *kind = ppr_skip_space(p);
    int k = 0;
    while (k < PP_ANSWER_KINDS && strcmp(kind, answer_names[k]) != 0) k++;
    if (k == PP_ANSWER_KINDS) {
        pp_errors_add(R->errs, R->path, lineno, "unknown answer kind '%s' (did, partly, didnt, badly)", kind);
        return;
    }
    char *save = NULL;
    for (char *w = strtok_r(colon + 1, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        w = ppr_skip_space(w);
        size_t n = strlen(w);
        while (n && (w[n - 1] == ' ' || w[n - 1] == '\t')) w[--n] = '\0';
        if (!n) continue;
        for (size_t i = 0; i < n; i++) w[i] = (char)tolower((unsigned char)w[i]);
        ppp_answer_words *a = &R->rs->answers[k];
        char **ph = realloc(a->phrases, (a->n + 1) * sizeof *ph);
        if (!ph) return;
        a->phrases = ph;
        if ((ph[a->n] = ppe_strdup(w))) a->n++;
    }
}

static void step_line(reader *R, char *p, int lineno)
{
    ppp_program *pg = &R->cur;
    R->text = NULL;
    if (!R->in_program) { pp_errors_add(R->errs, R->path, lineno, "step before any 'program ID'"); return; }
    int first, last;
    if (parse_span(p, &first, &last)) {
        pp_errors_add(R->errs, R->path, lineno, "expected 'step day N', 'step days N-M', "
                      "'step week N' or 'step weeks N-M' (up to %d days), not 'step %s'",
                      MAX_PROGRAM_DAYS, p);
        R->bad = 1;
        return;
    }
    if (pg->n_steps && first <= pg->steps[pg->n_steps - 1].last) {
        pp_errors_add(R->errs, R->path, lineno, "step starts on day %d, before the step above it ends", first);
        R->bad = 1;
        return;
    }
    ppp_step *a = realloc(pg->steps, (pg->n_steps + 1) * sizeof *a);
    if (!a) { R->bad = 1; return; }
    pg->steps = a;
    ppp_step *st = &a[pg->n_steps++];
    memset(st, 0, sizeof *st);
    st->first = first;
    st->last = last;
    st->line = lineno;
}

/* An indented `key: value` line of the current program or step. */
static int key_line(reader *R, char *p, int lineno)
{
    static const char *const keys[] = { "title", "summary", "article", "framework", "offer-after",
                                        "checkin", "do", "ask", "did", "partly", "didnt", "badly", NULL };
    char *colon = strchr(p, ':');
    if (!colon) return 0;
    size_t n = (size_t)(colon - p);
    int k = 0;
    while (keys[k] && !(strlen(keys[k]) == n && strncmp(keys[k], p, n) == 0)) k++;
    if (!keys[k]) return 0;
    char *value = ppr_skip_space(colon + 1);
    ppp_program *pg = &R->cur;
    ppp_step *st = pg->n_steps ? &pg->steps[pg->n_steps - 1] : NULL;
    int step_key = k >= 5;
    if (!R->in_program) {
        pp_errors_add(R->errs, R->path, lineno, "'%s:' before any 'program ID'", keys[k]);
        return 1;
    }
    if (step_key && !st) {
        pp_errors_add(R->errs, R->path, lineno, "'%s:' belongs to a step: 'step ...' first", keys[k]);
        R->bad = 1;
        return 1;
    }
    if (!step_key && st) {
        pp_errors_add(R->errs, R->path, lineno, "'%s:' belongs to the program, above its steps", keys[k]);
        R->bad = 1;
        return 1;
    }
    char **slot = NULL;
    switch (k) {
    case 0: slot = &pg->title; break;
    case 1: slot = &pg->summary; break;
    case 2: slot = &pg->article; break;
    case 3:
        if (!ppr_framework_find(R->rs, value)) {
            pp_errors_add(R->errs, R->path, lineno, "unknown framework '%s' (rules/frameworks.catalog)", value);
            R->bad = 1;
        } else {
            ppe_strlcpy(pg->framework, value, sizeof pg->framework);
        }
        R->text = NULL;
        return 1;
    case 4: {
        char *end;
        long v = strtol(value, &end, 10);
        if (end == value || *end || v < 0 || v > 100) {
            pp_errors_add(R->errs, R->path, lineno, "offer-after: takes a number 0-100, not '%s'", value);
            R->bad = 1;
        } else {
            pg->offer_after = (int)v;
        }
        R->text = NULL;
        return 1;
    }
    case 5:
        if (strcmp(value, "daily") == 0) st->checkin = PP_CHECKIN_DAILY;
        else if (strcmp(value, "weekly") == 0) st->checkin = PP_CHECKIN_WEEKLY;
        else if (strcmp(value, "none") == 0) st->checkin = PP_CHECKIN_NONE;
        else {
            pp_errors_add(R->errs, R->path, lineno, "checkin: takes daily, weekly or none, not '%s'", value);
            R->bad = 1;
        }
        R->text = NULL;
        return 1;
    case 6: slot = &st->todo; break;
    case 7: slot = &st->ask; break;
    default: slot = &st->reply[k - 8]; break;
    }
    if (*slot) {
        pp_errors_add(R->errs, R->path, lineno, "'%s:' given twice", keys[k]);
        R->bad = 1;
        R->text = NULL;
        return 1;
    }
    R->text = slot;
    if (*value && add_text(slot, value)) R->bad = 1;
    if (!*value && !(*slot = ppe_strdup(""))) R->bad = 1;
    return 1;
}

void ppp_parse(pp_ruleset *rs, const char *path, char *buf, pp_errors *errs)
{
    reader R;
    memset(&R, 0, sizeof R);
    R.rs = rs;
    R.errs = errs;
    R.path = path;
    char *cur = buf, *line;
    int lineno = 0;
    while ((line = ppr_next_line(&cur, &lineno)) != NULL) {
        int indented = line[0] == ' ' || line[0] == '\t';
        char *p = ppr_skip_space(line);
        if (*p == '\0' || (*p == '#' && !R.text)) continue;
        if (indented) {
            if (key_line(&R, p, lineno)) continue;
            if (R.text) { if (add_text(R.text, p)) R.bad = 1; continue; }
            pp_errors_add(errs, path, lineno, "expected 'key: text' (title, summary, article, "
                          "framework, offer-after; in a step checkin, do, ask, did, partly, didnt, badly)");
            if (R.in_program) R.bad = 1;
            continue;
        }
        R.text = NULL;
        if (*p == '#') continue;
        if (strncmp(p, "program ", 8) == 0) {
            finish_program(&R);
            char *id = ppr_skip_space(p + 8);
            R.in_program = 1;
            R.cur.line = lineno;
            R.cur.file = path;
            if (!ppr_valid_id(id)) {
                pp_errors_add(errs, path, lineno, "bad program id '%s' ([a-z0-9._-]+)", id);
                R.bad = 1;
            }
            ppe_strlcpy(R.cur.id, id, sizeof R.cur.id);
            continue;
        }
        if (strncmp(p, "step ", 5) == 0) { step_line(&R, ppr_skip_space(p + 5), lineno); continue; }
        if (strncmp(p, "answer ", 7) == 0) { answer_line(&R, p + 7, lineno); continue; }
        pp_errors_add(errs, path, lineno, "expected 'program ID', 'step ...' or 'answer KIND: ...'");
        if (R.in_program) R.bad = 1;
    }
    finish_program(&R);
}

/* ---- the calendar ------------------------------------------------------ */

long long ppp_day(long long now, int utc_offset)
{
    long long t = now + utc_offset;
    return t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
}

int ppp_program_day(const pp_session *s, long long today)
{
    const ppp_state *p = &s->plan;
    if (!p->program[0]) return 0;
    long long at = p->paused ? p->paused_on : today;
    long long d = at - p->started - p->paused_days + 1;
    if (d < 1) d = 1;
    return d > 100000 ? 100000 : (int)d;
}

const ppp_step *ppp_step_on(const ppp_program *p, int day)
{
    for (size_t i = 0; p && i < p->n_steps; i++)
        if (day >= p->steps[i].first && day <= p->steps[i].last) return &p->steps[i];
    return NULL;
}

int ppp_due(const pp_ruleset *rs, const pp_session *s, long long today)
{
    const ppp_state *ps = &s->plan;
    if (!ps->program[0] || ps->paused || s->safety_lock) return 0;
    if (ps->checkin_day == today && ps->checkin_day != 0) return 0;
    const ppp_program *p = ppp_find(rs, ps->program);
    int day = ppp_program_day(s, today);
    const ppp_step *st = ppp_step_on(p, day);
    if (!st) return 0;
    if (st->checkin == PP_CHECKIN_DAILY) return 1;
    return st->checkin == PP_CHECKIN_WEEKLY && (day - st->first) % 7 == 0;
}

int pp_plan_checkin_due(const pp_ruleset *rs, const pp_session *s, long long now, int utc_offset)
{
    return rs && s ? ppp_due(rs, s, ppp_day(now, utc_offset)) : 0;
}

/* ---- kinds of answer --------------------------------------------------- */

/* Does the lowercase, space-padded text hold phrase as whole words? */
static int has_phrase(const char *padded, const char *phrase)
{
    size_t n = strlen(phrase);
    for (const char *p = strstr(padded, phrase); p; p = strstr(p + 1, phrase))
        if (!isalnum((unsigned char)p[-1]) && !isalnum((unsigned char)p[n])) return 1;
    return 0;
}

int ppp_answer_kind(const pp_ruleset *rs, const char *text, size_t len)
{
    if (len > 400) return -1;   /* a story, not an answer: the coach reads it */
    char low[404];
    size_t n = 0;
    low[n++] = ' ';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        low[n++] = c == '\'' || isalnum(c) ? (char)tolower(c) : ' ';
    }
    low[n++] = ' ';
    low[n] = '\0';
    /* the gravest first: "partly, and then it went badly" went badly */
    static const int order[] = { PP_ANSWER_BADLY, PP_ANSWER_PARTLY, PP_ANSWER_DIDNT, PP_ANSWER_DID };
    for (int o = 0; o < 4; o++) {
        const ppp_answer_words *a = &rs->answers[order[o]];
        for (size_t i = 0; i < a->n; i++)
            if (has_phrase(low, a->phrases[i])) return order[o];
    }
    return -1;
}

/* ---- the public view --------------------------------------------------- */

size_t pp_programs_count(const pp_ruleset *rs) { return rs ? rs->n_programs : 0; }

int pp_programs_info(const pp_ruleset *rs, size_t i, pp_program_info *out)
{
    if (!rs || !out || i >= rs->n_programs) return PP_EINPUT;
    const ppp_program *p = &rs->programs[i];
    out->id = p->id;
    out->title = p->title;
    out->framework = p->framework;
    out->article = p->article ? p->article : "";
    out->summary = p->summary ? p->summary : "";
    out->days = p->days;
    out->n_steps = p->n_steps;
    out->file = p->file;
    out->line = p->line;
    return 0;
}
