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
    saved[10] = saved[10] == 'A' ? 'B' : 'A';
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canonical),
        cmocka_unit_test(test_device_keys_signed),
        cmocka_unit_test(test_one_time_keys),
        cmocka_unit_test(test_saved_under_key),
        cmocka_unit_test(test_key_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
