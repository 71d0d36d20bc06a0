/* e2ekeys -- the Matrix bot's device keys (bots/crypto.c) on the command
 * line, for tests/matrix_e2e_keys.sh, which takes them to a real Synapse:
 *
 *   e2ekeys make USER DEVICE SERVER_COUNT KEYFILE STATEFILE
 *       the account in STATEFILE (opened with KEYFILE; both made when
 *       missing), topped up to half its one-time keys given the count the
 *       server holds; prints {"device_keys": ..., "one_time_keys": ...}
 *       (device_keys only when the account is new) and saves the account
 *       with the new keys marked published
 *   e2ekeys identity KEYFILE STATEFILE     prints "curve25519 ed25519"
 *   e2ekeys verify USER DEVICE ED25519     a signed object on stdin:
 *       exit 0 when its signature is good, 1 when not
 * Exit 2: usage or a file that cannot be used (the reason on stderr). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto.h"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    char *buf = NULL;
    size_t n = 0;
    FILE *m = open_memstream(&buf, &n);
    int c;
    while ((c = fgetc(f)) != EOF) fputc(c, m);
    fclose(f);
    fclose(m);
    return buf;
}

static e2e_account *open_account(const char *keyfile, const char *state, unsigned char key[32], int *fresh)
{
    char err[300];
    if (e2e_key_file(keyfile, key, err, sizeof err)) { fprintf(stderr, "e2ekeys: %s\n", err); return NULL; }
    char *saved = slurp(state);
    *fresh = saved == NULL;
    e2e_account *a = saved ? e2e_account_restore(saved, key, 32, err, sizeof err) : e2e_account_new();
    free(saved);
    if (!a) fprintf(stderr, "e2ekeys: %s\n", *fresh ? "cannot make an account" : err);
    return a;
}

static int save(e2e_account *a, const unsigned char key[32], const char *state)
{
    char *text = e2e_account_save(a, key, 32);
    int fd = text ? open(state, O_WRONLY | O_CREAT | O_TRUNC, 0600) : -1;
    int ok = fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text);
    if (fd >= 0) close(fd);
    free(text);
    return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
    unsigned char key[32];
    int fresh = 0;
    if (argc == 7 && strcmp(argv[1], "make") == 0) {
        e2e_account *a = open_account(argv[5], argv[6], key, &fresh);
        if (!a) return 2;
        long have = atol(argv[4]);
        size_t half = e2e_max_one_time_keys(a) / 2;
        size_t want = have >= 0 && (size_t)have < half ? half - (size_t)have : 0;
        json_t *out = json_object();
        if (fresh) json_object_set_new(out, "device_keys", e2e_device_keys(a, argv[2], argv[3]));
        json_object_set_new(out, "one_time_keys", e2e_one_time_keys(a, argv[2], argv[3], want));
        e2e_published(a);
        char *text = json_dumps(out, JSON_COMPACT);
        puts(text);
        free(text);
        json_decref(out);
        int rc = save(a, key, argv[6]) ? 2 : 0;
        e2e_account_free(a);
        return rc;
    }
    if (argc == 4 && strcmp(argv[1], "identity") == 0) {
        e2e_account *a = open_account(argv[2], argv[3], key, &fresh);
        if (!a) return 2;
        char c[64], e[64];
        int rc = e2e_identity(a, c, e) ? 2 : 0;
        if (!rc) printf("%s %s\n", c, e);
        if (fresh && save(a, key, argv[3])) rc = 2;
        e2e_account_free(a);
        return rc;
    }
    if (argc == 5 && strcmp(argv[1], "verify") == 0) {
        json_t *obj = json_loadf(stdin, 0, NULL);
        int ok = obj && e2e_verify_object(obj, argv[2], argv[3], argv[4]);
        json_decref(obj);
        return ok ? 0 : 1;
    }
    fprintf(stderr, "usage: e2ekeys make USER DEVICE SERVER_COUNT KEYFILE STATEFILE\n"
                    "       e2ekeys identity KEYFILE STATEFILE\n"
                    "       e2ekeys verify USER DEVICE ED25519 < object.json\n");
    return 2;
}
