/* storecrash.c -- crash and concurrency torture for the state store.
 *
 *   storecrash crash DB RULES RESPONSES KILLS SEED
 *   storecrash conc  DB RULES RESPONSES ITERS
 *
 * crash: a child process opens DB, resumes its sessions and, in a tight
 * loop, takes a real turn (pp_reply_make, which bumps the turn counter) on
 * one of several keys and saves the session together with a cursor holding
 * the same counter, in one pp_store_save.  After every save it writes one
 * byte to a pipe (the acknowledgement).  The parent kills it with SIGKILL at
 * a random moment, KILLS times (seeded, so the moments are reproducible in
 * distribution), and after each kill checks: PRAGMA integrity_check is
 * "ok"; every session loads; its counter equals its cursor (old and new
 * never mixed); counters never go backwards; every acknowledged save
 * survived and at most one unacknowledged save more is there.
 *
 * conc: two processes, started together on one fresh DB, each save ITERS
 * times to their own keys and to one shared cursor, and mark ITERS events.
 * Any error (an SQLITE_BUSY surfacing past the busy timeout included) fails
 * the child.  Then: integrity ok, every session at the exact turn count,
 * every transcript line and event mark present, the shared cursor holding
 * one of the two final values.
 *
 * Prints its figures on stdout; exits 0 when every check passed.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "pushpull.h"

#define NKEYS 3
static const char *const crash_keys[NKEYS] = {
    "cli:default", "telegram:4242", "matrix:!room'; --:example.org",
};
static const char *const messages[] = {
    "my wife pulls away whenever I want to talk",
    "he never answers my texts and I keep sending more",
    "I need space and she keeps chasing me",
    "we fight about money every week",
};
#define NMESSAGES (sizeof messages / sizeof messages[0])

static pp_ruleset *load_rules(const char *rules, const char *responses)
{
    pp_load_options opt = { rules, responses, NULL };
    pp_errors errs;
    pp_errors_init(&errs);
    pp_ruleset *rs = pp_rules_load(&opt, &errs);
    for (size_t i = 0; !rs && i < errs.count; i++) fprintf(stderr, "rules: %s\n", errs.msg[i]);
    pp_errors_clear(&errs);
    return rs;
}

static int take_turn(const pp_ruleset *rs, pp_session *s, unsigned n)
{
    pp_reply r;
    memset(&r, 0, sizeof r);
    const char *m = messages[n % NMESSAGES];
    int rc = pp_reply_make(rs, s, m, strlen(m), &r);
    pp_reply_clear(&r);
    return rc;
}

/* PRAGMA integrity_check on a connection of our own; 0 when "ok". */
static int integrity_ok(const char *db, char *why, size_t whylen)
{
    sqlite3 *h = NULL;
    int ok = 0;
    snprintf(why, whylen, "cannot open");
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK) {
        sqlite3_stmt *q;
        if (sqlite3_prepare_v2(h, "PRAGMA integrity_check", -1, &q, NULL) == SQLITE_OK) {
            if (sqlite3_step(q) == SQLITE_ROW) {
                const char *t = (const char *)sqlite3_column_text(q, 0);
                ok = t && strcmp(t, "ok") == 0;
                snprintf(why, whylen, "%s", t ? t : "(null)");
            } else {
                snprintf(why, whylen, "%s", sqlite3_errmsg(h));
            }
            sqlite3_finalize(q);
        } else {
            snprintf(why, whylen, "%s", sqlite3_errmsg(h));
        }
    }
    sqlite3_close(h);
    return ok ? 0 : -1;
}

static long long count_rows(const char *db, const char *sql, const char *arg)
{
    sqlite3 *h = NULL;
    long long n = -1;
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *q;
        if (sqlite3_prepare_v2(h, sql, -1, &q, NULL) == SQLITE_OK) {
            if (arg) sqlite3_bind_text(q, 1, arg, -1, SQLITE_STATIC);
            if (sqlite3_step(q) == SQLITE_ROW) n = sqlite3_column_int64(q, 0);
            sqlite3_finalize(q);
        }
    }
    sqlite3_close(h);
    return n;
}

static void cursor_name(char *buf, size_t len, int k)
{
    snprintf(buf, len, "crash.%d", k);
}

/* ---- crash ------------------------------------------------------------- */

static void crash_child(const char *db, const pp_ruleset *rs, int out)
{
    char err[256];
    pp_store *st = pp_store_open(db, err, sizeof err);
    if (!st) {
        fprintf(stderr, "child: open: %s\n", err);
        (void)!write(out, "E", 1);
        _exit(2);
    }
    pp_store_keep_transcripts(st, 1);   /* bigger transactions */
    pp_session *s[NKEYS];
    for (int k = 0; k < NKEYS; k++) {
        s[k] = pp_session_new();
        if (!s[k] || pp_store_load(st, crash_keys[k], s[k], err, sizeof err) < 0) {
            fprintf(stderr, "child: load: %s\n", err);
            (void)!write(out, "E", 1);
            _exit(2);
        }
    }
    (void)!write(out, "R", 1);
    for (unsigned i = 0; i < 1000000; i++) {
        int k = (int)(i % NKEYS);
        char name[32], value[32];
        if (take_turn(rs, s[k], i) != 0) {
            fprintf(stderr, "child: reply failed\n");
            (void)!write(out, "E", 1);
            _exit(2);
        }
        cursor_name(name, sizeof name, k);
        snprintf(value, sizeof value, "%u", pp_session_turns(s[k]));
        if (pp_store_save(st, crash_keys[k], s[k], name, value, messages[i % NMESSAGES],
                          "a reply", err, sizeof err) != 0) {
            fprintf(stderr, "child: save: %s\n", err);
            (void)!write(out, "E", 1);
            _exit(2);
        }
        char ack = (char)('0' + k);
        if (write(out, &ack, 1) != 1) _exit(3);
    }
    _exit(0);
}

/* Read what the child wrote; counts acknowledgements per key. */
static int drain(int fd, unsigned acked[NKEYS], int *ready, int *error)
{
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == 'R') *ready = 1;
            else if (buf[i] == 'E') *error = 1;
            else if (buf[i] >= '0' && buf[i] < '0' + NKEYS) acked[buf[i] - '0']++;
        }
    }
    return n < 0 ? -1 : 0;
}

static int run_crash(const char *db, const char *rules, const char *responses,
                     int kills, unsigned seed)
{
    pp_ruleset *rs = load_rules(rules, responses);
    if (!rs) return 1;
    srand(seed);
    unsigned prev[NKEYS] = {0};
    unsigned long long durable_total = 0, acked_total = 0;
    int checks = 0, integrity = 0, early = 0, failed = 0;

    for (int round = 0; round < kills && !failed; round++) {
        int p[2];
        if (pipe(p) != 0) { perror("pipe"); return 1; }
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0) { perror("fork"); return 1; }
        if (pid == 0) {
            close(p[0]);
            crash_child(db, rs, p[1]);
        }
        close(p[1]);
        unsigned acked[NKEYS] = {0};
        int ready = 0, error = 0;
        /* Most rounds kill inside the save loop; every fifth round may
         * kill while the child is still opening (migrations, recovery). */
        if (round % 5 != 0) {
            char c;
            while (!ready && !error && read(p[0], &c, 1) == 1) {
                if (c == 'R') ready = 1;
                else if (c == 'E') error = 1;
            }
        } else {
            early++;
        }
        struct timespec ts = { 0, (long)(rand() % 50000) * 1000L };
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        drain(p[0], acked, &ready, &error);
        close(p[0]);
        if (error || (WIFEXITED(status) && WEXITSTATUS(status) != 0)) {
            printf("round %d: the child failed (see stderr)\n", round);
            failed = 1;
            break;
        }

        char why[256], err[256];
        if (integrity_ok(db, why, sizeof why) != 0) {
            printf("round %d: integrity_check: %s\n", round, why);
            failed = 1;
            break;
        }
        integrity++;
        pp_store *st = pp_store_open(db, err, sizeof err);
        if (!st) {
            printf("round %d: reopen: %s\n", round, err);
            failed = 1;
            break;
        }
        for (int k = 0; k < NKEYS && !failed; k++) {
            pp_session *s = pp_session_new();
            char name[32], value[32] = "";
            int found = pp_store_load(st, crash_keys[k], s, err, sizeof err);
            cursor_name(name, sizeof name, k);
            int have = pp_store_get_cursor(st, name, value, sizeof value);
            unsigned turns = found == 1 ? pp_session_turns(s) : 0;
            unsigned cur = have == 1 ? (unsigned)strtoul(value, NULL, 10) : 0;
            if (found < 0 || have < 0) {
                printf("round %d key %d: load: %s\n", round, k, found < 0 ? err : pp_store_error(st));
                failed = 1;
            } else if (found != have || turns != cur) {
                printf("round %d key %d: torn: session %u (found %d), cursor %u (found %d)\n",
                       round, k, turns, found, cur, have);
                failed = 1;
            } else if (turns < prev[k] + acked[k] || turns > prev[k] + acked[k] + 1) {
                printf("round %d key %d: counter %u, expected %u acknowledged saves "
                       "after %u (lost or went backwards)\n",
                       round, k, turns, acked[k], prev[k]);
                failed = 1;
            } else {
                durable_total += turns - prev[k];
                acked_total += acked[k];
                prev[k] = turns;
            }
            pp_session_free(s);
        }
        pp_store_close(st);
        if (!failed) checks++;
    }
    pp_rules_free(rs);
    printf("crash: kills=%d (of which %d possibly during open) saves_durable_before_kills=%llu "
           "saves_acknowledged=%llu integrity_ok=%d checks_passed=%d counters=%u/%u/%u\n",
           checks + failed, early, durable_total, acked_total, integrity, checks,
           prev[0], prev[1], prev[2]);
    if (failed) return 1;
    if (durable_total == 0) {
        printf("crash: no save was ever completed: the test exercised nothing\n");
        return 1;
    }
    return 0;
}

/* ---- concurrency ------------------------------------------------------- */

#define CONC_WRITERS 2
#define CONC_KEYS 3

static void conc_key(char *buf, size_t len, int w, int k)
{
    snprintf(buf, len, "cli:w%d-k%d", w, k);
}

static void conc_child(const char *db, const pp_ruleset *rs, int w, int iters, int go)
{
    char c, err[256];
    (void)!read(go, &c, 1);   /* returns at EOF: everyone starts together */
    pp_store *st = pp_store_open(db, err, sizeof err);
    if (!st) { fprintf(stderr, "writer %d: open: %s\n", w, err); _exit(1); }
    pp_store_keep_transcripts(st, 1);
    pp_session *s[CONC_KEYS];
    for (int k = 0; k < CONC_KEYS; k++) s[k] = pp_session_new();
    for (int j = 0; j < iters; j++) {
        int k = j % CONC_KEYS;
        char key[32], value[32], line[64], ev[32];
        conc_key(key, sizeof key, w, k);
        snprintf(value, sizeof value, "%d:%d", w, j);
        snprintf(line, sizeof line, "writer %d line %d", w, j);
        snprintf(ev, sizeof ev, "w%d-e%d", w, j);
        if (take_turn(rs, s[k], (unsigned)j) != 0) { fprintf(stderr, "reply failed\n"); _exit(1); }
        if (pp_store_save(st, key, s[k], "shared.cursor", value, line, NULL, err, sizeof err)) {
            fprintf(stderr, "writer %d save %d: %s\n", w, j, err);
            _exit(1);
        }
        int seen = pp_store_seen_key(st, "conc", ev, key);
        if (seen != 0) {
            fprintf(stderr, "writer %d seen %d: %d %s\n", w, j, seen, pp_store_error(st));
            _exit(1);
        }
        if (j % 10 == 0 && pp_store_set_cursor(st, "shared.other", value) != 0) {
            fprintf(stderr, "writer %d cursor %d: %s\n", w, j, pp_store_error(st));
            _exit(1);
        }
    }
    for (int k = 0; k < CONC_KEYS; k++) pp_session_free(s[k]);
    pp_store_close(st);
    _exit(0);
}

static int run_conc(const char *db, const char *rules, const char *responses, int iters)
{
    pp_ruleset *rs = load_rules(rules, responses);
    if (!rs) return 1;
    int go[2];
    if (pipe(go) != 0) { perror("pipe"); return 1; }
    pid_t pid[CONC_WRITERS];
    fflush(NULL);
    for (int w = 0; w < CONC_WRITERS; w++) {
        pid[w] = fork();
        if (pid[w] < 0) { perror("fork"); return 1; }
        if (pid[w] == 0) {
            close(go[1]);
            conc_child(db, rs, w, iters, go[0]);
        }
    }
    close(go[0]);
    close(go[1]);   /* start */
    int failed = 0;
    for (int w = 0; w < CONC_WRITERS; w++) {
        int status;
        waitpid(pid[w], &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            printf("writer %d failed (status %d)\n", w, status);
            failed = 1;
        }
    }
    char why[256], err[256];
    if (integrity_ok(db, why, sizeof why) != 0) {
        printf("integrity_check: %s\n", why);
        failed = 1;
    }
    pp_store *st = failed ? NULL : pp_store_open(db, err, sizeof err);
    if (!failed && !st) {
        printf("reopen: %s\n", err);
        failed = 1;
    }
    int present = 0;
    for (int w = 0; st && w < CONC_WRITERS; w++) {
        for (int k = 0; k < CONC_KEYS; k++) {
            char key[32];
            conc_key(key, sizeof key, w, k);
            unsigned want = (unsigned)((iters - k + CONC_KEYS - 1) / CONC_KEYS);
            pp_session *s = pp_session_new();
            int found = pp_store_load(st, key, s, err, sizeof err);
            long long lines = count_rows(db, "SELECT count(*) FROM transcript WHERE key = ?1", key);
            if (found != 1 || pp_session_turns(s) != want || lines != (long long)want) {
                printf("%s: found %d, turns %u, transcript lines %lld, want %u\n",
                       key, found, found == 1 ? pp_session_turns(s) : 0, lines, want);
                failed = 1;
            } else {
                present++;
            }
            pp_session_free(s);
        }
    }
    long long marks = count_rows(db, "SELECT count(*) FROM seen WHERE channel = ?1", "conc");
    if (!failed && marks != (long long)iters * CONC_WRITERS) {
        printf("event marks: %lld, want %d\n", marks, iters * CONC_WRITERS);
        failed = 1;
    }
    char value[32] = "", last0[32], last1[32];
    snprintf(last0, sizeof last0, "0:%d", iters - 1);
    snprintf(last1, sizeof last1, "1:%d", iters - 1);
    if (st && (pp_store_get_cursor(st, "shared.cursor", value, sizeof value) != 1 ||
               (strcmp(value, last0) != 0 && strcmp(value, last1) != 0))) {
        printf("shared cursor is '%s', want '%s' or '%s'\n", value, last0, last1);
        failed = 1;
    }
    pp_store_close(st);
    pp_rules_free(rs);
    printf("conc: writers=%d iterations=%d transactions=%d sessions_ok=%d/%d "
           "event_marks=%lld shared_cursor=%s integrity=%s\n",
           CONC_WRITERS, iters, CONC_WRITERS * (iters * 2 + (iters + 9) / 10),
           present, CONC_WRITERS * CONC_KEYS, marks, value, why);
    return failed;
}

int main(int argc, char **argv)
{
    if (argc == 7 && strcmp(argv[1], "crash") == 0)
        return run_crash(argv[2], argv[3], argv[4], atoi(argv[5]),
                         (unsigned)strtoul(argv[6], NULL, 10));
    if (argc == 6 && strcmp(argv[1], "conc") == 0) {
        int iters = atoi(argv[5]);
        if (iters < 1 || iters > 5000) {
            fprintf(stderr, "storecrash: ITERS must be 1..5000\n");
            return 2;
        }
        return run_conc(argv[2], argv[3], argv[4], iters);
    }
    fprintf(stderr, "usage: storecrash crash DB RULES RESPONSES KILLS SEED\n"
                    "       storecrash conc DB RULES RESPONSES ITERS\n");
    return 2;
}
