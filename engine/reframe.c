/* reframe.c -- turn a blaming complaint into a gentle start-up (issue 5).
 *
 * pp_reframe() normalises the input, then runs three kinds of PCRE2
 * pattern from the rule set's reframe word lists (responses/reframe.words,
 * loaded and compiled with the rules) over it: the four horsemen
 * (criticism, contempt, defensiveness, stonewalling), the "already gentle"
 * pair (an I-statement plus a request), and the topics (chores, money,
 * texting...).  The rewrite is assembled only from phrases of that file:
 *   stonewalling  -> ask for a break and say when to come back;
 *   defensiveness -> own a part and ask what would help;
 *   a topic       -> "I feel <feeling> when <situation>. I need <need>.
 *                    <request>", in the past tense when the complaint is;
 *   nothing found -> the fill-in-the-blanks template, never a guess.
 * Design: the word lists are part of the immutable rule set; each match
 * runs with the set's read-only match context (PP_MATCH_LIMIT,
 * PP_DEPTH_LIMIT), so hostile input cannot make it slow, and a limit hit
 * counts as no match.
 */
#include "pushpull.h"
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#define RW_TEXT         1024   /* the longest rewrite we build */

/* 1 when code matches text (filling md when given), 0 when not or when a
 * limit was hit. */
static int run(const pp_ruleset *rs, const pcre2_code *code, const char *text, size_t len,
               pcre2_match_data *md)
{
    pcre2_match_data *own = NULL;
    if (!md) {
        own = pcre2_match_data_create(4, NULL);
        if (!own)
            return 0;
        md = own;
    }
    int rc = pcre2_match(code, (PCRE2_SPTR)text, len, 0, 0, md, rs->mctx);
    pcre2_match_data_free(own);
    return rc >= 0;   /* 0: matched, ovector too small */
}

/* ---- building the rewrite -------------------------------------------- */

typedef struct sbuf {
    char s[RW_TEXT];
    size_t n;
} sbuf;

static void put(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = sizeof b->s - b->n;
    int k = vsnprintf(b->s + b->n, room, fmt, ap);
    va_end(ap);
    if (k > 0)
        b->n += (size_t)k < room ? (size_t)k : room - 1;
}

/* Expand {obj} {s} {is} {was} of a template into b. */
static void expand(sbuf *b, const char *tpl, const char *obj, int plural)
{
    while (*tpl) {
        const char *open = strchr(tpl, '{');
        if (!open) {
            put(b, "%s", tpl);
            return;
        }
        put(b, "%.*s", (int)(open - tpl), tpl);
        const char *close = strchr(open, '}');
        if (!close) {
            put(b, "%s", open);
            return;
        }
        size_t k = (size_t)(close - open - 1);
        if (k == 3 && !strncmp(open + 1, "obj", 3))
            put(b, "%s", obj);
        else if (k == 1 && open[1] == 's')
            put(b, "%s", plural ? "" : "s");
        else if (k == 2 && !strncmp(open + 1, "is", 2))
            put(b, "%s", plural ? "are" : "is");
        else if (k == 3 && !strncmp(open + 1, "was", 3))
            put(b, "%s", plural ? "were" : "was");
        tpl = close + 1;
    }
}

/* The safe phrase for a captured object ("Dishes" -> "the dishes"). */
static const pp_reframe_object *find_object(const pp_reframe_words *w, const char *text,
                                            size_t start, size_t end)
{
    char word[48];
    size_t n = 0;
    if (end <= start || end - start >= sizeof word)
        return NULL;
    for (size_t i = start; i < end; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == ' ' && n > 0 && word[n - 1] == ' ')
            continue;
        word[n++] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : (char)c;
    }
    word[n] = '\0';
    for (size_t i = 0; i < w->n_objects; i++)
        if (!strcmp(w->objects[i].word, word))
            return &w->objects[i];
    return NULL;
}

/* Which topic (index, or -1), and its object phrase. */
static int find_topic(const pp_ruleset *rs, const char *text, size_t len, const char **obj, int *plural)
{
    const pp_reframe_words *w = rs->reframe;
    for (size_t i = 0; i < w->n_topics; i++) {
        const pcre2_code *code = w->topics[i].re.code;
        pcre2_match_data *md = pcre2_match_data_create_from_pattern(code, NULL);
        if (!md)
            return -1;
        int rc = pcre2_match(code, (PCRE2_SPTR)text, len, 0, 0, md, rs->mctx);
        if (rc < 0) {
            pcre2_match_data_free(md);
            continue;
        }
        const pp_reframe_topic *t = &w->topics[i];
        const pp_reframe_object *o = NULL;
        int num = pcre2_substring_number_from_name(code, (PCRE2_SPTR) "obj");
        if (num > 0 && num < rc) {
            PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
            if (ov[2 * num] != PCRE2_UNSET)
                o = find_object(w, text, ov[2 * num], ov[2 * num + 1]);
        }
        pcre2_match_data_free(md);
        *obj = o ? o->phrase : t->default_obj;
        *plural = o ? o->plural : t->default_plural;
        return (int)i;
    }
    return -1;
}

/* ---- result ------------------------------------------------------------ */

static int add_note(pp_reframe_result *r, const char *note)
{
    char **n = realloc(r->notes, (r->n_notes + 1) * sizeof *n);
    if (!n)
        return PP_ENOMEM;
    r->notes = n;
    if (!(n[r->n_notes] = strdup(note)))
        return PP_ENOMEM;
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

char *pp_reframe_format(const pp_reframe_result *r)
{
    pp_buf b = {0};
    if (r->horsemen) {
        pp_buf_adds(&b, "Found:");
        const char *sep = " ";
        for (unsigned bit = 1; bit <= PP_HORSEMAN_STONEWALLING; bit <<= 1)
            if (r->horsemen & bit) {
                pp_buf_addf(&b, "%s%s", sep, pp_horseman_name(bit));
                sep = ", ";
            }
        pp_buf_adds(&b, "\n");
    } else if (!r->already_gentle) {
        pp_buf_adds(&b, "Found: no blame\n");
    }
    for (size_t i = 0; i < r->n_notes; i++) pp_buf_addf(&b, "- %s\n", r->notes[i]);
    pp_buf_addf(&b, "%s\n  %s", r->already_gentle ? "Keep saying:" : "Try saying:",
                r->rewrite ? r->rewrite : "");
    return pp_buf_take(&b);
}

void pp_reframe_clear(pp_reframe_result *r)
{
    if (!r)
        return;
    free(r->text);
    free(r->rewrite);
    for (size_t i = 0; i < r->n_notes; i++)
        free(r->notes[i]);
    free(r->notes);
    memset(r, 0, sizeof *r);
}

static int build(const pp_ruleset *rs, pp_reframe_result *r, const char *text, size_t len)
{
    const pp_reframe_words *w = rs->reframe;
    int rc;
    for (size_t i = 0; i < w->n_horsemen; i++)
        if (!(r->horsemen & w->horsemen[i].horseman) && run(rs, w->horsemen[i].re.code, text, len, NULL))
            r->horsemen |= w->horsemen[i].horseman;
    for (unsigned k = 0; k < 4; k++)
        if (r->horsemen & (1u << k) && (rc = add_note(r, w->note_horseman[k])))
            return rc;

    const char *obj = "";
    int plural = 0;
    int topic = find_topic(rs, text, len, &obj, &plural);
    sbuf b = { .n = 0 };
    b.s[0] = '\0';
    const char *note = NULL;

    if (r->horsemen == 0 && run(rs, w->istatement.code, text, len, NULL) && run(rs, w->request.code, text, len, NULL)) {
        r->already_gentle = 1;        /* the rewrite is the text, however long */
        note = w->note_gentle;
    } else if (r->horsemen & PP_HORSEMAN_STONEWALLING) {
        put(&b, "I feel flooded right now. I need a short break to calm down. Could we come back to ");
        if (topic >= 0)
            expand(&b, w->topics[topic].label, obj, plural);
        else
            put(&b, "this");
        put(&b, " in twenty minutes?");
    } else if (r->horsemen & PP_HORSEMAN_DEFENSIVENESS) {
        put(&b, "I feel criticised ");
        if (topic >= 0) {
            put(&b, "when we talk about ");
            expand(&b, w->topics[topic].label, obj, plural);
        } else {
            put(&b, "right now");
        }
        put(&b, ", and I want to understand. I need us to be on the same side. "
                "Could you tell me what would help most, so I can do my part?");
    } else if (topic >= 0) {
        const pp_reframe_topic *t = &w->topics[topic];
        int past = run(rs, w->past.code, text, len, NULL);
        put(&b, "I %s %s when ", past ? "felt" : "feel", t->feeling);
        expand(&b, past ? t->sit_past : t->sit_now, obj, plural);
        put(&b, ". I need %s. ", t->need);
        expand(&b, t->request, obj, plural);
        if (r->horsemen == 0)
            note = w->note_neutral;
    } else {
        r->template_only = 1;
        put(&b, "%s", w->template_text);
        note = w->note_template;
    }
    if (note && (rc = add_note(r, note)))
        return rc;
    if ((rc = add_note(r, w->note_source)))
        return rc;
    /* Sentence case for the first letter of a rewrite built from phrases. */
    if (!r->already_gentle && b.s[0] >= 'a' && b.s[0] <= 'z')
        b.s[0] = (char)(b.s[0] - 'a' + 'A');
    r->rewrite = strdup(r->already_gentle ? text : b.s);
    return r->rewrite ? 0 : PP_ENOMEM;
}

int pp_reframe(const pp_ruleset *rs, const char *bytes, size_t len, pp_reframe_result *out)
{
    if (!out)
        return PP_EINPUT;
    memset(out, 0, sizeof *out);
    if (!rs || !rs->reframe)
        return PP_EINPUT;             /* no word lists: nothing to reframe with */
    if (!bytes)
        len = 0;

    size_t nlen = 0;
    const char *notice = NULL;
    char *norm = pp_input_normalize(bytes ? bytes : "", len, &nlen, &notice);
    if (!norm)
        return PP_ENOMEM;
    /* trim */
    size_t a = 0;
    while (a < nlen && (norm[a] == ' ' || norm[a] == '\t' || norm[a] == '\n' || norm[a] == '\r'))
        a++;
    while (nlen > a && (norm[nlen - 1] == ' ' || norm[nlen - 1] == '\t' || norm[nlen - 1] == '\n'
                        || norm[nlen - 1] == '\r'))
        nlen--;
    memmove(norm, norm + a, nlen - a);
    nlen -= a;
    norm[nlen] = '\0';
    out->text = norm;

    int rc = build(rs, out, norm, nlen);
    if (rc)
        pp_reframe_clear(out);
    return rc;
}
