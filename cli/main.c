/* main.c -- the pushpull program: one binary, one subcommand per use.
 *
 *   pushpull [chat]     talk in the terminal (readline REPL)
 *   pushpull reply      one message per line on stdin, one reply per line out
 *   pushpull reframe    turn a complaint into a gentle start-up
 *   pushpull check      load and test the rules, score the corpus
 *   pushpull telegram   run the Telegram bot
 *   pushpull matrix     run the Matrix bot
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct { const char *name; int (*run)(int, char **); const char *what; } subcommands[] = {
    {"chat", pp_cmd_chat, "talk with the coach in the terminal (the default)"},
    {"reply", pp_cmd_reply, "read messages from stdin, write one reply per line"},
    {"reframe", pp_cmd_reframe, "rewrite a complaint as a gentle start-up"},
    {"check", pp_cmd_check, "check rule and response files, score the corpus"},
    {"telegram", pp_cmd_telegram, "run the Telegram bot"},
    {"matrix", pp_cmd_matrix, "run the Matrix bot"},
    {NULL, NULL, NULL}
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
    if (argc < 2) return pp_cmd_chat(argc, argv);
    const char *sub = argv[1];
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(sub, "--version") == 0 || strcmp(sub, "-V") == 0) {
        printf("pushpull %s\n", PP_VERSION);
        return 0;
    }
    for (int i = 0; subcommands[i].name; i++)
        if (strcmp(sub, subcommands[i].name) == 0)
            return subcommands[i].run(argc - 1, argv + 1);
    if (sub[0] == '-')   /* options of the default subcommand */
        return pp_cmd_chat(argc, argv);
    fprintf(stderr, "pushpull: unknown subcommand '%s'\n", sub);
    usage(stderr);
    return 2;
}
