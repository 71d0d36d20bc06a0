/* match.c -- find the rule a message is about.
 *
 * The candidate index (index.c) names the patterns that may match; only
 * those run through PCRE2, under the rule set's match, depth and heap
 * limits, which bind each pattern, and under a step budget for the whole
 * message (see run_pattern), so that no input can make a reply slow however
 * many rules backtrack on it.  Patterns are stored
 * in evaluation order -- crisis rules first, then falling priority -- so the
 * walk over the candidates can stop early: the first crisis hit wins
 * outright, and once a match is found, only patterns of the same priority
 * can still beat it (by matching a longer span: the more specific rule).
 * Exclusions (`unless:`) are tried only for a rule that matched.  The loop
 * reads only the pattern array until a pattern matches (what it decides on
 * is copied there at load); each candidate is matched into a spare match
 * data that is swapped in when it wins, so the reply has the winner's
 * captures without matching it again.
 *
 * With thousands of rules, what a reply reads of a pattern, its rule and
 * its set is cold, and each piece is only found through the one before it
 * (index -> pattern -> code, rule -> set -> text).  So the lines are asked
 * for together, before PCRE2 starts, and arrive while it runs instead of
 * one after the other.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ---- working memory ----------------------------------------------------
 *
 * Match data, the index's scratch, the candidate list and the analysis are
 * sized for one rule set, so the set keeps them: a reply takes one from its
 * spare list (or makes one) and gives it back, and two threads replying at
 * once get two.  The set is const to its readers; the list is behind its
 * mutex. */
ppm_work *ppm_work_take(const pp_ruleset *rs)
{
    pp_ruleset *m = (pp_ruleset *)rs;
    pthread_mutex_lock(&m->work_mu);
    ppm_work *w = m->spare;
    if (w) m->spare = w->next;
    pthread_mutex_unlock(&m->work_mu);
    if (w) return w;
    if (!(w = calloc(1, sizeof *w))) return NULL;
    uint32_t pairs = rs->max_pairs ? rs->max_pairs : 1;
    w->index = ppx_scratch_new(rs->index);
    w->md = pcre2_match_data_create(pairs, NULL);
    w->trial = pcre2_match_data_create(pairs, NULL);
    w->aux = pcre2_match_data_create(pairs, NULL);
    w->cand = malloc((rs->n_patterns ? rs->n_patterns : 1) * sizeof *w->cand);
    w->mctx = pcre2_match_context_copy(rs->mctx);
    if (!w->index || !w->md || !w->trial || !w->aux || !w->cand || !w->mctx) {
        ppm_work_free(w);
        return NULL;
    }
    return w;
}

/* Back on the list, without the last message's words. */
void ppm_work_give(const pp_ruleset *rs, ppm_work *w)
{
    if (!w) return;
    ppl_analysis_clear(&w->analysis);
    pp_ruleset *m = (pp_ruleset *)rs;
    pthread_mutex_lock(&m->work_mu);
    w->next = m->spare;
    m->spare = w;
    pthread_mutex_unlock(&m->work_mu);
}

void ppm_work_free(ppm_work *w)
{
    if (!w) return;
    ppx_scratch_free(w->index);
    pcre2_match_data_free(w->md);
    pcre2_match_data_free(w->trial);
    pcre2_match_data_free(w->aux);
    free(w->cand);
    ppl_analysis_clear(&w->analysis);
    free(w->joined);
    pcre2_match_context_free(w->mctx);
    free(w);
}

static int limit_error(int rc)
{
    return rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
           rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_JIT_STACKLIMIT;
}

/* ---- the step budget of one message ----------------------------------
 *
 * PCRE2's match limit binds one pattern (PP_MATCH_LIMIT); with hundreds of
 * rules that backtrack, a message could still take seconds.  So the
 * patterns one message runs share PP_STEP_BUDGET steps.  PCRE2 says only
 * whether a match ran out of steps, never how many it took, so a pattern
 * first runs with a small allowance (STEP_FIRST) and, when it runs out, again
 * with four times as much, up to the per-pattern limit; every run is charged
 * its whole allowance, which is at least what it used.  An ordinary pattern
 * needs a few dozen steps and runs once; a rerun costs at most a third more,
 * and only for a pattern that needs more than STEP_FIRST.  When what is left
 * cannot pay a pattern's next run, the walk stops (budget->spent).  Crisis
 * patterns are charged too but never stopped: each may always run up to the
 * per-pattern limit, and they come first.  The allowance is set on the
 * reply's copy of the match context (ppm_work.mctx): the set's stays
 * read-only. */
#define STEP_FIRST 100

typedef struct budget {
    pcre2_match_context *mctx;   /* NULL: the set's limits alone, no budget */
    size_t left;
    int spent;
    int rule[3];                 /* the rules charged most, -1 = none */
    size_t cost[3];
} budget;

static void charge(budget *b, int rule, size_t cost)
{
    int low = 0;
    for (int i = 0; i < 3; i++) {
        if (b->rule[i] == rule) { b->cost[i] += cost; return; }
        if (b->cost[i] < b->cost[low]) low = i;
    }
    if (cost > b->cost[low]) { b->rule[low] = rule; b->cost[low] = cost; }
}

static int run_pattern(const pp_ruleset *rs, budget *b, const pcre2_code *code,
                       const char *text, size_t len, size_t from, pcre2_match_data *md,
                       int rule, int crisis)
{
    if (!b->mctx)
        return pcre2_match(code, (PCRE2_SPTR)text, len, from, PCRE2_NO_UTF_CHECK, md, rs->mctx);
    size_t allow = STEP_FIRST, cap, charged = 0;
    int rc;
    do {
        cap = crisis || b->left >= PP_MATCH_LIMIT ? PP_MATCH_LIMIT : b->left;
        if (cap == 0) { b->spent = 1; return PCRE2_ERROR_MATCHLIMIT; }
        if (allow > cap) allow = cap;
        pcre2_set_match_limit(b->mctx, (uint32_t)allow);
        rc = pcre2_match(code, (PCRE2_SPTR)text, len, from, PCRE2_NO_UTF_CHECK, md, b->mctx);
        charged += allow;
        b->left = b->left > allow ? b->left - allow : 0;
        allow *= 4;
    } while (rc == PCRE2_ERROR_MATCHLIMIT && allow / 4 < cap);
    if (rc == PCRE2_ERROR_MATCHLIMIT && cap < PP_MATCH_LIMIT) b->spent = 1;
    charge(b, rule, charged);
    return rc;
}

/* Does an exclusion of rule r (its index ri) match?  One that cannot be
 * decided (a limit) counts as a match: the rule must not fire. */
static int unless_hit(const pp_ruleset *rs, budget *b, const ppr_rule *r, int ri,
                      const char *text, size_t len, pcre2_match_data *md, int *limit_hit)
{
    for (size_t u = 0; u < r->n_unless; u++) {
        int rc = run_pattern(rs, b, r->unless[u], text, len, 0, md, ri,
                             r->role == PP_ROLE_CRISIS);
        if (rc >= 0) return 1;
        if (limit_error(rc)) {
            *limit_hit = 1;
            return 1;
        }
    }
    return 0;
}

static int ends_sentence(char c) { return c == '.' || c == '!' || c == '?'; }

/* What one message's patterns run on (see "what the patterns run on"
 * below): the text and, when analysed, the language layer's reading. */
typedef struct subject {
    const char *text;           /* the normalised message */
    size_t len;
    const char *clauses;        /* its rendering; NULL when not analysed */
    size_t clen;
    const ppl_analysis *a;
    const char *lookup;         /* what the index reads */
    size_t lookup_len;
} subject;

/* The word holding byte at, or n_words when there is none. */
static size_t word_at(const ppl_analysis *a, size_t at)
{
    size_t lo = 0, hi = a->n_words;
    while (lo < hi) {                 /* the first word that ends after at */
        size_t mid = (lo + hi) / 2;
        if (a->words[mid].off + a->words[mid].len <= at) lo = mid + 1;
        else hi = mid;
    }
    return lo < a->n_words && a->words[lo].off <= at ? lo : a->n_words;
}

/* A raw pattern's match at byte at that falls inside words someone else
 * says in quotes (the language layer's PPL_WORD_SPOKEN): the end of those
 * words, where the search goes on; 0 when the match is the user's own. */
static size_t spoken_by_other(const subject *sj, size_t at)
{
    const ppl_analysis *a = sj->a;
    if (!a || a->text_len != sj->len) return 0;    /* folding moved the offsets */
    size_t lo = word_at(a, at);
    if (lo >= a->n_words || !(a->words[lo].flags & PPL_WORD_SPOKEN)) return 0;
    while (lo + 1 < a->n_words && (a->words[lo + 1].flags & PPL_WORD_SPOKEN)) lo++;
    return a->words[lo].off + a->words[lo].len;
}

/* Does a raw pattern's `partner` capture name someone else: a word of a
 * clause the layer reads as about a third person ("my friend Omar keeps
 * ghosting girls": Omar is the friend, not the partner)?  1 yes. */
static int partner_is_other(const subject *sj, const ppr_pattern *p, pcre2_match_data *md)
{
    const ppl_analysis *a = sj->a;
    int num = p->partner_group;
    if (!a || a->text_len != sj->len || !num || (uint32_t)num >= pcre2_get_ovector_count(md)) return 0;
    PCRE2_SIZE at = pcre2_get_ovector_pointer(md)[2 * num];
    if (at == PCRE2_UNSET) return 0;
    size_t i = word_at(a, at);
    return i < a->n_words && a->words[i].clause < a->n_clauses
           && a->clauses[a->words[i].clause].subject == PPL_SUBJ_OTHER;
}

/* Does a pursuer or withdrawer rule's raw match [at, end) lie wholly in
 * clauses the layer reads as about a third person, in a message about
 * another couple ("my daughter is 16 | and her boyfriend blows hot and
 * cold with her")?  Someone else's dance is not the user's; a parent's
 * part in the user's own past is ("my mom was never there for me").
 * 1 yes. */
static int span_is_others(const pp_ruleset *rs, const subject *sj, const ppr_pattern *p,
                          size_t at, size_t end)
{
    const ppl_analysis *a = sj->a;
    if (!a || a->text_len != sj->len || !a->others_couple) return 0;
    pp_role role = rs->rules[p->rule].role;
    if (role != PP_ROLE_PURSUER && role != PP_ROLE_WITHDRAWER) return 0;
    size_t i = word_at(a, at), seen = 0;
    for (; i < a->n_words && a->words[i].off < end; i++, seen++)
        if (a->words[i].clause >= a->n_clauses ||
            a->clauses[a->words[i].clause].subject != PPL_SUBJ_OTHER)
            return 0;
    return seen > 0;
}

/* Match pattern p (on the text, or on the clauses' rendering).  A match
 * whose sentence holds one of its `not_after:` guards before it does not
 * count ("we spar at jiu jitsu and she chokes me out"): the search goes on
 * after that sentence.  A guard that cannot be decided (a limit) leaves the
 * match standing -- for a crisis rule, the safe side. */
static int match_pattern(const pp_ruleset *rs, budget *b, const ppr_pattern *p,
                         const subject *sj, pcre2_match_data *md, pcre2_match_data *aux)
{
    const char *text = sj->text;
    size_t len = sj->len;
    if (p->on_clauses)
        return run_pattern(rs, b, p->code, sj->clauses, sj->clen, 0, md, p->rule, p->crisis);
    size_t from = 0;
    for (;;) {
        int rc = run_pattern(rs, b, p->code, text, len, from, md, p->rule, p->crisis);
        if (rc < 0) return rc;
        size_t at = pcre2_get_ovector_pointer(md)[0], spoken_end;
        if (!p->crisis && (spoken_end = spoken_by_other(sj, at)) > 0) {
            if (spoken_end >= len) return PCRE2_ERROR_NOMATCH;
            from = spoken_end;       /* `he said "I need space"` is not the user's */
            continue;
        }
        if (!p->crisis && (partner_is_other(sj, p, md) ||
                           span_is_others(rs, sj, p, at, pcre2_get_ovector_pointer(md)[1]))) {
            size_t end = pcre2_get_ovector_pointer(md)[1];
            if (end >= len) return PCRE2_ERROR_NOMATCH;
            from = end > at ? end : at + 1;   /* the friend's acts are not the partner's */
            continue;
        }
        if (!p->not_after) return rc;
        size_t sent = at;
        while (sent > 0 && !ends_sentence(text[sent - 1])) sent--;
        int g = run_pattern(rs, b, p->not_after, text, len, sent, aux, p->rule, p->crisis);
        if (g < 0 || pcre2_get_ovector_pointer(aux)[0] >= at) return rc;
        size_t end = at;
        while (end < len && !ends_sentence(text[end])) end++;
        if (end >= len) return PCRE2_ERROR_NOMATCH;
        from = end + 1;
    }
}

static int match_unless(const pp_ruleset *rs, const ppr_rule *r, const char *text,
                        size_t len, pcre2_match_data *md, int *limit_hit)
{
    budget none = { .mctx = NULL };
    return unless_hit(rs, &none, r, (int)(r - rs->rules), text, len, md, limit_hit);
}

/* How a rule's `after:` ids meet the previous reply: 0 not at all, or
 * AFTER_NONE (the rule has none), AFTER_FRAMEWORK (the session's
 * framework), AFTER_SET (the very set that answered last: the question
 * just asked).  prev_set and prev_fw may be NULL; hs and hf are their
 * ppr_set_hash. */
enum { AFTER_NONE = 1, AFTER_FRAMEWORK = 2, AFTER_SET = 3 };
static int after_ok(const ppr_rule *r, const char *prev_set, uint32_t hs,
                    const char *prev_fw, uint32_t hf)
{
    if (r->n_after == 0) return AFTER_NONE;
    int how = 0;
    for (size_t a = 0; a < r->n_after; a++) {
        uint32_t h = r->after_hash[a];
        if (prev_set && h == hs && strcmp(r->after[a], prev_set) == 0) return AFTER_SET;
        if (prev_fw && h == hf && strcmp(r->after[a], prev_fw) == 0) how = AFTER_FRAMEWORK;
    }
    return how;
}

/* ---- what the patterns run on ------------------------------------------
 *
 * A `clause:` pattern runs on the language layer's rendering of the
 * message (docs/language.md), every other pattern on the normalised text.
 * When the set has clause patterns, the message is analysed once, and the
 * index looks up the text and the rendering together (joined by a line
 * break), so a candidate of either kind is found in one lookup (the
 * struct subject, defined above with the matcher that reads it). */
static int subject_make(const pp_ruleset *rs, ppm_work *w, const char *text, size_t len,
                        subject *sj)
{
    *sj = (subject){ text, len, NULL, 0, NULL, text, len };
    if (!rs->lexicon || !rs->n_clause_patterns) return 0;
    ppl_analysis_clear(&w->analysis);
    if (ppl_analyse(rs->lexicon, text, len, &w->analysis)) return PP_ENOMEM;
    size_t need = len + 1 + w->analysis.rendered_len + 1;
    if (need > w->joined_cap) {
        char *j = realloc(w->joined, need);
        if (!j) return PP_ENOMEM;
        w->joined = j;
        w->joined_cap = need;
    }
    memcpy(w->joined, text, len);
    w->joined[len] = '\n';
    memcpy(w->joined + len + 1, w->analysis.rendered, w->analysis.rendered_len + 1);
    sj->clauses = w->analysis.rendered;
    sj->clen = w->analysis.rendered_len;
    sj->a = &w->analysis;
    sj->lookup = w->joined;
    sj->lookup_len = need - 1;
    return 0;
}

/* A clause pattern's match [*start, *end) in the rendering, as the span of
 * that clause's words in the text (what /why quotes).  Clause patterns
 * start at the rendering's start or at a "| " between clauses. */
static void clause_span(const subject *sj, size_t *start, size_t *end)
{
    size_t c = 0;            /* lemmas hold no '|': count the separators */
    for (size_t i = 0; i <= *start && i < sj->clen; i++) c += sj->clauses[i] == '|';
    const ppl_analysis *a = sj->a;
    if (c >= a->n_clauses || !a->clauses[c].count || a->text_len != sj->len) {
        *start = 0;
        *end = sj->len;       /* folding changed the text: quote it all */
        return;
    }
    const ppl_word *first = &a->words[a->clauses[c].first];
    const ppl_word *last = &a->words[a->clauses[c].first + a->clauses[c].count - 1];
    *start = first->off;
    *end = last->off + last->len;
}

/* ---- the decision ------------------------------------------------------
 *
 * A crisis match wins outright.  Otherwise every candidate runs (within
 * the step budget) and each rule that matches is evidence: the best match
 * by priority, then span, is the first choice, and when it is one side of
 * the dance (pursuer or withdrawer), the two sides are weighed -- each
 * side's evidence is the sum of its rules' priorities, a rule whose span
 * overlaps a stronger one of the same side not counted again -- and the
 * stronger side's best match answers ("he wants room and I get scared,
 * and I keep texting him": two clauses of reaching outweigh one of fear).
 * When both sides carry weight (the weaker at least half the stronger),
 * the message is mixed ("we both do it"), which the reply can say.  /why
 * shows the winner, the rules it beat and the two sums. */
typedef struct found {
    int rule, pattern, priority;
    size_t start, end;
    int after;                /* after_ok(): AFTER_NONE, _FRAMEWORK or _SET */
} found;

static int better(const found *a, const found *b)
{
    if (a->priority != b->priority) return a->priority > b->priority;
    return a->end - a->start > b->end - b->start;
}

/* A dialogue act: a rule of no framework (`framework: none`). */
static int is_act(const ppr_rule *r)
{
    return r->framework && strcmp(r->framework, "none") == 0;
}

static int side_of(const ppr_rule *r)
{
    return r->role == PP_ROLE_PURSUER ? 0 : r->role == PP_ROLE_WITHDRAWER ? 1 : -1;
}

static void weigh(const pp_ruleset *rs, const found *f, int n, ppm_hit *hit)
{
    int order[PP_MAX_FOUND];
    for (int i = 0; i < n; i++) order[i] = i;
    for (int i = 1; i < n; i++)              /* strongest first */
        for (int j = i; j > 0 && better(&f[order[j]], &f[order[j - 1]]); j--) {
            int t = order[j]; order[j] = order[j - 1]; order[j - 1] = t;
        }
    hit->evidence[0] = hit->evidence[1] = 0;
    for (int i = 0; i < n; i++) {
        const found *a = &f[order[i]];
        int side = side_of(&rs->rules[a->rule]);
        if (side < 0) continue;
        int overlap = 0;
        for (int j = 0; j < i && !overlap; j++) {
            const found *b = &f[order[j]];
            overlap = side_of(&rs->rules[b->rule]) == side && a->start < b->end && b->start < a->end;
        }
        if (!overlap) hit->evidence[side] += a->priority > 1 ? a->priority : 1;
    }
    int win = order[0], top_side = side_of(&rs->rules[f[win].rule]);
    if (top_side >= 0 && hit->evidence[!top_side] > hit->evidence[top_side])
        for (int i = 1; i < n; i++)
            if (side_of(&rs->rules[f[order[i]].rule]) == !top_side) { win = order[i]; break; }
    int lo = hit->evidence[0] < hit->evidence[1] ? hit->evidence[0] : hit->evidence[1];
    int hi = hit->evidence[0] + hit->evidence[1] - lo;
    hit->mixed = lo > 0 && 2 * lo >= hi;
    hit->rule = f[win].rule;
    hit->pattern = f[win].pattern;
    hit->start = f[win].start;
    hit->end = f[win].end;
    int k = 0;
    for (int i = 0; i < n && k < 3; i++)
        if (order[i] != win) hit->runner_up[k++] = f[order[i]].rule;
}

int ppm_run(const pp_ruleset *rs, ppm_work *w, const char *text,
                 size_t len, const char *prev_set, const char *prev_fw,
                 ppm_hit *hit)
{
    hit->pattern = hit->rule = -1;
    hit->start = hit->end = 0;
    hit->limit_hit = hit->budget_spent = hit->mixed = 0;
    hit->evidence[0] = hit->evidence[1] = 0;
    for (int i = 0; i < 3; i++) hit->runner_up[i] = hit->spent_by[i] = -1;
    int rc;
    budget b = { w->mctx, PP_STEP_BUDGET, 0, { -1, -1, -1 }, { 0, 0, 0 } };
    subject sj;
    if ((rc = subject_make(rs, w, text, len, &sj)) != 0) return rc;
    size_t n = ppx_candidates(rs->index, w->index, sj.lookup, sj.lookup_len, w->cand);
    found f[PP_MAX_FOUND];
    int nf = 0, best = -1;       /* f[best]'s captures are in w->md */
    uint32_t hs = 0, hf = 0;  /* hashes of prev_set, prev_fw: when first needed */
    int hashed = 0;
    for (size_t k = 0; k < n && nf < PP_MAX_FOUND; k++) {
        uint32_t id = w->cand[k];
        const ppr_pattern *p = &rs->patterns[id];
        if (best >= 0 && rs->rules[f[best].rule].role == PP_ROLE_CRISIS) break;
        if (nf && f[nf - 1].rule == p->rule) continue;   /* a rule counts once */
        if (b.spent || (!p->crisis && b.left == 0)) { b.spent = 1; break; }
        const ppr_rule *r = &rs->rules[p->rule];
        if (p->has_after) {
            if (!hashed) {
                hs = prev_set ? ppr_set_hash(prev_set) : 0;
                hf = prev_fw ? ppr_set_hash(prev_fw) : 0;
                hashed = 1;
            }
        }
        int after = p->has_after ? after_ok(r, prev_set, hs, prev_fw, hf) : AFTER_NONE;
        if (!after) continue;
        if (p->on_clauses && !sj.clauses) continue;
        rc = match_pattern(rs, &b, p, &sj, w->trial, w->aux);
        if (rc < 0) {
            if (limit_error(rc)) hit->limit_hit = 1;
            continue;
        }
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(w->trial);
        found *x = &f[nf];
        *x = (found){ p->rule, (int)id, p->priority, ov[0], ov[1], after };
        if (p->on_clauses) clause_span(&sj, &x->start, &x->end);
        if (r->n_unless && unless_hit(rs, &b, r, p->rule, text, len, w->aux, &hit->limit_hit))
            continue;
        if (best < 0 || better(x, &f[best])) {
            best = nf;
            pcre2_match_data *won = w->trial;   /* keep the best one's captures */
            w->trial = w->md;
            w->md = won;
        }
        nf++;
    }
    found kept = { .rule = -1, .pattern = -1 };
    if (nf) {
        kept = f[best];          /* the match whose captures are in w->md */
        /* The question just asked comes first.  A rule whose `after:` names
         * the set that answered last is a rejoinder to it: it puts out the
         * rules that only continue the session's framework ("ok" after
         * "Anything else on your mind?" is not yes to a framework's step);
         * and no dialogue act without `after:` (framework none: "ok",
         * "thanks") answers in place of a rule with `after:` ("ok" after
         * "are you safe right now?" is not agreement). */
        int top = AFTER_NONE;
        for (int i = 0; i < nf; i++)
            if (f[i].after > top) top = f[i].after;
        if (top > AFTER_NONE) {
            int k = 0;
            for (int i = 0; i < nf; i++) {
                int drop = (top == AFTER_SET && f[i].after == AFTER_FRAMEWORK) ||
                           (f[i].after == AFTER_NONE && is_act(&rs->rules[f[i].rule]));
                if (!drop) f[k++] = f[i];
            }
            nf = k;
        }
        /* A message about someone else's relationship with the user ("my
         * mother won't listen when I shut down"), with no partner in it
         * and no conversation about one before it, is not coached. */
        if (sj.a && sj.a->others_only && !prev_fw) {
            int k = 0;
            for (int i = 0; i < nf; i++) {
                pp_role role = rs->rules[f[i].rule].role;
                if (role != PP_ROLE_PURSUER && role != PP_ROLE_WITHDRAWER) f[k++] = f[i];
            }
            nf = k;
            pp_role kr = rs->rules[kept.rule].role;
            if (kr == PP_ROLE_PURSUER || kr == PP_ROLE_WITHDRAWER) kept.rule = -1;
        }
    }
    if (nf) {
        weigh(rs, f, nf, hit);
        if (hit->pattern != kept.pattern) {   /* another match won: its captures */
            const ppr_pattern *p = &rs->patterns[hit->pattern];
            budget none = { .mctx = NULL };
            if (match_pattern(rs, &none, p, &sj, w->md, w->aux) < 0 && kept.rule >= 0 &&
                !is_act(&rs->rules[kept.rule]))
                hit->pattern = kept.pattern, hit->rule = kept.rule,
                hit->start = kept.start, hit->end = kept.end;
        }
    }
    if (b.spent) {
        hit->budget_spent = 1;
        for (int i = 0; i < 3; i++) {     /* the costliest first */
            int top = -1;
            for (int j = 0; j < 3; j++)
                if (b.rule[j] >= 0 && (top < 0 || b.cost[j] > b.cost[top])) top = j;
            if (top < 0) break;
            hit->spent_by[i] = b.rule[top];
            b.rule[top] = -1;
        }
    }
    return 0;
}

pp_role ppm_role(const pp_ruleset *rs, const ppm_hit *hit)
{
    if (hit->rule < 0) return PP_ROLE_NONE;
    const ppr_rule *r = &rs->rules[hit->rule];
    if (r->role != PP_ROLE_NONE || (strncmp(r->act, "ask.", 4) != 0 && strncmp(r->id, "ask.", 4) != 0) ||
        hit->evidence[0] == hit->evidence[1])
        return r->role;
    return hit->evidence[0] > hit->evidence[1] ? PP_ROLE_PURSUER : PP_ROLE_WITHDRAWER;
}

static void match_none(pp_match *out)
{
    memset(out, 0, sizeof *out);
    out->rule = -1;
    for (int i = 0; i < 3; i++) out->spent_by[i] = -1;
}

char *pp_rules_reading(const pp_ruleset *rs, const char *bytes, size_t len)
{
    const char *notice;
    size_t n;
    char *text = pp_input_normalize(bytes, len, &n, &notice), *out = NULL;
    if (!text) return NULL;
    if (!rs->lexicon) {
        free(text);
        return strdup("");
    }
    ppl_analysis a = {0};
    if (ppl_analyse(rs->lexicon, text, n, &a) == 0 && (out = malloc(a.rendered_len + 1))) {
        size_t o = 0;
        for (size_t i = 0; i < a.rendered_len; i++) {     /* one clause a line */
            if (!strncmp(a.rendered + i, " | ", 3)) {
                out[o++] = '\n';
                i += 2;
            }
            else out[o++] = a.rendered[i];
        }
        out[o] = '\0';
    }
    ppl_analysis_clear(&a);
    free(text);
    return out;
}

int pp_match_text(const pp_ruleset *rs, const char *bytes, size_t len, pp_match *out)
{
    const char *notice;
    size_t n;
    match_none(out);
    char *text = pp_input_normalize(bytes, len, &n, &notice);
    if (!text) return PP_ENOMEM;
    ppm_work *w = ppm_work_take(rs);
    if (!w) { free(text); return PP_ENOMEM; }
    ppm_hit hit;
    int rc = ppm_run(rs, w, text, n, NULL, NULL, &hit);
    ppm_work_give(rs, w);
    if (rc == 0) {
        out->rule = hit.rule;
        out->role = ppm_role(rs, &hit);
        out->limit_hit = hit.limit_hit;
        out->budget_spent = hit.budget_spent;
        for (int i = 0; i < 3; i++) out->spent_by[i] = hit.spent_by[i];
        out->start = hit.start;
        out->end = hit.end;
        out->n_candidates = hit.rule >= 0;
        for (int i = 0; i < 3; i++) out->n_candidates += hit.runner_up[i] >= 0;
    }
    free(text);
    return rc;
}


/* The text and, when the set has clause patterns, its analysis, without a
 * session (check's per-rule passes): a is the caller's to clear. */
static int subject_alone(const pp_ruleset *rs, const char *text, size_t n, ppl_analysis *a,
                         subject *sj)
{
    memset(a, 0, sizeof *a);
    *sj = (subject){ text, n, NULL, 0, NULL, text, n };
    if (!rs->lexicon || !rs->n_clause_patterns) return 0;
    if (ppl_analyse(rs->lexicon, text, n, a)) return PP_ENOMEM;
    sj->clauses = a->rendered;
    sj->clen = a->rendered_len;
    sj->a = a;
    return 0;
}

/* Does rule i match on its own?  A rule's patterns are next to each other
 * in evaluation order (they share its crisis and priority), from r->order
 * on, so only its own are tried, not every pattern of the set (`check`
 * asks about every rule: that was quadratic). */
static int rule_matches(const pp_ruleset *rs, size_t i, const subject *sj,
                        pcre2_match_data *md, pcre2_match_data *aux, int *limit_hit)
{
    const ppr_rule *r = &rs->rules[i];
    budget none = { .mctx = NULL };
    for (size_t k = r->order < 0 ? rs->n_patterns : (size_t)r->order; k < rs->n_patterns; k++) {
        const ppr_pattern *p = &rs->patterns[k];
        if (p->rule != (int)i) break;
        if (p->on_clauses && !sj->clauses) continue;
        int rc = match_pattern(rs, &none, p, sj, md, aux);
        if (rc >= 0) return !match_unless(rs, r, sj->text, sj->len, md, limit_hit);
        if (limit_error(rc)) *limit_hit = 1;
    }
    return 0;
}

int pp_match_rule(const pp_ruleset *rs, size_t i, const char *bytes, size_t len,
                  int *limit_hit)
{
    const char *notice;
    size_t n;
    int found = 0, lim = 0;
    if (i >= rs->n_rules) return 0;
    char *text = pp_input_normalize(bytes, len, &n, &notice);
    pcre2_match_data *md = pcre2_match_data_create(rs->max_pairs ? rs->max_pairs : 1, NULL);
    pcre2_match_data *aux = pcre2_match_data_create(rs->max_pairs ? rs->max_pairs : 1, NULL);
    ppl_analysis a;
    subject sj;
    if (text && md && aux && subject_alone(rs, text, n, &a, &sj) == 0)
        found = rule_matches(rs, i, &sj, md, aux, &lim);
    if (limit_hit) *limit_hit = lim;
    ppl_analysis_clear(&a);
    pcre2_match_data_free(md);
    pcre2_match_data_free(aux);
    free(text);
    return found;
}

int pp_match_limits(const pp_ruleset *rs, const char *bytes, size_t len, size_t *counts)
{
    const char *notice;
    size_t n;
    char *text = pp_input_normalize(bytes, len, &n, &notice);
    pcre2_match_data *md = pcre2_match_data_create(rs->max_pairs ? rs->max_pairs : 1, NULL);
    pcre2_match_data *aux = pcre2_match_data_create(rs->max_pairs ? rs->max_pairs : 1, NULL);
    ppl_analysis a;
    subject sj;
    memset(&a, 0, sizeof a);
    int rc = text && md && aux ? subject_alone(rs, text, n, &a, &sj) : PP_ENOMEM;
    for (size_t i = 0; i < rs->n_rules && rc == 0; i++) {
        int lim = 0;
        rule_matches(rs, i, &sj, md, aux, &lim);
        counts[i] += lim != 0;
    }
    ppl_analysis_clear(&a);
    pcre2_match_data_free(md);
    pcre2_match_data_free(aux);
    free(text);
    return rc;
}
