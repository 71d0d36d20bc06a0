/* tgcheck.c -- checks of the Telegram bot's pure parts (message splitting
 * by UTF-16 units, the offset cursor, reading getUpdates, the entries of
 * the command menu) and of bots/net.c (redaction, backoff, token buckets,
 * base URLs), run by tests/telegram_units.sh.
 * Prints one line per failed check and exits 1 if any failed. */
#include "net.h"
#include "pushpull.h"
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
    size_t n = tg_split(text, len, max_units, starts, lens, 256);
    size_t prev_end = 0;
    for (size_t i = 0; i < n; i++) {
        CHECK(lens[i] > 0, "%s: part %zu empty", name, i);
        CHECK(tg_utf16_len(text + starts[i], lens[i]) <= max_units, "%s: part %zu has %zu units", name, i,
              tg_utf16_len(text + starts[i], lens[i]));
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
    CHECK(tg_utf16_len("abc", 3) == 3, "ascii units");
    CHECK(tg_utf16_len("\xc3\xa9", 2) == 1, "2-byte units");
    CHECK(tg_utf16_len("\xe2\x80\x99", 3) == 1, "3-byte units");
    CHECK(tg_utf16_len("\xf0\x9f\x99\x82", 4) == 2, "emoji counts 2 units");
    CHECK(tg_utf16_len("\xf0\x9f", 2) == 2, "a cut sequence counts per byte");

    CHECK(split_check("short", "hello there", 4096) == 1, "short text is one part");
    CHECK(split_check("empty", "", 4096) == 0, "empty text has no parts");
    CHECK(split_check("blank", "   \n ", 4096) == 0, "blank text has no parts");

    /* 5000 ASCII words: two parts, cut at a space */
    char *s = repeat("word ", 1000);
    size_t starts[8], lens[8];
    size_t n = tg_split(s, strlen(s), 4096, starts, lens, 8);
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
    CHECK(tg_split(s, strlen(s), 10, starts, lens, 8) == 0, "too many parts must fail");
    free(s);
}

static void test_cursor(void)
{
    int64_t next, done[8];
    size_t nd;
    CHECK(tg_cursor_parse("1013", &next, done, 8, &nd) == 0 && next == 1013 && nd == 0, "plain offset");
    CHECK(tg_cursor_parse("10 +12 +15", &next, done, 8, &nd) == 0 && next == 10 && nd == 2 &&
          done[0] == 12 && done[1] == 15, "offset with handled ids");
    CHECK(tg_cursor_parse("10 +9", &next, done, 8, &nd) != 0, "a handled id below the offset");
    CHECK(tg_cursor_parse("", &next, done, 8, &nd) != 0, "empty cursor");
    CHECK(tg_cursor_parse("x", &next, done, 8, &nd) != 0, "junk cursor");
    CHECK(tg_cursor_parse("-5", &next, done, 8, &nd) != 0, "negative cursor");
    CHECK(tg_cursor_parse("10 12", &next, done, 8, &nd) != 0, "missing +");
}

/* ---- reading getUpdates ---- */

static const tg_bot_id tg_me = { "PushpullBot", 777 };

/* JSON written with ' for ", so the cases stay readable. */
static char *tg_json(const char *fmt, const char *inner)
{
    size_t n = strlen(fmt) + strlen(inner) + 1;
    char *s = malloc(n);
    if (!s) exit(2);
    snprintf(s, n, fmt, inner);
    for (char *p = s; *p; p++) if (*p == '\'') *p = '"';
    return s;
}

/* One update (its fields after update_id 1), read with tg_me.  A failed
 * parse comes back with update_id -1. */
static tg_update tg_one(const tg_bot_id *me, const char *fields)
{
    char *body = tg_json("{'ok':true,'result':[{'update_id':1,%s}]}", fields);
    tg_update *ups, u = { .update_id = -1 };
    size_t n;
    if (tg_parse_updates(body, strlen(body), me, &ups, &n) == 0 && n == 1) {
        u = ups[0];
        ups[0].text = NULL;
    }
    tg_updates_free(ups, n);
    free(body);
    return u;
}

/* A message from a person in a chat: "'chat':{...},'text':..." */
#define TG_GROUP   "'message':{'message_id':9,'from':{'id':5,'is_bot':false},'chat':{'id':-300,'type':'group'},"
#define TG_PRIVATE "'message':{'message_id':9,'from':{'id':5,'is_bot':false},'chat':{'id':101,'type':'private'},"

static void tg_expect(const char *name, tg_update u, tg_kind kind, const char *text)
{
    CHECK(u.update_id == 1, "%s: not read", name);
    CHECK(u.kind == kind, "%s: kind %s, want %s", name, tg_kind_name(u.kind), tg_kind_name(kind));
    if (text)
        CHECK(u.text && strcmp(u.text, text) == 0, "%s: text [%s], want [%s]", name, u.text ? u.text : "(null)", text);
    else
        CHECK(u.text == NULL, "%s: text [%s] for a kind without text", name, u.text);
    free(u.text);
}

static void test_updates(void)
{
    /* groups: answered only when addressed, "@PushpullBot" taken out */
    tg_update u = tg_one(&tg_me, TG_GROUP "'text':'@PushpullBot he pulls away'}");
    CHECK(u.group && u.chat_id == -300 && u.message_id == 9, "group message: chat, id, group");
    tg_expect("group mention", u, PP_TG_TEXT, " he pulls away");
    tg_expect("mention in the middle", tg_one(&tg_me, TG_GROUP "'text':'hey @pushpullbot, help'}"),
              PP_TG_TEXT, "hey , help");
    tg_expect("two mentions", tg_one(&tg_me, TG_GROUP "'text':'@PushpullBot and @PushpullBot'}"),
              PP_TG_TEXT, " and ");
    tg_expect("a longer name is not a mention", tg_one(&tg_me, TG_GROUP "'text':'ask @PushpullBot_2 x'}"),
              PP_TG_NOT_ADDRESSED, NULL);
    tg_expect("group, not for us", tg_one(&tg_me, TG_GROUP "'text':'nobody is talking to the bot'}"),
              PP_TG_NOT_ADDRESSED, NULL);
    tg_expect("command for another bot", tg_one(&tg_me, TG_GROUP "'text':'/help@OtherBot'}"),
              PP_TG_NOT_ADDRESSED, NULL);
    tg_expect("command for another bot, mentioning us", tg_one(&tg_me, TG_GROUP "'text':'/help@OtherBot @PushpullBot'}"),
              PP_TG_NOT_ADDRESSED, NULL);
    tg_expect("command for us", tg_one(&tg_me, TG_GROUP "'text':'/reset@pushpullBOT'}"), PP_TG_TEXT, "/reset");
    tg_expect("bare command", tg_one(&tg_me, TG_GROUP "'text':'/help'}"), PP_TG_TEXT, "/help");
    tg_expect("reply to the bot", tg_one(&tg_me, TG_GROUP "'text':'yes, exactly',"
              "'reply_to_message':{'message_id':3,'from':{'id':777,'is_bot':true}}}"), PP_TG_TEXT, "yes, exactly");
    tg_expect("reply to someone else", tg_one(&tg_me, TG_GROUP "'text':'yes, exactly',"
              "'reply_to_message':{'message_id':3,'from':{'id':5,'is_bot':false}}}"), PP_TG_NOT_ADDRESSED, NULL);
    tg_expect("sticker replying to the bot", tg_one(&tg_me, TG_GROUP "'sticker':{'file_id':'x'},"
              "'reply_to_message':{'message_id':3,'from':{'id':777}}}"), PP_TG_NONTEXT, NULL);
    tg_expect("sticker in a group", tg_one(&tg_me, TG_GROUP "'sticker':{'file_id':'x'}}"), PP_TG_NOT_ADDRESSED, NULL);
    u = tg_one(&tg_me, "'message':{'message_id':2,'chat':{'id':-9200,'type':'supergroup'},"
               "'text':'/help@PushpullBot'}");
    CHECK(u.group, "a supergroup is a group");
    tg_expect("supergroup command", u, PP_TG_TEXT, "/help");
    const tg_bot_id anon = { "", 777 };     /* getMe without a username */
    tg_expect("no username: mention", tg_one(&anon, TG_GROUP "'text':'@PushpullBot hi'}"), PP_TG_NOT_ADDRESSED, NULL);
    tg_expect("no username: bare command", tg_one(&anon, TG_GROUP "'text':'/help'}"), PP_TG_TEXT, "/help");

    /* private chats: every message; "@name" only taken from a /command */
    u = tg_one(&tg_me, TG_PRIVATE "'text':'I text him @PushpullBot'}");
    CHECK(!u.group && u.chat_id == 101, "private chat");
    tg_expect("private text kept whole", u, PP_TG_TEXT, "I text him @PushpullBot");
    tg_expect("private command", tg_one(&tg_me, TG_PRIVATE "'text':'/start@PushpullBot'}"), PP_TG_TEXT, "/start");
    tg_expect("private command for another bot", tg_one(&tg_me, TG_PRIVATE "'text':'/start@OtherBot'}"),
              PP_TG_TEXT, "/start@OtherBot");
    tg_expect("private sticker", tg_one(&tg_me, TG_PRIVATE "'sticker':{'file_id':'x','emoji':'ok'}}"),
              PP_TG_NONTEXT, NULL);
    /* a caption is text (issue 21): a photo or video with words */
    tg_expect("photo caption", tg_one(&tg_me, TG_PRIVATE "'photo':[{'file_id':'p'}],'caption':'he left again'}"),
              PP_TG_TEXT, "he left again");
    tg_expect("video caption in a group", tg_one(&tg_me, TG_GROUP "'video':{'file_id':'v'},"
              "'caption':'@PushpullBot look at us'}"), PP_TG_TEXT, " look at us");
    tg_expect("photo, no caption", tg_one(&tg_me, TG_PRIVATE "'photo':[{'file_id':'p'}]}"), PP_TG_NONTEXT, NULL);
    tg_expect("text wins over caption", tg_one(&tg_me, TG_PRIVATE "'text':'t','caption':'c'}"), PP_TG_TEXT, "t");
    /* a group that became a supergroup: old -> new, from either message */
    u = tg_one(&tg_me, TG_GROUP "'migrate_to_chat_id':-1009300}");
    CHECK(u.kind == PP_TG_MIGRATE && u.chat_id == -300 && u.migrate_to == -1009300 && !u.text,
          "migrate_to_chat_id: kind %s chat %lld to %lld", tg_kind_name(u.kind),
          (long long)u.chat_id, (long long)u.migrate_to);
    u = tg_one(&tg_me, "'message':{'message_id':1,'chat':{'id':-1009300,'type':'supergroup'},"
               "'migrate_from_chat_id':-300}");
    CHECK(u.kind == PP_TG_MIGRATE && u.chat_id == -300 && u.migrate_to == -1009300,
          "migrate_from_chat_id: kind %s chat %lld to %lld", tg_kind_name(u.kind),
          (long long)u.chat_id, (long long)u.migrate_to);
    tg_expect("migrate to itself", tg_one(&tg_me, TG_GROUP "'migrate_to_chat_id':-300}"), PP_TG_MALFORMED, NULL);
    tg_expect("migrate in a private chat", tg_one(&tg_me, TG_PRIVATE "'migrate_to_chat_id':-5}"),
              PP_TG_NONTEXT, NULL);

    /* ignored, each for its reason */
    tg_expect("edited", tg_one(&tg_me, "'edited_message':{'message_id':7,'chat':{'id':202,'type':'private'},"
              "'text':'edited text'}"), PP_TG_EDITED, NULL);
    tg_expect("channel post", tg_one(&tg_me, "'channel_post':{'message_id':1,'chat':{'id':-100,'type':'channel'},"
              "'text':'news'}"), PP_TG_OTHER, NULL);
    u = tg_one(&tg_me, "'message':{'message_id':1,'chat':{'id':-100,'type':'channel'},'text':'news'}");
    CHECK(u.chat_id == -100, "a channel keeps its chat id");
    tg_expect("message in a channel", u, PP_TG_CHANNEL, NULL);
    tg_expect("from a bot", tg_one(&tg_me, "'message':{'message_id':1,'from':{'id':9,'is_bot':true},"
              "'chat':{'id':101,'type':'private'},'text':'beep'}"), PP_TG_BOT, NULL);
    tg_expect("chat id not a number", tg_one(&tg_me, "'message':{'message_id':1,'chat':{'id':'101','type':'private'},"
              "'text':'hi'}"), PP_TG_MALFORMED, NULL);
    tg_expect("no chat type", tg_one(&tg_me, "'message':{'message_id':1,'chat':{'id':101},'text':'hi'}"),
              PP_TG_MALFORMED, NULL);
    tg_expect("no message_id", tg_one(&tg_me, "'message':{'chat':{'id':101,'type':'private'},'text':'hi'}"),
              PP_TG_MALFORMED, NULL);
    tg_expect("message not an object", tg_one(&tg_me, "'message':'hi'"), PP_TG_OTHER, NULL);
    CHECK(strcmp(tg_kind_name(PP_TG_NOT_ADDRESSED), "group_not_addressed") == 0 &&
          strcmp(tg_kind_name(PP_TG_EDITED), "edited") == 0, "kind names as the log has them");

    /* a long text is capped (the engine cuts further) */
    char *big = repeat("x", 5 * PP_MAX_INPUT);
    char *fields = tg_json(TG_PRIVATE "'text':'%s'}", big);
    u = tg_one(&tg_me, fields);
    CHECK(u.text && strlen(u.text) == 4 * PP_MAX_INPUT, "long text capped at %d bytes", 4 * PP_MAX_INPUT);
    free(u.text);
    free(fields);
    free(big);

    /* the whole answer: order, update ids, elements without an id left out */
    char *body = tg_json("%s", "{'ok':true,'result':[{'update_id':1013," TG_PRIVATE "'text':'a'}},"
                         "{'message':{}},{'update_id':'1014'},{'update_id':1012,'edited_message':{}},"
                         "{'update_id':1015," TG_GROUP "'text':'b'}}]}");
    tg_update *ups;
    size_t n;
    CHECK(tg_parse_updates(body, strlen(body), &tg_me, &ups, &n) == 0 && n == 3 &&
          ups[0].update_id == 1013 && ups[1].update_id == 1012 && ups[2].update_id == 1015 &&
          ups[0].kind == PP_TG_TEXT && ups[1].kind == PP_TG_EDITED && ups[2].kind == PP_TG_NOT_ADDRESSED,
          "a getUpdates answer: 3 updates in order");
    tg_updates_free(ups, n);
    free(body);
    const char *bad[] = { "", "[]", "{'ok':false,'result':[]}", "{'ok':true}", "{'ok':true,'result':{}}",
                          "{'ok':true,'result':[{'update_id':1,'message':{'text':'a\\u0000b'}}]}", "{'ok':true,'res" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        body = tg_json("%s", bad[i]);
        ups = (tg_update *)1;
        CHECK(tg_parse_updates(body, strlen(body), &tg_me, &ups, &n) == -1 && ups == NULL && n == 0,
              "not a getUpdates answer: %s", body);
        free(body);
    }
    body = tg_json("%s", "{'ok':true,'result':[]}");
    CHECK(tg_parse_updates(body, strlen(body), &tg_me, &ups, &n) == 0 && n == 0, "no updates");
    tg_updates_free(ups, n);
    free(body);
}

static void test_net(void)
{
    char s[128] = "refused /bot123:SECRET/getMe and 123:SECRET again";
    CHECK(net_redact(s, "123:SECRET") == 2, "two redactions");
    CHECK(strstr(s, "SECRET") == NULL && strstr(s, "/bot***/getMe") != NULL, "redacted: %s", s);
    CHECK(net_redact(s, "") == 0 && net_redact(s, NULL) == 0, "no secret, no change");

    uint64_t rng;
    net_rng_seed(&rng, 7);
    long maxseen = 0;
    for (unsigned a = 0; a < 20; a++)
        for (int k = 0; k < 50; k++) {
            long ms = net_backoff_ms(a, 500, 8000, &rng);
            long ceil = a < 5 ? 500L << a : 8000;
            if (ceil > 8000) ceil = 8000;
            CHECK(ms >= 0 && ms <= ceil, "backoff attempt %u: %ld > %ld", a, ms, ceil);
            if (ms > maxseen) maxseen = ms;
        }
    CHECK(maxseen > 4000, "jitter reaches the cap region (max %ld)", maxseen);

    net_bucket bk;
    net_bucket_init(&bk, 1, 1.0, 1, 1000);       /* 1 per second */
    CHECK(net_bucket_wait_ms(&bk, 1000) == 0, "starts full");
    net_bucket_take(&bk, 1000);
    long w = net_bucket_wait_ms(&bk, 1000);
    CHECK(w >= 999 && w <= 1001, "then waits a second (%ld)", w);
    CHECK(net_bucket_wait_ms(&bk, 2001) == 0, "a token after a second");
    net_bucket_take(&bk, 2001);
    net_bucket_block(&bk, 2001, 5000);           /* a 429 with retry_after 5 */
    CHECK(net_bucket_wait_ms(&bk, 3000) == 4001, "blocked by retry_after");
    CHECK(net_bucket_wait_ms(&bk, 7001) == 0, "free when the block ends");
    net_bucket_take(&bk, 7001);
    CHECK(net_bucket_wait_ms(&bk, 7002) > 0, "one token after a block, not a burst");

    net_bucket g;
    net_bucket_init(&g, 20, 60.0, 1, 0);          /* 20 per minute */
    int sent = 0;
    for (uint64_t t = 0; t < 60000; t += 10)
        if (net_bucket_wait_ms(&g, t) == 0) { net_bucket_take(&g, t); sent++; }
    CHECK(sent <= 20 && sent >= 19, "20/min bucket sent %d in a minute", sent);
}

/* Base URLs: what --api-url and --homeserver take (net_base_url_check). */
static void test_base_url(void)
{
    static const char *const ok[] = {
        "https://api.telegram.org", "https://matrix.example.org/", "https://h:8448/base/path",
        "http://127.0.0.1:8081", "http://127.45.6.7", "http://localhost:9/x", "http://[::1]:80",
        "http://[0:0:0:0:0:0:0:1]/", "https://[2001:db8::5]:443", NULL };
    static const char *const insecure[] = {       /* http:// to another machine */
        "http://192.0.2.2:8081", "http://api.telegram.org", "http://localhost.example.org",
        "http://LOCALHOST", "http://127.1", "http://128.0.0.1", "http://[2001:db8::5]",
        "http://[::ffff:192.0.2.2]", "http://2130706433", NULL };
    static const char *const bad[] = {            /* malformed: never retried */
        "http://a b", "http://a:99999", "http://a:0", "http://a:", "http://a:8080x",
        "http://a:0000000080", "ftp://a", "https://", "http:///x", "http://user:pw@a",
        "http://a/b c", "http://a/b?x", "http://a#f", "http://[::1", "http://[x]/",
        "http://[]", "http://caf\xc3\xa9.example", "http://a/\x7f", "api.telegram.org", "", NULL };
    char err[256];
    for (size_t i = 0; ok[i]; i++)
        CHECK(net_base_url_check(ok[i], 0, err, sizeof err) == 0, "refused %s: %s", ok[i], err);
    for (size_t i = 0; insecure[i]; i++) {
        err[0] = '\0';
        CHECK(net_base_url_check(insecure[i], 0, err, sizeof err) != 0, "took %s", insecure[i]);
        CHECK(strstr(err, "--allow-insecure-http") != NULL, "%s: the message does not name the flag: %s",
              insecure[i], err);
        CHECK(net_base_url_check(insecure[i], 1, err, sizeof err) == 0,
              "refused %s with --allow-insecure-http: %s", insecure[i], err);
    }
    for (size_t i = 0; bad[i]; i++) {
        err[0] = '\0';
        CHECK(net_base_url_check(bad[i], 1, err, sizeof err) != 0 && err[0], "took %s", bad[i]);
        CHECK(strstr(err, "--allow-insecure-http") == NULL, "%s: malformed, yet the flag is offered: %s",
              bad[i], err);
    }
}

/* One menu entry: read (want_ok) with this command and description, or
 * refused with a reason containing want_why. */
static void menu_expect(const char *entry, int want_ok, const char *want_cmd, const char *want)
{
    char cmd[PP_TG_COMMAND_MAX + 1];
    const char *desc = NULL, *why = NULL;
    size_t dlen = 0;
    int rc = tg_menu_entry(entry, cmd, &desc, &dlen, &why);
    if (want_ok) {
        CHECK(rc == 0, "menu [%s]: refused (%s)", entry, why ? why : "?");
        CHECK(rc != 0 || strcmp(cmd, want_cmd) == 0, "menu [%s]: command [%s], want [%s]", entry, cmd, want_cmd);
        CHECK(rc != 0 || (dlen == strlen(want) && strncmp(desc, want, dlen) == 0),
              "menu [%s]: description [%.*s], want [%s]", entry, (int)dlen, desc, want);
    } else {
        CHECK(rc == -1 && why && strstr(why, want), "menu [%s]: rc %d why [%s], want [%s]", entry, rc,
              why ? why : "(none)", want);
    }
}

/* The command menu's entries (responses/bots.responses): Telegram's limits
 * are kept, every refusal says why. */
static void test_menu(void)
{
    menu_expect("start: Start, or see how this works", 1, "start", "Start, or see how this works");
    menu_expect("  /help :  What I can do  ", 1, "help", "What I can do");
    menu_expect("remind: At 20:00: a check-in", 1, "remind", "At 20:00: a check-in");   /* first ':' */
    menu_expect("help What I can do", 0, NULL, "command: description");
    menu_expect(": What I can do", 0, NULL, "no command");
    menu_expect("/ : What I can do", 0, NULL, "no command");
    menu_expect("Help: What I can do", 0, NULL, "lowercase");
    menu_expect("check-in: How close", 0, NULL, "lowercase");
    menu_expect("he lp: x", 0, NULL, "lowercase");
    menu_expect("frobnicate: Not ours", 0, NULL, "not a command the bot answers");
    menu_expect("abcdefghijklmnopqrstuvwxyzabcdefg: 33 letters", 0, NULL, "longer than 32");
    menu_expect("help:", 0, NULL, "no description");
    menu_expect("help:    ", 0, NULL, "no description");
    menu_expect("help: one\n\ntwo", 0, NULL, "one line");
    char *d = repeat("x", 256), e[600];
    snprintf(e, sizeof e, "help: %s", d);
    menu_expect(e, 1, "help", d);
    snprintf(e, sizeof e, "help: %sx", d);
    menu_expect(e, 0, NULL, "longer than 256");
    free(d);
    d = repeat("\xf0\x9f\x99\x82", 129);        /* 258 UTF-16 units in 129 characters */
    snprintf(e, sizeof e, "help: %s", d);
    menu_expect(e, 0, NULL, "longer than 256");
    free(d);
}

int main(void)
{
    test_split();
    test_cursor();
    test_updates();
    test_net();
    test_base_url();
    test_menu();
    if (failures) { printf("%d checks failed\n", failures); return 1; }
    printf("tgcheck: all checks passed\n");
    return 0;
}
