/* test_lang.c -- the language layer, one test per step: folding, spelling
 * (a misspelling corrected, a name left alone), lemmas (an irregular verb),
 * concepts (one member in three inflections), clauses (a subject through
 * "my husband and I", a negation, a question), and what rules see (the
 * rendered line).  The lexicon is the shipped rules/en.lexicon, so these
 * tests also hold the data to what the layer promises. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "lang.h"

static void on_error(void *ctx, const char *file, int line, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "%s:%d: %s\n", file, line, msg);
    fail_msg("lexicon error");
}

static int setup(void **state)
{
    const char *src = getenv("SRC") ? getenv("SRC") : ".";
    char path[4096];
    snprintf(path, sizeof path, "%s/rules/en.lexicon", src);
    ppl_lexicon *lx = ppl_lexicon_new(NULL, NULL);
    if (!lx) return -1;
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    static char text[1 << 20];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    if (ppl_lexicon_parse(lx, path, text, on_error, NULL) != 0) return -1;
    /* words a rule file would bring */
    ppl_vocab_add(lx, "really");
    ppl_vocab_add(lx, "distant");
    if (ppl_lexicon_seal(lx)) return -1;
    *state = lx;
    return 0;
}

static int teardown(void **state)
{
    ppl_lexicon_free(*state);
    return 0;
}

/* Analyse text and return its rendered line (static buffer). */
static const char *render(const ppl_lexicon *lx, const char *text)
{
    static char out[4096];
    ppl_analysis a;
    assert_int_equal(ppl_analyse(lx, text, strlen(text), &a), 0);
    snprintf(out, sizeof out, "%s", a.rendered);
    ppl_analysis_clear(&a);
    return out;
}

static const ppl_word *word_typed(const ppl_analysis *a, const char *typed)
{
    for (size_t i = 0; i < a->n_words; i++)
        if (a->words[i].len == strlen(typed) && memcmp(a->text + a->words[i].off, typed, strlen(typed)) == 0)
            return &a->words[i];
    return NULL;
}

static void test_fold(void **state)
{
    (void)state;
    struct { const char *in, *out; } cases[] = {
        { "\xef\xbd\x89 \xef\xbd\x97\xef\xbd\x81\xef\xbd\x8e\xef\xbd\x94 to die", "i want to die" },  /* full width */
        { "I want to\xe2\x80\x8f die", "I want to die" },                                          /* RLM */
        { "he hit\xe2\x80\x8e me", "he hit me" },                                                  /* LRM */
        { "\xf0\x9d\x90\x9d\xf0\x9d\x90\xa2\xf0\x9d\x90\x9e", "die" },                             /* math bold */
        { "zero\xe2\x80\x8bwidth", "zerowidth" },                                                  /* ZWSP (Cf) */
        { "caf\xc3\xa9", "caf\xc3\xa9" },                                                          /* kept */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n;
        char *f = ppl_fold(cases[i].in, strlen(cases[i].in), &n);
        assert_non_null(f);
        assert_string_equal(f, cases[i].out);
        assert_int_equal(n, strlen(cases[i].out));
        free(f);
    }
}

static void test_spelling(void **state)
{
    const ppl_lexicon *lx = *state;
    ppl_analysis a;
    const char *t = "my boyfreind realy dosent talk to me and Jaxon is so distnat";
    assert_int_equal(ppl_analyse(lx, t, strlen(t), &a), 0);
    const ppl_word *w = word_typed(&a, "boyfreind");
    assert_non_null(w);
    assert_string_equal(w->norm, "boyfriend");
    assert_true(w->flags & PPL_WORD_CORRECTED);
    assert_string_equal(word_typed(&a, "realy")->norm, "really");
    assert_string_equal(word_typed(&a, "distnat")->norm, "distant");
    /* "dosent" -> "doesnt" -> the substitute "does not": two words */
    w = word_typed(&a, "dosent");
    assert_string_equal(w[0].norm, "does");
    assert_string_equal(w[1].norm, "not");
    /* a capitalised word that is no dictionary word is a name, untouched */
    w = word_typed(&a, "Jaxon");
    assert_true(w->flags & PPL_WORD_NAME);
    assert_false(w->flags & PPL_WORD_CORRECTED);
    assert_string_equal(w->norm, "jaxon");
    ppl_analysis_clear(&a);
    /* a correct word is never changed, even when a rule word is one edit off */
    t = "he is distance";
    assert_int_equal(ppl_analyse(lx, t, strlen(t), &a), 0);
    assert_false(word_typed(&a, "distance")->flags & PPL_WORD_CORRECTED);
    ppl_analysis_clear(&a);
}

static void test_lemmas(void **state)
{
    const ppl_lexicon *lx = *state;
    char a[64], b[64];
    /* irregular verbs through WordNet's exceptions */
    assert_string_equal(ppl_lemma(lx, "went", a, sizeof a), ppl_lemma(lx, "go", b, sizeof b));
    assert_string_equal(ppl_lemma(lx, "froze", a, sizeof a), ppl_lemma(lx, "freezing", b, sizeof b));
    assert_string_equal(ppl_lemma(lx, "fought", a, sizeof a), ppl_lemma(lx, "fight", b, sizeof b));
    /* regular inflections through the stemmer */
    assert_string_equal(ppl_lemma(lx, "pulled", a, sizeof a), "pull");
    assert_string_equal(ppl_lemma(lx, "pulling", a, sizeof a), "pull");
    assert_string_equal(ppl_lemma(lx, "pulls", a, sizeof a), "pull");
}

static void test_concept_inflections(void **state)
{
    const ppl_lexicon *lx = *state;
    long k = ppl_concept_find(lx, "withdraw");
    assert_true(k >= 0);
    const char *texts[] = { "he pulled away last night", "shes pulling away again", "he pulls away" };
    for (size_t i = 0; i < 3; i++) {
        ppl_analysis a;
        assert_int_equal(ppl_analyse(lx, texts[i], strlen(texts[i]), &a), 0);
        assert_true(ppl_clause_has(&a, 0, (uint32_t)k));
        assert_int_equal(a.clauses[0].subject, PPL_SUBJ_PARTNER);
        ppl_analysis_clear(&a);
    }
    /* an irregular form in a phrase member: "went quiet" is "go quiet" */
    assert_non_null(strstr(render(lx, "she went quiet on me"), "~withdraw"));
    /* filler words may stand inside a phrase */
    assert_non_null(strstr(render(lx, "she went totally quiet on me"), "@p ~withdraw"));
    assert_non_null(strstr(render(lx, "he just completely shut down"), "@p ~withdraw"));
}

static void test_clauses_and_subjects(void **state)
{
    const ppl_lexicon *lx = *state;
    /* the partner wants room, the user gets scared: two clauses, two subjects */
    assert_string_equal(render(lx, "he wants room and I get scared"),
                        "@p ~withdraw ~~fear : he want room | @u ~fear ~~withdraw ~~partner_here : and i get scare");
    /* a compound subject is one clause about both */
    ppl_analysis a;
    const char *t = "my husband and I fight about the same thing";
    assert_int_equal(ppl_analyse(lx, t, strlen(t), &a), 0);
    assert_int_equal(a.n_clauses, 1);
    assert_int_equal(a.clauses[0].subject, PPL_SUBJ_BOTH);
    ppl_analysis_clear(&a);
    /* a report verb opens a clause for what is reported */
    assert_string_equal(render(lx, "i feel like she is pulling away"),
                        "@u ~~withdraw ~~partner_here : i feel | @p ~withdraw : like she be pull away");
    /* a friend's partner is somebody else */
    assert_true(strncmp(render(lx, "my friend's boyfriend ignores her"), "@o", 2) == 0);
    /* a message about a parent: its pronouns are the parent */
    assert_true(strstr(render(lx, "my mother never listens. she ignores me when i talk"), "@o ~withdraw") != NULL);
    assert_true(strstr(render(lx, "my mother visited and my husband ignores me"), "@p ~withdraw") != NULL);
    /* a name is the partner */
    assert_true(strncmp(render(lx, "so yesterday Jaxon ignored me"), "@p", 2) == 0);
    /* sentences are all read */
    t = "We met in May. It was great. Then he stopped texting back.";
    assert_int_equal(ppl_analyse(lx, t, strlen(t), &a), 0);
    assert_int_equal(a.n_sentences, 3);
    assert_non_null(strstr(a.rendered, "@p ~withdraw : then he stop text back"));
    ppl_analysis_clear(&a);
}

/* The user as the one an act is done to: a passive after "I" is the
 * partner's act ("i keep getting ignored" is "he ignores me"), or that of
 * whoever "by" names; a state ("i'm shut down") stays the user's. */
static void test_user_as_object(void **state)
{
    const ppl_lexicon *lx = *state;
    assert_true(strncmp(render(lx, "i keep getting ignored"), "@p ~withdraw", 12) == 0);
    assert_true(strncmp(render(lx, "im being ghosted by my bf"), "@p ~withdraw", 12) == 0);
    assert_true(strncmp(render(lx, "I got the silent treatment all weekend"), "@p ~withdraw", 12) == 0);
    assert_true(strncmp(render(lx, "I was pushed away again"), "@p ~withdraw", 12) == 0);
    assert_true(strncmp(render(lx, "i was ignored by my mom as a kid"), "@o", 2) == 0);
    /* the user's own acts and states are not passives */
    assert_true(strncmp(render(lx, "i am ignoring him"), "@u ~withdraw", 12) == 0);
    assert_true(strncmp(render(lx, "I'm shut down and numb"), "@u ~withdraw", 12) == 0);
    assert_true(strncmp(render(lx, "i keep pushing him away"), "@u ~withdraw", 12) == 0);
    /* and the object of an active clause was never its subject */
    assert_true(strncmp(render(lx, "she keeps pushing me away"), "@p ~withdraw", 12) == 0);
}

/* A clause joined by a comma or "and" with no subject of its own, whose
 * verb comes first, is about the subject before it. */
static void test_clause_keeps_subject(void **state)
{
    const ppl_lexicon *lx = *state;
    assert_string_equal(render(lx, "he came home, went straight to bed"),
                        "@p : he come home | @p : go straight to bed");
    assert_non_null(strstr(render(lx, "she sighs, and then ignores me"), "| @p ~withdraw : then ignor me"));
    assert_non_null(strstr(render(lx, "I came home, pulled away from him"), "| @u ~withdraw ~~partner_here :"));
    /* not when the next clause opens with a noun or "nothing" */
    assert_non_null(strstr(render(lx, "he came home, dinner was cold"), "| @x"));
    assert_non_null(strstr(render(lx, "we had a date, and then nothing for days"), "| @x"));
    /* something that makes the writer feel or do: the writer's clause */
    assert_true(strncmp(render(lx, "being single has made me so needy"), "@u", 2) == 0);
    assert_true(strncmp(render(lx, "left me on read again"), "@u", 2) != 0);
}

/* A clause with no person as its subject that says whom it comes from is
 * that person's act; one that opens with a verb is the writer's, left out.
 * The writer's own mind and body ("my first thought", "my gut") are the
 * writer, and a thing that feels some way to nobody named feels so to the
 * writer. */
static void test_from_whom(void **state)
{
    const ppl_lexicon *lx = *state;
    assert_true(strncmp(render(lx, "3 days of silence from her"), "@p", 2) == 0);
    assert_true(strncmp(render(lx, "nothing from him since friday"), "@p", 2) == 0);
    assert_true(strncmp(render(lx, "taking a break from her this weekend"), "@u", 2) == 0);
    assert_true(strncmp(render(lx, "a letter from my mom"), "@o", 2) == 0);
    assert_true(strncmp(render(lx, "my first thought was to cancel"), "@u", 2) == 0);
    assert_true(strncmp(render(lx, "work is my excuse to avoid home"), "@u", 2) == 0);
    assert_true(strncmp(render(lx, "now any closeness feels like being swallowed"), "@u", 2) == 0);
    assert_true(strncmp(render(lx, "the weather is nice"), "@x", 2) == 0);
}

/* Who "he", "she" and "they" are when the partner is named by a noun of
 * one gender: the other gender's pronoun is someone else (his ex-wife,
 * her friend), and so is a plural "they" once a third person is named;
 * the partner's own pronoun, and every pronoun in a message that names no
 * gendered partner, stay the partner's. */
/* The subject mark ("@p") of the rendered clause whose lemmas end with
 * tail (": he say it be over"); "" when there is none. */
static const char *mark_of(const char *rendered, const char *tail)
{
    static char mark[4];
    const char *t = strstr(rendered, tail);
    if (!t) return "";
    const char *c = t;
    while (c > rendered && !(c[-1] == ' ' && c - 2 >= rendered && c[-2] == '|')) c--;
    snprintf(mark, sizeof mark, "%.2s", c);
    return mark;
}

/* Words in double quotes after a verb of speech are the speaker's: their
 * "I" is the speaker and their "you" the one spoken to. */
static void test_quoted_speech(void **state)
{
    const ppl_lexicon *lx = *state;
    assert_string_equal(mark_of(render(lx, "he said \"I need space\""), ": i need space"), "@p");
    assert_string_equal(mark_of(render(lx, "she yelled \"you never listen\" and walked out"),
                                ": you never listen and walk out"), "@u");
    /* the user's own words stay the user's; "you" is then the partner */
    assert_string_equal(mark_of(render(lx, "I told him \"I need space\""), ": i need space"), "@u");
    assert_string_equal(mark_of(render(lx, "i said \"you never text back\""), ": you never text back"), "@p");
    /* no verb of speech before it: a quote is only a quote */
    assert_true(strncmp(render(lx, "I need \"space\" apparently"), "@u", 2) == 0);
    /* a quote that names no one first stays in the speaker's clause */
    assert_true(strncmp(render(lx, "he says \"marriage is for other people\""), "@p", 2) == 0);
    /* a person after a preposition, before an -ing verb, is who acts */
    assert_string_equal(mark_of(render(lx, "every time we fight it ends with him leaving the room"),
                                ": him leav the room"), "@p");
    /* a capitalised word no dictionary knows, before a verb, is a name */
    assert_true(strncmp(render(lx, "Mateo keeps saying soon"), "@p", 2) == 0);
    assert_null(strstr(render(lx, "Mateo keeps saying soon"), "mate "));
    /* ... and so is a dictionary word the dictionary knows as a name too */
    assert_true(strncmp(render(lx, "Tom met my parents and has been distant since"), "@p", 2) == 0);
    /* ... and typed lowercase, as chat does */
    assert_true(strncmp(render(lx, "tom turns his screen away"), "@p", 2) == 0);
    assert_true(strncmp(render(lx, "theo works late again"), "@p : theo", 9) == 0);
    assert_true(strncmp(render(lx, "hope this helps"), "@x", 2) == 0);
    assert_non_null(strstr(render(lx, "Realy sad today"), "realli"));
    /* ... but not after a possessive: "my Doc" is no partner */
    assert_true(strncmp(render(lx, "My Doc doesnt want to discuss it"), "@x", 2) == 0);
    /* single quotes quote too; apostrophes do not */
    assert_string_equal(mark_of(render(lx, "she said 'i just need time' and left"), ": i just need time and leav"), "@p");
    assert_null(strstr(render(lx, "i don't know, it's the kids' stuff"), "@p"));
    /* a sentence that opens with a verb of the third person is about them */
    assert_true(strncmp(render(lx, "says its my fault we fight"), "@p", 2) == 0);
    assert_string_equal(mark_of(render(lx, "i asked what was wrong, disappears for 2 weeks"), ": disappear for 2 week"), "@p");
    assert_string_equal(mark_of(render(lx, "i am the one who plans, books the table"), ": book the tabl"), "@u");
    /* a name mid-sentence before an -s verb opens a clause, typed
     * lowercase too; an appositive name does not */
    assert_string_equal(mark_of(render(lx, "every time i mention a ring alex changes the subject"),
                                ": alex chang the subject"), "@p");
    assert_string_equal(mark_of(render(lx, "since we moved in marco games till 2am"), ": marco game till 2am"), "@p");
    assert_true(strncmp(render(lx, "my friend Omar keeps ghosting girls"), "@o", 2) == 0);
    assert_non_null(strstr(render(lx, "my bf realy likes his games"), "realli"));
    /* a quote that opens inside the speaker's clause is the speaker's on */
    assert_string_equal(mark_of(render(lx, "he says 'nothing, I'm just tired.'"), ": i be just tire"), "@p");
    /* "and" before a verb phrase keeps the subject: "and | ask him" is mine */
    assert_string_equal(mark_of(render(lx, "i get home and push my wife away"), ": and push my wife away"), "@u");
    /* a set phrase said stays one clause about the speaker */
    assert_string_equal(mark_of(render(lx, "she never says \"I love you\" back"), "back"), "@p");
}

static void test_pronoun_gender(void **state)
{
    const ppl_lexicon *lx = *state;
    assert_string_equal(mark_of(render(lx, "my husband had an affair with his ex wife. she invited him to dinner"),
                                ": she invit him to dinner"), "@o");
    assert_string_equal(mark_of(render(lx, "my husband spent the night with his ex wife. they slept in the same bed"),
                                ": they sleep in the same bed"), "@o");
    /* his own pronoun is still the partner */
    assert_string_equal(mark_of(render(lx, "my husband had an affair. he says it is over"),
                                ": he say it be over"), "@p");
    /* the same for a girlfriend and "he" */
    assert_string_equal(mark_of(render(lx, "my girlfriend keeps talking to an old friend. he texts her every night"),
                                ": he text her everi night"), "@o");
    assert_string_equal(mark_of(render(lx, "my wife is distant. she ignores me"), ": she ignor me"), "@p");
    /* no gendered noun: nothing to go by, the pronoun is the partner */
    assert_string_equal(mark_of(render(lx, "my partner is distant. she ignores me"), ": she ignor me"), "@p");
    /* "they" with no third person named stays the partner */
    assert_string_equal(mark_of(render(lx, "my boyfriend is distant. they ignore me"), ": they ignor me"), "@p");
    /* a parent named before the pronoun, even as an object, owns it; one
     * named after it does not */
    assert_string_equal(mark_of(render(lx, "i am always arguing with my father. he never listens"),
                                ": he never listen"), "@o");
    assert_string_equal(mark_of(render(lx, "she keeps putting off meeting my parents"),
                                ": she keep put off meet my parent"), "@p");
    /* ... but not a pronoun of the other gender, nor a "he" for a group */
    assert_string_equal(mark_of(render(lx, "my mom says he pulls away"), ": he pull away"), "@p");
    assert_string_equal(mark_of(render(lx, "i talked to my dad. he never listens"), ": he never listen"), "@o");
    assert_string_equal(mark_of(render(lx, "we met my friends and he went cold"), ": and he go cold"), "@p");
    /* an ex is no gendered partner: "my ex boyfriend" leaves "she" alone */
    assert_string_equal(mark_of(render(lx, "my ex boyfriend and I broke up. she ignores me"), ": she ignor me"), "@p");
}

static void test_negation_and_questions(void **state)
{
    const ppl_lexicon *lx = *state;
    assert_string_equal(render(lx, "he doesn't pull away anymore"),
                        "@p ~not_withdraw : he doe not pull away anymor");
    assert_string_equal(render(lx, "he doesnt pull away anymore"),
                        "@p ~not_withdraw : he doe not pull away anymor");
    /* a negated main clause does not negate what follows "why" */
    const char *r = render(lx, "I don't know why she ignores me");
    assert_non_null(strstr(r, "| @p ~withdraw : whi she ignor me"));
    /* questions: by the question mark, and by an auxiliary first */
    assert_true(strncmp(render(lx, "does he pull away because of me?"), "@p @q ~withdraw", 15) == 0);
    assert_true(strncmp(render(lx, "does he pull away because of me"), "@p @q ~withdraw", 15) == 0);
    assert_true(strncmp(render(lx, "he pulls away"), "@p ~withdraw", 12) == 0);
    /* an early negation does not reach past a contrast or a second
     * negator: each act keeps its own sign */
    assert_non_null(strstr(render(lx, "he hasnt asked and wont reply"), "~withdraw"));
    assert_null(strstr(render(lx, "he hasnt asked and wont reply"), "~not_withdraw"));
    r = render(lx, "I don't know why but he pulls away");
    assert_non_null(strstr(r, "@p ~withdraw"));
    r = render(lx, "I don't mind, but pulling away all the time hurts");
    assert_null(strstr(r, "~not_withdraw"));
    r = render(lx, "I don't want to lose her but pull away anyway");
    assert_non_null(strstr(r, "~withdraw"));
    assert_null(strstr(r, "~not_withdraw"));
    r = render(lx, "I don't pull away or ignore him");
    assert_non_null(strstr(r, "~not_withdraw"));
}

/* The missed dangers, each found as the concept a crisis rule
 * uses; and the look-alikes that must not be. */
/* A set phrase after a report verb is said, not a clause of its own: "he
 * hasn't said I love you" is one negated clause about him; a real report
 * ("he said I was cold") still starts a clause about the user. */
static void test_quoted_phrase(void **state)
{
    const ppl_lexicon *lx = *state;
    const char *r = render(lx, "he hasn't said I love you in months");
    assert_null(strstr(r, " | "));
    assert_true(strncmp(r, "@p", 2) == 0);
    r = render(lx, "she never says i miss you");
    assert_null(strstr(r, " | "));
    r = render(lx, "he said I was cold");
    assert_non_null(strstr(r, " | @u"));
}

/* "my friend Omar": a name right after someone else is theirs, so the
 * pronouns after it are theirs too, not a partner's; "my cat" is someone
 * else as well. */
static void test_name_of_other(void **state)
{
    const ppl_lexicon *lx = *state;
    const char *r = render(lx, "my friend Omar keeps pulling away when they get serious");
    assert_true(strncmp(r, "@o", 2) == 0);
    assert_null(strstr(r, "@p"));
    assert_null(strstr(render(lx, "my cat is so clingy she sleeps on my face"), "@p"));
    /* a name on its own is still the partner */
    assert_true(strncmp(render(lx, "Omar keeps pulling away"), "@p", 2) == 0);
}

/* "used to" reaches like a negation: a past habit is not today's act. */
static void test_used_to(void **state)
{
    const ppl_lexicon *lx = *state;
    assert_non_null(strstr(render(lx, "i used to pull away from him"), "~not_withdraw"));
    assert_null(strstr(render(lx, "i pull away from him"), "~not_withdraw"));
    /* the time after "used to ... and now" is not negated */
    assert_non_null(strstr(render(lx, "he used to text me and now he ignores me"), "~withdraw"));
    assert_null(strstr(render(lx, "he used to text me and now he ignores me"), "~not_withdraw"));
}

/* The message-level flags of an analysis: 1 others_only, 2 others_couple. */
static int message_flags(const ppl_lexicon *lx, const char *text)
{
    ppl_analysis a;
    assert_int_equal(ppl_analyse(lx, text, strlen(text), &a), 0);
    int f = (a.others_only ? 1 : 0) | (a.others_couple ? 2 : 0);
    ppl_analysis_clear(&a);
    return f;
}
#define others_only(lx, text) ((message_flags(lx, text) & 1) != 0)
#define others_couple(lx, text) ((message_flags(lx, text) & 2) != 0)

/* The partner is in a message as a subject or as a word anywhere (a
 * pronoun unless someone named owns it); a message that names only
 * someone else, and no love life, is about that other relationship. */
static void test_partner_in_message(void **state)
{
    const ppl_lexicon *lx = *state;
    assert_non_null(strstr(render(lx, "i cry myself to sleep waiting for him"), "~~partner_here"));
    assert_null(strstr(render(lx, "i cry myself to sleep over my exams"), "~~partner_here"));
    assert_true(others_only(lx, "My mother won't listen when I shut down"));
    assert_true(others_only(lx, "my son won't do his homework and we argue every night"));
    assert_true(others_only(lx, "my roommate gets drunk and she expects me to look after her"));
    assert_false(others_only(lx, "my friends say i need to stop chasing her"));
    assert_false(others_only(lx, "my dad left when i was five and i pull away from anyone who loves me"));
    assert_false(others_only(lx, "my mom hates my boyfriend and he pulls away"));
    assert_false(others_only(lx, "i shut down when she cries"));
    /* someone else's partner ("her boyfriend") and none of the user's */
    assert_true(others_couple(lx, "my daughter is 16 and her boyfriend blows hot and cold with her"));
    assert_true(others_couple(lx, "my best friend sunita has been with her boyfriend for four years"));
    assert_false(others_couple(lx, "my sister hates my boyfriend"));
    assert_false(others_couple(lx, "he pulls away since his ex cheated on him"));
    assert_false(others_couple(lx, "my mom was never there for me"));
    /* ... and that couple's pronouns are theirs, but "his ex" is the partner's past */
    const char *r = render(lx, "my sister keeps chasing her boyfriend and he keeps backing off");
    assert_string_equal(mark_of(r, "he keep back off"), "@o");
    r = render(lx, "he pulls away since his ex cheated on him");
    assert_string_equal(mark_of(r, "he pull away"), "@p");
    r = render(lx, "every time i text her she takes hours to answer");   /* a pronoun after "her" */
    assert_string_equal(mark_of(r, "she take hour to answer"), "@p");
    assert_false(others_couple(lx, "every time i text her she takes hours to answer"));
    r = render(lx, "she hates it when i touch her. My girlfriend was hurt as a child");  /* another clause */
    assert_string_equal(mark_of(r, "my girlfriend be hurt as a child"), "@p");
}

/* Only the auxiliary itself opens a question: "is he ..." asks, "been
 * talking to him for weeks" does not. */
static void test_question_auxiliary(void **state)
{
    const ppl_lexicon *lx = *state;
    assert_non_null(strstr(render(lx, "is he pulling away"), "@q"));
    assert_non_null(strstr(render(lx, "does he pull away because of me"), "@q"));
    assert_null(strstr(render(lx, "been talking to him for weeks and he pulls away"), "@q"));
    assert_null(strstr(render(lx, "having a hard time, he pulls away"), "@q"));
    /* an auxiliary, a negator and no one asked: chat dropped the subject */
    assert_null(strstr(render(lx, "wont even look at me at dinner"), "@q"));
    assert_null(strstr(render(lx, "didnt call me back"), "@q"));
    assert_non_null(strstr(render(lx, "won't you talk to me"), "@q"));
    assert_non_null(strstr(render(lx, "doesnt he care about me"), "@q"));
    assert_non_null(strstr(render(lx, "isnt it weird"), "@q"));
}

/* The writer's body opens a clause of its own ("every time she says i
 * love you | my stomach drops"), and so does "and it makes me". */
static void test_body_and_makes_me(void **state)
{
    const ppl_lexicon *lx = *state;
    const char *r = render(lx, "every time my gf says ily my stomach drops");
    assert_string_equal(mark_of(r, "my stomach drop"), "@u");
    assert_string_equal(mark_of(r, "say i love you"), "@p");
    r = render(lx, "my partner wants a check in every sunday and it makes me want to hide");
    assert_string_equal(mark_of(r, "make me want to hide"), "@u");
    assert_string_equal(mark_of(r, "everi sunday"), "@p");
}

/* A sentence with no subject whose object is the writer ("won't even look
 * at me") is the partner's of the sentence before, not the writer's. */
static void test_elided_partner(void **state)
{
    const ppl_lexicon *lx = *state;
    const char *r = render(lx, "he doesnt care anymore i think. wont even look at me at dinner");
    assert_string_equal(mark_of(r, "look at me at dinner"), "@p");
    r = render(lx, "she left. miss her so much");          /* no "me": the writer's */
    assert_string_not_equal(mark_of(r, "miss her so much"), "@p");
    r = render(lx, "my mom called. wont leave me alone");  /* no partner before it */
    assert_string_not_equal(mark_of(r, "leave me alone"), "@p");
    /* a past tense that opens a sentence is the writer's, unless "me" is its object */
    assert_true(strncmp(render(lx, "ghosted a really nice guy after 4 dates"), "@u", 2) == 0);
    assert_true(strncmp(render(lx, "sent 4 msgs in a row"), "@u", 2) == 0);
    assert_false(strncmp(render(lx, "ghosted me again"), "@u", 2) == 0);
    assert_string_equal(mark_of(render(lx, "asked for a hug. got a pat on the back"), "get a pat on the back"), "@u");
    /* "and" then an -s verb after the writer's clause: not the writer */
    assert_string_equal(mark_of(render(lx, "she shuts her laptop whenever i walk in and says she's tired"),
                                "and say"), "@p");
    /* an auxiliary first keeps the subject before it, as a verb does */
    assert_string_equal(mark_of(render(lx, "and i just... dont open them for hours"), "do not open them for hour"), "@u");
    /* so is an auxiliary and a negator with no one after them */
    assert_true(strncmp(render(lx, "cant stand being touched after work lately"), "@u", 2) == 0);
    assert_false(strncmp(render(lx, "wont even look at me at dinner"), "@u", 2) == 0);
}

/* A sentence that opens with a gerund, nobody named before it, is the
 * writer's: "needing space doesn't mean I don't love her". */
static void test_gerund_is_the_writer(void **state)
{
    const ppl_lexicon *lx = *state;
    assert_true(strncmp(render(lx, "needing space doesnt mean i dont love her"), "@u", 2) == 0);
    assert_true(strncmp(render(lx, "does pulling away mean i dont love her?"), "@u @q", 5) == 0);
    /* a question about the writer's own want (concept self_ask) */
    assert_true(strncmp(render(lx, "is it wrong to need space from your partner"), "@u @q", 5) == 0);
    assert_true(strncmp(render(lx, "Is it normal to want a night alone?"), "@u @q", 5) == 0);
    assert_true(strncmp(render(lx, "is it raining"), "@x", 2) == 0);
    /* not a later clause of a sentence that has its subject */
    assert_null(strstr(render(lx, "he came home, pulling away from me"), "@u"));
}

/* Chat drops its "I" ("too busy for my bf lately", "miss him so much"),
 * and a person after a preposition is not the subject -- unless a gerund
 * makes them the doer ("tired of my wife ignoring me"). */
static void test_elided_i_and_prepositions(void **state)
{
    const ppl_lexicon *lx = *state;
    assert_true(strncmp(render(lx, "too busy for my boyfriend lately"), "@u", 2) == 0);
    assert_true(strncmp(render(lx, "miss him so much"), "@u", 2) == 0);
    assert_true(strncmp(render(lx, "tired of my wife ignoring me"), "@p", 2) == 0);
    /* a question keeps no elided I */
    assert_null(strstr(render(lx, "need space?"), "@u"));
}

static void test_safety_concepts(void **state)
{
    const ppl_lexicon *lx = *state;
    struct { const char *text, *want; } cases[] = {
        { "he grabbed my wrist hard last night", "~harm_act" },
        { "if I ever leave him he'll make sure I regret it", "~threat" },
        { "he said if I keep nagging he'll make me regret it", "~threat" },
        { "he made me give him all my passwords and reads my messages", "~control" },
        { "honestly I'd rather not wake up tomorrow", "~death_wish" },
        { "I just want to go to sleep and not wake up", "~death_wish" },
        { "I don't see the point of anything anymore", "~death_wish" },
        { "I've been giving away my stuff lately, I won't need it much longer", "~farewell" },
        { "he pushed me against the wall", "~harm_act" },
        { "he hit me up last night", "~figurative" },
        { "he pushed me away when I tried to hug him", "~withdraw" },
        { "he never hit me", "~not_harm_act" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *r = render(lx, cases[i].text);
        if (!strstr(r, cases[i].want)) fail_msg("%s: want %s, got %s", cases[i].text, cases[i].want, r);
    }
    /* the longest member wins at its word */
    assert_null(strstr(render(lx, "he hit me up last night"), "~harm_act"));
    assert_null(strstr(render(lx, "he pushed me away when I tried to hug him"), "~harm_act"));
}

static void test_hostile(void **state)
{
    const ppl_lexicon *lx = *state;
    /* long, odd and empty input: bounded, never fails */
    size_t n = 200000;
    char *big = malloc(n + 1);
    assert_non_null(big);
    for (size_t i = 0; i < n; i++) big[i] = "ab'- ,.?\n"[i % 9];
    big[n] = '\0';
    ppl_analysis a;
    assert_int_equal(ppl_analyse(lx, big, n, &a), 0);
    assert_true(a.n_words <= 2048 * 4);
    ppl_analysis_clear(&a);
    free(big);
    assert_int_equal(ppl_analyse(lx, "", 0, &a), 0);
    assert_int_equal(a.n_words, 0);
    assert_string_equal(a.rendered, "");
    ppl_analysis_clear(&a);
    assert_int_equal(ppl_analyse(lx, "\xff\xfe bad", 6, &a), 0);
    ppl_analysis_clear(&a);
}

/* Does the clause line expr match text's rendering? */
static int clause_matches(const ppl_lexicon *lx, const char *expr, const char *text)
{
    char pat[4096], err[256];
    int col = 0;
    assert_int_equal(ppl_clause_pattern(lx, expr, pat, sizeof pat, &col, err, sizeof err), 0);
    int ec;
    PCRE2_SIZE eo;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &ec, &eo, NULL);
    assert_non_null(re);
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    const char *r = render(lx, text);
    int rc = pcre2_match(re, (PCRE2_SPTR)r, strlen(r), 0, 0, md, NULL);
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    return rc >= 0;
}

static void test_clause_patterns(void **state)
{
    const ppl_lexicon *lx = *state;
    /* who does what */
    assert_true(clause_matches(lx, "partner ~withdraw", "he pulls away every time we get close"));
    assert_false(clause_matches(lx, "partner ~withdraw", "I pull away when she gets close"));
    assert_true(clause_matches(lx, "user ~withdraw", "I pull away when she gets close"));
    assert_true(clause_matches(lx, "partner ~withdraw", "he wants room and I get scared"));
    assert_false(clause_matches(lx, "user ~withdraw", "he wants room and I get scared"));
    assert_true(clause_matches(lx, "user ~fear", "he wants room and I get scared"));
    /* negation */
    assert_false(clause_matches(lx, "partner ~withdraw", "he doesn't pull away anymore"));
    assert_true(clause_matches(lx, "partner not ~withdraw", "he doesn't pull away anymore"));
    assert_false(clause_matches(lx, "partner ~withdraw no ~closeness", "he pulls away from my hugs"));
    assert_true(clause_matches(lx, "partner ~withdraw no ~closeness", "he pulls away when we get close"));
    /* questions */
    assert_true(clause_matches(lx, "partner ~withdraw asks", "does he pull away because of me?"));
    assert_false(clause_matches(lx, "partner ~withdraw says", "does he pull away because of me?"));
    assert_true(clause_matches(lx, "partner ~withdraw says", "he pulled away again"));
    /* words in any inflection, and any subject */
    assert_true(clause_matches(lx, "someone \"silent treatment\"", "my wife gave me the silent treatments"));
    assert_true(clause_matches(lx, "both \"fight\"", "my husband and I fought again"));
    /* errors name the column */
    char pat[512], err[256];
    int col = 0;
    assert_int_equal(ppl_clause_pattern(lx, "boss ~withdraw", pat, sizeof pat, &col, err, sizeof err), -1);
    assert_int_equal(col, 1);
    assert_int_equal(ppl_clause_pattern(lx, "partner ~nosuch", pat, sizeof pat, &col, err, sizeof err), -1);
    assert_int_equal(col, 9);
    assert_non_null(strstr(err, "~nosuch"));
    assert_int_equal(ppl_clause_pattern(lx, "partner", pat, sizeof pat, &col, err, sizeof err), -1);
    assert_int_equal(ppl_clause_pattern(lx, "user \"never closed", pat, sizeof pat, &col, err, sizeof err), -1);
    assert_int_equal(col, 6);
}

/* A tally counts different concepts over the whole message: two warning
 * signs in two sentences mark both clauses; one alone, a negated one, or
 * one in a story does not count. */
static void test_tally(void **state)
{
    const ppl_lexicon *lx = *state;
    const char *r = render(lx, "i wrote down my passwords for him. everyone will cope fine");
    const char *second = strstr(r, "|");
    assert_non_null(second);
    assert_non_null(strstr(r, "~suicide_signs"));
    assert_non_null(strstr(second, "~suicide_signs"));
    assert_null(strstr(render(lx, "i wrote down my passwords for him"), "~suicide_signs"));
    assert_null(strstr(render(lx, "i wrote down my passwords for him. i am not a burden to anyone"),
                       "~suicide_signs"));
    assert_null(strstr(render(lx, "in the book she writes down her passwords. she thinks everyone will cope fine"),
                       "~suicide_signs"));
    /* a counted sign hides no stronger concept under its longer member */
    assert_non_null(strstr(render(lx, "the world would be better without me in it"), "~death_wish"));
    /* the same sign twice is one sign */
    assert_null(strstr(render(lx, "i wrote down my passwords. i wrote down the passwords again"),
                       "~suicide_signs"));
    /* a plan anywhere in a sign's sentence keeps that sentence out; a plan
     * in another sentence does not */
    assert_non_null(strstr(render(lx, "i cancelled everything for next week, i won't be here"),
                           "~suicide_signs"));
    assert_null(strstr(render(lx, "i cancelled everything for next week, i won't be here, "
                                  "work is sending me to berlin"), "~suicide_signs"));
    assert_non_null(strstr(render(lx, "we talked about the move. i cancelled everything for next week, "
                                      "i won't be here"), "~suicide_signs"));
}

struct errs { int n, line[8]; char msg[8][256]; };

static void collect(void *ctx, const char *file, int line, const char *msg)
{
    struct errs *e = ctx;
    (void)file;
    if (e->n < 8) {
        e->line[e->n] = line;
        snprintf(e->msg[e->n], sizeof e->msg[0], "%s", msg);
    }
    e->n++;
}

/* A broken tally line is reported at its own line; the lines around it
 * still load. */
static void test_tally_errors(void **state)
{
    (void)state;
    ppl_lexicon *lx = ppl_lexicon_new(NULL, NULL);
    assert_non_null(lx);
    struct errs e = {0};
    const char *text =
        "concept aa: apple\n"
        "concept bb: banana\n"
        "tally fruit unless: aa\n"        /* 3: unless before the tally */
        "tally fruit: 2 of aa, cc\n"      /* 4: unknown concept */
        "tally fruit: 2 of aa, bb\n"      /* 5: fine */
        "tally fruit: 3 of aa\n"          /* 6: counted to 2 above */
        "concept fruit: pear\n"           /* 7: a tally has no members */
        "tally aa: 1 of bb\n"             /* 8: name taken by a concept */
        "tally veg: two of aa, bb\n"      /* 9: no count */
        "tally veg: 3 of aa, bb\n";       /* 10: more than it counts */
    assert_int_equal(ppl_lexicon_parse(lx, "t.lexicon", text, collect, &e), 7);
    int want[] = {3, 4, 6, 7, 8, 9, 10};
    for (int i = 0; i < 7; i++) assert_int_equal(e.line[i], want[i]);
    assert_non_null(strstr(e.msg[1], "~cc"));
    assert_true(ppl_concept_find(lx, "fruit") >= 0);
    assert_int_equal(ppl_lexicon_seal(lx), 0);
    ppl_analysis a;
    const char *t = "an apple. a banana";
    assert_int_equal(ppl_analyse(lx, t, strlen(t), &a), 0);
    assert_non_null(strstr(a.rendered, "~fruit"));
    ppl_analysis_clear(&a);
    ppl_lexicon_free(lx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fold),
        cmocka_unit_test_setup_teardown(test_spelling, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lemmas, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concept_inflections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clauses_and_subjects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_user_as_object, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clause_keeps_subject, setup, teardown),
        cmocka_unit_test_setup_teardown(test_from_whom, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quoted_speech, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pronoun_gender, setup, teardown),
        cmocka_unit_test_setup_teardown(test_negation_and_questions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quoted_phrase, setup, teardown),
        cmocka_unit_test_setup_teardown(test_name_of_other, setup, teardown),
        cmocka_unit_test_setup_teardown(test_used_to, setup, teardown),
        cmocka_unit_test_setup_teardown(test_partner_in_message, setup, teardown),
        cmocka_unit_test_setup_teardown(test_question_auxiliary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_elided_partner, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_and_makes_me, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gerund_is_the_writer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_elided_i_and_prepositions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_safety_concepts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clause_patterns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tally, setup, teardown),
        cmocka_unit_test(test_tally_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
