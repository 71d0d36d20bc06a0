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

/* An Olm session with one device (by its Curve25519 key). */
typedef struct peer {
    char curve[64];
    OlmSession *s;
    void *mem;
} peer;

/* A Megolm session someone shared for a room: decrypts their messages. */
typedef struct group_in {
    char room[256], id[64], sender[64];
    OlmInboundGroupSession *s;
    void *mem;
} group_in;

/* The bot's own Megolm session for a room: encrypts its replies. */
typedef struct group_out {
    char room[256];
    OlmOutboundGroupSession *s;
    void *mem;
    unsigned sent;              /* messages encrypted with it */
    unsigned max_msgs;          /* rotation_period_msgs */
    long long created_ms, max_ms;   /* made when; rotation_period_ms */
    json_t *shared;             /* [[user, curve25519], ...]: who has its key */
} group_out;

#define E2E_MAX_PEERS  1024     /* the oldest go first */
#define E2E_MAX_GROUPS 4096
#define E2E_ROTATE_MSGS 100     /* the spec's default rotation_period_msgs */
#define E2E_ROTATE_MS   (7LL * 24 * 3600 * 1000)   /* and rotation_period_ms: a week */

struct e2e_account {
    OlmAccount *olm;
    void *mem;                  /* olm_account_size() bytes, OlmAccount lives in it */
    peer *peers;
    size_t n_peers;
    group_in *in;
    size_t n_in;
    group_out *out;
    size_t n_out;
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

static void peer_clear(peer *p) { olm_clear_session(p->s); free(p->mem); }
static void in_clear(group_in *g) { olm_clear_inbound_group_session(g->s); free(g->mem); }
static void out_clear(group_out *g)
{
    olm_clear_outbound_group_session(g->s);
    free(g->mem);
    json_decref(g->shared);
}

void e2e_account_free(e2e_account *a)
{
    if (!a) return;
    for (size_t i = 0; i < a->n_peers; i++) peer_clear(&a->peers[i]);
    for (size_t i = 0; i < a->n_in; i++) in_clear(&a->in[i]);
    for (size_t i = 0; i < a->n_out; i++) out_clear(&a->out[i]);
    free(a->peers);
    free(a->in);
    free(a->out);
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

/* Each libolm object pickles under the key; the wrapper (which device or
 * room each session is for) is JSON around the pickles. */
#define PICKLE(name, type)                                                     \
    static char *pickle_##name(type *o, const unsigned char *key, size_t keylen) \
    {                                                                           \
        size_t n = olm_pickle_##name##_length(o);                               \
        char *out = malloc(n + 1);                                              \
        if (!out) return NULL;                                                  \
        if (olm_pickle_##name(o, key, keylen, out, n) == olm_error()) {         \
            free(out);                                                          \
            return NULL;                                                        \
        }                                                                       \
        out[n] = '\0';                                                          \
        return out;                                                             \
    }
PICKLE(account, OlmAccount)
PICKLE(session, OlmSession)
PICKLE(inbound_group_session, OlmInboundGroupSession)
PICKLE(outbound_group_session, OlmOutboundGroupSession)

char *e2e_account_save(e2e_account *a, const unsigned char *key, size_t keylen)
{
    json_t *o = json_object(), *peers = json_array(), *in = json_array(), *out = json_array();
    char *p = pickle_account(a->olm, key, keylen);
    int ok = o && peers && in && out && p && json_object_set_new(o, "account", json_string(p)) == 0;
    free(p);
    for (size_t i = 0; ok && i < a->n_peers; i++) {
        char *q = pickle_session(a->peers[i].s, key, keylen);
        ok = q && json_array_append_new(peers, json_pack("{s:s, s:s}", "curve", a->peers[i].curve, "p", q)) == 0;
        free(q);
    }
    for (size_t i = 0; ok && i < a->n_in; i++) {
        char *q = pickle_inbound_group_session(a->in[i].s, key, keylen);
        ok = q && json_array_append_new(in, json_pack("{s:s, s:s, s:s, s:s}", "room", a->in[i].room,
                                                      "id", a->in[i].id, "sender", a->in[i].sender, "p", q)) == 0;
        free(q);
    }
    for (size_t i = 0; ok && i < a->n_out; i++) {
        char *q = pickle_outbound_group_session(a->out[i].s, key, keylen);
        const group_out *g = &a->out[i];
        ok = q && json_array_append_new(out, json_pack("{s:s, s:I, s:I, s:I, s:I, s:O, s:s}", "room", g->room,
                                                       "sent", (json_int_t)g->sent, "max_msgs",
                                                       (json_int_t)g->max_msgs, "created_ms",
                                                       (json_int_t)g->created_ms, "max_ms",
                                                       (json_int_t)g->max_ms, "shared", g->shared, "p", q)) == 0;
        free(q);
    }
    char *text = NULL;
    if (ok && json_object_set(o, "peers", peers) == 0 && json_object_set(o, "in", in) == 0 &&
        json_object_set(o, "out", out) == 0)
        text = json_dumps(o, JSON_COMPACT);
    json_decref(peers);
    json_decref(in);
    json_decref(out);
    json_decref(o);
    return text;
}

/* A copy of src for libolm, which decodes its input in place. */
static char *scratch(const char *src, size_t *n)
{
    char *c = src ? strdup(src) : NULL;
    if (c) *n = strlen(c);
    return c;
}

/* One saved libolm object: v's "p" unpickled under key into fresh
 * memory (*mem, which the object lives in), or NULL.  The three kinds of
 * session differ only in which libolm calls size, place and open them. */
enum { KIND_SESSION, KIND_IN, KIND_OUT };
static void *restore_one(int kind, const json_t *v, const unsigned char *key, size_t keylen, void **mem)
{
    const char *pk = json_string_value(json_object_get(v, "p"));
    size_t size = kind == KIND_SESSION ? olm_session_size()
                : kind == KIND_IN ? olm_inbound_group_session_size() : olm_outbound_group_session_size();
    void *m = pk ? malloc(size) : NULL, *obj = NULL;
    size_t n, rc = olm_error();
    char *c = m ? scratch(pk, &n) : NULL;
    if (c && kind == KIND_SESSION) {
        obj = olm_session(m);
        rc = olm_unpickle_session(obj, key, keylen, c, n);
        if (rc == olm_error()) olm_clear_session(obj);
    } else if (c && kind == KIND_IN) {
        obj = olm_inbound_group_session(m);
        rc = olm_unpickle_inbound_group_session(obj, key, keylen, c, n);
        if (rc == olm_error()) olm_clear_inbound_group_session(obj);
    } else if (c) {
        obj = olm_outbound_group_session(m);
        rc = olm_unpickle_outbound_group_session(obj, key, keylen, c, n);
        if (rc == olm_error()) olm_clear_outbound_group_session(obj);
    }
    free(c);
    if (rc == olm_error()) { free(m); return NULL; }
    *mem = m;
    return obj;
}

e2e_account *e2e_account_restore(const char *saved, const unsigned char *key, size_t keylen,
                                 char *err, size_t errlen)
{
    json_t *o = saved ? json_loads(saved, 0, NULL) : NULL;
    const char *acc = json_string_value(json_object_get(o, "account"));
    e2e_account *a = acc ? account_alloc() : NULL;
    if (!a) {
        snprintf(err, errlen, "%s", acc ? "out of memory" : "the saved keys are damaged");
        json_decref(o);
        return NULL;
    }
    size_t n;
    char *c = scratch(acc, &n);
    size_t rc = c ? olm_unpickle_account(a->olm, key, keylen, c, n) : olm_error();
    free(c);
    if (rc == olm_error()) {
        const char *why = olm_account_last_error(a->olm);
        snprintf(err, errlen, "%s", strcmp(why, "BAD_ACCOUNT_KEY") == 0
                 ? "the key file does not open these keys (another key file, or it was replaced)"
                 : "the saved keys are damaged");
        goto fail;
    }
    json_t *v;
    size_t i;
    json_array_foreach(json_object_get(o, "peers"), i, v) {
        const char *curve = json_string_value(json_object_get(v, "curve"));
        peer *pp = realloc(a->peers, (a->n_peers + 1) * sizeof *pp);
        if (!pp) goto damaged;
        a->peers = pp;
        peer *p = &a->peers[a->n_peers];
        if (!curve || strlen(curve) >= sizeof p->curve ||
            !(p->s = restore_one(KIND_SESSION, v, key, keylen, &p->mem))) goto damaged;
        snprintf(p->curve, sizeof p->curve, "%s", curve);
        a->n_peers++;
    }
    json_array_foreach(json_object_get(o, "in"), i, v) {
        const char *room = json_string_value(json_object_get(v, "room"));
        const char *id = json_string_value(json_object_get(v, "id"));
        const char *sender = json_string_value(json_object_get(v, "sender"));
        group_in *gg = realloc(a->in, (a->n_in + 1) * sizeof *gg);
        if (!gg) goto damaged;
        a->in = gg;
        group_in *g = &a->in[a->n_in];
        if (!room || !id || !sender || strlen(room) >= sizeof g->room || strlen(id) >= sizeof g->id ||
            strlen(sender) >= sizeof g->sender ||
            !(g->s = restore_one(KIND_IN, v, key, keylen, &g->mem))) goto damaged;
        snprintf(g->room, sizeof g->room, "%s", room);
        snprintf(g->id, sizeof g->id, "%s", id);
        snprintf(g->sender, sizeof g->sender, "%s", sender);
        a->n_in++;
    }
    json_array_foreach(json_object_get(o, "out"), i, v) {
        const char *room = json_string_value(json_object_get(v, "room"));
        group_out *gg = realloc(a->out, (a->n_out + 1) * sizeof *gg);
        if (!gg) goto damaged;
        a->out = gg;
        group_out *g = &a->out[a->n_out];
        memset(g, 0, sizeof *g);
        if (!room || strlen(room) >= sizeof g->room ||
            !(g->s = restore_one(KIND_OUT, v, key, keylen, &g->mem))) goto damaged;
        snprintf(g->room, sizeof g->room, "%s", room);
        g->sent = (unsigned)json_integer_value(json_object_get(v, "sent"));
        g->max_msgs = (unsigned)json_integer_value(json_object_get(v, "max_msgs"));
        g->created_ms = json_integer_value(json_object_get(v, "created_ms"));
        g->max_ms = json_integer_value(json_object_get(v, "max_ms"));
        json_t *sh = json_object_get(v, "shared");
        g->shared = json_is_array(sh) ? json_incref(sh) : json_array();
        a->n_out++;
        if (!g->shared) goto damaged;
    }
    json_decref(o);
    return a;
damaged:
    snprintf(err, errlen, "the saved sessions are damaged");
fail:
    json_decref(o);
    e2e_account_free(a);
    return NULL;
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

/* ---- Olm: to-device messages between two devices ----------------------- */

static peer *peer_add(e2e_account *a, const char *curve)
{
    if (strlen(curve) >= sizeof a->peers[0].curve) return NULL;
    if (a->n_peers == E2E_MAX_PEERS) {          /* the oldest goes */
        peer_clear(&a->peers[0]);
        memmove(a->peers, a->peers + 1, (a->n_peers - 1) * sizeof *a->peers);
        a->n_peers--;
    }
    peer *pp = realloc(a->peers, (a->n_peers + 1) * sizeof *pp);
    if (!pp) return NULL;
    a->peers = pp;
    peer *p = &a->peers[a->n_peers];
    if (!(p->mem = malloc(olm_session_size()))) return NULL;
    p->s = olm_session(p->mem);
    snprintf(p->curve, sizeof p->curve, "%s", curve);
    return p;                        /* counted once the caller has set it up */
}

/* body decrypted with p's session: the plaintext (malloc'd), or NULL. */
static char *olm_open(peer *p, size_t type, const char *body)
{
    size_t n;
    char *c = scratch(body, &n);
    size_t max = c ? olm_decrypt_max_plaintext_length(p->s, type, c, n) : olm_error();
    free(c);
    if (max == olm_error()) return NULL;
    char *plain = malloc(max + 1);
    c = plain ? scratch(body, &n) : NULL;
    size_t got = c ? olm_decrypt(p->s, type, c, n, plain, max) : olm_error();
    free(c);
    if (got == olm_error()) { free(plain); return NULL; }
    plain[got] = '\0';
    return plain;
}

json_t *e2e_olm_decrypt(e2e_account *a, const char *user_id, const char *sender_user,
                        const json_t *content, char *err, size_t errlen)
{
    char curve[64], ed[64];
    const char *alg = json_string_value(json_object_get(content, "algorithm"));
    const char *sender_key = json_string_value(json_object_get(content, "sender_key"));
    if (e2e_identity(a, curve, ed)) { snprintf(err, errlen, "no identity keys"); return NULL; }
    const json_t *mine = json_object_get(json_object_get(content, "ciphertext"), curve);
    const char *body = json_string_value(json_object_get(mine, "body"));
    json_int_t type = json_integer_value(json_object_get(mine, "type"));
    if (!alg || strcmp(alg, ALG_OLM) != 0 || !sender_key || !body || (type != 0 && type != 1)) {
        snprintf(err, errlen, "not an Olm message for this device");
        return NULL;
    }
    char *plain = NULL;
    for (size_t i = a->n_peers; i-- > 0 && !plain;) {       /* the newest session first */
        peer *p = &a->peers[i];
        if (strcmp(p->curve, sender_key) != 0) continue;
        if (type == 0) {
            size_t n;
            char *c = scratch(body, &n);
            size_t m = c ? olm_matches_inbound_session_from(p->s, sender_key, strlen(sender_key), c, n) : 0;
            free(c);
            if (m != 1) continue;
        }
        plain = olm_open(p, (size_t)type, body);
    }
    if (!plain && type == 0) {            /* a new session, opened with one of our one-time keys */
        peer *p = peer_add(a, sender_key);
        size_t n;
        char *c = p ? scratch(body, &n) : NULL;
        size_t rc = c ? olm_create_inbound_session_from(p->s, a->olm, sender_key, strlen(sender_key), c, n)
                      : olm_error();
        free(c);
        if (rc != olm_error() && (plain = olm_open(p, 0, body)) != NULL) {
            olm_remove_one_time_keys(a->olm, p->s);   /* a one-time key opens one session */
            a->n_peers++;
        } else if (p) {
            peer_clear(p);
        }
    }
    if (!plain) { snprintf(err, errlen, "the Olm message could not be decrypted"); return NULL; }
    json_t *o = json_loads(plain, 0, NULL);
    free(plain);
    /* it must be for us, from whom the envelope says */
    const char *to = json_string_value(json_object_get(o, "recipient"));
    const char *to_ed = json_string_value(json_object_get(json_object_get(o, "recipient_keys"), "ed25519"));
    const char *from = json_string_value(json_object_get(o, "sender"));
    if (!json_is_object(o) || !to || strcmp(to, user_id) != 0 || !to_ed || strcmp(to_ed, ed) != 0 ||
        (sender_user && (!from || strcmp(from, sender_user) != 0))) {
        snprintf(err, errlen, "the Olm message is not addressed to this device by its sender");
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *e2e_olm_encrypt(e2e_account *a, const char *user_id, const char *their_user,
                        const char *their_curve, const char *their_ed, const char *their_otk,
                        const char *type, const json_t *content)
{
    char curve[64], ed[64];
    if (e2e_identity(a, curve, ed)) return NULL;
    peer *p = NULL;
    for (size_t i = a->n_peers; i-- > 0 && !p;)
        if (strcmp(a->peers[i].curve, their_curve) == 0) p = &a->peers[i];
    if (!p) {
        if (!their_otk || !(p = peer_add(a, their_curve))) return NULL;
        size_t rl = olm_create_outbound_session_random_length(p->s);
        unsigned char *r = malloc(rl ? rl : 1);
        int ok = r && fill_random(r, rl) == 0 &&
                 olm_create_outbound_session(p->s, a->olm, their_curve, strlen(their_curve),
                                             their_otk, strlen(their_otk), r, rl) != olm_error();
        if (r) { wipe(r, rl); free(r); }
        if (!ok) { peer_clear(p); return NULL; }
        a->n_peers++;
    }
    json_t *plain = json_pack("{s:s, s:O, s:s, s:s, s:{s:s}, s:{s:s}}", "type", type, "content", content,
                              "sender", user_id, "recipient", their_user,
                              "recipient_keys", "ed25519", their_ed, "keys", "ed25519", ed);
    char *text = plain ? json_dumps(plain, JSON_COMPACT) : NULL;
    json_decref(plain);
    if (!text) return NULL;
    size_t len = strlen(text), mtype = olm_encrypt_message_type(p->s);
    size_t rl = olm_encrypt_random_length(p->s), ml = olm_encrypt_message_length(p->s, len);
    unsigned char *r = malloc(rl ? rl : 1);
    char *msg = malloc(ml + 1);
    int ok = r && msg && fill_random(r, rl) == 0 &&
             olm_encrypt(p->s, text, len, r, rl, msg, ml) != olm_error();
    if (r) { wipe(r, rl); free(r); }
    wipe(text, len);
    free(text);
    json_t *out = NULL;
    if (ok) {
        msg[ml] = '\0';
        out = json_pack("{s:s, s:s, s:{s:{s:i, s:s}}}", "algorithm", ALG_OLM, "sender_key", curve,
                        "ciphertext", their_curve, "type", (json_int_t)mtype, "body", msg);
    }
    free(msg);
    return out;
}

/* ---- Megolm: room messages ---------------------------------------------- */

static group_in *find_in(e2e_account *a, const char *room, const char *id, const char *sender)
{
    for (size_t i = 0; i < a->n_in; i++)
        if (strcmp(a->in[i].id, id) == 0 && strcmp(a->in[i].sender, sender) == 0 &&
            strcmp(a->in[i].room, room) == 0) return &a->in[i];
    return NULL;
}

int e2e_room_key_add(e2e_account *a, const json_t *plain, const char *sender_key)
{
    const json_t *c = json_object_get(plain, "content");
    const char *type = json_string_value(json_object_get(plain, "type"));
    const char *alg = json_string_value(json_object_get(c, "algorithm"));
    const char *room = json_string_value(json_object_get(c, "room_id"));
    const char *id = json_string_value(json_object_get(c, "session_id"));
    const char *key = json_string_value(json_object_get(c, "session_key"));
    if (!type || strcmp(type, "m.room_key") != 0 || !alg || strcmp(alg, ALG_MEGOLM) != 0 ||
        !room || !id || !key || !sender_key || strlen(room) >= sizeof a->in[0].room ||
        strlen(id) >= sizeof a->in[0].id || strlen(sender_key) >= sizeof a->in[0].sender)
        return -1;
    if (find_in(a, room, id, sender_key)) return 0;   /* known: the first copy stands */
    if (a->n_in == E2E_MAX_GROUPS) {
        in_clear(&a->in[0]);
        memmove(a->in, a->in + 1, (a->n_in - 1) * sizeof *a->in);
        a->n_in--;
    }
    group_in *gg = realloc(a->in, (a->n_in + 1) * sizeof *gg);
    if (!gg) return -1;
    a->in = gg;
    group_in *g = &a->in[a->n_in];
    if (!(g->mem = malloc(olm_inbound_group_session_size()))) return -1;
    g->s = olm_inbound_group_session(g->mem);
    char sid[64];
    size_t n;
    char *k = scratch(key, &n);
    int ok = k && olm_init_inbound_group_session(g->s, (const uint8_t *)k, n) != olm_error();
    if (k) { wipe(k, n); free(k); }
    /* the session must be the one the event names */
    size_t idn = ok ? olm_inbound_group_session_id(g->s, (uint8_t *)sid, sizeof sid - 1) : olm_error();
    if (idn == olm_error() || (sid[idn] = '\0', strcmp(sid, id) != 0)) { in_clear(g); return -1; }
    snprintf(g->room, sizeof g->room, "%s", room);
    snprintf(g->id, sizeof g->id, "%s", id);
    snprintf(g->sender, sizeof g->sender, "%s", sender_key);
    a->n_in++;
    return 0;
}

json_t *e2e_megolm_decrypt(e2e_account *a, const char *room_id, const json_t *content,
                           int *missing, char *err, size_t errlen)
{
    *missing = 0;
    const char *alg = json_string_value(json_object_get(content, "algorithm"));
    const char *sender = json_string_value(json_object_get(content, "sender_key"));
    const char *id = json_string_value(json_object_get(content, "session_id"));
    const char *ct = json_string_value(json_object_get(content, "ciphertext"));
    if (!alg || strcmp(alg, ALG_MEGOLM) != 0 || !sender || !id || !ct) {
        snprintf(err, errlen, "not a Megolm message");
        return NULL;
    }
    group_in *g = find_in(a, room_id, id, sender);
    if (!g) {
        *missing = 1;
        snprintf(err, errlen, "no key for this message yet");
        return NULL;
    }
    size_t n;
    char *c = scratch(ct, &n);
    size_t max = c ? olm_group_decrypt_max_plaintext_length(g->s, (uint8_t *)c, n) : olm_error();
    free(c);
    char *plain = max != olm_error() ? malloc(max + 1) : NULL;
    uint32_t index = 0;
    c = plain ? scratch(ct, &n) : NULL;
    size_t got = c ? olm_group_decrypt(g->s, (uint8_t *)c, n, (uint8_t *)plain, max, &index) : olm_error();
    free(c);
    if (got == olm_error()) {
        free(plain);
        snprintf(err, errlen, "the message could not be decrypted");
        return NULL;
    }
    plain[got] = '\0';
    json_t *o = json_loads(plain, 0, NULL);
    wipe(plain, got);
    free(plain);
    const char *room = json_string_value(json_object_get(o, "room_id"));
    if (!json_is_object(o) || !room || strcmp(room, room_id) != 0 ||
        !json_is_string(json_object_get(o, "type")) || !json_is_object(json_object_get(o, "content"))) {
        snprintf(err, errlen, "the decrypted message is not for this room");
        json_decref(o);
        return NULL;
    }
    return o;
}

static group_out *find_out(e2e_account *a, const char *room)
{
    for (size_t i = 0; i < a->n_out; i++)
        if (strcmp(a->out[i].room, room) == 0) return &a->out[i];
    return NULL;
}

void e2e_megolm_rotate(e2e_account *a, const char *room_id)
{
    group_out *g = find_out(a, room_id);
    if (!g) return;
    out_clear(g);
    size_t at = (size_t)(g - a->out);
    memmove(a->out + at, a->out + at + 1, (a->n_out - at - 1) * sizeof *a->out);
    a->n_out--;
}

/* Is the room's outbound session due to rotate: it has encrypted its
 * rotation_period_msgs, or is older than rotation_period_ms? */
static int due(const group_out *g, long long now_ms)
{
    return g->sent >= g->max_msgs || (now_ms >= 0 && now_ms - g->created_ms >= g->max_ms);
}

/* The room's outbound session, made (or remade when due) when needed;
 * *fresh: it is new, so its key must be shared first. */
static group_out *outbound(e2e_account *a, const char *room, unsigned max_msgs, long long max_ms,
                           long long now_ms, int *fresh)
{
    group_out *g = find_out(a, room);
    if (g && due(g, now_ms)) { e2e_megolm_rotate(a, room); g = NULL; }
    if (g) return g;
    if (strlen(room) >= sizeof a->out[0].room) return NULL;
    group_out *gg = realloc(a->out, (a->n_out + 1) * sizeof *gg);
    if (!gg) return NULL;
    a->out = gg;
    g = &a->out[a->n_out];
    memset(g, 0, sizeof *g);
    if (!(g->shared = json_array())) return NULL;
    if (!(g->mem = malloc(olm_outbound_group_session_size()))) { json_decref(g->shared); return NULL; }
    g->s = olm_outbound_group_session(g->mem);
    size_t rl = olm_init_outbound_group_session_random_length(g->s);
    unsigned char *r = malloc(rl ? rl : 1);
    int ok = r && fill_random(r, rl) == 0 && olm_init_outbound_group_session(g->s, r, rl) != olm_error();
    if (r) { wipe(r, rl); free(r); }
    if (!ok) { out_clear(g); return NULL; }
    snprintf(g->room, sizeof g->room, "%s", room);
    g->max_msgs = max_msgs ? max_msgs : E2E_ROTATE_MSGS;
    g->max_ms = max_ms > 0 ? max_ms : E2E_ROTATE_MS;
    g->created_ms = now_ms >= 0 ? now_ms : 0;
    a->n_out++;
    *fresh = 1;
    return g;
}

json_t *e2e_room_key(e2e_account *a, const char *room_id, unsigned max_msgs, long long max_ms,
                     long long now_ms, int *fresh)
{
    *fresh = 0;
    group_out *g = outbound(a, room_id, max_msgs, max_ms, now_ms, fresh);
    if (!g) return NULL;
    size_t il = olm_outbound_group_session_id_length(g->s), kl = olm_outbound_group_session_key_length(g->s);
    char *id = malloc(il + 1), *key = malloc(kl + 1);
    json_t *out = NULL;
    if (id && key && olm_outbound_group_session_id(g->s, (uint8_t *)id, il) != olm_error() &&
        olm_outbound_group_session_key(g->s, (uint8_t *)key, kl) != olm_error()) {
        id[il] = key[kl] = '\0';
        out = json_pack("{s:s, s:s, s:s, s:s}", "algorithm", ALG_MEGOLM, "room_id", room_id,
                        "session_id", id, "session_key", key);
    }
    if (key) wipe(key, kl);
    free(id);
    free(key);
    return out;
}

int e2e_megolm_shared(e2e_account *a, const char *room_id, const char *curve)
{
    group_out *g = find_out(a, room_id);
    size_t i;
    json_t *v;
    if (!g) return 0;
    json_array_foreach(g->shared, i, v)
        if (strcmp(json_string_value(json_array_get(v, 1)) ? json_string_value(json_array_get(v, 1)) : "",
                   curve) == 0) return 1;
    return 0;
}

int e2e_megolm_share(e2e_account *a, const char *room_id, const char *user, const char *curve)
{
    group_out *g = find_out(a, room_id);
    if (!g) return -1;
    if (e2e_megolm_shared(a, room_id, curve)) return 0;
    return json_array_append_new(g->shared, json_pack("[s,s]", user, curve));
}

int e2e_megolm_check_members(e2e_account *a, const char *room_id,
                             int (*still)(void *ctx, const char *user, const char *curve), void *ctx)
{
    group_out *g = find_out(a, room_id);
    size_t i;
    json_t *v;
    if (!g) return 0;
    json_array_foreach(g->shared, i, v) {
        const char *u = json_string_value(json_array_get(v, 0)), *c = json_string_value(json_array_get(v, 1));
        if (!u || !c || !still(ctx, u, c)) {
            e2e_megolm_rotate(a, room_id);
            return 1;
        }
    }
    return 0;
}

int e2e_olm_has_session(e2e_account *a, const char *curve)
{
    for (size_t i = 0; i < a->n_peers; i++)
        if (strcmp(a->peers[i].curve, curve) == 0) return 1;
    return 0;
}

json_t *e2e_megolm_encrypt(e2e_account *a, const char *room_id, const char *device_id,
                           const char *type, const json_t *content)
{
    char curve[64], ed[64];
    group_out *g = e2e_identity(a, curve, ed) == 0 ? find_out(a, room_id) : NULL;
    if (g && g->sent >= g->max_msgs) g = NULL;   /* e2e_room_key() first: it rotates */
    if (!g) return NULL;
    json_t *plain = json_pack("{s:s, s:O, s:s}", "type", type, "content", content, "room_id", room_id);
    char *text = plain ? json_dumps(plain, JSON_COMPACT) : NULL;
    json_decref(plain);
    if (!text) return NULL;
    size_t len = strlen(text), ml = olm_group_encrypt_message_length(g->s, len);
    size_t il = olm_outbound_group_session_id_length(g->s);
    char *msg = malloc(ml + 1), *id = malloc(il + 1);
    json_t *out = NULL;
    if (msg && id && olm_group_encrypt(g->s, (uint8_t *)text, len, (uint8_t *)msg, ml) != olm_error() &&
        olm_outbound_group_session_id(g->s, (uint8_t *)id, il) != olm_error()) {
        msg[ml] = id[il] = '\0';
        g->sent++;
        out = json_pack("{s:s, s:s, s:s, s:s, s:s}", "algorithm", ALG_MEGOLM, "sender_key", curve,
                        "ciphertext", msg, "session_id", id, "device_id", device_id);
    }
    wipe(text, len);
    free(text);
    free(msg);
    free(id);
    return out;
}
