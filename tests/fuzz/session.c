/* session.c -- fuzz target: the store loading a session blob.
 *
 * Two paths per input.  (1) pp_session_load straight on the bytes (made a
 * C string); when it accepts them, save -> load -> save must give the same
 * JSON.  (2) The bytes are written with plain SQLite as the json column of
 * a row in a real state database (a temp file opened once with
 * pp_store_open), and pp_store_load reads that row: it must answer found
 * (1) or PP_ECORRUPT, never crash, and after a refusal the session it was
 * given must be untouched (still saveable and loadable).  A found session
 * is saved back through pp_store_save and must load again.
 */
#include "fuzz.h"

#include <sqlite3.h>


FUZZ_ENTRY(session)
{
    static pp_store *st;
    static sqlite3 *db;
    static sqlite3_stmt *put;
    char err[256];
    if (!st) {
        char path[4300];
        snprintf(path, sizeof path, "%s/state.db", fz_tmp_dir());
        st = pp_store_open(path, err, sizeof err);
        if (!st) { fprintf(stderr, "fuzz: pp_store_open: %s\n", err); abort(); }
        if (sqlite3_open(path, &db) != SQLITE_OK ||
            sqlite3_busy_timeout(db, 5000) != SQLITE_OK ||
            sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO session (key, json, updated) "
                               "VALUES ('fuzz:1', ?1, 0)", -1, &put, NULL) != SQLITE_OK) {
            fprintf(stderr, "fuzz: sqlite: %s\n", sqlite3_errmsg(db));
            abort();
        }
    }

    /* (1) the blob straight into pp_session_load */
    char *json = malloc(size + 1);
    FUZZ_CHECK(json != NULL);
    memcpy(json, data, size);
    json[size] = '\0';
    pp_session *s = pp_session_new();
    FUZZ_CHECK(s != NULL);
    if (pp_session_load(s, json, err, sizeof err) == 0) pp_session_free(fz_session_roundtrip(s));
    else FUZZ_CHECK(err[0] != '\0');
    pp_session_free(s);

    /* (2) the blob as a row of the state database */
    sqlite3_reset(put);
    FUZZ_CHECK(sqlite3_bind_text(put, 1, json, (int)size, SQLITE_TRANSIENT) == SQLITE_OK);
    FUZZ_CHECK(sqlite3_step(put) == SQLITE_DONE);
    sqlite3_reset(put);
    free(json);

    s = pp_session_new();
    FUZZ_CHECK(s != NULL);
    int rc = pp_store_load(st, "fuzz:1", s, err, sizeof err);
    FUZZ_CHECK(rc == 1 || rc == PP_ECORRUPT);
    if (rc == 1) {
        pp_session_free(fz_session_roundtrip(s));
        FUZZ_CHECK(pp_store_save(st, "fuzz:1", s, NULL, NULL, NULL, NULL, err, sizeof err) == 0);
        pp_session *t = pp_session_new();
        FUZZ_CHECK(t != NULL);
        FUZZ_CHECK(pp_store_load(st, "fuzz:1", t, err, sizeof err) == 1);
        pp_session_free(t);
    } else {
        FUZZ_CHECK(err[0] != '\0');
        FUZZ_CHECK(pp_session_turns(s) == 0);      /* untouched: still new */
        pp_session_free(fz_session_roundtrip(s));
    }
    pp_session_free(s);
    return 0;
}
