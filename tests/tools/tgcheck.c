/* tgcheck.c -- checks of the Telegram bot's pure parts (message splitting
 * by UTF-16 units, the offset cursor) and of bots/net.c (redaction, backoff,
 * token buckets), run by tests/telegram_units.sh.  Prints one line per
 * failed check and exits 1 if any failed. */
#include "net.h"
#include "telegram.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define CHECK(cond, ...) do { if (!(cond)) { failures++; printf("FAIL %s:%d: ", __FILE__, __LINE__); \
    printf(__VA_ARGS__); printf("\n"); } } while (0)

/* Is p[0..n) valid UTF-8 (no cut sequence)? */
static int valid_utf8(const unsigned char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = p[i];
        size_t k = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
        if (!k || i + k > n) return 0;
        for (size_t j = 1; j < k; j++) if ((p[i + j] & 0xc0) != 0x80) return 0;
        i += k;
    }
    return 1;
}

/* Split text and check every invariant: parts fit, are valid UTF-8, are
 * non-empty, and together hold every non-blank byte in order. */
static size_t split_check(const char *name, const char *text, size_t max_units)
{
    size_t len = strlen(text), starts[256], lens[256];
    size_t n = pp_tg_split(text, len, max_units, starts, lens, 256);
    size_t prev_end = 0;
    for (size_t i = 0; i < n; i++) {
        CHECK(lens[i] > 0, "%s: part %zu empty", name, i);
        CHECK(pp_tg_utf16_len(text + starts[i], lens[i]) <= max_units, "%s: part %zu has %zu units", name, i,
              pp_tg_utf16_len(text + starts[i], lens[i]));
        CHECK(valid_utf8((const unsigned char *)text + starts[i], lens[i]), "%s: part %zu cuts a UTF-8 sequence", name, i);
        CHECK(starts[i] >= prev_end, "%s: parts overlap", name);
        for (size_t k = prev_end; k < starts[i]; k++)
            CHECK(text[k] == ' ' || text[k] == '\n', "%s: byte %zu lost between parts", name, k);
        prev_end = starts[i] + lens[i];
    }
    for (size_t k = prev_end; k < len; k++)
        CHECK(text[k] == ' ' || text[k] == '\n', "%s: trailing byte %zu lost", name, k);
    return n;
}

static char *repeat(const char *unit, size_t times)
{
    size_t ul = strlen(unit);
    char *s = malloc(ul * times + 1);
    if (!s) exit(2);
    for (size_t i = 0; i < times; i++) memcpy(s + i * ul, unit, ul);
    s[ul * times] = '\0';
    return s;
}

static void test_split(void)
{
    CHECK(pp_tg_utf16_len("abc", 3) == 3, "ascii units");
    CHECK(pp_tg_utf16_len("\xc3\xa9", 2) == 1, "2-byte units");
    CHECK(pp_tg_utf16_len("\xe2\x80\x99", 3) == 1, "3-byte units");
    CHECK(pp_tg_utf16_len("\xf0\x9f\x99\x82", 4) == 2, "emoji counts 2 units");
    CHECK(pp_tg_utf16_len("\xf0\x9f", 2) == 2, "a cut sequence counts per byte");

    CHECK(split_check("short", "hello there", 4096) == 1, "short text is one part");
    CHECK(split_check("empty", "", 4096) == 0, "empty text has no parts");
    CHECK(split_check("blank", "   \n ", 4096) == 0, "blank text has no parts");

    /* 5000 ASCII words: two parts, cut at a space */
    char *s = repeat("word ", 1000);
    size_t starts[8], lens[8];
    size_t n = pp_tg_split(s, strlen(s), 4096, starts, lens, 8);
    CHECK(n == 2, "5000 chars: %zu parts", n);
    CHECK(n == 2 && s[starts[1]] == 'w' && s[starts[0] + lens[0] - 1] == 'd', "cut between words");
    split_check("words", s, 4096);
    free(s);

    /* emoji only (4 bytes, 2 units each): 3000 of them = 6000 units */
    s = repeat("\xf0\x9f\x99\x82", 3000);
    n = split_check("emoji", s, 4096);
    CHECK(n == 2, "6000 units of emoji: %zu parts", n);
    free(s);

    /* a run with no white space at all is cut on a character boundary */
    s = repeat("\xc3\xa9\xe2\x80\x99x\xf0\x9f\x92\xac", 1500);   /* 1+1+1+2 units */
    n = split_check("mixed", s, 4096);
    CHECK(n == 2, "7500 units mixed: %zu parts", n);
    free(s);

    /* odd limits, so a 2-unit character straddles the limit */
    s = repeat("a\xf0\x9f\x99\x82", 100);
    for (size_t m = 2; m < 12; m++) split_check("straddle", s, m);
    free(s);

    /* too many parts: refused, not truncated */
    s = repeat("x", 1000);
    CHECK(pp_tg_split(s, strlen(s), 10, starts, lens, 8) == 0, "too many parts must fail");
    free(s);
}

static void test_cursor(void)
{
    int64_t next, done[8];
    size_t nd;
    CHECK(pp_tg_cursor_parse("1013", &next, done, 8, &nd) == 0 && next == 1013 && nd == 0, "plain offset");
    CHECK(pp_tg_cursor_parse("10 +12 +15", &next, done, 8, &nd) == 0 && next == 10 && nd == 2 &&
          done[0] == 12 && done[1] == 15, "offset with handled ids");
    CHECK(pp_tg_cursor_parse("10 +9", &next, done, 8, &nd) != 0, "a handled id below the offset");
    CHECK(pp_tg_cursor_parse("", &next, done, 8, &nd) != 0, "empty cursor");
    CHECK(pp_tg_cursor_parse("x", &next, done, 8, &nd) != 0, "junk cursor");
    CHECK(pp_tg_cursor_parse("-5", &next, done, 8, &nd) != 0, "negative cursor");
    CHECK(pp_tg_cursor_parse("10 12", &next, done, 8, &nd) != 0, "missing +");
}

static void test_net(void)
{
    char s[128] = "refused /bot123:SECRET/getMe and 123:SECRET again";
    CHECK(pp_net_redact(s, "123:SECRET") == 2, "two redactions");
    CHECK(strstr(s, "SECRET") == NULL && strstr(s, "/bot***/getMe") != NULL, "redacted: %s", s);
    CHECK(pp_net_redact(s, "") == 0 && pp_net_redact(s, NULL) == 0, "no secret, no change");

    uint64_t rng;
    pp_net_rng_seed(&rng, 7);
    long maxseen = 0;
    for (unsigned a = 0; a < 20; a++)
        for (int k = 0; k < 50; k++) {
            long ms = pp_net_backoff_ms(a, 500, 8000, &rng);
            long ceil = a < 5 ? 500L << a : 8000;
            if (ceil > 8000) ceil = 8000;
            CHECK(ms >= 0 && ms <= ceil, "backoff attempt %u: %ld > %ld", a, ms, ceil);
            if (ms > maxseen) maxseen = ms;
        }
    CHECK(maxseen > 4000, "jitter reaches the cap region (max %ld)", maxseen);

    pp_net_bucket bk;
    pp_net_bucket_init(&bk, 1, 1.0, 1, 1000);       /* 1 per second */
    CHECK(pp_net_bucket_wait_ms(&bk, 1000) == 0, "starts full");
    pp_net_bucket_take(&bk, 1000);
    long w = pp_net_bucket_wait_ms(&bk, 1000);
    CHECK(w >= 999 && w <= 1001, "then waits a second (%ld)", w);
    CHECK(pp_net_bucket_wait_ms(&bk, 2001) == 0, "a token after a second");
    pp_net_bucket_take(&bk, 2001);
    pp_net_bucket_block(&bk, 2001, 5000);           /* a 429 with retry_after 5 */
    CHECK(pp_net_bucket_wait_ms(&bk, 3000) == 4001, "blocked by retry_after");
    CHECK(pp_net_bucket_wait_ms(&bk, 7001) == 0, "free when the block ends");
    pp_net_bucket_take(&bk, 7001);
    CHECK(pp_net_bucket_wait_ms(&bk, 7002) > 0, "one token after a block, not a burst");

    pp_net_bucket g;
    pp_net_bucket_init(&g, 20, 60.0, 1, 0);          /* 20 per minute */
    int sent = 0;
    for (uint64_t t = 0; t < 60000; t += 10)
        if (pp_net_bucket_wait_ms(&g, t) == 0) { pp_net_bucket_take(&g, t); sent++; }
    CHECK(sent <= 20 && sent >= 19, "20/min bucket sent %d in a minute", sent);
}

int main(void)
{
    test_split();
    test_cursor();
    test_net();
    if (failures) { printf("%d checks failed\n", failures); return 1; }
    printf("tgcheck: all checks passed\n");
    return 0;
}
