/* lines.h -- standard input one bounded line at a time, and standard
 * output one answer at a time, for the subcommands that read a message per
 * line (reply, reframe, chat from a pipe).  See lines.c. */
#ifndef PP_CLI_LINES_H
#define PP_CLI_LINES_H

#include <stddef.h>
#include "pushpull.h"

/* The most of one line a reader keeps: a bit over what the engine reads,
 * so a longer line still reaches the engine too long and gets its "cut"
 * notice. */
#define PP_CLI_LINE_MAX (2 * PP_MAX_INPUT)

typedef struct app_lines app_lines;

/* A reader of fd; who ("pushpull reply") names its notices on stderr.
 * NULL when out of memory.  Freed by app_lines_close(). */
app_lines *app_lines_open(int fd, const char *who);
/* The next line, without its "\n" and a "\r" before it: *line points into
 * the reader (valid until the next call; NUL-terminated, may hold NULs),
 * *len is at most PP_CLI_LINE_MAX.  A longer line keeps its first
 * PP_CLI_LINE_MAX bytes: the rest is read and dropped, and stderr says so.
 * Returns 1 for a line, 0 at the end of input, -1 on a read error (errno
 * set). */
int app_lines_next(app_lines *r, const char **line, size_t *len);
void app_lines_close(app_lines *r);

/* Flush stdout after an answer: 0, or -1 when the write failed (stop
 * answering: nobody hears it; app_close_stdout says why). */
int app_flush(void);
/* Flush and close stdout at the end of a run: status when every write
 * worked, else 1 after "pushpull: write error: ..." on stderr (no message
 * for a broken pipe: the reader left). */
int app_close_stdout(int status);

#endif
