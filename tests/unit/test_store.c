/* test_store.c -- unit tests of the SQLite state store (engine/store.c).
 *
 * Every test works on a real database file in its own fresh directory under
 * $TMPDIR, and checks the file with SQLite directly (read-only connection)
 * where the store's own answers could hide a mistake: schema version, file
 * modes, rows left after /forget, the bytes of a file the store refused.
 * Sessions are real engine sessions (pp_session_save/load), given some
 * state by real turns through the rules in $SRC/rules and $SRC/responses.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "pushpull.h"

/* the migrations engine/store.c has (store_migrations[]) */
#define SCHEMA_VERSION 5

typedef struct fixture {
    char dir[256];
    char db[300];
    const pp_ruleset *rules;
} fixture;

static void path_join(char *out, size_t len, const char *a, const char *b)
{
    int n = snprintf(out, len, "%s/%s", a, b);
    assert_true(n > 0 && (size_t)n < len);
}

static pp_ruleset *load_rules(void)
{
    const char *src = getenv("SRC");
    char rules[512], responses[512];
    snprintf(rules, sizeof rules, "%s/rules", src ? src : ".");
    snprintf(responses, sizeof responses, "%s/responses", src ? src : ".");
    pp_load_options opt = { rules, responses, NULL };
    pp_errors errs;
    pp_errors_init(&errs);
    pp_ruleset *rs = pp_rules_load(&opt, &errs);
    if (!rs)
        for (size_t i = 0; i < errs.count; i++) fprintf(stderr, "rules: %s\n", errs.msg[i]);
    pp_errors_clear(&errs);
    return rs;
}

/* Loaded once for every test (the rule set is immutable). */
static pp_ruleset *shared_rules;

static int group_setup(void **state)
{
    (void)state;
    shared_rules = load_rules();
    return shared_rules ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    pp_rules_free(shared_rules);
    return 0;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f) return -1;
    const char *tmp = getenv("TMPDIR");
    snprintf(f->dir, sizeof f->dir, "%s/storeXXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (!mkdtemp(f->dir)) { free(f); return -1; }
    path_join(f->db, sizeof f->db, f->dir, "state.db");
    f->rules = shared_rules;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "chmod -R u+rwx '%s' && rm -rf '%s'", f->dir, f->dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", f->dir);
    free(f);
    return 0;
}

/* One integer from SQL on a read-only connection of our own. */
static long long sql_int(const char *db, const char *sql)
{
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(h));
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long long v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return v;
}

static void sql_exec(const char *db, const char *sql)
{
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL),
                     SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(h, sql, NULL, NULL, &msg) != SQLITE_OK) fail_msg("%s: %s", sql, msg);
    sqlite3_close(h);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) { *len = 0; return NULL; }
    char *buf = NULL;
    size_t cap = 0, n = 0, got;
    do {
        if (n == cap) {
            cap = cap ? cap * 2 : 65536;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        got = fread(buf + n, 1, cap - n, fp);
        n += got;
    } while (got > 0);
    fclose(fp);
    *len = n;
    return buf;
}

/* 1 when needle occurs in the file at path (0 when the file is missing). */
static int file_contains(const char *path, const char *needle)
{
    size_t len, nl = strlen(needle);
    char *buf = slurp(path, &len);
    int found = 0;
    for (size_t i = 0; buf && i + nl <= len && !found; i++)
        found = memcmp(buf + i, needle, nl) == 0;
    free(buf);
    return found;
}

static void turn(const pp_ruleset *rs, pp_session *s, const char *text)
{
    pp_reply r;
    memset(&r, 0, sizeof r);
    assert_int_equal(pp_reply_make(rs, s, text, strlen(text), &r), 0);
    pp_reply_clear(&r);
}

static void check_mode(const char *path, mode_t want)
{
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    if ((sb.st_mode & 0777) != want)
        fail_msg("%s has mode %o, want %o", path, (unsigned)(sb.st_mode & 0777), (unsigned)want);
}

/* ---- tests ------------------------------------------------------------- */

static void test_default_path_modes_wal(void **state)
{
    fixture *f = *state;
    char xdg[600], dir[700], db[800], err[256] = "";
    path_join(xdg, sizeof xdg, f->dir, "xdg");
    setenv("XDG_STATE_HOME", xdg, 1);
    pp_store *st = pp_store_open(NULL, err, sizeof err);
    if (!st) fail_msg("open: %s", err);
    path_join(dir, sizeof dir, xdg, "pushpull");
    path_join(db, sizeof db, dir, "state.db");
    assert_string_equal(pp_store_path(st), db);
    check_mode(dir, 0700);
    check_mode(db, 0600);

    pp_session *s = pp_session_new();
    turn(f->rules, s, "my wife never listens to me");
    assert_int_equal(pp_store_save(st, "cli:default", s, NULL, NULL, NULL, NULL, err, sizeof err), 0);
    char wal[820];
    snprintf(wal, sizeof wal, "%s-wal", db);
    check_mode(wal, 0600);   /* the WAL holds the same data: same mode */

    sqlite3 *h;
    assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(h, "PRAGMA journal_mode", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "wal");
    sqlite3_finalize(q);
    sqlite3_close(h);
    assert_int_equal(sql_int(db, "PRAGMA user_version"), SCHEMA_VERSION);

    pp_session_free(s);
    pp_store_close(st);
    unsetenv("XDG_STATE_HOME");
}

static void test_open_twice_keeps_version_and_data(void **state)
{
    fixture *f = *state;
    char err[256] = "";
    pp_store *st = pp_store_open(f->db, err, sizeof err);
    if (!st) fail_msg("open: %s", err);
    pp_session *s = pp_session_new();
    turn(f->rules, s, "he pulls away every time we get close");
    assert_int_equal(pp_store_save(st, "telegram:42", s, NULL, NULL, NULL, NULL, err, sizeof err), 0);
    pp_store_close(st);
    assert_int_equal(sql_int(f->db, "PRAGMA user_version"), SCHEMA_VERSION);

    st = pp_store_open(f->db, err, sizeof err);
    if (!st) fail_msg("reopen: %s", err);
    assert_int_equal(sql_int(f->db, "PRAGMA user_version"), SCHEMA_VERSION);
    assert_int_equal(sql_int(f->db, "SELECT count(*) FROM session"), 1);
    pp_session *back = pp_session_new();
    assert_int_equal(pp_store_load(st, "telegram:42", back, err, sizeof err), 1);
    assert_int_equal(pp_session_turns(back), 1);
    pp_session_free(back);
    pp_session_free(s);
    pp_store_close(st);
}

static void test_older_version_migrated(void **state)
{
    fixture *f = *state;
    /* A version-0 database: an SQLite file without our tables. */
    sql_exec(f->db, "CREATE TABLE unrelated (x); INSERT INTO unrelated VALUES (7);");
    assert_int_equal(sql_int(f->db, "PRAGMA user_version"), 0);
    char err[256] = "";
    pp_store *st = pp_store_open(f->db, err, sizeof err);
    if (!st) fail_msg("open: %s", err);
    assert_int_equal(sql_int(f->db, "PRAGMA user_version"), SCHEMA_VERSION);
    assert_int_equal(sql_int(f->db, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' "
                     "AND name IN ('session','cursor','seen','transcript','setting','checkin','crypto')"), 7);
    assert_int_equal(sql_int(f->db, "SELECT count(*) FROM sqlite_schema WHERE name = 'meta'"), 0);
    assert_int_equal(sql_int(f->db, "SELECT x FROM unrelated"), 7);
    pp_store_close(st);
}

/* The bots' encryption state: values far past a cursor's 8 KB, read back
 * whole, kept by /forget (the bot's keys are not the user's). */
static void test_crypto_state(void **state)
{
    fixture *f = *state;
    char err[256] = "";
    pp_store *st = pp_store_open(f->db, err, sizeof err);
    if (!st) fail_msg("open: %s", err);
    char *out = (char *)1;
    assert_int_equal(pp_store_get_crypto(st, "matrix.account", &out), 0);
    assert_null(out);
    size_t n = 300000;
    char *big = malloc(n + 1);
    assert_non_null(big);
    for (size_t i = 0; i < n; i++) big[i] = (char)('a' + i % 26);
    big[n] = '\0';
    assert_int_equal(pp_store_set_crypto(st, "matrix.account", big), 0);
    assert_int_equal(pp_store_set_crypto(st, "matrix.account", big), 0);   /* replaced, not added */
    assert_int_equal(sql_int(f->db, "SELECT count(*) FROM crypto"), 1);
    assert_int_equal(pp_store_forget(st, "matrix:!room:x", err, sizeof err), 0);
    assert_int_equal(pp_store_get_crypto(st, "matrix.account", &out), 1);
    assert_string_equal(out, big);
    free(out);
    assert_true(pp_store_set_crypto(st, "", "x") < 0);
    assert_true(pp_store_set_crypto(st, "matrix.account", NULL) < 0);
    free(big);
    pp_store_close(st);
}

/* A state file of schema version 1 (as pushpull wrote it before the CLI
 * kept its own last session): the store's meta.last_cli becomes the
 * setting cli.last_session about that conversation, and the rows stay. */
static void test_version_1_migrated(void **state)
{
    fixture *f = *state;
    sql_exec(f->db,
        "CREATE TABLE session (key TEXT PRIMARY KEY, json TEXT NOT NULL, updated INTEGER NOT NULL);"
        "CREATE TABLE cursor (name TEXT PRIMARY KEY, value TEXT NOT NULL, updated INTEGER NOT NULL);"
        "CREATE TABLE seen (id INTEGER PRIMARY KEY AUTOINCREMENT, channel TEXT NOT NULL,"
        "  event_id TEXT NOT NULL, key TEXT, at INTEGER NOT NULL, UNIQUE (channel, event_id));"
        "CREATE INDEX seen_by_channel ON seen (channel, id);"
        "CREATE INDEX seen_by_key ON seen (key);"
        "CREATE TABLE transcript (id INTEGER PRIMARY KEY, key TEXT NOT NULL, at INTEGER NOT NULL,"
        "  who TEXT NOT NULL CHECK (who IN ('user', 'bot')), text TEXT NOT NULL);"
        "CREATE INDEX transcript_by_key ON transcript (key, id);"
        "CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "INSERT INTO session VALUES ('cli:walrus', '{\"v\":1,\"turns\":3}', 1700000000);"
        "INSERT INTO meta VALUES ('last_cli', 'walrus');"
        "PRAGMA user_version = 1;");
    char err[256] = "", buf[64];
    pp_store *st = pp_store_open(f->db, err, sizeof err);
    if (!st) fail_msg("open: %s", err);
    assert_int_equal(sql_int(f->db, "PRAGMA user_version"), SCHEMA_VERSION);
    assert_int_equal(sql_int(f->db, "SELECT count(*) FROM sqlite_schema WHERE name = 'meta'"), 0);
    assert_int_equal(pp_store_get_setting(st, "cli.last_session", buf, sizeof buf), 1);
    assert_string_equal(buf, "walrus");
    assert_int_equal(sql_int(f->db, "SELECT count(*) FROM setting WHERE key = 'cli:walrus'"), 1);
    pp_session *s = pp_session_new();
    assert_int_equal(pp_store_load(st, "cli:walrus", s, err, sizeof err), 1);
    assert_int_equal(pp_session_turns(s), 3);
    /* /forget of it deletes the note of it as the last session */
    assert_int_equal(pp_store_forget(st, "cli:walrus", err, sizeof err), 0);
    assert_int_equal(pp_store_get_setting(st, "cli.last_session", buf, sizeof buf), 0);
    pp_session_free(s);
    pp_store_close(st);
}

static void test_newer_version_refused_untouched(void **state)
{
    fixture *f = *state;
    sql_exec(f->db, "CREATE TABLE future (x); PRAGMA user_version = 99;");
    size_t n0, n1;
    char *before = slurp(f->db, &n0);
    char err[256] = "";
    pp_store *st = pp_store_open(f->db, err, sizeof err);
    assert_null(st);
    assert_non_null(strstr(err, "newer"));
    char *after = slurp(f->db, &n1);
    assert_int_equal(n0, n1);
    assert_memory_equal(before, after, n0);
    free(before);
    free(after);
}

static void test_round_trip_real_session(void **state)
{
    fixture *f = *state;
    char err[256] = "";
    pp_store *st = pp_store_open(f->db, err, sizeof err);
    if (!st) fail_msg("open: %s", err);

    pp_session *s = pp_session_new();
    turn(f->rules, s, "my husband shuts down whenever I bring up money");
    turn(f->rules, s, "I keep texting him until he answers");
    turn(f->rules, s, "yes");
    /* With transcripts on the whole session is kept, byte for byte. */
    pp_store_keep_transcripts(st, 1);
    assert_int_equal(pp_store_save(st, "matrix:!room:example.org", s, NULL, NULL, NULL, NULL,
                                   err, sizeof err), 0);
    pp_store_keep_transcripts(st, 0);

    pp_session *back = pp_session_new();
    assert_int_equal(pp_store_load(st, "matrix:!room:example.org", back, err, sizeof err), 1);
    char *a = pp_session_save(s), *b = pp_session_save(back);
    assert_string_equal(a, b);
    assert_int_equal(pp_session_turns(back), 3);
    assert_int_equal(pp_session_role(back), pp_session_role(s));
    const char *fa = pp_session_framework(s), *fb = pp_session_framework(back);
    assert_true((fa == NULL && fb == NULL) || (fa && fb && strcmp(fa, fb) == 0));
    free(a);
    free(b);

    /* Without transcripts the words the /why decision quotes are left
     * out; the coaching state and the decision's rule ids are all there. */
    pp_session *lean = pp_session_new();
    assert_int_equal(pp_store_save(st, "cli:lean", s, NULL, NULL, NULL, NULL, err, sizeof err), 0);
    assert_int_equal(pp_store_load(st, "cli:lean", lean, err, sizeof err), 1);
    assert_int_equal(pp_session_turns(lean), 3);
    assert_int_equal(pp_session_role(lean), pp_session_role(s));
    fb = pp_session_framework(lean);
    assert_true((fa == NULL && fb == NULL) || (fa && fb && strcmp(fa, fb) == 0));
    assert_int_equal(sql_int(f->db, "SELECT count(*) FROM session WHERE key = 'cli:lean' "
                     "AND json LIKE '%\"quote\"%'"), 0);
    assert_int_equal(sql_int(f->db, "SELECT count(*) FROM session WHERE key = 'cli:lean' "
                     "AND json LIKE '%\"why\":{\"rule\":%'"), 1);
    pp_session_free(lean);

    /* Absent key: 0, and the session is left as it was. */
    pp_session *fresh = pp_session_new();
    turn(f->rules, fresh, "hello");
    char *was = pp_session_save(fresh);
    assert_int_equal(pp_store_load(st, "matrix:!other:example.org", fresh, err, sizeof err), 0);
    char *is = pp_session_save(fresh);
    assert_string_equal(was, is);
    free(is);

    /* A damaged row: refused with PP_ECORRUPT, the session untouched. */
    pp_store_close(st);
    sql_exec(f->db, "INSERT INTO session (key, json, updated) VALUES ('cli:bad', '{\"turns\":', 0)");
    st = pp_store_open(f->db, err, sizeof err);
    if (!st) fail_msg("reopen: %s", err);
    err[0] = '\0';
    assert_int_equal(pp_store_load(st, "cli:bad", fresh, err, sizeof err), PP_ECORRUPT);
    assert_true(err[0] != '\0');
    is = pp_session_save(fresh);
    assert_string_equal(was, is);
    free(is);
    free(was);

    pp_session_free(fresh);
    pp_session_free(back);
    pp_session_free(s);
    pp_store_close(st);
}

static void test_cursors(void **state)
{
    fixture *f = *state;
    char err[256] = "", buf[64];
    pp_store *st = pp_store_open(f->db, err, sizeof err);
    if (!st) fail_msg("open: %s", err);

    assert_int_equal(pp_store_get_cursor(st, "telegram.offset", buf, sizeof buf), 0);
    assert_string_equal(buf, "");
    assert_int_equal(pp_store_set_cursor(st, "telegram.offset", "1001"), 0);
    assert_int_equal(pp_store_get_cursor(st, "telegram.offset", buf, sizeof buf), 1);
    assert_string_equal(buf, "1001");

    /* The session and its cursor in one save. */
    pp_session *s = pp_session_new();
    turn(f->rules, s, "she says I am too needy");
    assert_int_equal(pp_store_save(st, "telegram:7", s, "telegram.offset", "1002", NULL, NULL,
                                   err, sizeof err), 0);
    assert_int_equal(pp_store_get_cursor(st, "telegram.offset", buf, sizeof buf), 1);
    assert_string_equal(buf, "1002");

    /* Hostile strings are data, not SQL. */
    const char *evil = "x'); DROP TABLE session; --\"\xe2\x80\x99";
    assert_int_equal(pp_store_set_cursor(st, "matrix.next_batch", evil), 0);
    assert_int_equal(pp_store_get_cursor(st, "matrix.next_batch", buf, sizeof buf), 1);
    assert_string_equal(buf, evil);
    assert_int_equal(sql_int(f->db, "SELECT count(*) FROM session"), 1);

    /* Too small a buffer is an error, not a silent cut. */
    char tiny[4];
    assert_true(pp_store_get_cursor(st, "matrix.next_batch", tiny, sizeof tiny) < 0);
    assert_true(pp_store_error(st)[0] != '\0');

    /* Bad names and keys are refused. */
    assert_true(pp_store_set_cursor(st, "", "1") < 0);
    char *huge = malloc(20000);
    assert_non_null(huge);
    memset(huge, 'a', 19999);
    huge[19999] = '\0';
    assert_true(pp_store_set_cursor(st, "telegram.offset", huge) < 0);
    assert_true(pp_store_save(st, huge, s, NULL, NULL, NULL, NULL, err, sizeof err) < 0);
    assert_true(pp_store_save(st, "", s, NULL, NULL, NULL, NULL, err, sizeof err) < 0);
    /* A refused save changes nothing, the cursor included. */
    assert_true(pp_store_save(st, "telegram:7", s, "telegram.offset", huge, NULL, NULL,
                              err, sizeof err) < 0);
    assert_int_equal(pp_store_get_cursor(st, "telegram.offset", buf, sizeof buf), 1);
    assert_string_equal(buf, "1002");
    free(huge);

    pp_session_free(s);
    pp_store_close(st);
}

static void test_seen_marks_and_pruning(void **state)
{
    fixture *f = *state;
    char err[256] = "", id[32];
    pp_store *st = pp_store_open(f->db, err, sizeof err);
    if (!st) fail_msg("open: %s", err);

    assert_int_equal(pp_store_seen(st, "telegram", "500"), 0);
    assert_int_equal(pp_store_seen(st, "telegram", "500"), 1);
    assert_int_equal(pp_store_seen(st, "matrix", "500"), 0);
    assert_int_equal(pp_store_seen(st, "matrix", "$ev'\";--"), 0);
    assert_int_equal(pp_store_seen(st, "matrix", "$ev'\";--"), 1);

    /* 10,050 more marks in one channel: the oldest are pruned, the newest
     * 10,000 kept, the other channel untouched. */
    for (int i = 0; i < 10050; i++) {
        snprintf(id, sizeof id, "%d", 1000 + i);
        assert_int_equal(pp_store_seen(st, "telegram", id), 0);
    }
    assert_int_equal(sql_int(f->db, "SELECT count(*) FROM seen WHERE channel = 'telegram'"), 10000);
    assert_int_equal(sql_int(f->db, "SELECT count(*) FROM seen WHERE channel = 'matrix'"), 2);
    assert_int_equal(pp_store_seen(st, "telegram", "11049"), 1);   /* newest kept */
    assert_int_equal(pp_store_seen(st, "telegram", "1050"), 1);    /* oldest kept */
    assert_int_equal(sql_int(f->db, "SELECT count(*) FROM seen WHERE event_id = '1049'"), 0);
    pp_store_close(st);
}

static void test_transcripts_off_by_default(void **state)
{
    fixture *f = *state;
    char err[256] = "", wal[700];
    snprintf(wal, sizeof wal, "%s-wal", f->db);
    pp_store *st = pp_store_open(f->db, err, sizeof err);
    if (!st) fail_msg("open: %s", err);
    pp_session *s = pp_session_new();
    /* A message a rule quotes in its /why text: no trace of it on disk. */
    turn(f->rules, s, "zebra marker words in a message no rule knows");
    turn(f->rules, s, "he pulls away every time we get close");
    assert_int_equal(pp_store_save(st, "cli:default", s, NULL, NULL,
                                   "zebra-marker-user-text", "zebra-marker-bot-text",
                                   err, sizeof err), 0);
    assert_int_equal(sql_int(f->db, "SELECT count(*) FROM transcript"), 0);
    pp_store_close(st);   /* checkpoints the WAL into the file */
    assert_false(file_contains(f->db, "zebra"));
    assert_false(file_contains(wal, "zebra"));
    assert_false(file_contains(f->db, "pulls away"));

    st = pp_store_open(f->db, err, sizeof err);
    if (!st) fail_msg("reopen: %s", err);
    pp_store_keep_transcripts(st, 1);
    assert_int_equal(pp_store_save(st, "cli:default", s, NULL, NULL,
                                   "I feel alone", "That sounds lonely.", err, sizeof err), 0);
    assert_int_equal(pp_store_save(st, "cli:default", s, NULL, NULL, "again", NULL,
                                   err, sizeof err), 0);
    assert_int_equal(sql_int(f->db, "SELECT count(*) FROM transcript WHERE key = 'cli:default'"), 3);
    assert_int_equal(sql_int(f->db, "SELECT count(*) FROM transcript WHERE who = 'user' "
                     "AND text = 'I feel alone'"), 1);
    assert_int_equal(sql_int(f->db, "SELECT count(*) FROM transcript WHERE who = 'bot' "
                     "AND text = 'That sounds lonely.'"), 1);
    pp_store_keep_transcripts(st, 0);
    assert_int_equal(pp_store_save(st, "cli:default", s, NULL, NULL, "not kept", "nor this",
                                   err, sizeof err), 0);
    assert_int_equal(sql_int(f->db, "SELECT count(*) FROM transcript"), 3);
    pp_session_free(s);
    pp_store_close(st);
}

static void test_forget_and_settings(void **state)
{
    fixture *f = *state;
    char err[256] = "", buf[64], wal[700];
    snprintf(wal, sizeof wal, "%s-wal", f->db);
    pp_store *st = pp_store_open(f->db, err, sizeof err);
    if (!st) fail_msg("open: %s", err);
    assert_int_equal(pp_store_get_setting(st, "cli.last_session", buf, sizeof buf), 0);
    assert_string_equal(buf, "");

    pp_store_keep_transcripts(st, 1);
    pp_session *s = pp_session_new();
    turn(f->rules, s, "my partner stonewalls me");
    assert_int_equal(pp_store_save(st, "cli:bob", s, NULL, NULL, "bob-says", "coach-says",
                                   err, sizeof err), 0);
    assert_int_equal(pp_store_save(st, "cli:alice", s, NULL, NULL,
                                   "walrus-secret-alice", "walrus-secret-reply",
                                   err, sizeof err), 0);
    assert_int_equal(pp_store_save(st, "telegram:9", s, "telegram.offset", "77", "tg", NULL,
                                   err, sizeof err), 0);
    assert_int_equal(pp_store_seen_key(st, "telegram", "u1", "cli:alice"), 0);
    assert_int_equal(pp_store_seen_key(st, "telegram", "u2", "telegram:9"), 0);
    /* Settings about a conversation, and one about none. */
    assert_int_equal(pp_store_set_setting(st, "cli.last_session", "alice", "cli:alice"), 0);
    assert_int_equal(pp_store_set_setting(st, "x.alice-note", "walrus-secret-setting",
                                          "cli:alice"), 0);
    assert_int_equal(pp_store_set_setting(st, "x.global", "stays", NULL), 0);
    assert_int_equal(pp_store_get_setting(st, "cli.last_session", buf, sizeof buf), 1);
    assert_string_equal(buf, "alice");
    assert_true(pp_store_get_setting(st, "x.alice-note", buf, 4) < 0);   /* does not fit */

    assert_int_equal(pp_store_forget(st, "cli:alice", err, sizeof err), 0);
    pp_session *back = pp_session_new();
    assert_int_equal(pp_store_load(st, "cli:alice", back, err, sizeof err), 0);
    assert_int_equal(sql_int(f->db, "SELECT count(*) FROM transcript WHERE key = 'cli:alice'"), 0);
    assert_int_equal(sql_int(f->db, "SELECT count(*) FROM seen WHERE key = 'cli:alice'"), 0);
    assert_int_equal(pp_store_get_setting(st, "cli.last_session", buf, sizeof buf), 0);
    assert_int_equal(pp_store_get_setting(st, "x.alice-note", buf, sizeof buf), 0);
    assert_int_equal(pp_store_get_setting(st, "x.global", buf, sizeof buf), 1);
    /* Nobody else's rows went. */
    assert_int_equal(pp_store_load(st, "cli:bob", back, err, sizeof err), 1);
    assert_int_equal(pp_store_load(st, "telegram:9", back, err, sizeof err), 1);
    assert_int_equal(sql_int(f->db, "SELECT count(*) FROM transcript"), 3);
    assert_int_equal(sql_int(f->db, "SELECT count(*) FROM seen"), 1);
    assert_int_equal(pp_store_get_cursor(st, "telegram.offset", buf, sizeof buf), 1);
    assert_string_equal(buf, "77");
    /* The forgotten text is gone from the bytes on disk too, while the
     * store is still open (secure_delete + WAL truncation). */
    assert_false(file_contains(f->db, "walrus-secret"));
    assert_false(file_contains(wal, "walrus-secret"));
    assert_true(file_contains(f->db, "bob-says") || file_contains(wal, "bob-says"));

    /* Forgetting deletes only the settings about that conversation. */
    assert_int_equal(pp_store_set_setting(st, "cli.last_session", "bob", "cli:bob"), 0);
    assert_int_equal(pp_store_forget(st, "cli:nobody", err, sizeof err), 0);
    assert_int_equal(pp_store_get_setting(st, "cli.last_session", buf, sizeof buf), 1);
    assert_string_equal(buf, "bob");
    pp_session_free(back);
    pp_session_free(s);
    pp_store_close(st);
}

/* An export capped in size (what /export answers in a chat) leaves out
 * the oldest transcript lines and counts them; uncapped it has them all;
 * another key's rows never appear. */
static void test_export_capped(void **state)
{
    fixture *f = *state;
    char err[256] = "", line[1100];
    pp_store *st = pp_store_open(f->db, err, sizeof err);
    if (!st) fail_msg("open: %s", err);
    pp_store_keep_transcripts(st, 1);
    pp_session *s = pp_session_new();
    turn(f->rules, s, "my partner stonewalls me");
    for (int i = 0; i < 100; i++) {
        snprintf(line, sizeof line, "line-%03d %0990d", i, 0);
        assert_int_equal(pp_store_save(st, "cli:big", s, NULL, NULL, line, NULL,
                                       err, sizeof err), 0);
    }
    assert_int_equal(pp_store_save(st, "cli:other", s, NULL, NULL, "other-secret", NULL,
                                   err, sizeof err), 0);
    char *all = pp_store_export(st, "cli:big", s, 0, err, sizeof err);
    char *cut = pp_store_export(st, "cli:big", s, 20000, err, sizeof err);
    assert_non_null(all);
    assert_non_null(cut);
    assert_true(strlen(all) > 100000);
    assert_non_null(strstr(all, "line-000"));
    assert_null(strstr(all, "transcript_left_out"));
    assert_true(strlen(cut) <= 20000);
    assert_non_null(strstr(cut, "line-099"));      /* the newest stay */
    assert_null(strstr(cut, "line-000"));
    assert_non_null(strstr(cut, "\"transcript_left_out\""));
    assert_null(strstr(all, "other-secret"));
    free(all);
    free(cut);
    /* no store: the session in memory, the quote the store drops dropped */
    char *mem = pp_store_export(NULL, "cli:big", s, 0, err, sizeof err);
    assert_non_null(mem);
    assert_non_null(strstr(mem, "\"state_file\": null"));
    assert_null(strstr(mem, "stonewalls"));
    free(mem);
    pp_session_free(s);
    pp_store_close(st);
}

/* Files the store must refuse, and leave byte for byte as they were. */
static void refuse_untouched(const char *path, const char *what)
{
    size_t n0, n1;
    char *before = slurp(path, &n0), err[256] = "", side[700];
    assert_non_null(before);
    pp_store *st = pp_store_open(path, err, sizeof err);
    if (st) fail_msg("%s: opened", what);
    if (!err[0]) fail_msg("%s: no message", what);
    char *after = slurp(path, &n1);
    assert_int_equal(n0, n1);
    assert_memory_equal(before, after, n0);
    snprintf(side, sizeof side, "%s-wal", path);
    assert_int_equal(access(side, F_OK), -1);
    free(before);
    free(after);
}

static void test_corrupt_refused_untouched(void **state)
{
    fixture *f = *state;
    /* Not a database at all. */
    FILE *fp = fopen(f->db, "wb");
    assert_non_null(fp);
    for (int i = 0; i < 5000; i++) fputc((i * 7919) & 0xff, fp);
    fclose(fp);
    refuse_untouched(f->db, "garbage");

    /* A valid header, garbage after it. */
    char other[600];
    path_join(other, sizeof other, f->dir, "half.db");
    fp = fopen(other, "wb");
    assert_non_null(fp);
    fwrite("SQLite format 3", 1, 16, fp);
    for (int i = 0; i < 8192; i++) fputc((i * 31) & 0xff, fp);
    fclose(fp);
    refuse_untouched(other, "bad header");

    /* A real database with a damaged table page. */
    char real[600], err[256] = "";
    path_join(real, sizeof real, f->dir, "real.db");
    pp_store *st = pp_store_open(real, err, sizeof err);
    if (!st) fail_msg("open: %s", err);
    pp_session *s = pp_session_new();
    char key[32];
    for (int i = 0; i < 200; i++) {
        snprintf(key, sizeof key, "telegram:%d", i);
        assert_int_equal(pp_store_save(st, key, s, NULL, NULL, NULL, NULL, err, sizeof err), 0);
    }
    pp_session_free(s);
    pp_store_close(st);
    long long page = sql_int(real, "PRAGMA page_size");
    long long pages = sql_int(real, "PRAGMA page_count");
    assert_true(pages > 3);
    int fd = open(real, O_WRONLY);
    assert_true(fd >= 0);
    char junk[256];
    memset(junk, 0x5a, sizeof junk);
    for (long long p = 1; p < pages; p++)     /* every page but the first */
        assert_int_equal(pwrite(fd, junk, sizeof junk, (off_t)(p * page)), (ssize_t)sizeof junk);
    close(fd);
    refuse_untouched(real, "damaged pages");

    /* A directory where the file should be. */
    char dir[600];
    path_join(dir, sizeof dir, f->dir, "adir.db");
    assert_int_equal(mkdir(dir, 0700), 0);
    assert_null(pp_store_open(dir, err, sizeof err));
}

/* Run fn in a child; as root, the child first becomes nobody (root ignores
 * file modes).  Returns the child's exit status. */
static int as_user(void (*fn)(const fixture *), const fixture *f)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(3);
        fn(f);
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static void child_open_unwritable(const fixture *f)
{
    char path[700], err[256] = "";
    snprintf(path, sizeof path, "%s/ro/state.db", f->dir);
    pp_store *st = pp_store_open(path, err, sizeof err);
    if (st || !err[0]) _exit(1);
    if (access(path, F_OK) == 0) _exit(2);       /* nothing was created */
    snprintf(path, sizeof path, "%s/rofile.db", f->dir);
    st = pp_store_open(path, err, sizeof err);
    if (st || !err[0]) _exit(4);
    /* Told apart: a healthy file we may not write is read-only, not
     * damaged; a directory we may not write cannot hold a new file. */
    int existed = 0;
    if (pp_store_open_ex(path, &st, &existed, err, sizeof err) != PP_STORE_EREADONLY ||
        !existed || strstr(err, "damaged") || strstr(err, "move it away"))
        _exit(5);
    snprintf(path, sizeof path, "%s/ro/state.db", f->dir);
    if (pp_store_open_ex(path, &st, &existed, err, sizeof err) != PP_STORE_ECANTOPEN ||
        existed || strstr(err, "move it away"))
        _exit(6);
}

static void test_unwritable_refused(void **state)
{
    fixture *f = *state;
    char ro[600], rofile[600], err[256] = "";
    path_join(ro, sizeof ro, f->dir, "ro");
    assert_int_equal(mkdir(ro, 0555), 0);
    assert_int_equal(chmod(ro, 0555), 0);

    /* A good database that only its owner may write. */
    path_join(rofile, sizeof rofile, f->dir, "rofile.db");
    pp_store *st = pp_store_open(rofile, err, sizeof err);
    if (!st) fail_msg("open: %s", err);
    pp_store_close(st);
    size_t n0, n1;
    char *before = slurp(rofile, &n0);
    if (geteuid() == 0) {
        assert_int_equal(chmod(rofile, 0644), 0);   /* nobody may read, not write */
        /* The child must be able to reach the files: let others traverse
         * (not list) the directories above. */
        const char *tmp = getenv("TMPDIR");
        struct stat sb;
        if (tmp && stat(tmp, &sb) == 0 && sb.st_uid == 0) chmod(tmp, (sb.st_mode & 07777) | 0111);
        assert_int_equal(chmod(f->dir, 0711), 0);
    } else {
        assert_int_equal(chmod(rofile, 0400), 0);
    }
    int rc = as_user(child_open_unwritable, f);
    if (rc) fail_msg("unwritable case %d was not refused", rc);
    char *after = slurp(rofile, &n1);
    assert_int_equal(n0, n1);
    assert_memory_equal(before, after, n0);
    free(before);
    free(after);
}

static void save_ok(pp_store *st, const char *key, pp_session *s)
{
    char err[256] = "";
    if (pp_store_save(st, key, s, NULL, NULL, NULL, NULL, err, sizeof err) != 0)
        fail_msg("save %s: %s", key, err);
}

static long long row_int(const char *db, const char *key, const char *field)
{
    char sql[300];
    snprintf(sql, sizeof sql, "SELECT json_extract(json, '$.%s') FROM session WHERE key = '%s'",
             field, key);
    return sql_int(db, sql);
}

/* The whole JSON of key's row (malloc'd). */
static char *row_text(const char *db, const char *key)
{
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(h, "SELECT json FROM session WHERE key = ?1", -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    char *v = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(h);
    return v;
}

/* Two processes on one session (two terminals resuming the last CLI
 * session): two handles on one real file, each with the session it
 * loaded.  Before revisions, A's save wrote back the session it had loaded
 * and B's safety lock was gone. */
static void test_two_windows_merge(void **state)
{
    fixture *f = *state;
    char err[256] = "";
    pp_store *a = pp_store_open(f->db, err, sizeof err);
    if (!a) fail_msg("open a: %s", err);
    pp_store *b = pp_store_open(f->db, err, sizeof err);
    if (!b) fail_msg("open b: %s", err);
    pp_session *first = pp_session_new();
    turn(f->rules, first, "my boyfriend never texts me back");
    save_ok(a, "cli:s", first);
    pp_session_free(first);

    pp_session *sa = pp_session_new(), *sb = pp_session_new();
    assert_int_equal(pp_store_load(a, "cli:s", sa, err, sizeof err), 1);
    assert_int_equal(pp_store_load(b, "cli:s", sb, err, sizeof err), 1);
    turn(f->rules, sb, "he hit me last night");
    assert_true(pp_session_safety_locked(sb));
    save_ok(b, "cli:s", sb);

    /* A saves the session it loaded (plus its own turn): merged, the
     * lock holds in the row and in A's memory, the turns add up. */
    turn(f->rules, sa, "I think I should give him space");
    assert_false(pp_session_safety_locked(sa));
    save_ok(a, "cli:s", sa);
    assert_true(pp_session_safety_locked(sa));
    assert_int_equal(pp_session_turns(sa), 3);
    assert_int_equal(row_int(f->db, "cli:s", "safety_lock"), 1);
    assert_int_equal(row_int(f->db, "cli:s", "turns"), 3);
    pp_session *fresh = pp_session_new();
    assert_int_equal(pp_store_load(b, "cli:s", fresh, err, sizeof err), 1);
    assert_true(pp_session_safety_locked(fresh));
    pp_session_free(fresh);

    /* Before a turn, refresh brings in what the other saved. */
    turn(f->rules, sb, "he says sorry every time");
    save_ok(b, "cli:s", sb);                  /* B merges A's turn: 4 */
    assert_int_equal(pp_session_turns(sb), 4);
    assert_int_equal(pp_store_refresh(a, "cli:s", sa, err, sizeof err), PP_STORE_MERGED);
    assert_int_equal(pp_session_turns(sa), 4);
    assert_int_equal(pp_store_refresh(a, "cli:s", sa, err, sizeof err), 0);
    save_ok(a, "cli:s", sa);                  /* nothing new: no turn counted twice */
    assert_int_equal(row_int(f->db, "cli:s", "turns"), 4);

    /* A lock set in the other window is reported as such. */
    pp_session *ta = pp_session_new(), *tb = pp_session_new();
    turn(f->rules, ta, "we argue about money");
    save_ok(a, "cli:t", ta);
    assert_int_equal(pp_store_load(b, "cli:t", tb, err, sizeof err), 1);
    turn(f->rules, tb, "he hit me last night");
    save_ok(b, "cli:t", tb);
    assert_int_equal(pp_store_refresh(a, "cli:t", ta, err, sizeof err),
                     PP_STORE_MERGED | PP_STORE_MERGED_LOCK);
    assert_true(pp_session_safety_locked(ta));
    pp_session_free(ta);
    pp_session_free(tb);

    /* /forget in one window: the other's next turn does not write back
     * what it still held (partner, lock, turns), and it says so. */
    pp_session *fa = pp_session_new(), *fb = pp_session_new();
    turn(f->rules, fa, "my boyfriend Marco never texts me back");
    save_ok(a, "cli:f", fa);
    assert_int_equal(pp_store_load(b, "cli:f", fb, err, sizeof err), 1);
    assert_int_equal(pp_store_forget(b, "cli:f", err, sizeof err), 0);
    assert_int_equal(pp_store_refresh(a, "cli:f", fa, err, sizeof err), PP_STORE_FORGOTTEN);
    assert_int_equal(pp_session_turns(fa), 0);
    turn(f->rules, fa, "hello");
    save_ok(a, "cli:f", fa);
    assert_int_equal(row_int(f->db, "cli:f", "turns"), 1);
    char *row = row_text(f->db, "cli:f");
    assert_null(strstr(row, "Marco"));
    free(row);
    /* and the same when the save, not a refresh, is the first to see it */
    pp_session *ga = pp_session_new();
    turn(f->rules, ga, "my girlfriend Ines needs space");
    save_ok(a, "cli:g", ga);
    assert_int_equal(pp_store_forget(b, "cli:g", err, sizeof err), 0);
    turn(f->rules, ga, "hello again");
    save_ok(a, "cli:g", ga);
    row = row_text(f->db, "cli:g");
    assert_null(strstr(row, "Ines"));
    free(row);
    pp_session_free(fa);
    pp_session_free(fb);
    pp_session_free(ga);

    /* Counters: two windows, 100 turns each, interleaved, none reloading:
     * 200 turns (the last writer used to win: about 100). */
    pp_session *na = pp_session_new(), *nb = pp_session_new();
    for (int i = 0; i < 100; i++) {
        turn(f->rules, na, "she never wants to talk");
        save_ok(a, "cli:n", na);
        turn(f->rules, nb, "I feel ignored");
        save_ok(b, "cli:n", nb);
    }
    assert_int_equal(row_int(f->db, "cli:n", "turns"), 200);
    pp_session_free(na);
    pp_session_free(nb);

    /* --new: the fresh session replaces the row instead of merging. */
    pp_session *anew = pp_session_new();
    assert_int_equal(pp_store_start_over(a, "cli:s", anew, err, sizeof err), 0);
    turn(f->rules, anew, "we argue about money");
    save_ok(a, "cli:s", anew);
    assert_int_equal(row_int(f->db, "cli:s", "turns"), 1);
    assert_int_equal(row_int(f->db, "cli:s", "safety_lock"), 0);
    pp_session_free(anew);

    pp_session_free(sa);
    pp_session_free(sb);
    pp_store_close(a);
    pp_store_close(b);
}

/* Why an open failed, told apart: a healthy file that is busy is not
 * "damaged", and only a damaged one is to be moved away. */
static void test_open_failure_classes(void **state)
{
    fixture *f = *state;
    char err[512] = "";
    pp_store *st = NULL;
    int existed = -1;
    assert_int_equal(pp_store_open_ex(f->db, &st, &existed, err, sizeof err), 0);
    assert_int_equal(existed, 0);
    pp_session *s = pp_session_new();
    turn(f->rules, s, "my wife never listens to me");
    save_ok(st, "cli:default", s);
    pp_session_free(s);
    pp_store_close(st);

    /* BUSY: another connection holds an exclusive lock (for all of the
     * 5 s busy timeout). */
    sqlite3 *h = NULL;
    assert_int_equal(sqlite3_open_v2(f->db, &h, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(h, "PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; "
                        "UPDATE session SET updated = updated;", NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("lock: %s", msg);
    size_t n0, n1;
    char *before = slurp(f->db, &n0);
    assert_int_equal(pp_store_open_ex(f->db, &st, &existed, err, sizeof err), PP_STORE_EBUSY);
    assert_null(st);
    assert_int_equal(existed, 1);
    if (!strstr(err, "locked") || strstr(err, "damaged") || strstr(err, "move it away"))
        fail_msg("busy: %s", err);
    sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(h);
    char *after = slurp(f->db, &n1);
    assert_int_equal(n0, n1);
    assert_memory_equal(before, after, n0);
    free(before);
    free(after);
    assert_int_equal(pp_store_open_ex(f->db, &st, NULL, err, sizeof err), 0);
    pp_store_close(st);
    assert_int_equal(sql_int(f->db, "SELECT count(*) FROM session"), 1);

    /* CORRUPT: not a database at all; the one case to move it away. */
    char junk[600];
    path_join(junk, sizeof junk, f->dir, "junk.db");
    FILE *fp = fopen(junk, "wb");
    assert_non_null(fp);
    for (int i = 0; i < 5000; i++) fputc((i * 7919) & 0xff, fp);
    fclose(fp);
    assert_int_equal(pp_store_open_ex(junk, &st, &existed, err, sizeof err), PP_ECORRUPT);
    assert_int_equal(existed, 1);
    assert_non_null(strstr(err, "move it away"));

    /* CANTOPEN with no file: the directory cannot be made (a file is in
     * the way). */
    char blocked[700];
    snprintf(blocked, sizeof blocked, "%s/sub/state.db", junk);
    assert_int_equal(pp_store_open_ex(blocked, &st, &existed, err, sizeof err),
                     PP_STORE_ECANTOPEN);
    assert_int_equal(existed, 0);
    assert_null(strstr(err, "move it away"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_default_path_modes_wal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_twice_keeps_version_and_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_older_version_migrated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_version_1_migrated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crypto_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_export_capped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_version_refused_untouched, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_trip_real_session, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cursors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seen_marks_and_pruning, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transcripts_off_by_default, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forget_and_settings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_refused_untouched, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unwritable_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_windows_merge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_failure_classes, setup, teardown),
    };
    return cmocka_run_group_tests_name("store", tests, group_setup, group_teardown);
}
