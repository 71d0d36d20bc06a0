/* lines.c -- standard input one bounded line at a time, and standard
 * output one answer at a time.
 *
 * `reply`, `reframe` and the chat reading a pipe take one message per line,
 * and a line is whatever the other side sends: a 500 MB one must cost no
 * more memory than a short one, and the line after it must still be
 * answered.  So a reader reads fd in chunks with read(2) (it returns what
 * is there, so a script that writes one line and waits for its answer gets
 * it at once), copies at most PP_CLI_LINE_MAX + 1 bytes of a line into a
 * fixed buffer and scans the rest for its newline with memchr, dropping it.
 * The one byte over the limit lets "...\r\n" at exactly the limit keep all
 * of its text.
 *
 * Each answer is flushed as it is made; when that fails the subcommand
 * stops, and the failure's errno is kept here (stdio keeps only a flag, and
 * the unwritten buffer is gone) for app_close_stdout() to say why.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lines.h"

/* The errno of the first failed write to stdout, 0 = none yet. */
static int stdout_errno;

struct app_lines {
    int fd;
    int eof;
    const char *who;
    unsigned long lineno;
    size_t pos, end;                  /* the unread part of chunk */
    char chunk[64 * 1024];
    char line[PP_CLI_LINE_MAX + 2];   /* the limit, a '\r', the NUL */
};

app_lines *app_lines_open(int fd, const char *who)
{
    app_lines *r = malloc(sizeof *r);
    if (!r) return NULL;
    r->fd = fd;
    r->eof = 0;
    r->who = who;
    r->lineno = 0;
    r->pos = r->end = 0;
    return r;
}

void app_lines_close(app_lines *r)
{
    free(r);
}

int app_lines_next(app_lines *r, const char **line, size_t *len)
{
    const size_t keep = PP_CLI_LINE_MAX + 1;
    size_t n = 0;
    int any = 0, dropped = 0;
    for (;;) {
        if (r->pos == r->end) {
            if (r->eof) break;
            ssize_t got = read(r->fd, r->chunk, sizeof r->chunk);
            if (got < 0 && errno == EINTR) continue;
            if (got < 0) return -1;
            if (got == 0) { r->eof = 1; break; }
            r->pos = 0;
            r->end = (size_t)got;
        }
        any = 1;
        const char *at = r->chunk + r->pos;
        const char *nl = memchr(at, '\n', r->end - r->pos);
        size_t take = nl ? (size_t)(nl - at) : r->end - r->pos;
        size_t copy = take < keep - n ? take : keep - n;
        memcpy(r->line + n, at, copy);
        n += copy;
        dropped |= copy < take;
        r->pos += take + (nl != NULL);
        if (nl) break;
    }
    if (!any) return 0;
    r->lineno++;
    if (!dropped && n && r->line[n - 1] == '\r') n--;
    if (n > PP_CLI_LINE_MAX) {
        n = PP_CLI_LINE_MAX;
        fprintf(stderr, "%s: line %lu is longer than %d bytes: read its first %d, "
                        "skipped the rest\n", r->who, r->lineno, PP_CLI_LINE_MAX, PP_CLI_LINE_MAX);
    }
    r->line[n] = '\0';
    *line = r->line;
    *len = n;
    return 1;
}

int app_flush(void)
{
    errno = 0;
    if (fflush(stdout) == 0 && !ferror(stdout)) return 0;
    if (!stdout_errno) stdout_errno = errno;
    return -1;
}

int app_close_stdout(int status)
{
    int failed = app_flush() != 0;
    errno = 0;
    if (fclose(stdout) != 0 && !failed) {
        failed = 1;
        stdout_errno = errno;
    }
    if (!failed) return status;
    if (stdout_errno != EPIPE) {
        if (stdout_errno) fprintf(stderr, "pushpull: write error: %s\n", strerror(stdout_errno));
        else fputs("pushpull: write error\n", stderr);
    }
    return 1;
}
