/* chat.c -- `pushpull chat`: the terminal conversation.
 *
 * On a terminal: a readline REPL that behaves like python's, sqlite3's and
 * psql's.  Ctrl-C cancels the line being typed and shows a new prompt;
 * Ctrl-D on an empty line, /quit, and a bare "exit", "quit" or "bye"
 * leave; an empty line shows the prompt again; /forget asks first (y/N).
 *
 * The history: up-arrow recalls every line of this run (kept in memory
 * only).  On disk, in $XDG_STATE_HOME/pushpull/history (mode 0600), each
 * line is appended as it is typed, so a terminal closed mid-way loses
 * nothing; for privacy only command words are written ("/reframe", never
 * the text after it) unless --keep-transcripts asks for every line, and
 * nothing under --no-state (nor when the store could not open).  Its lines
 * are not marked by conversation, so /forget empties all of it, in memory
 * and on disk, before answering.
 *
 * Output: replies and the banner wrap at the terminal's width, measured in
 * display columns (mbrtowc and wcwidth in the user's LC_CTYPE: a CJK
 * character or an emoji takes two).  Colour with --color=always, or with
 * auto (the default) on a terminal when NO_COLOR is unset or empty and
 * TERM is not "dumb"; a dumb terminal gets no escapes at all.
 *
 * When stdin is not a terminal it reads bounded lines (lines.c) and prints
 * replies with no prompt or colour, each line a message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <limits.h>
#include <errno.h>
#include <strings.h>
#include <fcntl.h>
#include <locale.h>
#include <langinfo.h>
#include <poll.h>
#include <signal.h>
#include <wchar.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <readline/readline.h>
#include <readline/history.h>

#include "app.h"
#include "clock.h"
#include "cli.h"
#include "lines.h"

static const char *const command_words[] = {
    "/help", "/why", "/reset", "/new", "/forget", "/export", "/reframe ", "/plan", "/checkin",
    "/progress", "/quit", NULL
};

static char *command_generator(const char *text, int state)
{
    static int i;   /* readline's generator protocol keeps its place here */
    static size_t len;
    if (!state) { i = 0; len = strlen(text); }
    while (command_words[i]) {
        const char *w = command_words[i++];
        if (strncmp(w, text, len) == 0) return strdup(w);
    }
    return NULL;
}

static char **complete(const char *text, int start, int end)
{
    (void)end;
    rl_attempted_completion_over = 1;
    if (start == 0 && text[0] == '/') return rl_completion_matches(text, command_generator);
    return NULL;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: pushpull chat [OPTIONS]\n\n"
               "Talk with the coach.  Commands: /help /why /reset /forget /reframe TEXT /quit.\n"
               "Ctrl-C cancels the line; Ctrl-D, /quit, exit, quit or bye leave.\n\n");
    app_common_usage(f);
    fprintf(f, "  --keep-transcripts   store the text of each turn and the full input history\n"
               "  --color[=WHEN]       colour: auto (default: a terminal, no NO_COLOR, TERM not\n"
               "                       dumb), always or never\n\n"
               "The region defaults to the locale's country (LANG=en_GB.UTF-8: uk).\n"
               "History: $XDG_STATE_HOME/pushpull/history, written as you go: command words\n"
               "only (\"/reframe\", not its text) unless --keep-transcripts; none on disk with\n"
               "--no-state; up-arrow recalls every line of this run; /forget empties all of it\n"
               "(its lines are not marked by conversation).\n"
               "Exit status: 0 ok, 1 the rules could not be loaded or a read or write failed,\n"
               "2 usage error.\n");
}

static int state_dir(char *buf, size_t len)
{
    const char *x = getenv("XDG_STATE_HOME");
    const char *home = getenv("HOME");
    if (x && x[0] == '/') snprintf(buf, len, "%s/pushpull", x);
    else if (home && home[0]) snprintf(buf, len, "%s/.local/state/pushpull", home);
    else return -1;
    /* mkdir -p, private */
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", buf);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') { *p = '\0'; mkdir(tmp, 0700); *p = '/'; }
    if (mkdir(tmp, 0700) != 0 && errno != EEXIST) return -1;
    return 0;
}

static int batch(app_conv *cv)
{
    app_lines *in = app_lines_open(STDIN_FILENO, "pushpull chat");
    if (!in) {
        fprintf(stderr, "pushpull chat: out of memory\n");
        return 1;
    }
    const char *line;
    size_t len;
    int got;
    while ((got = app_lines_next(in, &line, &len)) > 0) {
        pp_answer a;
        app_conv_clock(cv);
        pp_dialog_turn(&cv->dialog, line, len, &a);
        printf("%s\n\n", a.text ? a.text : "");
        int quit = a.quit;
        pp_answer_clear(&a);
        /* nobody hears the rest: main() says why */
        if (app_flush() != 0 || quit) break;
    }
    app_lines_close(in);
    if (got < 0) {
        perror("pushpull chat: standard input");
        return 1;
    }
    return 0;
}

/* What the history file keeps of a line: all of it with --keep-transcripts,
 * else only a command word of ours, without the text after it; NULL for
 * nothing. */
static const char *kept_on_disk(const char *line, int keep_all)
{
    /* the command word as the dialog reads it (one parser for every front
     * end): "!FORGET" and "/forget@x" are kept as "/forget" */
    static const char *const kept[] = {
        [PP_CMD_HELP] = "/help", [PP_CMD_WHY] = "/why", [PP_CMD_RESET] = "/reset",
        [PP_CMD_FORGET] = "/forget", [PP_CMD_REFRAME] = "/reframe", [PP_CMD_START] = "/start",
        [PP_CMD_QUIT] = "/quit", [PP_CMD_EXPORT] = "/export", [PP_CMD_NEW] = "/new",
        [PP_CMD_PLAN] = "/plan", [PP_CMD_CHECKIN] = "/checkin", [PP_CMD_PROGRESS] = "/progress",
    };
    if (keep_all) return line[0] ? line : NULL;
    pp_command c = pp_dialog_command(line, strlen(line));
    return (size_t)c < sizeof kept / sizeof kept[0] ? kept[c] : NULL;
}

/* Append one line to the history file as it is typed (created 0600), so
 * that a terminal closed mid-way loses nothing. */
static void append_history_line(const char *hist, const char *line)
{
    if (!hist[0] || !line) return;
    int fd = open(hist, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) return;
    size_t n = strlen(line);
    char *buf = malloc(n + 1);
    if (buf) {
        memcpy(buf, line, n);
        buf[n] = '\n';
        ssize_t w = write(fd, buf, n + 1);   /* one write: two chats append whole lines */
        (void)w;
        free(buf);
    }
    close(fd);
}

/* /forget: the history cannot tell this conversation's lines from others',
 * so it all goes, from memory and from disk, before the answer is shown. */
static void forget_history(const char *hist)
{
    clear_history();
    if (hist[0] && unlink(hist) != 0 && errno != ENOENT)
        fprintf(stderr, "pushpull: could not delete the history %s: %s\n", hist, strerror(errno));
}

/* ---- the screen --------------------------------------------------------- */

/* The terminal's columns (the window now, else $COLUMNS, else 80). */
static size_t screen_columns(void)
{
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    const char *c = getenv("COLUMNS");
    long n = c ? strtol(c, NULL, 10) : 0;
    return n > 0 && n < 1000 ? (size_t)n : 80;
}

/* The next character of s[0..len): its byte length (at least 1) and, in
 * *cols, the columns it takes: wcwidth() in the locale's encoding; where
 * that cannot decode (a C locale) one column per UTF-8 character. */
static size_t next_char(const char *s, size_t len, size_t *cols)
{
    if (MB_CUR_MAX > 1) {
        mbstate_t st;
        memset(&st, 0, sizeof st);
        wchar_t wc;
        size_t n = mbrtowc(&wc, s, len, &st);
        if (n > 0 && n <= len) {
            int w = wcwidth(wc);
            *cols = w < 0 ? 1 : (size_t)w;
            return n;
        }
    }
    size_t n = 1;
    while (n < len && ((unsigned char)s[n] & 0xC0) == 0x80) n++;
    *cols = 1;
    return n;
}

/* Print text wrapped at word boundaries to the terminal's width, in
 * display columns.  A word wider than the line is broken between its
 * characters when it holds wide ones (CJK writes no spaces); any other
 * (a web address) is left whole for the terminal to wrap. */
static void print_wrapped(const char *text, const char *on, const char *off)
{
    size_t cols = screen_columns();
    size_t width = cols > 20 ? cols - 1 : 79;
    if (width > 100) width = 100;
    fputs(on, stdout);
    for (const char *line = text; *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        size_t col = 0;
        for (size_t i = 0; i < len;) {
            size_t j = i, wcols = 0, c;
            int wide = 0;
            while (j < len && line[j] != ' ') {
                j += next_char(line + j, len - j, &c);
                wcols += c;
                wide |= c > 1;
            }
            if (col > 0 && col + 1 + wcols > width) { fputc('\n', stdout); col = 0; }
            else if (col > 0) { fputc(' ', stdout); col++; }
            if (wide && col + wcols > width) {
                for (size_t k = i; k < j;) {
                    size_t n = next_char(line + k, j - k, &c);
                    if (col > 0 && col + c > width) { fputc('\n', stdout); col = 0; }
                    fwrite(line + k, 1, n, stdout);
                    col += c;
                    k += n;
                }
            } else {
                fwrite(line + i, 1, j - i, stdout);
                col += wcols;
            }
            i = j;
            while (i < len && line[i] == ' ') i++;
        }
        fputc('\n', stdout);
        if (!nl) break;
        line = nl + 1;
    }
    fputs(off, stdout);
}

/* ---- reading a line: Ctrl-C cancels it ---------------------------------- */

/* Readline catches SIGINT while it reads (it puts the terminal back and
 * echoes ^C), then passes it on to this handler; read_key() sees the flag
 * and ends the line, which repl() throws away. */
static volatile sig_atomic_t interrupted;
static int cancelled;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* readline's getc: one byte of the terminal, or on Ctrl-C a newline that
 * ends the line (marked cancelled).  poll() is never restarted after a
 * signal, so the wait ends as soon as readline has seen the signal. */
static int read_key(FILE *in)
{
    int fd = fileno(in);
    for (;;) {
        if (interrupted) {
            interrupted = 0;
            cancelled = 1;
            rl_point = rl_end;   /* the cursor after the text, as it is left */
            return '\n';
        }
        struct pollfd p = { fd, POLLIN, 0 };
        int r = poll(&p, 1, -1);
        if (r < 0 && errno == EINTR) { rl_check_signals(); continue; }
        if (r < 0) return EOF;
        unsigned char ch;
        ssize_t n = read(fd, &ch, 1);
        if (n == 1) return ch;
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) { rl_check_signals(); continue; }
        return EOF;
    }
}

/* A line read with prompt: NULL at end of input (Ctrl-D); *was_cancelled
 * when Ctrl-C ended it (the line is then freed and NULL returned too). */
static char *read_line(const char *prompt, int *was_cancelled)
{
    interrupted = 0;   /* a Ctrl-C while a reply was written is not for this line */
    cancelled = 0;
    char *line = readline(prompt);
    *was_cancelled = cancelled;
    if (cancelled) { free(line); return NULL; }
    return line;
}

/* ---- the conversation --------------------------------------------------- */

/* A line that is only spaces and tabs. */
static int blank(const char *s)
{
    return s[strspn(s, " \t\r")] == '\0';
}

/* "exit", "quit" and "bye" alone (any case, spaces or a full stop around):
 * what people type to leave a prompt. */
static int means_leave(const char *s)
{
    static const char *const words[] = { "exit", "quit", "bye", "exit()", "quit()", NULL };
    s += strspn(s, " \t");
    size_t n = strcspn(s, " \t.!");
    if (s[n + strspn(s + n, " \t.!")] != '\0') return 0;
    for (int k = 0; words[k]; k++)
        if (n == strlen(words[k]) && strncasecmp(s, words[k], n) == 0) return 1;
    return 0;
}

/* /forget in the REPL asks first: 1 when the user said yes. */
static int confirm_forget(void)
{
    int was_cancelled;
    char *a = read_line("Delete everything pushpull keeps about this conversation, and the "
                        "whole input history? [y/N] ", &was_cancelled);
    int yes = a && (strcasecmp(a, "y") == 0 || strcasecmp(a, "yes") == 0);
    if (!a && !was_cancelled) fputc('\n', stdout);   /* Ctrl-D ends the question, not the chat */
    free(a);
    return yes;
}

/* On start, in a program's check-in day: say so (the words are the
 * dialog's: system.checkin-due and the question, through a turn that
 * changes nothing but what the next line may answer). */
static void greet_checkin(app_conv *cv, const char *on, const char *off)
{
    app_conv_clock(cv);
    if (!pp_plan_checkin_due(cv->dialog.rules, cv->session, cv->dialog.now, cv->dialog.utc_offset))
        return;
    char *text = NULL, err[256];
    if (pp_plan_nudge(cv->dialog.rules, cv->store, cv->key, cv->dialog.now, cv->dialog.utc_offset,
                      &text, err, sizeof err) == 1 && text) {
        print_wrapped(text, on, off);
        fputc('\n', stdout);
    }
    free(text);
}

typedef struct repl_opts {
    int keep_all;
    int colour;
} repl_opts;

static int repl(app_conv *cv, const repl_opts *o)
{
    const char *on = o->colour ? "\033[36m" : "", *off = o->colour ? "\033[0m" : "";
    const char *prompt = o->colour ? "\001\033[1m\002you>\001\033[0m\002 " : "you> ";
    char dir[PATH_MAX], hist[PATH_MAX + 16] = "";
    if (cv->store && state_dir(dir, sizeof dir) == 0) {
        snprintf(hist, sizeof hist, "%s/history", dir);
        read_history(hist);
    }
    rl_readline_name = "pushpull";
    rl_attempted_completion_function = complete;
    rl_getc_function = read_key;
    struct sigaction sa, old_int;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sa.sa_flags = SA_RESTART;   /* a Ctrl-C while a reply is written does not cut it */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);

    char banner[256];
    snprintf(banner, sizeof banner, "pushpull %s: a relationship coach, not a therapist.\n"
             "Type /help for commands and for help in a crisis, /quit to leave.", PP_VERSION);
    print_wrapped(banner, "", "");
    fputc('\n', stdout);
    if (cv->resumed[0]) {
        print_wrapped(cv->resumed, "", "");
        fputc('\n', stdout);
    }
    greet_checkin(cv, on, off);
    int status = 0;
    for (;;) {
        fflush(stdout);
        int was_cancelled;
        char *line = read_line(prompt, &was_cancelled);
        if (was_cancelled) continue;   /* Ctrl-C: a new prompt, like python's */
        if (!line) { printf("\n"); break; }
        if (blank(line)) { free(line); continue; }
        add_history(line);   /* up-arrow: every line of this run, in memory */
        const char *said = means_leave(line) ? "/quit" : line;
        pp_command cmd = pp_dialog_command(said, strlen(said));
        if (cmd == PP_CMD_FORGET && !confirm_forget()) {
            append_history_line(hist, kept_on_disk(line, o->keep_all));
            puts("Nothing was deleted.\n");
            free(line);
            continue;
        }
        pp_answer a;
        app_conv_clock(cv);
        pp_dialog_turn(&cv->dialog, said, strlen(said), &a);
        if (a.forgot) forget_history(hist);
        else append_history_line(hist, kept_on_disk(o->keep_all ? line : said, o->keep_all));
        print_wrapped(a.text ? a.text : "", on, off);
        fputc('\n', stdout);
        int quit = a.quit;
        pp_answer_clear(&a);
        free(line);
        if (app_flush() != 0) { status = 1; break; }
        if (quit) break;
    }
    if (hist[0] && access(hist, F_OK) == 0) history_truncate_file(hist, 1000);
    sigaction(SIGINT, &old_int, NULL);
    return status;
}

int cli_chat(int argc, char **argv)
{
    static const char *const names[] = { "--color", "--colour", "--help", "--version", NULL };
    app_common c = { .locale_region = 1 };
    const char *when = "auto";
    for (int i = 1; i < argc; i++) {
        int r = app_common_opt(&c, argc, argv, &i);
        if (r < 0) return 2;
        if (r) continue;
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) { usage(stdout); return 0; }
        if (strcmp(a, "--version") == 0) { printf("pushpull %s\n", PP_VERSION); return 0; }
        if (strcmp(a, "--color") == 0 || strcmp(a, "--colour") == 0) { when = "always"; continue; }
        if (strncmp(a, "--color=", 8) == 0 || strncmp(a, "--colour=", 9) == 0) {
            when = strchr(a, '=') + 1;
            if (strcmp(when, "auto") && strcmp(when, "always") && strcmp(when, "never")) {
                fprintf(stderr, "pushpull chat: --color takes auto, always or never, not '%.40s'\n"
                                "pushpull chat: see 'pushpull chat --help'\n", when);
                return 2;
            }
            continue;
        }
        return app_unknown_arg("pushpull chat", a, names, 1);
    }
    pp_ruleset *rs = app_load_rules(&c);
    if (!rs) return 1;
    app_conv cv;
    if (app_conv_open(&cv, &c, rs)) { pp_rules_free(rs); return 1; }
    int rc;
    if (isatty(STDIN_FILENO)) {
        setlocale(LC_CTYPE, "");   /* readline and the wrapping read the user's encoding */
        const char *term = getenv("TERM"), *no_color = getenv("NO_COLOR");
        int dumb = !term || !term[0] || strcmp(term, "dumb") == 0;
        repl_opts o = {
            .keep_all = c.keep_transcripts,
            .colour = strcmp(when, "always") == 0
                      || (strcmp(when, "auto") == 0 && isatty(STDOUT_FILENO) && !dumb
                          && !(no_color && no_color[0])),
        };
        const char *cs = nl_langinfo(CODESET);
        cv.dialog.ascii = !(cs && (strcasecmp(cs, "UTF-8") == 0 || strcasecmp(cs, "utf8") == 0));
        rc = repl(&cv, &o);
    } else {
        /* piped: UTF-8 charts unless the locale says otherwise */
        setlocale(LC_CTYPE, "");
        const char *cs = nl_langinfo(CODESET);
        cv.dialog.ascii = !(cs && (strcasecmp(cs, "UTF-8") == 0 || strcasecmp(cs, "utf8") == 0));
        rc = batch(&cv);
    }
    app_conv_close(&cv);
    pp_rules_free(rs);
    return rc;
}
