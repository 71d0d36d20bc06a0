/* telegram.h -- the Telegram bot (`pushpull telegram`), and the pure helpers
 * it is built from, exposed so tests/tools/tgcheck.c and the fuzz target
 * tests/fuzz/telegram.c can exercise them.
 *
 * The bot itself is cli_telegram(), below; see
 * bots/telegram.c for its design and docs/deploy.md for operators.
 */
#ifndef PP_TELEGRAM_H
#define PP_TELEGRAM_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "pushpull.h"

/* `pushpull telegram`: the bot, a subcommand of the program (cli/main.c).  Takes
 * the argv that follows the program name (argv[0] is the subcommand);
 * returns the exit status. */
int cli_telegram(int argc, char **argv);

#define PP_TG_MAX_UNITS 4096   /* Telegram's limit, in UTF-16 code units */

/* Length of UTF-8 text in UTF-16 code units (4-byte sequences count 2; an
 * invalid byte counts 1). */
size_t tg_utf16_len(const char *text, size_t len);

/* Split text into parts of at most max_units UTF-16 code units, never
 * inside a UTF-8 sequence, preferring to cut after a newline or a space in
 * the second half of a part (that white space is dropped).  Writes the byte
 * offset and length of each part into starts/lens (room for max_parts) and
 * returns the number of parts, or 0 when they do not fit (or text is
 * empty). */
size_t tg_split(const char *text, size_t len, size_t max_units,
                   size_t *starts, size_t *lens, size_t max_parts);

/* Telegram's update ids are positive and fit in 53 bits (the Bot API
 * promises it: a double holds them exactly).  An update with an id outside
 * 1..PP_TG_MAX_UPDATE_ID is refused before it reaches the offsets, so
 * "one past the highest id" can never overflow. */
#define PP_TG_MAX_UPDATE_ID INT64_C(9007199254740991)      /* 2^53 - 1 */

/* The offset cursor: "NEXT" or "NEXT +ID +ID..." where NEXT is the lowest
 * update_id not yet handled (0..PP_TG_MAX_UPDATE_ID + 1) and each +ID an
 * update at or above it, at most PP_TG_MAX_UPDATE_ID, that is already
 * handled.  Parse returns 0 or -1; *n_done is set to the number of ids
 * stored (at most max_done). */
int tg_cursor_parse(const char *s, int64_t *next, int64_t *done,
                       size_t max_done, size_t *n_done);

/* ---- the update window: which update ids are in hand ---- */

/* What the bot fetched and handled, so which offset it polls with and
 * confirms: the lowest open update, or one past the highest taken.  The
 * caller owns the arrays (cap entries each) and guards the window. */
typedef struct tg_window {
    int64_t *open;              /* fetched, not handled: sorted */
    int64_t *done;              /* handled, at or above the lowest open: sorted */
    size_t n_open, n_done;      /* n_open + n_done < cap */
    size_t cap;
    int64_t next_new;           /* one past the highest update_id taken */
} tg_window;

typedef enum tg_take {
    PP_TG_TAKE_NEW,             /* now open: queue it */
    PP_TG_TAKE_CONFIRMED,       /* below the offset: handled and confirmed */
    PP_TG_TAKE_OPEN,            /* open already (delivered twice) */
    PP_TG_TAKE_DONE,            /* handled already (before a restart) */
    PP_TG_TAKE_FULL,            /* no room: left for a later poll */
    PP_TG_TAKE_BAD_ID           /* not in 1..PP_TG_MAX_UPDATE_ID: refused */
} tg_take;

/* Take one delivered update_id into the window.  Pure. */
tg_take tg_window_take(tg_window *w, int64_t update_id);
/* An open update was handled (its reply went out).  0, or -1 when it was
 * not open (nothing changes). */
int tg_window_handled(tg_window *w, int64_t update_id);
/* The offset to poll with and to confirm. */
int64_t tg_window_offset(const tg_window *w);
/* The cursor of the window (tg_cursor_parse reads it back), after
 * dropping the handled ids below the offset.  0, or -1 when it does not
 * fit len (buf then holds "", never a cut list). */
int tg_window_cursor(tg_window *w, char *buf, size_t len);

/* ---- reading getUpdates ---- */

/* Who the bot is (getMe): what a group message must name to be answered. */
typedef struct tg_bot_id {
    const char *username;       /* without the '@'; "" when unknown */
    int64_t id;                 /* the bot's user id; 0 when unknown */
} tg_bot_id;

/* What an update is, so what the bot does with it: TEXT and NONTEXT are
 * answered ("I can only read text" for the second), MIGRATE moves a
 * group's conversation, the rest is only logged. */
typedef enum tg_kind {
    PP_TG_TEXT,                 /* a message with text (or a photo's or video's
                                 * caption), addressed to the bot */
    PP_TG_NONTEXT,              /* a message without text (sticker, photo) */
    PP_TG_EDITED,               /* an edited_message */
    PP_TG_OTHER,                /* no message at all */
    PP_TG_MALFORMED,            /* no integer chat id or message_id, no chat type */
    PP_TG_CHANNEL,              /* a chat neither private nor a group */
    PP_TG_BOT,                  /* sent by a bot */
    PP_TG_NOT_ADDRESSED,        /* a group message for someone else */
    PP_TG_MIGRATE               /* a group became a supergroup: the old group's
                                 * message with migrate_to_chat_id, or the new
                                 * one's with migrate_from_chat_id */
} tg_kind;

typedef struct tg_update {
    int64_t update_id;
    tg_kind kind;
    int64_t chat_id, message_id;    /* set for all but EDITED, OTHER, MALFORMED */
    int group;                      /* a group or supergroup (same) */
    /* MIGRATE only, else 0: chat_id is then the old group's id, whichever
     * of the two messages this is, and migrate_to the supergroup's (never
     * 0, never chat_id) */
    int64_t migrate_to;
    /* PP_TG_TEXT only, else NULL: owned, NUL-terminated, at most
     * 4 * PP_MAX_INPUT bytes (the engine cuts further).  "@username" is
     * taken out in groups and from private /commands ("/help@bot"). */
    char *text;
} tg_update;

/* Read a getUpdates answer as Telegram sends it ({"ok":true,"result":[..]})
 * into *out, one entry per element with an integer update_id, in order
 * (others are left out: there is nothing to confirm).  Pure: no I/O, no
 * logging.  Returns 0 (free *out with tg_updates_free), or -1 with
 * *out NULL when the body is not such an answer or memory ran out. */
int tg_parse_updates(const char *body, size_t len, const tg_bot_id *me,
                        tg_update **out, size_t *n_out);

void tg_updates_free(tg_update *ups, size_t n);

/* The kind as the bot's log lines name it ("text", "group_not_addressed"). */
const char *tg_kind_name(tg_kind kind);

/* ---- the command menu (setMyCommands) ---- */

/* The menu is data: the responses set PP_TG_MENU_SET, one variant per
 * command in the order the menu shows them, each "command: description"
 * (responses/bots.responses).  Telegram's limits: a command is 1-32 of
 * a-z, 0-9 and _, a description 1-256 characters, a menu at most
 * PP_TG_MENU_MAX commands. */
#define PP_TG_MENU_SET         "telegram.menu"
#define PP_TG_MENU_MAX         100
#define PP_TG_COMMAND_MAX      32
#define PP_TG_DESCRIPTION_MAX  256   /* UTF-16 code units */

/* Read one entry, "command: description" (a '/' before the command and
 * white space around either are allowed): the command into cmd (room for
 * PP_TG_COMMAND_MAX + 1; "" when it is not a command Telegram takes), and
 * where its description is in entry.  0, or -1 with why (a constant
 * phrase) when the entry breaks Telegram's limits, is more than one line,
 * or names a command the dialog does not know (pp_dialog_command).  Pure. */
int tg_menu_entry(const char *entry, char *cmd, const char **desc, size_t *desc_len,
                  const char **why);

/* The whole menu: the variants of PP_TG_MENU_SET in rs, in order, filled
 * like every sentence and read by tg_menu_entry.  An entry it refuses, a
 * command said twice, or one past PP_TG_MENU_MAX is left out and given to
 * skipped (may be NULL) with the variant's file and line, its command (""
 * when unread) and why: a slip in the file costs that line of the menu,
 * never the bot's start.  Returns [{"command", "description"}...] (a new
 * reference; empty when nothing is left), NULL when out of memory.  The
 * bot sends it with setMyCommands; `pushpull check` warns of each skip. */
typedef void (*tg_menu_skip_fn)(void *arg, const char *file, int line, const char *command,
                                const char *why);
json_t *tg_menu_build(const pp_ruleset *rs, tg_menu_skip_fn skipped, void *arg);

#endif
