/* buf.h -- the engine's one string builder (errors.c), for every module:
 * replies, /why, patterns, the language layer's rendering.  Appending never
 * fails loudly: out of memory sets oom, later appends do nothing, and
 * pp_buf_take() then gives NULL. */
#ifndef PP_BUF_H
#define PP_BUF_H

#include <stddef.h>

typedef struct pp_buf {
    char *s;                  /* NUL-terminated once anything was added */
    size_t len, cap;
    int oom;
} pp_buf;

void pp_buf_add(pp_buf *b, const char *s, size_t n);
void pp_buf_adds(pp_buf *b, const char *s);
void pp_buf_addf(pp_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
char *pp_buf_take(pp_buf *b);   /* caller frees; "" when empty, NULL on oom */

#endif
