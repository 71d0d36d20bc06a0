/* errors.c -- error lists, growable strings, role names.
 *
 * A rules directory is checked as a whole: every problem is collected as a
 * "file:line: message" string in a pp_errors, so a coach sees all of them
 * at once instead of fixing one per run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>

#include "internal.h"

void pp_errors_init(pp_errors *e) { memset(e, 0, sizeof *e); }

void pp_errors_add(pp_errors *e, const char *file, int line, const char *fmt, ...)
{
    char msg[1024];
    int n = 0;
    if (file && line > 0) n = snprintf(msg, sizeof msg, "%s:%d: ", file, line);
    else if (file) n = snprintf(msg, sizeof msg, "%s: ", file);
    if (n < 0) n = 0;
    if ((size_t)n >= sizeof msg) n = sizeof msg - 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
    va_end(ap);
    if (e->count == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 8;
        char **m = realloc(e->msg, cap * sizeof *m);
        if (!m) return;
        e->msg = m;
        e->cap = cap;
    }
    char *copy = ppe_strdup(msg);
    if (copy) e->msg[e->count++] = copy;
}

void pp_errors_clear(pp_errors *e)
{
    for (size_t i = 0; i < e->count; i++) free(e->msg[i]);
    free(e->msg);
    memset(e, 0, sizeof *e);
}

/* ---- strings ----------------------------------------------------------- */

char *ppe_strndup(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *ppe_strdup(const char *s) { return s ? ppe_strndup(s, strlen(s)) : NULL; }


void ppe_strlcpy(char *dst, const char *src, size_t size)
{
    size_t n = strlen(src);
    if (size == 0) return;
    if (n >= size) n = ppu_cut(src, size - 1);   /* never half a character */
    memcpy(dst, src, n);
    dst[n] = '\0';
}

void ppb_add(ppb_buf *b, const char *s, size_t n)
{
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1) cap *= 2;
        char *p = realloc(b->s, cap);
        if (!p) { b->oom = 1; return; }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void ppb_adds(ppb_buf *b, const char *s) { ppb_add(b, s, strlen(s)); }

void ppb_addf(ppb_buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof tmp) { ppb_add(b, tmp, (size_t)n); return; }
    char *big = malloc((size_t)n + 1);
    if (!big) { b->oom = 1; return; }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    ppb_add(b, big, (size_t)n);
    free(big);
}

char *ppb_take(ppb_buf *b)
{
    char *s = b->oom ? NULL : b->s;
    if (b->oom) free(b->s);
    if (s == NULL && !b->oom) s = ppe_strdup("");
    memset(b, 0, sizeof *b);
    return s;
}

/* ---- roles (frameworks are data: the catalogue, rules.c) --------------- */

static const char *const role_names[] = { "none", "pursuer", "withdrawer", "crisis" };

const char *pp_role_name(pp_role r)
{
    return (unsigned)r < 4 ? role_names[r] : "none";
}

int pp_role_parse(const char *s, pp_role *out)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(s, role_names[i]) == 0) { *out = (pp_role)i; return 0; }
    return -1;
}
