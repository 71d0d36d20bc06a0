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
 * database.  Olm to-device messages, Megolm room messages in and out
 * and their rotation; the Matrix bot (bots/matrix.c, its "end-to-end
 * encryption" part) drives it. */
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

/* ---- Olm (to-device) and Megolm (room) messages ----
 * The sessions live in the account and are saved with it. */

/* An m.room.encrypted to-device content (Olm) for this device, from
 * sender_user (NULL: not checked): its plaintext event, checked to be
 * addressed to user_id and this device's key; NULL with err. */
json_t *e2e_olm_decrypt(e2e_account *a, const char *user_id, const char *sender_user,
                        const json_t *content, char *err, size_t errlen);
/* The m.room.encrypted to-device content carrying {type, content} to one
 * device: over the Olm session with it, or a new one from their_otk (a
 * key claimed with /keys/claim; NULL when a session exists). */
json_t *e2e_olm_encrypt(e2e_account *a, const char *user_id, const char *their_user,
                        const char *their_curve, const char *their_ed, const char *their_otk,
                        const char *type, const json_t *content);
/* A decrypted m.room_key (from e2e_olm_decrypt, its Olm sender_key):
 * the room's inbound session is kept.  0, or -1 when it is not one. */
int e2e_room_key_add(e2e_account *a, const json_t *plain, const char *sender_key);
/* A room's m.room.encrypted content (Megolm): the plaintext event
 * {type, content, room_id}, checked to be for room_id; NULL with err, and
 * *missing = 1 when the key has not arrived (retry when it does). */
json_t *e2e_megolm_decrypt(e2e_account *a, const char *room_id, const json_t *content,
                           int *missing, char *err, size_t errlen);
/* The m.room_key content for the room's outbound session, made first when
 * there is none or when it is due to rotate: it encrypted max_msgs
 * messages (the room's rotation_period_msgs; 0: the spec's 100) or is
 * older than max_ms (rotation_period_ms; 0: a week) at now_ms (-1: not
 * checked).  A new one sets *fresh = 1; its key must reach every device
 * of the room (e2e_olm_encrypt) before the next message.  The key is the
 * session at its current index: a device that gets it later reads only
 * what comes after. */
json_t *e2e_room_key(e2e_account *a, const char *room_id, unsigned max_msgs, long long max_ms,
                     long long now_ms, int *fresh);
/* Which devices (by Curve25519 key) the room's outbound session was given
 * to: 1 or 0; mark one (0, -1 when there is no session).  Saved with it. */
int e2e_megolm_shared(e2e_account *a, const char *room_id, const char *curve);
int e2e_megolm_share(e2e_account *a, const char *room_id, const char *user, const char *curve);
/* A device the session was given to that still(ctx, user, curve) says
 * is gone (its user left, or the device was removed): the session is
 * dropped, so the next message starts a new one; 1 then, else 0. */
int e2e_megolm_check_members(e2e_account *a, const char *room_id,
                             int (*still)(void *ctx, const char *user, const char *curve), void *ctx);
/* Is there an Olm session with that device (else claim a one-time key)? */
int e2e_olm_has_session(e2e_account *a, const char *curve);
/* {type, content} encrypted for room_id with that session (NULL when
 * e2e_room_key() has not made one or it is due to rotate). */
json_t *e2e_megolm_encrypt(e2e_account *a, const char *room_id, const char *device_id,
                           const char *type, const json_t *content);
/* A member left: the next message starts a new session. */
void e2e_megolm_rotate(e2e_account *a, const char *room_id);

/* The pickle key: 32 bytes in `path` (hex, one line), created 0600 when
 * missing; refused when others may read it.  0, or -1 with err. */
int e2e_key_file(const char *path, unsigned char key[32], char *err, size_t errlen);

#endif
