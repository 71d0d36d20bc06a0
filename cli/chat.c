/* chat.c -- `pushpull chat`: the terminal conversation.
 *
 * On a terminal: a readline REPL with a one-line disclaimer, tab
 * completion of the commands, and a history file in
 * $XDG_STATE_HOME/pushpull/history (mode 0600).  For privacy the history
 * keeps only command words ("/reframe", never the text after it), unless
 * --keep-transcripts asks for every line.  It is kept on disk only where
 * the conversation is: not under --no-state (nor when the store could not
 * open).  Its lines are not marked by conversation, so /forget empties all
 * of it, in memory and on disk, before answering.  Colour only on a
 * terminal and only without NO_COLOR.  When stdin is not a terminal it
 * reads bounded lines (lines.c) and prints replies with no prompt or
 * colour.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <limits.h>
#include <errno.h>
#include <sys/stat.h>
#include <readline/readline.h>
#include <readline/history.h>

#include "app.h"
#include "cli.h"
#include "lines.h"

static const char *const command_words[] = {
    "/help", "/why", "/reset", "/forget", "/reframe ", "/quit", NULL
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
               "Talk with the coach.  Commands: /help /why /reset /forget /reframe TEXT /quit.\n\n");
    pp_cli_common_usage(f);
    fprintf(f, "  --keep-transcripts   store the text of each turn and the full input history\n\n"
               "History: $XDG_STATE_HOME/pushpull/history: command words only (\"/reframe\",\n"
               "not its text) unless --keep-transcripts; none on disk with --no-state; /forget\n"
               "empties all of it (its lines are not marked by conversation).\n"
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

static int batch(pp_cli_conv *cv)
{
    pp_cli_lines *in = pp_cli_lines_open(STDIN_FILENO, "pushpull chat");
    if (!in) {
        fprintf(stderr, "pushpull chat: out of memory\n");
        return 1;
    }
    const char *line;
    size_t len;
    int got;
    while ((got = pp_cli_lines_next(in, &line, &len)) > 0) {
        pp_answer a;
        pp_dialog_turn(&cv->dialog, line, len, &a);
        printf("%s\n\n", a.text ? a.text : "");
        int quit = a.quit;
        pp_answer_clear(&a);
        /* nobody hears the rest: main() says why */
        if (pp_cli_flush() != 0 || quit) break;
    }
    pp_cli_lines_close(in);
    if (got < 0) {
        perror("pushpull chat: standard input");
        return 1;
    }
    return 0;
}

/* Add what the history keeps of a line: all of it with --keep-transcripts,
 * else only a command word of ours, without the text after it. */
static void remember(const char *line, int keep_all)
{
    /* the command word as the dialog reads it (one parser for every front
     * end): "!FORGET" and "/forget@x" are kept as "/forget" */
    static const char *const kept[] = {
        [PP_CMD_HELP] = "/help", [PP_CMD_WHY] = "/why", [PP_CMD_RESET] = "/reset",
        [PP_CMD_FORGET] = "/forget", [PP_CMD_REFRAME] = "/reframe", [PP_CMD_START] = "/start",
        [PP_CMD_QUIT] = "/quit",
    };
    if (keep_all) {
        if (line[0]) add_history(line);
        return;
    }
    pp_command c = pp_dialog_command(line, strlen(line));
    if ((size_t)c < sizeof kept / sizeof kept[0] && kept[c]) add_history(kept[c]);
}

/* /forget: the history cannot tell this conversation's lines from others',
 * so it all goes, from memory and from disk, before the answer is shown. */
static void forget_history(const char *hist)
{
    clear_history();
    if (hist[0] && unlink(hist) != 0 && errno != ENOENT)
        fprintf(stderr, "pushpull: could not delete the history %s: %s\n", hist, strerror(errno));
}

/* Print text wrapped at word boundaries to the terminal's width. */
static void print_wrapped(const char *text, const char *on, const char *off)
{
    int cols = 0;
    rl_get_screen_size(NULL, &cols);
    size_t width = cols > 20 ? (size_t)cols - 1 : 79;
    if (width > 100) width = 100;
    fputs(on, stdout);
    for (const char *line = text; *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        size_t col = 0;
        for (size_t i = 0; i < len;) {
            size_t j = i;
            while (j < len && line[j] != ' ') j++;
            size_t wl = j - i, chars = 0;
            for (size_t k = i; k < j; k++) chars += ((unsigned char)line[k] & 0xC0) != 0x80;
            if (col > 0 && col + 1 + chars > width) { fputc('\n', stdout); col = 0; }
            else if (col > 0) { fputc(' ', stdout); col++; }
            fwrite(line + i, 1, wl, stdout);
            col += chars;
            i = j;
            while (i < len && line[i] == ' ') i++;
        }
        fputc('\n', stdout);
        if (!nl) break;
        line = nl + 1;
    }
    fputs(off, stdout);
    fputc('\n', stdout);
}

static int repl(pp_cli_conv *cv, const pp_ruleset *rs, int keep_all)
{
    int colour = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
    const char *on = colour ? "\033[36m" : "", *off = colour ? "\033[0m" : "";
    const char *prompt = colour ? "\001\033[1m\002you>\001\033[0m\002 " : "you> ";
    char dir[PATH_MAX], hist[PATH_MAX + 16] = "";
    if (cv->store && state_dir(dir, sizeof dir) == 0) {
        snprintf(hist, sizeof hist, "%s/history", dir);
        read_history(hist);
    }
    rl_readline_name = "pushpull";
    rl_attempted_completion_function = complete;
    printf("pushpull %s: a relationship coach, not a therapist.\n"
           "Type /help for commands and for help in a crisis, /quit to leave.\n\n", PP_VERSION);
    (void)rs;
    for (;;) {
        char *line = readline(prompt);
        if (!line) { printf("\n"); break; }
        pp_answer a;
        pp_dialog_turn(&cv->dialog, line, strlen(line), &a);
        if (a.forgot) forget_history(hist);
        else remember(line, keep_all);
        print_wrapped(a.text ? a.text : "", on, off);
        fflush(stdout);
        int quit = a.quit;
        pp_answer_clear(&a);
        free(line);
        if (quit) break;
    }
    if (hist[0] && history_length > 0) {
        write_history(hist);
        history_truncate_file(hist, 1000);
        chmod(hist, 0600);
    }
    return 0;
}

int pp_cmd_chat(int argc, char **argv)
{
    pp_cli_common c = {0};
    for (int i = 1; i < argc; i++) {
        int r = pp_cli_common_opt(&c, argc, argv, &i);
        if (r < 0) return 2;
        if (r) continue;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) { usage(stdout); return 0; }
        if (strcmp(argv[i], "--version") == 0) { printf("pushpull %s\n", PP_VERSION); return 0; }
        fprintf(stderr, "pushpull chat: unknown option '%s'\n", argv[i]);
        usage(stderr);
        return 2;
    }
    pp_ruleset *rs = pp_cli_load_rules(&c);
    if (!rs) return 1;
    pp_cli_conv cv;
    if (pp_cli_conv_open(&cv, &c, rs)) { pp_rules_free(rs); return 1; }
    int rc = isatty(STDIN_FILENO) ? repl(&cv, rs, c.keep_transcripts) : batch(&cv);
    pp_cli_conv_close(&cv);
    pp_rules_free(rs);
    return rc;
}
