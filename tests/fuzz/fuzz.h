/* fuzz.h -- helpers shared by the libFuzzer targets in tests/fuzz/ (one per .c file) and
 * by tests/tools/fuzzreplay.c, which compiles every target with gcc and
 * replays the seed corpora and tests/fuzz/regressions/ in the normal suite.
 *
 * Each target defines its entry point through FUZZ_ENTRY(name): under
 * clang -fsanitize=fuzzer that is LLVMFuzzerTestOneInput; when the replay
 * tool includes the target (FUZZ_REPLAY defined) it is fz_<name>_one, so
 * all targets live in one program.  A target signals a broken invariant
 * with FUZZ_CHECK, which aborts: the fuzzer reports that as a crash and the
 * replay tool as a failure.  The library itself never aborts; only these
 * harnesses do.
 *
 * The shipped rules are found through $PP_SRC, then $SRC (set by
 * tests/run.sh), then the PP_FUZZ_SRC macro (mk/fuzz.mk sets it to the
 * repository root), then the current directory.
 */
#ifndef PP_FUZZ_H
#define PP_FUZZ_H

#include "pushpull.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef FUZZ_REPLAY
#define FUZZ_ENTRY(name) int fz_##name##_one(const uint8_t *data, size_t size)
#else
#define FUZZ_ENTRY(name) int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
#endif

#define FUZZ_CHECK(cond) do { if (!(cond)) { \
    fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond); \
    abort(); } } while (0)

#ifndef PP_FUZZ_SRC
#define PP_FUZZ_SRC "."
#endif

static inline const char *fz_src_dir(void)
{
    const char *s = getenv("PP_SRC");
    if (s && *s) return s;
    s = getenv("SRC");
    if (s && *s) return s;
    return PP_FUZZ_SRC;
}

/* A new copy of the shipped rule set, for a target that changes its own
 * (program.c); aborts when the rules do not load. */
static inline pp_ruleset *fz_load_shipped(void)
{
    pp_ruleset *rs;
    char rdir[4096], sdir[4096];
    snprintf(rdir, sizeof rdir, "%s/rules", fz_src_dir());
    snprintf(sdir, sizeof sdir, "%s/responses", fz_src_dir());
    pp_load_options o = { rdir, sdir, NULL };
    pp_errors e;
    pp_errors_init(&e);
    rs = pp_rules_load(&o, &e);
    if (!rs) {
        fprintf(stderr, "fuzz: cannot load the shipped rules from %s (set PP_SRC):\n",
                fz_src_dir());
        for (size_t i = 0; i < e.count && i < 5; i++) fprintf(stderr, "  %s\n", e.msg[i]);
        pp_errors_clear(&e);
        abort();
    }
    pp_errors_clear(&e);
    return rs;
}

/* The shipped rule set, loaded once per process (the harness owns it for
 * the life of the process; it is immutable, so sharing it is the design). */
static inline const pp_ruleset *fz_shipped_rules(void)
{
    static pp_ruleset *rs;
    if (!rs) rs = fz_load_shipped();
    return rs;
}

/* A private temporary directory for this process, made once. */
static inline const char *fz_tmp_dir(void)
{
    static char dir[4096];
    if (dir[0]) return dir;
    const char *t = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/ppfuzz.XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(dir)) {
        perror("fuzz: mkdtemp");
        abort();
    }
    return dir;
}

/* Write len bytes to path (replacing it); aborts on failure: the harness
 * cannot go on without its files. */
static inline void fz_write_file(const char *path, const void *bytes, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f || (len && fwrite(bytes, 1, len, f) != len) || fclose(f) != 0) {
        perror(path);
        abort();
    }
}

/* Read a whole file (malloc'd, NUL-terminated); NULL when unreadable. */
static inline char *fz_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n - 1 == 0) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) { free(buf); buf = NULL; break; }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (!buf) return NULL;
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

/* Save s, load it into a new session, save again: both texts must be equal
 * and the session's state the same.  Returns the loaded copy (caller frees). */
static inline pp_session *fz_session_roundtrip(const pp_session *s)
{
    char *j1 = pp_session_save(s);
    FUZZ_CHECK(j1 != NULL);
    pp_session *t = pp_session_new();
    FUZZ_CHECK(t != NULL);
    char err[256];
    int rc = pp_session_load(t, j1, err, sizeof err);
    if (rc != 0) fprintf(stderr, "saved session does not load: %s\n%s\n", err, j1);
    FUZZ_CHECK(rc == 0);
    char *j2 = pp_session_save(t);
    FUZZ_CHECK(j2 != NULL);
    if (strcmp(j1, j2) != 0) fprintf(stderr, "round trip differs:\n%s\n%s\n", j1, j2);
    FUZZ_CHECK(strcmp(j1, j2) == 0);
    FUZZ_CHECK(pp_session_turns(t) == pp_session_turns(s));
    FUZZ_CHECK(pp_session_role(t) == pp_session_role(s));
    free(j1);
    free(j2);
    return t;
}

#endif
