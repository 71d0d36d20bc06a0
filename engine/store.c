/* store.c -- sessions that survive restarts: the SQLite state database.
 *
 * One file ($XDG_STATE_HOME/pushpull/state.db, mode 0600, directory 0700)
 * holds every conversation's session (the JSON of pp_session_save), the bot
 * cursors (Telegram offset, Matrix next_batch), the handled external event
 * ids, an opt-in transcript and a small meta table (the last CLI session).
 *
 * Key design:
 *  - The schema is a list of migrations; PRAGMA user_version says how many
 *    have run.  pp_store_open runs the missing ones, each in its own
 *    BEGIN IMMEDIATE transaction, so two processes opening at once agree.
 *  - WAL journal + a 5 s busy timeout, and every write is one BEGIN
 *    IMMEDIATE transaction: a session and the bot cursor that goes with it
 *    commit together or not at all, and a second process waits instead of
 *    failing with SQLITE_BUSY.
 *  - A file we cannot read as a healthy database is never written: the
 *    header is checked by hand and PRAGMA quick_check runs before the first
 *    write (setting WAL mode is a write), and the caller gets NULL.
 *  - All SQL with external strings uses prepared statements and bound
 *    parameters; every string is length-checked; nothing is printed.
 *  - Privacy: no message text on disk unless transcripts are on; that
 *    includes the session's /why text, which quotes the user.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "pushpull.h"

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

#define STORE_BUSY_MS       5000
#define STORE_SEEN_KEEP     10000   /* handled event ids kept per channel */
#define STORE_MAX_KEY       1024    /* session keys, channels, event ids */
#define STORE_MAX_NAME      256     /* cursor names */
#define STORE_MAX_VALUE     8192    /* cursor values (Matrix tokens) */
#define STORE_MAX_TEXT      65536   /* one transcript line */
#define STORE_MAX_SESSION   (1u << 20)  /* one serialised session */

struct pp_store {
    sqlite3 *db;
    int keep_transcripts;
    char path[PATH_MAX];
    char err[256];          /* last error of the calls without an err buffer */
};

/* Schema migrations: entry i takes user_version i to i+1.  Append only;
 * never edit a migration that has shipped. */
static const char *const store_migrations[] = {
    /* 1: the first schema */
    "CREATE TABLE session ("
    "  key     TEXT PRIMARY KEY,"
    "  json    TEXT NOT NULL,"
    "  updated INTEGER NOT NULL);"
    "CREATE TABLE cursor ("
    "  name    TEXT PRIMARY KEY,"
    "  value   TEXT NOT NULL,"
    "  updated INTEGER NOT NULL);"
    "CREATE TABLE seen ("
    "  id       INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  channel  TEXT NOT NULL,"
    "  event_id TEXT NOT NULL,"
    "  key      TEXT,"
    "  at       INTEGER NOT NULL,"
    "  UNIQUE (channel, event_id));"
    "CREATE INDEX seen_by_channel ON seen (channel, id);"
    "CREATE INDEX seen_by_key ON seen (key);"
    "CREATE TABLE transcript ("
    "  id   INTEGER PRIMARY KEY,"
    "  key  TEXT NOT NULL,"
    "  at   INTEGER NOT NULL,"
    "  who  TEXT NOT NULL CHECK (who IN ('user', 'bot')),"
    "  text TEXT NOT NULL);"
    "CREATE INDEX transcript_by_key ON transcript (key, id);"
    "CREATE TABLE meta ("
    "  name  TEXT PRIMARY KEY,"
    "  value TEXT NOT NULL);",
};
#define STORE_VERSION ((int)(sizeof store_migrations / sizeof store_migrations[0]))

/* ---- small helpers ----------------------------------------------------- */

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Copy a message into the store's own buffer (for pp_store_error) and into
 * the caller's, when there is one. */
#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static int fail(pp_store *st, char *err, size_t errlen, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (st) snprintf(st->err, sizeof st->err, "%s", msg);
    set_err(err, errlen, "%s", msg);
    return PP_ESTORE;
}

static int fail_db(pp_store *st, char *err, size_t errlen, const char *what)
{
    int code = sqlite3_extended_errcode(st->db);
    if ((code & 0xff) == SQLITE_BUSY)
        return fail(st, err, errlen, "state database %s: %s: busy for more than %d s "
                    "(another pushpull is holding it)", st->path, what, STORE_BUSY_MS / 1000);
    return fail(st, err, errlen, "state database %s: %s: %s", st->path, what,
                sqlite3_errmsg(st->db));
}

/* 1 when s is a usable string of at most max bytes. */
static int str_ok(const char *s, size_t max)
{
    return s && s[0] && strnlen(s, max + 1) <= max;
}

static int prepare(pp_store *st, sqlite3_stmt **stmt, const char *sql,
                   char *err, size_t errlen)
{
    if (sqlite3_prepare_v2(st->db, sql, -1, stmt, NULL) != SQLITE_OK) {
        *stmt = NULL;
        return fail_db(st, err, errlen, "prepare");
    }
    return 0;
}

/* Run a statement with no result rows (its parameters already bound) and
 * finalize it. */
static int run(pp_store *st, sqlite3_stmt *stmt, const char *what, char *err, size_t errlen)
{
    int rc = sqlite3_step(stmt);
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) return fail_db(st, err, errlen, what);
    return 0;
}

/* A constant statement (BEGIN, COMMIT...), no parameters. */
static int exec_const(pp_store *st, const char *sql, char *err, size_t errlen)
{
    sqlite3_stmt *stmt;
    if (prepare(st, &stmt, sql, err, errlen)) return PP_ESTORE;
    return run(st, stmt, sql, err, errlen);
}

static int begin(pp_store *st, char *err, size_t errlen)
{
    return exec_const(st, "BEGIN IMMEDIATE", err, errlen);
}

static int commit(pp_store *st, char *err, size_t errlen)
{
    if (exec_const(st, "COMMIT", err, errlen)) {
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        return PP_ESTORE;
    }
    return 0;
}

static void rollback(pp_store *st)
{
    if (!sqlite3_get_autocommit(st->db))
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

static int bind_text(sqlite3_stmt *stmt, int i, const char *s)
{
    return sqlite3_bind_text(stmt, i, s, -1, SQLITE_STATIC);
}

/* ---- opening ----------------------------------------------------------- */

/* mkdir -p for the directory part of path; new directories get 0700. */
static int make_parents(const char *path, char *err, size_t errlen)
{
    char dir[PATH_MAX];
    if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir) {
        set_err(err, errlen, "state path too long");
        return PP_EIO;
    }
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir) return 0;
    *slash = '\0';
    for (char *p = dir + 1; ; p++) {
        if (*p != '/' && *p != '\0') continue;
        char c = *p;
        *p = '\0';
        if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
            set_err(err, errlen, "cannot create directory %s: %s", dir, strerror(errno));
            return PP_EIO;
        }
        *p = c;
        if (c == '\0') break;
    }
    return 0;
}

static int default_path(char *buf, size_t len, char *err, size_t errlen)
{
    const char *xdg = getenv("XDG_STATE_HOME");
    int n;
    /* The XDG spec: a relative path in the variable is to be ignored. */
    if (xdg && xdg[0] == '/') {
        n = snprintf(buf, len, "%s/pushpull/state.db", xdg);
    } else {
        const char *home = getenv("HOME");
        if (!home || home[0] != '/') {
            set_err(err, errlen, "no state directory: neither XDG_STATE_HOME nor HOME is set");
            return PP_EIO;
        }
        n = snprintf(buf, len, "%s/.local/state/pushpull/state.db", home);
    }
    if (n < 0 || (size_t)n >= len) {
        set_err(err, errlen, "state path too long");
        return PP_EIO;
    }
    return 0;
}

/* Look at the file before SQLite does.  Creates it (0600) when missing.
 * Refuses anything that is not empty and not an SQLite 3 database. */
static int check_or_create(const char *path, char *err, size_t errlen)
{
    static const char magic[16] = "SQLite format 3";   /* with its NUL */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
        int rc = fchmod(fd, 0600);
        close(fd);
        if (rc != 0) {
            set_err(err, errlen, "cannot set mode 0600 on %s: %s", path, strerror(errno));
            return PP_EIO;
        }
        return 0;
    }
    if (errno != EEXIST) {
        set_err(err, errlen, "cannot create state database %s: %s", path, strerror(errno));
        return PP_EIO;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        set_err(err, errlen, "cannot read state database %s: %s (left untouched)",
                path, strerror(errno));
        return PP_EIO;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        set_err(err, errlen, "state database %s is not a regular file (left untouched)", path);
        return PP_ECORRUPT;
    }
    char head[16];
    ssize_t got = sb.st_size == 0 ? 0 : read(fd, head, sizeof head);
    close(fd);
    if (sb.st_size != 0 && (got != (ssize_t)sizeof head || memcmp(head, magic, sizeof head) != 0)) {
        set_err(err, errlen, "%s is not a pushpull state database (not SQLite); "
                "it was left untouched: move it away or use --state PATH", path);
        return PP_ECORRUPT;
    }
    return 0;
}

static int user_version(pp_store *st, int *out, char *err, size_t errlen)
{
    sqlite3_stmt *stmt;
    if (prepare(st, &stmt, "PRAGMA user_version", err, errlen)) return PP_ESTORE;
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) *out = sqlite3_column_int(stmt, 0);
    sqlite3_finalize(stmt);
    if (rc != SQLITE_ROW) return fail_db(st, err, errlen, "reading the schema version");
    return 0;
}

/* PRAGMA quick_check, read-only; fills why with the first complaint. */
static int quick_check(pp_store *st, char *why, size_t whylen)
{
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2(st->db, "PRAGMA quick_check(1)", -1, &stmt, NULL) != SQLITE_OK) {
        snprintf(why, whylen, "%s", sqlite3_errmsg(st->db));
        return -1;
    }
    int rc = sqlite3_step(stmt), bad = 1;
    if (rc == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(stmt, 0);
        bad = !t || strcmp((const char *)t, "ok") != 0;
        snprintf(why, whylen, "%s", t ? (const char *)t : "no answer");
    } else {
        snprintf(why, whylen, "%s", sqlite3_errmsg(st->db));
    }
    sqlite3_finalize(stmt);
    return bad ? -1 : 0;
}

static int migrate(pp_store *st, char *err, size_t errlen)
{
    int v;
    if (user_version(st, &v, err, errlen)) return PP_ESTORE;
    if (v > STORE_VERSION) {
        set_err(err, errlen, "state database %s has schema version %d, newer than this "
                "pushpull knows (%d); it was left untouched", st->path, v, STORE_VERSION);
        return PP_ECORRUPT;
    }
    while (v < STORE_VERSION) {
        if (begin(st, err, errlen)) return PP_ESTORE;
        /* Another process may have migrated while we waited for the lock. */
        if (user_version(st, &v, err, errlen)) { rollback(st); return PP_ESTORE; }
        if (v >= STORE_VERSION) { rollback(st); break; }
        char *msg = NULL;
        if (sqlite3_exec(st->db, store_migrations[v], NULL, NULL, &msg) != SQLITE_OK) {
            set_err(err, errlen, "state database %s: migration %d failed: %s",
                    st->path, v + 1, msg ? msg : "unknown error");
            sqlite3_free(msg);
            rollback(st);
            return PP_ESTORE;
        }
        /* PRAGMA takes no parameters; v + 1 is our own small integer. */
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v + 1);
        if (exec_const(st, sql, err, errlen) || commit(st, err, errlen)) {
            rollback(st);
            return PP_ESTORE;
        }
        v++;
    }
    return 0;
}

pp_store *pp_store_open(const char *path, char *err, size_t errlen)
{
    char resolved[PATH_MAX];
    if (path && !path[0]) {
        set_err(err, errlen, "empty state path");
        return NULL;
    }
    if (!path) {
        if (default_path(resolved, sizeof resolved, err, errlen)) return NULL;
        path = resolved;
    }
    if (strlen(path) >= PATH_MAX) {
        set_err(err, errlen, "state path too long");
        return NULL;
    }
    if (make_parents(path, err, errlen)) return NULL;
    if (check_or_create(path, err, errlen)) return NULL;

    pp_store *st = calloc(1, sizeof *st);
    if (!st) {
        set_err(err, errlen, "out of memory");
        return NULL;
    }
    snprintf(st->path, sizeof st->path, "%s", path);

    /* Never SQLITE_OPEN_CREATE: the file exists now, and if it vanished
     * meanwhile we would rather fail than create one with default mode. */
    int rc = sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE, NULL);
    if (rc != SQLITE_OK) {
        set_err(err, errlen, "cannot open state database %s: %s", path,
                st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
        goto fail;
    }
    sqlite3_extended_result_codes(st->db, 1);
    sqlite3_busy_timeout(st->db, STORE_BUSY_MS);
    if (sqlite3_db_readonly(st->db, "main") == 1) {
        set_err(err, errlen, "state database %s is not writable (left untouched)", path);
        goto fail;
    }

    /* Read-only checks before the first write. */
    char why[160];
    if (quick_check(st, why, sizeof why)) {
        set_err(err, errlen, "state database %s is damaged (%s); it was left untouched: "
                "move it away to start afresh", path, why);
        goto fail;
    }
    int v;
    if (user_version(st, &v, err, errlen)) goto fail;
    if (v > STORE_VERSION) {
        set_err(err, errlen, "state database %s has schema version %d, newer than this "
                "pushpull knows (%d); it was left untouched", path, v, STORE_VERSION);
        goto fail;
    }

    /* WAL (readers never block the writer), durable against a process
     * crash with synchronous=NORMAL; deleted rows are zeroed (/forget). */
    /* The mode is kept in the file: most opens find WAL already on.  A
     * switch needs an exclusive lock that SQLite does not wait for with the
     * busy handler, so when another process is writing, retry for up to the
     * busy timeout. */
    int wal = 0;
    for (int attempt = 0; !wal && attempt * 50 <= STORE_BUSY_MS; attempt++) {
        sqlite3_stmt *stmt;
        if (attempt) sqlite3_sleep(50);
        if (prepare(st, &stmt, attempt ? "PRAGMA journal_mode = WAL" : "PRAGMA journal_mode",
                    err, errlen))
            goto fail;
        rc = sqlite3_step(stmt);
        const unsigned char *mode = rc == SQLITE_ROW ? sqlite3_column_text(stmt, 0) : NULL;
        wal = mode && strcmp((const char *)mode, "wal") == 0;
        sqlite3_finalize(stmt);
        if (!wal && rc != SQLITE_ROW && (rc & 0xFF) != SQLITE_BUSY && (rc & 0xFF) != SQLITE_LOCKED)
            break;
    }
    if (!wal) {
        fail_db(st, err, errlen, "cannot switch to WAL mode");
        goto fail;
    }
    if (exec_const(st, "PRAGMA synchronous = NORMAL", err, errlen) ||
        exec_const(st, "PRAGMA secure_delete = ON", err, errlen) ||
        migrate(st, err, errlen))
        goto fail;

    /* Tighten a file someone made readable to others (we own it). */
    struct stat sb;
    if (stat(path, &sb) == 0 && (sb.st_mode & 077) && sb.st_uid == geteuid())
        chmod(path, sb.st_mode & 0700);
    return st;

fail:
    sqlite3_close(st->db);
    free(st);
    return NULL;
}

void pp_store_close(pp_store *st)
{
    if (!st) return;
    sqlite3_close(st->db);
    free(st);
}

const char *pp_store_path(const pp_store *st)
{
    return st ? st->path : "";
}

const char *pp_store_error(const pp_store *st)
{
    return st ? st->err : "no state database";
}

/* ---- sessions ---------------------------------------------------------- */

int pp_store_load(pp_store *st, const char *key, pp_session *s, char *err, size_t errlen)
{
    if (!st || !s) return fail(st, err, errlen, "no state database or session");
    if (!str_ok(key, STORE_MAX_KEY)) return fail(st, err, errlen, "invalid session key");

    sqlite3_stmt *stmt;
    if (prepare(st, &stmt, "SELECT json FROM session WHERE key = ?1", err, errlen))
        return PP_ESTORE;
    bind_text(stmt, 1, key);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) {
        sqlite3_finalize(stmt);
        return 0;
    }
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(stmt);
        return fail_db(st, err, errlen, "loading a session");
    }
    const char *json = (const char *)sqlite3_column_text(stmt, 0);
    char *copy = json ? strdup(json) : NULL;
    sqlite3_finalize(stmt);
    if (!copy) return fail(st, err, errlen, "loading a session: out of memory");

    /* Parse into a scratch session first so that a bad row leaves s as it
     * was (the caller then starts afresh). */
    char why[160] = "";
    pp_session *probe = pp_session_new();
    if (!probe) {
        free(copy);
        return fail(st, err, errlen, "loading a session: out of memory");
    }
    rc = pp_session_load(probe, copy, why, sizeof why);
    pp_session_free(probe);
    if (rc == 0) rc = pp_session_load(s, copy, why, sizeof why);
    free(copy);
    if (rc != 0) {
        fail(st, err, errlen, "the saved session is unreadable (%s)", why);
        return PP_ECORRUPT;
    }
    return 1;
}

static int put_cursor(pp_store *st, const char *name, const char *value, char *err, size_t errlen)
{
    sqlite3_stmt *stmt;
    if (prepare(st, &stmt,
                "INSERT INTO cursor (name, value, updated) VALUES (?1, ?2, ?3) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value, "
                "updated = excluded.updated", err, errlen))
        return PP_ESTORE;
    bind_text(stmt, 1, name);
    bind_text(stmt, 2, value);
    sqlite3_bind_int64(stmt, 3, (sqlite3_int64)time(NULL));
    return run(st, stmt, "saving a cursor", err, errlen);
}

static int put_transcript(pp_store *st, const char *key, const char *who, const char *text,
                          char *err, size_t errlen)
{
    sqlite3_stmt *stmt;
    if (prepare(st, &stmt, "INSERT INTO transcript (key, at, who, text) VALUES (?1, ?2, ?3, ?4)",
                err, errlen))
        return PP_ESTORE;
    bind_text(stmt, 1, key);
    sqlite3_bind_int64(stmt, 2, (sqlite3_int64)time(NULL));
    bind_text(stmt, 3, who);
    sqlite3_bind_text(stmt, 4, text, (int)strnlen(text, STORE_MAX_TEXT), SQLITE_STATIC);
    return run(st, stmt, "saving the transcript", err, errlen);
}

static int put_meta(pp_store *st, const char *name, const char *value, char *err, size_t errlen)
{
    sqlite3_stmt *stmt;
    if (prepare(st, &stmt,
                "INSERT INTO meta (name, value) VALUES (?1, ?2) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value", err, errlen))
        return PP_ESTORE;
    bind_text(stmt, 1, name);
    bind_text(stmt, 2, value);
    return run(st, stmt, "saving meta", err, errlen);
}

/* The session's /why text quotes the user's message; without transcripts
 * no message text goes to disk, so the field is dropped (the engine treats
 * it as optional).  Returns a malloc'd JSON string, or NULL. */
static char *session_json(const pp_session *s, int keep_text)
{
    char *json = pp_session_save(s);
    if (!json || keep_text) return json;
    json_t *o = json_loads(json, 0, NULL);
    free(json);
    if (!o || !json_is_object(o)) {
        json_decref(o);
        return NULL;
    }
    json_object_del(o, "why");
    char *out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return out;
}

int pp_store_save(pp_store *st, const char *key, const pp_session *s,
                  const char *cursor_name, const char *cursor_value,
                  const char *transcript_user, const char *transcript_bot,
                  char *err, size_t errlen)
{
    if (!st || !s) return fail(st, err, errlen, "no state database or session");
    if (!str_ok(key, STORE_MAX_KEY)) return fail(st, err, errlen, "invalid session key");
    if (cursor_name && (!str_ok(cursor_name, STORE_MAX_NAME) || !cursor_value ||
                        strnlen(cursor_value, STORE_MAX_VALUE + 1) > STORE_MAX_VALUE))
        return fail(st, err, errlen, "invalid cursor");

    char *json = session_json(s, st->keep_transcripts);
    if (!json) return fail(st, err, errlen, "saving a session: cannot serialise it");
    if (strnlen(json, STORE_MAX_SESSION + 1) > STORE_MAX_SESSION) {
        free(json);
        return fail(st, err, errlen, "saving a session: too large");
    }

    int rc = begin(st, err, errlen);
    if (rc) { free(json); return rc; }

    sqlite3_stmt *stmt;
    rc = prepare(st, &stmt,
                 "INSERT INTO session (key, json, updated) VALUES (?1, ?2, ?3) "
                 "ON CONFLICT (key) DO UPDATE SET json = excluded.json, "
                 "updated = excluded.updated", err, errlen);
    if (!rc) {
        bind_text(stmt, 1, key);
        bind_text(stmt, 2, json);
        sqlite3_bind_int64(stmt, 3, (sqlite3_int64)time(NULL));
        rc = run(st, stmt, "saving a session", err, errlen);
    }
    free(json);
    if (!rc && cursor_name)
        rc = put_cursor(st, cursor_name, cursor_value, err, errlen);
    if (!rc && st->keep_transcripts && transcript_user)
        rc = put_transcript(st, key, "user", transcript_user, err, errlen);
    if (!rc && st->keep_transcripts && transcript_bot)
        rc = put_transcript(st, key, "bot", transcript_bot, err, errlen);
    if (!rc && strncmp(key, "cli:", 4) == 0 && key[4])
        rc = put_meta(st, "last_cli", key + 4, err, errlen);
    if (!rc) rc = commit(st, err, errlen);
    if (rc) rollback(st);
    return rc;
}

/* ---- cursors and handled events ---------------------------------------- */

int pp_store_get_cursor(pp_store *st, const char *name, char *buf, size_t buflen)
{
    if (!st || !buf || buflen == 0) return fail(st, NULL, 0, "no state database or buffer");
    buf[0] = '\0';
    if (!str_ok(name, STORE_MAX_NAME)) return fail(st, NULL, 0, "invalid cursor name");
    sqlite3_stmt *stmt;
    if (prepare(st, &stmt, "SELECT value FROM cursor WHERE name = ?1", NULL, 0))
        return PP_ESTORE;
    bind_text(stmt, 1, name);
    int rc = sqlite3_step(stmt), ret;
    if (rc == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(stmt, 0);
        size_t n = v ? (size_t)sqlite3_column_bytes(stmt, 0) : 0;
        if (n >= buflen) {
            ret = fail(st, NULL, 0, "cursor %s does not fit the buffer", name);
        } else {
            if (n) memcpy(buf, v, n);
            buf[n] = '\0';
            ret = 1;
        }
    } else if (rc == SQLITE_DONE) {
        ret = 0;
    } else {
        ret = fail_db(st, NULL, 0, "reading a cursor");
    }
    sqlite3_finalize(stmt);
    return ret;
}

int pp_store_set_cursor(pp_store *st, const char *name, const char *value)
{
    if (!st) return PP_ESTORE;
    if (!str_ok(name, STORE_MAX_NAME) || !value ||
        strnlen(value, STORE_MAX_VALUE + 1) > STORE_MAX_VALUE)
        return fail(st, NULL, 0, "invalid cursor");
    int rc = begin(st, NULL, 0);
    if (!rc) rc = put_cursor(st, name, value, NULL, 0);
    if (!rc) rc = commit(st, NULL, 0);
    if (rc) rollback(st);
    return rc;
}

int pp_store_seen_key(pp_store *st, const char *channel, const char *event_id,
                      const char *key)
{
    if (!st) return PP_ESTORE;
    if (!str_ok(channel, STORE_MAX_KEY) || !str_ok(event_id, STORE_MAX_KEY) ||
        (key && !str_ok(key, STORE_MAX_KEY)))
        return fail(st, NULL, 0, "invalid event id");
    int rc = begin(st, NULL, 0), already = 0;
    sqlite3_stmt *stmt;
    if (!rc) rc = prepare(st, &stmt,
                          "INSERT INTO seen (channel, event_id, key, at) VALUES (?1, ?2, ?3, ?4) "
                          "ON CONFLICT (channel, event_id) DO NOTHING", NULL, 0);
    if (!rc) {
        bind_text(stmt, 1, channel);
        bind_text(stmt, 2, event_id);
        if (key) bind_text(stmt, 3, key); else sqlite3_bind_null(stmt, 3);
        sqlite3_bind_int64(stmt, 4, (sqlite3_int64)time(NULL));
        rc = run(st, stmt, "marking an event", NULL, 0);
        if (!rc) already = sqlite3_changes(st->db) == 0;
    }
    /* Keep the newest STORE_SEEN_KEEP marks of this channel. */
    if (!rc && !already) rc = prepare(st, &stmt,
                          "DELETE FROM seen WHERE channel = ?1 AND id <= "
                          "(SELECT id FROM seen WHERE channel = ?1 ORDER BY id DESC "
                          " LIMIT 1 OFFSET ?2)", NULL, 0);
    if (!rc && !already) {
        bind_text(stmt, 1, channel);
        sqlite3_bind_int(stmt, 2, STORE_SEEN_KEEP);
        rc = run(st, stmt, "pruning event marks", NULL, 0);
    }
    if (!rc) rc = commit(st, NULL, 0);
    if (rc) { rollback(st); return rc; }
    return already;
}

int pp_store_seen(pp_store *st, const char *channel, const char *event_id)
{
    return pp_store_seen_key(st, channel, event_id, NULL);
}

/* ---- privacy ----------------------------------------------------------- */

void pp_store_keep_transcripts(pp_store *st, int on)
{
    if (st) st->keep_transcripts = on != 0;
}

static int delete_where(pp_store *st, const char *sql, const char *arg, char *err, size_t errlen)
{
    sqlite3_stmt *stmt;
    if (prepare(st, &stmt, sql, err, errlen)) return PP_ESTORE;
    bind_text(stmt, 1, arg);
    return run(st, stmt, "forgetting", err, errlen);
}

int pp_store_forget(pp_store *st, const char *key, char *err, size_t errlen)
{
    if (!st) return fail(st, err, errlen, "no state database");
    if (!str_ok(key, STORE_MAX_KEY)) return fail(st, err, errlen, "invalid session key");
    int rc = begin(st, err, errlen);
    if (!rc) rc = delete_where(st, "DELETE FROM session WHERE key = ?1", key, err, errlen);
    if (!rc) rc = delete_where(st, "DELETE FROM transcript WHERE key = ?1", key, err, errlen);
    if (!rc) rc = delete_where(st, "DELETE FROM seen WHERE key = ?1", key, err, errlen);
    if (!rc && strncmp(key, "cli:", 4) == 0)
        rc = delete_where(st, "DELETE FROM meta WHERE name = 'last_cli' AND value = ?1",
                          key + 4, err, errlen);
    if (!rc) rc = commit(st, err, errlen);
    if (rc) { rollback(st); return rc; }
    /* secure_delete zeroed the pages; also move them out of the WAL into
     * the main file and cut the WAL, so the old text does not linger there.
     * Best effort: a reader in another process may keep the WAL alive. */
    sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    return 0;
}

int pp_store_last_cli(pp_store *st, char *buf, size_t buflen)
{
    if (!st || !buf || buflen == 0) return fail(st, NULL, 0, "no state database or buffer");
    sqlite3_stmt *stmt;
    if (prepare(st, &stmt, "SELECT value FROM meta WHERE name = 'last_cli'", NULL, 0))
        return PP_ESTORE;
    int rc = sqlite3_step(stmt);
    const char *v = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(stmt, 0) : NULL;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        sqlite3_finalize(stmt);
        return fail_db(st, NULL, 0, "reading the last session");
    }
    if (!v || !v[0]) v = "default";
    int ret = 0;
    if (strlen(v) >= buflen) ret = fail(st, NULL, 0, "session name does not fit the buffer");
    else snprintf(buf, buflen, "%s", v);
    sqlite3_finalize(stmt);
    return ret;
}
