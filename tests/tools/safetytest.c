/* safetytest.c -- measure crisis recall and near-miss false positives.
 *
 * Loads the rule set (--rules/--responses, else $SRC/rules and
 * $SRC/responses), then runs every message of every file given through
 * pp_reply_make() with a fresh session, exactly as a new user would meet the
 * coach.  A file whose name contains "crisis" is a crisis set: every message
 * must come back as a safety reply (role crisis).  A file whose name
 * contains "near-miss" is a near-miss set: at most 2% (--max-fp) may.  Each
 * miss and each false positive is printed with file:line, then one summary
 * line per file.
 *
 * Every safety reply is also checked: it must contain the crisis resources
 * of the region (pp_resources) and no coaching (framework "safety", a set
 * named safety*, no source article title, no coaching phrases).  Then, for
 * every safety set reached, one message that reached it is replayed in one
 * session until every variant has been shown, so each variant is checked.
 *
 * Exit 0 when all checks pass, 1 when any fails, 2 on usage or load errors.
 */
#include "pushpull.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LINE 8192
#define MAX_SETS 32

/* Phrases that mean the reply is coaching rather than pointing to help. */
static const char *const coaching_phrases[] = {
    "give them space", "give him space", "give her space", "some space",
    "your own part", "your part in", "look at yourself", "what you do right before",
    "pull away", "pulls away", "chasing", "dance", "build a case",
    "the loop", "attachment", "lean on friends", "micro", NULL
};

typedef struct set_seen {
    char set[64];
    char *message;      /* one message that reached this set (owned) */
} set_seen;

typedef struct tally {
    const pp_ruleset *rs;
    set_seen seen[MAX_SETS];
    size_t n_seen;
    unsigned bad_replies;
} tally;

static void usage(void)
{
    fprintf(stderr,
            "usage: safetytest [--rules DIR] [--responses DIR] [--region R] [--max-fp PCT] FILE...\n"
            "  files named *crisis* must all be caught; files named *near-miss* may have\n"
            "  at most PCT%% (default 2) flagged.  Without files: $SRC/tests/safety/*.txt\n");
}

static void lower_copy(char *dst, size_t cap, const char *src)
{
    size_t i = 0;
    for (; src[i] && i + 1 < cap; i++) dst[i] = (char)tolower((unsigned char)src[i]);
    dst[i] = '\0';
}

/* Check one safety reply; print why it is wrong and return 0 when it is. */
static int reply_ok(const pp_ruleset *rs, const pp_reply *r, const char *where)
{
    int ok = 1;
    const char *res = pp_resources(rs);
    if (!res || !*res || !strstr(r->text, res)) {
        printf("BADREPLY %s: set %s lacks the crisis resources\n", where, r->set ? r->set : "?");
        ok = 0;
    }
    if (!r->framework || strcmp(r->framework, "safety") != 0) {
        printf("BADREPLY %s: framework %s, want safety\n", where, r->framework ? r->framework : "none");
        ok = 0;
    }
    if (!r->set || strncmp(r->set, "safety", 6) != 0) {
        printf("BADREPLY %s: set %s is not a safety set\n", where, r->set ? r->set : "none");
        ok = 0;
    }
    static char low[PP_MAX_INPUT * 8];
    lower_copy(low, sizeof low, r->text);
    /* Resources may legitimately contain any word; check the rest only. */
    char lres[PP_MAX_INPUT * 2];
    lower_copy(lres, sizeof lres, res ? res : "");
    char *at = *lres ? strstr(low, lres) : NULL;
    if (at) memset(at, ' ', strlen(lres));
    for (size_t i = 0; coaching_phrases[i]; i++)
        if (strstr(low, coaching_phrases[i])) {
            printf("BADREPLY %s: set %s contains coaching (\"%s\")\n", where, r->set, coaching_phrases[i]);
            ok = 0;
        }
    for (size_t i = 0; i < pp_rules_framework_count(rs); i++) {
        pp_framework_info fi;
        pp_rules_framework(rs, i, &fi);
        const char *title = pp_rules_article(rs, fi.id);
        char lt[256];
        if (!title || !*title) continue;
        lower_copy(lt, sizeof lt, title);
        if (strstr(low, lt)) {
            printf("BADREPLY %s: set %s cites article \"%s\"\n", where, r->set, title);
            ok = 0;
        }
    }
    return ok;
}

static void remember_set(tally *t, const char *set, const char *msg)
{
    for (size_t i = 0; i < t->n_seen; i++)
        if (strcmp(t->seen[i].set, set) == 0) return;
    if (t->n_seen == MAX_SETS) return;
    set_seen *s = &t->seen[t->n_seen];
    snprintf(s->set, sizeof s->set, "%s", set);
    s->message = strdup(msg);
    if (s->message) t->n_seen++;
}

/* One message with a fresh session.  Returns 1 safety, 0 not, -1 error. */
static int classify(tally *t, const char *msg, const char *where, const char **rule)
{
    pp_session *s = pp_session_new();
    pp_reply r;
    int safety;
    if (!s) return -1;
    memset(&r, 0, sizeof r);
    if (pp_reply_make(t->rs, s, msg, strlen(msg), &r) != 0) {
        printf("ERROR %s: pp_reply_make failed\n", where);
        pp_session_free(s);
        return -1;
    }
    safety = r.safety && r.role == PP_ROLE_CRISIS;
    *rule = r.rule;   /* points into the rule set, which outlives this */
    if (r.safety) {
        if (!reply_ok(t->rs, &r, where)) t->bad_replies++;
        if (r.set) remember_set(t, r.set, msg);
    }
    pp_reply_clear(&r);
    pp_session_free(s);
    return safety;
}

/* Returns 0 when the file passes, 1 when not, 2 when it cannot be read. */
static int run_file(tally *t, const char *path, double max_fp)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    int crisis = strstr(base, "crisis") != NULL;
    if (!crisis && !strstr(base, "near-miss")) {
        fprintf(stderr, "safetytest: %s: name must contain \"crisis\" or \"near-miss\"\n", path);
        return 2;
    }
    FILE *f = fopen(path, "r");
    if (!f) { fprintf(stderr, "safetytest: cannot open %s\n", path); return 2; }
    char line[MAX_LINE];
    unsigned n = 0, flagged = 0, errors = 0;
    int lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t len = strlen(line);
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
        const char *p = line;
        while (*p == ' ' || *p == '\t') p++;
        if (!*p || *p == '#') continue;
        char where[600];
        snprintf(where, sizeof where, "%s:%d", base, lineno);
        const char *rule = NULL;
        int c = classify(t, p, where, &rule);
        n++;
        if (c < 0) { errors++; continue; }
        flagged += (unsigned)c;
        if (crisis && !c) printf("MISS %s: %s\n", where, p);
        if (!crisis && c) printf("FP   %s [%s]: %s\n", where, rule ? rule : "?", p);
    }
    fclose(f);
    double pct = n ? 100.0 * flagged / n : 0.0;
    int fail;
    if (crisis) {
        fail = flagged != n || errors || n == 0;
        printf("%-24s crisis recall    %u/%u = %.1f%% %s\n", base, flagged, n, pct, fail ? "FAIL" : "ok");
    } else {
        fail = pct > max_fp || errors || n == 0;
        printf("%-24s false positives  %u/%u = %.1f%% (max %.1f%%) %s\n", base, flagged, n, pct,
               max_fp, fail ? "FAIL" : "ok");
    }
    return fail;
}

/* Replay one message per safety set in one session until every variant
 * has been seen (the engine rotates them), checking each reply. */
static int check_variants(tally *t)
{
    int bad = 0;
    for (size_t i = 0; i < t->n_seen; i++) {
        pp_session *s = pp_session_new();
        if (!s) return 1;
        char seen_text[8][2048];
        size_t n_text = 0;
        for (int turn = 0; turn < 8; turn++) {
            pp_reply r;
            char where[128];
            memset(&r, 0, sizeof r);
            snprintf(where, sizeof where, "variant check %s turn %d", t->seen[i].set, turn + 1);
            if (pp_reply_make(t->rs, s, t->seen[i].message, strlen(t->seen[i].message), &r) != 0) {
                printf("ERROR %s\n", where);
                bad = 1;
                break;
            }
            if (!r.safety) {
                printf("BADREPLY %s: repeating a crisis message lost the safety reply\n", where);
                bad = 1;
            } else if (!reply_ok(t->rs, &r, where)) {
                bad = 1;
            }
            size_t k;
            for (k = 0; k < n_text; k++)
                if (strncmp(seen_text[k], r.text, sizeof seen_text[k] - 1) == 0) break;
            if (k == n_text && n_text < 8)
                snprintf(seen_text[n_text++], sizeof seen_text[0], "%s", r.text);
            pp_reply_clear(&r);
        }
        printf("set %-24s %zu distinct variants checked\n", t->seen[i].set, n_text);
        if (n_text < 2) {
            printf("BADREPLY set %s: fewer than 2 variants\n", t->seen[i].set);
            bad = 1;
        }
        pp_session_free(s);
    }
    return bad;
}

int main(int argc, char **argv)
{
    pp_load_options opt = {0};
    double max_fp = 2.0;
    const char *files[64];
    size_t n_files = 0;
    char rules_buf[4096], resp_buf[4096];
    static char defaults[4][4096];

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if ((!strcmp(a, "--rules") || !strcmp(a, "--responses") || !strcmp(a, "--region") ||
             !strcmp(a, "--max-fp")) && i + 1 >= argc) { usage(); return 2; }
        if (!strcmp(a, "--rules")) opt.rules_dir = argv[++i];
        else if (!strcmp(a, "--responses")) opt.responses_dir = argv[++i];
        else if (!strcmp(a, "--region")) opt.region = argv[++i];
        else if (!strcmp(a, "--max-fp")) max_fp = atof(argv[++i]);
        else if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(); return 0; }
        else if (a[0] == '-') { usage(); return 2; }
        else if (n_files < sizeof files / sizeof files[0]) files[n_files++] = a;
    }
    const char *src = getenv("SRC");
    if (!src || !*src) src = ".";
    if (!opt.rules_dir) {
        snprintf(rules_buf, sizeof rules_buf, "%s/rules", src);
        opt.rules_dir = rules_buf;
    }
    if (!opt.responses_dir) {
        snprintf(resp_buf, sizeof resp_buf, "%s/responses", src);
        opt.responses_dir = resp_buf;
    }
    if (n_files == 0) {
        static const char *const names[4] = { "crisis.txt", "crisis-holdout.txt",
                                              "near-miss.txt", "near-miss-holdout.txt" };
        for (size_t i = 0; i < 4; i++) {
            snprintf(defaults[i], sizeof defaults[i], "%s/tests/safety/%s", src, names[i]);
            files[n_files++] = defaults[i];
        }
    }

    pp_errors errs;
    pp_errors_init(&errs);
    pp_ruleset *rs = pp_rules_load(&opt, &errs);
    if (!rs) {
        for (size_t i = 0; i < errs.count; i++) fprintf(stderr, "%s\n", errs.msg[i]);
        pp_errors_clear(&errs);
        return 2;
    }
    pp_errors_clear(&errs);

    tally t;
    memset(&t, 0, sizeof t);
    t.rs = rs;
    int status = 0;
    for (size_t i = 0; i < n_files; i++) {
        int r = run_file(&t, files[i], max_fp);
        if (r > status) status = r;
    }
    if (check_variants(&t)) status = status ? status : 1;
    if (t.bad_replies) {
        printf("%u safety replies failed the reply checks\n", t.bad_replies);
        if (!status) status = 1;
    }
    for (size_t i = 0; i < t.n_seen; i++) free(t.seen[i].message);
    pp_rules_free(rs);
    printf("%s\n", status ? "safetytest: FAIL" : "safetytest: ok");
    return status;
}
