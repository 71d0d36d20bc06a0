/* matrix.h -- the pure part of the Matrix bot (`pushpull matrix`): a /sync
 * answer read into what the bot acts on, with no I/O, exposed so
 * tests/tools/mxcheck.c and the fuzz target tests/fuzz/matrix.c drive the
 * code the bot runs.
 *
 * The bot itself is cli_matrix(), below; see
 * bots/matrix.c for its design and docs/matrix.md for operators.
 */
#ifndef PP_MATRIX_H
#define PP_MATRIX_H

#include <stddef.h>

/* `pushpull matrix`: the bot, a subcommand of the program (cli/main.c).  Takes
 * the argv that follows the program name (argv[0] is the subcommand);
 * returns the exit status. */
int cli_matrix(int argc, char **argv);

#define PP_MX_MAX_ID    255    /* room, event and user ids (spec) */
#define PP_MX_MAX_BATCH 2047   /* bytes of a next_batch token the bot keeps */

/* Who the bot is (whoami, profile, --allow). */
typedef struct mx_me {
    const char *user_id;            /* "@coach:example.org" */
    const char *localpart;          /* "coach" */
    const char *displayname;        /* "" when it has none */
    const char *const *allow;       /* inviter globs (fnmatch); none: anyone */
    size_t n_allow;
} mx_me;

/* What a timeline event is.  Only TEXT and NONTEXT are answered: NONTEXT
 * with "I can only read text" in direct rooms, TEXT in direct rooms and,
 * in rooms with more members, when it mentions the bot. */
typedef enum mx_kind {
    PP_MX_TEXT,                 /* m.text or m.emote with a string body */
    PP_MX_NONTEXT,              /* another msgtype (image, file...), or an
                                 * m.sticker event */
    PP_MX_NOTICE,               /* m.notice: other bots */
    PP_MX_EDIT,                 /* m.replace */
    PP_MX_ENCRYPTED,            /* m.room.encrypted: the room is encrypted */
    PP_MX_OWN,                  /* sent by the bot */
    PP_MX_BEFORE_JOIN,          /* before the bot's invite (or, with no invite
                                 * in the timeline, its join): not sent to it */
    PP_MX_MALFORMED,            /* no type, no msgtype, a bad event id or sender */
    PP_MX_OTHER                 /* not a message (membership, encryption state) */
} mx_kind;

/* Strings point into the parsed body (mx_sync.root). */
typedef struct mx_event {
    mx_kind kind;
    const char *event_id, *sender;  /* NULL when absent */
    /* TEXT and NONTEXT only; otherwise "", 0, 0, 0: */
    const char *body;               /* content.body, "" when not a string; may hold NULs */
    size_t body_len;
    size_t strip;                   /* bytes of a leading mention ("Coach: "): in a
                                     * group the coach reads body + strip */
    int mentioned;                  /* m.mentions has the bot, or the body names
                                     * its user id, display name or localpart */
    const struct json_t *raw;       /* the event as it came (ENCRYPTED: opened
                                     * with its room's key, bots/matrix.c) */
    const char *thread;             /* TEXT and NONTEXT in a thread (m.relates_to
                                     * rel_type m.thread): its root event id, a
                                     * valid id; else NULL */
} mx_event;

typedef struct mx_sync_room {         /* one of rooms.join */
    const char *id;
    int has_count, count;           /* summary.m.joined_member_count */
    int member_change;              /* a membership event: the count is stale */
    int encrypted;                  /* an m.room.encryption event */
    int joined;                     /* the bot's own join is in this timeline */
    int direct;                     /* the bot's invite in it says is_direct */
    int limited;                    /* timeline.limited: events were left out
                                     * before the first one (page back) */
    const char *prev_batch;         /* timeline.prev_batch, NULL when absent or
                                     * longer than PP_MX_MAX_BATCH */
    mx_event *events;            /* timeline.events, all, in order */
    size_t n_events;
} mx_sync_room;

typedef struct mx_invite {       /* one of rooms.invite */
    const char *room_id;
    const char *inviter;            /* sender of the bot's invite; NULL none */
    int allowed;                    /* a valid id the allow-list takes: join */
    int direct;                     /* the invite says is_direct (a DM) */
} mx_invite;

typedef struct mx_sync {
    const char *next_batch;         /* at most PP_MX_MAX_BATCH bytes */
    mx_invite *invites;
    size_t n_invites;
    const char **leaves;            /* room ids of rooms.leave */
    size_t n_leaves;
    mx_sync_room *rooms;
    size_t n_rooms;
    size_t n_refused;               /* rooms of join, invite and leave left out:
                                     * their id is too long or not printable */
    struct json_t *root;            /* the parsed body: owned */
} mx_sync;

/* Read a /sync answer body into *out, in the order the bot acts on it.
 * Ids from the wire must be bounded (PP_MX_MAX_ID) and printable, never
 * cut (two long ids would merge): rooms with a bad id are left out (and
 * counted), events with a bad event id or sender are MALFORMED.
 * Pure: no I/O, no logging.  Returns 0 (free with
 * mx_sync_free), or -1 with nothing to free when the body is not a JSON
 * object with a next_batch string, or memory ran out. */
int mx_parse_sync(const char *body, size_t len, const mx_me *me, mx_sync *out);

void mx_sync_free(mx_sync *s);

#endif
