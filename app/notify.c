/* notify.c -- sd_notify's protocol (see notify.h) in a few lines rather than
 * a dependency on libsystemd: the protocol is one datagram of text to the
 * AF_UNIX socket named by $NOTIFY_SOCKET (a path, or "@name" for the
 * abstract namespace), which systemd documents as stable for exactly this
 * use.  The socket is opened and closed per message: they are few (the
 * watchdog is rate-limited), and nothing stays open across a fork. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "notify.h"

int app_notify(const char *state)
{
    const char *path = getenv("NOTIFY_SOCKET");
    if (!path || !*path || !state) return 0;
    struct sockaddr_un sa;
    size_t n = strlen(path);
    if ((path[0] != '/' && path[0] != '@') || n >= sizeof sa.sun_path) return -1;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, n);
    if (path[0] == '@') sa.sun_path[0] = '\0';       /* abstract: no NUL at the end */
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (path[0] == '/'));
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    ssize_t w;
    do w = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, len);
    while (w < 0 && errno == EINTR);
    close(fd);
    return w == (ssize_t)strlen(state) ? 1 : -1;
}

void app_notify_watchdog(void)
{
    static uint64_t last_us, every_us;
    static int checked;
    if (!checked) {
        checked = 1;
        const char *us = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
        char *end;
        unsigned long long v = us ? strtoull(us, &end, 10) : 0;
        if (us && *end == '\0' && v > 0 && (!pid || strtol(pid, NULL, 10) == (long)getpid()))
            every_us = v / 4;
    }
    if (!every_us) return;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
    if (last_us && now - last_us < every_us) return;
    last_us = now;
    app_notify("WATCHDOG=1");
}
