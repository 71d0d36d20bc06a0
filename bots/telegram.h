/* telegram.h -- the Telegram bot (`pushpull telegram`), and the pure helpers
 * it is built from, exposed so tests/tools/tgcheck.c can exercise them.
 *
 * The bot itself is pp_cmd_telegram() (declared in cli/cli.h); see
 * bots/telegram.c for its design and docs/deploy.md for operators.
 */
#ifndef PP_TELEGRAM_H
#define PP_TELEGRAM_H

#include <stddef.h>
#include <stdint.h>

#define PP_TG_MAX_UNITS 4096   /* Telegram's limit, in UTF-16 code units */

/* Length of UTF-8 text in UTF-16 code units (4-byte sequences count 2; an
 * invalid byte counts 1). */
size_t pp_tg_utf16_len(const char *text, size_t len);

/* Split text into parts of at most max_units UTF-16 code units, never
 * inside a UTF-8 sequence, preferring to cut after a newline or a space in
 * the second half of a part (that white space is dropped).  Writes the byte
 * offset and length of each part into starts/lens (room for max_parts) and
 * returns the number of parts, or 0 when they do not fit (or text is
 * empty). */
size_t pp_tg_split(const char *text, size_t len, size_t max_units,
                   size_t *starts, size_t *lens, size_t max_parts);

/* The offset cursor: "NEXT" or "NEXT +ID +ID..." where NEXT is the lowest
 * update_id not yet handled and each +ID an update at or above it that is
 * already handled.  Parse returns 0 or -1; *n_done is set to the number of
 * ids stored (at most max_done). */
int pp_tg_cursor_parse(const char *s, int64_t *next, int64_t *done,
                       size_t max_done, size_t *n_done);

#endif
