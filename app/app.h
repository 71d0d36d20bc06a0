/* app.h -- what every front end of the pushpull program shares, above the
 * engine: the common command-line options, finding and loading the rules
 * (with the crisis check that no front end may skip), and opening a
 * conversation (store, session key, session).  The terminal subcommands
 * (cli/) and the bots (bots/) use it; libpushpull does not contain it: it
 * prints to stderr and reads /proc/self/exe, which a library must not do.
 *
 * Its names carry the app_ prefix (docs/architecture.md, "Names"). */
#ifndef PP_APP_H
#define PP_APP_H

#include <limits.h>
#include <stdio.h>
#include "pushpull.h"

/* Options every engine-using subcommand shares: --rules DIR, --responses
 * DIR, --programs DIR, --region R, --state PATH, --session NAME, --new, --no-state,
 * --keep-transcripts.  app_common_opt() consumes argv[*i] (and its
 * value) when it is one of them and returns 1; 0 when it is not; -1 with a
 * message on stderr when its value is missing. */
typedef struct app_common {
    const char *rules_dir, *responses_dir, *region, *state_path, *session;
    const char *programs_dir;   /* --programs DIR (/plan's program files) */
    int fresh, no_state, keep_transcripts;
    /* Set by the terminal subcommands: with neither --region nor
     * PUSHPULL_REGION, the region is the locale's country (en_GB -> uk).
     * Not for the bots, whose users are not where the server is. */
    int locale_region;
    /* Set by `pushpull export`: look at the conversation, change nothing
     * (not even which session was used last). */
    int look_only;
} app_common;

int app_common_opt(app_common *c, int argc, char **argv, int *i);
/* The common options' names, NULL-terminated. */
extern const char *const app_common_names[];
/* An argument that is no option of who ("pushpull chat"): says so on
 * stderr, naming it, with "did you mean" when an option of known (and of
 * the common ones when common is 1; both NULL-terminated) is within two
 * edits, and a pointer to `who --help`.  Returns 2, the usage status. */
int app_unknown_arg(const char *who, const char *arg, const char *const *known, int common);
/* The word of known or more (NULL-terminated, either may be NULL) at most
 * two edits from word (its part before '='), else NULL. */
const char *app_closest(const char *word, const char *const *known, const char *const *more);
/* The region of the crisis lines that c asks for (--region, else
 * PUSHPULL_REGION, else the locale when c->locale_region), as the name
 * responses_dir/resources.tsv uses, in buf: ISO 3166 codes and a few names
 * are read as the region they name (gb -> uk).  NULL for the default.  A
 * region asked for that the file does not have gets one warning a run on
 * stderr naming the lines used instead; the locale's never warns. */
const char *app_region(const app_common *c, const char *responses_dir, char *buf, size_t len);
/* Describe the common options (all but --keep-transcripts) for --help. */
void app_common_usage(FILE *f);
/* Only the data options (--rules, --responses, --region, --state): what
 * the bots take of them besides --keep-transcripts. */
void app_data_usage(FILE *f);
/* Load the rule set named by c (defaults: the source tree when run from it,
 * else the installed share dir); prints every error to stderr.  A set
 * without crisis rules (pp_rules_check_crisis) is refused: NULL, with an
 * error naming the rules directory.  Callers exit 1 on NULL. */
pp_ruleset *app_load_rules(const app_common *c);
/* The directories app_load_rules reads (c's, else the defaults, kept in
 * the buffers), for start-up log lines.  Valid while c and out are. */
typedef struct app_dirs {
    const char *rules, *responses, *programs;
    char rules_buf[PATH_MAX], responses_buf[PATH_MAX], programs_buf[PATH_MAX];
} app_dirs;
void app_data_dirs(const app_common *c, app_dirs *out);
/* The default directory for "rules" or "responses". */
const char *app_default_dir(const char *what, char *buf, size_t len);

/* A CLI conversation: the store (unless --no-state or it cannot be
 * opened, in which case it says so on stderr and runs in memory), the
 * session key "cli:<name>" (--session, else the last one used, else
 * "default"), and the session, resumed unless --new.  The last one used is
 * the CLI's own record, the store setting PP_CLI_LAST_SESSION about that
 * conversation (so /forget of it deletes the record too).  A session name is 1
 * to PP_CLI_MAX_SESSION bytes: a longer one is refused, never cut (two
 * names that differ only past the cut would share one conversation).
 * app_conv_open returns 0, or -1 with a message on stderr. */
#define PP_CLI_MAX_SESSION 127
#define PP_CLI_LAST_SESSION "cli.last_session"
typedef struct app_conv {
    pp_store *store;
    pp_session *session;
    char key[4 + PP_CLI_MAX_SESSION + 1];   /* "cli:" and the name */
    /* A state file is there but could not be used: why, for /forget
     * ("" = it was used, or there is none, or --no-state). */
    char store_unusable[512];
    /* A saved conversation was resumed: "Continuing the conversation from
     * 3 days ago; /new starts afresh." for the chat to show ("" = none). */
    char resumed[256];
    pp_dialog dialog;
} app_conv;

int app_conv_open(app_conv *cv, const app_common *c, const pp_ruleset *rs);
/* Before each turn: the dialog's now (app_now()) and the local offset. */
void app_conv_clock(app_conv *cv);
void app_conv_close(app_conv *cv);
/* A span of secs in words: "a moment ago", "5 minutes ago", "yesterday",
 * "3 days ago". */
void app_ago(long long secs, char *buf, size_t len);

#endif
