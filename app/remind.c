/* remind.c -- daily reminders and local time for the bots (remind.h).
 *
 * The one trick: a reminder's next send is kept as a Unix time (due) in
 * the store, computed from the local time and zone asked for, so finding
 * what is owed after a restart is one indexed query (due <= now); the day
 * it was last sent is kept with it, so a day never gets two.  Local time
 * of a named zone comes from glibc under a mutex (TZ is process-wide);
 * nothing else in the program reads local time. */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "remind.h"
#include "pair.h"

static pthread_mutex_t tz_mu = PTHREAD_MUTEX_INITIALIZER;

/* ---- zones ------------------------------------------------------------- */

/* "+02:00" style offsets: minutes east of UTC in *off.  Accepts "UTC",
 * "GMT", "Z", "UTC+2", "+2", "-05:30", "+0530". */
static int parse_offset(const char *s, size_t n, int *off)
{
    char t[32];
    if (n >= sizeof t) return -1;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ') t[k++] = (char)toupper((unsigned char)s[i]);
    t[k] = '\0';
    const char *p = t;
    if (strncmp(p, "UTC", 3) == 0 || strncmp(p, "GMT", 3) == 0) p += 3;
    else if (strcmp(p, "Z") == 0) p++;
    if (!*p) { *off = 0; return 0; }
    if (*p != '+' && *p != '-') return -1;
    int sign = *p++ == '-' ? -1 : 1;
    int h = 0, m = 0, digits = 0;
    while (isdigit((unsigned char)*p) && digits < 2) { h = h * 10 + (*p++ - '0'); digits++; }
    if (!digits) return -1;
    if (*p == ':') p++;
    if (*p) {
        if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]) || p[2]) return -1;
        m = (p[0] - '0') * 10 + (p[1] - '0');
    }
    if (h > 14 || m > 59 || (h == 14 && m)) return -1;
    *off = sign * (h * 60 + m);
    return 0;
}

static const char *tz_dir(void)
{
    const char *d = getenv("TZDIR");
    return d && *d ? d : "/usr/share/zoneinfo";
}

/* Is name a zone of the database: letters, digits, '_', '-', '+' in parts
 * split by '/', no "..", and a TZif file there. */
static int iana_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > PP_REMINDER_ZONE_MAX || name[0] == '/' || name[n - 1] == '/') return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!isalnum(c) && c != '_' && c != '-' && c != '+' && c != '/') return 0;
        if (c == '/' && name[i + 1] == '/') return 0;
    }
    if (name[0] == '-' || strstr(name, "/-")) return 0;
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tz_dir(), name);
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) return 0;
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    char magic[4];
    size_t got = fread(magic, 1, 4, f);
    fclose(f);
    return got == 4 && memcmp(magic, "TZif", 4) == 0;
}

int app_zone_parse(const char *text, size_t len, char *canon, size_t canonlen)
{
    while (len && isspace((unsigned char)*text)) { text++; len--; }
    while (len && isspace((unsigned char)text[len - 1])) len--;
    if (!len || len > PP_REMINDER_ZONE_MAX) return -1;
    int off;
    if (parse_offset(text, len, &off) == 0) {
        if (off == 0) snprintf(canon, canonlen, "UTC");
        else snprintf(canon, canonlen, "%c%02d:%02d", off < 0 ? '-' : '+', abs(off) / 60, abs(off) % 60);
        return 0;
    }
    char name[PP_REMINDER_ZONE_MAX + 1];
    memcpy(name, text, len);
    name[len] = '\0';
    if (iana_ok(name)) { snprintf(canon, canonlen, "%s", name); return 0; }
    /* the database's spelling for a name written in another case
     * ("europe/berlin"): each part capitalised as the database does */
    for (size_t i = 0; i < len; i++)
        name[i] = (char)((i == 0 || name[i - 1] == '/' || name[i - 1] == '_' || name[i - 1] == '-')
                         ? toupper((unsigned char)name[i]) : tolower((unsigned char)name[i]));
    if (iana_ok(name)) { snprintf(canon, canonlen, "%s", name); return 0; }
    return -1;
}

/* A canonical zone's fixed offset in minutes: 0 when it has one, -1 for
 * a named zone. */
static int fixed_offset(const char *zone, int *off)
{
    if (strcmp(zone, "UTC") == 0) { *off = 0; return 0; }
    if ((zone[0] == '+' || zone[0] == '-') && parse_offset(zone, strlen(zone), off) == 0) return 0;
    return -1;
}

/* TZ set to zone for the calls between, under tz_mu; the process's own
 * zone is put back after.  Other threads read the environment meanwhile
 * (libcurl's proxy variables, app_now()), and glibc's getenv() is safe
 * against setenv() of a name that is already there (the slot's pointer is
 * swapped, the old string kept) but not against adding or removing one,
 * which moves environ.  So TZ is never removed, and app_zone_init() adds
 * it once, before the bots start their threads: the process's TZ, or
 * ":/etc/localtime", which glibc reads exactly as it reads no TZ. */
static char tz_saved[256] = ":/etc/localtime";

void app_zone_init(void)
{
    pthread_mutex_lock(&tz_mu);
    const char *t = getenv("TZ");
    if (t && *t && strlen(t) < sizeof tz_saved) snprintf(tz_saved, sizeof tz_saved, "%s", t);
    setenv("TZ", tz_saved, 1);
    tzset();
    pthread_mutex_unlock(&tz_mu);
}

static void tz_enter(const char *zone)
{
    pthread_mutex_lock(&tz_mu);
    setenv("TZ", zone, 1);
    tzset();
}

static void tz_leave(void)
{
    setenv("TZ", tz_saved, 1);
    tzset();
    pthread_mutex_unlock(&tz_mu);
}

/* Local broken-down time of t in zone.  0, or -1 (UTC used). */
static int local_tm(const char *zone, long long t, struct tm *tm)
{
    int off;
    time_t tt;
    if (fixed_offset(zone, &off) == 0) {
        tt = (time_t)(t + off * 60LL);
        return gmtime_r(&tt, tm) ? 0 : -1;
    }
    if (!iana_ok(zone)) {
        tt = (time_t)t;
        gmtime_r(&tt, tm);
        return -1;
    }
    tt = (time_t)t;
    tz_enter(zone);
    struct tm *r = localtime_r(&tt, tm);
    tz_leave();
    return r ? 0 : -1;
}

/* The Unix time of local y-m-d at minute in zone. */
static long long local_at(const char *zone, int y, int mon, int mday, int minute)
{
    struct tm tm = { 0 };
    tm.tm_year = y - 1900;
    tm.tm_mon = mon;
    tm.tm_mday = mday;
    tm.tm_hour = minute / 60;
    tm.tm_min = minute % 60;
    tm.tm_isdst = -1;
    int off;
    if (fixed_offset(zone, &off) == 0 || !iana_ok(zone)) {
        if (fixed_offset(zone, &off) != 0) off = 0;
        return (long long)timegm(&tm) - off * 60LL;
    }
    tz_enter(zone);
    time_t t = mktime(&tm);
    tz_leave();
    return (long long)t;
}

int app_zone_local(const char *zone, long long t, char *day, size_t daylen, int *minute)
{
    struct tm tm;
    int rc = local_tm(zone, t, &tm);
    if (day) snprintf(day, daylen, "%04d-%02d-%02d", (tm.tm_year + 1900) % 10000,
                      (tm.tm_mon + 1) % 100, tm.tm_mday % 100);
    if (minute) *minute = tm.tm_hour * 60 + tm.tm_min;
    return rc;
}

long long app_remind_next(const char *zone, int minute, long long after)
{
    struct tm tm;
    local_tm(zone, after, &tm);
    /* today's, else the next days' (two more cover a DST change) */
    for (int add = 0; add < 3; add++) {
        long long t = local_at(zone, tm.tm_year + 1900, tm.tm_mon, tm.tm_mday + add, minute);
        if (t > after) return t;
    }
    return after + 24 * 3600;
}

void app_zone_of(pp_store *st, const char *key, char *buf, size_t len)
{
    char name[1100];
    snprintf(name, sizeof name, "timezone:%s", key);
    if (!st || pp_store_get_setting(st, name, buf, len) != 1 || !buf[0])
        snprintf(buf, len, "UTC");
}

int app_zone_offset(pp_store *st, const char *key, long long now)
{
    char zone[256];
    struct tm tm;
    app_zone_of(st, key, zone, sizeof zone);
    if (local_tm(zone, now, &tm) != 0) return 0;
    long long off = (long long)timegm(&tm) - now;
    return off > -86400 && off < 86400 ? (int)off : 0;
}

/* ---- the commands -------------------------------------------------------- */

int app_bot_command(pp_command c)
{
    return c == PP_CMD_REMIND || c == PP_CMD_TIMEZONE || c == PP_CMD_PAIR ||
           c == PP_CMD_UNPAIR || c == PP_CMD_ANSWER;
}

/* "20:00", "7:30", "20", "20.00", "2000": minutes after midnight, or -1. */
static int parse_time(const char *s, size_t n)
{
    char t[16];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == ' ') continue;
        if (k + 1 >= sizeof t) return -1;
        t[k++] = s[i];
    }
    t[k] = '\0';
    int h = 0, m = 0, hd = 0, md = 0;
    const char *p = t;
    while (isdigit((unsigned char)*p) && hd < 4) { h = h * 10 + (*p++ - '0'); hd++; }
    if (hd == 4 && !*p) { m = h % 100; h /= 100; md = 2; }
    else if (hd == 0 || hd > 2) return -1;
    else if (*p == ':' || *p == '.' || *p == 'h') {
        p++;
        while (isdigit((unsigned char)*p) && md < 2) { m = m * 10 + (*p++ - '0'); md++; }
        if (md != 2) return -1;
    }
    if (*p || h > 23 || m > 59) return -1;
    return h * 60 + m;
}

static int is_night(int minute)
{
    return minute >= APP_REMIND_NIGHT_FROM || minute < APP_REMIND_NIGHT_TO;
}

/* "today at 20:00", "tomorrow at 20:00", "on 2026-12-05 at 20:00": when t
 * comes, read in zone, seen from now. */
static void when_words(const char *zone, long long now, long long t, char *buf, size_t len)
{
    char d_now[16], d_t[16], d_tom[16];
    int m;
    app_zone_local(zone, now, d_now, sizeof d_now, NULL);
    app_zone_local(zone, now + 24 * 3600, d_tom, sizeof d_tom, NULL);
    app_zone_local(zone, t, d_t, sizeof d_t, &m);
    const char *day = strcmp(d_t, d_now) == 0 ? "today" : strcmp(d_t, d_tom) == 0 ? "tomorrow" : NULL;
    if (day) snprintf(buf, len, "%s at %02d:%02d", day, m / 60, m % 60);
    else snprintf(buf, len, "on %s at %02d:%02d", d_t, m / 60, m % 60);
}

static char *say(const pp_ruleset *rs, const pp_session *s, const char *id,
                 const char *const *vars, const char *fallback)
{
    return pp_dialog_say(rs, s, id, 0, vars, fallback);
}

static char *remind_cmd(pp_store *st, const pp_ruleset *rs, const pp_session *s,
                        const char *key, const char *args, size_t n, long long now)
{
    char zone[PP_REMINDER_ZONE_MAX + 1], tbuf[16], next[64], text[80];
    app_zone_of(st, key, zone, sizeof zone);
    snprintf(text, sizeof text, "%.*s", (int)(n < 60 ? n : 60), args);
    const char *vars[] = { "zone", zone, "time", tbuf, "next", next, "text", text, NULL, NULL, NULL };
    tbuf[0] = next[0] = '\0';
    pp_reminder r;
    if (n == 0) {
        int got = st ? pp_store_reminder_get(st, key, &r) : 0;
        if (got != 1) return say(rs, s, "remind.none", vars, "You have no daily reminder. /remind 20:00 sets one.");
        snprintf(tbuf, sizeof tbuf, "%02d:%02d", r.minute / 60, r.minute % 60);
        when_words(r.zone, now, r.due, next, sizeof next);
        snprintf(zone, sizeof zone, "%s", r.zone);
        return say(rs, s, "remind.show", vars, "Your daily reminder is at {time} ({zone}).");
    }
    if (!st) return say(rs, s, "remind.no-store", vars, "Reminders need the state file.");
    if (n == 3 && strncasecmp(args, "off", 3) == 0) {
        int rc = pp_store_reminder_delete(st, key);
        if (rc < 0) {
            vars[8] = "error"; vars[9] = pp_store_error(st);
            return say(rs, s, "remind.failed", vars, "Sorry, I couldn't save that: {error}.");
        }
        return say(rs, s, rc ? "remind.off" : "remind.off-none", vars,
                   rc ? "Okay, no more reminders." : "There was no reminder to stop.");
    }
    int minute = parse_time(args, n);
    if (minute < 0) return say(rs, s, "remind.bad-time", vars, "I didn't understand \"{text}\" as a time, e.g. /remind 20:00.");
    if (is_night(minute)) return say(rs, s, "remind.night", vars, "I don't send reminders between 22:00 and 07:00.");
    if (pp_session_safety_locked(s))
        return say(rs, s, "remind.locked", vars, "I won't send reminders right now.\n\n{resources}");
    long long due = app_remind_next(zone, minute, now);
    char err[256];
    if (pp_store_reminder_set(st, key, minute, zone, due, err, sizeof err) != 0) {
        vars[8] = "error"; vars[9] = err;
        return say(rs, s, "remind.failed", vars, "Sorry, I couldn't save that: {error}.");
    }
    snprintf(tbuf, sizeof tbuf, "%02d:%02d", minute / 60, minute % 60);
    when_words(zone, now, due, next, sizeof next);
    return say(rs, s, "remind.set", vars, "Done: every day at {time} ({zone}).");
}

static char *timezone_cmd(pp_store *st, const pp_ruleset *rs, const pp_session *s,
                          const char *key, const char *args, size_t n, long long now)
{
    char zone[PP_REMINDER_ZONE_MAX + 1], nowbuf[16], text[80], err[256] = "";
    app_zone_of(st, key, zone, sizeof zone);
    snprintf(text, sizeof text, "%.*s", (int)(n < 60 ? n : 60), args);
    const char *vars[] = { "zone", zone, "now", nowbuf, "text", text, "error", err, NULL };
    int m;
    if (n == 0) {
        app_zone_local(zone, now, NULL, 0, &m);
        snprintf(nowbuf, sizeof nowbuf, "%02d:%02d", m / 60, m % 60);
        return say(rs, s, "remind.zone-show", vars, "Your time zone is {zone}; it's {now} there.");
    }
    if (app_zone_parse(args, n, zone, sizeof zone) != 0)
        return say(rs, s, "remind.zone-unknown", vars, "I don't know the time zone \"{text}\".");
    if (!st) return say(rs, s, "remind.no-store", vars, "Time zones need the state file.");
    char name[1100];
    snprintf(name, sizeof name, "timezone:%s", key);
    pp_reminder r;
    int rc = pp_store_set_setting(st, name, zone, key);
    /* a reminder keeps its local time in the new zone */
    if (!rc && pp_store_reminder_get(st, key, &r) == 1)
        rc = pp_store_reminder_set(st, key, r.minute, zone, app_remind_next(zone, r.minute, now),
                                   err, sizeof err);
    if (rc) {
        if (!err[0]) snprintf(err, sizeof err, "%s", pp_store_error(st));
        return say(rs, s, "remind.failed", vars, "Sorry, I couldn't save that: {error}.");
    }
    app_zone_local(zone, now, NULL, 0, &m);
    snprintf(nowbuf, sizeof nowbuf, "%02d:%02d", m / 60, m % 60);
    return say(rs, s, "remind.zone-set", vars, "Your time zone is now {zone}; it's {now} there.");
}

char *app_remind_command(pp_store *st, const pp_ruleset *rs, const pp_session *s,
                         const char *key, pp_command c, const char *args, size_t n,
                         long long now)
{
    while (n && isspace((unsigned char)*args)) { args++; n--; }
    while (n && isspace((unsigned char)args[n - 1])) n--;
    if (c == PP_CMD_TIMEZONE) return timezone_cmd(st, rs, s, key, args, n, now);
    return remind_cmd(st, rs, s, key, args, n, now);
}

/* ---- due reminders -------------------------------------------------------- */

/* The zone's offset from UTC at t, in seconds (what the engine's programs
 * count days with). */
static int zone_offset(const char *zone, long long t)
{
    struct tm tm;
    local_tm(zone, t, &tm);
    return (int)((long long)timegm(&tm) - t);
}

/* What the reminder says: today's program step or check-in question
 * (pp_plan_nudge, the engine's programs), else the daily check-in
 * question; and today's shared question when the conversation is paired. */
static char *remind_text(pp_store *st, const pp_ruleset *rs, const pp_session *s,
                         const char *key, const char *zone, long long now)
{
    char *base = NULL, err[256];
    if (pp_plan_nudge(rs, st, key, now, zone_offset(zone, now), &base, err, sizeof err) != 1 || !base) {
        free(base);
        base = say(rs, s, "remind.checkin", NULL,
                   "Your daily check-in: on a scale of 1 to 10, how connected do you feel today?");
    }
    char *q = base ? app_pair_reminder(st, rs, s, key, now) : NULL;
    if (!q) return base;
    size_t a = strlen(base), b = strlen(q);
    char *out = malloc(a + b + 3);
    if (out) {
        memcpy(out, base, a);
        memcpy(out + a, "\n\n", 2);
        memcpy(out + a + 2, q, b + 1);
    }
    free(base);
    free(q);
    return out;
}

size_t app_remind_collect(pp_store *st, const pp_ruleset *rs, const char *prefix,
                          long long now, app_remind_job *jobs, size_t max)
{
    pp_reminder due[APP_REMIND_BATCH];
    size_t n = 0;
    if (!st || max == 0) return 0;
    if (max > APP_REMIND_BATCH) max = APP_REMIND_BATCH;
    if (pp_store_reminders_due(st, prefix, now, due, max, &n) != 0) return 0;
    for (size_t i = 0; i < n; i++) {
        app_remind_job *j = &jobs[i];
        memset(j, 0, sizeof *j);
        j->r = due[i];
        app_zone_local(j->r.zone, j->r.due, j->day, sizeof j->day, NULL);
        j->next_due = app_remind_next(j->r.zone, j->r.minute, now);
        j->late = now - j->r.due;
        int m;
        app_zone_local(j->r.zone, now, NULL, 0, &m);
        pp_session *s = pp_session_new();
        int locked = s && pp_store_load(st, j->r.key, s, NULL, 0) == 1 && pp_session_safety_locked(s);
        if (strcmp(j->day, j->r.last_day) == 0) j->skip = "sent_today";
        else if (j->late > APP_REMIND_STALE) j->skip = "stale";
        else if (is_night(m)) j->skip = "night";
        else if (locked) j->skip = "locked";
        else if (!(j->text = remind_text(st, rs, s, j->r.key, j->r.zone, now))) j->skip = "out_of_memory";
        pp_session_free(s);
    }
    return n;
}

int app_remind_done(pp_store *st, const app_remind_job *j)
{
    return pp_store_reminder_done(st, j->r.key, j->day, j->next_due);
}

void app_remind_job_clear(app_remind_job *j)
{
    free(j->text);
    j->text = NULL;
}

int app_remind_stop(pp_store *st, const char *key)
{
    return st ? pp_store_reminder_delete(st, key) : 0;
}
