/* reframe.c -- `pushpull reframe`: rewrite complaints as gentle start-ups.
 *
 * A thin front end over pp_reframe(): the complaint comes from the
 * arguments (joined with spaces), or one per line from stdin when there are
 * none.  Plain output names what was found, one sentence each on why it
 * backfires, then "Try saying:" and the rewrite; --json prints one compact
 * JSON object per complaint (jansson).  Stdin lines are read by lines.c
 * into a bounded buffer; the rest of an over-long line is skipped (the
 * library would cut it anyway).
 *
 * Safety first: a "complaint" may be a message about suicide or violence,
 * and rewriting that into an I-statement would coach it.  So reframe loads
 * the rules like chat and reply (--rules, --responses, --region; refused
 * without crisis rules, see app_load_rules) and asks them about each
 * complaint first, as the first message of a fresh conversation: when a
 * crisis rule answers, that crisis reply (with the resources) is printed
 * instead of a rewrite ("safety": true in --json).
 */
#include "app.h"
#include "cli.h"
#include "lines.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char USAGE[] =
    "usage: pushpull reframe [--json] [--rules DIR] [--responses DIR] [--region R] [COMPLAINT...]\n"
    "\n"
    "Turn a blaming complaint into a gentle start-up: an I-statement with a\n"
    "feeling, the situation without blame, a need and a doable request.\n"
    "With no COMPLAINT, reads one complaint per line from standard input.\n"
    "A complaint that a crisis rule catches gets the crisis reply instead,\n"
    "so the rules are loaded, and a rules directory without crisis rules\n"
    "is refused.\n"
    "\n"
    "  --json     one JSON object per complaint: text, horsemen, rewrite,\n"
    "             notes, gentle, template (a crisis: text, safety, reply)\n"
    "  --rules DIR, --responses DIR, --region R   as for chat and reply\n"
    "  --help     this text\n"
    "\n"
    "The region defaults to the locale's country (LANG=en_GB.UTF-8: uk).\n"
    "Exit status: 0 ok, 1 failure (also: the rules did not load or hold no\n"
    "crisis rules), 2 usage error (also: an empty complaint).\n";

static int print_json(const pp_reframe_result *r)
{
    json_t *o = json_object(), *h = json_array(), *n = json_array();
    int bad = !o || !h || !n;
    for (unsigned bit = 1; !bad && bit <= PP_HORSEMAN_STONEWALLING; bit <<= 1)
        if (r->horsemen & bit)
            bad |= json_array_append_new(h, json_string(pp_horseman_name(bit)));
    for (size_t i = 0; !bad && i < r->n_notes; i++)
        bad |= json_array_append_new(n, json_string(r->notes[i]));
    if (!bad) {
        bad |= json_object_set_new(o, "text", json_string(r->text));
        bad |= json_object_set(o, "horsemen", h);
        bad |= json_object_set_new(o, "rewrite", json_string(r->rewrite));
        bad |= json_object_set(o, "notes", n);
        bad |= json_object_set_new(o, "gentle", json_boolean(r->already_gentle));
        bad |= json_object_set_new(o, "template", json_boolean(r->template_only));
    }
    char *s = bad ? NULL : json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(h);
    json_decref(n);
    json_decref(o);
    if (!s)
        return -1;
    int rc = printf("%s\n", s) < 0 ? -1 : 0;
    free(s);
    return rc;
}


/* The crisis reply when a crisis rule answers text as a first message:
 * 1 (printed), 0 (not a crisis: reframe it), -1 (an error, said). */
static int crisis(const pp_ruleset *rs, const char *text, size_t len, int json, int first)
{
    pp_session *s = pp_session_new();
    pp_reply r;
    if (!s || pp_reply_make(rs, s, text, len, &r) != 0) {
        fprintf(stderr, "pushpull reframe: could not check the complaint against the crisis rules\n");
        pp_session_free(s);
        return -1;
    }
    int is_crisis = r.safety, rc = is_crisis;   /* a safety reply never coaches */
    if (is_crisis && json) {
        json_t *o = json_object();
        int bad = !o || json_object_set_new(o, "text", json_string(r.input))
                  || json_object_set_new(o, "safety", json_true())
                  || json_object_set_new(o, "reply", json_string(r.text));
        char *out = bad ? NULL : json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(o);
        if (!out || printf("%s\n", out) < 0) {
            fprintf(stderr, "pushpull reframe: could not write JSON\n");
            rc = -1;
        }
        free(out);
    } else if (is_crisis) {
        printf("%s%s\n", first ? "" : "\n", r.text);
    }
    pp_reply_clear(&r);
    pp_session_free(s);
    return rc;
}

static int one(const pp_ruleset *rs, const char *text, size_t len, int json, int *first)
{
    int c = crisis(rs, text, len, json, *first);
    if (c != 0) {
        *first = 0;
        return c < 0;
    }
    pp_reframe_result r;
    int rc = pp_reframe(rs, text, len, &r);
    if (rc == PP_EINPUT) {
        fprintf(stderr, "pushpull reframe: the responses directory has no reframe word lists "
                        "(*.words, see docs/rules.md)\n");
        return 1;
    }
    if (rc) {
        fprintf(stderr, "pushpull reframe: could not reframe (error %d)\n", rc);
        return 1;
    }
    if (json) {
        rc = print_json(&r) ? 1 : 0;
        if (rc)
            fprintf(stderr, "pushpull reframe: could not write JSON\n");
    } else {
        if (!*first)
            printf("\n");
        char *text = pp_reframe_format(&r);
        if (text) puts(text);
        free(text);
    }
    *first = 0;
    pp_reframe_clear(&r);
    return rc;
}

/* The common options reframe takes: those that choose the rules. */
static int rules_opt(const char *a)
{
    static const char *const names[] = { "--rules", "--responses", "--region", NULL };
    for (int k = 0; names[k]; k++) {
        size_t n = strlen(names[k]);
        if (!strncmp(a, names[k], n) && (a[n] == '\0' || a[n] == '='))
            return 1;
    }
    return 0;
}

static int run(const pp_ruleset *rs, int argc, char **argv, int i, int json);

int cli_reframe(int argc, char **argv)
{
    int json = 0, i = 1;
    app_common c = { .locale_region = 1 };
    for (; i < argc; i++) {
        if (rules_opt(argv[i])) {
            if (app_common_opt(&c, argc, argv, &i) < 0)
                return 2;
        } else if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(USAGE, stdout);
            return 0;
        } else if (!strcmp(argv[i], "--version")) {
            printf("pushpull %s\n", PP_VERSION);
            return 0;
        } else if (!strcmp(argv[i], "--")) {
            i++;
            break;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            static const char *const names[] = {
                "--json", "--rules", "--responses", "--region", "--help", "--version", NULL
            };
            return app_unknown_arg("pushpull reframe", argv[i], names, 0);
        } else
            break;
    }
    if (i < argc) {
        /* a complaint given as arguments must say something */
        int any = 0;
        for (int k = i; k < argc && !any; k++)
            any = argv[k][strspn(argv[k], " \t\r\n")] != '\0';
        if (!any) {
            fprintf(stderr, "pushpull reframe: the complaint is empty: give it as arguments, "
                            "or none to read one a line from standard input\n"
                            "pushpull reframe: see 'pushpull reframe --help'\n");
            return 2;
        }
    }
    pp_ruleset *rs = app_load_rules(&c);   /* says why it refused */
    if (!rs)
        return 1;
    int rc = run(rs, argc, argv, i, json);
    pp_rules_free(rs);
    return rc;
}

/* The complaints: argv[i..] as one, else one per line of stdin. */
static int run(const pp_ruleset *rs, int argc, char **argv, int i, int json)
{
    int first = 1;
    if (i < argc) {
        /* The rest of the arguments are one complaint. */
        size_t total = 0;
        for (int k = i; k < argc; k++)
            total += strlen(argv[k]) + 1;
        char *text = malloc(total + 1);
        if (!text) {
            fprintf(stderr, "pushpull reframe: out of memory\n");
            return 1;
        }
        size_t n = 0;
        for (int k = i; k < argc; k++) {
            size_t l = strlen(argv[k]);
            if (n)
                text[n++] = ' ';
            memcpy(text + n, argv[k], l);
            n += l;
        }
        text[n] = '\0';
        int rc = one(rs, text, n, json, &first);
        free(text);
        return rc;
    }
    app_lines *in = app_lines_open(STDIN_FILENO, "pushpull reframe");
    if (!in) {
        fprintf(stderr, "pushpull reframe: out of memory\n");
        return 1;
    }
    const char *buf;
    size_t len;
    int got, rc = 0;
    while ((got = app_lines_next(in, &buf, &len)) > 0) {
        size_t k = 0;
        while (k < len && (buf[k] == ' ' || buf[k] == '\t' || buf[k] == '\r'))
            k++;
        if (k == len)
            continue;   /* blank line */
        if (one(rs, buf, len, json, &first)) {
            rc = 1;
            break;
        }
        /* nobody reads the rest: main() says why */
        if (app_flush() != 0)
            break;
    }
    if (got < 0) {
        perror("pushpull reframe: standard input");
        rc = 1;
    }
    app_lines_close(in);
    return rc;
}
