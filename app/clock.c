/* clock.c -- app_now(): the real clock, or the one a test set (clock.h). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"

static int parse_secs(const char *s, long long *out)
{
    char *end;
    while (isspace((unsigned char)*s)) s++;
    if (!isdigit((unsigned char)*s)) return -1;
    long long v = strtoll(s, &end, 10);
    while (isspace((unsigned char)*end)) end++;
    if (*end) return -1;
    *out = v;
    return 0;
}

long long app_now(void)
{
    static int warned;
    const char *env = getenv("PUSHPULL_CLOCK");
    long long v;

    if (!env || !*env) return (long long)time(NULL);
    if (parse_secs(env, &v) == 0) return v;

    FILE *f = fopen(env, "r");
    if (f) {
        char buf[64];
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        if (parse_secs(buf, &v) == 0) return v;
    }
    if (!warned) {
        warned = 1;
        fprintf(stderr, "pushpull: PUSHPULL_CLOCK is neither a number of seconds "
                        "nor a readable file holding one; using the real clock\n");
    }
    return (long long)time(NULL);
}

int app_utc_offset(long long now)
{
    time_t t = (time_t)now;
    struct tm tm;
    if (!localtime_r(&t, &tm)) return 0;
    long off = tm.tm_gmtoff;
    return off > -86400 && off < 86400 ? (int)off : 0;
}
