/* reframe_words.h -- internal to the engine: the word lists of pp_reframe().
 *
 * Three read-only tables, written for pushpull in our own words:
 *   - horseman patterns: PCRE2 patterns that spot criticism, contempt,
 *     defensiveness and stonewalling in a complaint;
 *   - topics: what a complaint is about (chores, money, texting...), each
 *     with a feeling, a neutral situation (present and past), a need and a
 *     concrete request, used to build the I-statement;
 *   - objects: the things a topic pattern may capture as (?<obj>...), each
 *     mapped to a safe noun phrase ("dishes" -> "the dishes"), so nothing
 *     the user typed is ever copied into a rewrite.
 * engine/reframe.c compiles the patterns once and does the rest.
 */
#ifndef PP_REFRAME_WORDS_H
#define PP_REFRAME_WORDS_H

#include <stddef.h>

typedef struct pp_reframe_pattern {
    unsigned horseman;      /* PP_HORSEMAN_* bit */
    int case_sensitive;     /* 1: compile without PCRE2_CASELESS */
    const char *pattern;
} pp_reframe_pattern;

/* Templates may use {obj} (the object phrase), {s} ("s" when the object is
 * singular, for present-tense verbs), {is} (is/are) and {was} (was/were). */
typedef struct pp_reframe_topic {
    const char *id;
    const char *pattern;     /* may capture (?<obj>...) */
    const char *default_obj; /* phrase when nothing (known) was captured */
    int default_plural;
    const char *feeling;     /* "lonely" */
    const char *sit_now;     /* "we don't have ..." (after "when ") */
    const char *sit_past;    /* "our ... fell through" */
    const char *need;        /* after "I need " */
    const char *request;     /* a whole question */
    const char *label;       /* "the housework": what "we talk about" */
} pp_reframe_topic;

typedef struct pp_reframe_object {
    const char *word;        /* lowercase, as captured (single spaces) */
    const char *phrase;
    int plural;
} pp_reframe_object;

extern const pp_reframe_pattern pp_reframe_patterns[];
extern const size_t pp_reframe_n_patterns;
extern const pp_reframe_topic pp_reframe_topics[];
extern const size_t pp_reframe_n_topics;
extern const pp_reframe_object pp_reframe_objects[];
extern const size_t pp_reframe_n_objects;

/* Patterns for tense and for statements that are already gentle. */
extern const char *const pp_reframe_past_pattern;
extern const char *const pp_reframe_istatement_pattern;
extern const char *const pp_reframe_request_pattern;

/* The notes (one plain sentence each). */
extern const char *const pp_reframe_note_horseman[4];
extern const char *const pp_reframe_note_gentle;
extern const char *const pp_reframe_note_template;
extern const char *const pp_reframe_note_neutral;
extern const char *const pp_reframe_note_source;
extern const char *const pp_reframe_template;

#endif
