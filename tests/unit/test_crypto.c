/* test_crypto.c -- the Matrix bot's device keys (bots/crypto.c, issue 23):
 * canonical JSON as the spec gives it, device keys and one-time keys whose
 * signatures verify (and stop verifying when a byte changes), the account
 * saved under a key and opened only with that key, and the key file. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto.h"

static void test_canonical(void **state)
{
    (void)state;
    /* the spec's examples (appendices, canonical JSON) */
    const char *in[][2] = {
        { "{\"one\": 1, \"two\": \"Two\"}", "{\"one\":1,\"two\":\"Two\"}" },
        { "{\"b\": \"2\", \"a\": \"1\"}", "{\"a\":\"1\",\"b\":\"2\"}" },
        { "{\"auth\": {\"success\": true, \"mxid\": \"@john.doe:example.com\", \"profile\": "
          "{\"display_name\": \"John Doe\", \"three_pids\": [{\"medium\": \"email\", \"address\": "
          "\"john.doe@example.org\"}, {\"medium\": \"msisdn\", \"address\": \"123456789\"}]}}}",
          "{\"auth\":{\"mxid\":\"@john.doe:example.com\",\"profile\":{\"display_name\":\"John Doe\","
          "\"three_pids\":[{\"address\":\"john.doe@example.org\",\"medium\":\"email\"},{\"address\":"
          "\"123456789\",\"medium\":\"msisdn\"}]},\"success\":true}}" },
        { "{\"a\": \"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\"}", "{\"a\":\"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\"}" },
        { "{\"\xe6\x97\xa5\": 1, \"\xe6\x9c\xac\": 2}", "{\"\xe6\x97\xa5\":1,\"\xe6\x9c\xac\":2}" },
        { "{\"a\": null}", "{\"a\":null}" },
    };
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        json_t *v = json_loads(in[i][0], 0, NULL);
        assert_non_null(v);
        char *c = e2e_canonical(v);
        assert_string_equal(c, in[i][1]);
        free(c);
        json_decref(v);
    }
}

static void test_device_keys_signed(void **state)
{
    (void)state;
    e2e_account *a = e2e_account_new();
    assert_non_null(a);
    char curve[64], ed[64];
    assert_int_equal(e2e_identity(a, curve, ed), 0);
    assert_int_equal(strlen(curve), 43);          /* 32 bytes, unpadded base64 */
    assert_int_equal(strlen(ed), 43);
    json_t *dk = e2e_device_keys(a, "@coach:localhost", "PPDEVICE");
    assert_non_null(dk);
    assert_string_equal(json_string_value(json_object_get(dk, "device_id")), "PPDEVICE");
    assert_string_equal(json_string_value(json_object_get(json_object_get(dk, "keys"), "ed25519:PPDEVICE")), ed);
    assert_string_equal(json_string_value(json_object_get(json_object_get(dk, "keys"), "curve25519:PPDEVICE")), curve);
    assert_true(e2e_verify_object(dk, "@coach:localhost", "PPDEVICE", ed));
    /* one changed byte, another device's key, an unsigned field added */
    json_object_set_new(dk, "device_id", json_string("PPDEVICF"));
    assert_false(e2e_verify_object(dk, "@coach:localhost", "PPDEVICE", ed));
    json_object_set_new(dk, "device_id", json_string("PPDEVICE"));
    e2e_account *b = e2e_account_new();
    char curve_b[64], ed_b[64];
    assert_int_equal(e2e_identity(b, curve_b, ed_b), 0);
    assert_string_not_equal(ed, ed_b);
    assert_false(e2e_verify_object(dk, "@coach:localhost", "PPDEVICE", ed_b));
    json_object_set_new(dk, "unsigned", json_pack("{s:s}", "device_display_name", "pushpull"));
    assert_true(e2e_verify_object(dk, "@coach:localhost", "PPDEVICE", ed));
    json_decref(dk);
    e2e_account_free(b);
    e2e_account_free(a);
}

static void test_one_time_keys(void **state)
{
    (void)state;
    e2e_account *a = e2e_account_new();
    assert_non_null(a);
    char curve[64], ed[64];
    assert_int_equal(e2e_identity(a, curve, ed), 0);
    size_t max = e2e_max_one_time_keys(a);
    assert_true(max >= 50);
    json_t *otk = e2e_one_time_keys(a, "@coach:localhost", "PPDEVICE", 5);
    assert_int_equal(json_object_size(otk), 5);
    const char *name;
    json_t *one;
    json_object_foreach(otk, name, one) {
        assert_int_equal(strncmp(name, "signed_curve25519:", 18), 0);
        assert_int_equal(strlen(json_string_value(json_object_get(one, "key"))), 43);
        assert_true(e2e_verify_object(one, "@coach:localhost", "PPDEVICE", ed));
    }
    /* asked again before they are published: the same five, no more */
    json_t *again = e2e_one_time_keys(a, "@coach:localhost", "PPDEVICE", 5);
    assert_int_equal(json_object_size(again), 5);
    json_object_foreach(otk, name, one) assert_non_null(json_object_get(again, name));
    json_decref(again);
    e2e_published(a);
    json_t *none = e2e_one_time_keys(a, "@coach:localhost", "PPDEVICE", 0);
    assert_int_equal(json_object_size(none), 0);
    json_t *fresh = e2e_one_time_keys(a, "@coach:localhost", "PPDEVICE", 3);
    assert_int_equal(json_object_size(fresh), 3);
    json_object_foreach(otk, name, one) assert_null(json_object_get(fresh, name));
    json_t *capped = e2e_one_time_keys(a, "@coach:localhost", "PPDEVICE", 100000);
    assert_int_equal(json_object_size(capped), max / 2);
    json_decref(capped);
    json_decref(fresh);
    json_decref(none);
    json_decref(otk);
    e2e_account_free(a);
}

static void test_saved_under_key(void **state)
{
    (void)state;
    unsigned char key[32], other[32];
    memset(key, 7, sizeof key);
    memset(other, 8, sizeof other);
    e2e_account *a = e2e_account_new();
    char curve[64], ed[64], c2[64], e2[64], err[200];
    assert_int_equal(e2e_identity(a, curve, ed), 0);
    char *saved = e2e_account_save(a, key, sizeof key);
    assert_non_null(saved);
    assert_null(strstr(saved, ed));               /* encrypted, not the keys in the clear */
    e2e_account *b = e2e_account_restore(saved, key, sizeof key, err, sizeof err);
    assert_non_null(b);
    assert_int_equal(e2e_identity(b, c2, e2), 0);
    assert_string_equal(curve, c2);
    assert_string_equal(ed, e2);
    e2e_account *wrong = e2e_account_restore(saved, other, sizeof other, err, sizeof err);
    assert_null(wrong);
    assert_non_null(strstr(err, "does not open"));
    char *mid = strstr(saved, "\"account\":\"") + 20;
    *mid = *mid == 'A' ? 'B' : 'A';
    assert_null(e2e_account_restore(saved, key, sizeof key, err, sizeof err));
    assert_null(e2e_account_restore("", key, sizeof key, err, sizeof err));
    free(saved);
    e2e_account_free(b);
    e2e_account_free(a);
}

static void test_key_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/pp-crypto-XXXXXX", path[256], err[300];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/matrix.key", dir);
    unsigned char k1[32], k2[32];
    assert_int_equal(e2e_key_file(path, k1, err, sizeof err), 0);     /* made */
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_size, 65);
    assert_int_equal(e2e_key_file(path, k2, err, sizeof err), 0);     /* read back */
    assert_memory_equal(k1, k2, 32);
    chmod(path, 0644);
    assert_int_equal(e2e_key_file(path, k2, err, sizeof err), -1);
    assert_non_null(strstr(err, "read by others"));
    chmod(path, 0600);
    FILE *f = fopen(path, "w");
    fputs("not hex at all\n", f);
    fclose(f);
    assert_int_equal(e2e_key_file(path, k2, err, sizeof err), -1);
    assert_non_null(strstr(err, "64 hex digits"));
    unlink(path);
    rmdir(dir);
}

/* Alice's device and the bot's, end to end, as Element and the bot would:
 * alice claims one of the bot's one-time keys, opens an Olm session and
 * sends her room key over it; the bot decrypts her room message with it;
 * the bot answers with a Megolm session of its own whose key it sends back
 * over the same Olm session; both survive the bot saving and reopening. */
static void test_round_trip(void **state)
{
    (void)state;
    const char *ROOM = "!dm:localhost";
    e2e_account *bot = e2e_account_new(), *alice = e2e_account_new();
    assert_non_null(bot);
    assert_non_null(alice);
    char bc[64], be[64], ac[64], ae[64], err[200];
    assert_int_equal(e2e_identity(bot, bc, be), 0);
    assert_int_equal(e2e_identity(alice, ac, ae), 0);
    json_t *otks = e2e_one_time_keys(bot, "@coach:localhost", "BOT", 2);
    e2e_published(bot);
    const char *kname;
    json_t *kv;
    const char *otk = NULL;
    json_object_foreach(otks, kname, kv) { otk = json_string_value(json_object_get(kv, "key")); break; }
    assert_non_null(otk);

    /* alice: a room message she cannot send before the bot has her key */
    int fresh = 0;
    json_t *rk = e2e_room_key(alice, ROOM, 0, 0, -1, &fresh);
    assert_non_null(rk);
    assert_int_equal(fresh, 1);
    json_t *msg = json_pack("{s:s, s:s}", "msgtype", "m.text", "body", "he pulls away every time");
    json_t *enc = e2e_megolm_encrypt(alice, ROOM, "ALICE", "m.room.message", msg);
    assert_non_null(enc);
    assert_null(strstr(json_string_value(json_object_get(enc, "ciphertext")), "pulls"));
    int missing = 0;
    assert_null(e2e_megolm_decrypt(bot, ROOM, enc, &missing, err, sizeof err));
    assert_int_equal(missing, 1);                    /* retried when the key comes */

    /* alice -> bot: the room key over a new Olm session (a pre-key message) */
    json_t *td = e2e_olm_encrypt(alice, "@alice:localhost", "@coach:localhost", bc, be, otk, "m.room_key", rk);
    assert_non_null(td);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(json_object_get(td, "ciphertext"), bc), "type")), 0);
    json_t *plain = e2e_olm_decrypt(bot, "@coach:localhost", "@alice:localhost", td, err, sizeof err);
    assert_non_null(plain);
    assert_string_equal(json_string_value(json_object_get(plain, "type")), "m.room_key");
    assert_int_equal(e2e_room_key_add(bot, plain, ac), 0);
    json_decref(plain);
    assert_null(e2e_olm_decrypt(bot, "@coach:localhost", "@alice:localhost", td, err, sizeof err));   /* not twice */
    /* a second message on that session, handed over as if someone else sent it */
    json_t *td_b = e2e_olm_encrypt(alice, "@alice:localhost", "@coach:localhost", bc, be, NULL, "m.dummy", msg);
    assert_non_null(td_b);
    assert_null(e2e_olm_decrypt(bot, "@coach:localhost", "@mallory:localhost", td_b, err, sizeof err));
    assert_non_null(strstr(err, "not addressed"));
    json_decref(td_b);
    /* the one-time key is used up: the same pre-key message cannot open a second session */
    json_t *dec = e2e_megolm_decrypt(bot, ROOM, enc, &missing, err, sizeof err);
    assert_non_null(dec);
    assert_string_equal(json_string_value(json_object_get(json_object_get(dec, "content"), "body")),
                        "he pulls away every time");
    json_decref(dec);
    assert_null(e2e_megolm_decrypt(bot, "!other:localhost", enc, &missing, err, sizeof err));   /* not this room */
    /* a changed byte of ciphertext: refused, nothing else happens */
    json_t *bad = json_deep_copy(enc);
    char *ct = strdup(json_string_value(json_object_get(bad, "ciphertext")));
    ct[20] = ct[20] == 'A' ? 'B' : 'A';
    json_object_set_new(bad, "ciphertext", json_string(ct));
    free(ct);
    assert_null(e2e_megolm_decrypt(bot, ROOM, bad, &missing, err, sizeof err));
    assert_int_equal(missing, 0);
    json_decref(bad);

    /* the bot saves and reopens: the session with alice and her room key hold */
    unsigned char key[32];
    memset(key, 42, sizeof key);
    char *saved = e2e_account_save(bot, key, sizeof key);
    assert_non_null(saved);
    assert_null(strstr(saved, "pulls"));
    e2e_account_free(bot);
    bot = e2e_account_restore(saved, key, sizeof key, err, sizeof err);
    free(saved);
    assert_non_null(bot);
    json_t *msg2 = json_pack("{s:s, s:s}", "msgtype", "m.text", "body", "and then I chase him");
    json_t *enc2 = e2e_megolm_encrypt(alice, ROOM, "ALICE", "m.room.message", msg2);
    dec = e2e_megolm_decrypt(bot, ROOM, enc2, &missing, err, sizeof err);
    assert_non_null(dec);
    assert_string_equal(json_string_value(json_object_get(json_object_get(dec, "content"), "body")),
                        "and then I chase him");
    json_decref(dec);

    /* bot -> alice: its own room key over the Olm session it has with her */
    json_t *brk = e2e_room_key(bot, ROOM, 0, 0, -1, &fresh);
    assert_int_equal(fresh, 1);
    json_t *td2 = e2e_olm_encrypt(bot, "@coach:localhost", "@alice:localhost", ac, ae, NULL, "m.room_key", brk);
    assert_non_null(td2);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(json_object_get(td2, "ciphertext"), ac), "type")), 1);
    json_t *ap = e2e_olm_decrypt(alice, "@alice:localhost", "@coach:localhost", td2, err, sizeof err);
    assert_non_null(ap);
    assert_int_equal(e2e_room_key_add(alice, ap, bc), 0);
    json_decref(ap);
    json_t *reply = json_pack("{s:s, s:s}", "msgtype", "m.notice", "body", "It sounds like a dance.");
    json_t *renc = e2e_megolm_encrypt(bot, ROOM, "BOT", "m.room.message", reply);
    dec = e2e_megolm_decrypt(alice, ROOM, renc, &missing, err, sizeof err);
    assert_non_null(dec);
    assert_string_equal(json_string_value(json_object_get(json_object_get(dec, "content"), "msgtype")), "m.notice");
    json_decref(dec);
    /* after 100 messages the session rotates: a new key to share */
    for (int i = 0; i < 99; i++) json_decref(e2e_megolm_encrypt(bot, ROOM, "BOT", "m.room.message", reply));
    assert_null(e2e_megolm_encrypt(bot, ROOM, "BOT", "m.room.message", reply));
    json_t *brk2 = e2e_room_key(bot, ROOM, 0, 0, -1, &fresh);
    assert_int_equal(fresh, 1);
    assert_string_not_equal(json_string_value(json_object_get(brk, "session_id")),
                            json_string_value(json_object_get(brk2, "session_id")));
    /* a member left: rotated at once */
    e2e_megolm_rotate(bot, ROOM);
    json_t *brk3 = e2e_room_key(bot, ROOM, 0, 0, -1, &fresh);
    assert_int_equal(fresh, 1);
    json_decref(brk3);
    json_decref(brk2);
    json_decref(renc);
    json_decref(reply);
    json_decref(td2);
    json_decref(brk);
    json_decref(enc2);
    json_decref(msg2);
    json_decref(td);
    json_decref(enc);
    json_decref(msg);
    json_decref(rk);
    json_decref(otks);
    e2e_account_free(alice);
    e2e_account_free(bot);
}

/* The bot's outbound session: rotated by the room's rotation_period_msgs
 * and _ms, and when a device it was given to is gone; who has it is
 * saved with it. */
static int still_alice_only(void *ctx, const char *user, const char *curve)
{
    (void)curve;
    return strcmp(user, (const char *)ctx) == 0;
}

static void test_rotation_and_shared(void **state)
{
    (void)state;
    const char *ROOM = "!dm:localhost";
    e2e_account *bot = e2e_account_new();
    assert_non_null(bot);
    unsigned char key[32] = { 7 };
    int fresh = 0;
    json_t *k1 = e2e_room_key(bot, ROOM, 2, 1000, 5000, &fresh);
    assert_int_equal(fresh, 1);
    assert_int_equal(e2e_megolm_shared(bot, ROOM, "CURVE_A"), 0);
    assert_int_equal(e2e_megolm_share(bot, ROOM, "@alice:x", "CURVE_A"), 0);
    assert_int_equal(e2e_megolm_share(bot, ROOM, "@bob:x", "CURVE_B"), 0);
    assert_int_equal(e2e_megolm_shared(bot, ROOM, "CURVE_A"), 1);
    /* saved and reopened: the same session, still given to both */
    char *saved = e2e_account_save(bot, key, sizeof key);
    char err[200];
    e2e_account *back = e2e_account_restore(saved, key, sizeof key, err, sizeof err);
    assert_non_null(back);
    json_t *k2 = e2e_room_key(back, ROOM, 2, 1000, 5500, &fresh);
    assert_int_equal(fresh, 0);
    assert_string_equal(json_string_value(json_object_get(k1, "session_id")),
                        json_string_value(json_object_get(k2, "session_id")));
    assert_int_equal(e2e_megolm_shared(back, ROOM, "CURVE_B"), 1);
    /* older than rotation_period_ms: a new one, given to no one yet */
    json_t *k3 = e2e_room_key(back, ROOM, 2, 1000, 6000, &fresh);
    assert_int_equal(fresh, 1);
    assert_int_equal(e2e_megolm_shared(back, ROOM, "CURVE_A"), 0);
    /* rotation_period_msgs = 2: the third message needs a new session */
    json_t *c = json_pack("{s:s}", "body", "x");
    json_decref(e2e_megolm_encrypt(back, ROOM, "BOT", "m.room.message", c));
    json_decref(e2e_megolm_encrypt(back, ROOM, "BOT", "m.room.message", c));
    assert_null(e2e_megolm_encrypt(back, ROOM, "BOT", "m.room.message", c));
    json_t *k4 = e2e_room_key(back, ROOM, 2, 1000, 6001, &fresh);
    assert_int_equal(fresh, 1);
    /* bob (who had it) left: dropped at once; alice alone keeps it */
    e2e_megolm_share(back, ROOM, "@alice:x", "CURVE_A");
    assert_int_equal(e2e_megolm_check_members(back, ROOM, still_alice_only, "@alice:x"), 0);
    e2e_megolm_share(back, ROOM, "@bob:x", "CURVE_B");
    assert_int_equal(e2e_megolm_check_members(back, ROOM, still_alice_only, "@alice:x"), 1);
    json_t *k5 = e2e_room_key(back, ROOM, 2, 1000, 6002, &fresh);
    assert_int_equal(fresh, 1);
    assert_int_equal(e2e_olm_has_session(back, "CURVE_A"), 0);
    json_decref(c);
    json_decref(k1);
    json_decref(k2);
    json_decref(k3);
    json_decref(k4);
    json_decref(k5);
    free(saved);
    e2e_account_free(back);
    e2e_account_free(bot);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canonical),
        cmocka_unit_test(test_device_keys_signed),
        cmocka_unit_test(test_one_time_keys),
        cmocka_unit_test(test_saved_under_key),
        cmocka_unit_test(test_key_file),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_rotation_and_shared),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
