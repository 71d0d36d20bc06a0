/* check.c -- `pushpull check`: is the content sound?
 *
 * Loads every rule and response file (printing every error as file:line;
 * a set without crisis rules is refused like every front end refuses it,
 * see app_load_rules), then for each rule runs its examples (each must match the rule) and
 * counter-examples (none may), warns when an example is taken by another
 * rule that outranks it (a shadowed rule), when a pattern hits the PCRE2
 * limits on an example or on hostile input, and when a hostile input
 * spends a message's whole step budget, naming the rules that spent it
 * (rules to rewrite), and when an entry of the Telegram menu would be
 * left out (tg_menu_build).  Every pass asks about each rule or input once:
 * the work grows with the number of rules, not with its square.
 * Then it scores the corpus (the .tsv files in tests/corpus: message, role,
 * acceptable frameworks): role and framework accuracy per file, counts per
 * framework, and how often each rule is hit.  With --json the same
 * results are one JSON object on stdout (see usage()); the load errors
 * stay on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <limits.h>
#include <stdarg.h>
#include <errno.h>
#include <jansson.h>

#include "app.h"
#include "cli.h"
#include "telegram.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: pushpull check [OPTIONS]\n\n"
               "Loads the rules and responses, runs every rule's examples and counter-examples,\n"
               "reports shadowed rules and rules that hit the matching limits, and scores the corpus.\n\n"
               "  --rules DIR, --responses DIR   what to check (default: the source tree or share dir)\n"
               "  --corpus DIR         labelled messages (*.tsv; default tests/corpus in the source tree)\n"
               "  --min-accuracy PCT   fail when role accuracy on any corpus file is below PCT\n"
               "  --quiet              print only problems and the summary\n"
               "  --read TEXT          print how the language layer reads TEXT (its clauses,\n"
               "                       subjects, concepts and lemmas) and which rule wins; no checks\n"
               "  --json               the results as one JSON object: ok, rules, examples,\n"
               "                       failed, warnings, problems [{level, file, line, rule,\n"
               "                       message}], corpus [{file, messages, role_accuracy,\n"
               "                       framework_accuracy, below_minimum}], misses (never of a\n"
               "                       *holdout* file), hits\n\n"
               "Exit status: 0 all good, 1 an error (also: no crisis rules for self-harm and\n"
               "violence) or a failed example (or accuracy below the minimum), 2 usage error.\n");
}

/* Where results go: printed as they come, or gathered for --json. */
typedef struct report {
    int json, quiet;
    json_t *problems, *corpus, *misses;   /* --json only */
} report;

/* A FAIL or WARN about file:line (rule may be NULL). */
static void problem(report *r, const char *level, const char *file, int line, const char *rule,
                    const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!r->json) {
        printf("%s:%d: %s %s\n", file, line, level, msg);
        return;
    }
    json_t *o = json_object();
    json_object_set_new(o, "level", json_string(strcmp(level, "FAIL") == 0 ? "fail" : "warn"));
    json_object_set_new(o, "file", json_string(file));
    json_object_set_new(o, "line", json_integer(line));
    json_object_set_new(o, "rule", rule ? json_string(rule) : json_null());
    json_object_set_new(o, "message", json_string(msg));
    json_array_append_new(r->problems, o);
}

typedef struct corpus_score {
    size_t total, role_ok, fw_ok;
} corpus_score;

static int fw_in(const char *fw, const char *list)
{
    if (!fw) return strcmp(list, "-") == 0 || list[0] == '\0';
    size_t n = strlen(fw);
    for (const char *p = list; *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        while (len && p[len - 1] == ' ') len--;
        while (len && *p == ' ') { p++; len--; }
        if (len == n && strncmp(p, fw, n) == 0) return 1;
        if (!comma) break;
        p = comma + 1;
    }
    return 0;
}

static int score_file(const pp_ruleset *rs, const char *path, corpus_score *sc,
                      size_t *hits, size_t *fw_counts, report *rp)
{
    FILE *f = fopen(path, "r");
    if (!f) { fprintf(stderr, "%s: cannot open\n", path); return -1; }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int lineno = 0;
    /* a held-out file's misses are counted, never shown: whoever reads
     * them would tune the rules to them, and it would measure nothing */
    const char *base = strrchr(path, '/');
    int held_out = strstr(base ? base + 1 : path, "holdout") != NULL;
    while ((n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if (n && line[n - 1] == '\n') line[--n] = '\0';
        if (!line[0] || line[0] == '#') continue;
        char *t1 = strchr(line, '\t');
        char *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        if (!t1) { fprintf(stderr, "%s:%d: expected message<TAB>role<TAB>frameworks\n", path, lineno); continue; }
        *t1 = '\0';
        if (t2) *t2 = '\0';
        const char *role = t1 + 1, *fws = t2 ? t2 + 1 : "-";
        pp_match m;
        if (pp_match_text(rs, line, strlen(line), &m)) continue;
        pp_rule_info ri = {0};
        const char *got_role = "none", *got_fw = NULL;
        if (m.rule >= 0 && pp_rules_info(rs, (size_t)m.rule, &ri) == 0) {
            got_role = pp_role_name(m.role);
            got_fw = ri.framework;
            hits[m.rule]++;
            int k = pp_rules_framework_find(rs, got_fw);
            if (k >= 0) fw_counts[k]++;
        }
        sc->total++;
        int rok = strcmp(role, got_role) == 0;
        int fok = rok && (strcmp(role, "none") == 0 ? (got_fw == NULL || fw_in(got_fw, fws) || strcmp(fws, "-") == 0)
                                                    : fw_in(got_fw, fws));
        sc->role_ok += rok;
        sc->fw_ok += fok;
        if (!rp->quiet && !rok && !held_out && rp->json) {
            json_t *o = json_object();
            json_object_set_new(o, "file", json_string(path));
            json_object_set_new(o, "line", json_integer(lineno));
            json_object_set_new(o, "want", json_string(role));
            json_object_set_new(o, "got", json_string(got_role));
            json_object_set_new(o, "rule", ri.id ? json_string(ri.id) : json_null());
            json_object_set_new(o, "text", json_string(line));
            json_array_append_new(rp->misses, o);
        } else if (!rp->quiet && !rok && !held_out)
            printf("  miss %s:%d: want %s, got %s%s%s: %s\n", path, lineno, role, got_role,
                   ri.id ? " by " : "", ri.id ? ri.id : "", line);
    }
    free(line);
    fclose(f);
    return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Inputs that make careless patterns backtrack: each rule on its own
 * (does a pattern hit the per-pattern limit?), then the whole set the way
 * a reply runs it (does the message spend PP_STEP_BUDGET, and on what?). */
static void hostile_inputs(const pp_ruleset *rs, size_t *limit_rules,
                           size_t *budget_rules)
{
    char *buf = malloc(PP_MAX_INPUT + 1);
    if (!buf) return;
    const char *seeds[] = { "a", "he ", "my ", "I ", "why ", "  ", "x.", "'", NULL };
    for (int k = 0; seeds[k]; k++) {
        size_t sl = strlen(seeds[k]), n = 0;
        while (n + sl <= PP_MAX_INPUT) { memcpy(buf + n, seeds[k], sl); n += sl; }
        buf[n] = '\0';
        pp_match_limits(rs, buf, n, limit_rules);
        pp_match m;
        if (pp_match_text(rs, buf, n, &m) == 0 && m.budget_spent)
            for (int k = 0; k < 3; k++)
                if (m.spent_by[k] >= 0) budget_rules[m.spent_by[k]]++;
    }
    free(buf);
}

/* A Telegram menu entry the bot would leave out (tg_menu_build): a WARN. */
typedef struct menu_warnings {
    report *rp;
    size_t n;
} menu_warnings;

static void menu_warn(void *arg, const char *file, int line, const char *command, const char *why)
{
    menu_warnings *mw = arg;
    problem(mw->rp, "WARN", file, line, NULL, "Telegram menu entry%s%s left out: %s",
            command[0] ? " /" : "", command, why);
    mw->n++;
}

/* A percentage from 0 to 100, all of text: 0, else -1. */
static int parse_percent(const char *text, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *end != '\0' || errno || !(v >= 0 && v <= 100)) return -1;
    *out = v;
    return 0;
}

/* --read: the language layer's reading of text, then the rule that wins,
 * for a coach asking why a message is read as it is. */
static int read_one(const pp_ruleset *rs, const char *text)
{
    char *r = pp_rules_reading(rs, text, strlen(text));
    if (!r) {
        fprintf(stderr, "pushpull check: out of memory\n");
        return 1;
    }
    printf("%s\n", r);
    free(r);
    pp_match m;
    if (pp_match_text(rs, text, strlen(text), &m) != 0) {
        fprintf(stderr, "pushpull check: out of memory\n");
        return 1;
    }
    if (m.rule < 0) {
        printf("rule: none (the reply would be the fallback)\n");
        return 0;
    }
    pp_rule_info ri;
    pp_rules_info(rs, (size_t)m.rule, &ri);
    printf("rule: %s (%s:%d), role %s, framework %s, priority %d\n", ri.id, ri.file, ri.line,
           pp_role_name(ri.role), ri.framework, ri.priority);
    return 0;
}

int cli_check(int argc, char **argv)
{
    static const char *const names[] = {
        "--corpus", "--min-accuracy", "--quiet", "--read", "--json", "--help", "--version", NULL
    };
    app_common c = {0};
    const char *corpus = NULL, *read = NULL;
    double min_acc = -1;
    report rp = {0};
    for (int i = 1; i < argc; i++) {
        int r = app_common_opt(&c, argc, argv, &i);
        if (r < 0) return 2;
        if (r) continue;
        const char *a = argv[i];
        int corpus_opt = !strncmp(a, "--corpus", 8) && (a[8] == '\0' || a[8] == '=');
        int acc_opt = !strncmp(a, "--min-accuracy", 14) && (a[14] == '\0' || a[14] == '=');
        int read_opt = !strncmp(a, "--read", 6) && (a[6] == '\0' || a[6] == '=');
        if (corpus_opt || acc_opt || read_opt) {
            const char *eq = strchr(a, '='), *v = eq ? eq + 1 : i + 1 < argc ? argv[++i] : NULL;
            if (!v) {
                fprintf(stderr, "pushpull check: %s needs a value\n", a);
                return 2;
            }
            if (corpus_opt) corpus = v;
            else if (read_opt) read = v;
            else if (parse_percent(v, &min_acc) != 0) {
                fprintf(stderr, "pushpull check: --min-accuracy takes a percentage from 0 to 100, "
                                "not '%.40s'\npushpull check: see 'pushpull check --help'\n", v);
                return 2;
            }
        }
        else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) rp.quiet = 1;
        else if (strcmp(a, "--json") == 0) rp.json = 1;
        else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) { usage(stdout); return 0; }
        else if (strcmp(a, "--version") == 0) { printf("pushpull %s\n", PP_VERSION); return 0; }
        else return app_unknown_arg("pushpull check", a, names, 1);
    }
    pp_ruleset *rs = app_load_rules(&c);
    if (!rs) return 1;
    if (read) {
        int rc = read_one(rs, read);
        pp_rules_free(rs);
        return rc;
    }
    size_t nr = pp_rules_count(rs), failures = 0, warnings = 0, n_ex = 0;
    size_t *hits = calloc(nr + 1, sizeof *hits), *limits = calloc(nr + 1, sizeof *limits);
    size_t *spends = calloc(nr + 1, sizeof *spends);
    size_t nfw = pp_rules_framework_count(rs);
    size_t *fw_counts = calloc(nfw + 1, sizeof *fw_counts);   /* hits per catalogue entry */
    if (rp.json) {
        rp.problems = json_array();
        rp.corpus = json_array();
        rp.misses = json_array();
    }
    if (!hits || !limits || !spends || !fw_counts
        || (rp.json && (!rp.problems || !rp.corpus || !rp.misses))) {
        fprintf(stderr, "pushpull check: out of memory\n");
        free(hits); free(limits); free(spends); free(fw_counts);
        json_decref(rp.problems); json_decref(rp.corpus); json_decref(rp.misses);
        pp_rules_free(rs);
        return 1;
    }
    for (size_t i = 0; i < nr; i++) {
        pp_rule_info ri;
        pp_rules_info(rs, i, &ri);
        for (size_t k = 0; k < ri.n_examples; k++) {
            const char *ex = ri.examples[k];
            int lim = 0;
            n_ex++;
            if (!pp_match_rule(rs, i, ex, strlen(ex), &lim)) {
                problem(&rp, "FAIL", ri.file, ri.example_lines[k], ri.id,
                        "rule %s does not match its example: %s", ri.id, ex);
                failures++;
                continue;
            }
            if (lim) {
                problem(&rp, "WARN", ri.file, ri.example_lines[k], ri.id,
                        "rule %s hits the PCRE2 limit on: %s", ri.id, ex);
                warnings++;
            }
            pp_match m;
            /* rules that need a conversation (after:) can't win here */
            if (!ri.contextual && pp_match_text(rs, ex, strlen(ex), &m) == 0 && m.rule >= 0
                && (size_t)m.rule != i) {
                pp_rule_info w;
                pp_rules_info(rs, (size_t)m.rule, &w);
                problem(&rp, "WARN", ri.file, ri.example_lines[k], ri.id,
                        "example of %s is taken by %s (%s:%d, priority %d vs %d): %s",
                        ri.id, w.id, w.file, w.line, w.priority, ri.priority, ex);
                warnings++;
            }
        }
        for (size_t k = 0; k < ri.n_counter; k++) {
            const char *ex = ri.counter[k];
            n_ex++;
            if (pp_match_rule(rs, i, ex, strlen(ex), NULL)) {
                problem(&rp, "FAIL", ri.file, ri.counter_lines[k], ri.id,
                        "rule %s matches its counter-example: %s", ri.id, ex);
                failures++;
            }
        }
    }
    hostile_inputs(rs, limits, spends);
    for (size_t i = 0; i < nr; i++) {
        if (!limits[i] && !spends[i]) continue;
        pp_rule_info ri;
        pp_rules_info(rs, i, &ri);
        if (limits[i]) {
            problem(&rp, "WARN", ri.file, ri.line, ri.id,
                    "rule %s hits the PCRE2 match limit on %zu hostile input%s: rewrite it "
                    "with bounded repetition", ri.id, limits[i], limits[i] == 1 ? "" : "s");
            warnings++;
        }
        if (spends[i]) {
            problem(&rp, "WARN", ri.file, ri.line, ri.id,
                    "rule %s spends the step budget of a message (%d steps for all rules) "
                    "on %zu hostile input%s: rules after it go untried", ri.id,
                    PP_STEP_BUDGET, spends[i], spends[i] == 1 ? "" : "s");
            warnings++;
        }
    }
    /* the Telegram menu (responses/bots.responses), read as the bot reads it */
    menu_warnings mw = { &rp, 0 };
    json_decref(tg_menu_build(rs, menu_warn, &mw));
    warnings += mw.n;
    if (!rp.json)
        printf("rules: %zu, examples and counter-examples: %zu, failed: %zu, warnings: %zu\n",
               nr, n_ex, failures, warnings);

    /* the corpus */
    char cbuf[PATH_MAX];
    if (!corpus) {
        char rbuf[PATH_MAX];
        const char *rd = c.rules_dir ? c.rules_dir : app_default_dir("rules", rbuf, sizeof rbuf);
        snprintf(cbuf, sizeof cbuf, "%s/../tests/corpus", rd);
        corpus = cbuf;
    }
    DIR *d = opendir(corpus);
    int below = 0;
    const char *corpus_error = NULL;
    if (d) {
        char *files[64];
        size_t nf = 0;
        struct dirent *e;
        while ((e = readdir(d)) != NULL && nf < 64) {
            size_t l = strlen(e->d_name);
            if (l > 4 && strcmp(e->d_name + l - 4, ".tsv") == 0) files[nf++] = strdup(e->d_name);
        }
        closedir(d);
        qsort(files, nf, sizeof *files, cmp_str);
        for (size_t f = 0; f < nf; f++) {
            char path[PATH_MAX + 256];
            snprintf(path, sizeof path, "%s/%s", corpus, files[f]);
            corpus_score sc = {0};
            if (score_file(rs, path, &sc, hits, fw_counts, &rp) == 0 && sc.total) {
                double ra = 100.0 * (double)sc.role_ok / (double)sc.total;
                double fa = 100.0 * (double)sc.fw_ok / (double)sc.total;
                int low = min_acc >= 0 && ra < min_acc;
                below |= low;
                if (rp.json) {
                    json_t *o = json_object();
                    json_object_set_new(o, "file", json_string(files[f]));
                    json_object_set_new(o, "messages", json_integer((json_int_t)sc.total));
                    json_object_set_new(o, "role_ok", json_integer((json_int_t)sc.role_ok));
                    json_object_set_new(o, "role_accuracy", json_real(ra));
                    json_object_set_new(o, "framework_ok", json_integer((json_int_t)sc.fw_ok));
                    json_object_set_new(o, "framework_accuracy", json_real(fa));
                    json_object_set_new(o, "below_minimum", json_boolean(low));
                    json_array_append_new(rp.corpus, o);
                } else {
                    printf("corpus %s: %zu messages, role accuracy %.1f%% (%zu/%zu), framework accuracy %.1f%%\n",
                           files[f], sc.total, ra, sc.role_ok, sc.total, fa);
                    if (low)
                        printf("corpus %s: role accuracy below the minimum %.1f%%\n", files[f], min_acc);
                }
            }
            free(files[f]);
        }
        if (!rp.quiet && !rp.json) {
            printf("hits per framework:");
            for (size_t k = 0; k < nfw; k++) {
                pp_framework_info fi;
                if (fw_counts[k] && pp_rules_framework(rs, k, &fi) == 0)
                    printf(" %s=%zu", fi.id, fw_counts[k]);
            }
            printf("\nhits per rule:\n");
            for (size_t i = 0; i < nr; i++) {
                pp_rule_info ri;
                pp_rules_info(rs, i, &ri);
                printf("  %5zu  %s\n", hits[i], ri.id);
            }
        }
    } else if (min_acc >= 0) {
        corpus_error = "no directory";
        if (!rp.json) printf("corpus: no directory %s\n", corpus);
        below = 1;
    }
    int status = failures || below ? 1 : 0;
    if (rp.json) {
        json_t *o = json_object(), *fw = json_object(), *ru = json_object(), *h = json_object();
        json_object_set_new(o, "ok", json_boolean(!status));
        json_object_set_new(o, "rules", json_integer((json_int_t)nr));
        json_object_set_new(o, "examples", json_integer((json_int_t)n_ex));
        json_object_set_new(o, "failed", json_integer((json_int_t)failures));
        json_object_set_new(o, "warnings", json_integer((json_int_t)warnings));
        json_object_set_new(o, "problems", rp.problems);
        json_object_set_new(o, "corpus_dir", json_string(corpus));
        json_object_set_new(o, "corpus_error", corpus_error ? json_string(corpus_error) : json_null());
        json_object_set_new(o, "min_accuracy", min_acc >= 0 ? json_real(min_acc) : json_null());
        json_object_set_new(o, "corpus", rp.corpus);
        json_object_set_new(o, "misses", rp.misses);
        for (size_t k = 0; k < nfw; k++) {
            pp_framework_info fi;
            if (fw_counts[k] && pp_rules_framework(rs, k, &fi) == 0)
                json_object_set_new(fw, fi.id, json_integer((json_int_t)fw_counts[k]));
        }
        for (size_t i = 0; i < nr; i++) {
            pp_rule_info ri;
            pp_rules_info(rs, i, &ri);
            json_object_set_new(ru, ri.id, json_integer((json_int_t)hits[i]));
        }
        json_object_set_new(h, "frameworks", fw);
        json_object_set_new(h, "rules", ru);
        json_object_set_new(o, "hits", h);
        char *out = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
        if (!out) {
            fprintf(stderr, "pushpull check: could not write JSON\n");
            status = 1;
        } else {
            puts(out);
            free(out);
        }
        json_decref(o);
    }
    free(hits);
    free(limits);
    free(spends);
    free(fw_counts);
    pp_rules_free(rs);
    return status;
}
