/* crypto.h -- the Matrix bot's end-to-end encryption, behind one small
 * interface: nothing outside bots/crypto.c sees a libolm type, so that
 * libolm (deprecated upstream in favour of vodozemac) can be replaced
 * without touching matrix.c.  docs/matrix.md says what libolm's status
 * means for this bot.
 *
 * What is here (issue 23, first step): the bot's own device.  Its identity
 * keys (Curve25519 for Olm, Ed25519 for signing), signed device keys and
 * signed one-time keys in the shapes /keys/upload takes, the canonical
 * JSON that signatures are made over, and the account saved ("pickled")
 * under a key that lives in its own 0600 file, never in the state
 * database.  Olm and Megolm sessions come next. */
#ifndef PP_CRYPTO_H
#define PP_CRYPTO_H

#include <stddef.h>
#include <jansson.h>

typedef struct e2e_account e2e_account;

/* A new device: fresh identity keys from the system's randomness.  NULL
 * when out of memory or randomness. */
e2e_account *e2e_account_new(void);
/* An account saved by e2e_account_save() under the same key; NULL with a
 * reason in err when the key is wrong or the text is damaged. */
e2e_account *e2e_account_restore(const char *saved, const unsigned char *key, size_t keylen,
                                 char *err, size_t errlen);
/* The account as text, encrypted under key (malloc'd), NULL on failure. */
char *e2e_account_save(e2e_account *a, const unsigned char *key, size_t keylen);
void e2e_account_free(e2e_account *a);

/* The identity keys, unpadded base64.  0, or -1. */
int e2e_identity(e2e_account *a, char curve25519[64], char ed25519[64]);

/* `device_keys` for /keys/upload, signed by the account: algorithms,
 * device_id, keys, user_id, signatures.  NULL on failure. */
json_t *e2e_device_keys(e2e_account *a, const char *user_id, const char *device_id);
/* `one_time_keys` for /keys/upload: up to `want` new signed_curve25519
 * keys (never more than the account can hold), each signed; an empty
 * object when want is 0.  Call e2e_published() once the server took them. */
json_t *e2e_one_time_keys(e2e_account *a, const char *user_id, const char *device_id, size_t want);
void e2e_published(e2e_account *a);
/* How many one-time keys the account holds at most; keep the server's
 * count (device_one_time_keys_count) near half of it. */
size_t e2e_max_one_time_keys(e2e_account *a);

/* Canonical JSON (the Matrix spec's appendix): keys sorted, no spaces,
 * UTF-8 as it is.  What signatures are made over; malloc'd. */
char *e2e_canonical(const json_t *v);
/* Does sig (unpadded base64) sign msg under the Ed25519 key?  1, 0. */
int e2e_verify(const char *ed25519, const char *msg, size_t len, const char *sig);
/* Does the signed object obj carry a valid signature by user's
 * ed25519:device key?  (signatures and unsigned are left out.)  1, 0. */
int e2e_verify_object(const json_t *obj, const char *user_id, const char *device_id,
                      const char *ed25519);

/* The pickle key: 32 bytes in `path` (hex, one line), created 0600 when
 * missing; refused when others may read it.  0, or -1 with err. */
int e2e_key_file(const char *path, unsigned char key[32], char *err, size_t errlen);

#endif
