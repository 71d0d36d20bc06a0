/* store.c -- sessions that survive restarts: the SQLite state database.
 *
 * One file ($XDG_STATE_HOME/pushpull/state.db, mode 0600, directory 0700)
 * holds every conversation's session (the JSON of pp_session_save), the bot
 * cursors (Telegram offset, Matrix next_batch), the handled external event
 * ids, an opt-in transcript and settings, each about one conversation or
 * none (the CLI's last session is one).
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
 *    write (setting WAL mode is a write), and the caller gets NULL.  Why it
 *    failed comes back as a class (read-only, cannot open, disk full, busy,
 *    I/O error, damaged), and only a damaged file is called damaged.
 *  - Modes are tightened before SQLite opens the file: the database, and a
 *    -wal or -shm left by an earlier run, are 0600 before the first write,
 *    and SQLite gives a -wal it creates the database's mode.
 *  - Two processes on one session (two terminals) do not undo each other:
 *    each saved row carries a random revision ("rev" in the JSON) and the
 *    session remembers the one it last read or wrote.  A save re-reads the
 *    row inside its write transaction; when another process wrote it since,
 *    the two are merged (pps_merge: a safety lock stays set, turn
 *    counts add up) and the merged session is both written and kept.
 *  - All SQL with external strings uses prepared statements and bound
 *    parameters; every string is length-checked; nothing is printed.
 *  - Privacy: no message text on disk unless transcripts are on; that
 *    includes the words the /why decision quotes (dropped on save).
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

#include "internal.h"   /* a session's store_rev and store_turns */

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
    /* 2: settings, each about one conversation (key; NULL = none), so
     * that /forget deletes it and /export shows it.  The store used to
     * keep the CLI's last session name itself (meta.last_cli); the CLI
     * keeps it now, as the setting cli.last_session about "cli:<name>". */
    "CREATE TABLE setting ("
    "  name    TEXT PRIMARY KEY,"
    "  value   TEXT NOT NULL,"
    "  key     TEXT,"
    "  updated INTEGER NOT NULL);"
    "CREATE INDEX setting_by_key ON setting (key);"
    "INSERT INTO setting (name, value, key, updated)"
    "  SELECT 'cli.last_session', value, 'cli:' || value, CAST(strftime('%s', 'now') AS INTEGER)"
    "  FROM meta WHERE name = 'last_cli' AND value <> '';"
    "DROP TABLE meta;",
    /* 3: check-in scores (issue 24), facts the user chose to record: the
     * 1-10 connection check, the user's calendar day it was given on, and
     * the one line they said about it (NULL = none).  /forget deletes them,
     * /export shows them. */
    "CREATE TABLE checkin ("
    "  id    INTEGER PRIMARY KEY,"
    "  key   TEXT NOT NULL,"
    "  at    INTEGER NOT NULL,"
    "  day   INTEGER NOT NULL,"
    "  score INTEGER NOT NULL CHECK (score BETWEEN 1 AND 10),"
    "  note  TEXT);"
    "CREATE INDEX checkin_by_key ON checkin (key, at);",
    /* 4: the bots' end-to-end encryption state (the Matrix bot's pickled
     * account and sessions, its device lists), too big for a cursor and
     * about no one conversation: /forget keeps it. */
    "CREATE TABLE crypto ("
    "  name    TEXT PRIMARY KEY,"
    "  value   TEXT NOT NULL,"
    "  updated INTEGER NOT NULL);",
    /* 5: reminders and pairing (the bots; app/remind.c, app/pair.c).  A
     * reminder is one row per conversation: the local time asked for, the
     * zone it is read in, and the Unix time of its next send (due), so a
     * restart knows what is owed.  A pairing is two rows, one per side; a
     * code offered is its own row until it is used or expires.  The daily
     * question's answers are the words the user gave after /answer, kept
     * only so the partner can see them once both answered; /forget
     * deletes a user's answers, codes, reminder and both rows of the pair. */
    "CREATE TABLE reminder ("
    "  key      TEXT PRIMARY KEY,"
    "  minute   INTEGER NOT NULL,"
    "  zone     TEXT NOT NULL,"
    "  due      INTEGER NOT NULL,"
    "  last_day TEXT NOT NULL DEFAULT '',"
    "  updated  INTEGER NOT NULL);"
    "CREATE INDEX reminder_by_due ON reminder (due);"
    "CREATE TABLE pair_code ("
    "  code    TEXT PRIMARY KEY,"
    "  key     TEXT NOT NULL,"
    "  expires INTEGER NOT NULL);"
    "CREATE INDEX pair_code_by_key ON pair_code (key);"
    "CREATE TABLE pair ("
    "  key     TEXT PRIMARY KEY,"
    "  partner TEXT NOT NULL,"
    "  since   INTEGER NOT NULL);"
    "CREATE INDEX pair_by_partner ON pair (partner);"
    "CREATE TABLE pair_answer ("
    "  key    TEXT NOT NULL,"
    "  day    TEXT NOT NULL,"
    "  answer TEXT NOT NULL,"
    "  at     INTEGER NOT NULL,"
    "  PRIMARY KEY (key, day));",
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

/* ---- why a state database cannot be used ------------------------------ */

/* The class of an SQLite result code (extended or primary) and the errno
 * of the system call behind it (0 = none): on a full disk SQLite often
 * says "disk I/O error" (growing the -shm file), and only errno tells. */
static int class_of_sqlite(int code, int sys_errno)
{
    if ((code & 0xff) == SQLITE_IOERR && (sys_errno == ENOSPC
#ifdef EDQUOT
                                          || sys_errno == EDQUOT
#endif
                                          ))
        return PP_STORE_EFULL;
    switch (code & 0xff) {
    case SQLITE_READONLY:  return PP_STORE_EREADONLY;
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_AUTH:      return PP_STORE_ECANTOPEN;
    case SQLITE_FULL:      return PP_STORE_EFULL;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:    return PP_STORE_EBUSY;
    case SQLITE_IOERR:     return PP_STORE_EIOERR;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:    return PP_ECORRUPT;
    case SQLITE_NOMEM:     return PP_ENOMEM;
    default:               return PP_ESTORE;
    }
}

/* The class of an errno from our own open()/fchmod() of the file. */
static int class_of_errno(int e)
{
    switch (e) {
    case EROFS:  return PP_STORE_EREADONLY;
    case ENOSPC:
#ifdef EDQUOT
    case EDQUOT:
#endif
                 return PP_STORE_EFULL;
    case EIO:    return PP_STORE_EIOERR;
    case ENOMEM: return PP_ENOMEM;
    default:     return PP_STORE_ECANTOPEN;   /* EACCES, EPERM, ENOENT, ELOOP... */
    }
}

const char *pp_store_advice(int code)
{
    switch (code) {
    case PP_STORE_EREADONLY:
        return "it cannot be written here (a read-only file, directory or file system); "
               "the file was left untouched";
    case PP_STORE_ECANTOPEN:
        return "it cannot be opened, or its -wal and -shm files cannot be made next to it "
               "(permissions, a read-only or missing directory); the file was left untouched";
    case PP_STORE_EFULL:
        return "the disk is full; the file was left untouched: free some space and try again";
    case PP_STORE_EBUSY:
        return "another program has held it locked for too long; the file was left untouched: "
               "try again when that program is done";
    case PP_STORE_EIOERR:
        return "the disk reported an I/O error; the file was left untouched";
    case PP_ECORRUPT:
        return "it is damaged or not a pushpull state database; it was left untouched: "
               "move it away to start afresh";
    default:
        return "the file was left untouched";
    }
}

/* SQLite's last failure on st->db, with what we were doing; returns its
 * class. */
static int fail_db(pp_store *st, char *err, size_t errlen, const char *what)
{
    int cls = class_of_sqlite(sqlite3_extended_errcode(st->db), sqlite3_system_errno(st->db));
    fail(st, err, errlen, "state database %s: %s: %s; %s", st->path, what,
         sqlite3_errmsg(st->db), pp_store_advice(cls));
    return cls;
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
        return fail_db(st, err, errlen, "reading it");
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
    int rc = prepare(st, &stmt, sql, err, errlen);
    return rc ? rc : run(st, stmt, sql, err, errlen);
}

static int begin(pp_store *st, char *err, size_t errlen)
{
    return exec_const(st, "BEGIN IMMEDIATE", err, errlen);
}

static int commit(pp_store *st, char *err, size_t errlen)
{
    int rc = exec_const(st, "COMMIT", err, errlen);
    if (rc) sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
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
            int e = errno;
            set_err(err, errlen, "cannot create directory %s: %s", dir, strerror(e));
            return class_of_errno(e);
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

int pp_store_default_path(char *buf, size_t len, char *err, size_t errlen)
{
    return default_path(buf, len, err, errlen);
}

/* Take group and other bits off a file we own that fd has open. */
static int make_private(int fd, const char *path, char *err, size_t errlen)
{
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || !(sb.st_mode & 077) ||
        sb.st_uid != geteuid())
        return 0;
    if (fchmod(fd, sb.st_mode & 0700) != 0) {
        int e = errno, cls = class_of_errno(e);
        set_err(err, errlen, "cannot make %s private (mode 0600): %s; %s", path, strerror(e),
                pp_store_advice(cls));
        return cls;
    }
    return 0;
}

/* The -wal and -shm an earlier run left (a crash, or a reader still open)
 * hold the same rows as the database: private too, before SQLite opens
 * them.  A side file that is missing, or not a regular file, is SQLite's
 * business. */
static int make_sides_private(const char *path, char *err, size_t errlen)
{
    static const char *const sides[] = { "-wal", "-shm" };
    for (size_t k = 0; k < sizeof sides / sizeof sides[0]; k++) {
        char side[PATH_MAX + 8];
        snprintf(side, sizeof side, "%s%s", path, sides[k]);
        int fd = open(side, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) continue;
        int rc = make_private(fd, side, err, errlen);
        close(fd);
        if (rc) return rc;
    }
    return 0;
}

/* Look at the file before SQLite does.  Creates it (0600) when missing
 * (*existed = 0), else *existed = 1.  Refuses anything that is not empty
 * and not an SQLite 3 database; makes a good one private (and its -wal and
 * -shm).  Returns 0 or the class of the failure. */
static int check_or_create(const char *path, int *existed, char *err, size_t errlen)
{
    static const char magic[16] = "SQLite format 3";   /* with its NUL */
    *existed = 0;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
        int rc = fchmod(fd, 0600), e = errno;
        close(fd);
        if (rc != 0) {
            set_err(err, errlen, "cannot set mode 0600 on %s: %s", path, strerror(e));
            return class_of_errno(e);
        }
        return 0;
    }
    if (errno != EEXIST) {
        int e = errno, cls = class_of_errno(e);
        set_err(err, errlen, "cannot create state database %s: %s; %s", path, strerror(e),
                pp_store_advice(cls));
        return cls;
    }
    *existed = 1;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        int e = errno, cls = class_of_errno(e);
        set_err(err, errlen, "cannot read state database %s: %s; %s", path, strerror(e),
                pp_store_advice(cls));
        return cls;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        set_err(err, errlen, "state database %s is not a regular file (left untouched)", path);
        return PP_ECORRUPT;
    }
    char head[16];
    ssize_t got = sb.st_size == 0 ? 0 : read(fd, head, sizeof head);
    int e = errno;
    if (got < 0) {
        close(fd);
        int cls = class_of_errno(e);
        set_err(err, errlen, "cannot read state database %s: %s; %s", path, strerror(e),
                pp_store_advice(cls));
        return cls;
    }
    if (sb.st_size != 0 && (got != (ssize_t)sizeof head || memcmp(head, magic, sizeof head) != 0)) {
        close(fd);
        set_err(err, errlen, "%s is not a pushpull state database (not SQLite); "
                "it was left untouched: move it away or use --state PATH", path);
        return PP_ECORRUPT;
    }
    int rc = make_private(fd, path, err, errlen);
    close(fd);
    return rc ? rc : make_sides_private(path, err, errlen);
}

static int user_version(pp_store *st, int *out, char *err, size_t errlen)
{
    sqlite3_stmt *stmt;
    int rc = prepare(st, &stmt, "PRAGMA user_version", err, errlen);
    if (rc) return rc;
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) *out = sqlite3_column_int(stmt, 0);
    sqlite3_finalize(stmt);
    if (rc != SQLITE_ROW) return fail_db(st, err, errlen, "reading the schema version");
    return 0;
}

static int newer_schema(const pp_store *st, int v, char *err, size_t errlen)
{
    set_err(err, errlen, "state database %s has schema version %d, newer than this "
            "pushpull knows (%d); it was left untouched", st->path, v, STORE_VERSION);
    return PP_ESTORE;
}

/* PRAGMA quick_check, read-only.  0 when the file is healthy; else the
 * class of the failure with the message in err: a complaint of the check
 * is damage, while a check that could not run (busy, unreadable) says
 * nothing about the file. */
static int quick_check(pp_store *st, char *err, size_t errlen)
{
    sqlite3_stmt *stmt;
    int rc = prepare(st, &stmt, "PRAGMA quick_check(1)", err, errlen);
    if (rc) return rc;
    rc = sqlite3_step(stmt);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(stmt);
        return fail_db(st, err, errlen, "checking it");
    }
    const unsigned char *t = sqlite3_column_text(stmt, 0);
    int bad = !t || strcmp((const char *)t, "ok") != 0;
    if (bad)
        set_err(err, errlen, "state database %s is damaged (%s); %s", st->path,
                t ? (const char *)t : "no answer", pp_store_advice(PP_ECORRUPT));
    sqlite3_finalize(stmt);
    return bad ? PP_ECORRUPT : 0;
}

static int migrate(pp_store *st, char *err, size_t errlen)
{
    int v, rc = user_version(st, &v, err, errlen);
    if (rc) return rc;
    if (v > STORE_VERSION) return newer_schema(st, v, err, errlen);
    while (v < STORE_VERSION) {
        if ((rc = begin(st, err, errlen))) return rc;
        /* Another process may have migrated while we waited for the lock. */
        if ((rc = user_version(st, &v, err, errlen))) { rollback(st); return rc; }
        if (v >= STORE_VERSION) { rollback(st); break; }
        char *msg = NULL;
        if (sqlite3_exec(st->db, store_migrations[v], NULL, NULL, &msg) != SQLITE_OK) {
            rc = class_of_sqlite(sqlite3_extended_errcode(st->db), sqlite3_system_errno(st->db));
            set_err(err, errlen, "state database %s: migration %d failed: %s; %s",
                    st->path, v + 1, msg ? msg : "unknown error", pp_store_advice(rc));
            sqlite3_free(msg);
            rollback(st);
            return rc;
        }
        /* PRAGMA takes no parameters; v + 1 is our own small integer. */
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v + 1);
        if ((rc = exec_const(st, sql, err, errlen)) || (rc = commit(st, err, errlen))) {
            rollback(st);
            return rc;
        }
        v++;
    }
    return 0;
}

/* WAL (readers never block the writer), durable against a process crash
 * with synchronous=NORMAL; deleted rows are zeroed (/forget).  The mode is
 * kept in the file: most opens find WAL already on.  A switch needs an
 * exclusive lock that SQLite does not wait for with the busy handler, so
 * when another process is writing, retry for up to the busy timeout. */
static int use_wal(pp_store *st, char *err, size_t errlen)
{
    for (int attempt = 0; attempt * 50 <= STORE_BUSY_MS; attempt++) {
        sqlite3_stmt *stmt;
        if (attempt) sqlite3_sleep(50);
        int rc = prepare(st, &stmt, attempt ? "PRAGMA journal_mode = WAL" : "PRAGMA journal_mode",
                         err, errlen);
        if (rc) return rc;
        rc = sqlite3_step(stmt);
        const unsigned char *mode = rc == SQLITE_ROW ? sqlite3_column_text(stmt, 0) : NULL;
        int wal = mode && strcmp((const char *)mode, "wal") == 0;
        sqlite3_finalize(stmt);
        if (wal) return 0;
        if (rc == SQLITE_ROW && attempt) {
            /* SQLite answered with the old mode: it could not make the WAL
             * file next to the database (a read-only directory). */
            set_err(err, errlen, "state database %s: cannot switch to WAL mode (no -wal file "
                    "can be made next to it); %s", st->path, pp_store_advice(PP_STORE_EREADONLY));
            return PP_STORE_EREADONLY;
        }
        if (rc != SQLITE_ROW && (rc & 0xFF) != SQLITE_BUSY && (rc & 0xFF) != SQLITE_LOCKED)
            return fail_db(st, err, errlen, "cannot switch to WAL mode");
    }
    return fail_db(st, err, errlen, "cannot switch to WAL mode");
}

int pp_store_open_ex(const char *path, pp_store **out, int *existed, char *err, size_t errlen)
{
    char resolved[PATH_MAX];
    int had = 0, rc;
    *out = NULL;
    if (existed) *existed = 0;
    if (path && !path[0]) {
        set_err(err, errlen, "empty state path");
        return PP_EIO;
    }
    if (!path) {
        if ((rc = default_path(resolved, sizeof resolved, err, errlen))) return rc;
        path = resolved;
    }
    if (strlen(path) >= PATH_MAX) {
        set_err(err, errlen, "state path too long");
        return PP_EIO;
    }
    if ((rc = make_parents(path, err, errlen))) return rc;
    rc = check_or_create(path, &had, err, errlen);
    if (existed) *existed = had;
    if (rc) return rc;

    pp_store *st = calloc(1, sizeof *st);
    if (!st) {
        set_err(err, errlen, "out of memory");
        return PP_ENOMEM;
    }
    snprintf(st->path, sizeof st->path, "%s", path);

    /* Never SQLITE_OPEN_CREATE: the file exists now, and if it vanished
     * meanwhile we would rather fail than create one with default mode. */
    rc = sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE, NULL);
    if (rc != SQLITE_OK) {
        int cls = st->db ? class_of_sqlite(sqlite3_extended_errcode(st->db),
                                           sqlite3_system_errno(st->db))
                         : class_of_sqlite(rc, 0);
        set_err(err, errlen, "cannot open state database %s: %s; %s", path,
                st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc), pp_store_advice(cls));
        rc = cls;
        goto fail;
    }
    sqlite3_extended_result_codes(st->db, 1);
    sqlite3_busy_timeout(st->db, STORE_BUSY_MS);
    if (sqlite3_db_readonly(st->db, "main") == 1) {
        set_err(err, errlen, "state database %s is not writable; %s", path,
                pp_store_advice(PP_STORE_EREADONLY));
        rc = PP_STORE_EREADONLY;
        goto fail;
    }

    /* Read-only checks before the first write. */
    int v;
    if ((rc = quick_check(st, err, errlen)) || (rc = user_version(st, &v, err, errlen)))
        goto fail;
    if (v > STORE_VERSION) {
        rc = newer_schema(st, v, err, errlen);
        goto fail;
    }
    if ((rc = use_wal(st, err, errlen)) ||
        (rc = exec_const(st, "PRAGMA synchronous = NORMAL", err, errlen)) ||
        (rc = exec_const(st, "PRAGMA secure_delete = ON", err, errlen)) ||
        (rc = migrate(st, err, errlen)))
        goto fail;
    *out = st;
    return 0;

fail:
    sqlite3_close(st->db);
    free(st);
    return rc ? rc : PP_ESTORE;
}

pp_store *pp_store_open(const char *path, char *err, size_t errlen)
{
    pp_store *st;
    pp_store_open_ex(path, &st, NULL, err, errlen);
    return st;
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

/* The arguments every session call checks first: 0 or an error. */
static int session_args(pp_store *st, const char *key, const pp_session *s,
                        char *err, size_t errlen)
{
    if (!st || !s) return fail(st, err, errlen, "no state database or session");
    if (!str_ok(key, STORE_MAX_KEY)) return fail(st, err, errlen, "invalid session key");
    return 0;
}

/* The JSON of key's row, malloc'd: 1 found, 0 absent, negative error. */
static int row_json(pp_store *st, const char *key, char **json, char *err, size_t errlen)
{
    sqlite3_stmt *stmt;
    *json = NULL;
    int rc = prepare(st, &stmt, "SELECT json FROM session WHERE key = ?1", err, errlen);
    if (rc) return rc;
    bind_text(stmt, 1, key);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) {
        sqlite3_finalize(stmt);
        return 0;
    }
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(stmt);
        return fail_db(st, err, errlen, "loading a session");
    }
    const char *text = (const char *)sqlite3_column_text(stmt, 0);
    *json = text ? strdup(text) : NULL;
    sqlite3_finalize(stmt);
    if (!*json) return fail(st, err, errlen, "loading a session: out of memory");
    return 1;
}

int pp_store_load(pp_store *st, const char *key, pp_session *s, char *err, size_t errlen)
{
    int bad = session_args(st, key, s, err, errlen);
    if (bad) return bad;

    char *json;
    int rc = row_json(st, key, &json, err, errlen);
    if (rc <= 0) return rc;

    /* Parse into a scratch session first so that a bad row leaves s as it
     * was (the caller then starts afresh). */
    char why[160] = "";
    pp_session *probe = pp_session_new();
    if (!probe) {
        free(json);
        return fail(st, err, errlen, "loading a session: out of memory");
    }
    rc = pp_session_load(probe, json, why, sizeof why);
    if (rc == 0) pp_session_copy(s, probe);
    pp_session_free(probe);
    free(json);
    if (rc != 0) {
        fail(st, err, errlen, "the saved session is unreadable (%s)", why);
        return PP_ECORRUPT;
    }
    s->store_key = ppr_set_hash(key);
    return 1;
}

/* key's row as a session of its own (*theirs, caller frees): 1 found, 0
 * absent or unreadable (a row we cannot read is overwritten, as before
 * there were revisions), negative error. */
static int row_session(pp_store *st, const char *key, pp_session **theirs,
                       int *absent, char *err, size_t errlen)
{
    char *json;
    *theirs = NULL;
    int rc = row_json(st, key, &json, err, errlen);
    if (absent) *absent = rc == 0;
    if (rc <= 0) return rc;
    pp_session *t = pp_session_new();
    if (!t) {
        free(json);
        return fail(st, err, errlen, "loading a session: out of memory");
    }
    rc = pp_session_load(t, json, NULL, 0) == 0;
    free(json);
    if (rc) *theirs = t;
    else pp_session_free(t);
    return rc;
}

/* Merge key's row into s when another process wrote it since s read or
 * wrote it.  When the row s stood on is gone, another window ran /forget:
 * s forgets too, so that its next save does not write back what the user
 * asked to delete.  0 nothing new, PP_STORE_MERGED or PP_STORE_FORGOTTEN
 * bits, negative error. */
static int catch_up(pp_store *st, const char *key, pp_session *s, char *err, size_t errlen)
{
    pp_session *theirs;
    int absent;
    int rc = row_session(st, key, &theirs, &absent, err, errlen);
    if (rc == 0 && absent && s->store_rev && s->store_key == ppr_set_hash(key)) {
        pp_session_reset(s);
        s->turns = 0;
        s->disclaimed = 0;
        s->store_rev = 0;
        s->store_turns = 0;
        s->store_key = 0;
        return PP_STORE_FORGOTTEN;
    }
    if (rc <= 0) return rc;
    rc = theirs->store_rev != s->store_rev ? pps_merge(s, theirs) : 0;
    pp_session_free(theirs);
    return rc;
}

int pp_store_refresh(pp_store *st, const char *key, pp_session *s, char *err, size_t errlen)
{
    int bad = session_args(st, key, s, err, errlen);
    if (bad) return bad;
    return catch_up(st, key, s, err, errlen);
}

int pp_store_start_over(pp_store *st, const char *key, pp_session *s, char *err, size_t errlen)
{
    int bad = session_args(st, key, s, err, errlen);
    if (bad) return bad;
    pp_session *theirs;
    int rc = row_session(st, key, &theirs, NULL, err, errlen);
    if (rc < 0) return rc;
    s->store_rev = theirs ? theirs->store_rev : 0;
    s->store_key = ppr_set_hash(key);
    s->store_turns = s->turns;
    pp_session_free(theirs);
    return 0;
}

/* A revision no reader of the JSON can round, never 0 (no row) and never
 * the one it replaces.  Random rather than counted: after /forget a row
 * starts again, and a counter would hand out a revision a second window
 * already holds. */
static uint64_t new_rev(uint64_t old)
{
    uint64_t r;
    do {
        sqlite3_randomness(sizeof r, &r);
        r &= (uint64_t)PP_SESSION_MAX_REV;
    } while (r == 0 || r == old);
    return r;
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

/* The session's kept /why decision quotes the user's message, and the
 * session keeps the last complaint for a draft; without transcripts no
 * message text goes to disk, so both are dropped (the
 * engine treats it as optional: /why then names the rule without the
 * words).  Returns a malloc'd JSON string, or NULL. */
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
    json_t *why = json_object_get(o, "why");
    if (json_is_object(why)) json_object_del(why, "quote");
    json_object_del(o, "complaint");   /* the user's words, kept for a draft */
    char *out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return out;
}

int pp_store_save(pp_store *st, const char *key, pp_session *s,
                  const char *cursor_name, const char *cursor_value,
                  const char *transcript_user, const char *transcript_bot,
                  char *err, size_t errlen)
{
    int bad = session_args(st, key, s, err, errlen);
    if (bad) return bad;
    if (cursor_name && (!str_ok(cursor_name, STORE_MAX_NAME) || !cursor_value ||
                        strnlen(cursor_value, STORE_MAX_VALUE + 1) > STORE_MAX_VALUE))
        return fail(st, err, errlen, "invalid cursor");

    int rc = begin(st, err, errlen);
    if (rc) return rc;
    /* Under the write lock: what another process saved since we read the
     * row is merged in now, or it would be lost. */
    int merged = catch_up(st, key, s, err, errlen);
    if (merged < 0) {
        rollback(st);
        return merged;
    }
    uint64_t base_rev = s->store_rev;
    unsigned base_turns = s->store_turns;
    uint32_t base_key = s->store_key;
    s->store_rev = new_rev(base_rev);
    s->store_key = ppr_set_hash(key);
    s->store_turns = s->turns;

    char *json = session_json(s, st->keep_transcripts);
    if (!json) rc = fail(st, err, errlen, "saving a session: cannot serialise it");
    else if (strnlen(json, STORE_MAX_SESSION + 1) > STORE_MAX_SESSION)
        rc = fail(st, err, errlen, "saving a session: too large");

    sqlite3_stmt *stmt;
    if (!rc) rc = prepare(st, &stmt,
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
    if (!rc) rc = commit(st, err, errlen);
    if (rc) {
        rollback(st);
        /* Not written: s still stands on the row it read (merged or not). */
        s->store_rev = base_rev;
        s->store_turns = base_turns;
        s->store_key = base_key;
    }
    return rc;
}

/* ---- cursors and handled events ---------------------------------------- */

/* The value of name in a table of name/value rows (sql selects it by
 * ?1): 1 found, 0 absent (buf = ""), negative error or too long. */
static int get_value(pp_store *st, const char *sql, const char *what, const char *name,
                     char *buf, size_t buflen)
{
    if (!st || !buf || buflen == 0) return fail(st, NULL, 0, "no state database or buffer");
    buf[0] = '\0';
    if (!str_ok(name, STORE_MAX_NAME)) return fail(st, NULL, 0, "invalid %s name", what);
    sqlite3_stmt *stmt;
    if (prepare(st, &stmt, sql, NULL, 0)) return PP_ESTORE;
    bind_text(stmt, 1, name);
    int rc = sqlite3_step(stmt), ret;
    if (rc == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(stmt, 0);
        size_t n = v ? (size_t)sqlite3_column_bytes(stmt, 0) : 0;
        if (n >= buflen) {
            ret = fail(st, NULL, 0, "%s %s does not fit the buffer", what, name);
        } else {
            if (n) memcpy(buf, v, n);
            buf[n] = '\0';
            ret = 1;
        }
    } else if (rc == SQLITE_DONE) {
        ret = 0;
    } else {
        ret = fail_db(st, NULL, 0, "reading a value");
    }
    sqlite3_finalize(stmt);
    return ret;
}

int pp_store_get_cursor(pp_store *st, const char *name, char *buf, size_t buflen)
{
    return get_value(st, "SELECT value FROM cursor WHERE name = ?1", "cursor", name, buf, buflen);
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

/* ---- end-to-end encryption state --------------------------------------- */

#define STORE_MAX_CRYPTO (16u << 20)

int pp_store_get_crypto(pp_store *st, const char *name, char **out)
{
    if (out) *out = NULL;
    if (!st || !out) return PP_ESTORE;
    if (!str_ok(name, STORE_MAX_NAME)) return fail(st, NULL, 0, "invalid crypto name");
    sqlite3_stmt *stmt;
    if (prepare(st, &stmt, "SELECT value FROM crypto WHERE name = ?1", NULL, 0)) return PP_ESTORE;
    bind_text(stmt, 1, name);
    int rc = sqlite3_step(stmt), ret = 0;
    if (rc == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(stmt, 0);
        size_t n = v ? (size_t)sqlite3_column_bytes(stmt, 0) : 0;
        *out = malloc(n + 1);
        if (!*out) {
            ret = fail(st, NULL, 0, "out of memory");
        } else {
            if (n) memcpy(*out, v, n);
            (*out)[n] = '\0';
            ret = 1;
        }
    } else if (rc != SQLITE_DONE) {
        ret = fail_db(st, NULL, 0, "reading the encryption state");
    }
    sqlite3_finalize(stmt);
    return ret;
}

int pp_store_set_crypto(pp_store *st, const char *name, const char *value)
{
    if (!st) return PP_ESTORE;
    if (!str_ok(name, STORE_MAX_NAME) || !value || strnlen(value, STORE_MAX_CRYPTO + 1) > STORE_MAX_CRYPTO)
        return fail(st, NULL, 0, "invalid crypto value");
    sqlite3_stmt *stmt;
    int rc = begin(st, NULL, 0);
    if (!rc && prepare(st, &stmt,
                       "INSERT INTO crypto (name, value, updated) VALUES (?1, ?2, ?3) "
                       "ON CONFLICT (name) DO UPDATE SET value = excluded.value, "
                       "updated = excluded.updated", NULL, 0)) rc = PP_ESTORE;
    if (!rc) {
        bind_text(stmt, 1, name);
        bind_text(stmt, 2, value);
        sqlite3_bind_int64(stmt, 3, (sqlite3_int64)time(NULL));
        rc = run(st, stmt, "saving the encryption state", NULL, 0);
    }
    if (!rc) rc = commit(st, NULL, 0);
    if (rc) rollback(st);
    return rc;
}

/* ---- settings ---------------------------------------------------------- */

int pp_store_get_setting(pp_store *st, const char *name, char *buf, size_t buflen)
{
    return get_value(st, "SELECT value FROM setting WHERE name = ?1", "setting", name, buf, buflen);
}

int pp_store_set_setting(pp_store *st, const char *name, const char *value, const char *key)
{
    if (!st) return PP_ESTORE;
    if (!str_ok(name, STORE_MAX_NAME) || !value ||
        strnlen(value, STORE_MAX_VALUE + 1) > STORE_MAX_VALUE ||
        (key && !str_ok(key, STORE_MAX_KEY)))
        return fail(st, NULL, 0, "invalid setting");
    int rc = begin(st, NULL, 0);
    sqlite3_stmt *stmt;
    if (!rc) rc = prepare(st, &stmt,
                          "INSERT INTO setting (name, value, key, updated) VALUES (?1, ?2, ?3, ?4) "
                          "ON CONFLICT (name) DO UPDATE SET value = excluded.value, "
                          "key = excluded.key, updated = excluded.updated", NULL, 0);
    if (!rc) {
        bind_text(stmt, 1, name);
        bind_text(stmt, 2, value);
        if (key) bind_text(stmt, 3, key); else sqlite3_bind_null(stmt, 3);
        sqlite3_bind_int64(stmt, 4, (sqlite3_int64)time(NULL));
        rc = run(st, stmt, "saving a setting", NULL, 0);
    }
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
    if (!rc) rc = delete_where(st, "DELETE FROM setting WHERE key = ?1", key, err, errlen);
    if (!rc) rc = delete_where(st, "DELETE FROM checkin WHERE key = ?1", key, err, errlen);
    if (!rc) rc = delete_where(st, "DELETE FROM reminder WHERE key = ?1", key, err, errlen);
    if (!rc) rc = delete_where(st, "DELETE FROM pair_code WHERE key = ?1", key, err, errlen);
    if (!rc) rc = delete_where(st, "DELETE FROM pair WHERE key = ?1 OR partner = ?1", key, err, errlen);
    if (!rc) rc = delete_where(st, "DELETE FROM pair_answer WHERE key = ?1", key, err, errlen);
    if (!rc) rc = commit(st, err, errlen);
    if (rc) { rollback(st); return rc; }
    /* secure_delete zeroed the pages; also move them out of the WAL into
     * the main file and cut the WAL, so the old text does not linger there.
     * Best effort: a reader in another process may keep the WAL alive. */
    sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    return 0;
}

/* ---- what is kept about one conversation, for its user ----------------- */

/* Unix seconds as "2026-12-02T06:10:00Z" (a JSON string), null for 0. */
static json_t *iso_time(sqlite3_int64 t)
{
    if (t <= 0) return json_null();
    time_t tt = (time_t)t;
    struct tm tm;
    char buf[32];
    if (!gmtime_r(&tt, &tm) || !strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm))
        return json_null();
    return json_string(buf);
}

/* A column as a JSON string; a byte sequence that is not UTF-8 (a row
 * written by hand) becomes null rather than failing the whole export. */
static json_t *text_column(sqlite3_stmt *stmt, int i)
{
    const char *v = (const char *)sqlite3_column_text(stmt, i);
    if (!v) return json_null();
    json_t *j = json_stringn(v, (size_t)sqlite3_column_bytes(stmt, i));
    return j ? j : json_null();
}

/* The rows of sql (key bound as ?1) as an array of objects, one member per
 * column, named by cols; a column whose name ends in "at" or "updated" is
 * a time, an integer one a number, the rest text.  NULL on error (message in err). */
static json_t *rows_json(pp_store *st, const char *sql, const char *key,
                         const char *const *cols, char *err, size_t errlen)
{
    sqlite3_stmt *stmt;
    if (prepare(st, &stmt, sql, err, errlen)) return NULL;
    bind_text(stmt, 1, key);
    json_t *a = json_array();
    int rc;
    while (a && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        json_t *o = json_object();
        for (int i = 0; o && cols[i]; i++) {
            size_t n = strlen(cols[i]);
            int is_time = (n >= 2 && strcmp(cols[i] + n - 2, "at") == 0) ||
                          strcmp(cols[i], "updated") == 0;
            json_t *v = is_time ? iso_time(sqlite3_column_int64(stmt, i))
                      : sqlite3_column_type(stmt, i) == SQLITE_INTEGER   /* a score */
                      ? json_integer((json_int_t)sqlite3_column_int64(stmt, i))
                      : text_column(stmt, i);
            json_object_set_new(o, cols[i], v);
        }
        if (!o || json_array_append_new(a, o)) {
            json_decref(a);
            a = NULL;
        }
    }
    if (a && rc != SQLITE_DONE) {
        fail_db(st, err, errlen, "exporting");
        json_decref(a);
        a = NULL;
    } else if (!a) {
        fail(st, err, errlen, "exporting: out of memory");
    }
    sqlite3_finalize(stmt);
    return a;
}

/* The partner as the session knows them, in words. */
static json_t *partner_json(const pp_session *s)
{
    static const char *const pronouns[] = { NULL, "he/him", "she/her", "they/them" };
    const char *p = s->pronoun > 0 && s->pronoun < 4 ? pronouns[s->pronoun] : NULL;
    if (!s->partner[0] && !p) return json_null();
    return json_pack("{s:o, s:o}", "name", s->partner[0] ? json_string(s->partner) : json_null(),
                     "pronouns", p ? json_string(p) : json_null());
}

/* The session (saved JSON, parsed) with when it was saved. */
static int session_export(pp_store *st, const char *key, const pp_session *mem, json_t *out,
                          char *err, size_t errlen)
{
    char *json = NULL;
    sqlite3_int64 updated = 0;
    const pp_session *s = mem;
    pp_session *row = NULL;
    if (st) {
        sqlite3_stmt *stmt;
        if (prepare(st, &stmt, "SELECT json, updated FROM session WHERE key = ?1", err, errlen))
            return PP_ESTORE;
        bind_text(stmt, 1, key);
        int rc = sqlite3_step(stmt);
        if (rc == SQLITE_ROW) {
            const char *t = (const char *)sqlite3_column_text(stmt, 0);
            json = t ? strdup(t) : NULL;
            updated = sqlite3_column_int64(stmt, 1);
        }
        sqlite3_finalize(stmt);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) return fail_db(st, err, errlen, "exporting");
        s = NULL;
        if (json && (row = pp_session_new()) && pp_session_load(row, json, NULL, 0) == 0) s = row;
    } else {
        json = session_json(mem, 0);
    }
    json_t *parsed = json ? json_loads(json, 0, NULL) : NULL;
    /* A row that is not JSON (written by hand) is shown as the text it is. */
    if (!parsed && json) parsed = json_string(json);
    free(json);
    json_object_set_new(out, "saved", iso_time(updated));
    json_object_set_new(out, "session", parsed ? parsed : json_null());
    json_object_set_new(out, "partner", s ? partner_json(s) : json_null());
    pp_session_free(row);
    return 0;
}

/* The export of o as text, within max bytes (0: no limit) when leaving
 * out the oldest transcript lines can make it fit; how many were left
 * out is said in the document. */
static char *export_text(json_t *o, size_t max)
{
    const size_t flags = JSON_INDENT(2) | JSON_PRESERVE_ORDER;
    char *text = json_dumps(o, flags);
    json_t *lines = json_object_get(o, "transcript");
    size_t left_out = 0;
    while (text && max && strlen(text) > max && json_array_size(lines) > 0) {
        /* drop about as many bytes of the oldest lines as it is over */
        size_t over = strlen(text) - max, dropped = 0;
        free(text);
        while (json_array_size(lines) > 0 && dropped <= over) {
            char *one = json_dumps(json_array_get(lines, 0), flags);
            dropped += one ? strlen(one) + 8 : 64;
            free(one);
            json_array_remove(lines, 0);
            left_out++;
        }
        json_object_set_new(o, "transcript_left_out", json_integer((json_int_t)left_out));
        text = json_dumps(o, flags);
    }
    return text;
}

char *pp_store_export(pp_store *st, const char *key, const pp_session *s, size_t max,
                      char *err, size_t errlen)
{
    if (!str_ok(key, STORE_MAX_KEY) || (!st && !s)) {
        fail(st, err, errlen, "exporting: no conversation");
        return NULL;
    }
    json_t *o = json_object();
    if (!o) {
        fail(st, err, errlen, "exporting: out of memory");
        return NULL;
    }
    json_object_set_new(o, "format", json_string("pushpull-export/1"));
    json_object_set_new(o, "conversation", json_string(key));
    json_object_set_new(o, "exported", iso_time((sqlite3_int64)time(NULL)));
    json_object_set_new(o, "state_file", st ? json_string(st->path) : json_null());
    json_object_set_new(o, "transcripts_kept", json_boolean(st && st->keep_transcripts));
    int rc = session_export(st, key, s, o, err, errlen);
    static const char *const transcript_cols[] = { "at", "who", "text", NULL };
    static const char *const seen_cols[] = { "channel", "event_id", "at", NULL };
    static const char *const setting_cols[] = { "name", "value", "updated", NULL };
    static const char *const checkin_cols[] = { "at", "day", "score", "note", NULL };
    static const char *const reminder_cols[] = { "time", "zone", "due_at", "last_day", NULL };
    static const char *const pair_cols[] = { "paired_at", NULL };
    static const char *const answer_cols[] = { "day", "answer", "at", NULL };
    const struct { const char *member, *sql; const char *const *cols; } parts[] = {
        { "transcript", "SELECT at, who, text FROM transcript WHERE key = ?1 ORDER BY id",
          transcript_cols },
        { "handled_events", "SELECT channel, event_id, at FROM seen WHERE key = ?1 ORDER BY id",
          seen_cols },
        { "settings", "SELECT name, value, updated FROM setting WHERE key = ?1 ORDER BY name",
          setting_cols },
        { "checkins", "SELECT at, date(day * 86400, 'unixepoch'), score, note FROM checkin "
                      "WHERE key = ?1 ORDER BY at, id", checkin_cols },
        { "reminder", "SELECT printf('%02d:%02d', minute / 60, minute % 60), zone, due, last_day "
                      "FROM reminder WHERE key = ?1", reminder_cols },
        /* the partner's key is theirs, not this user's: only since when */
        { "pairing", "SELECT since FROM pair WHERE key = ?1", pair_cols },
        { "pair_answers", "SELECT day, answer, at FROM pair_answer WHERE key = ?1 ORDER BY day",
          answer_cols },
    };
    for (size_t i = 0; !rc && i < sizeof parts / sizeof parts[0]; i++) {
        json_t *a = st ? rows_json(st, parts[i].sql, key, parts[i].cols, err, errlen) : json_array();
        if (!a) rc = PP_ESTORE;
        else json_object_set_new(o, parts[i].member, a);
    }
    char *text = rc ? NULL : export_text(o, max);
    json_decref(o);
    if (!rc && !text) fail(st, err, errlen, "exporting: out of memory");
    return text;
}

/* ---- check-ins --------------------------------------------------------- */

int pp_checkin_record(pp_store *st, const char *key, int score, const char *note,
                      long long now, int utc_offset, char *err, size_t errlen)
{
    if (!st) return fail(st, err, errlen, "no state database");
    if (score < 1 || score > 10) {
        set_err(err, errlen, "a check-in score is 1 to 10, not %d", score);
        return PP_EINPUT;
    }
    if (!str_ok(key, STORE_MAX_KEY) || (note && strnlen(note, STORE_MAX_TEXT + 1) > STORE_MAX_TEXT))
        return fail(st, err, errlen, "invalid check-in");
    int rc = begin(st, err, errlen);
    sqlite3_stmt *stmt;
    if (!rc) rc = prepare(st, &stmt, "INSERT INTO checkin (key, at, day, score, note) "
                                     "VALUES (?1, ?2, ?3, ?4, ?5)", err, errlen);
    if (!rc) {
        bind_text(stmt, 1, key);
        sqlite3_bind_int64(stmt, 2, now);
        sqlite3_bind_int64(stmt, 3, ppp_day(now, utc_offset));
        sqlite3_bind_int(stmt, 4, score);
        if (note && note[0]) bind_text(stmt, 5, note); else sqlite3_bind_null(stmt, 5);
        rc = run(st, stmt, "saving a check-in", err, errlen);
    }
    if (!rc) rc = commit(st, err, errlen);
    if (rc) rollback(st);
    return rc;
}

int ppk_checkin_note(pp_store *st, const char *key, long long at, const char *note,
                          char *err, size_t errlen)
{
    if (!st) return fail(st, err, errlen, "no state database");
    if (!str_ok(key, STORE_MAX_KEY) || !str_ok(note, STORE_MAX_TEXT))
        return fail(st, err, errlen, "invalid check-in note");
    int rc = begin(st, err, errlen);
    sqlite3_stmt *stmt;
    if (!rc) rc = prepare(st, &stmt, "UPDATE checkin SET note = ?3 WHERE id = "
                                     "(SELECT max(id) FROM checkin WHERE key = ?1 AND at = ?2)",
                          err, errlen);
    if (!rc) {
        bind_text(stmt, 1, key);
        sqlite3_bind_int64(stmt, 2, at);
        bind_text(stmt, 3, note);
        rc = run(st, stmt, "saving a check-in note", err, errlen);
    }
    if (!rc) rc = commit(st, err, errlen);
    if (rc) rollback(st);
    return rc;
}

int pp_store_checkins(pp_store *st, const char *key, long long since,
                      int (*fn)(const pp_checkin *c, void *arg), void *arg,
                      char *err, size_t errlen)
{
    if (!st || !fn) return fail(st, err, errlen, "no state database");
    if (!str_ok(key, STORE_MAX_KEY)) return fail(st, err, errlen, "invalid session key");
    sqlite3_stmt *stmt;
    if (prepare(st, &stmt, "SELECT at, day, score, note FROM checkin WHERE key = ?1 AND at >= ?2 "
                           "ORDER BY at, id", err, errlen))
        return PP_ESTORE;
    bind_text(stmt, 1, key);
    sqlite3_bind_int64(stmt, 2, since);
    int rc, stop = 0;
    while (!stop && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        pp_checkin c = { sqlite3_column_int64(stmt, 0), sqlite3_column_int64(stmt, 1),
                         sqlite3_column_int(stmt, 2), (const char *)sqlite3_column_text(stmt, 3) };
        if (c.score < 1 || c.score > 10) continue;
        stop = fn(&c, arg);
    }
    if (!stop && rc != SQLITE_DONE) {
        sqlite3_finalize(stmt);
        return fail_db(st, err, errlen, "reading check-ins");
    }
    sqlite3_finalize(stmt);
    return 0;
}

int pp_store_sessions(pp_store *st, const char *prefix,
                      int (*fn)(const pp_store_entry *e, void *arg), void *arg,
                      char *err, size_t errlen)
{
    if (!st || !fn) return fail(st, err, errlen, "no state database");
    if (!prefix || strnlen(prefix, STORE_MAX_KEY + 1) > STORE_MAX_KEY)
        return fail(st, err, errlen, "invalid session key prefix");
    sqlite3_stmt *stmt;
    if (prepare(st, &stmt, "SELECT key, updated, json FROM session "
                           "WHERE substr(key, 1, length(?1)) = ?1 ORDER BY updated DESC, key",
                err, errlen))
        return PP_ESTORE;
    bind_text(stmt, 1, prefix);
    int rc, stop = 0;
    while (!stop && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *key = (const char *)sqlite3_column_text(stmt, 0);
        const char *json = (const char *)sqlite3_column_text(stmt, 2);
        if (!key) continue;
        pp_store_entry e = { key, sqlite3_column_int64(stmt, 1), -1 };
        json_t *o = json ? json_loads(json, 0, NULL) : NULL;
        json_t *turns = json_object_get(o, "turns");
        if (json_is_integer(turns) && json_integer_value(turns) >= 0 &&
            json_integer_value(turns) <= INT_MAX)
            e.turns = (int)json_integer_value(turns);
        json_decref(o);
        stop = fn(&e, arg);
    }
    if (!stop && rc != SQLITE_DONE) {
        sqlite3_finalize(stmt);
        return fail_db(st, err, errlen, "listing sessions");
    }
    sqlite3_finalize(stmt);
    return 0;
}

/* ---- reminders (app/remind.c) ------------------------------------------ */

/* One reminder row into r (stmt's columns: key, minute, zone, due,
 * last_day). */
static void reminder_row(sqlite3_stmt *stmt, pp_reminder *r)
{
    const char *k = (const char *)sqlite3_column_text(stmt, 0);
    const char *z = (const char *)sqlite3_column_text(stmt, 2);
    const char *d = (const char *)sqlite3_column_text(stmt, 4);
    snprintf(r->key, sizeof r->key, "%s", k ? k : "");
    r->minute = sqlite3_column_int(stmt, 1);
    snprintf(r->zone, sizeof r->zone, "%s", z ? z : "");
    r->due = sqlite3_column_int64(stmt, 3);
    snprintf(r->last_day, sizeof r->last_day, "%s", d ? d : "");
}

int pp_store_reminder_set(pp_store *st, const char *key, int minute, const char *zone,
                          long long due, char *err, size_t errlen)
{
    if (!st) return fail(st, err, errlen, "no state database");
    if (!str_ok(key, STORE_MAX_KEY) || minute < 0 || minute >= 24 * 60 ||
        !str_ok(zone, PP_REMINDER_ZONE_MAX))
        return fail(st, err, errlen, "invalid reminder");
    int rc = begin(st, err, errlen);
    sqlite3_stmt *stmt;
    if (!rc) rc = prepare(st, &stmt,
                          "INSERT INTO reminder (key, minute, zone, due, last_day, updated) "
                          "VALUES (?1, ?2, ?3, ?4, '', ?5) ON CONFLICT (key) DO UPDATE SET "
                          "minute = excluded.minute, zone = excluded.zone, due = excluded.due, "
                          "updated = excluded.updated", err, errlen);
    if (!rc) {
        bind_text(stmt, 1, key);
        sqlite3_bind_int(stmt, 2, minute);
        bind_text(stmt, 3, zone);
        sqlite3_bind_int64(stmt, 4, due);
        sqlite3_bind_int64(stmt, 5, (sqlite3_int64)time(NULL));
        rc = run(st, stmt, "saving a reminder", err, errlen);
    }
    if (!rc) rc = commit(st, err, errlen);
    if (rc) rollback(st);
    return rc;
}

int pp_store_reminder_get(pp_store *st, const char *key, pp_reminder *out)
{
    if (!st || !out) return PP_ESTORE;
    memset(out, 0, sizeof *out);
    if (!str_ok(key, STORE_MAX_KEY)) return fail(st, NULL, 0, "invalid session key");
    sqlite3_stmt *stmt;
    if (prepare(st, &stmt, "SELECT key, minute, zone, due, last_day FROM reminder WHERE key = ?1",
                NULL, 0))
        return PP_ESTORE;
    bind_text(stmt, 1, key);
    int rc = sqlite3_step(stmt), ret = 0;
    if (rc == SQLITE_ROW) { reminder_row(stmt, out); ret = 1; }
    else if (rc != SQLITE_DONE) ret = fail_db(st, NULL, 0, "reading a reminder");
    sqlite3_finalize(stmt);
    return ret;
}

/* One statement with key as ?1 (and, when the statement has them, text
 * ?2 and ?3 and the number ?4), in its own transaction; *changed (may be
 * NULL) = rows changed. */
static int write_key(pp_store *st, const char *sql, const char *key, const char *a2,
                     const char *a3, long long n4, int *changed)
{
    if (!st) return PP_ESTORE;
    if (!str_ok(key, STORE_MAX_KEY)) return fail(st, NULL, 0, "invalid session key");
    int rc = begin(st, NULL, 0);
    sqlite3_stmt *stmt;
    if (!rc) rc = prepare(st, &stmt, sql, NULL, 0);
    if (!rc) {
        bind_text(stmt, 1, key);
        int np = sqlite3_bind_parameter_count(stmt);
        if (a2 && np >= 2) bind_text(stmt, 2, a2);
        if (a3 && np >= 3) bind_text(stmt, 3, a3);
        if (np >= 4) sqlite3_bind_int64(stmt, 4, n4);
        rc = run(st, stmt, "saving", NULL, 0);
    }
    if (!rc && changed) *changed = sqlite3_changes(st->db);
    if (!rc) rc = commit(st, NULL, 0);
    if (rc) rollback(st);
    return rc;
}

int pp_store_reminder_delete(pp_store *st, const char *key)
{
    int n = 0;
    int rc = write_key(st, "DELETE FROM reminder WHERE key = ?1", key, NULL, NULL, 0, &n);
    return rc ? rc : n > 0;
}

int pp_store_reminder_done(pp_store *st, const char *key, const char *last_day, long long next_due)
{
    if (!last_day || strlen(last_day) >= sizeof ((pp_reminder *)0)->last_day)
        return fail(st, NULL, 0, "invalid reminder day");
    return write_key(st, "UPDATE reminder SET last_day = ?2, due = ?4 WHERE key = ?1", key, last_day, NULL, next_due, NULL);
}

int pp_store_reminders_due(pp_store *st, const char *prefix, long long now,
                           pp_reminder *out, size_t max, size_t *n_out)
{
    *n_out = 0;
    if (!st || !prefix || strnlen(prefix, STORE_MAX_KEY + 1) > STORE_MAX_KEY)
        return fail(st, NULL, 0, "invalid key prefix");
    sqlite3_stmt *stmt;
    if (prepare(st, &stmt, "SELECT key, minute, zone, due, last_day FROM reminder "
                           "WHERE due <= ?2 AND substr(key, 1, length(?1)) = ?1 "
                           "ORDER BY due, key LIMIT ?3", NULL, 0))
        return PP_ESTORE;
    bind_text(stmt, 1, prefix);
    sqlite3_bind_int64(stmt, 2, now);
    sqlite3_bind_int64(stmt, 3, (sqlite3_int64)max);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW && *n_out < max)
        reminder_row(stmt, &out[(*n_out)++]);
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) return fail_db(st, NULL, 0, "reading reminders");
    return 0;
}

/* ---- pairing (app/pair.c) ---------------------------------------------- */

/* The text of column 0 of sql (key bound as ?1) into buf: 1, 0 none, <0. */
static int get_by_key(pp_store *st, const char *sql, const char *key, const char *a2,
                      char *buf, size_t buflen)
{
    if (!st || !buf || !buflen) return PP_ESTORE;
    buf[0] = '\0';
    if (!str_ok(key, STORE_MAX_KEY)) return fail(st, NULL, 0, "invalid session key");
    sqlite3_stmt *stmt;
    if (prepare(st, &stmt, sql, NULL, 0)) return PP_ESTORE;
    bind_text(stmt, 1, key);
    if (a2) bind_text(stmt, 2, a2);
    int rc = sqlite3_step(stmt), ret = 0;
    if (rc == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(stmt, 0);
        snprintf(buf, buflen, "%s", v ? v : "");
        ret = 1;
    } else if (rc != SQLITE_DONE) {
        ret = fail_db(st, NULL, 0, "reading a pairing");
    }
    sqlite3_finalize(stmt);
    return ret;
}

int pp_store_pair_offer(pp_store *st, const char *key, const char *code, long long expires)
{
    if (!str_ok(code, 64)) return fail(st, NULL, 0, "invalid pairing code");
    int rc = write_key(st, "DELETE FROM pair_code WHERE key = ?1 OR expires < ?4", key, NULL, NULL,
                       expires - PP_PAIR_CODE_SECS, NULL);
    int n = 0;
    if (!rc) rc = write_key(st, "INSERT INTO pair_code (key, code, expires) VALUES (?1, ?2, ?4) "
                                "ON CONFLICT (code) DO NOTHING", key, code, NULL, expires, &n);
    return rc ? rc : n == 0;
}

int pp_store_pair_join(pp_store *st, const char *code, const char *key, long long now,
                       char *partner, size_t len)
{
    if (!st || !partner || !len) return PP_ESTORE;
    partner[0] = '\0';
    if (!str_ok(key, STORE_MAX_KEY)) return fail(st, NULL, 0, "invalid session key");
    if (!str_ok(code, 64)) return PP_STORE_PAIR_NOCODE;
    int rc = begin(st, NULL, 0), ret = 0;
    char other[STORE_MAX_KEY + 1] = "", tmp[STORE_MAX_KEY + 1];
    if (!rc) {
        sqlite3_stmt *q;
        rc = prepare(st, &q, "SELECT key FROM pair_code WHERE code = ?1 AND expires >= ?2", NULL, 0);
        if (!rc) {
            bind_text(q, 1, code);
            sqlite3_bind_int64(q, 2, now);
            int r = sqlite3_step(q);
            if (r == SQLITE_ROW) {
                const char *v = (const char *)sqlite3_column_text(q, 0);
                snprintf(other, sizeof other, "%s", v ? v : "");
            } else if (r != SQLITE_DONE) {
                rc = fail_db(st, NULL, 0, "reading a pairing code");
            }
            sqlite3_finalize(q);
        }
    }
    if (!rc && !other[0]) ret = PP_STORE_PAIR_NOCODE;
    else if (!rc && strcmp(other, key) == 0) ret = PP_STORE_PAIR_SELF;
    if (!rc && !ret) {
        int a = get_by_key(st, "SELECT partner FROM pair WHERE key = ?1", key, NULL, tmp, sizeof tmp);
        int b = a >= 0 ? get_by_key(st, "SELECT partner FROM pair WHERE key = ?1", other, NULL,
                                    tmp, sizeof tmp) : a;
        if (a < 0 || b < 0) rc = a < 0 ? a : b;
        else if (a || b) ret = PP_STORE_PAIR_BUSY;
    }
    sqlite3_stmt *stmt;
    for (int side = 0; !rc && !ret && side < 2; side++) {
        rc = prepare(st, &stmt, "INSERT INTO pair (key, partner, since) VALUES (?1, ?2, ?3)", NULL, 0);
        if (!rc) {
            bind_text(stmt, 1, side ? other : key);
            bind_text(stmt, 2, side ? key : other);
            sqlite3_bind_int64(stmt, 3, now);
            rc = run(st, stmt, "saving a pairing", NULL, 0);
        }
    }
    if (!rc && !ret) {
        rc = prepare(st, &stmt, "DELETE FROM pair_code WHERE key = ?1 OR key = ?2", NULL, 0);
        if (!rc) {
            bind_text(stmt, 1, key);
            bind_text(stmt, 2, other);
            rc = run(st, stmt, "using a pairing code", NULL, 0);
        }
    }
    if (!rc) rc = commit(st, NULL, 0);
    if (rc) { rollback(st); return rc; }
    if (!ret) snprintf(partner, len, "%s", other);
    return ret;
}

int pp_store_pair_partner(pp_store *st, const char *key, char *buf, size_t len)
{
    return get_by_key(st, "SELECT partner FROM pair WHERE key = ?1", key, NULL, buf, len);
}

int pp_store_pair_end(pp_store *st, const char *key, char *partner, size_t len)
{
    int got = pp_store_pair_partner(st, key, partner, len);
    if (got <= 0) return got;
    int rc = write_key(st, "DELETE FROM pair WHERE key = ?1 OR partner = ?1", key,
                       NULL, NULL, 0, NULL);
    return rc ? rc : 1;
}

int pp_store_pair_answer_put(pp_store *st, const char *key, const char *day, const char *answer)
{
    if (!str_ok(day, 15) || !answer || strnlen(answer, STORE_MAX_TEXT + 1) > STORE_MAX_TEXT)
        return fail(st, NULL, 0, "invalid answer");
    return write_key(st, "INSERT INTO pair_answer (key, day, answer, at) VALUES (?1, ?2, ?3, ?4) "
                         "ON CONFLICT (key, day) DO UPDATE SET answer = excluded.answer, "
                         "at = excluded.at", key, day, answer, (long long)time(NULL), NULL);
}

int pp_store_pair_answer_get(pp_store *st, const char *key, const char *day, char *buf, size_t len)
{
    return get_by_key(st, "SELECT answer FROM pair_answer WHERE key = ?1 AND day = ?2", key, day,
                      buf, len);
}
