/* ptytest.c -- drive a program through a real pseudo-terminal, like expect.
 *
 * usage: ptytest [-s COLSxROWS] [-o FILE] SCRIPT -- PROGRAM [ARGS...]
 * The terminal is 120x40 unless -s says otherwise, TERM=xterm (run the
 * program under env(1) for another); -o FILE keeps the whole transcript,
 * escapes and all, for the test to read afterwards.
 * SCRIPT lines:  expect TEXT   wait (up to 10 s) until TEXT appears in the
 *                              output after the previous expectation
 *                send TEXT     type TEXT and Enter
 *                sendraw TEXT  type TEXT (\t is a tab, \x04 is Ctrl-D, \x03
 *                              Ctrl-C, \x1b[A the up arrow)
 *                exit CODE     wait for the program to end with CODE
 * Prints the whole terminal transcript when a step fails; exit 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <poll.h>
#include <signal.h>
#include <time.h>
#include <sys/wait.h>
#include <pty.h>

static char out[1 << 20];
static size_t out_len, seen;

static int pump(int fd, int ms)
{
    struct pollfd p = { fd, POLLIN, 0 };
    if (poll(&p, 1, ms) <= 0) return 0;
    if (out_len >= sizeof out - 1) return -1;
    ssize_t n = read(fd, out + out_len, sizeof out - 1 - out_len);
    if (n <= 0) return -1;
    out_len += (size_t)n;
    out[out_len] = '\0';
    return 1;
}

static void unescape(char *s)
{
    char *w = s;
    for (char *p = s; *p; p++) {
        if (p[0] == '\\' && p[1] == 't') { *w++ = '\t'; p++; }
        else if (p[0] == '\\' && p[1] == 'x' && p[2] && p[3]) {
            char hex[3] = { p[2], p[3], 0 };
            *w++ = (char)strtol(hex, NULL, 16);
            p += 3;
        } else *w++ = *p;
    }
    *w = '\0';
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    struct winsize ws = { 40, 120, 0, 0 };
    const char *keep = NULL;
    while (argc > 2 && argv[1][0] == '-' && argv[1][1] && !argv[1][2]) {
        unsigned cols, rows;
        if (argv[1][1] == 's' && sscanf(argv[2], "%ux%u", &cols, &rows) == 2) {
            ws.ws_col = (unsigned short)cols;
            ws.ws_row = (unsigned short)rows;
        } else if (argv[1][1] == 'o') {
            keep = argv[2];
        } else break;
        argc -= 2;
        argv += 2;
    }
    if (argc < 4 || strcmp(argv[2], "--") != 0) {
        fprintf(stderr, "usage: ptytest [-s COLSxROWS] [-o FILE] SCRIPT -- PROGRAM [ARGS...]\n");
        return 2;
    }
    FILE *script = fopen(argv[1], "r");
    if (!script) { perror(argv[1]); return 2; }
    int master;
    pid_t pid = forkpty(&master, NULL, NULL, &ws);
    if (pid < 0) { perror("forkpty"); return 2; }
    if (pid == 0) {
        setenv("TERM", "xterm", 1);
        execv(argv[3], argv + 3);
        perror("execv");
        _exit(127);
    }
    char line[4096];
    int lineno = 0, fail = 0;
    while (!fail && fgets(line, sizeof line, script)) {
        lineno++;
        line[strcspn(line, "\n")] = '\0';
        if (!line[0] || line[0] == '#') continue;
        char *arg = strchr(line, ' ');
        if (arg) *arg++ = '\0'; else arg = line + strlen(line);
        if (strcmp(line, "expect") == 0) {
            double until = now() + 10;
            char *hit;
            while (!(hit = strstr(out + seen, arg)) && now() < until)
                if (pump(master, 100) < 0) break;
            if (!hit) { fprintf(stderr, "%s:%d: never saw '%s'\n", argv[1], lineno, arg); fail = 1; }
            else seen = (size_t)(hit - out) + strlen(arg);
        } else if (strcmp(line, "send") == 0 || strcmp(line, "sendraw") == 0) {
            unescape(arg);
            size_t n = strlen(arg);
            if (write(master, arg, n) != (ssize_t)n) fail = 1;
            if (line[4] == '\0' && write(master, "\r", 1) != 1) fail = 1;
        } else if (strcmp(line, "exit") == 0) {
            int want = atoi(arg), status = 0;
            double until = now() + 10;
            pid_t r = 0;
            while ((r = waitpid(pid, &status, WNOHANG)) == 0 && now() < until) pump(master, 100);
            while (pump(master, 50) > 0) {}
            if (r != pid) { fprintf(stderr, "%s:%d: program did not exit\n", argv[1], lineno); fail = 1; }
            else if (!WIFEXITED(status) || WEXITSTATUS(status) != want) {
                fprintf(stderr, "%s:%d: exit status %d, wanted %d\n", argv[1], lineno,
                        WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), want);
                fail = 1;
            }
            pid = -1;
        } else {
            fprintf(stderr, "%s:%d: unknown step '%s'\n", argv[1], lineno, line);
            fail = 1;
        }
    }
    fclose(script);
    if (pid > 0) { kill(pid, SIGKILL); waitpid(pid, NULL, 0); }
    if (keep) {
        FILE *f = fopen(keep, "w");
        if (!f || fwrite(out, 1, out_len, f) != out_len || fclose(f) != 0) {
            perror(keep);
            fail = 1;
        }
    }
    if (fail) fprintf(stderr, "---- terminal transcript ----\n%s\n----\n", out);
    return fail;
}
