/* fuzzreplay.c -- replay fuzz inputs through the fuzz targets, built with
 * the normal compiler (gcc) and linked with libppapp.a and libpushpull.a
 * (the telegram and matrix targets drive the bots' code), so every input
 * that ever crashed a target stays a regression test in `make test` (plain
 * and SAN=1) even where clang/libFuzzer is missing.
 *
 * usage: fuzzreplay TARGET FILE-OR-DIR...
 * Every target of tests/fuzz/ is compiled in (FUZZ_REPLAY renames each
 * LLVMFuzzerTestOneInput to fz_<target>_one).  Each file is read and run
 * once; directories are walked one level (sorted, dot files skipped).  A
 * broken invariant aborts, which is the failure; the exit status is 0 when
 * every input ran, 1 on an unreadable input, 2 on usage.
 */
#define FUZZ_REPLAY 1
#include "../fuzz/fuzz.h"
#include "../fuzz/rules.c"
#include "../fuzz/reply.c"
#include "../fuzz/reframe.c"
#include "../fuzz/session.c"
#include "../fuzz/telegram.c"
#include "../fuzz/matrix.c"
#include "../fuzz/index.c"
#include "../fuzz/program.c"

#include <dirent.h>

typedef int (*fz_entry)(const uint8_t *, size_t);

static const struct { const char *name; fz_entry one; } replay_targets[] = {
    { "rules", fz_rules_one },       { "reply", fz_reply_one },
    { "reframe", fz_reframe_one },   { "session", fz_session_one },
    { "telegram", fz_telegram_one }, { "matrix", fz_matrix_one },
    { "index", fz_index_one },       { "program", fz_program_one },
};

static int replay_file(fz_entry one, const char *path, size_t *count)
{
    size_t len = 0;
    char *bytes = fz_read_file(path, &len);
    if (!bytes) {
        fprintf(stderr, "fuzzreplay: cannot read %s\n", path);
        return 1;
    }
    /* exact-size copy, so ASan sees a read past the input */
    uint8_t *exact = malloc(len ? len : 1);
    if (!exact) { free(bytes); return 1; }
    memcpy(exact, bytes, len);
    free(bytes);
    printf("%s\n", path);      /* the last line before an abort names the input */
    fflush(stdout);
    one(exact, len);
    free(exact);
    (*count)++;
    return 0;
}

static int replay_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int replay_path(fz_entry one, const char *path, size_t *count)
{
    DIR *d = opendir(path);
    if (!d) return replay_file(one, path, count);
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nn = realloc(names, cap * sizeof *nn);
            if (!nn) { rc = 1; break; }
            names = nn;
        }
        names[n] = strdup(de->d_name);
        if (!names[n]) { rc = 1; break; }
        n++;
    }
    closedir(d);
    if (n) qsort(names, n, sizeof *names, replay_cmp);
    for (size_t i = 0; i < n; i++) {
        char full[8192];
        snprintf(full, sizeof full, "%s/%s", path, names[i]);
        if (rc == 0) {
            DIR *sub = opendir(full);
            if (sub) closedir(sub);       /* one level only */
            else rc = replay_file(one, full, count);
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: fuzzreplay TARGET FILE-OR-DIR...\n");
        return 2;
    }
    fz_entry one = NULL;
    for (size_t i = 0; i < sizeof replay_targets / sizeof replay_targets[0]; i++)
        if (strcmp(argv[1], replay_targets[i].name) == 0) one = replay_targets[i].one;
    if (!one) {
        fprintf(stderr, "fuzzreplay: unknown target %s\n", argv[1]);
        return 2;
    }
    size_t count = 0;
    int rc = 0;
    for (int i = 2; i < argc && rc == 0; i++) rc = replay_path(one, argv[i], &count);
    printf("fuzzreplay %s: %zu inputs\n", argv[1], count);
    return rc;
}
