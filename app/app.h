/* app.h -- what every front end of the pushpull program shares, above the
 * engine: the common command-line options, finding and loading the rules
 * (with the crisis check that no front end may skip), and opening a
 * conversation (store, session key, session).  The terminal subcommands
 * (cli/) and the bots (bots/) use it; libpushpull does not contain it: it
 * prints to stderr and reads /proc/self/exe, which a library must not do.
 *
 * The names keep their historical pp_cli_ prefix (the options are the
 * command line every front end shares). */
#ifndef PP_APP_H
#define PP_APP_H

#include <limits.h>
#include <stdio.h>
#include "pushpull.h"

/* Options every engine-using subcommand shares: --rules DIR, --responses
 * DIR, --region R, --state PATH, --session NAME, --new, --no-state,
 * --keep-transcripts.  pp_cli_common_opt() consumes argv[*i] (and its
 * value) when it is one of them and returns 1; 0 when it is not; -1 with a
 * message on stderr when its value is missing. */
typedef struct pp_cli_common {
    const char *rules_dir, *responses_dir, *region, *state_path, *session;
    int fresh, no_state, keep_transcripts;
} pp_cli_common;

int pp_cli_common_opt(pp_cli_common *c, int argc, char **argv, int *i);
/* Describe the common options (all but --keep-transcripts) for --help. */
void pp_cli_common_usage(FILE *f);
/* Load the rule set named by c (defaults: the source tree when run from it,
 * else the installed share dir); prints every error to stderr.  A set
 * without crisis rules (pp_rules_check_crisis) is refused: NULL, with an
 * error naming the rules directory.  Callers exit 1 on NULL. */
pp_ruleset *pp_cli_load_rules(const pp_cli_common *c);
/* The directories pp_cli_load_rules reads (c's, else the defaults, kept in
 * the buffers), for start-up log lines.  Valid while c and out are. */
typedef struct pp_cli_dirs {
    const char *rules, *responses;
    char rules_buf[PATH_MAX], responses_buf[PATH_MAX];
} pp_cli_dirs;
void pp_cli_data_dirs(const pp_cli_common *c, pp_cli_dirs *out);
/* The default directory for "rules" or "responses". */
const char *pp_cli_default_dir(const char *what, char *buf, size_t len);

/* A CLI conversation: the store (unless --no-state or it cannot be
 * opened, in which case it says so on stderr and runs in memory), the
 * session key "cli:<name>" (--session, else the last one used, else
 * "default"), and the session, resumed unless --new.  A session name is 1
 * to PP_CLI_MAX_SESSION bytes: a longer one is refused, never cut (two
 * names that differ only past the cut would share one conversation).
 * pp_cli_conv_open returns 0, or -1 with a message on stderr. */
#define PP_CLI_MAX_SESSION 127
typedef struct pp_cli_conv {
    pp_store *store;
    pp_session *session;
    char key[4 + PP_CLI_MAX_SESSION + 1];   /* "cli:" and the name */
    /* A state file is there but could not be used: why, for /forget
     * ("" = it was used, or there is none, or --no-state). */
    char store_unusable[512];
    pp_dialog dialog;
} pp_cli_conv;

int pp_cli_conv_open(pp_cli_conv *cv, const pp_cli_common *c, const pp_ruleset *rs);
void pp_cli_conv_close(pp_cli_conv *cv);

#endif
