/* reply.c -- one user message in, one coaching reply out.
 *
 * The turn: normalise the bytes; match (crisis rules first); learn the
 * partner from the rule's `partner` capture or, failing that, from the
 * partner word class anywhere in the message; choose the response set
 * (the rule's, `safety-support` when a safety-locked session would get a
 * locked framework, `fallback` / `fallback-topics` when nothing matched);
 * choose a variant the session has not seen (fitting its role); fill the
 * placeholders; update the session.  Everything the reply says about the
 * partner comes from the session (noun + pronoun), never a default "he".
 *
 * After a disclosure the session remembers its kind and whether the whole
 * list of crisis lines was shown: {resources} is that list the first time
 * and in every reply to a crisis rule (a danger in this message, or "I'm
 * not safe") but from safety-support, and one line of it otherwise -- the
 * region's main line for the kind of danger told (see resource_line) -- so
 * that the turns after a disclosure keep pointing to help without repeating
 * the whole block.
 * Inside a safety lock the matcher is told that the previous framework was
 * safety-support, so `after: safety-support` rules answer every turn of it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <strings.h>

#include "internal.h"

#define SAID_MAX 160

static const char *const BUILTIN_FALLBACK =
    "Tell me a little more about what happens between you two.";

/* ---- the partner ------------------------------------------------------- */

static int is_bare_pronoun(const char *w)
{
    /* with the contractions the partner words allow: "he's", "hes", "theyre" */
    static const char *const p[] = { "he", "him", "she", "her", "they", "them", "he's", "hes",
                                     "she's", "shes", "they're", "theyre", "them's", NULL };
    for (int i = 0; p[i]; i++)
        if (strcasecmp(w, p[i]) == 0) return 1;
    return 0;
}

static int classify(const pp_ruleset *rs, const char *w, size_t n, pcre2_match_data *md)
{
    for (int i = 0; i < 4; i++) {
        if (!rs->pronoun_re[i]) continue;
        int rc = pcre2_match(rs->pronoun_re[i], (PCRE2_SPTR)w, n, 0, PCRE2_NO_UTF_CHECK, md, rs->mctx);
        if (rc >= 0) return i == 3 ? PP_PRONOUN_THEY + 1 : i + 1;   /* 4 = a name */
    }
    return PP_PRONOUN_UNKNOWN;
}

/* Update the session's partner from the words the user used for them. */
static void learn_partner(const pp_ruleset *rs, pp_session *s, const char *w, size_t n,
                          pcre2_match_data *md)
{
    char word[48];
    while (n > 0 && w[n - 1] == ' ') n--;
    if (n == 0 || n >= sizeof word) return;
    memcpy(word, w, n);
    word[n] = '\0';
    int kind = classify(rs, word, n, md);
    if (kind == PP_PRONOUN_UNKNOWN) return;
    if (is_bare_pronoun(word)) {
        if (s->pronoun_told) return;    /* "they use they/them" outranks a "she" */
        int p = kind == 4 ? PP_PRONOUN_THEY : kind;
        if (p == PP_PRONOUN_THEY && s->pronoun != PP_PRONOUN_UNKNOWN) return;   /* "they" is vague */
        if (s->pronoun != p) {
            /* a name with unknown gender takes the pronoun; a noun of the
             * other pronoun means someone else: forget the noun */
            int named = s->partner[0] && strncmp(s->partner, "your ", 5) != 0;
            if (!(named && s->pronoun == PP_PRONOUN_THEY)) s->partner[0] = '\0';
            s->pronoun = p;
        }
        return;
    }
    /* The partner words allow a possessive ("my husband's affair", "Sam's
     * phone"), but the partner is the person, not "your husband's": drop
     * the 's, and a bare s ("my husbands phone") when the noun without it
     * is still a partner word of the same kind (never on a name: "James"). */
    if (n > 2 && word[n - 2] == '\'' && (word[n - 1] == 's' || word[n - 1] == 'S')) {
        n -= 2;
        word[n] = '\0';
    } else if (kind != 4 && n > 4 && (word[n - 1] == 's' || word[n - 1] == 'S')
               && classify(rs, word, n - 1, md) == kind) {
        word[--n] = '\0';
    }
    s->pronoun_told = 0;                /* a new name or noun: its own pronoun */
    if (kind == 4) {                    /* a first name */
        ppe_strlcpy(s->partner, word, sizeof s->partner);
        s->pronoun = PP_PRONOUN_THEY;
        return;
    }
    if (strncasecmp(word, "my ", 3) == 0) snprintf(s->partner, sizeof s->partner, "your %s", word + 3);
    else if (strncasecmp(word, "the ", 4) == 0 || strncasecmp(word, "this ", 5) == 0)
        snprintf(s->partner, sizeof s->partner, "%s", word);
    else snprintf(s->partner, sizeof s->partner, "your %s", word);
    s->pronoun = kind;
}

/* "my ex", "my ex-wife": someone the user was with, not the one they are
 * with now. */
static int is_ex(const char *w, size_t n)
{
    return n >= 5 && strncasecmp(w, "my ex", 5) == 0 &&
           (n == 5 || w[5] == ' ' || w[5] == '-' || w[5] == '\'' || w[5] == 's');
}

/* The partner of this message.  The user's own noun for them wins ("my
 * husband"): a rule's capture that is a bare pronoun ("he", or a "she"
 * who is his ex-wife) only says the pronoun when the message names no
 * partner noun.  An ex is the partner only when a rule's pattern names
 * them: "since my ex and I broke up I can't let anyone in" is about
 * whoever comes next. */
static void find_partner(const pp_ruleset *rs, pp_session *s, ppm_work *w, const pcre2_code *code,
                         const char *text, size_t len)
{
    PCRE2_UCHAR *cap = NULL;
    PCRE2_SIZE caplen = 0;
    if (code && pcre2_substring_get_byname(w->md, (PCRE2_SPTR)"partner", &cap, &caplen) == 0) {
        char word[48];
        size_t n = caplen < sizeof word ? caplen : sizeof word - 1;
        memcpy(word, cap, n);
        word[n] = '\0';
        while (n > 0 && word[n - 1] == ' ') word[--n] = '\0';
        if (!is_bare_pronoun(word)) {
            learn_partner(rs, s, word, n, w->aux);
            pcre2_substring_free(cap);
            return;
        }
    }
    pcre2_match_data *md = w->aux;   /* sized for every pattern of the set */
    for (size_t at = 0; rs->partner_re && at < len;) {
        if (pcre2_match(rs->partner_re, (PCRE2_SPTR)text, len, at, PCRE2_NO_UTF_CHECK, md, rs->mctx) < 0)
            break;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        PCRE2_UCHAR *sub = NULL;
        PCRE2_SIZE sublen = 0;
        const char *wd = text + ov[0];
        size_t wn = ov[1] - ov[0];
        if (pcre2_substring_get_byname(md, (PCRE2_SPTR)"partner", &sub, &sublen) == 0) {
            wd = (const char *)sub;
            wn = sublen;
        }
        char word[48];
        size_t n = wn < sizeof word ? wn : sizeof word - 1;
        memcpy(word, wd, n);
        word[n] = '\0';
        if (sub) pcre2_substring_free(sub);
        /* the first noun or name, or without a capture the first word at all */
        if (!is_ex(word, n) && (!is_bare_pronoun(word) || !cap)) {
            learn_partner(rs, s, word, n, md);
            if (cap) {   /* a name's pronoun: "Sam ... he pulls away" */
                if (s->pronoun == PP_PRONOUN_THEY) learn_partner(rs, s, (const char *)cap, caplen, md);
                pcre2_substring_free(cap);
            }
            return;
        }
        at = ov[1] > at ? ov[1] : at + 1;
    }
    if (cap) {
        learn_partner(rs, s, (const char *)cap, caplen, w->aux);
        pcre2_substring_free(cap);
    }
}

/* ---- facts ------------------------------------------------------------ *
 *
 * Besides the partner, a message may tell a fact the coach should keep:
 * how long they have been together, children, living together, what
 * happened in the past (the fact_KIND word classes of the rules).  The
 * session keeps the user's words of each kind, reflected ("you've been
 * together three years"), one slot per kind, the latest told; {recall} in
 * a reply says one back once, the latest told first ("You said ...", the
 * recall.KIND set).  A
 * told_he / told_she / told_they match ("they use they/them") sets the
 * pronoun and keeps the name or noun. */
static void keep_fact(pp_session *s, const char *kind, const char *text, size_t n)
{
    while (n > 0 && strchr(" ,.;:!?-", text[n - 1])) n--;
    while (n > 0 && *text == ' ') { text++; n--; }
    if (n == 0) return;
    if (n >= PP_FACT_MAX) n = ppu_cut(text, PP_FACT_MAX - 1);
    char *r = pp_reflect(text, n);
    if (!r) return;
    /* "Her dad left ..." is said back inside a sentence: a pronoun or
     * article starts lowercase, a name ("Maya's dad") keeps its capital */
    static const char *const lower[] = { "her ", "his ", "their ", "our ", "your ", "the ", "he ",
                                         "she ", "they ", "you ", "we ", "my ", NULL };
    for (int i = 0; lower[i]; i++)
        if (strncasecmp(r, lower[i], strlen(lower[i])) == 0) { r[0] = (char)tolower((unsigned char)r[0]); break; }
    int slot = -1;
    for (int i = 0; i < PP_SESSION_FACTS; i++) {
        if (strcmp(s->facts[i].kind, kind) == 0) { slot = i; break; }
        if (slot < 0 && !s->facts[i].kind[0]) slot = i;
    }
    if (slot >= 0) {
        ppe_strlcpy(s->facts[slot].kind, kind, sizeof s->facts[slot].kind);
        size_t rl = strlen(r);
        if (rl >= PP_FACT_MAX) rl = ppu_cut(r, PP_FACT_MAX - 1);
        memcpy(s->facts[slot].text, r, rl);
        s->facts[slot].text[rl] = '\0';
        s->facts[slot].turn = s->turns;
        s->recalled &= ~(1u << slot);      /* news: it may be said back */
    }
    free(r);
}

static void learn_facts(const pp_ruleset *rs, pp_session *s, ppm_work *w, const char *text, size_t len)
{
    pcre2_match_data *md = w->aux;
    for (size_t k = 0; k < rs->n_facts; k++) {
        if (pcre2_match(rs->facts[k].code, (PCRE2_SPTR)text, len, 0, PCRE2_NO_UTF_CHECK, md, rs->mctx) < 0)
            continue;
        PCRE2_UCHAR *sub = NULL;
        PCRE2_SIZE sublen = 0;
        if (pcre2_substring_get_byname(md, (PCRE2_SPTR)"fact", &sub, &sublen) == 0) {
            keep_fact(s, rs->facts[k].name, (const char *)sub, sublen);
            pcre2_substring_free(sub);
        } else {
            PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
            keep_fact(s, rs->facts[k].name, text + ov[0], ov[1] - ov[0]);
        }
    }
    for (int i = 0; i < 3; i++)
        if (rs->pronoun_told[i] &&
            pcre2_match(rs->pronoun_told[i], (PCRE2_SPTR)text, len, 0, PCRE2_NO_UTF_CHECK, md, rs->mctx) >= 0) {
            s->pronoun = PP_PRONOUN_HE + i;
            s->pronoun_told = 1;
            break;
        }
}

/* ---- what the user tried or cannot do ----------------------------------- */

/* The bits of rs->tags the session avoids. */
static uint32_t avoid_mask(const pp_ruleset *rs, const pp_session *s)
{
    uint32_t m = 0;
    for (int i = 0; i < PP_SESSION_AVOID && s->avoid[i][0]; i++)
        for (size_t t = 0; t < rs->n_tags; t++)
            if (strcmp(s->avoid[i], rs->tags[t]) == 0) m |= 1u << t;
    return m;
}

static void avoid_add(const pp_ruleset *rs, pp_session *s, uint32_t bits)
{
    for (size_t t = 0; t < rs->n_tags; t++) {
        if (!(bits & (1u << t))) continue;
        int i = 0;
        while (i < PP_SESSION_AVOID && s->avoid[i][0] && strcmp(s->avoid[i], rs->tags[t]) != 0) i++;
        if (i == PP_SESSION_AVOID) {           /* full: forget the oldest */
            memmove(s->avoid[0], s->avoid[1], sizeof s->avoid[0] * (PP_SESSION_AVOID - 1));
            i = PP_SESSION_AVOID - 1;
        }
        ppe_strlcpy(s->avoid[i], rs->tags[t], sizeof s->avoid[i]);
    }
}

/* What the last reply's variant asked of the user ("I tried that"). */
static uint32_t last_asks(const pp_ruleset *rs, const pp_session *s)
{
    const ppr_set *set = s->set[0] ? ppr_find_set(rs, s->set) : NULL;
    if (!set) return 0;
    for (size_t i = 0; i < s->n_used; i++)
        if (s->used[i].hash == set->hash && strcmp(s->used[i].set, set->id) == 0)
            return s->used[i].last >= 0 && (size_t)s->used[i].last < set->n_variants
                   ? set->variants[s->used[i].last].asks : 0;
    return 0;
}

/* ---- placeholders ------------------------------------------------------ */

typedef struct fill_ctx {
    const pp_ruleset *rs;
    const pp_session *s;
    const ppr_set *set;
    const char *text;
    size_t len;
    size_t start, end;          /* the match span, or 0,0 */
    pcre2_match_data *md;       /* the winning pattern's match, or NULL */
    int all_resources;          /* {resources}: the whole list, not one line */
    int showed_resources;       /* out: the whole list went into the reply */
    const char *fact;           /* {fact}: in a recall.* sentence */
    unsigned recalled;          /* out: the facts {recall} said back */
} fill_ctx;

static void fill(ppb_buf *b, const char *t, fill_ctx *c);

/* {recall}: one fact the session keeps and has not said back yet, in the
 * words of the recall.KIND set (or `recall`), e.g. "You said your dad
 * left when you were small. "; nothing when there is none. */
static void add_recall(ppb_buf *b, fill_ctx *c)
{
    const pp_session *s = c->s;
    int best = -1;                     /* the latest told, not said back yet */
    for (int i = 0; i < PP_SESSION_FACTS; i++) {
        if (!s->facts[i].kind[0] || ((s->recalled | c->recalled) & (1u << i))) continue;
        if (best < 0 || s->facts[i].turn > s->facts[best].turn) best = i;
    }
    if (best < 0) return;
    char id[PP_ID_MAX];
    snprintf(id, sizeof id, "recall.%s", s->facts[best].kind);
    const ppr_set *set = ppr_find_set(c->rs, id);
    if (!set) set = ppr_find_set(c->rs, "recall");
    if (!set || !set->n_variants) return;
    fill_ctx r = *c;
    r.set = set;
    r.fact = s->facts[best].text;
    r.md = NULL;
    fill(b, set->variants[s->turns % set->n_variants].text, &r);
    if (b->len && b->s[b->len - 1] != ' ') ppb_adds(b, " ");   /* the sentence after it */
    c->recalled |= r.recalled | (1u << best);
}

static const char *pronoun_word(int p, const char *key)
{
    /* he, she, they */
    static const struct { const char *key, *w[3]; } t[] = {
        {"they", {"he", "she", "they"}}, {"them", {"him", "her", "them"}},
        {"their", {"his", "her", "their"}}, {"theirs", {"his", "hers", "theirs"}},
        {"theyre", {"he's", "she's", "they're"}}, {"theyve", {"he's", "she's", "they've"}},
        {"theyll", {"he'll", "she'll", "they'll"}}, {"themself", {"himself", "herself", "themselves"}},
        {"s", {"s", "s", ""}}, {"es", {"es", "es", ""}}, {"is", {"is", "is", "are"}},
        {"isnt", {"isn't", "isn't", "aren't"}}, {"was", {"was", "was", "were"}},
        {"wasnt", {"wasn't", "wasn't", "weren't"}}, {"has", {"has", "has", "have"}},
        {"does", {"does", "does", "do"}}, {"doesnt", {"doesn't", "doesn't", "don't"}},
        {NULL, {NULL, NULL, NULL}}
    };
    int k = p == PP_PRONOUN_HE ? 0 : p == PP_PRONOUN_SHE ? 1 : 2;
    for (int i = 0; t[i].key; i++)
        if (strcmp(t[i].key, key) == 0) return t[i].w[k];
    return NULL;
}

/* The one line of the region's crisis lines that a reply points back to.
 * resources.tsv keeps each region's lines in order: the emergency number,
 * the main line for suicide and self-harm, the main line for abuse, then
 * the rest; a region with fewer lines gives its last. */
static void resource_line(ppb_buf *b, const char *all, int disclosure)
{
    size_t want = disclosure == PP_DISCLOSED_ABUSE ? 2 : 1;
    const char *line = all, *nl;
    for (size_t i = 0; i < want && (nl = strchr(line, '\n')) != NULL; i++) line = nl + 1;
    nl = strchr(line, '\n');
    ppb_add(b, line, nl ? (size_t)(nl - line) : strlen(line));
}

/* Where a clause of text[a..z) ends or starts: a comma, a semicolon or a
 * dash, or the space before "and", "but", "so", "because". */
static int clause_edge(const char *t, size_t i, size_t z)
{
    static const char *const words[] = { "and ", "but ", "so ", "because ", NULL };
    if (strchr(",;", t[i])) return 1;
    if (t[i] != ' ') return 0;
    for (int k = 0; words[k]; k++) {
        size_t n = strlen(words[k]);
        if (i + 1 + n <= z && strncasecmp(t + i + 1, words[k], n) == 0) return 1;
    }
    return 0;
}

/* {said}: the user's words, reflected ("I" -> "you"), whole: the sentence
 * the match is in; when that is long, the clause around the match (or,
 * with no match, the last sentence that fits, a question first); and only
 * when one clause is longer than SAID_MAX, cut at spaces around the match. */
/* Is the first word of r a name: a word the dictionary does not know in
 * lowercase ("Sam", "Jaxon"), while "The" and "My" are words?  Without a
 * dictionary nothing is a name here. */
static int is_name(const pp_ruleset *rs, const char *r)
{
    char w[32];
    size_t n = 0;
    while (n + 1 < sizeof w && isalpha((unsigned char)r[n])) {
        w[n] = (char)tolower((unsigned char)r[n]);
        n++;
    }
    if (n < 2 || isalpha((unsigned char)r[n]) || !rs->lexicon) return 0;
    w[n] = '\0';
    return ppl_is_word(rs->lexicon, w) == 0;
}

static void add_said(ppb_buf *b, const fill_ctx *c)
{
    const char *t = c->text;
    size_t a = c->start, z = c->end;
    if (c->end == 0) {                  /* no match: a sentence of the message */
        size_t best_a = 0, best_z = 0;
        int best_q = 0;
        size_t e = c->len;
        while (e > 0) {
            while (e > 0 && strchr(" \n.!?", t[e - 1])) e--;
            size_t f = e;
            while (f > 0 && !strchr(".!?\n", t[f - 1])) f--;
            size_t ff = f;
            while (ff < e && t[ff] == ' ') ff++;
            int q = e < c->len && t[e] == '?';
            if (e > ff && e - ff <= SAID_MAX && strchr(t + ff, ' ') && (best_z == 0 || (q && !best_q))) {
                best_a = ff, best_z = e, best_q = q;
                if (q) break;
            }
            e = f;
        }
        if (best_z) { a = best_a; z = best_z; }
        else { a = 0; z = c->len; }
    } else {
        while (a > 0 && !strchr(".!?", t[a - 1])) a--;
        while (z < c->len && !strchr(".!?", t[z])) z++;
    }
    while (a < z && t[a] == ' ') a++;
    if (z - a > SAID_MAX) {
        /* the clause around the match (the start when there is none) */
        size_t m0 = c->end ? c->start : a, m1 = c->end ? c->end : a;
        size_t ca = m0, cz = m1;
        while (ca > a && !clause_edge(t, ca - 1, z)) ca--;
        while (cz < z && !clause_edge(t, cz, z)) cz++;
        /* and the clauses after it while they fit */
        while (cz < z && cz - ca < SAID_MAX) {
            size_t nz = cz + 1;
            while (nz < z && !clause_edge(t, nz, z)) nz++;
            if (nz - ca > SAID_MAX) break;
            cz = nz;
        }
        if (cz - ca <= SAID_MAX && cz > ca) { a = ca; z = cz; }
    }
    while (a < z && strchr(" ,;", t[a])) a++;
    if (z - a > SAID_MAX) {
        /* one long clause: keep the part around the match, cut at spaces */
        size_t from = c->start > a + SAID_MAX / 2 ? c->start - SAID_MAX / 2 : a;
        while (from > a && t[from - 1] != ' ') from++;
        size_t to = from + SAID_MAX < z ? from + SAID_MAX : z;
        while (to > from && to < z && t[to] != ' ') to--;
        if (to <= from) to = from + SAID_MAX < z ? from + SAID_MAX : z;
        to = from + ppu_cut(t + from, to - from);
        a = from;
        z = to;
    }
    while (z > a && strchr(" ,;:-", t[z - 1])) z--;
    char *r = pp_reflect(t + a, z - a);
    if (!r) return;
    /* start lowercase unless it is "I" or a name ("Sam's silence": a word
     * the dictionary knows only with its capital): the reply frames it */
    if (r[0] && isupper((unsigned char)r[0]) && !(r[0] == 'I' && (r[1] == ' ' || r[1] == '\'' || !r[1]))
        && !(r[1] && isupper((unsigned char)r[1])) && !is_name(c->rs, r))
        r[0] = (char)tolower((unsigned char)r[0]);
    ppb_adds(b, r);
    free(r);
}

static void add_capture(ppb_buf *b, const fill_ctx *c, const char *name)
{
    PCRE2_UCHAR *sub;
    PCRE2_SIZE n;
    if (!c->md || pcre2_substring_get_byname(c->md, (PCRE2_SPTR)name, &sub, &n) != 0) return;
    char *r = pp_reflect((const char *)sub, n);
    if (r) ppb_adds(b, r);
    free(r);
    pcre2_substring_free(sub);
}

static void fill(ppb_buf *b, const char *t, fill_ctx *c)
{
    const pp_session *s = c->s;
    while (*t) {
        const char *open = strchr(t, '{');
        if (!open) { ppb_adds(b, t); break; }
        ppb_add(b, t, (size_t)(open - t));
        const char *close = strchr(open, '}');
        if (!close || close - open > 40) { ppb_add(b, open, 1); t = open + 1; continue; }
        char key[48];
        size_t n = (size_t)(close - open - 1);
        memcpy(key, open + 1, n);
        key[n] = '\0';
        int cap = isupper((unsigned char)key[0]);
        char low[48];
        for (size_t i = 0; i <= n; i++) low[i] = (char)tolower((unsigned char)key[i]);
        size_t mark = b->len;
        const char *w;
        if (strcmp(low, "partner") == 0) ppb_adds(b, s->partner[0] ? s->partner : "your partner");
        else if ((w = pronoun_word(s->pronoun, low)) != NULL) ppb_adds(b, w);
        else if (strcmp(low, "said") == 0) add_said(b, c);
        else if (strcmp(low, "resources") == 0) {
            if (c->all_resources || !c->rs->resources) {
                ppb_adds(b, c->rs->resources);
                c->showed_resources = 1;
            } else {
                resource_line(b, c->rs->resources, s->disclosure);
            }
        }
        else if (strcmp(low, "article") == 0) ppb_adds(b, c->set && c->set->article ? c->set->article : "");
        else if (strcmp(low, "recall") == 0) { if (!c->fact) add_recall(b, c); }
        else if (strcmp(low, "fact") == 0) ppb_adds(b, c->fact ? c->fact : "");
        else if (strcmp(low, "draft") == 0) ppf_draft(b, c->rs, s);
        else add_capture(b, c, key);
        if (cap && b->len > mark && !b->oom)
            b->s[mark] = (char)toupper((unsigned char)b->s[mark]);
        t = close + 1;
    }
}

/* ---- system sentences -------------------------------------------------- */

/* The var of vars whose {name} starts at t ("{error}..."), or NULL. */
static const char *const *var_at(const char *t, const char *const *vars)
{
    for (const char *const *v = vars; v && v[0]; v += 2) {
        size_t n = strlen(v[0]);
        if (strncmp(t + 1, v[0], n) == 0 && t[n + 1] == '}') return v;
    }
    return NULL;
}

/* t filled into b, each var's value put in as it is (a value may hold a
 * '{', an error message or the user's words): the text around the vars
 * is filled piece by piece. */
static void fill_vars(ppb_buf *b, const char *t, fill_ctx *c, const char *const *vars)
{
    const char *const *v;
    for (const char *p = strchr(t, '{'); p; p = strchr(p + 1, '{')) {
        if (!(v = var_at(p, vars))) continue;
        char *piece = ppe_strndup(t, (size_t)(p - t));
        if (!piece) { b->oom = 1; return; }
        fill(b, piece, c);
        free(piece);
        ppb_adds(b, v[1] ? v[1] : "");
        t = p + strlen(v[0]) + 2;
        p = t - 1;
    }
    fill(b, t, c);
}

void ppy_template_fill(ppb_buf *b, const pp_ruleset *rs, const pp_session *s, const char *t,
                      const char *const *vars)
{
    fill_ctx c = { rs, s, NULL, "", 0, 0, 0, NULL, 1, 0, NULL, 0 };
    fill_vars(b, t ? t : "", &c, vars);
}

void ppy_system_text(ppb_buf *b, const pp_ruleset *rs, const pp_session *s, const char *id,
                    const char *const *vars, const char *fallback)
{
    ppy_system_text_at(b, rs, s, id, s->turns, vars, fallback);
}

void ppy_system_text_at(ppb_buf *b, const pp_ruleset *rs, const pp_session *s, const char *id,
                       unsigned long variant, const char *const *vars, const char *fallback)
{
    const ppr_set *set = ppr_find_set(rs, id);
    const char *t = fallback;
    if (set && set->n_variants) t = set->variants[variant % set->n_variants].text;
    fill_ctx c = { rs, s, set, "", 0, 0, 0, NULL, 1, 0, NULL, 0 };
    fill_vars(b, t ? t : "", &c, vars);
}

/* ---- what was disclosed ------------------------------------------------ */

/* The kind of danger a crisis rule's reply answers: abuse when the rule
 * locks the session, self-harm when it answers from safety.selfharm or a
 * set after it (safety.selfharm.*); otherwise the kind told before stays
 * ("should I give him space?" after abuse is still abuse). */
static int disclosure_kind(const ppr_rule *r, const ppr_set *set, int before)
{
    if (r->flag_abuse) return PP_DISCLOSED_ABUSE;
    if (set && strncmp(set->id, "safety.selfharm", 15) == 0 && (set->id[15] == '\0' || set->id[15] == '.'))
        return PP_DISCLOSED_SELFHARM;
    return before != PP_DISCLOSED_NONE ? before : PP_DISCLOSED_OTHER;
}

/* ---- choosing a variant ------------------------------------------------ */

static ppm_used *used_entry(pp_session *s, const ppr_set *set)
{
    for (size_t i = 0; i < s->n_used; i++)
        if (s->used[i].hash == set->hash && strcmp(s->used[i].set, set->id) == 0)
            return &s->used[i];
    ppm_used *u;
    if (s->n_used < PP_SESSION_SETS) {
        u = &s->used[s->n_used++];
    } else {                                   /* forget the oldest */
        u = &s->used[s->used_oldest];
        s->used_oldest = (s->used_oldest + 1) % PP_SESSION_SETS;
    }
    memset(u, 0, sizeof *u);
    u->last = -1;
    u->hash = set->hash;
    ppe_strlcpy(u->set, set->id, sizeof u->set);
    return u;
}

/* Pick a variant of set for role that the session has not used since the
 * set last wrapped; never the one used last. */
/* seed: 0, or a number that moves where the search starts (the fallback
 * sets pass a hash of the message, so their lines do not come in the same
 * order in every conversation; still deterministic for one transcript). */
/* avoid: tags the user tried or cannot do; a variant that asks one is
 * never picked, and -1 says every fitting variant does. */
static int pick_variant(pp_session *s, const ppr_set *set, pp_role role, uint32_t seed, uint32_t avoid)
{
    size_t n = set->n_variants < 64 ? set->n_variants : 64;
    if (n == 0) return -1;
    uint64_t fit = set->fit[role];
    if (fit == 0)                     /* none for this role: any will do */
        fit = n == 64 ? ~0ull : (1ull << n) - 1;
    if (avoid)
        for (size_t i = 0; i < n; i++)
            if (set->variants[i].asks & avoid) fit &= ~(1ull << i);
    if (fit == 0) return -1;
    if (n == 1) return 0;             /* no choice, nothing to remember */
    int n_fit = __builtin_popcountll(fit);
    ppm_used *u = used_entry(s, set);
    for (int pass = 0; pass < 2; pass++) {
        size_t off = (s->turns + (size_t)seed) % n;
        for (size_t k = 0; k < n; k++) {
            size_t i = (off + k) % n;
            uint64_t bit = 1ull << i;
            if (!(fit & bit) || (u->mask & bit)) continue;
            if ((int)i == u->last && n_fit > 1) continue;
            u->mask |= bit;
            u->last = (int)i;
            return (int)i;
        }
        u->mask &= ~fit;   /* every fitting variant used: a new round */
    }
    return -1;   /* not reached: a round always has a fitting variant */
}

/* Has the session said every variant of set that fits role since the set
 * last wrapped?  Then the next would be a repeat. */
static int used_up(const pp_session *s, const ppr_set *set, pp_role role)
{
    size_t n = set->n_variants < 64 ? set->n_variants : 64;
    uint64_t fit = set->fit[role];
    if (fit == 0) fit = n == 64 ? ~0ull : (1ull << n) - 1;
    for (size_t i = 0; i < s->n_used; i++)
        if (s->used[i].hash == set->hash && strcmp(s->used[i].set, set->id) == 0)
            return (s->used[i].mask & fit) == fit;
    return 0;
}

/* ---- the turn ---------------------------------------------------------- */

/* ---- /why ------------------------------------------------------------- *
 *
 * A reply keeps a record of its decision in the session (s->why: the rule,
 * the rules it beat, the set, the evidence of both sides, the words
 * matched); /why renders it from the rule set when asked.  The record holds
 * ids, so it reads the same after a restart; the quote is the user's own
 * words and the store drops it unless transcripts are kept. */
static void keep_decision(pp_session *s, const pp_ruleset *rs, const ppm_hit *hit,
                          const char *text, const ppr_set *set, int locked)
{
    ppm_decision *d = &s->why;
    memset(d, 0, sizeof *d);
    d->made = 1;
    if (hit->rule >= 0) {
        ppe_strlcpy(d->rule, rs->rules[hit->rule].id, sizeof d->rule);
        size_t span = hit->end - hit->start;
        if (span >= sizeof d->quote) span = ppu_cut(text + hit->start, sizeof d->quote - 1);
        memcpy(d->quote, text + hit->start, span);
        d->quote[span] = '\0';
    }
    for (int i = 0; i < 3; i++) {
        if (hit->runner_up[i] >= 0) ppe_strlcpy(d->beat[i], rs->rules[hit->runner_up[i]].id, PP_ID_MAX);
        if (hit->spent_by[i] >= 0) ppe_strlcpy(d->spent_by[i], rs->rules[hit->spent_by[i]].id, PP_ID_MAX);
    }
    if (set) ppe_strlcpy(d->set, set->id, sizeof d->set);
    d->evidence[0] = hit->evidence[0];
    d->evidence[1] = hit->evidence[1];
    d->mixed = hit->mixed;
    d->locked = locked;
    d->limit_hit = hit->limit_hit;
    d->budget_spent = hit->budget_spent;
}

static const ppr_rule *rule_by_id(const pp_ruleset *rs, const char *id)
{
    for (size_t i = 0; i < rs->n_rules; i++)
        if (strcmp(rs->rules[i].id, id) == 0) return &rs->rules[i];
    return NULL;
}

/* /why says each part of the decision in the words of a system.why-* set
 * (responses/system.responses), with the decision's ids as its vars; the
 * short C sentence is for a responses directory without that set. */
static void why_say(ppb_buf *b, const pp_ruleset *rs, const pp_session *s, const char *id,
                    const char *const *vars, const char *fallback)
{
    if (b->len) ppb_adds(b, "\n");
    ppy_system_text(b, rs, s, id, vars, fallback);
}

static void why_decision(ppb_buf *b, const pp_ruleset *rs, const pp_session *s)
{
    const ppm_decision *d = &s->why;
    if (!d->rule[0]) {
        const char *vars[] = { "set", d->set[0] ? d->set : "none", NULL };
        if (d->locked) why_say(b, rs, s, "system.why-none-locked", vars, "No rule matched; safety and support ({set}).");
        else why_say(b, rs, s, "system.why-none", vars, "No rule matched ({set}).");
        if (d->limit_hit) why_say(b, rs, s, "system.why-limit", NULL, "A rule hit its matching limit.");
        return;
    }
    const ppr_rule *r = rule_by_id(rs, d->rule);
    if (!r) {
        const char *vars[] = { "rule", d->rule, NULL };
        why_say(b, rs, s, "system.why-rule-gone", vars, "Rule {rule} (no longer in the rules).");
        return;
    }
    const ppr_set *rset = r->set >= 0 ? &rs->sets[r->set] : NULL;
    char line[16], prio[16], reach[16], step[16];
    snprintf(line, sizeof line, "%d", r->line);
    snprintf(prio, sizeof prio, "%d", r->priority);
    snprintf(reach, sizeof reach, "%d", d->evidence[0]);
    snprintf(step, sizeof step, "%d", d->evidence[1]);
    const char *vars[] = { "rule", d->rule, "file", r->shown_file, "line", line, "quote", d->quote,
                           "role", pp_role_name(r->role), "framework", r->framework, "priority", prio,
                           "set", d->set[0] ? d->set : "safety-support", "reaching", reach,
                           "stepping", step, NULL };
    if (d->quote[0]) why_say(b, rs, s, "system.why-rule", vars, "Rule {rule} ({file}:{line}) matched \"{quote}\".");
    else why_say(b, rs, s, "system.why-rule-noquote", vars, "Rule {rule} ({file}:{line}) matched your last message.");
    why_say(b, rs, s, "system.why-role", vars, "Role: {role}. Framework: {framework}. Priority: {priority}.");
    if (rset && rset->article && rset->article[0]) {
        const char *art[] = { "article", rset->article, NULL };
        why_say(b, rs, s, "system.why-article", art, "Source article: \"{article}\".");
    }
    if (r->role == PP_ROLE_CRISIS) why_say(b, rs, s, "system.why-crisis", NULL, "Safety rules come first.");
    ppb_buf beat = {0};
    for (int i = 0; i < 3; i++) {
        const ppr_rule *o = d->beat[i][0] ? rule_by_id(rs, d->beat[i]) : NULL;
        if (!o) continue;
        ppb_addf(&beat, "%s%s (%s, priority %d)", beat.len ? "; " : "", o->id, o->framework, o->priority);
    }
    if (beat.len && !beat.oom) {
        const char *bv[] = { "beat", beat.s, NULL };
        why_say(b, rs, s, "system.why-beat", bv, "Chosen over: {beat}.");
    }
    free(beat.s);
    if (d->evidence[0] && d->evidence[1]) {
        if (d->mixed) why_say(b, rs, s, "system.why-evidence-mixed", vars, "Evidence: reaching {reaching}, stepping back {stepping}; both.");
        else why_say(b, rs, s, "system.why-evidence", vars, "Evidence: reaching {reaching}, stepping back {stepping}.");
    }
    if (d->locked) why_say(b, rs, s, "system.why-locked", vars, "Not coached with {framework} after a disclosure; answered from {set}.");
}

void ppy_why_render(ppb_buf *b, const pp_ruleset *rs, const pp_session *s)
{
    const ppm_decision *d = &s->why;
    ppb_buf own = {0};
    why_decision(&own, rs, s);
    if (d->budget_spent) {
        char list[3 * PP_ID_MAX + 8] = "";
        for (int i = 0; i < 3 && d->spent_by[i][0]; i++) {
            if (i) strcat(list, ", ");
            strcat(list, d->spent_by[i]);
        }
        const char *vars[] = { "rules", list, NULL };
        why_say(&own, rs, s, "system.why-budget", vars, "This message used up the matching step budget. It went to: {rules}.");
    }
    /* the act recognised and the topic the conversation is in */
    const char *vars[] = { "act", d->act[0] ? d->act : "other",
                           "topic", s->framework[0] ? s->framework : "none", NULL };
    why_say(&own, rs, s, "system.why-act", vars, "Dialogue act: {act}. Topic: {topic}.");
    if (own.s) ppb_add(b, own.s, own.len);
    if (own.oom) b->oom = 1;
    free(own.s);
}

void pp_reply_clear(pp_reply *r)
{
    if (!r) return;
    free(r->text);
    free(r->input);
    memset(r, 0, sizeof *r);
}

/* ---- the dialogue act and the topic ------------------------------------ */

/* The act a rule recognises: its `act:`, else "crisis" for a crisis rule
 * and "tell" (the user tells of their situation) for the rest. */
static const char *rule_act(const ppr_rule *r)
{
    if (!r) return "other";
    if (r->act[0]) return r->act;
    return r->role == PP_ROLE_CRISIS ? "crisis" : "tell";
}

/* The set that continues the session's topic after a message no rule
 * matched: topic.FRAMEWORK, else `topic`; NULL outside a topic (no
 * framework yet, or a disclosure was made: then the safety rules and the
 * plain fallback answer, as before). */
static const ppr_set *topic_set(const pp_ruleset *rs, const pp_session *s)
{
    if (!s->framework[0] || s->safety_lock || s->disclosure != PP_DISCLOSED_NONE ||
        strcmp(s->framework, "safety") == 0)
        return NULL;
    char id[PP_ID_MAX + 8];
    snprintf(id, sizeof id, "topic.%s", s->framework);
    const ppr_set *set = ppr_find_set(rs, id);
    if (set && !used_up(s, set, s->role)) return set;
    set = ppr_find_set(rs, "topic");
    return set && !used_up(s, set, s->role) ? set : NULL;
}

/* Where the last sentence of a longer message starts ("... and he still
 * ignores me. How long should I wait?"), or 0 when it has one sentence.
 * comma: the last clause after a comma instead. */
static size_t tail_start(const char *t, size_t n, int comma)
{
    size_t z = n;
    while (z > 0 && strchr(" \n?!.", t[z - 1])) z--;
    size_t a = z;
    while (a > 0 && !strchr(comma ? ",;.!?\n" : ".!?\n", t[a - 1])) a--;   /* a comma of the last sentence */
    if (a == 0) return 0;
    while (a < z && (t[a] == ' ' || t[a] == '\n')) a++;
    return a < z ? a : 0;
}

/* The winner of the last sentence (or clause) of the message when it is a
 * direct question (an act ask.*) or a crisis rule, with hit and the captures of its match
 * in w->md; NULL when there is none.  prev_set / prev_fw: what the
 * question follows (the situation just recognised), so the family answers. */
static const ppr_rule *tail_question(const pp_ruleset *rs, ppm_work *w, const char *text, size_t n,
                                    const char *prev_set, const char *prev_fw, ppm_hit *hit, size_t *off)
{
    for (int comma = 0; comma < 2; comma++) {
        size_t a = tail_start(text, n, comma);
        if (a == 0 || (comma && a == tail_start(text, n, 0))) continue;
        /* first as following the situation (the framework's own family of
         * the question answers), then on its own: a follow-up that reads
         * "what should I do?" as a yes to a question the user has not yet
         * seen must not hide the question */
        for (int alone = 0; alone < 2; alone++) {
            if (alone && !prev_set && !prev_fw) break;
            if (ppm_run(rs, w, text + a, n - a, alone ? NULL : prev_set, alone ? NULL : prev_fw,
                             hit) != 0 || hit->rule < 0)
                continue;
            const ppr_rule *q = &rs->rules[hit->rule];
            /* a crisis rule that only the last sentence wakes is answered too */
            if (q->role != PP_ROLE_CRISIS && strncmp(q->act, "ask.", 4) != 0) continue;
            *off = a;
            return q;
        }
    }
    return NULL;
}

/* Where the situation's answer in t[from..len) should end when a direct
 * question of the same message is answered after it: before its own
 * first question, so that the reply asks one question and suggests one
 * step, the answer's.  len when it asks none, or asks in its first
 * sentence (the reflection is never cut). */
static size_t before_question(const char *t, size_t from, size_t len)
{
    if (!t) return len;
    const char *q = memchr(t + from, '?', len - from);
    if (!q) return len;
    size_t i = (size_t)(q - t);
    while (i > from && !((t[i - 1] == ' ' || t[i - 1] == '\n') && i >= from + 2 &&
                         strchr(".!", t[i - 2])))
        i--;
    if (i <= from) return len;
    while (i > from && (t[i - 1] == ' ' || t[i - 1] == '\n')) i--;
    return i;
}

/* set, or its `ID.draft` sibling when the session knows a complaint to
 * draft a start-up from ({draft}, reframe.c). */
static const ppr_set *draft_set(const pp_ruleset *rs, const pp_session *s, const ppr_set *set)
{
    char id[PP_ID_MAX + 8];
    if (!s->complaint[0] || s->safety_lock || s->complaint_role != s->role) return set;
    snprintf(id, sizeof id, "%s.draft", set->id);
    const ppr_set *d = ppr_find_set(rs, id);
    return d && d->n_variants && d->fit[s->role] ? d : set;   /* a variant for the role */
}

/* One variant of set for the session, filled into b; 0 when every fitting
 * variant asks what the user avoids. */
static int say_set(ppb_buf *b, const pp_ruleset *rs, pp_session *s, const ppr_set *set, pp_role role,
                   uint32_t seed, fill_ctx *c)
{
    int vi = pick_variant(s, set, role, seed, avoid_mask(rs, s));
    if (vi < 0) return 0;
    c->set = set;
    fill(b, set->variants[vi].text, c);
    s->recalled |= c->recalled;
    return 1;
}

int pp_reply_make(const pp_ruleset *rs, pp_session *s, const char *bytes,
                  size_t len, pp_reply *out)
{
    memset(out, 0, sizeof *out);
    size_t n;
    const char *notice;
    char *text = pp_input_normalize(bytes, len, &n, &notice);
    if (!text) return PP_ENOMEM;
    ppm_hit hit;
    /* inside a lock, every turn follows safety-support (see the top); after
     * a miss (a fallback reply) `after:` sees only that set, so a "yes" or
     * an "ok" answers the question just asked, never one a few turns back */
    const char *prev_fw = s->safety_lock ? "safety-support"
                        : s->framework[0] && s->rule[0] ? s->framework : NULL;
    ppm_work *w = ppm_work_take(rs);
    if (!w) { free(text); return PP_ENOMEM; }
    int rc = ppm_run(rs, w, text, n, s->set[0] ? s->set : NULL, prev_fw, &hit);
    if (rc) { ppm_work_give(rs, w); free(text); return rc; }

    const ppr_rule *r = hit.rule >= 0 ? &rs->rules[hit.rule] : NULL;
    /* the winner's captures are in w->md */
    /* a clause pattern matched the rendering: it has no captures in the text */
    const pcre2_code *code = r && !rs->patterns[hit.pattern].on_clauses ? rs->patterns[hit.pattern].code : NULL;
    find_partner(rs, s, w, code, text, n);
    if (!r || r->role != PP_ROLE_CRISIS) learn_facts(rs, s, w, text, n);   /* never from a disclosure */

    /* a longer message no rule matched whole may end in a direct question:
     * then that question is the message's act */
    size_t q_off = 0;
    ppm_hit q_hit;
    const ppr_rule *q = NULL;
    if (!r && n > 0 && !s->safety_lock &&
        (q = tail_question(rs, w, text, n, s->set[0] ? s->set : NULL, prev_fw, &q_hit, &q_off)) != NULL) {
        r = q;
        hit = q_hit;
        hit.start += q_off;
        hit.end += q_off;
        code = NULL;      /* its captures are of the tail: {said} still reads */
        q = NULL;
    }

    const ppr_set *set = NULL;
    const ppr_set *support = rs->set_support >= 0 ? &rs->sets[rs->set_support] : NULL;
    int locked = 0, safety = 0, continuing = 0;
    pp_role role = s->role, turn_role = r ? ppm_role(rs, &hit) : PP_ROLE_NONE;
    const char *framework = NULL;
    if (r) {
        if (r->flag_abuse) s->safety_lock = 1;
        role = turn_role == PP_ROLE_NONE ? s->role : turn_role;
        framework = r->framework;
        set = r->set >= 0 ? &rs->sets[r->set] : NULL;
        if (r->role == PP_ROLE_CRISIS) {
            s->disclosure = disclosure_kind(r, set, s->disclosure);
            safety = 1;
        } else if (r->framework && strcmp(r->framework, "safety") == 0) {
            safety = 1;                /* a turn after a disclosure */
        }
        /* inside a lock a dialogue act (framework none) is answered from
         * safety-support too: "yes" or "ok" after a disclosure is not small talk */
        else if (s->safety_lock && support &&
                 (ppr_framework_locked(rs, r->framework) || strcmp(r->framework, "none") == 0)) {
            set = support;
            locked = safety = 1;
            framework = "safety";
        }
        /* "I tried giving him space", "I have no friends to call": never
         * suggested again in this conversation */
        if (!safety && (r->avoid || r->avoid_last))
            avoid_add(rs, s, r->avoid | (r->avoid_last ? last_asks(rs, s) : 0));
        s->misses = 0;
    } else if (n > 0 && s->safety_lock && support) {
        /* a locked session keeps pointing to safety and support */
        set = support;
        locked = safety = 1;
        framework = "safety";
    } else if (n > 0 && (set = topic_set(rs, s)) != NULL) {
        /* inside a topic a message no rule knows continues it: the
         * framework's next question, never the generic echo */
        continuing = 1;
        framework = s->framework;
        s->misses = 0;
    } else if (n > 0) {
        /* the reflective lines, and after two misses the menu; a set that
         * has said all its lines gives way to the other, so no line comes
         * twice before both are used up */
        const ppr_set *fb = rs->set_fallback >= 0 ? &rs->sets[rs->set_fallback] : NULL;
        const ppr_set *menu = rs->set_topics >= 0 ? &rs->sets[rs->set_topics] : NULL;
        s->misses++;
        if (s->misses >= 2 && menu && !used_up(s, menu, s->role)) set = menu;
        else if (fb && !used_up(s, fb, s->role)) set = fb;
        else set = menu && !used_up(s, menu, s->role) ? menu : fb ? fb : menu;
        if (set && set == menu) s->misses = 0;
    }

    /* the draft of a gentle start-up reads what the user told (never in a
     * crisis or a lock); a set with a `.draft` sibling says that one when
     * there is a complaint to draft from ("how do I tell her?") */
    if (!safety && !s->safety_lock && n > 0 && (!r || !r->act[0]))   /* a situation, not an act */
        ppf_learn(rs, s, text, n, rs->n_clause_patterns ? &w->analysis : NULL,
                         r && (r->role == PP_ROLE_PURSUER || r->role == PP_ROLE_WITHDRAWER) ? r->role : s->role);
    if (set && !safety) set = draft_set(rs, s, set);

    ppb_buf b = {0};
    size_t said_from = 0;         /* where the situation's own answer starts in b */
    if (!s->disclaimed) {
        ppb_adds(&b, rs->disclaimer);
        ppb_adds(&b, "\n\n");
        s->disclaimed = 1;
    }
    if (notice) { ppb_adds(&b, notice); ppb_adds(&b, " "); }
    if (n == 0) {
        ppy_system_text(&b, rs, s, "system.no-words", NULL, "I didn't catch any words there.");
    } else if (set && set->n_variants) {
        const ppr_set *both = hit.mixed && !safety ? ppr_find_set(rs, "both-roles") : NULL;
        if (both && both->n_variants) {   /* "we both do it": say so first */
            int bi = pick_variant(s, both, role, 0, 0);
            fill_ctx c = { rs, s, both, text, n, hit.start, hit.end, NULL, 0, 0, NULL, 0 };
            if (bi >= 0) { fill(&b, both->variants[bi].text, &c); ppb_adds(&b, " "); }
        }
        int is_fallback = (rs->set_fallback >= 0 && set == &rs->sets[rs->set_fallback]) ||
                          (rs->set_topics >= 0 && set == &rs->sets[rs->set_topics]);
        uint32_t seed = is_fallback || continuing ? ppr_set_hash(text) : 0;
        said_from = b.len;
        fill_ctx c = { rs, s, set, text, n, r ? hit.start : 0, r ? hit.end : 0, code ? w->md : NULL,
                       !s->resources_shown || (r && r->role == PP_ROLE_CRISIS && set != support), 0,
                       NULL, 0 };
        if (!say_set(&b, rs, s, set, role, seed, &c) && !safety) {
            /* every variant asks what the user tried or cannot do: the
             * topic's next question instead, or the fallback */
            const ppr_set *alt = topic_set(rs, s);
            c.md = NULL;
            if (!alt || alt == set || !say_set(&b, rs, s, alt, role, ppr_set_hash(text), &c)) {
                alt = rs->set_fallback >= 0 ? &rs->sets[rs->set_fallback] : NULL;
                if (!alt || !say_set(&b, rs, s, alt, role, ppr_set_hash(text), &c))
                    ppb_adds(&b, BUILTIN_FALLBACK);
            }
            if (alt) set = alt;
        }
        if (c.showed_resources) s->resources_shown = 1;
    } else {
        ppb_adds(&b, BUILTIN_FALLBACK);
    }

    /* a situation told at length that ends in a direct question: the
     * question is answered too, in the terms of the situation just found */
    const char *act = rule_act(r);
    if (continuing) act = "other";
    if (r && !safety && !locked && !r->act[0] && n > 0) {
        const char *fw = strcmp(r->framework, "none") != 0 ? r->framework : prev_fw;
        q = tail_question(rs, w, text, n, set ? set->id : NULL, fw, &q_hit, &q_off);
        if (q && q->role == PP_ROLE_CRISIS) q = NULL;   /* the whole was read first: not here */
        const ppr_set *qset = q && q->set >= 0 ? draft_set(rs, s, &rs->sets[q->set]) : NULL;
        if (qset && qset->n_variants) {
            pp_role qrole = q->role == PP_ROLE_NONE ? role : q->role;
            fill_ctx c = { rs, s, qset, text + q_off, n - q_off, q_hit.start, q_hit.end,
                           rs->patterns[q_hit.pattern].on_clauses ? NULL : w->md, 0, 0, NULL, 0 };
            ppb_buf qb = {0};
            if (say_set(&qb, rs, s, qset, qrole, 0, &c) && qb.s) {
                act = rule_act(q);
                size_t cut = before_question(b.s, said_from, b.len);
                if (cut < b.len) b.len = cut, b.s[b.len] = '\0';
                ppb_adds(&b, "\n\n");
                ppb_adds(&b, qb.s);
            }
            if (qb.oom) b.oom = 1;
            free(qb.s);
        }
    }

    ppm_work_give(rs, w);              /* its captures are no longer needed */
    keep_decision(s, rs, &hit, text, set, locked);
    ppe_strlcpy(s->why.act, act, sizeof s->why.act);

    /* the session moves on */
    s->turns++;
    if (r) {
        if (turn_role == PP_ROLE_PURSUER || turn_role == PP_ROLE_WITHDRAWER) s->role = turn_role;
        /* framework none (a dialogue act): the session keeps its framework */
        if (!locked && r->role != PP_ROLE_CRISIS && strcmp(r->framework, "none") != 0) {
            if (strcmp(s->framework, r->framework) == 0) s->step++;
            else s->step = 0;
            ppe_strlcpy(s->framework, r->framework, sizeof s->framework);
        }
        ppe_strlcpy(s->rule, r->id, sizeof s->rule);
    } else {
        s->rule[0] = '\0';
    }
    ppe_strlcpy(s->set, set ? set->id : "", sizeof s->set);

    out->text = ppb_take(&b);
    out->input = text;
    out->rule = r ? r->id : NULL;
    out->framework = framework;
    out->set = set ? set->id : NULL;
    out->article = set && set->article && set->article[0] ? set->article : NULL;
    out->role = turn_role;
    out->safety = safety;
    out->mixed = hit.mixed && !safety;
    out->notice = notice;
    out->act = act;
    out->topic = s->framework[0] ? s->framework : NULL;
    if (!out->text) { pp_reply_clear(out); return PP_ENOMEM; }
    return 0;
}
