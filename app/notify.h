/* notify.h -- telling systemd how a bot is (sd_notify's protocol, without
 * libsystemd): READY=1 when it serves, WATCHDOG=1 from its main loop,
 * STOPPING=1 when it stops.  Outside systemd (no NOTIFY_SOCKET) every call
 * does nothing; none ever fails the caller. */
#ifndef PP_NOTIFY_H
#define PP_NOTIFY_H

/* Sends state ("READY=1\nSTATUS=...", newline-separated assignments) as one
 * datagram to $NOTIFY_SOCKET.  1 sent, 0 not under systemd, -1 failed. */
int app_notify(const char *state);
/* WATCHDOG=1 when $WATCHDOG_USEC is set (and $WATCHDOG_PID, if set, is this
 * process), at most once every quarter of the watchdog interval: cheap to
 * call on every turn of a loop. */
void app_notify_watchdog(void);

#endif
