/* reframe.c -- turn a blaming complaint into a gentle start-up (issues 5, 20).
 *
 * pp_reframe() reads a complaint twice.  The rule set's reframe word lists
 * (responses/reframe.words, compiled with the rules) find the four
 * horsemen (criticism, contempt, defensiveness, stonewalling), the
 * "already gentle" pair and a topic (chores, money, texting...) with its
 * feeling, need and request.  The language layer (lang.c) then reads the
 * complaint as sentences and clauses of words, each with its lemma and
 * concepts, and rewrites the situation the complaint names in its own
 * words, clause by clause (see "the situation" below):
 *
 *   "Why do you always have to make everything about you? You're so selfish"
 *   -> the verdict clause ("you're so selfish") is left out; the question
 *      becomes a statement, "always" and "have to" go: "you make
 *      everything about you";
 *   -> "I feel unimportant when you make everything about you. I need ..."
 *
 * Every sentence that joins the pieces is a response set of
 * responses/reframe.responses, filled by reply.c's placeholder renderer
 * (ppy_template_fill / ppy_system_text, the one template language):
 *   stonewalling  -> ask for a break and say when to come back;
 *   defensiveness -> own a part and ask what would help;
 *   a situation   -> "I feel <feeling> when <situation>. I need <need>.
 *                    <request>", in the past tense when the complaint is;
 *                    the feeling is the one the user named, else the
 *                    topic's, else asked for (a note says so);
 *   nothing found -> the fill-in-the-blanks template, never a guess.
 * Design: the word lists are part of the immutable rule set; each match
 * runs with the set's read-only match context (PP_MATCH_LIMIT,
 * PP_DEPTH_LIMIT), so hostile input cannot make it slow, and a limit hit
 * counts as no match.  The analysis is bounded like a reply's.
 */
#include "pushpull.h"
#include "internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#define RF_TOKENS    48     /* words of one situation */
#define RF_SITUATION 24     /* longest situation said back, in words */
#define RF_ARENA     768

/* Reframe outside a conversation fills its sets like a first turn. */
static const pp_session no_session;

/* 1 when code matches text, 0 when not or when a limit was hit. */
static int run(const pp_ruleset *rs, const pcre2_code *code, const char *text, size_t len)
{
    if (!code) return 0;
    pcre2_match_data *md = pcre2_match_data_create(4, NULL);
    if (!md) return 0;
    int rc = pcre2_match(code, (PCRE2_SPTR)text, len, 0, 0, md, rs->mctx);
    pcre2_match_data_free(md);
    return rc >= 0;   /* 0: matched, ovector too small */
}

/* ---- the word lists ---------------------------------------------------- */

static const ppf_list *list_of(const ppf_words *w, const char *name)
{
    for (size_t i = 0; i < w->n_lists; i++)
        if (strcmp(w->lists[i].name, name) == 0) return &w->lists[i];
    return NULL;
}

/* The words of the phrase start at tok[i]: how many, or 0.  A one-word
 * phrase also matches its plural ("idiots"). */
static size_t phrase_at(const char *phrase, const char *const *tok, size_t n, size_t i)
{
    if (i >= n || tok[i][0] != phrase[0]) return 0;      /* most phrases end here */
    size_t k = 0;
    for (const char *p = phrase; *p; k++) {
        size_t len = strcspn(p, " ");
        if (i + k >= n) return 0;
        const char *t = tok[i + k];
        int same = strlen(t) == len && strncmp(t, p, len) == 0;
        if (!same && !p[len] && k == 0)
            same = strlen(t) == len + 1 && strncmp(t, p, len) == 0 && t[len] == 's';
        if (!same) return 0;
        p += len;
        while (*p == ' ') p++;
    }
    return k;
}

/* The longest phrase of list l at tok[i], in words; 0 for none.  A phrase
 * whose first letter is not the token's cannot match: most are passed over
 * on that one byte (the analysis asks this of every word of a message). */
static size_t list_at(const ppf_list *l, const char *const *tok, size_t n, size_t i)
{
    size_t best = 0;
    if (i >= n) return 0;
    char first = tok[i][0];
    for (size_t k = 0; l && k < l->n_phrases; k++) {
        if (l->phrases[k][0] != first) continue;
        size_t m = phrase_at(l->phrases[k], tok, n, i);
        if (m > best) best = m;
    }
    return best;
}

static int in_list(const ppf_list *l, const char *word)
{
    const char *t[1] = { word };
    return list_at(l, t, 1, 0) == 1;
}

/* ---- a situation, word by word ------------------------------------------ */

typedef struct toks {
    const char *t[RF_TOKENS];
    size_t n;
    char arena[RF_ARENA];
    size_t used;
} toks;

static const char *keep(toks *k, const char *s, size_t n)
{
    if (k->used + n + 1 > sizeof k->arena) return NULL;
    char *p = k->arena + k->used;
    memcpy(p, s, n);
    p[n] = '\0';
    k->used += n + 1;
    return p;
}

static void drop(toks *k, size_t at, size_t count)
{
    if (at >= k->n) return;
    if (at + count > k->n) count = k->n - at;
    memmove(k->t + at, k->t + at + count, (k->n - at - count) * sizeof *k->t);
    k->n -= count;
}

static void insert(toks *k, size_t at, const char *word)
{
    if (k->n >= RF_TOKENS || at > k->n) return;
    memmove(k->t + at + 1, k->t + at, (k->n - at) * sizeof *k->t);
    k->t[at] = word;
    k->n++;
}

static int is(const char *a, const char *b) { return a && strcmp(a, b) == 0; }

/* A verb's base form from its third person or past form, asking the
 * dictionary which candidate is a word ("helps" -> help, "watches" ->
 * watch, "tried" -> try, "planned" -> plan, "noticed" -> notice). */
static const char *base_form(const pp_ruleset *rs, toks *k, const char *v)
{
    static const char *const irregular[][2] = {
        {"does", "do"}, {"has", "have"}, {"goes", "go"}, {"is", "be"}, {"was", "be"},
        {"forgot", "forget"}, {"left", "leave"}, {"made", "make"}, {"said", "say"},
        {"told", "tell"}, {"took", "take"}, {"went", "go"}, {"came", "come"}, {"got", "get"},
        {"spent", "spend"}, {"bought", "buy"}, {"brought", "bring"}, {"thought", "think"},
        {"gave", "give"}, {"saw", "see"}, {"knew", "know"}, {"did", "do"}, {"had", "have"},
        {"sent", "send"}, {"kept", "keep"}, {"ran", "run"}, {"sat", "sit"}, {"ate", "eat"},
        {NULL, NULL}
    };
    for (int i = 0; irregular[i][0]; i++)
        if (is(v, irregular[i][0])) return irregular[i][1];
    size_t n = strlen(v);
    if (n < 3 || n > 30) return v;
    /* candidates, most likely first: how many letters to cut, what to add */
    struct cut { size_t cut; const char *add; } tries[6];
    size_t nt = 0;
    if (n > 4 && (!strcmp(v + n - 3, "ied") || !strcmp(v + n - 3, "ies")))
        tries[nt++] = (struct cut){ 3, "y" };                          /* tried, tries */
    if (v[n - 1] == 'd' && v[n - 2] == 'e' && v[n - 3] != 'e') {
        tries[nt++] = (struct cut){ 1, "" };                           /* noticed */
        tries[nt++] = (struct cut){ 2, "" };                           /* called */
        if (n > 4 && v[n - 3] == v[n - 4]) tries[nt++] = (struct cut){ 3, "" };   /* planned */
    } else if (v[n - 1] == 's' && v[n - 2] != 's' && v[n - 2] != 'u') {
        tries[nt++] = (struct cut){ 1, "" };                           /* helps */
        if (v[n - 2] == 'e') tries[nt++] = (struct cut){ 2, "" };      /* watches */
    }
    char c[40];
    for (size_t i = 0; i < nt; i++) {
        snprintf(c, sizeof c, "%.*s%s", (int)(n - tries[i].cut), v, tries[i].add);
        int ok = ppl_is_word(rs->lexicon, c);
        if (ok < 0) ok = i == 0;         /* no dictionary: the first guess */
        if (ok > 0) {
            const char *kept = keep(k, c, strlen(c));
            return kept ? kept : v;
        }
    }
    return v;
}

/* Is v a past form ("booked", "forgot", "left")? */
static int past_form(const pp_ruleset *rs, toks *k, const char *v)
{
    size_t n = strlen(v);
    if (n > 3 && !strcmp(v + n - 2, "ed") && v[n - 3] != 'e') return 1;
    if (is(v, "was") || is(v, "were") || is(v, "did")) return 1;
    if (n > 1 && v[n - 1] == 's') return 0;
    return base_form(rs, k, v) != v;
}

/* Words that make a question ("why do you ...") or that carry no content. */
static int is_aux(const char *w)
{
    static const char *const aux[] = { "do", "does", "did", "can", "could", "will", "would", "are",
                                       "is", "was", "were", "have", "has", "had", "should", "must",
                                       "am", NULL };
    for (int i = 0; aux[i]; i++)
        if (is(w, aux[i])) return 1;
    return 0;
}

/* Who the words at tok[i] are: 'y' you, 'p' the partner in the third
 * person (he, she, my wife, a name), 'u' the user, 'w' we; 0 none.  *len
 * gets how many words. */
static int person(const ppf_words *wl, const toks *k, size_t i, const uint8_t *name, size_t *len)
{
    *len = 1;
    if (i >= k->n) return 0;
    const char *w = k->t[i];
    if (is(w, "you")) return 'y';
    if (is(w, "he") || is(w, "she") || (name && name[i])) return 'p';
    if (is(w, "i")) return 'u';
    if (is(w, "we")) return 'w';
    if (is(w, "my") && i + 1 < k->n && in_list(list_of(wl, "partner"), k->t[i + 1])) {
        *len = 2;
        return 'p';
    }
    return 0;
}

/* The partner's pronoun set of a third-person subject: 'm' he, 'f' she. */
static int gender(const ppf_words *wl, const toks *k, size_t i, size_t len)
{
    const char *w = k->t[i + len - 1];
    if (is(w, "he") || in_list(list_of(wl, "partner-he"), w)) return 'm';
    if (is(w, "she") || in_list(list_of(wl, "partner-she"), w)) return 'f';
    return 0;
}

/* "her" before a word that can follow an object ("with her", "her at
 * night") is "you"; before a noun ("her phone") it is "your". */
static int object_her(const toks *k, size_t i)
{
    static const char *const after[] = { "to", "at", "with", "about", "for", "and", "when", "if",
                                         "up", "out", "back", "down", "off", "in", "on", "alone",
                                         "again", "first", "anymore", "like", "so", NULL };
    if (i + 1 >= k->n) return 1;
    for (int j = 0; after[j]; j++)
        if (is(k->t[i + 1], after[j])) return 1;
    return 0;
}

/* The verb after "you" (at k->t[at]) agrees with it: is -> are, helps -> help. */
static void agree(const pp_ruleset *rs, toks *k, size_t at)
{
    if (at >= k->n) return;
    const char *v = k->t[at];
    if (is(v, "is") || is(v, "was")) k->t[at] = is(v, "is") ? "are" : "were";
    else if (is(v, "has")) k->t[at] = "have";
    else if (is(v, "does")) k->t[at] = "do";
    else if (strlen(v) > 2 && v[strlen(v) - 1] == 's' && !in_list(list_of(rs->reframe, "function"), v))
        k->t[at] = base_form(rs, k, v);
}

/* The partner said of in the third person (pronouns of gender g, 'm' or
 * 'f') becomes "you", from word from on; verb_at: the subject was already
 * made "you" and the verb after it agrees. */
static void second_person(const pp_ruleset *rs, toks *k, int g, size_t from, int verb_at)
{
    if (verb_at) agree(rs, k, verb_at);
    const ppf_list *adverb = list_of(rs->reframe, "adverb");
    for (size_t i = from; i < k->n; i++) {
        const char *w = k->t[i];
        if (is(w, "and") && i + 1 < k->n) {                   /* "... and barely looks at me" */
            size_t v = i + 1;
            while (v + 1 < k->n && in_list(adverb, k->t[v])) v++;
            agree(rs, k, v);
        }
        if ((g == 'm' && is(w, "he")) || (g == 'f' && is(w, "she"))) {
            k->t[i] = "you";
            agree(rs, k, i + 1);
        }
        else if (g == 'm' && is(w, "him")) k->t[i] = "you";
        else if (g == 'm' && is(w, "his")) k->t[i] = "your";
        else if (g == 'm' && is(w, "himself")) k->t[i] = "yourself";
        else if (g == 'f' && is(w, "her")) k->t[i] = object_her(k, i) ? "you" : "your";
        else if (g == 'f' && is(w, "herself")) k->t[i] = "yourself";
    }
}

typedef struct clause_read {
    int usable;          /* it can be said back: no insult, verdict, stonewall */
    int content;         /* it says something ("you do this" does not) */
    int subordinate;     /* it opened with "every time", "whenever": a comma follows */
    int opens_next;      /* it ends with one: the next clause goes on from it */
    int subject;         /* person() of its subject after the rewrite */
} clause_read;

/* Rewrite one clause's words in place into a situation said to the
 * partner: openers and the question frame go, "never" becomes a plain
 * negation, "always" and the like go, a third-person partner becomes
 * "you", curses go.  Whether the result can be said back is in the
 * returned read. */
static clause_read rewrite_clause(const pp_ruleset *rs, toks *k, uint8_t *name, int first, int *carry)
{
    const ppf_words *wl = rs->reframe;
    const ppf_list *global = list_of(wl, "globaliser"), *opener = list_of(wl, "opener"),
                          *frame = list_of(wl, "question-frame"), *curse = list_of(wl, "curse"),
                          *filler = list_of(wl, "function"), *sub = list_of(wl, "subordinator");
    clause_read r = { 0, 0, 0, 0, 0 };
    /* a verdict or an insult anywhere: not a situation */
    static const char *const unsayable[] = { "insult", "verdict", "mindread", "stonewall", NULL };
    for (int u = 0; unsayable[u]; u++) {
        const ppf_list *l = list_of(wl, unsayable[u]);
        for (size_t i = 0; l && i < k->n; i++) {
            if (!list_at(l, k->t, k->n, i)) continue;
            /* "you go silent on me and it's so childish": the part before */
            size_t j = i;
            while (j > 2 && !is(k->t[j], "and") && !is(k->t[j], "but")) j--;
            if (j <= 2) return r;
            k->n = j;
            break;
        }
    }
    size_t m;
    /* "I feel so alone": the feeling, not the situation */
    for (size_t i = 0; i + 1 < k->n && i < 3; i++)
        if (is(k->t[i], "i") && (is(k->t[i + 1], "feel") || is(k->t[i + 1], "felt"))) return r;
    for (int again = first; again;) {
        again = 0;
        if (k->n && list_at(sub, k->t, k->n, 0)) r.subordinate = 1;
        if (k->n && (m = list_at(opener, k->t, k->n, 0))) { drop(k, 0, m); again = 1; }
        else if (k->n && (m = list_at(global, k->t, k->n, 0))) { drop(k, 0, m); again = 1; }
    }
    /* "why do you X" -> "you X"; "why can't you X" -> "you can't X" */
    int asked = 0;
    if (k->n && (m = list_at(frame, k->t, k->n, 0))) { drop(k, 0, m); asked = 1; }
    if (asked && k->n > 1 && is_aux(k->t[0])) {
        size_t neg = is(k->t[1], "not") ? 1 : 0, plen;
        if (person(wl, k, 1 + neg, name, &plen)) {
            const char *aux = k->t[0];
            int keep_aux = !is(aux, "do") && !is(aux, "does") && !is(aux, "did");
            drop(k, 0, 1 + neg);
            memmove(name, name + 1 + neg, RF_TOKENS - 1 - neg);
            if (keep_aux || neg) insert(k, plen, keep_aux ? aux : (is(aux, "did") ? "did" : "do"));
            if (neg) insert(k, plen + 1, "not");
        }
    }
    /* "do you even know what I do?" says "you don't"; "are you serious?"
     * says nothing to repeat */
    size_t plen = 1;
    if (!asked && k->n > 2 && is_aux(k->t[0]) && person(wl, k, 1, name, &plen)) {
        size_t at = 1 + plen;
        if (at >= k->n || (!is(k->t[at], "even") && !is(k->t[at], "ever"))) return r;
        const char *aux = k->t[0];
        int did = is(aux, "did"), plain = is(aux, "do") || is(aux, "does") || did;
        drop(k, 0, 1);
        memmove(name, name + 1, RF_TOKENS - 1);
        k->t[plen] = plain ? (did ? "did" : "do") : aux;
        insert(k, plen + 1, "not");
    }
    int who = person(wl, k, 0, name, &plen);
    int g = who == 'p' ? gender(wl, k, 0, plen) : 0;
    for (size_t i = plen; who == 'p' && !g && i < k->n; i++)    /* "Jordan ... his phone" */
        g = is(k->t[i], "he") || is(k->t[i], "his") || is(k->t[i], "him") ? 'm'
          : is(k->t[i], "she") || is(k->t[i], "her") ? 'f' : 0;
    if (who == 'p') {                       /* he / my wife / Sam -> you */
        drop(k, 0, plen);
        insert(k, 0, "you");
        memset(name, 0, RF_TOKENS);
    }
    /* "he pulls away every time | we get close": the next clause goes on */
    for (size_t i = k->n > 3 ? k->n - 3 : 1; i < k->n; i++)
        if ((m = list_at(sub, k->t, k->n, i)) && i + m == k->n) {
            drop(k, i, m);
            insert(k, i, "when");
            r.opens_next = 1;
            break;
        }
    /* globalisers; "never" is a negation */
    for (size_t i = 1; i < k->n; i++) {
        if (is(k->t[i], "never")) {
            if (is_aux(k->t[i - 1]) && !is(k->t[i - 1], "do") && !is(k->t[i - 1], "does")) {
                k->t[i] = "not";
            } else {
                drop(k, i, 1);
                while (i < k->n && (m = list_at(global, k->t, k->n, i))) drop(k, i, m);
                int past = i < k->n && past_form(rs, k, k->t[i]);
                if (i < k->n) k->t[i] = base_form(rs, k, k->t[i]);
                insert(k, i, past ? "did" : "do");
                insert(k, i + 1, "not");
                i++;
            }
            continue;
        }
        if ((m = list_at(global, k->t, k->n, i))) {
            drop(k, i, m);
            /* "always have to make" -> "make", "... to be" -> "are" */
            if (i + 1 < k->n && (is(k->t[i], "have") || is(k->t[i], "has") || is(k->t[i], "got"))
                && is(k->t[i + 1], "to")) {
                drop(k, i, 2);
                if (i < k->n && i == 1 && is(k->t[i], "be") && (who == 'y' || who == 'p')) k->t[i] = "are";
            }
            i--;
        }
    }
    for (size_t i = 0; i < k->n; i++)
        if ((m = list_at(curse, k->t, k->n, i))) { drop(k, i, m); i--; }
    if (who == 'p') {
        *carry = g;
        second_person(rs, k, g, 1, 1);
    } else if (*carry) {
        second_person(rs, k, *carry, 0, 0);   /* "... when he is out" */
    }
    /* "every time we visit your parents you disappear": the comma the
     * main clause starts after */
    for (size_t i = 2; r.subordinate && i + 1 < k->n; i++)
        if ((is(k->t[i], "you") || is(k->t[i], "i")) && !in_list(list_of(wl, "preposition"), k->t[i - 1])) {
            insert(k, i, ",");
            r.subordinate = 0;
        }
    /* something is said: a word that is not a pronoun, an auxiliary or "this" */
    size_t content = 0;
    for (size_t i = 0; i < k->n; i++)
        if (!in_list(filler, k->t[i]) && !is(k->t[i], ",")) content++;
    r.content = content >= 1;
    for (size_t i = 0; i < k->n; i++)       /* a "never" left over: not said back */
        if ((strstr(k->t[i], "never") || strstr(k->t[i], "always")) && !is(k->t[i], "whenever") &&
            !is(k->t[i], "nevertheless"))
            return r;
    /* "0idiot": letters glued to digits are read as the word they hold */
    for (size_t i = 0; i < k->n; i++) {
        const char *t = k->t[i], *letters = t;
        while (*letters && !isalpha((unsigned char)*letters)) letters++;
        if (letters == t || !*letters) continue;
        for (int u = 0; unsayable[u]; u++)
            if (in_list(list_of(wl, unsayable[u]), letters)) return r;
        if (in_list(curse, letters)) return r;
    }
    r.usable = k->n >= 1 && k->n <= RF_SITUATION;
    r.subject = who ? who : person(wl, k, 0, name, &plen);
    return r;
}

/* The words as a phrase: contractions joined back ("do not" -> "don't"),
 * "I" capitalised, names as typed. */
static void say(ppb_buf *b, const toks *k)
{
    static const char *const joined[][3] = {
        {"do", "not", "don't"}, {"does", "not", "doesn't"}, {"did", "not", "didn't"},
        {"is", "not", "isn't"}, {"are", "not", "aren't"}, {"was", "not", "wasn't"},
        {"were", "not", "weren't"}, {"have", "not", "haven't"}, {"has", "not", "hasn't"},
        {"can", "not", "can't"}, {"will", "not", "won't"}, {"would", "not", "wouldn't"},
        {"could", "not", "couldn't"}, {"should", "not", "shouldn't"}, {"you", "are", "you're"},
        {"i", "am", "I'm"}, {"i", "have", "I've"}, {"it", "is", "it's"}, {"that", "is", "that's"},
        {NULL, NULL, NULL}
    };
    for (size_t i = 0; i < k->n; i++) {
        const char *w = k->t[i];
        if (i && !is(w, ",")) ppb_adds(b, " ");
        int done = 0;
        for (int j = 0; joined[j][0] && i + 1 < k->n; j++)
            if (is(w, joined[j][0]) && is(k->t[i + 1], joined[j][1]) &&
                (strcmp(joined[j][1], "not") == 0 || i + 2 < k->n)) {   /* "how I am", not "how I'm" */
                ppb_adds(b, joined[j][2]);
                i++;
                done = 1;
                break;
            }
        if (!done) ppb_adds(b, is(w, "i") ? "I" : w);
    }
}

/* Word i was typed with a possessive "'s" that the layer dropped. */
static int possessive(const ppl_analysis *a, size_t i)
{
    const ppl_word *w = &a->words[i];
    if (i + 1 < a->n_words && a->words[i + 1].off == w->off) return 0;   /* "it's": two words */
    if (i > 0 && a->words[i - 1].off == w->off) return 0;
    const char *t = a->text + w->off;
    size_t n = w->len, nl = strlen(w->norm);
    if (n < 3 || nl + 2 != n || strncasecmp(t, w->norm, nl) != 0) return 0;
    return t[n - 2] == '\'' && (t[n - 1] == 's' || t[n - 1] == 'S');
}

/* The situation the complaint names, in its own words, into b: the first
 * sentence with a clause that can be said back, its usable clauses in
 * order.  0 when there is none. */
static int own_situation(const pp_ruleset *rs, const ppl_analysis *a, ppb_buf *b, int *past, int *partner)
{
    const ppf_list *conj = list_of(rs->reframe, "conjunction"),
                          *sarcasm = list_of(rs->reframe, "sarcasm"), *cont = list_of(rs->reframe, "continuation");
    for (size_t s = 0; s < a->n_sentences; s++) {
        /* sarcasm says the opposite of its words: not said back */
        const char *tok[RF_TOKENS * 4];
        size_t nt = 0, ironic = 0;
        for (size_t i = 0; i < a->n_words && nt < sizeof tok / sizeof *tok; i++)
            if (a->clauses[a->words[i].clause].sentence == s) tok[nt++] = a->words[i].norm;
        for (size_t i = 0; i < nt && !ironic; i++) ironic = list_at(sarcasm, tok, nt, i);
        if (ironic) continue;
        size_t said = 0;
        int comma = 0, carry = 0, opened = 0;
        for (size_t c = 0; c < a->n_clauses; c++) {
            const ppl_clause *cl = &a->clauses[c];
            if (cl->sentence != s || !cl->count) continue;
            toks k = { .n = 0, .used = 0 };
            uint8_t name[RF_TOKENS] = {0};
            for (size_t i = cl->first; i < cl->first + cl->count && k.n < RF_TOKENS; i++) {
                const ppl_word *w = &a->words[i];
                if (w->flags & PPL_WORD_NAME) {
                    const char *typed = keep(&k, a->text + w->off, w->len);
                    if (!typed) continue;
                    name[k.n] = 1;
                    k.t[k.n++] = typed;
                } else if (possessive(a, i)) {          /* "her mother's side" */
                    char p[64];
                    snprintf(p, sizeof p, "%s's", w->norm);
                    const char *kept = keep(&k, p, strlen(p));
                    k.t[k.n++] = kept ? kept : w->norm;
                } else {
                    k.t[k.n++] = w->norm;
                }
            }
            /* after the first, only a clause that goes on from it */
            if (said && !opened && !list_at(cont, k.t, k.n, 0)) break;
            int was_carry = carry;
            clause_read r = rewrite_clause(rs, &k, name, said == 0, &carry);
            /* the first clause said must say something; the ones after it
             * may just finish it ("... and you do nothing") */
            if (!r.usable || (!said && !r.content) || said + k.n > RF_SITUATION) {
                carry = was_carry;
                continue;
            }
            size_t m;
            if (!said && (m = list_at(conj, k.t, k.n, 0))) drop(&k, 0, m);
            if (!k.n) continue;
            if (!said) *partner = r.subject == 'y' || r.subject == 'p';
            if (said) ppb_adds(b, comma ? ", " : " ");
            said += k.n;
            comma = r.subordinate;
            opened = r.opens_next;
            /* the past: "did not", "was", or the verb after the subject */
            for (size_t i = 0; i < k.n && !*past; i++)
                if (is(k.t[i], "did") || is(k.t[i], "was") || is(k.t[i], "were")) *past = 1;
            if (r.subject && k.n > 1 && past_form(rs, &k, k.t[1])) *past = 1;
            say(b, &k);
        }
        if (said) return 1;
    }
    return 0;
}

/* A feeling the user named ("I feel so alone", "it makes me feel
 * invisible"): the word of the `feeling` list after feel/felt.
 * Written into out; 0 when none. */
static int said_feeling(const pp_ruleset *rs, const ppl_analysis *a, char *out, size_t size)
{
    const ppf_list *feel = list_of(rs->reframe, "feeling"), *filler = list_of(rs->reframe, "function");
    for (size_t i = 0; i + 1 < a->n_words; i++) {
        const ppl_word *w = &a->words[i];
        if (!is(w->lemma, "feel") && !is(w->norm, "felt")) continue;
        int mine = a->clauses[w->clause].subject == PPL_SUBJ_USER ||
                   (i > 0 && is(a->words[i - 1].norm, "me"));        /* "it makes me feel" */
        if (!mine || (w->flags & PPL_WORD_NEGATED)) continue;
        const char *tok[8];
        size_t nt = 0;
        for (size_t j = i + 1; j < a->n_words && nt < 8 && a->words[j].clause == w->clause; j++)
            tok[nt++] = a->words[j].norm;
        for (size_t j = 0; j < nt && j < 4; j++) {
            size_t m = list_at(feel, tok, nt, j);     /* "let down", "left out" */
            if (m) {
                out[0] = '\0';
                for (size_t q = j; q < j + m; q++)
                    snprintf(out + strlen(out), size - strlen(out), "%s%s", q > j ? " " : "", tok[q]);
                return 1;
            }
            if (!in_list(filler, tok[j])) break;
        }
    }
    return 0;
}

/* ---- topics ------------------------------------------------------------ */

/* The safe phrase for a captured object ("Dishes" -> "the dishes"). */
static const ppf_object *find_object(const ppf_words *w, const char *text,
                                            size_t start, size_t end)
{
    char word[48];
    size_t n = 0;
    if (end <= start || end - start >= sizeof word) return NULL;
    for (size_t i = start; i < end; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == ' ' && n > 0 && word[n - 1] == ' ') continue;
        word[n++] = (char)tolower(c);
    }
    word[n] = '\0';
    for (size_t i = 0; i < w->n_objects; i++)
        if (!strcmp(w->objects[i].word, word)) return &w->objects[i];
    return NULL;
}

/* Which topic (index, or -1), and its object phrase. */
static int find_topic(const pp_ruleset *rs, const char *text, size_t len, const char **obj, int *plural)
{
    const ppf_words *w = rs->reframe;
    for (size_t i = 0; i < w->n_topics; i++) {
        const pcre2_code *code = w->topics[i].re.code;
        pcre2_match_data *md = pcre2_match_data_create_from_pattern(code, NULL);
        if (!md) return -1;
        int rc = pcre2_match(code, (PCRE2_SPTR)text, len, 0, 0, md, rs->mctx);
        if (rc < 0) {
            pcre2_match_data_free(md);
            continue;
        }
        const ppf_topic *t = &w->topics[i];
        const ppf_object *o = NULL;
        int num = pcre2_substring_number_from_name(code, (PCRE2_SPTR) "obj");
        if (num > 0 && num < rc) {
            PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
            if (ov[2 * num] != PCRE2_UNSET) o = find_object(w, text, ov[2 * num], ov[2 * num + 1]);
        }
        pcre2_match_data_free(md);
        *obj = o ? o->phrase : t->default_obj;
        *plural = o ? o->plural : t->default_plural;
        return (int)i;
    }
    return -1;
}

/* A topic's phrase with its object filled in ({obj} {s} {is} {was}). */
static char *topic_phrase(const pp_ruleset *rs, const char *tpl, const char *obj, int plural)
{
    const char *vars[] = { "obj", obj, "s", plural ? "" : "s", "is", plural ? "are" : "is",
                           "was", plural ? "were" : "was", NULL };
    ppb_buf b = {0};
    ppy_template_fill(&b, rs, &no_session, tpl, vars);
    return ppb_take(&b);
}

/* ---- result ------------------------------------------------------------ */

static int add_note(pp_reframe_result *r, const char *note)
{
    char **n = realloc(r->notes, (r->n_notes + 1) * sizeof *n);
    if (!n) return PP_ENOMEM;
    r->notes = n;
    if (!(n[r->n_notes] = strdup(note))) return PP_ENOMEM;
    r->n_notes++;
    return 0;
}

const char *pp_horseman_name(unsigned bit)
{
    switch (bit) {
    case PP_HORSEMAN_CRITICISM: return "criticism";
    case PP_HORSEMAN_CONTEMPT: return "contempt";
    case PP_HORSEMAN_DEFENSIVENESS: return "defensiveness";
    case PP_HORSEMAN_STONEWALLING: return "stonewalling";
    default: return "";
    }
}

/* A label of the plain output: the set id of responses/reframe.responses,
 * or the short C fallback for a result made without one. */
static void label(ppb_buf *b, const pp_reframe_result *r, const char *id, const char *const *vars,
                  const char *fallback)
{
    if (r->rules) ppy_system_text(b, r->rules, &no_session, id, vars, fallback);
    else ppy_template_fill(b, NULL, &no_session, fallback, vars);
}

char *pp_reframe_format(const pp_reframe_result *r)
{
    ppb_buf b = {0};
    if (r->horsemen) {
        ppb_buf names = {0};
        for (unsigned bit = 1; bit <= PP_HORSEMAN_STONEWALLING; bit <<= 1)
            if (r->horsemen & bit) {
                if (names.len) ppb_adds(&names, ", ");
                ppb_adds(&names, pp_horseman_name(bit));
            }
        const char *vars[] = { "horsemen", names.s ? names.s : "", NULL };
        label(&b, r, "reframe.found", vars, "Found: {horsemen}");
        free(names.s);
        ppb_adds(&b, "\n");
    } else if (!r->already_gentle) {
        label(&b, r, "reframe.found-none", NULL, "Found: no blame");
        ppb_adds(&b, "\n");
    }
    for (size_t i = 0; i < r->n_notes; i++) ppb_addf(&b, "- %s\n", r->notes[i]);
    if (r->already_gentle) label(&b, r, "reframe.keep-saying", NULL, "Keep saying:");
    else label(&b, r, "reframe.try-saying", NULL, "Try saying:");
    ppb_addf(&b, "\n  %s", r->rewrite ? r->rewrite : "");
    return ppb_take(&b);
}

void pp_reframe_clear(pp_reframe_result *r)
{
    if (!r) return;
    free(r->text);
    free(r->rewrite);
    for (size_t i = 0; i < r->n_notes; i++) free(r->notes[i]);
    free(r->notes);
    memset(r, 0, sizeof *r);
}

/* The horsemen the language layer reads (the patterns of reframe.words
 * find the rest): a clause about the partner ("you", "he", "my wife")
 * with a globaliser ("always", "never", "every single time") or a verdict
 * on who they are is criticism; an insult anywhere is contempt. */
static unsigned layer_horsemen(const pp_ruleset *rs, const ppl_analysis *a)
{
    const ppf_words *wl = rs->reframe;
    const ppf_list *verdict = list_of(wl, "verdict"), *insult = list_of(wl, "insult"),
                          *blame = list_of(wl, "blame"), *when = list_of(wl, "blame-when"),
                          *gentle = list_of(wl, "i-statement");
    unsigned found = 0;
    const char *tok[RF_TOKENS];
    size_t sentence = (size_t)-1;
    int opens_when = 0, feels = 0;
    for (size_t c = 0; c < a->n_clauses; c++) {
        const ppl_clause *cl = &a->clauses[c];
        size_t n = 0;
        int partner = cl->subject == PPL_SUBJ_PARTNER;
        for (size_t i = cl->first; i < cl->first + cl->count && n < RF_TOKENS; i++) {
            tok[n++] = a->words[i].norm;
            if (i < cl->first + 4 && is(a->words[i].norm, "you")) partner = 1;
        }
        if (cl->sentence != sentence) {   /* a sentence's first clause */
            sentence = cl->sentence;
            opens_when = feels = 0;
            const char *open[6];
            size_t no = 0;
            for (size_t i = cl->first; i < a->n_words && no < 6; i++)
                if (a->clauses[a->words[i].clause].sentence == sentence) open[no++] = a->words[i].norm;
            for (size_t i = 0; i < no && i < 4; i++) opens_when |= list_at(when, open, no, i) != 0;
        }
        for (size_t i = 0; i < n && opens_when; i++) partner |= is(tok[i], "you");
        for (size_t i = 0; i < n; i++) {
            if (list_at(gentle, tok, n, i)) feels = 1;
            /* "you make me feel like an idiot" is not an insult */
            int felt = 0;
            for (size_t j = i >= 3 ? i - 3 : 0; j < i; j++) felt |= is(tok[j], "feel") || is(tok[j], "felt");
            if (cl->subject != PPL_SUBJ_USER && !felt && list_at(insult, tok, n, i))
                found |= PP_HORSEMAN_CONTEMPT;
            if (partner && (list_at(blame, tok, n, i) || list_at(verdict, tok, n, i)))
                found |= PP_HORSEMAN_CRITICISM;
        }
        if (partner && opens_when && !feels) found |= PP_HORSEMAN_CRITICISM;
    }
    return found;
}

typedef struct reading {
    int topic;
    const char *obj;
    int plural;
    char *label;                 /* the topic's label, filled; NULL without a topic */
} reading;

/* One rewrite from the set id, with vars; into r->rewrite. */
static int rewrite_from(const pp_ruleset *rs, const pp_session *s, pp_reframe_result *r, const char *id,
                        const char *const *vars)
{
    ppb_buf b = {0};
    ppy_system_text(&b, rs, s, id, vars, "");
    free(r->rewrite);
    r->rewrite = ppb_take(&b);
    if (!r->rewrite) return PP_ENOMEM;
    if (r->rewrite[0] >= 'a' && r->rewrite[0] <= 'z') r->rewrite[0] = (char)(r->rewrite[0] - 'a' + 'A');
    return 0;
}

/* drafting: the text is what the user told the coach about the partner,
 * not words said to them: its horsemen are the partner's, so only the
 * situation is read. */
static int build(const pp_ruleset *rs, const pp_session *s, pp_reframe_result *r, const char *text,
                 size_t len, const char *feeling_said, int drafting)
{
    const ppf_words *w = rs->reframe;
    int rc;
    ppl_analysis a;
    int analysed = rs->lexicon && ppl_analyse(rs->lexicon, text, len, &a) == 0;
    for (size_t i = 0; i < w->n_horsemen; i++)
        if (!(r->horsemen & w->horsemen[i].horseman) && run(rs, w->horsemen[i].re.code, text, len))
            r->horsemen |= w->horsemen[i].horseman;
    if (analysed) r->horsemen |= layer_horsemen(rs, &a);
    for (unsigned k = 0; k < 4; k++)
        if (r->horsemen & (1u << k) && (rc = add_note(r, w->note_horseman[k]))) goto out;

    reading rd = { -1, "", 0, NULL };
    rd.topic = find_topic(rs, text, len, &rd.obj, &rd.plural);
    const ppf_topic *t = rd.topic >= 0 ? &w->topics[rd.topic] : NULL;
    if (t && !(rd.label = topic_phrase(rs, t->label, rd.obj, rd.plural))) { rc = PP_ENOMEM; goto out; }
    const char *note = NULL;
    rc = 0;
    if (drafting) r->horsemen = 0;
    if (!drafting && r->horsemen == 0 && run(rs, w->istatement.code, text, len) && run(rs, w->request.code, text, len)) {
        r->already_gentle = 1;        /* the rewrite is the text, however long */
        note = w->note_gentle;
        if (!(r->rewrite = strdup(text))) rc = PP_ENOMEM;
    } else if (r->horsemen & PP_HORSEMAN_STONEWALLING) {
        const char *vars[] = { "about", rd.label, NULL };
        rc = rewrite_from(rs, s, r, t ? "reframe.stonewalling-topic" : "reframe.stonewalling", vars);
    } else if (r->horsemen & PP_HORSEMAN_DEFENSIVENESS) {
        const char *vars[] = { "about", rd.label, NULL };
        rc = rewrite_from(rs, s, r, t ? "reframe.defensiveness-topic" : "reframe.defensiveness", vars);
    } else {
        ppb_buf sit = {0};
        int past = 0;
        char feeling[48] = "";
        int about_partner = 0;
        int own = analysed && own_situation(rs, &a, &sit, &past, &about_partner);
        /* without a topic, only what the partner does is a situation
         * ("hello", "it's complicated" say nothing to build on) */
        if (own && !t && !about_partner) {
            own = 0;
            past = 0;
            sit.len = 0;
        }
        if (feeling_said && *feeling_said) ppe_strlcpy(feeling, feeling_said, sizeof feeling);
        else if (analysed) said_feeling(rs, &a, feeling, sizeof feeling);
        if (!own && t) {                /* the topic's own neutral words */
            past = run(rs, w->past.code, text, len);
            char *p = topic_phrase(rs, past ? t->sit_past : t->sit_now, rd.obj, rd.plural);
            if (p) ppb_adds(&sit, p);
            else sit.oom = 1;
            free(p);
        }
        char *situation = ppb_take(&sit);
        if (!situation && (own || t)) { rc = PP_ENOMEM; goto out; }
        if (own || t) {
            char *request = t ? topic_phrase(rs, t->request, rd.obj, rd.plural) : NULL;
            const char *vars[] = { "feeling", *feeling ? feeling : t ? t->feeling : "",
                                   "situation", situation, "need", t ? t->need : "",
                                   "request", request ? request : "", NULL };
            const char *id = t || *feeling ? (past ? "reframe.rewrite-past" : "reframe.rewrite")
                                           : (past ? "reframe.untold-past" : "reframe.untold");
            if (!t && *feeling) id = past ? "reframe.felt-past" : "reframe.felt";
            rc = rewrite_from(rs, s, r, id, vars);
            free(request);
            if (!*feeling && !t) note = w->note_feeling;
            else if (r->horsemen == 0) note = w->note_neutral;
        } else {
            r->template_only = 1;
            note = w->note_template;
            if (!(r->rewrite = strdup(w->template_text))) rc = PP_ENOMEM;
        }
        free(situation);
    }
    free(rd.label);
    if (!rc && note) rc = add_note(r, note);
    if (!rc) rc = add_note(r, w->note_source);
out:
    if (analysed) ppl_analysis_clear(&a);
    return rc;
}

/* The sets of responses/reframe.responses a rewrite is said from. */
static const char *const reframe_sets[] = {
    "reframe.stonewalling", "reframe.stonewalling-topic", "reframe.defensiveness",
    "reframe.defensiveness-topic", "reframe.rewrite", "reframe.rewrite-past", "reframe.felt",
    "reframe.felt-past", "reframe.untold", "reframe.untold-past", NULL
};

/* The complaint normalised and trimmed, or NULL when out of memory. */
static char *complaint_text(const char *bytes, size_t len, size_t *out_len)
{
    size_t nlen = 0;
    const char *notice = NULL;
    char *norm = pp_input_normalize(bytes ? bytes : "", bytes ? len : 0, &nlen, &notice);
    if (!norm) return NULL;
    size_t a = 0;
    while (a < nlen && strchr(" \t\r\n", norm[a])) a++;
    while (nlen > a && strchr(" \t\r\n", norm[nlen - 1])) nlen--;
    memmove(norm, norm + a, nlen - a);
    nlen -= a;
    norm[nlen] = '\0';
    *out_len = nlen;
    return norm;
}

static int reframe_with(const pp_ruleset *rs, const pp_session *s, const char *bytes, size_t len,
                        const char *feeling, int drafting, pp_reframe_result *out)
{
    if (!out) return PP_EINPUT;
    memset(out, 0, sizeof *out);
    if (!rs || !rs->reframe)
        return PP_EINPUT;             /* no word lists: nothing to reframe with */
    for (int i = 0; reframe_sets[i]; i++)
        if (!ppr_find_set(rs, reframe_sets[i])) return PP_EINPUT;
    size_t n = 0;
    out->rules = rs;
    if (!(out->text = complaint_text(bytes, len, &n))) return PP_ENOMEM;
    int rc = build(rs, s, out, out->text, n, feeling, drafting);
    if (rc) pp_reframe_clear(out);
    return rc;
}

int pp_reframe(const pp_ruleset *rs, const char *bytes, size_t len, pp_reframe_result *out)
{
    return reframe_with(rs, &no_session, bytes, len, NULL, 0, out);
}

/* ---- the draft inside a conversation --------------------------------------
 *
 * "How do I tell her without hurting her?": the coach drafts a gentle
 * start-up from what the user has told it.  Each turn, ppf_learn()
 * keeps the last message that names something the partner does (a
 * situation own_situation() can say back as "you ...") and the last
 * feeling the user named; ppf_draft() reframes that message, with
 * that feeling, for {draft} in a reply (the `ID.draft` sets, reply.c). */
void ppf_learn(const pp_ruleset *rs, pp_session *s, const char *text, size_t len,
                      const ppl_analysis *given, pp_role role)
{
    if (!rs->reframe || !rs->lexicon || len == 0) return;
    ppl_analysis own;
    const ppl_analysis *a = given;
    if (!a) {
        if (ppl_analyse(rs->lexicon, text, len, &own)) return;
        a = &own;
    }
    /* most messages name no feeling and some no partner: look first */
    int feels = 0, about = 0;
    for (size_t i = 0; i < a->n_words; i++) {
        const ppl_word *w = &a->words[i];
        feels |= is(w->lemma, "feel") || is(w->norm, "felt");
        about |= a->clauses[w->clause].subject == PPL_SUBJ_PARTNER || is(w->norm, "you");
    }
    char feeling[PP_TAG_MAX];
    if (feels && said_feeling(rs, a, feeling, sizeof feeling)) ppe_strlcpy(s->feeling, feeling, sizeof s->feeling);
    ppb_buf sit = {0};
    int past = 0, partner = 0;
    if (about && own_situation(rs, a, &sit, &past, &partner) && partner && !sit.oom) {
        size_t n = len < PP_COMPLAINT_MAX - 1 ? len : ppu_cut(text, PP_COMPLAINT_MAX - 1);
        memcpy(s->complaint, text, n);
        s->complaint[n] = '\0';
        s->complaint_role = role;
    }
    free(sit.s);
    if (!given) ppl_analysis_clear(&own);
}

int ppf_draft(ppb_buf *b, const pp_ruleset *rs, const pp_session *s)
{
    if (!s->complaint[0] || s->complaint_role != s->role) return 0;
    pp_reframe_result r;
    if (reframe_with(rs, s, s->complaint, strlen(s->complaint), s->feeling, 1, &r)) return 0;
    int made = !r.template_only && r.rewrite && r.rewrite[0];
    if (made) ppb_adds(b, r.rewrite);
    pp_reframe_clear(&r);
    return made;
}
