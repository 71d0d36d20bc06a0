/* remind.h -- the bots' daily reminders (/remind, /timezone) and the
 * local time they are read in; shared by bots/telegram.c and bots/matrix.c,
 * which only call these hooks and send what they return.
 *
 * A reminder is a row of the store (pp_store_reminder_*): the local time
 * asked for, the zone, and the Unix time of the next send, so a restart
 * knows what is owed.  The bots ask app_remind_collect() after every poll
 * (Telegram getUpdates, Matrix /sync), which returns the reminders due now
 * with their text -- or with why one is skipped -- and call
 * app_remind_done() once one went out (or was skipped), which moves it to
 * the next day.  Rules (docs/deploy.md, "Reminders"):
 *  - never at night: a time from 22:00 to 06:59 local is refused, and a
 *    reminder that would go out then (one owed since before a restart) is
 *    skipped;
 *  - once a day: the local day of the last send is kept;
 *  - a reminder missed while the bot was down is sent when it comes back
 *    if it is at most APP_REMIND_STALE late, else skipped;
 *  - none in a safety-locked conversation (skipped, day by day);
 *  - the bot deletes the reminder when the user blocked it (Telegram 403)
 *    or left the room (Matrix): app_remind_stop().
 * "now" is always the caller's (app_now(), clock.h), never time(NULL).
 *
 * Zones: an IANA name ("Europe/Berlin", checked as a TZif file under
 * $TZDIR or /usr/share/zoneinfo) or an offset from UTC ("+02:00", "UTC+2",
 * "-5:30").  glibc reads a named zone only through the process-wide TZ, so
 * this module is the program's only user of local time and holds a mutex
 * around setenv("TZ")/tzset()/localtime_r()/mktime(); offsets are computed
 * without TZ. */
#ifndef PP_APP_REMIND_H
#define PP_APP_REMIND_H

#include <stddef.h>
#include "pushpull.h"

#define APP_REMIND_STALE    (3 * 3600)   /* later than this: skipped */
#define APP_REMIND_NIGHT_FROM (22 * 60)  /* local minutes: no reminder from */
#define APP_REMIND_NIGHT_TO   (7 * 60)   /* ... until */
#define APP_REMIND_BATCH    32           /* reminders collected per poll */

/* Read a zone as the user wrote it into its canonical form ("Europe/Berlin",
 * "+02:00", "UTC" for +00:00) in canon: 0, or -1 when it is no zone this
 * machine knows. */
int app_zone_parse(const char *text, size_t len, char *canon, size_t canonlen);
/* The local date ("2026-12-02") and minute of the day of t in zone: 0, or
 * -1 (an unusable zone; UTC is used). */
int app_zone_local(const char *zone, long long t, char *day, size_t daylen, int *minute);
/* The first moment strictly after `after` at which it is `minute` local
 * time in zone (a time a DST change skips comes an hour later). */
long long app_remind_next(const char *zone, int minute, long long after);
/* The zone the conversation key uses (its /timezone, else "UTC") in buf. */
void app_zone_of(pp_store *st, const char *key, char *buf, size_t len);
/* Its offset from UTC at now, in seconds (0 for "UTC" or an unusable
 * zone): the dialog's utc_offset, so that a program's days are the
 * user's days. */
int app_zone_offset(pp_store *st, const char *key, long long now);
/* Put TZ in the environment once, before any thread starts (see
 * remind.c): the bots call it first thing. */
void app_zone_init(void);

/* /remind and /timezone (c says which, args/n what followed): the answer
 * to send, malloc'd (NULL out of memory).  st NULL: --no-state.  s is the
 * conversation's session (a locked one gets no reminder). */
char *app_remind_command(pp_store *st, const pp_ruleset *rs, const pp_session *s,
                         const char *key, pp_command c, const char *args, size_t n,
                         long long now);

/* A reminder due now: what to send to key (text), or why not (skip). */
typedef struct app_remind_job {
    pp_reminder r;
    char day[16];          /* the local day it is for */
    long long next_due;
    const char *skip;      /* "stale", "night", "locked", "sent_today"; NULL: send text */
    char *text;            /* malloc'd, NULL when skipped */
    long long late;        /* seconds after its time */
} app_remind_job;

/* The reminders of keys starting with prefix due at now, at most max
 * (APP_REMIND_BATCH), into jobs; returns how many.  Each needs
 * app_remind_done() after it went out or was skipped (then it is not due
 * again until its next day) and app_remind_job_clear(). */
size_t app_remind_collect(pp_store *st, const pp_ruleset *rs, const char *prefix,
                          long long now, app_remind_job *jobs, size_t max);
int app_remind_done(pp_store *st, const app_remind_job *j);
void app_remind_job_clear(app_remind_job *j);
/* The user blocked the bot or left: no more reminders to key.  1 one was
 * deleted, 0 none, <0 error. */
int app_remind_stop(pp_store *st, const char *key);

/* The bots' commands that these hooks and app/pair.c answer (before the
 * dialog turn). */
int app_bot_command(pp_command c);

#endif
