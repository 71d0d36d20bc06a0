/* clock.h -- the front ends' idea of "now", which a test can set.
 *
 * Programs, check-ins and reminders (issue 24) depend on the date and the
 * time of day; a test cannot wait a day.  Every front end asks app_now()
 * instead of time(NULL) where the answer changes what the coach does.  The
 * engine itself never reads the clock for this: its functions take `now`
 * as an argument.
 *
 * PUSHPULL_CLOCK, when set, is either a number (seconds since the epoch,
 * fixed) or the path of a file holding such a number, read on every call,
 * so that a test can move time forward while a bot runs.  A value that
 * does not parse is reported once on stderr and the real clock is used. */
#ifndef PP_APP_CLOCK_H
#define PP_APP_CLOCK_H

long long app_now(void);
/* The offset from UTC, in seconds, of the local time zone (TZ) at now: the
 * terminal's user is where the terminal is.  The bots must not use it
 * (their users are not where the server is). */
int app_utc_offset(long long now);

#endif
