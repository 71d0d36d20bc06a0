/* cli.h -- the terminal subcommands of the pushpull program.  Each takes
 * the argv that follows its name (argv[0] is the subcommand) and returns
 * the exit status: 0 ok, 1 failure (a check failed, a fatal error), 2 usage
 * error.  The bots' subcommands are declared in bots/telegram.h and
 * bots/matrix.h; what every front end shares is in app/app.h. */
#ifndef PP_CLI_H
#define PP_CLI_H

int cli_chat(int argc, char **argv);
int cli_reply(int argc, char **argv);
int cli_reframe(int argc, char **argv);
int cli_check(int argc, char **argv);
int cli_export(int argc, char **argv);     /* sessions.c */
int cli_sessions(int argc, char **argv);

#endif
