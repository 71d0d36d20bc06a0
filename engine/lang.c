/* lang.c -- the language layer: words, spelling, lemmas, concepts, clauses.
 *
 * What a rule needs to know about a message is not its bytes but what it
 * says: "he pulled away", "hes pulling away", "he pulls awya" are one act by
 * one person.  This module turns a message into that, in the order
 * ChatScript uses:
 *
 *  1. fold: NFKC (utf8proc) and every format character (category Cf)
 *     dropped, so full-width, mathematical and direction-marked text reads
 *     as plain words;
 *  2. words: runs of letters, digits and inner apostrophes; hyphens split
 *     ("long-distance" is two words); sentence ends (. ! ? ; newline) and
 *     clause marks (, :) are remembered between words;
 *  3. substitutes from the data ("bf" -> "boyfriend", "dont" -> "do not"),
 *     then "n't" and "'s" taken apart generically;
 *  4. spelling: a word is corrected only when it is not a dictionary word
 *     (hunspell), is not capitalised (a name), and is within one or two
 *     edits of a word the rules use (a deletion index over that
 *     vocabulary, SymSpell's idea) -- so corrections go toward what the
 *     rules can use, cost a few dozen lookups, and never call hunspell's
 *     slow suggest;
 *  5. lemmas: irregular forms from WordNet's exception lists (verb.exc,
 *     noun.exc: "went" -> "go", "froze" -> "freeze"), then the Snowball
 *     English stemmer ("pulling", "pulled", "pulls" -> "pull");
 *  6. concepts: named word classes from the data, each member a word or
 *     phrase matched on lemmas, so a member matches in any inflection;
 *  7. clauses: sentences split at clause marks and at conjunctions that
 *     start a new subject ("he wants room | and I get scared"); each
 *     clause gets a subject (user, partner, both, other, none) from the
 *     person concepts of the data, a negation flag and a question flag.
 *
 * The result is rendered as one line per clause, which rules compile to
 * PCRE2 against:  "@p ~withdraw : he pull away | @u ~fear : and i get scare".
 *
 * The lexicon is built while the rules load and is read-only afterwards.
 * hunspell and the stemmer keep state of their own, so calls into them
 * hold one mutex; words the data knows are looked up in the lexicon's own
 * tables first and never reach them.
 */
#include <ctype.h>
#include <strings.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hunspell/hunspell.h>
#include <libstemmer.h>
#include <utf8proc.h>

#include "lang.h"
#include "buf.h"

#define PPL_MAX_WORD     64      /* longer words are kept but not looked up */
#define PPL_MAX_WORDS    2048    /* words analysed per message */
#define PPL_MAX_MEMBER   8       /* words in one concept member */
#define PPL_SUBJECT_SPAN 6       /* a subject is found among a clause's first words */
#define PPL_NEG_SPAN     5       /* a negator reaches this many words on */
#define PPL_FILLER_SKIP  2       /* filler words allowed inside one member */
#define PPL_WITH_SPAN    3       /* `with ~c`: clauses each way, one sentence */
#define PPL_WITH_MAX     32      /* sentence concepts shown in one clause */
#define PPL_TALLIES      8       /* `tally` lines: concepts counted over a message */
#define PPL_TALLY_MAX    32      /* concepts one tally counts, or refuses */
#define PPL_LEAD_SKIP    3       /* conjunctions and adverbs before a clause's verb */

/* ---- a string map ------------------------------------------------------ */

typedef struct strmap {
    char **keys;
    void **vals;
    size_t cap, count;
} strmap;

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) { h ^= (unsigned char)s[i]; h *= 1099511628211ull; }
    return h;
}

static void **map_slot(const strmap *m, const char *key, size_t n, int *found)
{
    *found = 0;
    if (!m->cap) return NULL;
    size_t i = (size_t)hash_bytes(key, n) & (m->cap - 1);
    while (m->keys[i]) {
        if (strncmp(m->keys[i], key, n) == 0 && m->keys[i][n] == '\0') { *found = 1; break; }
        i = (i + 1) & (m->cap - 1);
    }
    return &m->vals[i];
}

static void *map_getn(const strmap *m, const char *key, size_t n)
{
    int found;
    void **v = map_slot(m, key, n, &found);
    return found ? *v : NULL;
}

static void *map_get(const strmap *m, const char *key) { return map_getn(m, key, strlen(key)); }

static int map_grow(strmap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    strmap g = { calloc(cap, sizeof(char *)), calloc(cap, sizeof(void *)), cap, 0 };
    if (!g.keys || !g.vals) { free(g.keys); free(g.vals); return -1; }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i]) continue;
        int found;
        void **v = map_slot(&g, m->keys[i], strlen(m->keys[i]), &found);
        size_t at = (size_t)(v - g.vals);
        g.keys[at] = m->keys[i];
        g.vals[at] = m->vals[i];
        g.count++;
    }
    free(m->keys);
    free(m->vals);
    *m = g;
    return 0;
}

/* Set key (copied) to val; an existing key keeps its first value unless
 * replace.  Returns the stored value, NULL when out of memory. */
static void *map_put(strmap *m, const char *key, void *val, int replace)
{
    if ((m->count + 1) * 2 > m->cap && map_grow(m)) return NULL;
    int found;
    size_t n = strlen(key);
    void **v = map_slot(m, key, n, &found);
    if (found) {
        if (replace) *v = val;
        return *v;
    }
    size_t at = (size_t)(v - m->vals);
    if (!(m->keys[at] = strdup(key))) return NULL;
    m->vals[at] = val;
    m->count++;
    return val;
}

static void map_free(strmap *m, int free_vals)
{
    for (size_t i = 0; i < m->cap; i++) {
        free(m->keys[i]);
        if (free_vals) free(m->vals[i]);
    }
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

/* ---- the lexicon ------------------------------------------------------- */

typedef struct member {
    uint32_t concept;
    uint32_t n;                  /* words */
    int exact;                   /* written "in quotes": compared on the
                                    words themselves, not their lemmas */
    int mech;                    /* of a mechanism concept (is_mechanism) */
    uint32_t ids[PPL_MAX_MEMBER];/* each word's lemma (the word, when exact),
                                    as its id in the lexicon's `words` */
    struct member *next;         /* same first lemma */
    struct member *next_mech;    /* same first lemma, a mechanism concept */
} member;

/* A word of the vocabulary as a message types it (lowercase letters, no
 * substitute): what analysing it gives, worked out once when the lexicon is
 * sealed, so that most words of a message cost one lookup instead of six. */
typedef struct known_word {
    const char *lemma;           /* lx->lemmas' copy */
    const struct lexword *norm;  /* NULL: no member uses the word ... */
    const struct lexword *lem;   /* ... or its lemma */
} known_word;

/* A word the data uses, by its lemma or its exact form: an id (from 1), so
 * that the analysis compares numbers, not strings, and the members whose
 * first word it is. */
typedef struct lexword {
    uint32_t id;
    member *first;               /* members starting with it */
    member *mech;                /* ... of mechanism concepts only */
} lexword;

static int is_mechanism(const ppl_lexicon *lx, long k);

/* `tally NAME: N of a, b, c`: the concept NAME is in a clause that holds
 * one of a, b, c when the message holds N different ones of them, each in
 * a clause with none of the tally's `unless:` concepts (docs/language.md). */
typedef struct tally {
    long concept;
    uint32_t need;
    uint32_t n_of, n_unless;
    uint32_t of[PPL_TALLY_MAX], unless[PPL_TALLY_MAX];
} tally;

typedef struct del_entry {
    uint64_t hash;               /* of a deletion variant */
    uint32_t word;               /* index into vocab_words */
} del_entry;

struct ppl_lexicon {
    Hunhandle *hun;
    struct sb_stemmer *stemmer;
    pthread_mutex_t mu;          /* hun and stemmer */
    strmap vocab;                /* word -> (void *)1 */
    strmap names;                /* lowercase of the dictionary's capitalised words -> (void *)1 */
    char **vocab_words;
    size_t n_vocab, cap_vocab;
    strmap subst;                /* word -> replacement (malloc'd) */
    strmap irregular;            /* form -> base (malloc'd) */
    strmap lemmas;               /* known word -> its lemma (malloc'd) */
    strmap concepts;             /* name -> (void *)(index + 1) */
    char **concept_names;
    size_t n_concepts, cap_concepts;
    strmap words;                /* a member's word -> its lexword (malloc'd);
                                    `mech` lists the members of mechanism
                                    concepts (person, negator, clause_start...):
                                    the layer asks about them for every word */
    uint32_t n_words;
    uint32_t id_and, id_or, id_that, id_like;   /* words the clause rules ask about */
    strmap known;                /* a word of the vocabulary, as typed in
                                    lowercase -> its known_word (malloc'd) */
    member **members;
    size_t n_members, cap_members;
    member *arena;               /* members[0 .. n_arena) once sealed: each
                                    word's list in one run of memory */
    size_t n_arena;
    del_entry *dels;
    size_t n_dels;
    long c_user, c_partner, c_both, c_other, c_negator, c_split, c_report, c_nominative, c_object;
    long c_filler, c_referent, c_pronoun, c_question;
    long c_neg_end, c_adverb, c_passive, c_done_to, c_quoted, c_elided, c_prep, c_speech, c_self_ask, c_possessive;
    long c_noun_he, c_noun_she, c_pron_he, c_pron_she;   /* who "he", "she" can be */
    long c_ref_he, c_ref_she;    /* ... and who a parent or friend is */
    long c_romance;              /* romance_cue: a love life without a partner word */
    long c_causes;               /* causes_me: "it makes me ...", the writer undergoes */
    long c_partner_here;         /* set by the layer: the partner is in the message */
    tally tallies[PPL_TALLIES];
    size_t n_tallies;
    uint32_t id_by, id_from;
    size_t n_irregular;
    char status[160];
};

static int push(void *arrp, size_t *n, size_t *cap, size_t size)
{
    void **arr = arrp;
    if (*n < *cap) return 0;
    size_t nc = *cap ? *cap * 2 : 16;
    void *p = realloc(*arr, nc * size);
    if (!p) return -1;
    *arr = p;
    *cap = nc;
    return 0;
}

static void load_exceptions(ppl_lexicon *lx, const char *dir, const char *file)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "r");
    if (!f) return;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        char form[128], base[128];
        if (sscanf(line, "%127s %127s", form, base) != 2) continue;
        if (strchr(form, '_') || strchr(base, '_')) continue;     /* phrases */
        char *b = strdup(base);
        if (!b) break;
        if (map_put(&lx->irregular, form, b, 0) != b) free(b);    /* first sense wins */
        else lx->n_irregular++;
    }
    fclose(f);
}

/* The dictionary's capitalised entries ("Tom/M", "Grace/M"): at the start
 * of a sentence, "Tom met my parents" is a name although "tom" is a word. */
static void load_names(ppl_lexicon *lx, const char *dic)
{
    FILE *f = fopen(dic, "r");
    if (!f) return;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        if (!isupper((unsigned char)line[0])) continue;
        size_t n = strcspn(line, "/\t\r\n");
        if (n < 2 || n >= 32) continue;
        line[n] = '\0';
        int plain = 1;
        for (size_t i = 0; i < n; i++) {
            if (i > 0 && !islower((unsigned char)line[i])) { plain = 0; break; }
            line[i] = (char)tolower((unsigned char)line[i]);
        }
        if (plain && !map_put(&lx->names, line, (void *)1, 0)) break;
    }
    fclose(f);
}

static lexword *intern(ppl_lexicon *lx, const char *w);

ppl_lexicon *ppl_lexicon_new(const char *dict_dir, const char *wordnet_dir)
{
    ppl_lexicon *lx = calloc(1, sizeof *lx);
    if (!lx) return NULL;
    pthread_mutex_init(&lx->mu, NULL);
    lx->c_user = lx->c_partner = lx->c_both = lx->c_other = -1;
    lx->c_negator = lx->c_split = lx->c_report = lx->c_nominative = lx->c_object = -1;
    lx->c_filler = lx->c_referent = lx->c_pronoun = lx->c_question = -1;
    lx->c_neg_end = lx->c_adverb = lx->c_passive = lx->c_done_to = lx->c_quoted = lx->c_elided = lx->c_prep = lx->c_speech = lx->c_self_ask = lx->c_possessive = -1;
    lx->c_noun_he = lx->c_noun_she = lx->c_pron_he = lx->c_pron_she = -1;
    lx->c_ref_he = lx->c_ref_she = lx->c_partner_here = lx->c_romance = lx->c_causes = -1;
    char aff[1024], dic[1024];
    const char *dd = dict_dir ? dict_dir : "/usr/share/hunspell";
    snprintf(aff, sizeof aff, "%s/en_US.aff", dd);
    snprintf(dic, sizeof dic, "%s/en_US.dic", dd);
    FILE *probe = fopen(dic, "r");
    if (probe) {
        fclose(probe);
        lx->hun = Hunspell_create(aff, dic);
        load_names(lx, dic);
    }
    lx->stemmer = sb_stemmer_new("english", NULL);
    load_exceptions(lx, wordnet_dir ? wordnet_dir : "/usr/share/wordnet", "verb.exc");
    load_exceptions(lx, wordnet_dir ? wordnet_dir : "/usr/share/wordnet", "noun.exc");
    lexword *a = intern(lx, "and"), *o = intern(lx, "or"), *t = intern(lx, "that"), *l = intern(lx, "like");
    lexword *by = intern(lx, "by"), *from = intern(lx, "from");
    if (!a || !o || !t || !l || !by || !from) { ppl_lexicon_free(lx); return NULL; }
    lx->id_and = a->id, lx->id_or = o->id, lx->id_that = t->id, lx->id_like = l->id;
    lx->id_by = by->id, lx->id_from = from->id;
    snprintf(lx->status, sizeof lx->status, "spelling: %s; stemmer: %s; irregular forms: %zu",
             lx->hun ? "hunspell en_US" : "off (no dictionary)",
             lx->stemmer ? "snowball english" : "off", lx->n_irregular);
    return lx;
}

void ppl_lexicon_free(ppl_lexicon *lx)
{
    if (!lx) return;
    if (lx->hun) Hunspell_destroy(lx->hun);
    if (lx->stemmer) sb_stemmer_delete(lx->stemmer);
    pthread_mutex_destroy(&lx->mu);
    map_free(&lx->vocab, 0);
    map_free(&lx->names, 0);
    free(lx->vocab_words);       /* point into vocab's keys */
    map_free(&lx->subst, 1);
    map_free(&lx->irregular, 1);
    map_free(&lx->lemmas, 1);
    map_free(&lx->concepts, 0);
    for (size_t i = 0; i < lx->n_concepts; i++) free(lx->concept_names[i]);
    free(lx->concept_names);
    map_free(&lx->words, 1);
    map_free(&lx->known, 1);
    for (size_t i = lx->n_arena; i < lx->n_members; i++) free(lx->members[i]);
    free(lx->members);
    free(lx->arena);
    free(lx->dels);
    free(lx);
}

const char *ppl_status(const ppl_lexicon *lx) { return lx ? lx->status : "no lexicon"; }

/* ---- words ------------------------------------------------------------- */

static int is_letter(int32_t cp)
{
    if (cp < 128) return isalnum(cp);
    utf8proc_category_t c = utf8proc_category(cp);
    return (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO) ||
           c == UTF8PROC_CATEGORY_MN || c == UTF8PROC_CATEGORY_ND;
}

/* Lowercase UTF-8 word w[0..n) into out (at most size-1 bytes). */
static size_t lower_word(const char *w, size_t n, char *out, size_t size)
{
    size_t o = 0, i = 0;
    while (i < n) {
        int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)w + i, (utf8proc_ssize_t)(n - i), &cp);
        if (k <= 0) { k = 1; cp = 0xFFFD; }
        i += (size_t)k;
        if (cp == 0x2019) cp = '\'';
        utf8proc_uint8_t enc[4];
        utf8proc_ssize_t e = utf8proc_encode_char(utf8proc_tolower(cp), enc);
        if (o + (size_t)e >= size) break;
        memcpy(out + o, enc, (size_t)e);
        o += (size_t)e;
    }
    out[o] = '\0';
    return o;
}

static int ascii_word(const char *w)
{
    for (; *w; w++) if (!islower((unsigned char)*w)) return 0;
    return 1;
}

/* The lemma of a lowercase word, computed (no cache).  buf >= PPL_MAX_WORD. */
static const char *compute_lemma(ppl_lexicon *lx, const char *w, char *buf, size_t size)
{
    const char *base = map_get(&lx->irregular, w);
    if (!base) base = w;
    if (!lx->stemmer || strlen(base) >= PPL_MAX_WORD) {
        snprintf(buf, size, "%s", base);
        return buf;
    }
    pthread_mutex_lock(&lx->mu);
    const sb_symbol *s = sb_stemmer_stem(lx->stemmer, (const sb_symbol *)base, (int)strlen(base));
    int n = s ? sb_stemmer_length(lx->stemmer) : 0;
    if (s && n > 0 && (size_t)n < size) { memcpy(buf, s, (size_t)n); buf[n] = '\0'; }
    else snprintf(buf, size, "%s", base);
    pthread_mutex_unlock(&lx->mu);
    return buf;
}

const char *ppl_lemma(const ppl_lexicon *lx, const char *word, char *buf, size_t size)
{
    const char *known = map_get(&lx->lemmas, word);
    if (known) { snprintf(buf, size, "%s", known); return buf; }
    return compute_lemma((ppl_lexicon *)lx, word, buf, size);
}

/* Remember the lemma of a word the data uses. */
static const char *learn_lemma(ppl_lexicon *lx, const char *w)
{
    const char *known = map_get(&lx->lemmas, w);
    if (known) return known;
    char buf[PPL_MAX_WORD * 2];
    char *l = strdup(compute_lemma(lx, w, buf, sizeof buf));
    if (!l) return NULL;
    if (map_put(&lx->lemmas, w, l, 0) != l) { free(l); return NULL; }
    return l;
}

/* The lexword of w, made when new; NULL when out of memory. */
static lexword *intern(ppl_lexicon *lx, const char *w)
{
    lexword *lw = map_get(&lx->words, w);
    if (lw) return lw;
    if (!(lw = calloc(1, sizeof *lw))) return NULL;
    lw->id = ++lx->n_words;
    if (map_put(&lx->words, w, lw, 0) != lw) { free(lw); lx->n_words--; return NULL; }
    return lw;
}

/* The id of a word of a message, 0 when no member uses it. */
static uint32_t word_id(const ppl_lexicon *lx, const char *w)
{
    const lexword *lw = map_get(&lx->words, w);
    return lw ? lw->id : 0;
}

int ppl_vocab_add(ppl_lexicon *lx, const char *word)
{
    char w[PPL_MAX_WORD];
    lower_word(word, strlen(word), w, sizeof w);
    if (!w[0] || map_get(&lx->vocab, w)) return 0;
    if (!map_put(&lx->vocab, w, (void *)1, 0)) return -1;
    if (push(&lx->vocab_words, &lx->n_vocab, &lx->cap_vocab, sizeof(char *))) return -1;
    /* the map owns the key; keep a pointer to its copy */
    int found;
    void **v = map_slot(&lx->vocab, w, strlen(w), &found);
    lx->vocab_words[lx->n_vocab++] = lx->vocab.keys[v - lx->vocab.vals];
    return learn_lemma(lx, w) ? 0 : -1;
}

int ppl_subst_add(ppl_lexicon *lx, const char *from, const char *to)
{
    char f[PPL_MAX_WORD];
    lower_word(from, strlen(from), f, sizeof f);
    char *t = strdup(to);
    if (!f[0] || !t) { free(t); return -1; }
    if (map_put(&lx->subst, f, t, 0) != t) free(t);
    /* a misspelt "dosent" is corrected toward "doesnt", then substituted */
    if (!strchr(f, '\'') && ppl_vocab_add(lx, f)) return -1;
    /* what a substitute produces is vocabulary too */
    char *copy = strdup(to), *save = NULL;
    if (!copy) return -1;
    for (char *p = strtok_r(copy, " ", &save); p; p = strtok_r(NULL, " ", &save))
        if (ppl_vocab_add(lx, p)) { free(copy); return -1; }
    free(copy);
    return 0;
}

static long concept_index(ppl_lexicon *lx, const char *name, int create)
{
    void *v = map_get(&lx->concepts, name);
    if (v) return (long)(uintptr_t)v - 1;
    if (!create) return -1;
    if (push(&lx->concept_names, &lx->n_concepts, &lx->cap_concepts, sizeof(char *))) return -1;
    char *copy = strdup(name);
    if (!copy) return -1;
    if (!map_put(&lx->concepts, name, (void *)(uintptr_t)(lx->n_concepts + 1), 0)) { free(copy); return -1; }
    lx->concept_names[lx->n_concepts] = copy;
    long k = (long)lx->n_concepts++;
    if (!strcmp(name, "subject_user")) lx->c_user = k;
    else if (!strcmp(name, "subject_partner")) lx->c_partner = k;
    else if (!strcmp(name, "subject_both")) lx->c_both = k;
    else if (!strcmp(name, "subject_other")) lx->c_other = k;
    else if (!strcmp(name, "negator")) lx->c_negator = k;
    else if (!strcmp(name, "clause_start")) lx->c_split = k;
    else if (!strcmp(name, "report")) lx->c_report = k;
    else if (!strcmp(name, "nominative")) lx->c_nominative = k;
    else if (!strcmp(name, "object_form")) lx->c_object = k;
    else if (!strcmp(name, "filler")) lx->c_filler = k;
    else if (!strcmp(name, "referent_other")) lx->c_referent = k;
    else if (!strcmp(name, "partner_pronoun")) lx->c_pronoun = k;
    else if (!strcmp(name, "question_start")) lx->c_question = k;
    else if (!strcmp(name, "negation_end")) lx->c_neg_end = k;
    else if (!strcmp(name, "adverb")) lx->c_adverb = k;
    else if (!strcmp(name, "passive")) lx->c_passive = k;
    else if (!strcmp(name, "done_to")) lx->c_done_to = k;
    else if (!strcmp(name, "partner_noun_he")) lx->c_noun_he = k;
    else if (!strcmp(name, "partner_noun_she")) lx->c_noun_she = k;
    else if (!strcmp(name, "referent_he")) lx->c_ref_he = k;
    else if (!strcmp(name, "partner_here")) lx->c_partner_here = k;
    else if (!strcmp(name, "romance_cue")) lx->c_romance = k;
    else if (!strcmp(name, "causes_me")) lx->c_causes = k;
    else if (!strcmp(name, "referent_she")) lx->c_ref_she = k;
    else if (!strcmp(name, "pronoun_he")) lx->c_pron_he = k;
    else if (!strcmp(name, "pronoun_she")) lx->c_pron_she = k;
    else if (!strcmp(name, "quoted")) lx->c_quoted = k;
    else if (!strcmp(name, "speech")) lx->c_speech = k;
    else if (!strcmp(name, "self_ask")) lx->c_self_ask = k;
    else if (!strcmp(name, "possessive")) lx->c_possessive = k;
    else if (!strcmp(name, "elided_i")) lx->c_elided = k;
    else if (!strcmp(name, "preposition")) lx->c_prep = k;
    return k;
}

long ppl_concept_find(const ppl_lexicon *lx, const char *name)
{
    void *v = map_get(&lx->concepts, name);
    return v ? (long)(uintptr_t)v - 1 : -1;
}

const char *ppl_concept_name(const ppl_lexicon *lx, uint32_t k)
{
    return k < lx->n_concepts ? lx->concept_names[k] : "";
}

size_t ppl_concept_count(const ppl_lexicon *lx) { return lx->n_concepts; }

/* ---- the words of a text (used for messages and for concept members) --- */

typedef struct raw_word {
    uint32_t off, len;
    uint8_t sentence_start;      /* . ! ? ; or a line break before it */
    uint8_t clause_mark;         /* , or : before it */
    uint8_t capital;             /* First letter upper, some lower after */
    uint8_t asks;                /* its sentence ends with ? */
    uint8_t quote;               /* PPL_WORD_QUOTED, PPL_WORD_QUOTE_OPEN */
    uint8_t verb_next;           /* the next word looks like a verb ("keeps", "was") */
    uint8_t name_slot;           /* mid-sentence, before an -s verb, after no pronoun */
} raw_word;

/* Does a single quote at t[i] open a quotation ('i just need time')?  It
 * must stand before a letter, after no letter or digit, and be closed on
 * the same line by one after a letter or mark and before no letter
 * ("don't" and "kids' toys" are apostrophes). */
static int squote_opens(const char *t, size_t n, size_t i)
{
    if (i > 0 && (isalnum((unsigned char)t[i - 1]) || (unsigned char)t[i - 1] >= 0x80)) return 0;
    if (i + 1 >= n || !(isalpha((unsigned char)t[i + 1]) || (unsigned char)t[i + 1] >= 0x80)) return 0;
    for (size_t j = i + 2; j < n && j < i + 400 && t[j] != '\n' && t[j] != '"'; j++)
        if (t[j] == '\'' && (j + 1 == n || !(isalnum((unsigned char)t[j + 1]) || (unsigned char)t[j + 1] >= 0x80)) &&
            (isalnum((unsigned char)t[j - 1]) || strchr(".!?,", t[j - 1])))
            return 1;
    return 0;
}

/* Split text into words.  Returns the count (at most max). */
static size_t split_words(const char *t, size_t n, raw_word *out, size_t max)
{
    size_t count = 0, i = 0, sentence_first = 0;
    int sent = 1, mark = 0, quoted = 0, opened = 0, squoted = 0;
    while (i < n && count < max) {
        int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)t + i, (utf8proc_ssize_t)(n - i), &cp);
        if (k <= 0) { i++; continue; }
        if (!is_letter(cp)) {
            if ((cp == '.' && i + 1 < n && t[i + 1] == '.') || cp == 0x2026) {
                while (i + 1 < n && t[i + 1] == '.') i++;
                mark = 1;                    /* "he just... went quiet": a pause, not an end */
            } else if (cp == '.' || cp == '!' || cp == ';' || cp == '\n') sent = 1;
            else if (cp == '?') {
                for (size_t w = sentence_first; w < count; w++) out[w].asks = 1;
                sent = 1;
            } else if (cp == ',' || cp == ':' || cp == '(' || cp == ')') mark = 1;
            else if (cp == '"' && !squoted) { quoted = !quoted; opened = quoted; }
            else if (cp == '\'' && squoted) squoted = 0;
            else if (cp == '\'' && !quoted && squote_opens(t, n, i)) squoted = opened = 1;
            if (cp == '\n') quoted = opened = squoted = 0;     /* a quote never spans lines */
            i += (size_t)k;
            continue;
        }
        size_t start = i;
        int upper_first = cp < 128 ? isupper(cp) : utf8proc_category(cp) == UTF8PROC_CATEGORY_LU;
        int lower_after = 0;
        i += (size_t)k;
        while (i < n) {
            k = utf8proc_iterate((const utf8proc_uint8_t *)t + i, (utf8proc_ssize_t)(n - i), &cp);
            if (k <= 0) break;
            if (is_letter(cp)) {
                if (cp < 128 ? islower(cp) : utf8proc_category(cp) == UTF8PROC_CATEGORY_LL) lower_after = 1;
                i += (size_t)k;
                continue;
            }
            /* an apostrophe between letters stays inside the word */
            if ((cp == '\'' || cp == 0x2019) && i + (size_t)k < n) {
                int32_t nx;
                utf8proc_ssize_t k2 = utf8proc_iterate((const utf8proc_uint8_t *)t + i + k,
                                                       (utf8proc_ssize_t)(n - i - (size_t)k), &nx);
                if (k2 > 0 && is_letter(nx)) { i += (size_t)k; continue; }
            }
            break;
        }
        if (sent) sentence_first = count;
        out[count] = (raw_word){ (uint32_t)start, (uint32_t)(i - start), (uint8_t)sent, (uint8_t)mark,
                                 (uint8_t)(upper_first && lower_after), 0,
                                 (uint8_t)((quoted || squoted ? PPL_WORD_QUOTED : 0) | (opened ? PPL_WORD_QUOTE_OPEN : 0)), 0, 0 };
        count++;
        sent = mark = opened = 0;
    }
    return count;
}

/* ---- spelling ---------------------------------------------------------- */

static int hun_spell(ppl_lexicon *lx, const char *w)
{
    pthread_mutex_lock(&lx->mu);
    int ok = Hunspell_spell(lx->hun, w);
    pthread_mutex_unlock(&lx->mu);
    return ok;
}

static int is_dictionary_word(ppl_lexicon *lx, const char *w)
{
    if (map_get(&lx->vocab, w)) return 1;
    if (!lx->hun) return 1;          /* no dictionary: never correct */
    return hun_spell(lx, w);
}

int ppl_is_word(const ppl_lexicon *lx, const char *w)
{
    if (!lx || !lx->hun) return -1;
    return is_dictionary_word((ppl_lexicon *)lx, w) ? 1 : 0;   /* hunspell: behind the mutex */
}

/* Optimal string alignment distance, capped: returns cap + 1 when more. */
int ppl_edit_distance(const char *a, const char *b, int cap)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > PPL_MAX_WORD || lb > PPL_MAX_WORD) return cap + 1;
    if ((la > lb ? la - lb : lb - la) > (size_t)cap) return cap + 1;
    int d[PPL_MAX_WORD + 1][PPL_MAX_WORD + 1];
    for (size_t i = 0; i <= la; i++) d[i][0] = (int)i;
    for (size_t j = 0; j <= lb; j++) d[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int row_min = cap + 1;
        for (size_t j = 1; j <= lb; j++) {
            int cost = a[i - 1] != b[j - 1];
            int v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v) v = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < v) v = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
            if (v < row_min) row_min = v;
        }
        if (row_min > cap) return cap + 1;
    }
    return d[la][lb];
}

static int max_edits(size_t len) { return len < 4 ? 0 : len < 7 ? 1 : 2; }

/* Call f for every deletion variant of w with at most edits deletions. */
typedef int (*del_fn)(void *ctx, const char *v, size_t n);
static int each_deletion(const char *w, int edits, del_fn f, void *ctx)
{
    size_t n = strlen(w);
    char v[PPL_MAX_WORD];
    if (n >= PPL_MAX_WORD) return 0;
    if (f(ctx, w, n)) return -1;
    for (size_t i = 0; i < n && edits >= 1; i++) {
        memcpy(v, w, i);
        memcpy(v + i, w + i + 1, n - i - 1);
        if (f(ctx, v, n - 1)) return -1;
        for (size_t j = i; j + 1 < n && edits >= 2; j++) {
            char v2[PPL_MAX_WORD];
            memcpy(v2, v, j);
            memcpy(v2 + j, v + j + 1, n - 2 - j);
            if (f(ctx, v2, n - 2)) return -1;
        }
    }
    return 0;
}

typedef struct add_ctx { ppl_lexicon *lx; uint32_t word; size_t cap; } add_ctx;

static int add_del(void *p, const char *v, size_t n)
{
    add_ctx *c = p;
    if (push(&c->lx->dels, &c->lx->n_dels, &c->cap, sizeof(del_entry))) return -1;
    c->lx->dels[c->lx->n_dels++] = (del_entry){ hash_bytes(v, n), c->word };
    return 0;
}

static int del_cmp(const void *a, const void *b)
{
    const del_entry *x = a, *y = b;
    if (x->hash != y->hash) return x->hash < y->hash ? -1 : 1;
    return x->word < y->word ? -1 : x->word > y->word;
}

/* Is every letter of a in b, in order? */
static int subsequence(const char *a, const char *b)
{
    for (; *a && *b; b++) if (*a == *b) a++;
    return *a == '\0';
}

typedef struct find_ctx {
    const ppl_lexicon *lx;
    const char *word;
    int cap;
    const char *best;
    int best_d;
} find_ctx;

static int find_del(void *p, const char *v, size_t n)
{
    find_ctx *c = p;
    uint64_t h = hash_bytes(v, n);
    size_t lo = 0, hi = c->lx->n_dels;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c->lx->dels[mid].hash < h) lo = mid + 1; else hi = mid;
    }
    for (size_t i = lo; i < c->lx->n_dels && c->lx->dels[i].hash == h; i++) {
        const char *cand = c->lx->vocab_words[c->lx->dels[i].word];
        int d = ppl_edit_distance(c->word, cand, c->cap);
        if (d > c->cap) continue;
        /* closest first; on a tie the same first letter, then a word the
         * typed one is a dropped-letter copy of ("realy" -> "really", not
         * "ready"), then a-z */
        int better = !c->best || d < c->best_d;
        if (!better && d == c->best_d) {
            int fa = cand[0] == c->word[0], fb = c->best[0] == c->word[0];
            int sa = subsequence(c->word, cand), sb = subsequence(c->word, c->best);
            better = fa > fb || (fa == fb && (sa > sb || (sa == sb && strcmp(cand, c->best) < 0)));
        }
        if (better) {
            c->best = cand;
            c->best_d = d;
        }
    }
    return 0;
}

static const char *correct(const ppl_lexicon *lx, const char *w)
{
    int cap = max_edits(strlen(w));
    if (!cap || !lx->n_dels || !ascii_word(w)) return NULL;
    find_ctx c = { lx, w, cap, NULL, cap + 1 };
    each_deletion(w, cap, find_del, &c);
    return c.best;
}

/* The members that start with a word are walked for every word of every
 * message: once the lexicon is complete, each word's list is copied into
 * one run of memory (a member is one cache line), in the same order, so
 * the walk reads lines one after another instead of chasing allocations
 * made file by file.  Sealing again packs what was added since. */
static int pack_members(ppl_lexicon *lx)
{
    if (lx->n_arena == lx->n_members) return 0;
    member *arena = malloc(lx->n_members * sizeof *arena);
    member **old = malloc(lx->n_members * sizeof *old);
    if (!arena || !old) { free(arena); free(old); return -1; }
    size_t n = 0;
    for (size_t i = 0; i < lx->words.cap; i++) {
        lexword *lw = lx->words.keys[i] ? lx->words.vals[i] : NULL;
        for (member *m = lw ? lw->first : NULL; m; m = m->next) {
            old[n] = m;
            arena[n] = *m;
            m->ids[0] = (uint32_t)n;          /* where it went, for the links below */
            n++;
        }
    }
    if (n != lx->n_members) { free(arena); free(old); return -1; }   /* every member is on one list */
    for (size_t k = 0; k < n; k++) {
        member *m = &arena[k];
        m->next = m->next ? &arena[m->next->ids[0]] : NULL;
        m->next_mech = m->next_mech ? &arena[m->next_mech->ids[0]] : NULL;
    }
    for (size_t i = 0; i < lx->words.cap; i++) {
        lexword *lw = lx->words.keys[i] ? lx->words.vals[i] : NULL;
        if (!lw) continue;
        if (lw->first) lw->first = &arena[lw->first->ids[0]];
        if (lw->mech) lw->mech = &arena[lw->mech->ids[0]];
    }
    for (size_t k = 0; k < n; k++) {
        if (!(lx->arena && old[k] >= lx->arena && old[k] < lx->arena + lx->n_arena)) free(old[k]);
        lx->members[k] = &arena[k];
    }
    free(old);
    free(lx->arena);
    lx->arena = arena;
    lx->n_arena = n;
    return 0;
}

int ppl_lexicon_seal(ppl_lexicon *lx)
{
    add_ctx c = { lx, 0, 0 };
    free(lx->dels);
    lx->dels = NULL;
    lx->n_dels = 0;
    for (size_t i = 0; i < lx->n_vocab; i++) {
        const char *w = lx->vocab_words[i];
        if (!ascii_word(w)) continue;
        c.word = (uint32_t)i;
        if (each_deletion(w, max_edits(strlen(w)), add_del, &c)) return -1;
    }
    qsort(lx->dels, lx->n_dels, sizeof *lx->dels, del_cmp);
    /* the words a message most often uses: expand_word() would give each
     * back as it is (in the vocabulary, no substitute, no apostrophe) */
    map_free(&lx->known, 1);
    for (size_t i = 0; i < lx->n_vocab; i++) {
        const char *w = lx->vocab_words[i];
        if (!ascii_word(w) || map_get(&lx->subst, w)) continue;
        const char *lemma = learn_lemma(lx, w);
        known_word *kw = lemma ? malloc(sizeof *kw) : NULL;
        if (!kw) return -1;
        *kw = (known_word){ lemma, map_get(&lx->words, w), map_get(&lx->words, lemma) };
        if (map_put(&lx->known, w, kw, 0) != kw) { free(kw); return -1; }
    }
    if (pack_members(lx)) return -1;
    size_t len = strlen(lx->status);
    snprintf(lx->status + len, sizeof lx->status - len, "; vocabulary: %zu words; concepts: %zu",
             lx->n_vocab, lx->n_concepts);
    return 0;
}

/* ---- normalising one word ---------------------------------------------- */

/* A lowercase word's contraction taken apart: "we've" -> "we have",
 * "doesn't" -> "does not"; "'s" is dropped (possessive), since the
 * substitutes already name the pronouns' "he's".  0 when w has none. */
static int split_contraction(const char *w, char *out, size_t size)
{
    static const struct { const char *suffix, *becomes; } tails[] = {
        {"n't", " not"}, {"'ve", " have"}, {"'ll", " will"}, {"'re", " are"},
        {"'m", " am"}, {"'d", " would"}, {"'s", ""}, {NULL, NULL}
    };
    size_t len = strlen(w);
    for (int k = 0; tails[k].suffix; k++) {
        size_t sl = strlen(tails[k].suffix);
        if (len <= sl || strcmp(w + len - sl, tails[k].suffix) != 0) continue;
        snprintf(out, size, "%.*s%s", (int)(len - sl), w, tails[k].becomes);
        return 1;
    }
    return 0;
}

/* The words a typed word stands for, lowercase, space-separated, into out:
 * substitutes first, then contractions taken apart, apostrophes dropped,
 * then spelling.  *flags gets PPL_WORD_CORRECTED / PPL_WORD_NAME for a
 * word of a message (pos != NULL); concept members pass pos = NULL and
 * are never corrected. */
static void expand_word(const ppl_lexicon *lx, const char *typed, size_t n,
                        const raw_word *pos, uint8_t *flags, char *out, size_t size)
{
    ppl_lexicon *mx = (ppl_lexicon *)lx;    /* hunspell: behind the mutex */
    char w[PPL_MAX_WORD * 2], tmp[PPL_MAX_WORD * 2];
    lower_word(typed, n, w, sizeof w);
    const char *s = map_get(&lx->subst, w);
    if (s) { snprintf(out, size, "%s", s); return; }
    if (split_contraction(w, tmp, sizeof tmp)) {
        char *sp = strchr(tmp, ' ');
        if (sp) *sp = '\0';
        const char *head = map_get(&lx->subst, tmp);
        if (sp) snprintf(out, size, "%s %s", head ? head : tmp, sp + 1);
        else snprintf(out, size, "%s", head ? head : tmp);
        return;
    }
    size_t o = 0;
    for (const char *p = w; *p && o + 1 < size; p++)
        if (*p != '\'') out[o++] = *p;
    out[o] = '\0';
    if ((s = map_get(&lx->subst, out))) { snprintf(out, size, "%s", s); return; }
    if (!pos || map_get(&lx->vocab, out) || strlen(out) >= PPL_MAX_WORD) return;
    /* chat drops capitals: at the start of a sentence, before a verb, a
     * word no dictionary knows ("theo works 70h weeks" is not "the") or
     * one it knows as a name too ("tom turns his screen away") is a name */
    if (!pos->capital && strlen(out) >= 3 && ((pos->sentence_start && pos->verb_next) || pos->name_slot) &&
        (map_get(&lx->names, out) ||
         (lx->hun && !is_dictionary_word(mx, out) && (pos->sentence_start || !correct(lx, out))))) {
        /* ... and so mid-sentence before an -s verb, after no pronoun,
         * when nothing corrects it: "every time i mention a ring alex
         * changes the subject", "after every argument sam goes silent" */
        *flags |= PPL_WORD_NAME;
        return;
    }
    /* a short lowercase word is never corrected: no need to ask hunspell */
    if (!pos->capital && max_edits(strlen(out)) == 0) return;
    int dict = is_dictionary_word(mx, out);
    const char *fix = NULL;
    if (pos->capital) {
        /* A name is never corrected: a capitalised word mid-sentence, or
         * at the start one that hunspell knows only capitalised ("Sam"). */
        char typed_case[PPL_MAX_WORD * 2];
        snprintf(typed_case, sizeof typed_case, "%.*s", (int)n, typed);
        int proper = !dict && lx->hun && hun_spell(mx, typed_case);
        /* at the start, a word no dictionary knows before a verb is a
         * name too: "Mateo keeps saying..." is not "mate", and so is one
         * it knows as a name as well ("Tom met my parents") */
        if (!pos->sentence_start || proper || (pos->verb_next && (!dict || map_get(&lx->names, out))) ||
            (!dict && !(fix = correct(lx, out)))) {
            *flags |= PPL_WORD_NAME;
            return;
        }
    } else if (!dict) {
        fix = correct(lx, out);
    }
    if (!fix) return;
    *flags |= PPL_WORD_CORRECTED;
    if ((s = map_get(&lx->subst, fix))) snprintf(out, size, "%s", s);
    else snprintf(out, size, "%s", fix);
}

/* ---- concept members --------------------------------------------------- */

int ppl_concept_add(ppl_lexicon *lx, const char *concept, const char *phrase)
{
    long k = concept_index(lx, concept, 1);
    if (k < 0) return -1;
    raw_word rw[PPL_MAX_MEMBER + 1];
    size_t nw = split_words(phrase, strlen(phrase), rw, PPL_MAX_MEMBER + 1);
    member *m = calloc(1, sizeof *m);
    if (!m) return -1;
    m->concept = (uint32_t)k;
    size_t plen = strlen(phrase);
    m->exact = plen > 2 && phrase[0] == '"' && phrase[plen - 1] == '"';
    lexword *head = NULL;                    /* the first word's lemma */
    for (size_t i = 0; i < nw; i++) {
        char exp[PPL_MAX_WORD * 4], *save = NULL;
        expand_word(lx, phrase + rw[i].off, rw[i].len, NULL, NULL, exp, sizeof exp);
        for (char *p = strtok_r(exp, " ", &save); p; p = strtok_r(NULL, " ", &save)) {
            if (m->n >= PPL_MAX_MEMBER || ppl_vocab_add(lx, p)) goto fail;
            const char *l = learn_lemma(lx, p);
            lexword *lw = l ? intern(lx, m->exact ? p : l) : NULL;
            if (!lw) goto fail;
            if (m->n == 0 && !(head = intern(lx, l))) goto fail;
            m->ids[m->n++] = lw->id;
        }
    }
    if (!m->n) goto fail;
    if (push(&lx->members, &lx->n_members, &lx->cap_members, sizeof(member *))) goto fail;
    lx->members[lx->n_members++] = m;       /* freed with the lexicon from here on */
    m->next = head->first;
    head->first = m;
    if ((m->mech = is_mechanism(lx, m->concept)) != 0) {
        m->next_mech = head->mech;
        head->mech = m;
    }
    return 0;
fail:
    free(m);
    return -1;
}

/* ---- folding ----------------------------------------------------------- */

char *ppl_fold(const char *text, size_t len, size_t *out_len)
{
    utf8proc_uint8_t *nf = NULL;
    utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)text, (utf8proc_ssize_t)len, &nf,
                                      UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT);
    if (n < 0) return NULL;
    /* drop format characters in place: the text only shrinks */
    utf8proc_ssize_t r = 0, w = 0;
    while (r < n) {
        int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate(nf + r, n - r, &cp);
        if (k <= 0) { r++; continue; }
        if (utf8proc_category(cp) != UTF8PROC_CATEGORY_CF) {
            memmove(nf + w, nf + r, (size_t)k);
            w += k;
        }
        r += k;
    }
    nf[w] = '\0';
    if (out_len) *out_len = (size_t)w;
    return (char *)nf;
}

/* ---- analysis ---------------------------------------------------------- */

/* The words' strings go one after another, each with its NUL, into one
 * buffer; a word keeps its offset until the buffer stops moving. */
static size_t store_add(ppb_buf *st, const char *s)
{
    size_t at = st->len;
    ppb_add(st, s, strlen(s) + 1);
    return at;
}

#define PPL_ANY_CLAUSE UINT32_MAX   /* member_matches: words of any clause */

/* Do words i.. of one clause say member m?  Between a member's words, up
 * to PPL_FILLER_SKIP filler words may stand ("went *totally* quiet", "shuts
 * me *right* out").  Returns the words it spans, 0 when it does not. */
static uint32_t member_matches(const member *m, const ppl_word *w, size_t n, size_t i, uint32_t clause)
{
    size_t t = i;
    int skips = 0;
    for (uint32_t j = 0; j < m->n; j++, t++) {
        for (;;) {
            if (t >= n || (clause != PPL_ANY_CLAUSE && w[t].clause != clause)) return 0;
            if ((m->exact ? w[t].norm_id : w[t].lemma_id) == m->ids[j]) break;
            if (j == 0 || !(w[t].flags & PPL_WORD_FILLER) || ++skips > PPL_FILLER_SKIP) return 0;
            t++;
        }
    }
    return (uint32_t)(t - i);
}

/* Is word i the start of a member of concept k?  Returns its length in
 * words, 0 if not. */
static uint32_t member_at(const ppl_lexicon *lx, const ppl_word *w, size_t n, size_t i,
                          long k, uint32_t clause)
{
    uint32_t best = 0;
    if (k >= 0 && is_mechanism(lx, k)) {   /* the short list */
        for (const member *m = (const member *)w[i].mech_members; m; m = m->next_mech) {
            if (m->concept != (uint32_t)k) continue;
            uint32_t len = m->n > best ? member_matches(m, w, n, i, clause) : 0;
            if (len > best) best = len;
        }
        return best;
    }
    for (const member *m = (const member *)w[i].members; m; m = m->next) {
        if (k >= 0 && m->concept != (uint32_t)k) continue;
        uint32_t len = m->n > best ? member_matches(m, w, n, i, clause) : 0;
        if (len > best) best = len;
    }
    return best;
}

/* Does the word end in "ing" (and is longer than "bring", "thing")? */
static int ends_ing(const char *norm)
{
    size_t nl = strlen(norm);
    /* "nothing", "something", "everything" are no verbs */
    return nl > 5 && !strcmp(norm + nl - 3, "ing") && strcmp(norm + nl - 5, "thing");
}

/* Is the name at word i the name of a referent_other just before it ("my
 * friend Omar", "my sister Jess"): someone else, not the partner? */
static int names_referent(const ppl_lexicon *lx, const ppl_word *w, size_t n, size_t i)
{
    if (lx->c_referent < 0) return 0;
    for (size_t back = 1; back <= 3 && back <= i; back++)
        if (member_at(lx, w, n, i - back, lx->c_referent, PPL_ANY_CLAUSE) == back) return 1;
    return 0;
}

static int is_person(const ppl_lexicon *lx, long k)
{
    return k >= 0 && (k == lx->c_user || k == lx->c_partner || k == lx->c_both || k == lx->c_other);
}

/* The concepts that drive the layer itself are not shown in the render. */
static int is_mechanism(const ppl_lexicon *lx, long k)
{
    return is_person(lx, k) || k == lx->c_negator || k == lx->c_split || k == lx->c_report ||
           k == lx->c_nominative || k == lx->c_object || k == lx->c_filler ||
           k == lx->c_referent || k == lx->c_pronoun || k == lx->c_question ||
           k == lx->c_neg_end || k == lx->c_adverb || k == lx->c_passive || k == lx->c_done_to ||
           k == lx->c_noun_he || k == lx->c_noun_she || k == lx->c_pron_he || k == lx->c_pron_she ||
           k == lx->c_ref_he || k == lx->c_ref_she || k == lx->c_partner_here || k == lx->c_romance || k == lx->c_causes ||
           k == lx->c_quoted || k == lx->c_elided || k == lx->c_prep ||
           k == lx->c_speech || k == lx->c_self_ask || k == lx->c_possessive;
}

/* The person concept word i starts, and its length; -1 none.  Its words
 * are of word i's clause, or of any with person_any (the clause they will
 * be in is not known yet). */
static long person_in(const ppl_lexicon *lx, const ppl_word *w, size_t n, size_t i,
                      uint32_t clause, uint32_t *len);
static long person_at(const ppl_lexicon *lx, const ppl_word *w, size_t n, size_t i, uint32_t *len)
{
    return person_in(lx, w, n, i, w[i].clause, len);
}

static long person_in(const ppl_lexicon *lx, const ppl_word *w, size_t n, size_t i,
                      uint32_t clause, uint32_t *len)
{
    long ks[4] = { lx->c_both, lx->c_user, lx->c_partner, lx->c_other };
    uint32_t best = 0;
    long which = -1;
    for (int q = 0; q < 4; q++) {
        if (ks[q] < 0) continue;
        uint32_t l = member_at(lx, w, n, i, ks[q], clause);
        if (l > best) { best = l; which = ks[q]; }
    }
    if (which < 0 && (w[i].flags & PPL_WORD_NAME) && lx->c_partner >= 0) { best = 1; which = lx->c_partner; }
    *len = best;
    return which;
}

/* What a partner pronoun at word i is: he, she or they (any other, such
 * as "them" when no gender concept is loaded). */
enum { PPL_PRON_NONE, PPL_PRON_HE, PPL_PRON_SHE, PPL_PRON_THEY };
static int pronoun_kind(const ppl_lexicon *lx, const ppl_word *w, size_t n, size_t i,
                        uint32_t len, uint32_t clause)
{
    if (lx->c_pron_he >= 0 && member_at(lx, w, n, i, lx->c_pron_he, clause) == len) return PPL_PRON_HE;
    if (lx->c_pron_she >= 0 && member_at(lx, w, n, i, lx->c_pron_she, clause) == len) return PPL_PRON_SHE;
    return PPL_PRON_THEY;
}

/* The gender of the partner's noun in the message ("my husband": he), 0
 * when none or both are named. */
static int partner_gender(const ppl_lexicon *lx, const ppl_word *w, size_t n)
{
    int he = 0, she = 0;
    if (lx->c_noun_he < 0 || lx->c_noun_she < 0 || lx->c_pron_he < 0 || lx->c_pron_she < 0) return 0;
    for (size_t i = 0; i < n; i++) {
        he |= member_at(lx, w, n, i, lx->c_noun_he, w[i].clause) > 0;
        she |= member_at(lx, w, n, i, lx->c_noun_she, w[i].clause) > 0;
    }
    return he == she ? 0 : he ? PPL_PRON_HE : PPL_PRON_SHE;
}

/* Does the message name a person besides the user and the partner? */
static int third_person_named(const ppl_lexicon *lx, const ppl_word *w, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t len;
        /* a named one ("my mom", "his ex wife"), not "you" or "people" */
        if (lx->c_other >= 0 && person_at(lx, w, n, i, &len) == lx->c_other && len >= 2) return 1;
    }
    return 0;
}

static ppl_subject subject_of(const ppl_lexicon *lx, long k)
{
    if (k == lx->c_user) return PPL_SUBJ_USER;
    if (k == lx->c_partner) return PPL_SUBJ_PARTNER;
    if (k == lx->c_both) return PPL_SUBJ_BOTH;
    if (k == lx->c_other) return PPL_SUBJ_OTHER;
    return PPL_SUBJ_NONE;
}

const char *ppl_subject_mark(ppl_subject s)
{
    static const char *const marks[] = { "@x", "@u", "@p", "@w", "@o" };
    return (unsigned)s < 5 ? marks[s] : "@x";
}

/* The words a member of the data (no mechanism concept) starting at word
 * j covers, compared as words (no fillers, any clause): one pass over the
 * message, so that asking about every word stays linear. */
static void member_reach(const ppl_word *w, size_t n, uint8_t *reach)
{
    for (size_t j = 0; j < n; j++) {
        uint32_t best = 0;
        for (const member *m = (const member *)w[j].members; m; m = m->next) {
            if (m->n <= best || j + m->n > n || m->mech) continue;
            uint32_t k = 0;
            while (k < m->n && (m->exact ? w[j + k].norm_id : w[j + k].lemma_id) == m->ids[k]) k++;
            if (k == m->n) best = m->n;
        }
        reach[j] = (uint8_t)best;
    }
}

/* Is word i inside such a member that starts in the clause before it
 * ("make sure | i regret it", "i'd be sorry | if")?  No clause ends
 * inside one.  (Words after i have no clause yet: compared as words.) */
static int inside_member(const uint8_t *reach, size_t cs, size_t i)
{
    for (size_t j = i > cs + PPL_MAX_MEMBER ? i - PPL_MAX_MEMBER : cs; j < i; j++)
        if (j + reach[j] > i) return 1;
    return 0;
}

/* Is the nominative pronoun at word i a new subject in the clause that
 * began at cs?  Only when a person came before it in the clause, and i is
 * not inside a person's phrase ("the guy i am seeing"). */
static int new_subject(const ppl_lexicon *lx, const ppl_word *w, size_t n, size_t cs, size_t i)
{
    int before = 0;
    for (size_t j = i; j-- > cs;) {     /* back from i: a long clause stays linear */
        if (before && j + PPL_MAX_MEMBER <= i) return 1;   /* none further back reaches i */
        uint32_t pl;
        if (person_at(lx, w, n, j, &pl) < 0) continue;
        if (j + pl > i) return 0;
        before = 1;
    }
    return before;
}

/* The first word from i on (at most PPL_LEAD_SKIP words skipped) that is
 * not a conjunction, filler, adverb or negator of clause c: where a
 * clause's verb stands when it has no subject ("..., and then just went
 * to bed").  end when there is none. */
static size_t past_lead(const ppl_lexicon *lx, const ppl_word *w, size_t n, size_t i, size_t end,
                        uint32_t c)
{
    const long lead[] = { lx->c_split, lx->c_filler, lx->c_adverb, lx->c_negator };
    for (int skips = 0; i < end && skips <= PPL_LEAD_SKIP; skips++) {
        uint32_t len = 0;
        for (size_t q = 0; q < sizeof lead / sizeof lead[0] && !len; q++)
            len = member_at(lx, w, n, i, lead[q], c);
        if (!len) return i;
        i += len;
    }
    return end;
}

/* Does word x look like a finite or participle verb by its form: "went",
 * "ignored", "keeps", "texting", or a does/has of "doesn't"?  Without a
 * tagger this is the word's ending (or WordNet's irregular forms). */
static int verb_form(const ppl_lexicon *lx, const ppl_word *x)
{
    const char *s = x->norm;
    size_t len = strlen(s);
    if (len < 3) return 0;
    if (map_get(&lx->irregular, s)) return 1;
    if (!strcmp(s + len - 2, "ed")) return 1;
    if (len > 4 && !strcmp(s + len - 3, "ing"))     /* not "nothing", "morning" */
        return strcmp(s + len - 5, "thing") && strcmp(s + len - 5, "rning") && strcmp(s + len - 5, "ening");
    if (s[len - 1] == 's' && len > 3 && !strchr("suiy", s[len - 2])) return 1;
    return !strcmp(s, "does") || !strcmp(s, "says") || !strcmp(s, "stays") || !strcmp(s, "plays");
}

/* The person named right after the first word `word` ("by", "from") in
 * words i..end that is followed by one: 1 with *s that person's subject
 * (PPL_SUBJ_NONE for the writer: "by me" names no one else), 0 when there
 * is none. */
static int person_after(const ppl_lexicon *lx, const ppl_word *w, size_t n, size_t i, size_t end,
                        uint32_t word, ppl_subject *s)
{
    for (size_t j = i; j + 1 < end; j++) {
        uint32_t pl;
        long k;
        if (w[j].norm_id == word && (k = person_at(lx, w, n, j + 1, &pl)) >= 0) {
            *s = subject_of(lx, k) == PPL_SUBJ_USER ? PPL_SUBJ_NONE : subject_of(lx, k);
            return 1;
        }
    }
    return 0;
}

/* A passive after the user as subject: "I'm being ignored", "I keep
 * getting pushed away", "I got the silent treatment" -- someone does the
 * act to the user.  i is the first word after the subject.  Returns the
 * doer: whoever "by ..." names, else the partner; PPL_SUBJ_NONE when the
 * clause is not such a passive. */
static ppl_subject passive_doer(const ppl_lexicon *lx, const ppl_word *w, size_t n, size_t i,
                                size_t end, uint32_t c)
{
    if (lx->c_passive < 0 || lx->c_done_to < 0) return PPL_SUBJ_NONE;
    i = past_lead(lx, w, n, i, end, c);
    uint32_t len = i < end ? member_at(lx, w, n, i, lx->c_passive, c) : 0;
    if (!len) return PPL_SUBJ_NONE;
    i = past_lead(lx, w, n, i + len, end, c);
    if (i >= end) return PPL_SUBJ_NONE;
    /* a participle ("ignored", "left", "shut out") or "the silent
     * treatment"; not "i am ignoring him", "i get avoidant" */
    const char *pw = w[i].norm;
    size_t wl = strlen(pw);
    if (!(wl > 3 && (!strcmp(pw + wl - 2, "ed") || !strcmp(pw + wl - 2, "en"))) &&
        !map_get(&lx->irregular, pw) && strcmp(pw, "shut") && strcmp(pw, "the") && strcmp(pw, "a"))
        return PPL_SUBJ_NONE;
    if (!(len = member_at(lx, w, n, i, lx->c_done_to, c))) return PPL_SUBJ_NONE;
    ppl_subject doer;
    return person_after(lx, w, n, i + len, end, lx->id_by, &doer) ? doer : PPL_SUBJ_PARTNER;
}

/* Does a report verb ("think", "find out", "figure out") end just before
 * word i?  Members run to three words, so look back that far. */
static int report_before(const ppl_lexicon *lx, const ppl_word *w, size_t n, size_t i,
                         uint32_t clause)
{
    if (lx->c_report < 0) return 0;
    for (size_t back = 1; back <= 3 && back <= i; back++)
        if (member_at(lx, w, n, i - back, lx->c_report, clause) == back) return 1;
    return 0;
}

/* The verb of speech (concept speech) within four words before the
 * opening quote at word q ("he said", "she told me", "he was like"), or
 * -1. */
static long speech_before(const ppl_lexicon *lx, const ppl_word *w, size_t n, size_t q)
{
    if (lx->c_speech < 0) return -1;
    for (size_t back = 1; back <= 4 && back <= q; back++) {
        size_t j = q - back;
        if (w[j].flags & PPL_WORD_QUOTED) break;
        if (member_at(lx, w, n, j, lx->c_speech, PPL_ANY_CLAUSE)) return (long)j;
    }
    return -1;
}

/* Is the partner word of len words at i someone else's: after "her",
 * "his" or "their" in its own clause ("her boyfriend", "his wife"), and
 * not a pronoun after one ("i text her she ...") nor a partner word of
 * the writer's own ("touch her. | My girlfriend ...")? */
static int others_possessive(const ppl_lexicon *lx, const ppl_word *w, size_t n, size_t i, uint32_t len)
{
    if (i == 0 || w[i - 1].clause != w[i].clause || !strcmp(w[i].norm, "my")) return 0;
    const char *p = w[i - 1].norm;
    if (strcmp(p, "her") && strcmp(p, "his") && strcmp(p, "their")) return 0;
    return !(lx->c_pronoun >= 0 && member_at(lx, w, n, i, lx->c_pronoun, PPL_ANY_CLAUSE) == len);
}

/* Does a person named by a noun open a new clause at i: the partner ("my
 * gf", "my husband") or the writer's own body or mind ("my stomach", "my
 * chest"), after another person of the clause, not after "and", "or" or
 * a preposition, and before a verb ("since we moved in together | my gf
 * spends every evening in the spare room", "every time she says i love
 * you | my stomach drops")? */
static int noun_subject(const ppl_lexicon *lx, const ppl_word *w, size_t n, size_t cs,
                        size_t i, uint32_t clause)
{
    uint32_t pl;
    long k;
    if (i == 0 || ((k = person_at(lx, w, n, i, &pl)) != lx->c_partner && k != lx->c_user)) return 0;
    if (k == lx->c_user && (strcmp(w[i].norm, "my") != 0 || pl < 2)) return 0;
    /* "... a ring | Alex changes the subject", not "my friend Omar keeps ..." */
    int named = (w[i].flags & PPL_WORD_NAME) && pl == 1 && !names_referent(lx, w, n, i);
    if (!named && (strcmp(w[i].norm, "my") != 0 || pl < 2)) return 0;
    if (w[i - 1].norm_id == lx->id_and || w[i - 1].norm_id == lx->id_or ||
        (lx->c_prep >= 0 && member_at(lx, w, n, i - 1, lx->c_prep, PPL_ANY_CLAUSE) == 1) ||
        (lx->c_report >= 0 && member_at(lx, w, n, i - 1, lx->c_report, PPL_ANY_CLAUSE)))
        return 0;
    size_t v = past_lead(lx, w, n, i + pl, n, clause);
    if (named && !(v == i + pl && v < n && w[v].norm[0] && w[v].norm[strlen(w[v].norm) - 1] == 's'))
        return 0;
    return v < n && verb_form(lx, &w[v]) && new_subject(lx, w, n, cs, i);
}

/* Does an act concept's member start at word v ("... and | ask him what's
 * wrong"): a verb, although its base form has no ending to show it. */
static int act_at(const ppl_lexicon *lx, const ppl_analysis *a, size_t v)
{
    if (!strcmp(a->words[v].norm, "nothing") || !strcmp(a->words[v].norm, "no")) return 0;
    for (size_t h = 0; h < a->n_hits; h++)
        if (a->hits[h].first == v && a->hits[h].count >= 2 && !is_mechanism(lx, a->hits[h].concept))
            return 1;            /* a phrase: "and numb" is no verb */
    return 0;
}

/* Is word i inside an act concept's member that starts at word v, before
 * it ("and | push my wife away")? */
static int inside_act(const ppl_lexicon *lx, const ppl_analysis *a, size_t v, size_t i)
{
    for (size_t h = 0; h < a->n_hits && a->hits[h].first <= v; h++)
        if (a->hits[h].first == v && v < i && a->hits[h].first + a->hits[h].count > i &&
            !is_mechanism(lx, a->hits[h].concept))
            return 1;
    return 0;
}

static int has_word(const ppl_word *w, size_t from, size_t to, const char *norm)
{
    for (size_t i = from; i < to; i++)
        if (!strcmp(w[i].norm, norm)) return 1;
    return 0;
}

/* Does s (n bytes, lowercase) end the way a third-person verb does: an -s
 * after no s, u or i ("keeps", "says"; not "miss", "thus", "this")? */
static int s_ending(const char *s, size_t n)
{
    return n >= 4 && s[n - 1] == 's' && !strchr("sui", s[n - 2]);
}

/* Is word x a past tense by its form: "ghosted", "texted", or a WordNet
 * irregular form that is not its own lemma ("sent", "told", "went")? */
static int past_tense(const ppl_lexicon *lx, const ppl_word *x)
{
    const char *s = x->norm;
    size_t len = strlen(s);
    if (len < 3 || (x->flags & PPL_WORD_NAME)) return 0;
    if (!strcmp(s + len - 2, "ed")) return len > 3 && strcmp(s, "need") && strcmp(s, "feed");
    return map_get(&lx->irregular, s) && strcmp(s, x->lemma) != 0 && !s_ending(s, len);
}

/* Does a sentence open with a verb of the third person and no subject
 * ("says its my fault we fight", "keeps texting his ex")?  Chat drops the
 * "he" or "she" the way it drops "I"; the writer's own verb would have no
 * -s.  Not a plural noun ("things are bad": a verb follows it) nor
 * is / was / has / does. */
static int third_person_verb(const ppl_lexicon *lx, const ppl_word *w, size_t n, size_t i, size_t end)
{
    static const char *const plural_verb[] = {
        "are", "were", "have", "make", "get", "do", "seem", "feel", "look", "go", "keep", "start", "be", NULL
    };
    static const char *const not_verb[] = {
        "does", "always", "sometimes", "perhaps", "thanks", "anyways", "nowadays", "days", "guys", "ways", NULL
    };
    const char *s = w[i].norm;
    size_t len = strlen(s);
    if (!s_ending(s, len)) return 0;
    for (size_t k = 0; not_verb[k]; k++)
        if (!strcmp(s, not_verb[k])) return 0;
    if (!strcmp(s, w[i].lemma) || (w[i].flags & PPL_WORD_NAME)) return 0;   /* not a verb form ("always") */
    if (lx->c_adverb >= 0 && member_at(lx, w, n, i, lx->c_adverb, w[i].clause)) return 0;
    if (i + 1 < end)
        for (size_t k = 0; plural_verb[k]; k++)
            if (!strcmp(w[i + 1].norm, plural_verb[k])) return 0;
    return 1;
}

/* Is word i an auxiliary or modal of question_start ("do", "can",
 * "will"), not a wh-word? */
static int auxiliary(const ppl_lexicon *lx, const ppl_word *w, size_t n, size_t i, uint32_t c)
{
    static const char *const wh[] = { "why", "how", "what", "which", "who", "where", NULL };
    if (lx->c_question < 0 || !member_at(lx, w, n, i, lx->c_question, c)) return 0;
    for (size_t k = 0; wh[k]; k++)
        if (!strcmp(w[i].norm, wh[k])) return 0;
    return 1;
}

/* Does a sentence that opens with an auxiliary (not a wh-word) go on
 * with a negator and no one to be asked ("won't even look at me", "can't
 * sleep", "didn't call back")?  Chat dropped its subject: it tells, it does not ask, as
 * "won't you talk to me", "doesn't he care" and "isn't it weird" do. */
static int elided_statement(const ppl_lexicon *lx, const ppl_word *w, size_t n, size_t i, size_t end)
{
    static const char *const asked[] = { "it", "there", "that", "this", "you", "u", "ya", "we", "i", NULL };
    uint32_t len;
    if (!auxiliary(lx, w, n, i, w[i].clause)) return 0;
    if (i + 2 >= end || lx->c_negator < 0 || !(len = member_at(lx, w, n, i + 1, lx->c_negator, PPL_ANY_CLAUSE)))
        return 0;
    size_t j = i + 1 + len;
    if (j >= end) return 0;
    for (size_t k = 0; asked[k]; k++)
        if (!strcmp(w[j].norm, asked[k])) return 0;
    return person_in(lx, w, n, j, PPL_ANY_CLAUSE, &len) < 0;
}

/* Clause boundaries: a mark, a sentence start, or a conjunction (concept
 * clause_start) that is followed within two words by a person -- or a
 * report verb ("i think", "he says") followed by a person, unless what
 * follows is a set phrase said as words (concept quoted: "he never says
 * I love you" is one clause about him, not a clause about the user). */
static void mark_clauses(const ppl_lexicon *lx, ppl_word *w, size_t n, const raw_word *rw,
                         uint16_t *sentence_of)
{
    uint16_t clause = 0, sentence = 0;
    size_t cs = 0;                       /* where the current clause began */
    uint8_t *reach = calloc(n ? n : 1, 1);   /* NULL: no word is inside one */
    if (reach) member_reach(w, n, reach);
    uint32_t cs_len = 0;                 /* the person that opens the clause, */
    long cs_person = n ? person_in(lx, w, n, 0, PPL_ANY_CLAUSE, &cs_len) : -1;   /* once */
    for (size_t i = 0; i < n; i++) {
        int cut = 0;
        if (i > 0 && rw[i].sentence_start) { sentence++; cut = 1; }
        else if (i > 0 && rw[i].clause_mark) cut = 1;
        else if (i > 0) {
            w[i].clause = clause;        /* provisional, for the look-ahead */
            uint32_t len = 0;
            int only_person = cs_person >= 0 && cs + cs_len == i;
            if ((only_person && w[i].norm_id == lx->id_and) || (reach && inside_member(reach, cs, i)) ||
                (cs_person >= 0 && i < cs + cs_len)) {
                /* "my husband and I ...": one compound subject */
            } else if (lx->c_quoted >= 0 && lx->c_report >= 0 &&
                       member_at(lx, w, n, i - 1, lx->c_report, clause) &&
                       member_at(lx, w, n, i, lx->c_quoted, PPL_ANY_CLAUSE)) {
                /* "she never says I miss you": words said, not a new subject */
            } else if ((w[i].flags & PPL_WORD_QUOTE_OPEN) && speech_before(lx, w, n, i) >= 0) {
                /* she yelled | "you never listen"; a quote that does not
                 * open with a person stays in the speaker's clause ("he
                 * says "marriage is for other people"", "let's see") */
                uint32_t pl;
                if (person_at(lx, w, n, i, &pl) >= 0) cut = 1;
            } else if (lx->c_split >= 0 && (len = member_at(lx, w, n, i, lx->c_split, clause)) > 0) {
                /* a person after it, or inside it ("and it makes me") */
                for (size_t j = i + 1; j < n && j <= i + len + 1; j++) {
                    uint32_t pl;
                    if (person_at(lx, w, n, j, &pl) >= 0) { cut = 1; break; }
                }
            } else if (lx->c_nominative >= 0 && member_at(lx, w, n, i, lx->c_nominative, clause) &&
                       w[i - 1].norm_id != lx->id_and && w[i - 1].norm_id != lx->id_or &&
                       new_subject(lx, w, n, cs, i)) {
                cut = 1;
            } else if (noun_subject(lx, w, n, cs, i, clause)) {
                cut = 1;         /* "since we moved in together | my gf spends ..." */
            } else if (lx->c_prep >= 0 && member_at(lx, w, n, i - 1, lx->c_prep, PPL_ANY_CLAUSE) == 1 &&
                       lx->c_object >= 0 && member_at(lx, w, n, i, lx->c_object, PPL_ANY_CLAUSE) == 1 &&
                       i + 1 < n && ends_ing(w[i + 1].norm)) {
                cut = 1;         /* "it ends with | him leaving the room" */
            } else if (report_before(lx, w, n, i, clause)) {
                uint32_t pl;
                size_t j = i;
                if (j < n && (w[j].lemma_id == lx->id_that || w[j].lemma_id == lx->id_like)) j++;
                /* "i keep telling him | i want ...": him is told, not a subject */
                uint32_t pl2;
                if (j < n && person_at(lx, w, n, j, &pl) >= 0 &&
                    !(lx->c_object >= 0 && member_at(lx, w, n, j, lx->c_object, PPL_ANY_CLAUSE) == pl) &&
                    !(j + pl < n && person_at(lx, w, n, j + pl, &pl2) >= 0))   /* "tell Rosa | I ..." */
                    cut = 1;
            }
        }
        if (cut) { clause++; cs = i; cs_person = person_in(lx, w, n, cs, PPL_ANY_CLAUSE, &cs_len); }
        w[i].clause = clause;
        sentence_of[i] = sentence;
    }
    free(reach);
}

/* Words in double quotes right after a verb of speech (concept speech)
 * are the speaker's: in `he said "I need space"` the one who needs space
 * is the partner, and in `she yelled "you never listen"` the one who does
 * not listen is the user.  So in the clauses of the quote "I" is the
 * speaker and "you" the one spoken to (the user, or the partner when the
 * user speaks). */
static void quoted_speech(const ppl_lexicon *lx, ppl_word *w, size_t n, ppl_analysis *out)
{
    if (lx->c_speech < 0) return;
    for (size_t c = 0; c < out->n_clauses; c++) {
        const ppl_clause *cl = &out->clauses[c];
        size_t q = cl->first;
        /* a quote that opens inside the speaker's clause ("he says 'nothing,
         * | I'm just tired'") is read from its next clause on */
        while (q < cl->first + cl->count && !(w[q].flags & PPL_WORD_QUOTE_OPEN)) q++;
        if (!cl->count || q == cl->first + cl->count || q == 0) continue;
        /* the speech verb within four words before the quote, in its sentence */
        ppl_subject speaker = PPL_SUBJ_NONE;
        long j = speech_before(lx, w, n, q);
        if (j >= 0 && out->clauses[w[j].clause].sentence == cl->sentence)
            speaker = out->clauses[w[j].clause].subject;
        if (speaker == PPL_SUBJ_NONE || speaker == PPL_SUBJ_BOTH) continue;
        ppl_subject addressee = speaker == PPL_SUBJ_USER ? PPL_SUBJ_PARTNER : PPL_SUBJ_USER;
        for (size_t d = q == cl->first ? c : c + 1; d < out->n_clauses; d++) {
            ppl_clause *dc = &out->clauses[d];
            if (!dc->count || !(w[dc->first].flags & PPL_WORD_QUOTED) ||
                (d > c && (w[dc->first].flags & PPL_WORD_QUOTE_OPEN))) break;
            if (speaker != PPL_SUBJ_USER)
                for (size_t i = dc->first; i < dc->first + dc->count; i++)
                    if (w[i].flags & PPL_WORD_QUOTED) w[i].flags |= PPL_WORD_SPOKEN;
            if (dc->subject == PPL_SUBJ_USER || dc->subject == PPL_SUBJ_NONE) dc->subject = speaker;
            else if (dc->subject == PPL_SUBJ_OTHER || dc->subject == PPL_SUBJ_PARTNER) {
                /* "you" is the one spoken to; "he", "she" stay who they are */
                size_t end = dc->first + dc->count;
                for (size_t i = dc->first; i < end && i < dc->first + PPL_SUBJECT_SPAN; i++)
                    if (!strcmp(w[i].norm, "you")) { dc->subject = addressee; break; }
            }
        }
    }
}

/* A third-person verb or a word that follows a subject ("keeps", "says",
 * "was", "never"), as typed: enough to tell a name from a typo at the
 * start of a sentence. */
static int looks_like_verb(const char *t, size_t n)
{
    static const char *const after_subject[] = {
        "was", "has", "is", "said", "told", "and", "never", "always", "just", "wont", "won't",
        "doesnt", "doesn't", "didnt", "didn't", "hasnt", "hasn't", "isnt", "isn't", "can't",
        "cant", "will", "would", "used", "met", "went", "left", NULL
    };
    char w[32];
    if (n < 2 || n >= sizeof w) return 0;
    for (size_t i = 0; i < n; i++) {
        if (!islower((unsigned char)t[i]) && t[i] != '\'') return 0;
        w[i] = t[i];
    }
    w[n] = '\0';
    for (size_t i = 0; after_subject[i]; i++)
        if (!strcmp(w, after_subject[i])) return 1;
    return s_ending(w, n);
}

/* Lowercase as typed: an -s verb ("changes", "games") and a word a name
 * cannot follow as its subject ("he", "my", "the"): enough to read
 * "every time i mention a ring alex changes the subject". */
static int s_verb(const char *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!islower((unsigned char)t[i])) return 0;
    if (n >= 5 && !strncmp(t + n - 2, "ed", 2)) return strncmp(t, "need", n) != 0;   /* "lena started" */
    if (!s_ending(t, n) || t[n - 2] == '\'') return 0;
    return strncmp(t, "always", n) && strncmp(t, "thanks", n) && strncmp(t, "sometimes", n);
}

static int pronoun_before(const char *t, size_t n)
{
    static const char *const p[] = { "i", "he", "she", "they", "we", "you", "my", "his", "her", "their",
                                     "our", "your", "the", "a", "an", "this", "that", "it", "its", NULL };
    for (size_t k = 0; p[k]; k++)
        if (strlen(p[k]) == n && !strncasecmp(t, p[k], n)) return 1;
    return 0;
}

/* Is concept k one that a tally counts? */
static int is_counted(const ppl_lexicon *lx, uint32_t k)
{
    for (size_t t = 0; t < lx->n_tallies; t++)
        for (uint32_t i = 0; i < lx->tallies[t].n_of; i++)
            if (lx->tallies[t].of[i] == k) return 1;
    return 0;
}

/* Is concept a (counted by a tally) too weak to hide concept b (not)? */
static int weaker(const ppl_lexicon *lx, uint32_t a, uint32_t b)
{
    return lx->n_tallies && is_counted(lx, a) && !is_counted(lx, b);
}

/* Does clause c hold concept k, not negated (hit_at: each clause's run of
 * hits)? */
static int clause_holds(const ppl_analysis *a, const size_t *hit_at, size_t c, uint32_t k)
{
    for (size_t h = hit_at[c]; h < hit_at[c + 1]; h++)
        if (a->hits[h].concept == k && !a->hits[h].negated) return 1;
    return 0;
}

/* A tally over the message: when ty->need different concepts of ty->of
 * are found, not negated, each in a sentence with none of ty->unless, every
 * clause holding one of them is marked with bit in tallied[]: "i gave my
 * cat to my sister. everyone will cope fine" is two warning signs in two
 * sentences, neither a crisis alone; "i cancelled everything, i won't be
 * here, work is sending me to berlin" is a plan, in its last clause. */
static void tally_message(const tally *ty, const ppl_analysis *a, const size_t *hit_at, size_t nc,
                          uint8_t *tallied, uint8_t bit)
{
    uint32_t found = 0;          /* bit i: ty->of[i] counted */
    int n = 0;
    /* a sentence's clauses are consecutive: each run [s0, s1) is read once
     * for the unless: concepts, then counted (linear in the clauses) */
    for (size_t s0 = 0, s1; s0 < nc; s0 = s1) {
        int refused = 0;
        for (s1 = s0; s1 < nc && a->clauses[s1].sentence == a->clauses[s0].sentence; s1++)
            for (uint32_t u = 0; u < ty->n_unless && !refused; u++)
                refused = clause_holds(a, hit_at, s1, ty->unless[u]);
        if (refused) continue;
        for (size_t c = s0; c < s1; c++)
            for (uint32_t i = 0; i < ty->n_of; i++)
                if (clause_holds(a, hit_at, c, ty->of[i])) {
                    if (!(found & (1u << i))) n++;
                    found |= 1u << i;
                    tallied[c] |= bit;
                }
    }
    if ((uint32_t)n >= ty->need) return;
    for (size_t c = 0; c < nc; c++) tallied[c] &= (uint8_t)~bit;
}

int ppl_analyse(const ppl_lexicon *lx, const char *text, size_t len, ppl_analysis *out)
{
    memset(out, 0, sizeof *out);
    size_t flen = 0;
    out->text = ppl_fold(text, len, &flen);
    if (!out->text) {     /* not valid UTF-8: analyse it as it is */
        out->text = malloc(len + 1);
        if (!out->text) return -1;
        memcpy(out->text, text, len);
        out->text[len] = '\0';
        flen = len;
    }
    out->text_len = flen;
    raw_word *rw = malloc(PPL_MAX_WORDS * sizeof *rw);
    if (!rw) goto oom;
    size_t nraw = split_words(out->text, flen, rw, PPL_MAX_WORDS);
    for (size_t r = 0; r + 1 < nraw; r++) {
        if (rw[r].sentence_start)
            rw[r].verb_next = looks_like_verb(out->text + rw[r + 1].off, rw[r + 1].len);
        else if (!rw[r].capital && !rw[r + 1].sentence_start && !rw[r + 1].clause_mark)
            rw[r].name_slot = s_verb(out->text + rw[r + 1].off, rw[r + 1].len) &&
                              !pronoun_before(out->text + rw[r - 1].off, rw[r - 1].len);
    }

    /* expand each typed word into one or more words */
    size_t cap = nraw + 16, n = 0;
    ppl_word *w = calloc(cap, sizeof *w);
    raw_word *wr = calloc(cap, sizeof *wr);          /* the raw word each came from */
    size_t *norm_at = calloc(cap, sizeof *norm_at), *lemma_at = calloc(cap, sizeof *lemma_at);
    const known_word **known_at = calloc(cap, sizeof *known_at);   /* NULL: looked up below */
    ppb_buf st = {0};
    if (!w || !wr || !norm_at || !lemma_at || !known_at) {
        free(w); free(wr); free(norm_at); free(lemma_at); free(known_at);
        goto oom_rw;
    }
    for (size_t r = 0; r < nraw; r++) {
        char exp[PPL_MAX_WORD * 4], *save = NULL;
        uint8_t flags = 0;
        lower_word(out->text + rw[r].off, rw[r].len, exp, sizeof exp);
        const known_word *kw = map_get(&lx->known, exp);
        if (!kw) expand_word(lx, out->text + rw[r].off, rw[r].len, &rw[r], &flags, exp, sizeof exp);
        int first = 1;
        for (char *p = strtok_r(exp, " ", &save); p; p = strtok_r(NULL, " ", &save)) {
            if (n == cap) {
                size_t nc = cap * 2;
                ppl_word *w2 = realloc(w, nc * sizeof *w);
                if (w2) w = w2;
                raw_word *r2 = w2 ? realloc(wr, nc * sizeof *wr) : NULL;
                if (r2) wr = r2;
                size_t *a2 = r2 ? realloc(norm_at, nc * sizeof *norm_at) : NULL;
                if (a2) norm_at = a2;
                size_t *b2 = a2 ? realloc(lemma_at, nc * sizeof *lemma_at) : NULL;
                if (b2) lemma_at = b2;
                const known_word **k2 = b2 ? realloc(known_at, nc * sizeof *known_at) : NULL;
                if (k2) known_at = k2;
                if (!k2) { st.oom = 1; break; }
                cap = nc;
            }
            memset(&w[n], 0, sizeof w[n]);
            w[n].off = rw[r].off;
            w[n].len = rw[r].len;
            wr[n] = rw[r];
            if (!first) wr[n].sentence_start = wr[n].clause_mark = 0;
            const char *norm = p;
            w[n].flags = flags | (first ? rw[r].quote : rw[r].quote & PPL_WORD_QUOTED);
            char lb[PPL_MAX_WORD * 2];
            norm_at[n] = store_add(&st, norm);
            lemma_at[n] = store_add(&st, kw ? kw->lemma : ppl_lemma(lx, norm, lb, sizeof lb));
            known_at[n] = kw;
            n++;
            first = 0;
        }
    }
    free(rw);
    rw = NULL;
    if (st.oom) goto oom_words;
    out->store_ = st.s;
    for (size_t i = 0; i < n; i++) {
        w[i].norm = st.s + norm_at[i];
        w[i].lemma = st.s + lemma_at[i];
        const known_word *kw = known_at[i];
        const lexword *lw = kw ? kw->lem : map_get(&lx->words, w[i].lemma);   /* looked up once */
        w[i].lemma_id = lw ? lw->id : 0;
        w[i].members = lw ? lw->first : NULL;
        w[i].mech_members = lw ? lw->mech : NULL;
        w[i].norm_id = kw ? (kw->norm ? kw->norm->id : 0) : word_id(lx, w[i].norm);
    }
    free(norm_at);
    free(lemma_at);
    free(known_at);
    norm_at = lemma_at = NULL;
    known_at = NULL;
    out->words = w;
    out->n_words = n;
    /* a capitalised word after a possessive is a noun, not a name: "my Doc" */
    for (size_t i = 1; i < n && lx->c_possessive >= 0; i++)
        if ((w[i].flags & PPL_WORD_NAME) && member_at(lx, w, n, i - 1, lx->c_possessive, PPL_ANY_CLAUSE) == 1)
            w[i].flags &= ~PPL_WORD_NAME;

    /* clauses */
    uint16_t *sentence_of = calloc(n + 1, sizeof *sentence_of);
    if (!sentence_of) { free(wr); goto oom; }
    mark_clauses(lx, w, n, wr, sentence_of);
    size_t nc = n ? (size_t)w[n - 1].clause + 1 : 0;
    out->clauses = calloc(nc + 1, sizeof *out->clauses);
    if (!out->clauses) { free(sentence_of); free(wr); goto oom; }
    out->n_clauses = nc;
    for (size_t i = 0; i < n; i++) {
        ppl_clause *c = &out->clauses[w[i].clause];
        if (!c->count) { c->first = (uint32_t)i; c->sentence = sentence_of[i]; }
        c->count++;
        if (wr[i].asks) c->question = 1;
    }
    out->n_sentences = n ? (size_t)sentence_of[n - 1] + 1 : 0;
    free(sentence_of);
    /* a sentence that opens with an auxiliary or a wh-word asks, too */
    for (size_t c = 0; c < nc; c++) {
        ppl_clause *cl = &out->clauses[c];
        if (!cl->count || !wr[cl->first].sentence_start || lx->c_question < 0) continue;
        if (member_at(lx, w, n, cl->first, lx->c_question, (uint32_t)c) &&
            !elided_statement(lx, w, n, cl->first, cl->first + cl->count))
            for (size_t d = c; d < nc && out->clauses[d].sentence == cl->sentence; d++)
                out->clauses[d].question = 1;
    }
    /* ... and one whose question comes after a mark asks only there: "my
     * husband is not opening up, | what to do?" tells, then asks */
    for (size_t c = 1; c < nc && lx->c_question >= 0; c++) {
        ppl_clause *cl = &out->clauses[c];
        if (!cl->count || !cl->question || !wr[cl->first].clause_mark || wr[cl->first].sentence_start ||
            !member_at(lx, w, n, cl->first, lx->c_question, (uint32_t)c))
            continue;
        for (size_t d = c; d-- > 0 && out->clauses[d].sentence == cl->sentence;) {
            if (d + 1 < nc && member_at(lx, w, n, out->clauses[d].first, lx->c_question, (uint32_t)d) &&
                wr[out->clauses[d].first].sentence_start)
                break;                       /* "why does he ..., what do i do?" asks twice */
            out->clauses[d].question = 0;
        }
    }
    free(wr);
    wr = NULL;

    /* concepts, negation, subjects */
    size_t hcap = 16;
    out->hits = malloc(hcap * sizeof *out->hits);
    if (!out->hits) goto oom;
    if (lx->c_filler >= 0)
        for (size_t i = 0; i < n; i++)
            if (member_at(lx, w, n, i, lx->c_filler, w[i].clause) == 1) w[i].flags |= PPL_WORD_FILLER;
    for (size_t i = 0; i < n; i++) {
        for (const member *m = (const member *)w[i].members; m; m = m->next) {
            uint32_t span = member_matches(m, w, n, i, w[i].clause);
            if (!span) continue;
            if ((long)m->concept == lx->c_negator) {
                w[i].flags |= PPL_WORD_NEGATOR;
                out->clauses[w[i].clause].negated = 1;
                /* up to the next negator, which starts its own reach ("he
                 * hasn't asked and won't talk"), or a contrast ("not yet,
                 * but ...") */
                for (size_t k = i + span; k < n && k <= i + span + PPL_NEG_SPAN && w[k].clause == w[i].clause; k++) {
                    if (member_at(lx, w, n, k, lx->c_negator, w[k].clause) ||
                        member_at(lx, w, n, k, lx->c_neg_end, w[k].clause)) break;
                    w[k].flags |= PPL_WORD_NEGATED;
                }
            }
            if (out->n_hits == hcap) {
                ppl_hit *h2 = realloc(out->hits, hcap * 2 * sizeof *h2);
                if (!h2) goto oom;
                out->hits = h2;
                hcap *= 2;
            }
            out->hits[out->n_hits++] = (ppl_hit){ m->concept, (uint32_t)i, span, 0 };
        }
    }
    /* The longest member wins across concepts: "pushed me away" is
     * ~withdraw, not also ~harm_act's "push me"; "hit me up" is
     * ~figurative, not ~harm_act; "substance abuse" is not ~abuse_named.
     * The layer's own concepts take no part, and a concept a tally counts
     * hides only another counted one: a weak sign ("be better without me")
     * must not take the words of a strong concept ("better without me",
     * ~death_wish), nor one phrase count as two signs. */
    /* A hit inside a longer hit of another concept loses (marked negated
     * = 2, then dropped).  Hits come in word order and a member has at most
     * PPL_MAX_MEMBER words, so only the hits starting that far back can
     * cover one. */
    for (size_t h = 0; h < out->n_hits; h++) {
        ppl_hit *hi = &out->hits[h];
        if (is_mechanism(lx, hi->concept)) continue;
        uint32_t end = hi->first + hi->count;
        for (size_t g = h; g-- > 0 && out->hits[g].first + PPL_MAX_MEMBER > hi->first;) {
            const ppl_hit *o = &out->hits[g];
            if (o->count > hi->count && o->first + o->count >= end && o->concept != hi->concept &&
                !is_mechanism(lx, o->concept) && !weaker(lx, o->concept, hi->concept)) { hi->negated = 2; break; }
        }
        for (size_t g = h + 1; g < out->n_hits && out->hits[g].first == hi->first; g++) {
            const ppl_hit *o = &out->hits[g];
            if (o->count > hi->count && o->concept != hi->concept && !is_mechanism(lx, o->concept) &&
                !weaker(lx, o->concept, hi->concept)) {
                hi->negated = 2;
                break;
            }
        }
    }
    size_t kept = 0;
    for (size_t h = 0; h < out->n_hits; h++)
        if (out->hits[h].negated != 2) out->hits[kept++] = out->hits[h];
    out->n_hits = kept;
    for (size_t h = 0; h < out->n_hits; h++)
        out->hits[h].negated = (w[out->hits[h].first].flags & PPL_WORD_NEGATED) != 0;
    /* Who "he" and "she" are: in a message where a parent, a sibling or a
     * friend is the subject of a clause and no partner is named by name or
     * role ("my mother is ... she never listens"), the pronouns are that
     * person, not a partner (see after the loop). */
    int partner_named = 0, referent_subject = 0;
    size_t others_partner_at = n;    /* "her boyfriend", "his wife": another couple */
    unsigned char *pronoun_clause = calloc(nc + 1, 1);
    if (!pronoun_clause) goto oom;
    for (size_t h = 0; h < out->n_hits && lx->c_pronoun >= 0; h++) {
        const ppl_hit *hi = &out->hits[h];
        if ((long)hi->concept != lx->c_partner ||
            member_at(lx, w, n, hi->first, lx->c_pronoun, w[hi->first].clause) == hi->count)
            continue;
        if (others_possessive(lx, w, n, hi->first, hi->count)) {
            /* not "his ex": the partner's own past ("he pulls away since
             * his ex cheated on him") */
            if (strncmp(w[hi->first].norm, "ex", 2) != 0 && hi->first < others_partner_at)
                others_partner_at = hi->first;
        } else
            partner_named = 1;       /* not "her boyfriend": someone else's */
    }
    for (size_t i = 0; i < n && !partner_named; i++)
        partner_named = (w[i].flags & PPL_WORD_NAME) && !names_referent(lx, w, n, i);
    /* ... or named before the pronoun, not as a subject: "I am always
     * arguing with my father. ... he never listens" (but "she keeps
     * putting off meeting my parents" is still the partner) */
    size_t referent_at = n;
    for (size_t i = 0; i < n && lx->c_referent >= 0; i++)
        if (member_at(lx, w, n, i, lx->c_referent, PPL_ANY_CLAUSE) > 0) { referent_at = i; break; }
    /* ... when the pronoun can be them: "my mom says | he pulls away" is
     * still the partner (bits: 1 a he, 2 a she, 4 either) */
    int referent_kinds = 0;       /* ... and 8 a plural: "my friends" is no "he" */
    /* ... and someone else's partner is there for a pronoun of either
     * gender ("my sister keeps chasing her boyfriend and | he keeps
     * backing off") */
    if (others_partner_at < n && referent_at < n) {
        referent_kinds |= 4;
        if (others_partner_at < referent_at) referent_at = others_partner_at;
    }
    for (size_t i = referent_at; i < n; i++) {
        uint32_t rl = member_at(lx, w, n, i, lx->c_referent, PPL_ANY_CLAUSE);
        if (rl == 0) continue;
        const ppl_word *last = &w[i + rl - 1];
        size_t ln = strlen(last->norm);
        if (ln > 1 && last->norm[ln - 1] == 's' && strcmp(last->norm, last->lemma) != 0) referent_kinds |= 8;
        else if (lx->c_ref_he >= 0 && member_at(lx, w, n, i, lx->c_ref_he, PPL_ANY_CLAUSE) > 0) referent_kinds |= 1;
        else if (lx->c_ref_she >= 0 && member_at(lx, w, n, i, lx->c_ref_she, PPL_ANY_CLAUSE) > 0) referent_kinds |= 2;
        else referent_kinds |= 4;
    }
    for (size_t c = 0; c < nc; c++) {
        ppl_clause *cl = &out->clauses[c];
        size_t end = cl->first + cl->count, opening = cl->first;
        uint32_t cw;
        while (opening < end && lx->c_split >= 0 && (cw = member_at(lx, w, n, opening, lx->c_split, (uint32_t)c)))
            opening += cw;
        for (size_t i = cl->first; i < end && i < cl->first + PPL_SUBJECT_SPAN; i++) {
            uint32_t pl;
            long k = person_at(lx, w, n, i, &pl);
            if (k < 0) continue;
            /* "me", "him": a subject only where the clause opens with it
             * ("me and him fight"), else the object ("it hit me") */
            if (i != opening && lx->c_object >= 0 && member_at(lx, w, n, i, lx->c_object, (uint32_t)c) == pl)
                continue;
            /* "too busy for my bf": after a preposition, not the subject */
            if (i > cl->first && lx->c_prep >= 0 && member_at(lx, w, n, i - 1, lx->c_prep, (uint32_t)c) == 1 &&
                !(i + pl < end && ends_ing(w[i + pl].norm))) {   /* "tired of my wife ignoring me" */
                i += pl - 1;     /* past all of it: "for my | boyfriend" is no subject either */
                continue;
            }
            /* inside an act that starts before it: "and | push my wife
             * away" is the writer's act, my wife its object */
            if (w[cl->first].norm_id == lx->id_and && inside_act(lx, out, cl->first + 1, i)) {
                i += pl - 1;
                continue;
            }
            ppl_subject s = subject_of(lx, k);
            /* "her partner", "his wife" (not "his ex"): someone else's */
            if (s == PPL_SUBJ_PARTNER && strncmp(w[i].norm, "ex", 2) != 0 && others_possessive(lx, w, n, i, pl))
                s = PPL_SUBJ_OTHER;
            if (s == PPL_SUBJ_PARTNER && member_at(lx, w, n, i, lx->c_pronoun, (uint32_t)c) == pl)
                pronoun_clause[c] = pronoun_kind(lx, w, n, i, pl, (uint32_t)c);
            if (s == PPL_SUBJ_OTHER && member_at(lx, w, n, i, lx->c_referent, (uint32_t)c) == pl)
                referent_subject = 1;
            /* "my husband and I", "me and him": two people joined by and */
            size_t j = i + pl;
            if (j + 1 < end && w[j].norm_id == lx->id_and) {
                uint32_t pl2;
                long k2 = person_at(lx, w, n, j + 1, &pl2);
                ppl_subject s2 = k2 >= 0 ? subject_of(lx, k2) : PPL_SUBJ_NONE;
                if ((s == PPL_SUBJ_USER && s2 == PPL_SUBJ_PARTNER) ||
                    (s == PPL_SUBJ_PARTNER && s2 == PPL_SUBJ_USER))
                    s = PPL_SUBJ_BOTH;
            }
            /* "i keep getting ignored": the act is done to the user */
            if (s == PPL_SUBJ_USER) {
                ppl_subject doer = passive_doer(lx, w, n, i + pl, end, (uint32_t)c);
                if (doer != PPL_SUBJ_NONE) s = doer;
            }
            cl->subject = s;
            break;
        }
        /* past the first words, a subject-only pronoun still names who:
         * "when things are going really well i find something to fight" */
        for (size_t i = cl->first + PPL_SUBJECT_SPAN; !cl->subject && i < end; i++) {
            uint32_t pl;
            /* not one that opens a clause inside it: "and follows me
             * around asking if | i still love her" is still hers */
            if (lx->c_split >= 0 && member_at(lx, w, n, i - 1, lx->c_split, (uint32_t)c) == 1) continue;
            long k = lx->c_nominative >= 0 && member_at(lx, w, n, i, lx->c_nominative, (uint32_t)c)
                   ? person_at(lx, w, n, i, &pl) : -1;
            if (k >= 0) cl->subject = subject_of(lx, k);
        }
    }
    /* A sentence that opens with a gerund and names nobody before it is the
     * writer's own doing: "needing space doesn't mean I don't love her",
     * "does feeling smothered mean ...".  So is one that opens the way chat
     * drops its "I" (concept elided_i: "been talking to him for weeks",
     * "too busy for my bf lately", "miss him so much"), when it does not
     * ask, and one that asks about the writer's own want (concept
     * self_ask: "is it wrong to need space", "is it normal to want ..."). */
    for (size_t c = 0; c < nc; c++) {
        ppl_clause *cl = &out->clauses[c];
        if (c > 0 && out->clauses[c - 1].sentence == cl->sentence) continue;
        size_t i = cl->first, end = cl->first + cl->count;
        uint32_t cw;
        /* "says its my fault we fight": whoever comes later is not who says */
        if (!cl->question && third_person_verb(lx, w, n, i, end)) {
            cl->subject = PPL_SUBJ_PARTNER;
            continue;
        }
        if (cl->subject) continue;
        while (i < end && (w[i].flags & PPL_WORD_FILLER)) i++;
        if (i < end && lx->c_question >= 0 && (cw = member_at(lx, w, n, i, lx->c_question, (uint32_t)c)))
            i += cw;
        if (i < end && ends_ing(w[i].norm) && w[i].members)
            cl->subject = PPL_SUBJ_USER;
        else if (i == cl->first && !cl->question && lx->c_elided >= 0 &&
                 member_at(lx, w, n, i, lx->c_elided, (uint32_t)c))
            cl->subject = PPL_SUBJ_USER;
        /* a past tense with no subject and the writer not its object:
         * "ghosted a really nice guy after 4 dates", "texted him good
         * morning" ("ghosted me again" is left for the partner) */
        else if (i == cl->first && !cl->question && past_tense(lx, &w[i]) &&
                 !has_word(w, i + 1, end, "me"))
            cl->subject = PPL_SUBJ_USER;
        /* ... and so an auxiliary and a negator ("cant stand being touched
         * after work", "dont want to see anyone") */
        else if (!cl->question && elided_statement(lx, w, n, cl->first, end) &&
                 !has_word(w, cl->first + 1, end, "me"))
            cl->subject = PPL_SUBJ_USER;
        else if (lx->c_self_ask >= 0 &&     /* "is it wrong to need space" */
                 member_at(lx, w, n, cl->first, lx->c_self_ask, (uint32_t)c))
            cl->subject = PPL_SUBJ_USER;
    }
    if (!partner_named && lx->c_referent >= 0)
        for (size_t c = 0; c < nc; c++)
            if (pronoun_clause[c] && (referent_subject || out->clauses[c].first > referent_at) &&
                !(pronoun_clause[c] == PPL_PRON_HE && !(referent_kinds & 5)) &&
                !(pronoun_clause[c] == PPL_PRON_SHE && !(referent_kinds & 6)))
                out->clauses[c].subject = PPL_SUBJ_OTHER;
    /* A partner named by a noun of one gender ("my husband") makes a
     * pronoun of the other someone else ("she invited him to dinner": his
     * ex-wife), and, when a third person is named too, a plural "they"
     * ("they slept in the same bed").  A message that names partners of
     * both genders, or none, is left as it is. */
    int gender = partner_gender(lx, w, n);
    if (gender)
        for (size_t c = 0; c < nc; c++) {
            int pk = pronoun_clause[c];
            if ((pk == PPL_PRON_HE || pk == PPL_PRON_SHE) && pk != gender)
                out->clauses[c].subject = PPL_SUBJ_OTHER;
            else if (pk == PPL_PRON_THEY && third_person_named(lx, w, n))
                out->clauses[c].subject = PPL_SUBJ_OTHER;
        }
    free(pronoun_clause);
    /* A clause with no person as its subject in which something makes the
     * writer feel or do ("but being single has made me very needy",
     * "every wedding convo makes me want to hide") is about the writer. */
    for (size_t c = 0; c < nc && lx->c_causes >= 0; c++) {
        ppl_clause *cl = &out->clauses[c];
        if (cl->subject) continue;
        for (size_t i = cl->first; i < cl->first + cl->count; i++)
            if (member_at(lx, w, n, i, lx->c_causes, (uint32_t)c)) { cl->subject = PPL_SUBJ_USER; break; }
    }
    /* A clause with no person as its subject that says where it comes
     * from ("3 days of silence from her", "nothing from him since friday")
     * is the act of that person; not when it opens with a verb, whose
     * subject is the writer left out ("taking a break from her"). */
    for (size_t c = 0; c < nc; c++) {
        ppl_clause *cl = &out->clauses[c];
        size_t end = cl->first + cl->count, v = past_lead(lx, w, n, cl->first, end, (uint32_t)c);
        ppl_subject source;
        if (cl->subject || v >= end || verb_form(lx, &w[v]) ||
            (lx->c_elided >= 0 && member_at(lx, w, n, v, lx->c_elided, (uint32_t)c)))
            continue;
        if (person_after(lx, w, n, v, end, lx->id_from, &source)) cl->subject = source;
    }
    /* A sentence with no subject whose verb comes first and whose object
     * is the writer ("he doesn't care anymore i think. | won't even look
     * at me at dinner") is not the writer's own doing: chat dropped the
     * partner of the sentence before. */
    for (size_t c = 1; c < nc; c++) {
        ppl_clause *cl = &out->clauses[c];
        size_t end = cl->first + cl->count, v = past_lead(lx, w, n, cl->first, end, (uint32_t)c);
        if (cl->subject || out->clauses[c - 1].sentence == cl->sentence || v >= end ||
            !(verb_form(lx, &w[v]) || (lx->c_question >= 0 && member_at(lx, w, n, v, lx->c_question, (uint32_t)c))) ||
            !has_word(w, v + 1, end, "me"))
            continue;
        for (size_t d = c; d-- > 0 && out->clauses[d].sentence + 1 >= cl->sentence;)
            if (out->clauses[d].sentence < cl->sentence && out->clauses[d].subject == PPL_SUBJ_PARTNER) {
                cl->subject = PPL_SUBJ_PARTNER;
                break;
            }
    }
    /* A clause of the same sentence with no subject of its own whose verb
     * comes first keeps the subject before it: "he came home, went
     * straight to his phone", "she sighs and ignores me". */
    for (size_t c = 1; c < nc; c++) {
        ppl_clause *cl = &out->clauses[c];
        size_t d = c - 1;       /* past clauses of a conjunction alone: "..., and | then ignores me" */
        while (d > 0 && !out->clauses[d].subject && out->clauses[d].sentence == cl->sentence &&
               past_lead(lx, w, n, out->clauses[d].first, out->clauses[d].first + out->clauses[d].count,
                         (uint32_t)d) == out->clauses[d].first + out->clauses[d].count)
            d--;
        const ppl_clause *prev = &out->clauses[d];
        if (cl->subject || !prev->subject || prev->sentence != cl->sentence) continue;
        size_t v = past_lead(lx, w, n, cl->first, cl->first + cl->count, (uint32_t)c);
        if (v < cl->first + cl->count &&
            (verb_form(lx, &w[v]) || auxiliary(lx, w, n, v, (uint32_t)c) ||
             (w[cl->first].norm_id == lx->id_and && v == cl->first + 1 && act_at(lx, out, v))))
            /* "..., i was too intense, | disappears for 2 weeks": no "I" says "disappears" */
            cl->subject = prev->subject == PPL_SUBJ_USER &&
                          (v == cl->first || (v == cl->first + 1 && w[cl->first].norm_id == lx->id_and)) &&
                          third_person_verb(lx, w, n, v, cl->first + cl->count) &&
                          !has_word(w, prev->first, prev->first + prev->count, "who")
                        ? PPL_SUBJ_PARTNER : prev->subject;   /* ("i'm the one who plans, | books ...") */
    }
    quoted_speech(lx, w, n, out);

    /* render; hits are in word order, so a clause's hits are one run:
     * hit_at[c] .. hit_at[c + 1] */
    size_t *hit_at = malloc((nc + 1) * sizeof *hit_at);
    uint8_t *tallied = calloc(nc ? nc : 1, 1);    /* bit t: clause shows tally t */
    if (!hit_at || !tallied) { free(hit_at); free(tallied); goto oom; }
    for (size_t c = 0, h = 0; c <= nc; c++) {
        while (h < out->n_hits && w[out->hits[h].first].clause < c) h++;
        hit_at[c] = h;
    }
    for (size_t t = 0; t < lx->n_tallies; t++)
        tally_message(&lx->tallies[t], out, hit_at, nc, tallied, (uint8_t)(1u << t));
    /* Is the partner in the message: a clause of theirs, or a word for
     * them anywhere ("waiting for him to come back"), a pronoun included
     * unless someone else named owns it ("my friends say | i chase her"
     * is about her)?  `with ~partner_here` asks; and a message that names
     * someone else and no partner, nor a love life (~romance_cue), is
     * about that other relationship (others_only). */
    int partner_in = 0, romance = 0, other_named = 0, others_partner = 0;
    for (size_t c = 0; c < nc; c++)
        partner_in |= out->clauses[c].subject == PPL_SUBJ_PARTNER;
    for (size_t i = 0; i < n && !(partner_in && other_named); i++) {
        uint32_t pl = lx->c_partner >= 0 ? member_at(lx, w, n, i, lx->c_partner, PPL_ANY_CLAUSE) : 0;
        /* "her boyfriend", "his wife": a partner of someone else's */
        if (pl && others_possessive(lx, w, n, i, pl)) {
            pl = 0;
            others_partner = 1;
        }
        if (pl) {
            int pk = pronoun_kind(lx, w, n, i, pl, PPL_ANY_CLAUSE);
            if (!(lx->c_pronoun >= 0 && member_at(lx, w, n, i, lx->c_pronoun, PPL_ANY_CLAUSE) == pl) ||
                (pk == PPL_PRON_HE && !(referent_kinds & 5)) ||
                (pk == PPL_PRON_SHE && !(referent_kinds & 6)) ||
                (pk == PPL_PRON_THEY && !(referent_kinds & 12)))
                partner_in = 1;
        }
        if (lx->c_referent >= 0 && member_at(lx, w, n, i, lx->c_referent, PPL_ANY_CLAUSE)) other_named = 1;
        if (lx->c_romance >= 0 && member_at(lx, w, n, i, lx->c_romance, PPL_ANY_CLAUSE)) romance = 1;
    }
    out->others_only = !partner_in && !romance && other_named;
    out->others_couple = !partner_in && others_partner;
    int partner_here = partner_in && lx->c_partner_here >= 0;
    uint32_t shown[PPL_WITH_MAX];
    ppb_buf r = {0};
    size_t h0 = 0;
    for (size_t c = 0; c < nc; c++) {
        const ppl_clause *cl = &out->clauses[c];
        if (c) ppb_adds(&r, " | ");
        ppb_adds(&r, ppl_subject_mark(cl->subject));
        if (cl->question) ppb_adds(&r, " @q");
        while (h0 < out->n_hits && w[out->hits[h0].first].clause < c) h0++;
        for (size_t h = h0; h < out->n_hits && w[out->hits[h].first].clause == c; h++) {
            const ppl_hit *hi = &out->hits[h];
            if (is_mechanism(lx, hi->concept)) continue;
            size_t seen = h0;        /* shown once per clause */
            while (seen < h && !(out->hits[seen].concept == hi->concept &&
                                 out->hits[seen].negated == hi->negated)) seen++;
            if (seen < h) continue;
            ppb_adds(&r, hi->negated ? " ~not_" : " ~");
            ppb_adds(&r, lx->concept_names[hi->concept]);
        }
        for (size_t t = 0; t < lx->n_tallies; t++)
            if (tallied[c] & (1u << t)) {
                ppb_adds(&r, " ~");
                ppb_adds(&r, lx->concept_names[lx->tallies[t].concept]);
            }
        /* the concepts of the clauses around it in its sentence (up to
         * PPL_WITH_SPAN each way), as ~~name, for `with ~name`: "whenever
         * we talk about moving in | he goes quiet" */
        size_t d0 = c > PPL_WITH_SPAN ? c - PPL_WITH_SPAN : 0;
        size_t d1 = c + PPL_WITH_SPAN < nc ? c + PPL_WITH_SPAN : nc - 1;
        size_t nshown = 0;
        for (size_t d = d0; d <= d1; d++) {
            if (d == c || out->clauses[d].sentence != cl->sentence) continue;
            for (size_t h = hit_at[d]; h < hit_at[d + 1]; h++) {
                const ppl_hit *hi = &out->hits[h];
                if (hi->negated || is_mechanism(lx, hi->concept)) continue;
                size_t seen = 0;
                while (seen < nshown && shown[seen] != hi->concept) seen++;
                if (seen < nshown || nshown == PPL_WITH_MAX) continue;
                shown[nshown++] = hi->concept;
                ppb_adds(&r, " ~~");
                ppb_adds(&r, lx->concept_names[hi->concept]);
            }
        }
        if (partner_here && cl->subject != PPL_SUBJ_PARTNER) {
            ppb_adds(&r, " ~~");
            ppb_adds(&r, lx->concept_names[lx->c_partner_here]);
        }
        ppb_adds(&r, " :");
        for (size_t i = cl->first; i < cl->first + cl->count; i++) {
            ppb_adds(&r, " ");
            ppb_adds(&r, w[i].lemma);
        }
    }
    free(hit_at);
    free(tallied);
    if (!(out->rendered = ppb_take(&r))) goto oom;
    out->rendered_len = strlen(out->rendered);
    return 0;

oom_words:
    free(st.s);
    free(w);
    free(wr);
    free(norm_at);
    free(lemma_at);
    free(known_at);
oom_rw:
    free(rw);
oom:
    ppl_analysis_clear(out);
    return -1;
}

void ppl_analysis_clear(ppl_analysis *a)
{
    if (!a) return;
    free(a->text);
    free(a->words);
    free(a->clauses);
    free(a->hits);
    free(a->rendered);
    free(a->store_);
    memset(a, 0, sizeof *a);
}

int ppl_clause_has(const ppl_analysis *a, size_t c, uint32_t concept)
{
    for (size_t h = 0; h < a->n_hits; h++)
        if (a->hits[h].concept == concept && !a->hits[h].negated && a->words[a->hits[h].first].clause == c)
            return 1;
    return 0;
}

/* ---- the lexicon file -------------------------------------------------- */

/* `tally NAME: N of a, b, c` or `tally NAME unless: x, y` (head is what
 * follows "tally "); the concepts named must be defined above it. */
static int read_tally(ppl_lexicon *lx, char *head, char *rest, char *err, size_t errlen)
{
    char name[PPL_MAX_WORD], *save = NULL;
    while (*head == ' ' || *head == '\t' || *head == '~') head++;
    size_t nl = strcspn(head, " \t");
    int is_unless = strcmp(head + nl + strspn(head + nl, " \t"), "unless") == 0;
    if (!nl || nl >= sizeof name) { snprintf(err, errlen, "tally without a name"); return -1; }
    memcpy(name, head, nl);
    name[nl] = '\0';
    if (!is_unless && head[nl + strspn(head + nl, " \t")]) {
        snprintf(err, errlen, "expected 'tally NAME: N of CONCEPTS' or 'tally NAME unless: CONCEPTS'");
        return -1;
    }
    for (const char *q = name; *q; q++)
        if (!islower((unsigned char)*q) && !isdigit((unsigned char)*q) && *q != '_') {
            snprintf(err, errlen, "bad tally name '%.60s' (use a-z, 0-9, _)", name);
            return -1;
        }
    long k = ppl_concept_find(lx, name);
    size_t t = 0;
    while (t < lx->n_tallies && lx->tallies[t].concept != k) t++;
    if (k >= 0 && t == lx->n_tallies) {
        snprintf(err, errlen, "tally %.60s: a concept of that name exists already", name);
        return -1;
    }
    char *p = rest;
    unsigned long need = 0;
    if (!is_unless) {
        char *end;
        need = strtoul(p, &end, 10);
        while (*end == ' ' || *end == '\t') end++;
        if (end == p || need < 1 || need > PPL_TALLY_MAX || strncmp(end, "of", 2) || (end[2] != ' ' && end[2] != '\t')) {
            snprintf(err, errlen, "tally %.60s: expected 'N of CONCEPTS' after the colon", name);
            return -1;
        }
        p = end + 3;
    }
    if (t == lx->n_tallies) {
        if (is_unless) { snprintf(err, errlen, "tally %.60s: 'unless' before the tally's own line", name); return -1; }
        if (t == PPL_TALLIES) { snprintf(err, errlen, "more than %d tallies", PPL_TALLIES); return -1; }
        if ((k = concept_index(lx, name, 1)) < 0) { snprintf(err, errlen, "out of memory"); return -1; }
        lx->tallies[t] = (tally){ .concept = k, .need = (uint32_t)need };
        lx->n_tallies++;
    } else if (!is_unless && need != lx->tallies[t].need) {
        snprintf(err, errlen, "tally %.60s: counted to %u above, not %lu", name, lx->tallies[t].need, need);
        return -1;
    }
    tally *ty = &lx->tallies[t];
    int n = 0;
    for (char *m = strtok_r(p, ", \t", &save); m; m = strtok_r(NULL, ", \t", &save)) {
        while (*m == '~') m++;
        long c = ppl_concept_find(lx, m);
        if (c < 0 || c == ty->concept) {
            snprintf(err, errlen, "tally %.60s: unknown concept ~%.60s (define it above the tally)", name, m);
            return -1;
        }
        uint32_t *arr = is_unless ? ty->unless : ty->of, *cnt = is_unless ? &ty->n_unless : &ty->n_of;
        if (*cnt == PPL_TALLY_MAX) {
            snprintf(err, errlen, "tally %.60s: more than %d concepts", name, PPL_TALLY_MAX);
            return -1;
        }
        arr[(*cnt)++] = (uint32_t)c;
        n++;
    }
    if (!n) { snprintf(err, errlen, "tally %.60s: no concepts", name); return -1; }
    if (ty->n_of < ty->need) {
        snprintf(err, errlen, "tally %.60s: counts to %u of only %u concepts", name, ty->need, ty->n_of);
        return -1;
    }
    return 0;
}

/* One line of a .lexicon file; 0 ok, else a message in err. */
static int read_line(ppl_lexicon *lx, char *line, char *err, size_t errlen)
{
    char *colon = strchr(line, ':');
    if (!colon) { snprintf(err, errlen, "expected 'concept NAME: ...', 'substitute WORD: ...' or 'words: ...'"); return -1; }
    *colon = '\0';
    char *head = line, *rest = colon + 1;
    while (*head == ' ' || *head == '\t') head++;
    char *end = head + strlen(head);
    while (end > head && (end[-1] == ' ' || end[-1] == '\t')) *--end = '\0';
    char *save = NULL;
    if (strncmp(head, "concept", 7) == 0 && (head[7] == ' ' || head[7] == '\t')) {
        char *name = head + 8;
        while (*name == ' ' || *name == '\t' || *name == '~') name++;
        if (!*name) { snprintf(err, errlen, "concept without a name"); return -1; }
        for (char *p = name; *p; p++)
            if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '_') {
                snprintf(err, errlen, "bad concept name '%.60s' (use a-z, 0-9, _)", name);
                return -1;
            }
        long k = ppl_concept_find(lx, name);
        for (size_t t = 0; k >= 0 && t < lx->n_tallies; t++)
            if (lx->tallies[t].concept == k) {
                snprintf(err, errlen, "%.60s is a tally: it has no members of its own", name);
                return -1;
            }
        int n = 0;
        for (char *m = strtok_r(rest, ",", &save); m; m = strtok_r(NULL, ",", &save)) {
            while (*m == ' ' || *m == '\t') m++;
            if (!*m) continue;
            if (ppl_concept_add(lx, name, m)) {
                snprintf(err, errlen, "concept %.60s: member '%.60s' has no words or is longer than %d words",
                         name, m, PPL_MAX_MEMBER);
                return -1;
            }
            n++;
        }
        if (!n) { snprintf(err, errlen, "concept %.60s has no members", name); return -1; }
        return 0;
    }
    if (strncmp(head, "substitute", 10) == 0 && (head[10] == ' ' || head[10] == '\t')) {
        char *from = head + 11;
        while (*from == ' ' || *from == '\t') from++;
        while (*rest == ' ' || *rest == '\t') rest++;
        char *e = rest + strlen(rest);
        while (e > rest && (e[-1] == ' ' || e[-1] == '\t')) *--e = '\0';
        if (!*from || !*rest) { snprintf(err, errlen, "substitute needs a word and what it stands for"); return -1; }
        return ppl_subst_add(lx, from, rest) ? (snprintf(err, errlen, "out of memory"), -1) : 0;
    }
    if (strncmp(head, "tally", 5) == 0 && (head[5] == ' ' || head[5] == '\t'))
        return read_tally(lx, head + 6, rest, err, errlen);
    if (strcmp(head, "words") == 0) {
        for (char *m = strtok_r(rest, ", \t", &save); m; m = strtok_r(NULL, ", \t", &save))
            if (ppl_vocab_add(lx, m)) { snprintf(err, errlen, "out of memory"); return -1; }
        return 0;
    }
    snprintf(err, errlen, "unknown entry '%.60s'", head);
    return -1;
}

int ppl_lexicon_parse(ppl_lexicon *lx, const char *file, const char *text,
                      ppl_error_fn on_error, void *ctx)
{
    int lineno = 0, errors = 0;
    const char *cur = text;
    if ((unsigned char)cur[0] == 0xEF && (unsigned char)cur[1] == 0xBB && (unsigned char)cur[2] == 0xBF)
        cur += 3;
    while (*cur) {
        const char *nl = strchr(cur, '\n');
        size_t n = nl ? (size_t)(nl - cur) : strlen(cur);
        lineno++;
        char line[8192];
        if (n >= sizeof line) {
            if (on_error) on_error(ctx, file, lineno, "line too long");
            errors++;
        } else {
            memcpy(line, cur, n);
            line[n] = '\0';
            while (n && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t')) line[--n] = '\0';
            char *p = line;
            while (*p == ' ' || *p == '\t') p++;
            char err[256];
            if (*p && *p != '#' && read_line(lx, p, err, sizeof err)) {
                if (on_error) on_error(ctx, file, lineno, err);
                errors++;
            }
        }
        cur = nl ? nl + 1 : cur + n;
    }
    return errors;
}

/* ---- clause patterns --------------------------------------------------- */

static const struct { const char *word, *mark; } subjects[] = {
    {"user", "@u"}, {"partner", "@p"}, {"both", "@w"}, {"other", "@o"},
    {"nobody", "@x"}, {"someone", "@[upwo]"}, {"anyone", "@[upwox]"}, {NULL, NULL}
};

#if defined(__GNUC__)
__attribute__((format(printf, 5, 6)))
#endif
static int clause_error(int *col, int at, char *err, size_t errlen, const char *fmt, ...);

static int clause_error(int *col, int at, char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    if (col) *col = at + 1;
    return -1;
}

typedef struct patbuf { char *s; size_t len, cap; } patbuf;

static int pat_add(patbuf *b, const char *s)
{
    size_t n = strlen(s);
    if (b->len + n + 1 > b->cap) return -1;
    memcpy(b->s + b->len, s, n + 1);
    b->len += n;
    return 0;
}

int ppl_clause_pattern(const ppl_lexicon *lx, const char *expr, char *out, size_t size,
                       int *col, char *err, size_t errlen)
{
    patbuf b = { out, 0, size };
    const char *p = expr;
    out[0] = '\0';
    while (*p == ' ' || *p == '\t') p++;
    const char *w = p;
    while (*p && *p != ' ' && *p != '\t') p++;
    int k;
    for (k = 0; subjects[k].word; k++)
        if ((size_t)(p - w) == strlen(subjects[k].word) && strncmp(w, subjects[k].word, (size_t)(p - w)) == 0) break;
    if (!subjects[k].word)
        return clause_error(col, (int)(w - expr), err, errlen,
                            "a clause starts with who does it: user, partner, both, other, someone, anyone or nobody");
    if (pat_add(&b, "(?:^|\\| )") || pat_add(&b, subjects[k].mark)) goto full;
    int items = 0;
    while (*p) {
        while (*p == ' ' || *p == '\t') p++;
        if (!*p) break;
        const char *at = p;
        char frag[PPL_MAX_WORD * PPL_MAX_MEMBER + 64];
        if (*p == '"') {
            const char *q = strchr(p + 1, '"');
            if (!q) return clause_error(col, (int)(at - expr), err, errlen, "a quoted phrase has no closing \"");
            raw_word rw[PPL_MAX_MEMBER + 1];
            size_t nw = split_words(p + 1, (size_t)(q - p - 1), rw, PPL_MAX_MEMBER + 1);
            if (!nw || nw > PPL_MAX_MEMBER)
                return clause_error(col, (int)(at - expr), err, errlen, "a quoted phrase needs 1 to %d words", PPL_MAX_MEMBER);
            size_t o = (size_t)snprintf(frag, sizeof frag, "(?=[^|]* :[^|]*");
            for (size_t i = 0; i < nw; i++) {
                char exp[PPL_MAX_WORD * 4], *save = NULL;
                expand_word(lx, p + 1 + rw[i].off, rw[i].len, NULL, NULL, exp, sizeof exp);
                for (char *t = strtok_r(exp, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
                    char lb[PPL_MAX_WORD * 2];
                    ppl_lemma(lx, t, lb, sizeof lb);
                    o += (size_t)snprintf(frag + o, sizeof frag - o, " %s", lb);
                    if (o >= sizeof frag) goto full;
                }
            }
            snprintf(frag + o, sizeof frag - o, "(?![^ |]))");
            p = q + 1;
        } else if (!strcmp(p, "asks") || !strncmp(p, "asks ", 5)) {
            snprintf(frag, sizeof frag, "(?= @q)");
            p += 4;
        } else if (!strcmp(p, "says") || !strncmp(p, "says ", 5)) {
            snprintf(frag, sizeof frag, "(?! @q)");
            p += 4;
        } else {
            int mode = 0;           /* 0 present, 1 present negated, 2 absent */
            if (!strncmp(p, "not ", 4)) { mode = 1; p += 4; }
            else if (!strncmp(p, "no ", 3)) { mode = 2; p += 3; }
            else if (!strncmp(p, "with ", 5)) { mode = 3; p += 5; }
            else if (!strncmp(p, "without ", 8)) { mode = 4; p += 8; }
            while (*p == ' ') p++;
            const char *name_at = p;
            if (*p != '~')
                return clause_error(col, (int)(at - expr), err, errlen,
                                    "expected ~concept, not ~concept, no ~concept, with ~concept, without ~concept, \"words\", asks or says");
            p++;
            const char *name = p;
            while (*p && (islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_')) p++;
            char nm[PPL_MAX_WORD];
            snprintf(nm, sizeof nm, "%.*s", (int)(p - name), name);
            if (!nm[0] || ppl_concept_find(lx, nm) < 0)
                return clause_error(col, (int)(name_at - expr), err, errlen, "unknown concept ~%.60s", nm);
            if (mode == 0) snprintf(frag, sizeof frag, "(?=[^|:]* ~%s(?![\\w]))", nm);
            else if (mode == 1) snprintf(frag, sizeof frag, "(?=[^|:]* ~not_%s(?![\\w]))", nm);
            else if (mode == 3) snprintf(frag, sizeof frag, "(?=[^|:]* ~~?%s(?![\\w]))", nm);
            else if (mode == 4) snprintf(frag, sizeof frag, "(?![^|:]* ~~?(?:not_)?%s(?![\\w]))", nm);
            else snprintf(frag, sizeof frag, "(?![^|:]* ~(?:not_)?%s(?![\\w]))", nm);
        }
        if (*p && *p != ' ' && *p != '\t')
            return clause_error(col, (int)(p - expr), err, errlen, "unexpected '%c'", *p);
        if (pat_add(&b, frag)) goto full;
        items++;
    }
    if (!items)
        return clause_error(col, (int)(p - expr), err, errlen, "a clause needs at least one ~concept or \"words\" after who");
    if (pat_add(&b, "[^|]*")) goto full;
    return 0;
full:
    return clause_error(col, 0, err, errlen, "clause pattern too long");
}
