/* lang.h -- the language layer: what a message says, word by word and
 * clause by clause, before any pattern runs.
 *
 * The layer sits between normalising and matching (ChatScript's order):
 *
 *   text -> fold (NFKC, format characters dropped) -> words -> substitutes
 *        -> spelling -> lemmas -> concepts -> sentences and clauses
 *        -> a rendered line per clause that rules are compiled against
 *
 * A ppl_lexicon is built once, with the rule set, and is read-only after
 * that; it may be shared by every thread (the two libraries it calls that
 * keep state of their own, hunspell and the Snowball stemmer, sit behind
 * one mutex, and are called only for words the lexicon's caches miss).
 * A ppl_analysis belongs to one reply.
 *
 * Internal to the engine: names are ppl_ (the language module), as Lua's
 * internal modules are luaX_, luaH_.
 */
#ifndef PP_LANG_H
#define PP_LANG_H

#include <stddef.h>
#include <stdint.h>

typedef struct ppl_lexicon ppl_lexicon;

/* Who a clause is about: its grammatical subject as far as the layer can
 * tell without a parser (the first person word in subject position). */
typedef enum ppl_subject {
    PPL_SUBJ_NONE = 0,   /* no person found ("it's hard") */
    PPL_SUBJ_USER,       /* I, I'm, me and my ... */
    PPL_SUBJ_PARTNER,    /* he, she, they, my wife, a name */
    PPL_SUBJ_BOTH,       /* we, my husband and I, the two of us */
    PPL_SUBJ_OTHER       /* my mom, my friends, everyone, you */
} ppl_subject;

#define PPL_WORD_CORRECTED 0x01   /* spelling was changed */
#define PPL_WORD_NAME      0x02   /* capitalised mid-sentence, not a dictionary word */
#define PPL_WORD_NEGATED   0x04   /* a negation comes before it in its clause */
#define PPL_WORD_NEGATOR   0x08   /* not, never, don't ... */
#define PPL_WORD_FILLER    0x10   /* so, really, totally: may stand inside a phrase */
#define PPL_WORD_QUOTED    0x20   /* inside double quotes */
#define PPL_WORD_QUOTE_OPEN 0x40  /* the first word after an opening quote */
#define PPL_WORD_SPOKEN    0x80   /* quoted words someone else says ("he said \"...\"") */

typedef struct ppl_word {
    uint32_t off, len;        /* the word as typed: text[off .. off+len) */
    const char *norm;         /* lowercase, substituted, spelling corrected */
    const char *lemma;        /* the stem of the base form ("went" -> "go") */
    const void *members;      /* the lexicon's members that start with lemma */
    const void *mech_members; /* ... of its mechanism concepts only */
    uint32_t norm_id, lemma_id;   /* as words of the lexicon; 0: no member uses it */
    uint16_t clause;
    uint8_t flags;
} ppl_word;

typedef struct ppl_clause {
    uint32_t first, count;    /* its words */
    uint16_t sentence;
    ppl_subject subject;
    uint8_t negated;          /* some word of it is a negator */
    uint8_t question;         /* its sentence asks */
} ppl_clause;

/* A concept found in the text: words [first, first+count) are a member. */
typedef struct ppl_hit {
    uint32_t concept;         /* ppl_concept_name() gives its name */
    uint32_t first, count;
    uint8_t negated;
} ppl_hit;

typedef struct ppl_analysis {
    char *text;               /* the folded text the offsets point into */
    size_t text_len;
    ppl_word *words;
    size_t n_words;
    ppl_clause *clauses;
    size_t n_clauses;
    ppl_hit *hits;
    size_t n_hits;
    size_t n_sentences;
    /* No partner in the message (no partner word, no clause of theirs, no
     * pronoun the one named cannot own, no word of a love life) but
     * someone else by name of kin or role ("my mother", "my roommate"):
     * a message about another relationship. */
    uint8_t others_only;
    /* Someone else's partner is named ("her boyfriend", "his wife") and
     * the user's is not: a message about another couple. */
    uint8_t others_couple;
    /* One line per clause, clauses joined by " | ":
     *   "@p ~withdraw ~not_close : he pull away whenev we get close"
     * subject mark (@u @p @w @o @x), @q when it asks, the concepts found
     * (negated ones as ~not_NAME), then the lemmas. */
    char *rendered;
    size_t rendered_len;
    char *store_;             /* strings of norm and lemma */
} ppl_analysis;

/* Build an empty lexicon.  dict_dir holds hunspell's en_US.aff/.dic
 * (NULL: /usr/share/hunspell); wordnet_dir holds WordNet's verb.exc and
 * noun.exc (NULL: /usr/share/wordnet).  Missing dictionaries are not an
 * error (spelling or irregular lemmas are then off, and ppl_status says
 * so); NULL only when out of memory. */
ppl_lexicon *ppl_lexicon_new(const char *dict_dir, const char *wordnet_dir);
void ppl_lexicon_free(ppl_lexicon *lx);
/* "spelling: hunspell en_US, irregular forms: 4455" and the like. */
const char *ppl_status(const ppl_lexicon *lx);

/* Content, added while loading (not thread-safe until loading is done). */
/* A word the rules use: misspellings are corrected toward these. */
int ppl_vocab_add(ppl_lexicon *lx, const char *word);
/* A substitute: "bf" -> "boyfriend", "rn" -> "right now" (whole words). */
int ppl_subst_add(ppl_lexicon *lx, const char *from, const char *to);
/* A member of a named concept: a word or phrase in any inflection
 * ("pull away", "go quiet").  Returns 0, or -1 when the phrase has no
 * words or memory ran out. */
int ppl_concept_add(ppl_lexicon *lx, const char *concept, const char *phrase);
/* Read the text of a .lexicon file (named file, for messages): lines
 * `concept NAME: member, member, ...`, `substitute WORD: what it stands
 * for`, `words: w, w, ...`, # comments; a BOM at the start is skipped.
 * Each bad line is reported through on_error (file, line, message) and
 * skipped; returns the number of errors (0 = all read).  The rule loader
 * reads the file (regular files only, bounded) and hands the text here. */
typedef void (*ppl_error_fn)(void *ctx, const char *file, int line, const char *msg);
int ppl_lexicon_parse(ppl_lexicon *lx, const char *file, const char *text,
                      ppl_error_fn on_error, void *ctx);
/* Freeze: builds the correction index.  Call once, after the adds. */
int ppl_lexicon_seal(ppl_lexicon *lx);

/* The Damerau-Levenshtein distance of a and b (words of at most 64 bytes),
 * or cap + 1 once it is sure to pass cap. */
int ppl_edit_distance(const char *a, const char *b, int cap);

long ppl_concept_find(const ppl_lexicon *lx, const char *name);   /* -1 none */
const char *ppl_concept_name(const ppl_lexicon *lx, uint32_t concept);
size_t ppl_concept_count(const ppl_lexicon *lx);

/* Fold text for matching: Unicode compatibility forms (NFKC: full-width
 * and mathematical letters become plain ones) and every format character
 * (category Cf: direction marks, zero-width joiners) dropped.  Input must
 * be valid UTF-8 (pp_input_normalize's output).  malloc'd, NULL on error. */
char *ppl_fold(const char *text, size_t len, size_t *out_len);

/* The lemma of one word, as the analysis would give it ("pulled" ->
 * "pull").  Writes at most size bytes; returns buf. */
const char *ppl_lemma(const ppl_lexicon *lx, const char *word, char *buf, size_t size);

/* Is w (lowercase) an English word: a word the data uses or one hunspell
 * knows?  1 yes, 0 no, -1 when there is no dictionary to ask. */
int ppl_is_word(const ppl_lexicon *lx, const char *w);

/* Analyse one message (valid UTF-8).  0, or -1 when out of memory. */
int ppl_analyse(const ppl_lexicon *lx, const char *text, size_t len, ppl_analysis *out);
void ppl_analysis_clear(ppl_analysis *a);

/* Does clause c hold concept k (not negated)?  1 yes. */
int ppl_clause_has(const ppl_analysis *a, size_t c, uint32_t concept);

const char *ppl_subject_mark(ppl_subject s);   /* "@u", "@p", ... */

/* Compile a rule's `clause:` line to a PCRE2 pattern over the rendered
 * text.  The line says who, then what:
 *     partner ~withdraw            a clause about the partner with the act
 *     user not ~space asks         ... negated, in a question
 *     someone "silent treatment"   anyone, these words (any inflection)
 *     partner ~withdraw no ~work   ... and nothing of ~work in that clause
 *     user ~fear with ~serious     ... and ~serious in its sentence (nearby)
 *     anyone ~farewell without ~plans   ... and no ~plans in clause or sentence
 * who: user, partner, both, other, someone (any person), anyone, nobody.
 * 0 and the pattern in out, or -1 with a message in err and the 1-based
 * column of the fault in *col. */
int ppl_clause_pattern(const ppl_lexicon *lx, const char *expr, char *out, size_t size,
                       int *col, char *err, size_t errlen);

#endif
