/* buf.h -- the engine's one string builder (errors.c), for every module:
 * replies, /why, patterns, the language layer's rendering.  Appending never
 * fails loudly: out of memory sets oom, later appends do nothing, and
 * ppb_take() then gives NULL. */
#ifndef PP_BUF_H
#define PP_BUF_H

#include <stddef.h>

typedef struct ppb_buf {
    char *s;                  /* NUL-terminated once anything was added */
    size_t len, cap;
    int oom;
} ppb_buf;

void ppb_add(ppb_buf *b, const char *s, size_t n);
void ppb_adds(ppb_buf *b, const char *s);
void ppb_addf(ppb_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
char *ppb_take(ppb_buf *b);   /* caller frees; "" when empty, NULL on oom */

#endif
