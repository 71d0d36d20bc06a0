/* convtest.c -- run scripted conversations (the .conv files in tests/conversations).
 *
 * Each .conv file is one conversation: lines starting with '>' are user
 * messages, fed one by one through pp_dialog_turn() on a fresh session (no
 * store), and the "key: value" lines after a message are checks on that
 * turn's answer: rule, role, framework, set, safety and session-role against
 * answer.reply (a command turn counts as rule/framework/set "none", role
 * "none", safety "no"), has/lacks (case-insensitive substrings) and
 * has-word/lacks-word (whole words) against answer.text, and questions (how
 * many '?' the reply has).  Format:
 * tests/conversations/README.md.
 *
 * Design: the file is streamed; a check always applies to the most recent
 * answer, so no conversation has to fit in memory.  Every failure prints
 * "file:line: expected ..., got ..." with the reply text, and the program
 * exits 1 when any check failed or a file could not be parsed (2 on usage or
 * rule-loading errors).  The input files are treated as hostile: every line
 * is bounded, unknown keys are errors, and a check before any message is an
 * error rather than silently skipped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>

#include "pushpull.h"

#define LINE_MAX_BYTES 8192
#define MAX_REPLIES 256   /* replies of one file compared for repeats */

typedef struct conv_stats {
    size_t files, turns, checks, failed, errors;
    size_t whole;      /* files of 6 to 12 messages (commands not counted) */
} conv_stats;

typedef struct conv_turn {
    pp_answer answer;
    int have;          /* an answer exists */
    int line;          /* line of its '>' message */
    int shown;         /* reply text already printed for a failure */
} conv_turn;

/* ---- small string helpers ------------------------------------------------ */

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

static int ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) return 0;
    return *a == *b;
}

/* Case-insensitive (ASCII) substring search; NULL when absent. */
static const char *ifind(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    if (n == 0) return hay;
    for (const char *p = hay; *p; p++) {
        size_t i = 0;
        while (i < n && p[i] && tolower((unsigned char)p[i]) == tolower((unsigned char)needle[i])) i++;
        if (i == n) return p;
    }
    return NULL;
}

static int is_word_char(unsigned char c)
{
    return isalnum(c) || c == '\'' || c >= 0x80;
}

/* Whole-word, case-insensitive: "him" is in "ask him." but not in "himself". */
static int has_word(const char *hay, const char *word)
{
    size_t n = strlen(word);
    if (n == 0) return 1;
    for (const char *p = ifind(hay, word); p; p = ifind(p + 1, word)) {
        int left = p == hay || !is_word_char((unsigned char)p[-1]);
        int right = !is_word_char((unsigned char)p[n]);
        if (left && right) return 1;
    }
    return 0;
}

/* Is `got` one of the '|'-separated alternatives in `want` (trimmed)? */
static int one_of(const char *want, const char *got)
{
    char buf[LINE_MAX_BYTES];
    snprintf(buf, sizeof buf, "%s", want);
    char *save = NULL;
    for (char *tok = strtok_r(buf, "|", &save); tok; tok = strtok_r(NULL, "|", &save))
        if (ieq(trim(tok), got)) return 1;
    return 0;
}

/* ---- checks ---------------------------------------------------------------- */

static void show_reply(conv_turn *t)
{
    if (t->shown) return;
    t->shown = 1;
    const char *text = t->answer.text ? t->answer.text : "(no text)";
    printf("    reply to line %d: ", t->line);
    for (const char *p = text; *p; p++) {
        putchar(*p);
        if (*p == '\n') fputs("    ", stdout);
    }
    putchar('\n');
}

static void fail(conv_stats *st, conv_turn *t, const char *file, int line,
                 const char *what, const char *want, const char *got)
{
    st->failed++;
    printf("%s:%d: expected %s %s, got %s\n", file, line, what, want, got);
    show_reply(t);
}

static const char *or_none(const char *s) { return s && *s ? s : "none"; }

static int check(conv_stats *st, conv_turn *t, pp_session *s, const char *file,
                 int line, const char *key, const char *value)
{
    const pp_reply *r = t->answer.had_reply ? &t->answer.reply : NULL;
    const char *text = t->answer.text ? t->answer.text : "";
    st->checks++;
    if (strcmp(key, "rule") == 0) {
        const char *got = or_none(r ? r->rule : NULL);
        if (!one_of(value, got)) fail(st, t, file, line, "rule", value, got);
    } else if (strcmp(key, "framework") == 0) {
        const char *got = or_none(r ? r->framework : NULL);
        if (!one_of(value, got)) fail(st, t, file, line, "framework", value, got);
    } else if (strcmp(key, "set") == 0) {
        const char *got = or_none(r ? r->set : NULL);
        if (!one_of(value, got)) fail(st, t, file, line, "set", value, got);
    } else if (strcmp(key, "role") == 0) {
        const char *got = pp_role_name(r ? r->role : PP_ROLE_NONE);
        if (!one_of(value, got)) fail(st, t, file, line, "role", value, got);
    } else if (strcmp(key, "session-role") == 0) {
        const char *got = pp_role_name(pp_session_role(s));
        if (!one_of(value, got)) fail(st, t, file, line, "session-role", value, got);
    } else if (strcmp(key, "safety") == 0) {
        int want;
        if (ieq(value, "yes")) want = 1;
        else if (ieq(value, "no")) want = 0;
        else { printf("%s:%d: safety: must be yes or no, not '%s'\n", file, line, value); st->errors++; return -1; }
        int got = r ? r->safety != 0 : 0;
        if (want != got) fail(st, t, file, line, "safety", want ? "yes" : "no", got ? "yes" : "no");
    } else if (strcmp(key, "act") == 0) {
        const char *got = or_none(r ? r->act : NULL);
        if (!one_of(value, got)) fail(st, t, file, line, "act", value, got);
    } else if (strcmp(key, "topic") == 0) {
        const char *got = or_none(pp_session_framework(s));
        if (!one_of(value, got)) fail(st, t, file, line, "topic", value, got);
    } else if (strcmp(key, "has") == 0) {
        if (!ifind(text, value)) fail(st, t, file, line, "text containing", value, "a reply without it");
    } else if (strcmp(key, "lacks") == 0) {
        if (ifind(text, value)) fail(st, t, file, line, "text without", value, "a reply containing it");
    } else if (strcmp(key, "has-word") == 0) {
        if (!has_word(text, value)) fail(st, t, file, line, "the word", value, "a reply without it");
    } else if (strcmp(key, "lacks-word") == 0) {
        if (has_word(text, value)) fail(st, t, file, line, "no word", value, "a reply containing it");
    } else if (strcmp(key, "questions") == 0) {
        /* how many questions the reply asks: its sentences ending in '?' */
        char want[16], got[16];
        int n = 0;
        for (const char *p = text; *p; p++) n += *p == '?';
        snprintf(want, sizeof want, "%.15s", value);
        snprintf(got, sizeof got, "%d", n);
        if (strcmp(want, got) != 0) fail(st, t, file, line, "questions", want, got);
    } else {
        printf("%s:%d: unknown check '%s' (rule, role, framework, set, safety, session-role, "
               "act, topic, has, lacks, has-word, lacks-word, questions)\n", file, line, key);
        st->checks--;
        st->errors++;
        return -1;
    }
    return 0;
}

/* ---- one file ---------------------------------------------------------------- */

static void run_file(const pp_ruleset *rs, const char *file, conv_stats *st, int verbose)
{
    FILE *f = fopen(file, "r");
    if (!f) { printf("%s:0: cannot open\n", file); st->errors++; return; }
    st->files++;
    pp_session *s = pp_session_new();
    if (!s) { printf("%s:0: out of memory\n", file); st->errors++; fclose(f); return; }
    pp_dialog d;
    memset(&d, 0, sizeof d);
    d.rules = rs;
    d.store = NULL;
    d.key = "convtest";
    d.session = s;

    conv_turn t;
    memset(&t, 0, sizeof t);
    char *buf = malloc(LINE_MAX_BYTES);
    if (!buf) { printf("%s:0: out of memory\n", file); st->errors++; pp_session_free(s); fclose(f); return; }
    int lineno = 0, turns = 0, said = 0;
    /* every reply of the conversation, to prove none repeats */
    char *seen[MAX_REPLIES];
    int seen_line[MAX_REPLIES], n_seen = 0;
    while (fgets(buf, LINE_MAX_BYTES, f)) {
        lineno++;
        size_t n = strlen(buf);
        if (n == LINE_MAX_BYTES - 1 && buf[n - 1] != '\n') {
            printf("%s:%d: line longer than %d bytes\n", file, lineno, LINE_MAX_BYTES - 2);
            st->errors++;
            int c;
            while ((c = fgetc(f)) != EOF && c != '\n') {}
            continue;
        }
        if (buf[0] == '#') continue;
        if (buf[0] == '>') {
            char *msg = buf + 1;
            if (*msg == ' ') msg++;
            size_t len = strlen(msg);
            while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == '\r')) msg[--len] = '\0';
            if (t.have) pp_answer_clear(&t.answer);
            memset(&t, 0, sizeof t);
            int rc = pp_dialog_turn(&d, msg, len, &t.answer);
            t.have = 1;
            t.line = lineno;
            turns++;
            st->turns++;
            if (rc) {
                printf("%s:%d: pp_dialog_turn failed (%d): %s\n", file, lineno, rc,
                       t.answer.text ? t.answer.text : "");
                st->errors++;
            }
            if (t.answer.had_reply && t.answer.text) {
                said++;
                for (int k = 0; k < n_seen; k++)
                    if (strcmp(seen[k], t.answer.text) == 0) {
                        st->checks++;
                        char was[32];
                        snprintf(was, sizeof was, "the reply to line %d", seen_line[k]);
                        fail(st, &t, file, lineno, "a reply not said before, not", was, "it again");
                        break;
                    }
                if (n_seen < MAX_REPLIES && (seen[n_seen] = strdup(t.answer.text)) != NULL)
                    seen_line[n_seen++] = lineno;
            }
            if (verbose) {
                const pp_reply *r = t.answer.had_reply ? &t.answer.reply : NULL;
                printf("%s:%d: > %s\n  [rule %s, role %s, framework %s, set %s, act %s, topic %s, safety %s]\n  %s\n",
                       file, lineno, msg, or_none(r ? r->rule : NULL),
                       pp_role_name(r ? r->role : PP_ROLE_NONE), or_none(r ? r->framework : NULL),
                       or_none(r ? r->set : NULL), or_none(r ? r->act : NULL),
                       or_none(pp_session_framework(s)), r && r->safety ? "yes" : "no",
                       t.answer.text ? t.answer.text : "");
            }
            continue;
        }
        char *p = trim(buf);
        if (!*p) continue;
        char *colon = strchr(p, ':');
        if (!colon) {
            printf("%s:%d: expected '> message', '# comment' or 'key: value'\n", file, lineno);
            st->errors++;
            continue;
        }
        *colon = '\0';
        char *key = trim(p), *value = trim(colon + 1);
        /* a trailing "(...)" or "  # ..." is a comment, as in the README */
        char *hash = strstr(value, "  #");
        if (hash) { *hash = '\0'; value = trim(value); }
        if (!t.have) {
            printf("%s:%d: check '%s' before any '>' message\n", file, lineno, key);
            st->errors++;
            continue;
        }
        if (!*value && strcmp(key, "has") != 0) {
            printf("%s:%d: check '%s' has no value\n", file, lineno, key);
            st->errors++;
            continue;
        }
        check(st, &t, s, file, lineno, key, value);
    }
    if (ferror(f)) { printf("%s:%d: read error\n", file, lineno); st->errors++; }
    if (turns == 0) { printf("%s:%d: no '>' message in the file\n", file, lineno); st->errors++; }
    if (t.have) pp_answer_clear(&t.answer);
    for (int k = 0; k < n_seen; k++) free(seen[k]);
    if (said >= 6 && said <= 12) st->whole++;
    free(buf);
    pp_session_free(s);
    fclose(f);
}

/* ---- main ------------------------------------------------------------------- */

static void usage(void)
{
    fprintf(stderr, "usage: convtest [--rules DIR] [--responses DIR] [--region R] [-v] FILE.conv...\n"
                    "  default DIRs: $SRC/rules and $SRC/responses (SRC defaults to .)\n");
}

int main(int argc, char **argv)
{
    const char *src = getenv("SRC");
    char rules_buf[4096], resp_buf[4096];
    snprintf(rules_buf, sizeof rules_buf, "%s/rules", src && *src ? src : ".");
    snprintf(resp_buf, sizeof resp_buf, "%s/responses", src && *src ? src : ".");
    pp_load_options opt = { rules_buf, resp_buf, NULL };
    int verbose = 0, first = argc;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--rules") == 0 || strcmp(argv[i], "--responses") == 0
            || strcmp(argv[i], "--region") == 0) {
            if (i + 1 >= argc) { usage(); return 2; }
            if (strcmp(argv[i], "--rules") == 0) opt.rules_dir = argv[i + 1];
            else if (strcmp(argv[i], "--responses") == 0) opt.responses_dir = argv[i + 1];
            else opt.region = argv[i + 1];
            i++;
        } else if (strcmp(argv[i], "-v") == 0) {
            verbose = 1;
        } else if (strcmp(argv[i], "--") == 0) {
            first = i + 1;
            break;
        } else if (argv[i][0] == '-') {
            usage();
            return 2;
        } else {
            first = i;
            break;
        }
    }
    if (first >= argc) { usage(); return 2; }

    pp_errors errs;
    pp_errors_init(&errs);
    pp_ruleset *rs = pp_rules_load(&opt, &errs);
    if (!rs) {
        for (size_t i = 0; i < errs.count; i++) fprintf(stderr, "%s\n", errs.msg[i]);
        if (errs.count == 0) fprintf(stderr, "convtest: could not load the rules\n");
        pp_errors_clear(&errs);
        return 2;
    }
    pp_errors_clear(&errs);

    conv_stats st = {0};
    for (int i = first; i < argc; i++) run_file(rs, argv[i], &st, verbose);
    pp_rules_free(rs);
    printf("convtest: %zu files, %zu turns, %zu checks, %zu failed, %zu errors\n",
           st.files, st.turns, st.checks, st.failed, st.errors);
    printf("convtest: %zu conversations of 6-12 messages\n", st.whole);
    return st.failed || st.errors ? 1 : 0;
}
