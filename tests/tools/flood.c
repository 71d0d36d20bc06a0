/* flood.c -- resource-limit check: push N messages through ONE session of
 * a program (e.g. `pushpull reply --json --no-state`) and report its
 * resident memory after the first `early` replies and after all of them.
 *
 * usage: flood CORPUS EARLY TOTAL MAX_GROWTH_KIB -- PROGRAM ARGS...
 * Messages are the first column of CORPUS (TSV, '#' lines skipped), sent
 * in a cycle.  Writing and reading are multiplexed with poll(2), so the
 * pipes never fill both ways; every message must get exactly one reply
 * line (run the program with --json).  VmRSS and VmHWM come from
 * /proc/<pid>/status while the program is still running.  Exit 0 when
 * the program answered every message, exited 0, and VmRSS after TOTAL is
 * at most MAX_GROWTH_KIB above VmRSS after EARLY; 1 otherwise.  Prints one
 * line "flood: N replies, rss@EARLY=.. KiB rss@TOTAL=.. KiB hwm=.. KiB".
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define FLOOD_MAX_MSGS 4096

static long flood_status_kib(pid_t pid, const char *field)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long v = -1;
    size_t fl = strlen(field);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, field, fl) == 0 && line[fl] == ':') {
            v = strtol(line + fl + 1, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

static size_t flood_load(const char *path, char **msgs)
{
    FILE *f = fopen(path, "r");
    if (!f) { perror(path); return 0; }
    char line[8192];
    size_t n = 0;
    while (n < FLOOD_MAX_MSGS && fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n') continue;
        line[strcspn(line, "\t\r\n")] = '\0';
        if (!line[0]) continue;
        size_t len = strlen(line);
        msgs[n] = malloc(len + 2);
        if (!msgs[n]) break;
        memcpy(msgs[n], line, len);
        msgs[n][len] = '\n';
        msgs[n][len + 1] = '\0';
        n++;
    }
    fclose(f);
    return n;
}

int main(int argc, char **argv)
{
    if (argc < 7 || strcmp(argv[5], "--") != 0) {
        fprintf(stderr, "usage: flood CORPUS EARLY TOTAL MAX_GROWTH_KIB -- PROGRAM ARGS...\n");
        return 2;
    }
    static char *msgs[FLOOD_MAX_MSGS];
    size_t n_msgs = flood_load(argv[1], msgs);
    long early = atol(argv[2]), total = atol(argv[3]), max_growth = atol(argv[4]);
    if (!n_msgs || early <= 0 || total <= early || max_growth < 0) {
        fprintf(stderr, "flood: bad corpus or counts\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    int in[2], out[2];
    if (pipe(in) || pipe(out)) { perror("pipe"); return 1; }
    pid_t pid = fork();
    if (pid < 0) { perror("fork"); return 1; }
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[0]); close(in[1]); close(out[0]); close(out[1]);
        execvp(argv[6], argv + 6);
        perror(argv[6]);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    fcntl(in[1], F_SETFL, O_NONBLOCK);

    long sent = 0, replies = 0, rss_early = -1, rss_total = -1, hwm = -1;
    size_t msg = 0, off = 0;
    char buf[65536];
    int ok = 1, wfd = in[1];
    while (replies < total) {
        struct pollfd p[2] = { { out[0], POLLIN, 0 }, { wfd, POLLOUT, 0 } };
        int np = (wfd >= 0 && sent < total) ? 2 : 1;
        if (poll(p, (nfds_t)np, -1) < 0) {
            if (errno == EINTR) continue;
            perror("poll");
            ok = 0;
            break;
        }
        if (np == 2 && (p[1].revents & (POLLOUT | POLLERR))) {
            const char *m = msgs[msg % n_msgs];
            size_t len = strlen(m);
            ssize_t w = write(wfd, m + off, len - off);
            if (w < 0 && errno != EAGAIN) { perror("write"); ok = 0; break; }
            if (w > 0 && (off += (size_t)w) == len) { off = 0; msg++; sent++; }
        }
        if (p[0].revents & (POLLIN | POLLHUP)) {
            ssize_t r = read(out[0], buf, sizeof buf);
            if (r <= 0) {
                fprintf(stderr, "flood: the program stopped answering after %ld replies\n", replies);
                ok = 0;
                break;
            }
            for (ssize_t i = 0; i < r; i++) {
                if (buf[i] != '\n') continue;
                replies++;
                /* measure while the program waits for more: it has answered
                 * everything sent so far only when replies == sent, but RSS
                 * is a property of the process at any point */
                if (replies == early) rss_early = flood_status_kib(pid, "VmRSS");
                if (replies == total) {
                    rss_total = flood_status_kib(pid, "VmRSS");
                    hwm = flood_status_kib(pid, "VmHWM");
                }
            }
        }
    }
    close(in[1]);
    /* drain whatever is left so the program can exit */
    while (read(out[0], buf, sizeof buf) > 0) {}
    close(out[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    for (size_t i = 0; i < n_msgs; i++) free(msgs[i]);
    printf("flood: %ld replies, rss@%ld=%ld KiB rss@%ld=%ld KiB hwm=%ld KiB growth=%ld KiB (limit %ld)\n",
           replies, early, rss_early, total, rss_total, hwm, rss_total - rss_early, max_growth);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "flood: the program exited with status %d\n", status);
        ok = 0;
    }
    if (replies != total || rss_early < 0 || rss_total < 0) ok = 0;
    else if (rss_total - rss_early > max_growth) {
        fprintf(stderr, "flood: memory grew by %ld KiB over %ld messages\n",
                rss_total - rss_early, total - early);
        ok = 0;
    }
    return ok ? 0 : 1;
}
