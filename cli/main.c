/* main.c -- the pushpull program: one binary, one subcommand per use.
 *
 *   pushpull [chat]     talk in the terminal (readline REPL)
 *   pushpull reply      one message per line on stdin, one reply per line out
 *   pushpull reframe    turn a complaint into a gentle start-up
 *   pushpull check      load and test the rules, score the corpus
 *   pushpull export     what the state file keeps about a conversation, as JSON
 *   pushpull sessions   list the saved conversations, or delete one
 *   pushpull telegram   run the Telegram bot
 *   pushpull matrix     run the Matrix bot
 *
 * What a subcommand writes to stdout is only known to have arrived when
 * stdout is flushed and closed, so main() does that after the subcommands
 * that answer on stdout and exits 1 with "write error" when a write failed
 * (as coreutils does: `pushpull reply >/dev/full` is an error, not exit 0;
 * see app_close_stdout in lines.c).  The bots write their log to stderr
 * and keep their own exit status.
 */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "cli.h"
#include "lines.h"
#include "matrix.h"
#include "telegram.h"

static const struct {
    const char *name;
    int (*run)(int, char **);
    const char *what;
    int answers_on_stdout;   /* 1: a failed write to stdout fails the run */
} subcommands[] = {
    {"chat", cli_chat, "talk with the coach in the terminal (the default)", 1},
    {"reply", cli_reply, "read messages from stdin, write one reply per line", 1},
    {"reframe", cli_reframe, "rewrite a complaint as a gentle start-up", 1},
    {"check", cli_check, "check rule and response files, score the corpus", 1},
    {"export", cli_export, "write what is kept about a conversation as JSON", 1},
    {"sessions", cli_sessions, "list the saved conversations, or delete one", 1},
    {"telegram", cli_telegram, "run the Telegram bot", 0},
    {"matrix", cli_matrix, "run the Matrix bot", 0},
    {NULL, NULL, NULL, 0}
};

static void usage(FILE *f)
{
    fprintf(f, "usage: pushpull [SUBCOMMAND] [OPTIONS]\n\n"
               "A relationship coach for pursue/withdraw moments (a coach, not a therapist).\n\n"
               "Subcommands:\n");
    for (int i = 0; subcommands[i].name; i++)
        fprintf(f, "  %-10s %s\n", subcommands[i].name, subcommands[i].what);
    fprintf(f, "\n'pushpull SUBCOMMAND --help' for its options.  See pushpull(1).\n"
               "Exit status: 0 ok, 1 failure, 2 usage error.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) return app_close_stdout(cli_chat(argc, argv));
    const char *sub = argv[1];
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
        usage(stdout);
        return app_close_stdout(0);
    }
    if (strcmp(sub, "--version") == 0 || strcmp(sub, "-V") == 0) {
        printf("pushpull %s\n", PP_VERSION);
        return app_close_stdout(0);
    }
    for (int i = 0; subcommands[i].name; i++)
        if (strcmp(sub, subcommands[i].name) == 0) {
            int status = subcommands[i].run(argc - 1, argv + 1);
            return subcommands[i].answers_on_stdout ? app_close_stdout(status) : status;
        }
    if (sub[0] == '-')   /* options of the default subcommand */
        return app_close_stdout(cli_chat(argc, argv));
    const char *names[sizeof subcommands / sizeof subcommands[0]];
    size_t n = 0;
    for (; subcommands[n].name; n++) names[n] = subcommands[n].name;
    names[n] = NULL;
    const char *near = app_closest(sub, names, NULL);
    fprintf(stderr, "pushpull: unknown subcommand '%.60s'", sub);
    if (near) fprintf(stderr, "; did you mean '%s'?", near);
    fprintf(stderr, "\npushpull: see 'pushpull --help'\n");
    return 2;
}
