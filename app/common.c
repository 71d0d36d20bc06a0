/* common.c -- what the subcommands share: the common options, where the
 * rules live, loading them with every error printed, and the state store.
 *
 * Rules and responses are looked up, in order: --rules/--responses; the
 * source tree when the program runs from it (build/pushpull finds
 * ../rules); the installed share directory (PP_SHAREDIR).  A set that
 * loads but holds no crisis rules for self-harm and violence
 * (pp_rules_check_crisis) is refused here, naming the rules directory, so
 * that chat, reply, reframe, check and both bots (at start and on SIGHUP)
 * all fail safe the same way.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <strings.h>
#include <unistd.h>
#include <limits.h>
#include <ctype.h>
#include <sys/stat.h>

#include "app.h"
#include "clock.h"

#ifndef PP_SHAREDIR
#define PP_SHAREDIR "/usr/local/share/pushpull"
#endif

/* 1 when name fits a session key; else says why on stderr. */
static int session_name_ok(const char *name, const char *where)
{
    size_t n = strnlen(name, PP_CLI_MAX_SESSION + 1);
    if (n >= 1 && n <= PP_CLI_MAX_SESSION) return 1;
    if (n == 0) fprintf(stderr, "pushpull: %s: a session name cannot be empty\n", where);
    else fprintf(stderr, "pushpull: %s: a session name is at most %d bytes; this one is "
                         "longer (refused rather than cut, so that two names cannot "
                         "share one conversation)\n", where, PP_CLI_MAX_SESSION);
    return 0;
}

int app_common_opt(app_common *c, int argc, char **argv, int *i)
{
    static const char *const with_value[] = {
        "--rules", "--responses", "--region", "--state", "--session", "--programs", NULL
    };
    const char *a = argv[*i];
    for (int k = 0; with_value[k]; k++) {
        size_t n = strlen(with_value[k]);
        if (strncmp(a, with_value[k], n) != 0) continue;
        const char *v = NULL;
        if (a[n] == '=') v = a + n + 1;
        else if (a[n] == '\0') {
            if (*i + 1 >= argc) {
                fprintf(stderr, "pushpull: %s needs a value\n", with_value[k]);
                return -1;
            }
            v = argv[++*i];
        } else continue;
        switch (k) {
        case 0: c->rules_dir = v; break;
        case 1: c->responses_dir = v; break;
        case 2: c->region = v; break;
        case 3: c->state_path = v; break;
        case 4:
            if (!session_name_ok(v, "--session")) return -1;
            c->session = v;
            break;
        case 5: c->programs_dir = v; break;
        }
        return 1;
    }
    if (strcmp(a, "--new") == 0) { c->fresh = 1; return 1; }
    if (strcmp(a, "--no-state") == 0) { c->no_state = 1; return 1; }
    if (strcmp(a, "--keep-transcripts") == 0) { c->keep_transcripts = 1; return 1; }
    return 0;
}

void app_data_usage(FILE *f)
{
    fprintf(f, "  --rules DIR          rule files (default: the source tree or the share dir)\n"
               "  --responses DIR      response files\n"
               "  --programs DIR       program files (/plan)\n"
               "  --region R           crisis resources region (us, uk or gb, au, ...; ISO 3166 codes;\n"
               "                       or PUSHPULL_REGION)\n"
               "  --state PATH         state database (default $XDG_STATE_HOME/pushpull/state.db)\n");
}

void app_common_usage(FILE *f)
{
    app_data_usage(f);
    fprintf(f, "  --session NAME       conversation to resume (default: the last one)\n"
               "  --new                start the conversation afresh\n"
               "  --no-state           keep nothing on disk\n");
}

/* ---- an argument nobody knows ------------------------------------------ */

/* The edit distance of a and b (optimal string alignment: insertions,
 * deletions, substitutions, and two neighbours swapped count one each),
 * or a big number when either is over 31 bytes. */
static size_t edits(const char *a, size_t na, const char *b, size_t nb)
{
    if (na > 31 || nb > 31) return 99;
    size_t d[32][32];
    for (size_t i = 0; i <= na; i++) d[i][0] = i;
    for (size_t j = 0; j <= nb; j++) d[0][j] = j;
    for (size_t i = 1; i <= na; i++)
        for (size_t j = 1; j <= nb; j++) {
            size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best) best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best) best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]
                && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[na][nb];
}

const char *const app_common_names[] = {
    "--rules", "--responses", "--region", "--state", "--session", "--new", "--no-state",
    "--keep-transcripts", "--programs", NULL
};

const char *app_closest(const char *word, const char *const *known, const char *const *more)
{
    size_t n = strcspn(word, "=");
    const char *best = NULL;
    size_t best_d = 3;   /* at most two edits */
    const char *const *lists[2] = { known, more };
    for (int l = 0; l < 2; l++)
        for (size_t k = 0; lists[l] && lists[l][k]; k++) {
            const char *w = lists[l][k];
            size_t d = edits(word, n, w, strlen(w));
            /* a short word is two edits from anything: say nothing */
            if (d < best_d && d * 2 < strlen(w)) { best = w; best_d = d; }
        }
    return best;
}

int app_unknown_arg(const char *who, const char *arg, const char *const *known, int common)
{
    const char *near = app_closest(arg, known, common ? app_common_names : NULL);
    int opt = arg[0] == '-' && arg[1] != '\0';
    size_t n = opt ? strcspn(arg, "=") : strlen(arg);
    if (n > 60) n = 60;   /* a pasted paragraph is not worth repeating */
    fprintf(stderr, "%s: %s '%.*s'", who, opt ? "unknown option" : "unexpected argument",
            (int)n, arg);
    if (near) fprintf(stderr, "; did you mean '%s'?", near);
    fprintf(stderr, "\n%s: see '%s --help'\n", who, who);
    return 2;
}

/* ---- the region of the crisis lines ------------------------------------- */

/* ISO 3166 codes (alpha-2 and alpha-3) and common names for the regions of
 * responses/resources.tsv whose name is not the code. */
static const struct { const char *alias, *region; } region_aliases[] = {
    {"gb", "uk"}, {"gbr", "uk"}, {"united-kingdom", "uk"}, {"england", "uk"},
    {"scotland", "uk"}, {"wales", "uk"}, {"northern-ireland", "uk"},
    {"usa", "us"}, {"irl", "ie"}, {"can", "ca"}, {"aus", "au"}, {"nzl", "nz"},
    {"deu", "de"}, {"fra", "fr"}, {"ind", "in"},
};

/* The country of the locale (LC_ALL, else LC_MESSAGES, else LANG, as
 * setlocale reads them): "en_GB.UTF-8" -> "gb"; 0, or -1 when none. */
static int locale_country(char *buf, size_t len)
{
    const char *names[] = { "LC_ALL", "LC_MESSAGES", "LANG" };
    const char *v = NULL;
    for (int k = 0; k < 3 && !v; k++) {
        const char *e = getenv(names[k]);
        if (e && e[0]) v = e;
    }
    if (!v) return -1;
    const char *u = strchr(v, '_');
    if (!u || strcspn(v, ".@") < (size_t)(u - v)) return -1;
    size_t n = strcspn(u + 1, ".@");
    if (n != 2 || len < 3 || !isalpha((unsigned char)u[1]) || !isalpha((unsigned char)u[2]))
        return -1;
    buf[0] = (char)tolower((unsigned char)u[1]);
    buf[1] = (char)tolower((unsigned char)u[2]);
    buf[2] = '\0';
    return 0;
}

/* Whether responses_dir/resources.tsv names region (1), does not (0), or
 * cannot be read (-1); the other names it has go to names, for the warning
 * (the file keeps a region's lines together, so a name repeats only in a
 * row). */
static int region_listed(const char *responses_dir, const char *region, char *names, size_t len)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/resources.tsv", responses_dir);
    names[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[1024], prev[64] = "";
    int found = 0, start = 1;
    size_t used = 0;
    while (fgets(line, sizeof line, f)) {
        int at_start = start;
        start = strchr(line, '\n') != NULL;   /* the next read starts a line */
        if (!at_start || line[0] == '#') continue;
        size_t n = strcspn(line, "\t\r\n");
        if (line[n] != '\t' || n == 0 || n >= sizeof prev) continue;
        line[n] = '\0';
        if (!strcasecmp(line, region)) found = 1;
        if (strcmp(line, "default") == 0 || strcmp(line, prev) == 0) continue;
        memcpy(prev, line, n + 1);
        if (used + n + 3 < len)
            used += (size_t)snprintf(names + used, len - used, "%s%s", used ? ", " : "", line);
    }
    fclose(f);
    return found;
}

const char *app_region(const app_common *c, const char *responses_dir, char *buf, size_t len)
{
    static int warned;   /* once a run: the bots reload their rules on SIGHUP */
    const char *r = c->region, *from = "--region";
    if (!r) { r = getenv("PUSHPULL_REGION"); from = "PUSHPULL_REGION"; }
    int asked = r && r[0];
    if (!asked) {
        if (!c->locale_region || locale_country(buf, len) != 0) return NULL;
        r = buf;
        from = "the locale";
    }
    char low[64];
    size_t n = strnlen(r, sizeof low);
    if (n >= sizeof low) n = sizeof low - 1;
    for (size_t k = 0; k < n; k++) low[k] = (char)(r[k] == ' ' || r[k] == '_' ? '-'
                                                  : tolower((unsigned char)r[k]));
    low[n] = '\0';
    const char *name = low;
    for (size_t k = 0; k < sizeof region_aliases / sizeof region_aliases[0]; k++)
        if (!strcmp(low, region_aliases[k].alias)) name = region_aliases[k].region;
    char names[256];
    int listed = strcmp(name, "default") == 0 ? 1 : region_listed(responses_dir, name, names, sizeof names);
    if (listed == 0) {
        if (asked && !warned) {
            warned = 1;
            fprintf(stderr, "pushpull: no crisis lines for the region '%.60s' (from %s) in "
                            "%s/resources.tsv; using the international ones (findahelpline.com). "
                            "Regions: %s (and ISO 3166 codes: gb for uk)\n",
                    r, from, responses_dir, names);
        }
        return NULL;
    }
    snprintf(buf, len, "%s", name);
    return buf;
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *app_default_dir(const char *what, char *buf, size_t len)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) *slash = '\0';
        /* build/pushpull, build/san/pushpull, build/tests/x, build/san/tests/x */
        for (int up = 1; up <= 3; up++) {
            char cand[PATH_MAX + 64];
            char rel[16] = "";
            for (int k = 0; k < up; k++) strcat(rel, "../");
            snprintf(cand, sizeof cand, "%s/%s%s", exe, rel, what);
            char probe[PATH_MAX + 80];
            snprintf(probe, sizeof probe, "%s/%sengine/pushpull.h", exe, rel);
            if (is_dir(cand) && access(probe, R_OK) == 0) {
                char *real = realpath(cand, NULL);
                snprintf(buf, len, "%s", real ? real : cand);
                free(real);
                return buf;
            }
        }
    }
    snprintf(buf, len, "%s/%s", PP_SHAREDIR, what);
    return buf;
}

void app_data_dirs(const app_common *c, app_dirs *out)
{
    out->rules = c->rules_dir ? c->rules_dir
                 : app_default_dir("rules", out->rules_buf, sizeof out->rules_buf);
    out->responses = c->responses_dir ? c->responses_dir
                     : app_default_dir("responses", out->responses_buf, sizeof out->responses_buf);
    /* programs go with the rules they name: with --rules or --responses
     * of one's own and no --programs, none (their frameworks may not be
     * in that catalogue) */
    out->programs = c->programs_dir ? c->programs_dir
                    : c->rules_dir || c->responses_dir ? NULL
                    : app_default_dir("programs", out->programs_buf, sizeof out->programs_buf);
}

pp_ruleset *app_load_rules(const app_common *c)
{
    app_dirs dirs;
    app_data_dirs(c, &dirs);
    char region[64];
    pp_errors errs, perrs;
    pp_errors_init(&errs);
    pp_errors_init(&perrs);
    pp_load_options opt = {
        dirs.rules, dirs.responses, app_region(c, dirs.responses, region, sizeof region),
    };
    pp_ruleset *rs = pp_rules_load(&opt, &errs);
    for (size_t i = 0; i < errs.count; i++) fprintf(stderr, "%s\n", errs.msg[i]);
    if (rs && dirs.programs) pp_rules_load_programs(rs, dirs.programs, &perrs);
    /* a broken program is left out, never the coach: a warning */
    for (size_t i = 0; rs && i < perrs.count; i++) fprintf(stderr, "pushpull: warning: %s\n", perrs.msg[i]);
    pp_errors_clear(&perrs);
    if (!rs)
        fprintf(stderr, "pushpull: %zu error%s in %s and %s\n", errs.count,
                errs.count == 1 ? "" : "s", opt.rules_dir, opt.responses_dir);
    pp_errors_clear(&errs);
    char why[300];
    if (rs && pp_rules_check_crisis(rs, why, sizeof why) < 0) {
        /* the fail-safe: no front end coaches without crisis rules */
        fprintf(stderr, "pushpull: %s: %s\n"
                        "pushpull: refusing to use the rules in %s: every rule set needs crisis "
                        "rules (see docs/rules.md; the shipped ones are rules/safety.rules)\n",
                dirs.rules, why, dirs.rules);
        pp_rules_free(rs);
        rs = NULL;
    }
    return rs;
}

/* The CLI's own record of its last session, kept in the store as a
 * setting about that conversation (so /forget of it deletes the record);
 * written only when it changes. */
static void remember_last(pp_store *st, const char *name, const char *key)
{
    char was[PP_CLI_MAX_SESSION + 1];
    if (pp_store_get_setting(st, PP_CLI_LAST_SESSION, was, sizeof was) == 1 &&
        strcmp(was, name) == 0)
        return;
    if (pp_store_set_setting(st, PP_CLI_LAST_SESSION, name, key) != 0)
        fprintf(stderr, "pushpull: could not note the last session: %s\n", pp_store_error(st));
}

static int find_saved(const pp_store_entry *e, void *arg)
{
    pp_store_entry *want = arg;
    if (strcmp(e->key, want->key) != 0) return 0;
    want->updated = e->updated;
    return 1;
}

/* "Continuing the conversation from 3 days ago; /new starts afresh." */
static void resumed_note(app_conv *cv, const char *name)
{
    pp_store_entry want = { cv->key, 0, 0 };
    char err[256], ago[64];
    if (pp_store_sessions(cv->store, cv->key, find_saved, &want, err, sizeof err) != 0 ||
        want.updated <= 0)
        return;
    app_ago((long long)time(NULL) - want.updated, ago, sizeof ago);
    if (strcmp(name, "default") == 0)
        snprintf(cv->resumed, sizeof cv->resumed,
                 "Continuing the conversation from %s; /new starts afresh.", ago);
    else
        snprintf(cv->resumed, sizeof cv->resumed,
                 "Continuing the conversation \"%s\" from %s; /new starts afresh.", name, ago);
}

void app_ago(long long secs, char *buf, size_t len)
{
    const long long min = 60, hour = 3600, day = 86400;
    if (secs < min) snprintf(buf, len, "a moment ago");
    else if (secs < hour) snprintf(buf, len, "%lld minute%s ago", secs / min, secs < 2 * min ? "" : "s");
    else if (secs < day) snprintf(buf, len, "%lld hour%s ago", secs / hour, secs < 2 * hour ? "" : "s");
    else if (secs < 2 * day) snprintf(buf, len, "yesterday");
    else snprintf(buf, len, "%lld days ago", secs / day);
}

int app_conv_open(app_conv *cv, const app_common *c, const pp_ruleset *rs)
{
    char err[512] = "";
    memset(cv, 0, sizeof *cv);
    cv->session = pp_session_new();
    if (!cv->session) return -1;
    if (!c->no_state) {
        int existed = 0;
        if (pp_store_open_ex(c->state_path, &cv->store, &existed, err, sizeof err) != 0) {
            fprintf(stderr, "pushpull: %s\npushpull: continuing without saving: this "
                            "conversation lives in memory only\n", err);
            if (existed) snprintf(cv->store_unusable, sizeof cv->store_unusable, "%s", err);
        } else if (c->keep_transcripts) {
            pp_store_keep_transcripts(cv->store, 1);
        }
    }
    char name[PP_CLI_MAX_SESSION + 1] = "default";
    if (c->session) {
        if (!session_name_ok(c->session, "--session")) goto fail;
        snprintf(name, sizeof name, "%s", c->session);
    } else if (cv->store && pp_store_get_setting(cv->store, PP_CLI_LAST_SESSION, name,
                                                 sizeof name) < 0) {
        fprintf(stderr, "pushpull: cannot tell which conversation to resume: %s; "
                        "name one with --session NAME\n", pp_store_error(cv->store));
        goto fail;
    }
    if (!name[0]) snprintf(name, sizeof name, "default");
    snprintf(cv->key, sizeof cv->key, "cli:%s", name);
    if (cv->store && !c->look_only) remember_last(cv->store, name, cv->key);
    if (cv->store && !c->fresh) {
        int rc = pp_store_load(cv->store, cv->key, cv->session, err, sizeof err);
        if (rc < 0)
            fprintf(stderr, "pushpull: could not resume %s (%s); starting a new conversation\n",
                    cv->key, err);
        if (rc > 0 && pp_session_turns(cv->session) > 0)
            resumed_note(cv, name);
    } else if (cv->store && pp_store_start_over(cv->store, cv->key, cv->session, err,
                                                sizeof err) != 0) {
        fprintf(stderr, "pushpull: %s\n", err);
    }
    cv->dialog.rules = rs;
    cv->dialog.store = cv->store;
    cv->dialog.store_unusable = cv->store_unusable[0] ? cv->store_unusable : NULL;
    cv->dialog.key = cv->key;
    cv->dialog.session = cv->session;
    cv->dialog.keep_transcripts = c->keep_transcripts;
    cv->dialog.plans = cv->store;
    app_conv_clock(cv);
    return 0;

fail:
    app_conv_close(cv);
    return -1;
}

void app_conv_clock(app_conv *cv)
{
    cv->dialog.now = app_now();
    cv->dialog.utc_offset = app_utc_offset(cv->dialog.now);
}

void app_conv_close(app_conv *cv)
{
    pp_store_close(cv->store);
    pp_session_free(cv->session);
    memset(cv, 0, sizeof *cv);
}
