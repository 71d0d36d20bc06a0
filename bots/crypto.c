/* crypto.c -- the Matrix bot's device keys over libolm (see crypto.h).
 *
 * libolm's calls return olm_error() and leave a reason in the object;
 * every buffer it fills is sized by its own *_length() call first.  Random
 * bytes come from getrandom(2) and are wiped after use, as is every
 * pickle key that passes through here.  Nothing here logs: the caller
 * decides what to say, and never says a key. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <olm/olm.h>

#include "crypto.h"

#define ALG_OLM    "m.olm.v1.curve25519-aes-sha2"
#define ALG_MEGOLM "m.megolm.v1.aes-sha2"

struct e2e_account {
    OlmAccount *olm;
    void *mem;                  /* olm_account_size() bytes, OlmAccount lives in it */
};

static void wipe(void *p, size_t n)
{
    volatile unsigned char *v = p;
    while (n--) *v++ = 0;
}

static int fill_random(void *buf, size_t n)
{
    unsigned char *p = buf;
    while (n > 0) {
        ssize_t got = getrandom(p, n, 0);
        if (got < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += got;
        n -= (size_t)got;
    }
    return 0;
}

static e2e_account *account_alloc(void)
{
    e2e_account *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    if (!(a->mem = malloc(olm_account_size()))) { free(a); return NULL; }
    a->olm = olm_account(a->mem);
    return a;
}

void e2e_account_free(e2e_account *a)
{
    if (!a) return;
    olm_clear_account(a->olm);
    free(a->mem);
    free(a);
}

e2e_account *e2e_account_new(void)
{
    e2e_account *a = account_alloc();
    if (!a) return NULL;
    size_t rl = olm_create_account_random_length(a->olm);
    unsigned char *r = malloc(rl ? rl : 1);
    int ok = r && fill_random(r, rl) == 0 && olm_create_account(a->olm, r, rl) != olm_error();
    if (r) { wipe(r, rl); free(r); }
    if (!ok) { e2e_account_free(a); return NULL; }
    return a;
}

e2e_account *e2e_account_restore(const char *saved, const unsigned char *key, size_t keylen,
                                 char *err, size_t errlen)
{
    e2e_account *a = account_alloc();
    char *copy = saved ? strdup(saved) : NULL;    /* olm decodes it in place */
    if (!a || !copy) {
        snprintf(err, errlen, "out of memory");
        free(copy);
        e2e_account_free(a);
        return NULL;
    }
    size_t rc = olm_unpickle_account(a->olm, key, keylen, copy, strlen(copy));
    free(copy);
    if (rc == olm_error()) {
        const char *why = olm_account_last_error(a->olm);
        snprintf(err, errlen, "%s", strcmp(why, "BAD_ACCOUNT_KEY") == 0
                 ? "the key file does not open these keys (another key file, or it was replaced)"
                 : "the saved keys are damaged");
        e2e_account_free(a);
        return NULL;
    }
    return a;
}

char *e2e_account_save(e2e_account *a, const unsigned char *key, size_t keylen)
{
    size_t n = olm_pickle_account_length(a->olm);
    char *out = malloc(n + 1);
    if (!out) return NULL;
    if (olm_pickle_account(a->olm, key, keylen, out, n) == olm_error()) { free(out); return NULL; }
    out[n] = '\0';
    return out;
}

int e2e_identity(e2e_account *a, char curve25519[64], char ed25519[64])
{
    size_t n = olm_account_identity_keys_length(a->olm);
    char *buf = malloc(n);
    if (!buf) return -1;
    if (olm_account_identity_keys(a->olm, buf, n) == olm_error()) { free(buf); return -1; }
    json_t *o = json_loadb(buf, n, 0, NULL);
    free(buf);
    const char *c = json_string_value(json_object_get(o, "curve25519"));
    const char *e = json_string_value(json_object_get(o, "ed25519"));
    int ok = c && e && strlen(c) < 64 && strlen(e) < 64;
    if (ok) {
        snprintf(curve25519, 64, "%s", c);
        snprintf(ed25519, 64, "%s", e);
    }
    json_decref(o);
    return ok ? 0 : -1;
}

char *e2e_canonical(const json_t *v)
{
    return json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}

/* The account's signature over msg, unpadded base64 (malloc'd). */
static char *sign(e2e_account *a, const char *msg, size_t len)
{
    size_t n = olm_account_signature_length(a->olm);
    char *sig = malloc(n + 1);
    if (!sig) return NULL;
    if (olm_account_sign(a->olm, msg, len, sig, n) == olm_error()) { free(sig); return NULL; }
    sig[n] = '\0';
    return sig;
}

/* obj gets signatures: {user: {"ed25519:device": sig}} over its canonical
 * form (without signatures and unsigned, which it has none of yet). */
static int sign_object(e2e_account *a, json_t *obj, const char *user_id, const char *device_id)
{
    char *canon = e2e_canonical(obj);
    char *sig = canon ? sign(a, canon, strlen(canon)) : NULL;
    free(canon);
    if (!sig) return -1;
    char keyid[300];
    snprintf(keyid, sizeof keyid, "ed25519:%s", device_id);
    json_t *by_key = json_object();
    json_t *sigs = json_object();
    int rc = by_key && sigs && json_object_set_new(by_key, keyid, json_string(sig)) == 0 &&
             json_object_set_new(sigs, user_id, by_key) == 0 ? 0 : -1;
    if (rc == 0) rc = json_object_set_new(obj, "signatures", sigs);
    else { json_decref(by_key); json_decref(sigs); }
    free(sig);
    return rc;
}

json_t *e2e_device_keys(e2e_account *a, const char *user_id, const char *device_id)
{
    char curve[64], ed[64], kc[300], ke[300];
    if (e2e_identity(a, curve, ed)) return NULL;
    snprintf(kc, sizeof kc, "curve25519:%s", device_id);
    snprintf(ke, sizeof ke, "ed25519:%s", device_id);
    json_t *obj = json_pack("{s:[s,s], s:s, s:{s:s, s:s}, s:s}",
                            "algorithms", ALG_OLM, ALG_MEGOLM,
                            "device_id", device_id,
                            "keys", kc, curve, ke, ed,
                            "user_id", user_id);
    if (!obj || sign_object(a, obj, user_id, device_id)) { json_decref(obj); return NULL; }
    return obj;
}

/* The account's unpublished one-time keys: {id: key}, or NULL. */
static json_t *unpublished(e2e_account *a)
{
    size_t n = olm_account_one_time_keys_length(a->olm);
    char *buf = malloc(n);
    if (!buf) return NULL;
    json_t *o = NULL;
    if (olm_account_one_time_keys(a->olm, buf, n) != olm_error()) o = json_loadb(buf, n, 0, NULL);
    free(buf);
    json_t *keys = json_incref(json_object_get(o, "curve25519"));
    json_decref(o);
    if (keys && !json_is_object(keys)) { json_decref(keys); keys = NULL; }
    return keys;
}

size_t e2e_max_one_time_keys(e2e_account *a)
{
    return olm_account_max_number_of_one_time_keys(a->olm);
}

json_t *e2e_one_time_keys(e2e_account *a, const char *user_id, const char *device_id, size_t want)
{
    size_t max = e2e_max_one_time_keys(a);
    if (want > max / 2) want = max / 2;     /* room for the ones not yet claimed */
    json_t *have = unpublished(a);
    if (!have) return NULL;
    size_t held = json_object_size(have);
    if (held < want) {
        size_t need = want - held;
        size_t rl = olm_account_generate_one_time_keys_random_length(a->olm, need);
        unsigned char *r = malloc(rl ? rl : 1);
        int ok = r && fill_random(r, rl) == 0 &&
                 olm_account_generate_one_time_keys(a->olm, need, r, rl) != olm_error();
        if (r) { wipe(r, rl); free(r); }
        json_decref(have);
        if (!ok || !(have = unpublished(a))) return NULL;
    }
    json_t *out = json_object();
    const char *id;
    json_t *k;
    size_t n = 0;
    json_object_foreach(have, id, k) {
        if (n == want) break;
        const char *key = json_string_value(k);
        json_t *one = key ? json_pack("{s:s}", "key", key) : NULL;
        char name[300];
        snprintf(name, sizeof name, "signed_curve25519:%s", id);
        if (!one || sign_object(a, one, user_id, device_id) || json_object_set_new(out, name, one)) {
            json_decref(one);
            json_decref(out);
            json_decref(have);
            return NULL;
        }
        n++;
    }
    json_decref(have);
    return out;
}

void e2e_published(e2e_account *a)
{
    olm_account_mark_keys_as_published(a->olm);
}

int e2e_verify(const char *ed25519, const char *msg, size_t len, const char *sig)
{
    void *mem = malloc(olm_utility_size());
    char *s = sig ? strdup(sig) : NULL;      /* olm may decode it in place */
    if (!mem || !s || !ed25519) { free(mem); free(s); return 0; }
    OlmUtility *u = olm_utility(mem);
    size_t rc = olm_ed25519_verify(u, ed25519, strlen(ed25519), msg, len, s, strlen(s));
    olm_clear_utility(u);
    free(mem);
    free(s);
    return rc != olm_error();
}

int e2e_verify_object(const json_t *obj, const char *user_id, const char *device_id,
                      const char *ed25519)
{
    char keyid[300];
    snprintf(keyid, sizeof keyid, "ed25519:%s", device_id);
    const char *sig = json_string_value(json_object_get(json_object_get(json_object_get(obj, "signatures"),
                                                                          user_id), keyid));
    if (!sig) return 0;
    json_t *bare = json_deep_copy(obj);
    if (!bare) return 0;
    json_object_del(bare, "signatures");
    json_object_del(bare, "unsigned");
    char *canon = e2e_canonical(bare);
    json_decref(bare);
    int ok = canon && e2e_verify(ed25519, canon, strlen(canon), sig);
    free(canon);
    return ok;
}

static int hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int e2e_key_file(const char *path, unsigned char key[32], char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        unsigned char k[32];
        char hex[66];
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0) { snprintf(err, errlen, "cannot create the key file %s: %s", path, strerror(errno)); return -1; }
        int ok = fill_random(k, sizeof k) == 0;
        for (int i = 0; ok && i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", k[i]);
        hex[64] = '\n';
        ok = ok && write(fd, hex, 65) == 65 && fsync(fd) == 0;
        if (ok) memcpy(key, k, 32);
        wipe(k, sizeof k);
        wipe(hex, sizeof hex);
        close(fd);
        if (!ok) { unlink(path); snprintf(err, errlen, "cannot write the key file %s", path); return -1; }
        return 0;
    }
    if (fd < 0) { snprintf(err, errlen, "cannot open the key file %s: %s", path, strerror(errno)); return -1; }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        snprintf(err, errlen, "the key file %s is not a regular file", path);
        return -1;
    }
    if (st.st_mode & 077) {
        close(fd);
        snprintf(err, errlen, "the key file %s may be read by others (chmod 600 it)", path);
        return -1;
    }
    char hex[66];
    ssize_t n = read(fd, hex, sizeof hex);
    close(fd);
    int ok = n >= 64 && (n == 64 || hex[64] == '\n');
    for (int i = 0; ok && i < 32; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) ok = 0;
        else key[i] = (unsigned char)(hi << 4 | lo);
    }
    wipe(hex, sizeof hex);
    if (!ok) { snprintf(err, errlen, "the key file %s is not 64 hex digits", path); return -1; }
    return 0;
}
