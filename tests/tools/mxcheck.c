/* mxcheck.c -- checks of the Matrix bot's pure part: a /sync answer read by
 * mx_parse_sync (bots/matrix.h) into invites, leaves and the events of
 * joined rooms, with what each event is and whether it names the bot.  Run
 * by tests/matrix_units.sh; prints one line per failed check and exits 1
 * if any failed.  Bodies are written with ' for " so they stay readable. */
#include "matrix.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define CHECK(cond, ...) do { if (!(cond)) { failures++; printf("FAIL %s:%d: ", __FILE__, __LINE__); \
    printf(__VA_ARGS__); printf("\n"); } } while (0)

static const char *const allow[] = { "@*:example.org" };
static const mx_me me = { "@coach:example.org", "coach", "Coach", allow, 1 };

static char *json(const char *s)
{
    char *j = strdup(s);
    if (!j) exit(2);
    for (char *p = j; *p; p++) if (*p == '\'') *p = '"';
    return j;
}

static int parse(const mx_me *who, const char *body, mx_sync *s)
{
    char *j = json(body);
    int rc = mx_parse_sync(j, strlen(j), who, s);
    free(j);
    return rc;
}

/* A sync answer with one joined room "!r:example.org" holding these
 * timeline events. */
static int room(const char *summary, const char *events, mx_sync *s)
{
    char body[8192];
    snprintf(body, sizeof body, "{'next_batch':'s9','rooms':{'join':{'!r:example.org':{%s"
             "'state':{'events':[]},'timeline':{'events':[%s]}}}}}", summary, events);
    int rc = parse(&me, body, s);
    CHECK(rc == 0 && s->n_rooms == 1, "room: not read: %s", body);
    return rc == 0 && s->n_rooms == 1;
}

#define MSG(id, sender, content) "{'type':'m.room.message','event_id':'$" id "','sender':'" sender "','content':" content "}"
#define ALICE "@alice:example.org"

/* The one message event of a room with two members; 0 when not read. */
static mx_event one(const char *content, mx_sync *s)
{
    mx_event e = { .kind = PP_MX_OTHER };
    char ev[4096];
    snprintf(ev, sizeof ev, MSG("e1", ALICE, "%s"), content);
    if (room("'summary':{'m.joined_member_count':3},", ev, s) && s->rooms[0].n_events == 1)
        e = s->rooms[0].events[0];
    return e;
}

static void test_batch(void)
{
    mx_sync s;
    const char *bad[] = { "", "[]", "{}", "{'next_batch':5}", "{'next_batch':'s1'", "'s1'" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s.next_batch = "x";
        CHECK(parse(&me, bad[i], &s) == -1 && s.next_batch == NULL, "not a sync answer: %s", bad[i]);
    }
    CHECK(parse(&me, "{'next_batch':'s42_17'}", &s) == 0 && strcmp(s.next_batch, "s42_17") == 0 &&
          s.n_invites == 0 && s.n_leaves == 0 && s.n_rooms == 0, "a batch with no rooms");
    mx_sync_free(&s);

    char body[PP_MX_MAX_BATCH + 64];
    memset(body, 'b', sizeof body);
    memcpy(body, "{'next_batch':'", 15);
    memcpy(body + 15 + PP_MX_MAX_BATCH, "'}", 3);
    CHECK(parse(&me, body, &s) == 0 && strlen(s.next_batch) == PP_MX_MAX_BATCH, "the longest next_batch");
    mx_sync_free(&s);
    memcpy(body + 15 + PP_MX_MAX_BATCH, "b'}", 4);
    CHECK(parse(&me, body, &s) == -1, "a next_batch longer than the bot keeps");
}

static void test_rooms(void)
{
    mx_sync s;
    CHECK(parse(&me, "{'next_batch':'s3','rooms':{"
                "'invite':{'!dm1:example.org':{'invite_state':{'events':[{'type':'m.room.create','sender':'@alice:example.org','state_key':'','content':{}},"
                "{'type':'m.room.member','sender':'@alice:example.org','state_key':'@coach:example.org','content':{'membership':'invite','is_direct':true}}]}},"
                "'!spam:evil.example':{'invite_state':{'events':[{'type':'m.room.member','sender':'@mallory:evil.example','state_key':'@coach:example.org','content':{'membership':'invite'}}]}},"
                "'!other:example.org':{'invite_state':{'events':[{'type':'m.room.member','sender':'@alice:example.org','state_key':'@bob:example.org','content':{'membership':'invite'}}]}},"
                "'!odd:example.org':{'invite_state':{'events':[{'type':'m.room.member','sender':'@al ice:example.org','state_key':'@coach:example.org','content':{'membership':'invite'}}]}},"
                "'!bad room':{'invite_state':{'events':[]}}},"
                "'leave':{'!gone:example.org':{},'':{}},"
                "'join':{'!a:example.org':{},'!b:example.org':{'timeline':{'events':5}}}}}", &s) == 0,
          "rooms: not read");
    CHECK(s.n_invites == 4, "invites: %zu, want 4 (a bad room id is left out)", s.n_invites);
    if (s.n_invites == 4) {
        CHECK(strcmp(s.invites[0].room_id, "!dm1:example.org") == 0 && s.invites[0].inviter &&
              strcmp(s.invites[0].inviter, ALICE) == 0 && s.invites[0].allowed, "invite from an allowed user");
        CHECK(s.invites[1].inviter && strcmp(s.invites[1].inviter, "@mallory:evil.example") == 0 &&
              !s.invites[1].allowed, "invite from a user outside the allow-list");
        CHECK(!s.invites[2].inviter && !s.invites[2].allowed, "an invite of someone else");
        CHECK(s.invites[3].inviter && !s.invites[3].allowed, "an inviter id with a space");
    }
    CHECK(s.n_leaves == 1 && strcmp(s.leaves[0], "!gone:example.org") == 0, "leaves");
    CHECK(s.n_refused == 2, "refused room ids: %zu, want 2 ('!bad room', '')", s.n_refused);
    CHECK(s.n_rooms == 2 && strcmp(s.rooms[0].id, "!a:example.org") == 0 &&
          strcmp(s.rooms[1].id, "!b:example.org") == 0 && s.rooms[0].n_events == 0 &&
          s.rooms[1].n_events == 0 && !s.rooms[0].has_count, "joined rooms in order, no timeline");
    mx_sync_free(&s);

    const mx_me anyone = { "@coach:example.org", "coach", "", NULL, 0 };
    CHECK(parse(&anyone, "{'next_batch':'s3','rooms':{'invite':{'!spam:evil.example':{'invite_state':{'events':["
                "{'type':'m.room.member','sender':'@mallory:evil.example','state_key':'@coach:example.org','content':{'membership':'invite'}}]}}}}}",
                &s) == 0 && s.n_invites == 1 && s.invites[0].allowed, "no allow-list: every invite");
    mx_sync_free(&s);

    /* state and timeline: counts, encryption, membership, the bot's join */
    if (room("'summary':{'m.joined_member_count':2},",
             MSG("pre", ALICE, "{'msgtype':'m.text','body':'hello? my wife pulls away'}") ","
             "{'type':'m.room.member','event_id':'$j','sender':'@coach:example.org','state_key':'@coach:example.org','content':{'membership':'join'}},"
             MSG("a1", ALICE, "{'msgtype':'m.text','body':'My wife pulls away'}") ","
             "{'type':'m.room.encryption','event_id':'$k','sender':'@alice:example.org','state_key':'','content':{'algorithm':'m.megolm.v1.aes-sha2'}}",
             &s)) {
        const mx_sync_room *r = &s.rooms[0];
        CHECK(r->has_count && r->count == 2 && r->member_change && r->encrypted, "room flags");
        CHECK(r->n_events == 4 && r->events[0].kind == PP_MX_BEFORE_JOIN && r->events[1].kind == PP_MX_BEFORE_JOIN &&
              r->events[2].kind == PP_MX_TEXT && r->events[3].kind == PP_MX_OTHER, "events before our join");
        CHECK(r->n_events == 4 && strcmp(r->events[2].event_id, "$a1") == 0 &&
              strcmp(r->events[2].sender, ALICE) == 0, "event id and sender");
    }
    mx_sync_free(&s);
    /* a message between the bot's invite and its join was sent to it */
    if (room("",
             MSG("pre", ALICE, "{'msgtype':'m.text','body':'before the invite'}") ","
             "{'type':'m.room.member','event_id':'$i','sender':'@alice:example.org','state_key':'@coach:example.org','content':{'membership':'invite','is_direct':true}},"
             MSG("first", ALICE, "{'msgtype':'m.text','body':'sent with the invite'}") ","
             "{'type':'m.room.member','event_id':'$j','sender':'@coach:example.org','state_key':'@coach:example.org','content':{'membership':'join'}}",
             &s)) {
        const mx_sync_room *r = &s.rooms[0];
        CHECK(r->n_events == 4 && r->events[0].kind == PP_MX_BEFORE_JOIN && r->events[1].kind == PP_MX_BEFORE_JOIN &&
              r->events[2].kind == PP_MX_TEXT && r->events[3].kind == PP_MX_OWN, "the invite is the line");
        CHECK(r->joined && r->direct && !r->limited && !r->prev_batch, "joined, direct");
    }
    mx_sync_free(&s);
    if (parse(&me, "{'next_batch':'s9','rooms':{'join':{'!r:example.org':{'timeline':{'limited':true,"
              "'prev_batch':'t5','events':[" MSG("a1", ALICE, "{'msgtype':'m.text','body':'hi'}") "]}}}}}", &s) == 0)
        CHECK(s.n_rooms == 1 && s.rooms[0].limited && s.rooms[0].prev_batch &&
              strcmp(s.rooms[0].prev_batch, "t5") == 0 && !s.rooms[0].joined, "a limited timeline and its prev_batch");
    mx_sync_free(&s);
    if (room("", MSG("a1", ALICE, "{'msgtype':'m.text','body':'hi'}"), &s))
        CHECK(!s.rooms[0].has_count && !s.rooms[0].member_change && !s.rooms[0].encrypted, "a quiet room");
    mx_sync_free(&s);
}

/* Ids longer than the bot keeps are refused whole, never cut: two rooms
 * whose ids share their first 300 bytes stay apart (both left out), and a
 * message from a sender with a 300-byte id is MALFORMED. */
static void test_long_ids(void)
{
    char longid[320], body[2048];
    memset(longid, 'r', sizeof longid);
    longid[0] = '!';
    memcpy(longid + 300, ":example.org", 13);
    snprintf(body, sizeof body, "{'next_batch':'s4','rooms':{'join':{'%s':{},'%.300sX:example.org':{},"
             "'!ok:example.org':{}},'invite':{'%s':{}},'leave':{'%s':{}}}}", longid, longid, longid, longid);
    mx_sync s;
    CHECK(parse(&me, body, &s) == 0, "long ids: not read");
    CHECK(s.n_rooms == 1 && strcmp(s.rooms[0].id, "!ok:example.org") == 0 && s.n_invites == 0 &&
          s.n_leaves == 0 && s.n_refused == 4, "long room ids: %zu rooms, %zu refused, want 1 and 4",
          s.n_rooms, s.n_refused);
    mx_sync_free(&s);
    memset(longid, 'x', sizeof longid);
    memcpy(longid, "!", 1);
    longid[PP_MX_MAX_ID - 1] = '\0';                  /* 254 bytes: the longest taken */
    snprintf(body, sizeof body, "{'next_batch':'s4','rooms':{'join':{'%s':{}}}}", longid);
    CHECK(parse(&me, body, &s) == 0 && s.n_rooms == 1 && s.n_refused == 0 &&
          strlen(s.rooms[0].id) == PP_MX_MAX_ID - 1, "the longest room id taken");
    mx_sync_free(&s);

    char sender[320], ev[1024];
    memset(sender, 'm', sizeof sender);
    sender[0] = '@';
    memcpy(sender + 300, ":example.org", 13);
    snprintf(ev, sizeof ev, "{'type':'m.room.message','event_id':'$l1','sender':'%s',"
             "'content':{'msgtype':'m.text','body':'my wife pulls away'}}", sender);
    if (room("'summary':{'m.joined_member_count':2},", ev, &s))
        CHECK(s.rooms[0].n_events == 1 && s.rooms[0].events[0].kind == PP_MX_MALFORMED,
              "a 300-byte sender id: kind %d, want MALFORMED", s.rooms[0].events[0].kind);
    mx_sync_free(&s);
}

static void test_events(void)
{
    mx_sync s;
    if (room("",
             MSG("own", "@coach:example.org", "{'msgtype':'m.notice','body':'my reply'}") ","
             MSG("n1", "@otherbot:example.org", "{'msgtype':'m.notice','body':'[reminder] my wife pulls away'}") ","
             "{'type':'m.room.encrypted','event_id':'$e1','sender':'@carol:example.org','content':{'algorithm':'m.megolm.v1.aes-sha2','ciphertext':'AwgAEnAC'}},"
             MSG("ed", ALICE, "{'msgtype':'m.text','body':'* fixed','m.relates_to':{'rel_type':'m.replace','event_id':'$a1'}}") ","
             MSG("img", ALICE, "{'msgtype':'m.image','body':'cat.jpg','url':'mxc://x/y'}") ","
             MSG("nob", ALICE, "{'msgtype':'m.text'}") ","
             MSG("nomt", ALICE, "{'body':'hi'}") ","
             "{'type':'m.room.message','event_id':'$x y','sender':'@alice:example.org','content':{'msgtype':'m.text','body':'hi'}},"
             "{'type':'m.room.message','event_id':'$ns','content':{'msgtype':'m.text','body':'hi'}},"
             MSG("em", ALICE, "{'msgtype':'m.emote','body':'sighs'}"), &s)) {
        static const mx_kind want[] = { PP_MX_OWN, PP_MX_NOTICE, PP_MX_ENCRYPTED, PP_MX_EDIT, PP_MX_NONTEXT,
                                           PP_MX_NONTEXT, PP_MX_MALFORMED, PP_MX_MALFORMED, PP_MX_MALFORMED, PP_MX_TEXT };
        const mx_sync_room *r = &s.rooms[0];
        CHECK(r->n_events == 10, "events: %zu", r->n_events);
        for (size_t i = 0; i < r->n_events && i < 10; i++)
            CHECK(r->events[i].kind == want[i], "event %zu: kind %d, want %d", i, r->events[i].kind, want[i]);
        CHECK(r->n_events == 10 && r->events[4].body_len == 7 && strcmp(r->events[4].body, "cat.jpg") == 0,
              "a non-text message keeps its body (for --log-text)");
        CHECK(r->n_events == 10 && r->events[5].body_len == 0 && strcmp(r->events[5].body, "") == 0, "no body");
        CHECK(r->n_events == 10 && !r->encrypted, "an encrypted message is an event, not room state");
    }
    mx_sync_free(&s);

    /* a sticker is an image (issue 21); a thread's message knows its root */
    if (room("", "{'type':'m.sticker','event_id':'$st','sender':'@alice:example.org','content':"
             "{'body':'Coach, a crying cat','url':'mxc://x/y','info':{}}}", &s))
        CHECK(s.rooms[0].n_events == 1 && s.rooms[0].events[0].kind == PP_MX_NONTEXT &&
              !s.rooms[0].events[0].mentioned && s.rooms[0].events[0].body_len == 0,
              "an m.sticker is non-text, its description never read as a mention");
    mx_sync_free(&s);
    mx_event te = one("{'msgtype':'m.text','body':'he did it again','m.relates_to':{'rel_type':'m.thread',"
                         "'event_id':'$root','is_falling_back':true,'m.in_reply_to':{'event_id':'$root'}}}", &s);
    CHECK(te.kind == PP_MX_TEXT && te.thread && strcmp(te.thread, "$root") == 0 && te.body_len == 15,
          "a message in a thread: its root, the body whole (no fallback quote)");
    mx_sync_free(&s);
    te = one("{'msgtype':'m.text','body':'x','m.relates_to':{'rel_type':'m.thread','event_id':'bad id'}}", &s);
    CHECK(te.kind == PP_MX_TEXT && !te.thread, "a thread root that is not a valid id: not a thread");
    mx_sync_free(&s);
    te = one("{'msgtype':'m.text','body':'x'}", &s);
    CHECK(!te.thread, "no relation: no thread");
    mx_sync_free(&s);

    /* mentions: a leading one is taken off, anywhere counts, m.mentions counts */
    mx_event e = one("{'msgtype':'m.text','body':'Coach: my partner pulls away'}", &s);
    CHECK(e.kind == PP_MX_TEXT && e.mentioned && e.strip == 7 &&
          strcmp(e.body + e.strip, "my partner pulls away") == 0, "display name, colon");
    mx_sync_free(&s);
    e = one("{'msgtype':'m.text','body':'@coach:example.org, !reframe you never listen'}", &s);
    CHECK(e.mentioned && e.strip == 20 && strcmp(e.body + e.strip, "!reframe you never listen") == 0,
          "user id, comma: strip %zu", e.strip);
    mx_sync_free(&s);
    e = one("{'msgtype':'m.text','body':'COACH   help'}", &s);
    CHECK(e.mentioned && e.strip == 8, "localpart, any case, spaces: strip %zu", e.strip);
    mx_sync_free(&s);
    e = one("{'msgtype':'m.text','body':'I think @coach:example.org could help'}", &s);
    CHECK(e.mentioned && e.strip == 0, "a mention inside the text: mentioned, nothing taken off");
    mx_sync_free(&s);
    e = one("{'msgtype':'m.text','body':'Coaching is: not this'}", &s);
    CHECK(e.strip == 0 && !e.mentioned, "a longer word is not a mention");
    mx_sync_free(&s);
    e = one("{'msgtype':'m.text','body':'she was coaching the team, then coaches2 and my_coach'}", &s);
    CHECK(!e.mentioned, "the name inside other words is not a mention");
    mx_sync_free(&s);
    e = one("{'msgtype':'m.text','body':'is there a coach\u00e9 here'}", &s);
    CHECK(!e.mentioned, "a name followed by a non-ASCII letter is another word");
    mx_sync_free(&s);
    e = one("{'msgtype':'m.text','body':'thanks, coach!'}", &s);
    CHECK(e.mentioned && e.strip == 0, "the name as a word at the end: mentioned");
    mx_sync_free(&s);
    e = one("{'msgtype':'m.text','body':'my partner pulls away'}", &s);
    CHECK(e.kind == PP_MX_TEXT && !e.mentioned && e.strip == 0, "no mention");
    mx_sync_free(&s);
    e = one("{'msgtype':'m.text','body':'can you help','m.mentions':{'user_ids':['@coach:example.org']}}", &s);
    CHECK(e.mentioned && e.strip == 0, "m.mentions");
    mx_sync_free(&s);
    e = one("{'msgtype':'m.text','body':'can you help','m.mentions':{'user_ids':['@bob:example.org']}}", &s);
    CHECK(!e.mentioned, "m.mentions of someone else");
    mx_sync_free(&s);
    /* reply fallbacks: the quote in front of a reply is not the user's words */
    e = one("{'msgtype':'m.text','body':'> <@coach:example.org> call 112 if you are in danger\\n> more\\n\\nthanks',"
            "'m.relates_to':{'m.in_reply_to':{'event_id':'$b1'}}}", &s);
    CHECK(e.kind == PP_MX_TEXT && e.body_len == 6 && strncmp(e.body, "thanks", 6) == 0 && e.mentioned,
          "a reply to the bot: the fallback taken off, and it is addressed to the bot");
    mx_sync_free(&s);
    e = one("{'msgtype':'m.text','body':'> <@bob:example.org> hi\\n\\nmy partner pulls away',"
            "'m.relates_to':{'m.in_reply_to':{'event_id':'$b1'}}}", &s);
    CHECK(e.body_len == 21 && strncmp(e.body, "my partner pulls away", 21) == 0 && !e.mentioned,
          "a reply to someone else: the fallback taken off, not a mention");
    mx_sync_free(&s);
    e = one("{'msgtype':'m.text','body':'> <@bob:example.org> Coach said so\\n\\nhm',"
            "'m.relates_to':{'m.in_reply_to':{'event_id':'$b1'}}}", &s);
    CHECK(e.body_len == 2 && !e.mentioned, "a name in the quote is not a mention");
    mx_sync_free(&s);
    e = one("{'msgtype':'m.text','body':'> quoting a poem\\n\\nmy words'}", &s);
    CHECK(e.body_len == 26, "no m.in_reply_to: a quote is the user's own text");
    mx_sync_free(&s);
    e = one("{'msgtype':'m.text','body':'> <@coach:example.org> x\\n\\ny','m.relates_to':{'rel_type':'m.thread',"
            "'event_id':'$t','is_falling_back':true,'m.in_reply_to':{'event_id':'$b1'}}}", &s);
    CHECK(e.body_len == 27, "a thread's falling-back reply relation has no fallback to take off");
    mx_sync_free(&s);
    e = one("{'msgtype':'m.text','body':'>no space\\n\\nx','m.relates_to':{'m.in_reply_to':{'event_id':'$b1'}}}", &s);
    CHECK(e.body_len == 12, "'>' without a space does not start a fallback");
    mx_sync_free(&s);
    e = one("{'msgtype':'m.text','body':'hi\\u0000Coach'}", &s);
    CHECK(e.kind == PP_MX_TEXT && e.body_len == 8 && e.mentioned, "a body with a NUL is read whole");
    mx_sync_free(&s);
}

int main(void)
{
    test_batch();
    test_rooms();
    test_long_ids();
    test_events();
    if (failures) { printf("%d checks failed\n", failures); return 1; }
    printf("mxcheck: all checks passed\n");
    return 0;
}
