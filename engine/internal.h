/* internal.h -- the engine's private structures, shared by its modules.
 *
 * A pp_ruleset owns every compiled pattern, rule, response set and word
 * class.  Patterns are numbered in *evaluation order*: crisis rules first,
 * then the rest by falling priority, then file order.  The matcher walks the
 * candidate patterns the index gives it in that order, so the first crisis
 * hit wins outright and, for the rest, it can stop as soon as priority
 * drops below the best match found.
 */
#ifndef PP_INTERNAL_H
#define PP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>
#include <pthread.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "pushpull.h"
#include "index.h"
#include "lang.h"
#include "buf.h"

#define PP_ID_MAX 64          /* longest rule, set or framework id */
#define PP_MAX_TAGS 32        /* suggestion tags of one rule set */
#define PP_TAG_MAX 20         /* longest tag, with its NUL */
#define PP_MAX_FACTS 8        /* fact kinds of one rule set */
#define PP_FACT_MAX 100       /* longest fact kept, with its NUL */
#define PP_COMPLAINT_MAX 240  /* longest complaint kept for a draft, with its NUL */

/* One kind of fact a message can tell (the word class fact_KIND of the
 * rules, e.g. fact_together): its capture `fact` (or the whole match),
 * reflected, is what the session keeps. */
typedef struct ppr_fact_kind {
    char name[PP_TAG_MAX];    /* KIND */
    pcre2_code *code;
} ppr_fact_kind;

typedef struct ppr_variant {
    char *text;
    unsigned roles;           /* bit (1 << pp_role); 0 = any role */
    int line;
    uint32_t asks;            /* bit i: asks the user for rs->tags[i] ("space") */
} ppr_variant;

/* The matcher's loop reads only ppr_pattern, never the (larger, colder)
 * ppr_rule, until a pattern has matched: so what it decides on -- priority,
 * crisis, whether `after:` applies -- is copied here at load. */
typedef struct ppr_pattern {
    pcre2_code *code;
    int rule;                 /* index into rs->rules */
    int set;                  /* the rule's response set, -1 = none */
    int priority;             /* the rule's */
    unsigned char crisis;     /* the rule's role is crisis */
    unsigned char has_after;  /* the rule has `after:` conditions */
    unsigned char on_clauses; /* a `clause:` line: runs on the language
                                 layer's rendering, not on the text */
    int partner_group;        /* its one group named `partner`, 0 = none */
    int line;
    char *src;                /* with word classes expanded */
    pcre2_code *not_after;    /* `not_after:` lines of this match, or NULL */
    const ppr_variant *variants;   /* the set's, so a match can ask for them early */
} ppr_pattern;

/* A rule is four whole cache lines and the rule array starts on a line
 * (rules.c aligns it once loaded): a reply reads line 0 (the id) and line 1
 * (what it decides with) and nothing else of the rule. */
typedef struct ppr_rule {
    char id[PP_ID_MAX];       /* line 0: the session copies it, /why shows it */
    const char *shown_file;   /* line 1: file as rules/x.rules, for /why */
    int line;
    pp_role role;
    const char *framework;    /* a catalogue entry's id (rs->frameworks):
                                 shared, so a reply reads a line that is warm */
    int set;                  /* index into rs->sets */
    int priority;
    int flag_abuse;
    int order;                /* position in evaluation order */
    pcre2_code **unless;
    size_t n_unless;
    size_t n_after;
    uint32_t *after_hash;     /* line 2 on: ppr_set_hash() of each after id,
                                 so a turn compares a number before a string */
    char **after;             /* set or framework ids; n_after == 0: always */
    const char *file;         /* rs->paths */
    char *reply_set;          /* never NULL after load */
    char **examples, **counter;
    int *example_lines, *counter_lines;
    size_t n_examples, n_counter;
    size_t n_patterns;
    uint32_t avoid;           /* `avoid:` tags (bits of rs->tags) the user
                                 cannot or already tried: never offered again */
    char act[31];             /* `act:` the dialogue act ("ask.how-long"); "" = by role */
    unsigned char avoid_last; /* `avoid: last`: also what the last reply asked */
} ppr_rule;
_Static_assert(sizeof(ppr_rule) % 64 == 0, "ppr_rule: adjust pad_ to whole cache lines");
_Static_assert(offsetof(ppr_rule, n_after) + sizeof(size_t) <= 128, "ppr_rule: the reply fields must fit line 1");

/* Three whole cache lines, the array aligned like the rules': a reply reads
 * line 0 (what it picks with) and line 1 (the id it records). */
typedef struct ppr_set {
    uint32_t hash;            /* of id: sessions find their entry by it */
    ppr_variant *variants;
    size_t n_variants;
    char *article;
    uint64_t fit[PP_ROLE_CRISIS + 1];   /* per pp_role: the first 64 variants that fit */
    char id[PP_ID_MAX];       /* line 1: the session copies it */
    const char *file;         /* rs->paths */
    int line;
    char pad_[52];            /* to a whole number of cache lines */
} ppr_set;
_Static_assert(sizeof(ppr_set) % 64 == 0, "ppr_set: adjust pad_ to whole cache lines");
_Static_assert(offsetof(ppr_set, id) == 64, "ppr_set: the reply fields must fill line 0");

/* The reframe word lists (the responses' .words files, docs/rules.md), parsed and
 * compiled by the loader (rules.c), read by pp_reframe() (reframe.c).
 * A pattern keeps its source until it is compiled. */
typedef struct ppf_pattern {
    char *src;
    int line;
    const char *file;         /* rs->paths */
    pcre2_code *code;
} ppf_pattern;

typedef struct ppf_horseman {
    unsigned horseman;        /* PP_HORSEMAN_* bit */
    int case_sensitive;       /* compiled with (?-i) in front */
    ppf_pattern re;
} ppf_horseman;

/* Phrases may use {obj} (the object phrase), {s} ("s" for a singular
 * object), {is} (is/are) and {was} (was/were). */
typedef struct ppf_topic {
    char id[PP_ID_MAX];
    ppf_pattern re;    /* may capture (?<obj>...) */
    char *default_obj;        /* the phrase when nothing known was captured */
    int default_plural;
    char *feeling, *sit_now, *sit_past, *need, *request, *label;
} ppf_topic;

typedef struct ppf_object {
    char *word;               /* lowercase, as captured (single spaces) */
    char *phrase;
    int plural;
} ppf_object;

/* A `words NAME: a, b c, ...` list: phrases compared word by word with
 * the language layer's words (reframe.c says what each name is for). */
typedef struct ppf_list {
    char name[PP_ID_MAX];
    char **phrases;           /* lowercase, single spaces */
    size_t n_phrases, cap;
} ppf_list;

typedef struct ppf_words {
    ppf_list *lists;
    size_t n_lists, lists_cap;
    ppf_horseman *horsemen;
    size_t n_horsemen, horsemen_cap;
    ppf_topic *topics;
    size_t n_topics, topics_cap;
    ppf_object *objects;
    size_t n_objects, objects_cap;
    ppf_pattern past, istatement, request;
    char *note_horseman[4], *note_gentle, *note_template, *note_neutral, *note_source;
    char *note_feeling;       /* the feeling was not said: name your own */
    char *template_text;      /* the fill-in-the-blanks rewrite */
} ppf_words;

/* One entry of the framework catalogue (the .catalog files), in file order.
 * Rules point to its id: one shared copy, so a reply reads a warm line. */
typedef struct ppr_framework {
    char id[PP_ID_MAX];
    char *article;            /* the source article's title, or NULL */
    char *source;             /* where in the seed articles, or NULL */
    unsigned roles;           /* bit (1 << pp_role): offered to, for the reader */
    int locked;               /* locked-after-abuse: yes */
    const char *file;         /* rs->paths */
    int line;
} ppr_framework;

/* A program (programs/NAME.program, program.c): steps over program days. */
enum { PP_ANSWER_DID, PP_ANSWER_PARTLY, PP_ANSWER_DIDNT, PP_ANSWER_BADLY, PP_ANSWER_KINDS };
enum { PP_CHECKIN_NONE, PP_CHECKIN_DAILY, PP_CHECKIN_WEEKLY };
typedef struct ppp_step {
    int first, last;          /* program days, 1-based, inclusive */
    int checkin;              /* PP_CHECKIN_*: which of its days ask the 1-10 question */
    char *todo;               /* what to do */
    char *ask;                /* how the coach asks how it went */
    char *reply[PP_ANSWER_KINDS];   /* what it says to each kind of answer */
    int line;
} ppp_step;

typedef struct ppp_program {
    char id[PP_ID_MAX];
    char *title, *summary, *article;
    char framework[PP_ID_MAX];
    int offer_after;          /* offered once the framework came up this often; 0 = never */
    ppp_step *steps;   /* by first day, not overlapping */
    size_t n_steps, steps_cap;
    int days;                 /* the last step's last day */
    const char *file;         /* rs->paths */
    int line;
} ppp_program;

/* How a user says how a step went (the `answer KIND:` lines): phrases,
 * lowercase, matched as whole words. */
typedef struct ppp_answer_words {
    char **phrases;
    size_t n;
} ppp_answer_words;

typedef struct ppr_define {
    char *name, *value;
    const char *file;         /* rs->paths */
    int line;
} ppr_define;

struct pp_ruleset {
    ppr_rule *rules;           /* in file order */
    size_t n_rules;
    ppr_pattern *patterns;     /* in evaluation order */
    size_t n_patterns;
    ppr_set *sets;             /* sorted by id */
    size_t n_sets;
    char *variant_arena;      /* every set's variants and texts (rules.c
                                 pack_variants); NULL: each set owns its own */
    ppr_define *defines;
    size_t n_defines;
    ppr_framework *frameworks; /* the catalogue, in file order */
    size_t n_frameworks;
    ppf_words *reframe;/* the *.words files; NULL = none */
    ppp_program *programs;     /* the *.program files that loaded, by id */
    size_t n_programs;
    ppp_answer_words answers[PP_ANSWER_KINDS];
    char **paths;             /* each file read, once: what ->file points to */
    size_t n_paths;
    pcre2_code *partner_re;   /* the `partner` word class, if defined */
    char tags[PP_MAX_TAGS][PP_TAG_MAX];   /* what suggestions ask of the user
                                 (a variant's `asks:`, a rule's `avoid:`) */
    size_t n_tags;
    ppr_fact_kind facts[PP_MAX_FACTS];     /* the `fact_*` word classes */
    size_t n_facts;
    pcre2_code *pronoun_told[3];  /* `told_he`, `told_she`, `told_they`:
                                 the user says which pronoun the partner uses */
    pcre2_code *pronoun_re[4];/* anchored: he, she, they, name */
    pcre2_match_context *mctx;/* match and depth limits; read-only */
    ppx_index *index;
    ppl_lexicon *lexicon;     /* the language layer: the *.lexicon files */
    size_t n_clause_patterns; /* 0: no message needs the layer */
    char *resources;          /* lines for the chosen region */
    char *disclaimer;
    int set_fallback, set_topics, set_support;   /* sets the turn may need; -1 = none */
    uint32_t max_pairs;       /* largest ovector any pattern needs */
    pthread_mutex_t work_mu;  /* guards spare */
    struct ppm_work *spare;    /* working memory not in use (match.c) */
};

/* Session: see session.c for the meaning of every field. */
#define PP_SESSION_SETS 48
typedef struct ppm_used {
    char set[PP_ID_MAX];
    uint32_t hash;            /* ppr_set_hash(set) */
    uint64_t mask;            /* variants used since the set last wrapped */
    int last;                 /* the variant used last (never twice in a row) */
} ppm_used;

enum { PP_PRONOUN_UNKNOWN = 0, PP_PRONOUN_HE, PP_PRONOUN_SHE, PP_PRONOUN_THEY };
/* What a session was told (pp_session.disclosure): the latest crisis. */
enum { PP_DISCLOSED_NONE = 0, PP_DISCLOSED_SELFHARM, PP_DISCLOSED_ABUSE, PP_DISCLOSED_OTHER };

/* Working memory for one reply, sized for one rule set, which keeps the
 * ones not in use: a reply borrows one (ppm_work_take) and gives it back.
 * No conversation owns it, so a session is only what the conversation
 * holds. */
typedef struct ppm_work {
    struct ppm_work *next;     /* on the set's spare list */
    ppx_scratch *index;
    pcre2_match_data *md;     /* the winning pattern's captures */
    pcre2_match_data *trial;  /* a candidate's; swapped with md when it wins */
    pcre2_match_data *aux;    /* exclusions, then partner words */
    uint32_t *cand;           /* room for every pattern of the set */
    ppl_analysis analysis;    /* the last message's words and clauses */
    char *joined;             /* text, a line break, the clauses: what the
                                 index looks up when clause patterns exist */
    size_t joined_cap;
    pcre2_match_context *mctx;/* a copy of the set's, whose match limit a
                                 message lowers as its step budget drains */
} ppm_work;

/* What the last reply decided, for /why (reply.c keeps it, ppy_why_render
 * says it): ids, so it reads the same after a restart, and the words that
 * matched, which the store drops unless transcripts are kept. */
typedef struct ppm_decision {
    int made;                    /* 0: no reply yet */
    char rule[PP_ID_MAX];        /* the winner; "" = no rule matched */
    char beat[3][PP_ID_MAX];     /* rules it was chosen over */
    char spent_by[3][PP_ID_MAX]; /* the step budget ran out on these */
    char set[PP_ID_MAX];         /* what it answered from */
    int evidence[2];             /* reaching, stepping back (match.c) */
    int mixed, locked, limit_hit, budget_spent;
    char quote[128];             /* the user's words the winner matched */
    char act[32];                /* the dialogue act recognised (pp_reply.act) */
} ppm_decision;

/* A fact the user told (pp_session.facts): the kind's name and the
 * user's words, reflected ("you've been together three years"). */
typedef struct pps_fact {
    char kind[PP_TAG_MAX];
    char text[PP_FACT_MAX];
    unsigned turn;            /* the session's turn it was told at */
} pps_fact;
#define PP_SESSION_AVOID 8
#define PP_SESSION_FACTS 8

/* Where the user is in a program, and what the coach asked last
 * (program.c); days are the user's calendar days (see pushpull.h). */
enum { PP_PENDING_NONE, PP_PENDING_SCORE, PP_PENDING_NOTE, PP_PENDING_STEP };
#define PP_PLAN_OFFERS 8
typedef struct ppp_state {
    char program[PP_ID_MAX];  /* "" = none running */
    long long started;        /* the day it started */
    long long paused_on;      /* the day it was paused; meaningful when paused */
    int paused;
    long long paused_days;    /* days spent paused before, not counted */
    long long seen_day;       /* the last day the coach spoke first of it */
    long long checkin_day;    /* the last day a score was kept (-1: never) */
    int pending;              /* PP_PENDING_*: what the next line may answer */
    int asked_day;            /* PENDING_STEP: the program day asked about */
    long long note_at;        /* PENDING_NOTE: the check-in row's time */
    struct { char program[PP_ID_MAX]; unsigned count, offered; } offers[PP_PLAN_OFFERS];
} ppp_state;

struct pp_session {
    pp_role role;
    char framework[PP_ID_MAX];
    char set[PP_ID_MAX];
    char rule[PP_ID_MAX];
    char partner[64];         /* "your wife", "Sam"; "" = unknown */
    int pronoun;
    unsigned turns, misses, step;
    int safety_lock;
    int disclosure;           /* PP_DISCLOSED_*: the kind of the last crisis told */
    int resources_shown;      /* the whole list of crisis lines has been shown */
    int disclaimed;
    ppm_decision why;
    ppm_used used[PP_SESSION_SETS];
    size_t n_used;
    size_t used_oldest;       /* once the table is full: the entry to forget next */
    uint64_t store_rev;       /* the store row this session was read from or
                                 last written as ("rev"; 0 = none) */
    unsigned store_turns;     /* that row's turn counter */
    uint32_t store_key;       /* ppr_set_hash() of that row's key (0 = none):
                                 a row gone under this key was forgotten */
    char avoid[PP_SESSION_AVOID][PP_TAG_MAX];   /* tags never to suggest again */
    pps_fact facts[PP_SESSION_FACTS];            /* kind "" = empty slot */
    unsigned recalled;        /* bit i: facts[i] was recalled in a reply */
    int pronoun_told;         /* the user named the pronoun: a bare "she" later
                                 does not undo it */
    /* What the coach drafts a gentle start-up from ("how do I tell her?",
     * reframe.c): the last message that named what the partner does, and
     * the last feeling the user named ("lonely").  The store keeps the
     * complaint only with transcripts on. */
    char complaint[PP_COMPLAINT_MAX];
    char feeling[PP_TAG_MAX];
    pp_role complaint_role;   /* the role the complaint was told in: after a
                                 correction ("I'm the one who pulls away")
                                 it is no longer drafted from */
    ppp_state plan;       /* programs and check-ins: kept by /reset and
                                 /new, cleared by /forget */
};
#define PP_SESSION_MAX_REV ((1LL << 53) - 1)   /* a rev stays exact in any JSON reader */
/* Fold theirs (the store's row, written by another process since s last
 * read or wrote it) into s; returns PP_STORE_MERGED[_LOCK] bits. */
int pps_merge(pp_session *s, const pp_session *theirs);

/* match.c */
typedef struct ppm_hit {
    int pattern, rule;        /* -1 when none */
    size_t start, end;
    int limit_hit;
    int runner_up[3];         /* other matching rules, for /why; -1 = none */
    int budget_spent;         /* PP_STEP_BUDGET ran out: later rules untried */
    int spent_by[3];          /* then the rules charged most, -1 = none */
    int evidence[2];          /* summed priorities: pursuing, withdrawing */
    int mixed;                /* both sides carry weight ("we both do it") */
} ppm_hit;
/* The most matching rules one message is weighed on (match.c). */
#define PP_MAX_FOUND 16

/* w: from ppm_work_take(rs); the winner's captures are left in w->md. */
int ppm_run(const pp_ruleset *rs, ppm_work *w, const char *text,
                 size_t len, const char *prev_set, const char *prev_fw,
                 ppm_hit *hit);
/* The role hit's turn takes: its winner's, or, when the winner is a direct
 * question (an act ask.*, role none), the side the rest of the message
 * weighs for ("how do I ask for space without hurting him": withdrawer). */
pp_role ppm_role(const pp_ruleset *rs, const ppm_hit *hit);
ppm_work *ppm_work_take(const pp_ruleset *rs);        /* NULL: out of memory */
void ppm_work_give(const pp_ruleset *rs, ppm_work *w);
void ppm_work_free(ppm_work *w);

/* rules.c */
/* Past blanks and tabs; an id of the rule files ([a-z0-9._-], 1 to
 * PP_ID_MAX-1 bytes).  The program reader (program.c) shares both. */
char *ppr_skip_space(char *p);
int ppr_valid_id(const char *s);
/* The catalogue entry of framework id, or NULL. */
const ppr_framework *ppr_framework_find(const pp_ruleset *rs, const char *id);
/* Is framework id locked after an abuse disclosure?  0 for an unknown id. */
int ppr_framework_locked(const pp_ruleset *rs, const char *id);
const ppr_set *ppr_find_set(const pp_ruleset *rs, const char *id);
uint32_t ppr_set_hash(const char *id);

/* program.c */
/* Parse one .program file's text (buf, changed in place) into rs: broken
 * programs are left out, each problem added to errs. */
void ppp_parse(pp_ruleset *rs, const char *path, char *buf, pp_errors *errs);
void ppp_free(pp_ruleset *rs);
const ppp_program *ppp_find(const pp_ruleset *rs, const char *id);
/* The program a mistyped name most likely means ("10-week", "the loop"),
 * or NULL when none is close. */
const ppp_program *ppp_nearest(const pp_ruleset *rs, const char *word);
/* The user's calendar day at now. */
long long ppp_day(long long now, int utc_offset);
/* The program day (1-based) s is on today, counting no paused day; 0 when
 * no program runs. */
int ppp_program_day(const pp_session *s, long long today);
const ppp_step *ppp_step_on(const ppp_program *p, int day);
/* Is day a check-in day of the program s runs (and no score kept today)? */
int ppp_due(const pp_ruleset *rs, const pp_session *s, long long today);
/* Which kind of answer text is (PP_ANSWER_*), or -1. */
int ppp_answer_kind(const pp_ruleset *rs, const char *text, size_t len);

/* plan.c: the dialog's programs and check-ins (d->now, d->utc_offset,
 * d->plans).  ppp_answer: a line that answers what the coach asked,
 * answered into b (1), or 0 for the ordinary turn; ppp_after: what
 * follows an ordinary reply (an offer, the day's question). */
int ppp_answer(pp_dialog *d, const char *bytes, size_t len, ppb_buf *b);
void ppp_after(pp_dialog *d, const pp_reply *r, ppb_buf *b);
void ppp_cmd(ppb_buf *b, pp_dialog *d, const char *args, size_t n);
void ppp_checkin_cmd(ppb_buf *b, pp_dialog *d);
void ppp_progress_cmd(ppb_buf *b, pp_dialog *d);

/* store.c: the note of the check-in key gave at `at`. */
int ppk_checkin_note(pp_store *st, const char *key, long long at, const char *note,
                          char *err, size_t errlen);

/* rules.c: the lines of a file, in place (trailing white space cut). */
char *ppr_next_line(char **cursor, int *lineno);

/* reply.c: /why, rendered from the session's kept decision. */
void ppy_why_render(ppb_buf *b, const pp_ruleset *rs, const pp_session *s);

/* reply.c: a sentence the coach says outside coaching (a command's answer,
 * a notice), from the response set id (responses/system.responses): one of
 * its variants, filled like a reply, where {name} may also be a pair of
 * vars ("name", "value", ..., NULL).  fallback, filled the same way, is
 * what a responses directory without the set gets: a short C sentence,
 * kept so that every command still answers.  s is never NULL. */
void ppy_system_text(ppb_buf *b, const pp_ruleset *rs, const pp_session *s, const char *id,
                    const char *const *vars, const char *fallback);
/* The same with the variant chosen by the caller (modulo the count). */
void ppy_system_text_at(ppb_buf *b, const pp_ruleset *rs, const pp_session *s, const char *id,
                       unsigned long variant, const char *const *vars, const char *fallback);

/* reframe.c: what a turn tells the draft (s->complaint, s->feeling); a
 * is the message's analysis when the matcher made one, else NULL. */
void ppf_learn(const pp_ruleset *rs, pp_session *s, const char *text, size_t len,
                      const ppl_analysis *a, pp_role role);
/* {draft}: a gentle start-up from what the session knows, into b; 0 when
 * it knows no complaint to start from. */
int ppf_draft(ppb_buf *b, const pp_ruleset *rs, const pp_session *s);

/* reply.c: the template t (not a set) filled the same way: the one
 * placeholder language of replies, system sentences and reframe. */
void ppy_template_fill(ppb_buf *b, const pp_ruleset *rs, const pp_session *s, const char *t,
                      const char *const *vars);

char *ppe_strdup(const char *s);
char *ppe_strndup(const char *s, size_t n);
void ppe_strlcpy(char *dst, const char *src, size_t size);

/* utf8.c */
/* n moved back, if need be, so that s[0..n) does not end inside a UTF-8
 * sequence (s[n] is not a continuation byte).  s[n] must be readable. */
size_t ppu_cut(const char *s, size_t n);
/* One code point at s[0..n): its length, or 0 when not valid UTF-8
 * (overlong, a surrogate, past U+10FFFF, cut short). */
size_t ppu_decode(const unsigned char *s, size_t n, uint32_t *cp);
size_t ppu_encode(uint32_t cp, char *out);   /* out: room for 4 */

#endif
