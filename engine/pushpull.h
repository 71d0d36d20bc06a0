/* pushpull.h -- the one public header of libpushpull.
 *
 * pushpull is a rule-based relationship coach.  The library has five parts,
 * each with its own prefix:
 *
 *   pp_rules_*    load rule and response files into an immutable rule set
 *   pp_session_*  the state of one conversation (role, partner, framework...)
 *   pp_reply()    one user message in, one coaching reply out
 *   pp_reframe_*  turn a blaming complaint into a gentle start-up
 *   pp_store_*    sessions on disk (SQLite), with bot cursors and /forget
 *   pp_dialog_*   the shared front-end turn: commands (/why, /reset, ...)
 *                 plus pp_reply(), used by chat, reply and both bots
 *
 * Ownership: every pointer a pp_*_new/_load/_open returns is freed by the
 * matching pp_*_free/_close.  Strings inside result structs are owned by the
 * struct and freed by its pp_*_clear function.  Functions that can fail
 * return 0 on success and a negative PP_E* code on failure, with a message
 * in the pp_errors or char buffer they were given.  The library never
 * prints, never exits and never aborts on bad input.
 *
 * Threads: a pp_ruleset is immutable once loaded and may be shared by any
 * number of threads.  A pp_session belongs to one thread at a time.
 */
#ifndef PUSHPULL_H
#define PUSHPULL_H

#include <stddef.h>
#include <stdint.h>

#define PP_VERSION "0.1.0"

/* Error codes. */
#define PP_OK        0
#define PP_EIO      -1    /* a file could not be read or written */
#define PP_ESYNTAX  -2    /* a rule or response file has errors */
#define PP_ENOMEM   -3
#define PP_EINPUT   -4    /* the input was refused (see message) */
#define PP_ESTORE   -5    /* the state database failed */
#define PP_ECORRUPT -6    /* the state database is not one we can read */

/* Limits.  Input longer than PP_MAX_INPUT bytes is cut (with a notice). */
#define PP_MAX_INPUT      4096
#define PP_MATCH_LIMIT    200000   /* pcre2 match limit per pattern */
#define PP_DEPTH_LIMIT    2000     /* pcre2 depth limit per pattern */
#define PP_STEP_BUDGET    1000000  /* pcre2 match steps for all the patterns of
                                      one message (crisis rules always run) */

/* ---- errors ------------------------------------------------------------ */

/* A list of "file:line: message" strings, collected so that every error in a
 * rules directory is reported at once. */
typedef struct pp_errors {
    char **msg;
    size_t count, cap;
} pp_errors;

void pp_errors_init(pp_errors *e);
void pp_errors_add(pp_errors *e, const char *file, int line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
void pp_errors_clear(pp_errors *e);

/* ---- roles ------------------------------------------------------------- */

typedef enum pp_role {
    PP_ROLE_NONE = 0,
    PP_ROLE_PURSUER,
    PP_ROLE_WITHDRAWER,
    PP_ROLE_CRISIS
} pp_role;

const char *pp_role_name(pp_role r);            /* "none", "pursuer", ... */
int pp_role_parse(const char *s, pp_role *out); /* 0 ok, -1 unknown */

/* ---- rule sets --------------------------------------------------------- */

typedef struct pp_ruleset pp_ruleset;

typedef struct pp_load_options {
    const char *rules_dir;      /* every *.rules file in it */
    const char *responses_dir;  /* every *.responses file, resources.tsv */
    const char *region;         /* crisis resources region, NULL = default */
} pp_load_options;

/* Load and compile.  On any error returns NULL and fills errs with every
 * problem found ("file:line: message"); a set with errors is never
 * half-used.  Free with pp_rules_free(). */
pp_ruleset *pp_rules_load(const pp_load_options *opt, pp_errors *errs);
void pp_rules_free(pp_ruleset *rs);

size_t pp_rules_count(const pp_ruleset *rs);

/* How the language layer reads a message (docs/language.md, "What rules
 * see"): its clauses one per line, each the subject mark, the concepts
 * found and the lemmas, exactly what `clause:` patterns run against.  For
 * a coach checking why a rule does or does not fire (`pushpull check
 * --read`).  Returns a malloc'd string, "" when the set has no lexicon,
 * NULL when out of memory. */
char *pp_rules_reading(const pp_ruleset *rs, const char *bytes, size_t len);

/* Programs (issue 24, docs/programs.md): read every *.program file of dir
 * into rs, once, after pp_rules_load and before rs is shared.  Unlike a
 * rule, a broken program never fails: it is left out, the others load,
 * and each problem is added to errs as "file:line: message".  Returns the
 * number of programs rs holds, or PP_EINPUT (rs or dir NULL). */
int pp_rules_load_programs(pp_ruleset *rs, const char *dir, pp_errors *errs);

/* Read-only view of one rule, for `pushpull check` and /why. */
typedef struct pp_rule_info {
    const char *id;
    const char *file;
    int line;
    pp_role role;
    const char *framework;
    const char *reply_set;      /* response set used (default: framework) */
    int priority;
    int contextual;             /* has `after:`: only fires in a conversation */
    size_t n_examples, n_counter;
    const char *const *examples;
    const char *const *counter;
    const int *example_lines;   /* file line of each example */
    const int *counter_lines;
} pp_rule_info;

int pp_rules_info(const pp_ruleset *rs, size_t i, pp_rule_info *out);

/* The fail-safe every front end runs on a loaded set, refusing to start
 * without it: does the set hold crisis rules for both kinds of danger the
 * engine answers -- suicide or self-harm, and violence or threats?  A kind
 * is covered by a crisis rule without `after:` whose reply set is the
 * kind's own (safety.selfharm, safety.violence) or the generic `safety`.
 * Returns the number of crisis rules without `after:` (> 0) when both are
 * covered, else PP_EINPUT with what is missing, in words, in err. */
int pp_rules_check_crisis(const pp_ruleset *rs, char *err, size_t errlen);

/* The framework catalogue (the rules directory's *.catalog files), in
 * file order: which frameworks exist, their source articles, which are
 * locked after an abuse disclosure.  Strings are owned by the set. */
typedef struct pp_framework_info {
    const char *id;
    const char *article;        /* the source article's title; "" = none */
    const char *source;         /* where in the seed articles; "" = unsaid */
    unsigned roles;             /* bit (1 << pp_role): typically offered to */
    int locked_after_abuse;     /* never coached with after `flag: abuse` */
    const char *file;
    int line;
} pp_framework_info;

size_t pp_rules_framework_count(const pp_ruleset *rs);
/* 0, or PP_EINPUT when i is out of range. */
int pp_rules_framework(const pp_ruleset *rs, size_t i, pp_framework_info *out);
/* The index of framework id in the catalogue, or -1. */
int pp_rules_framework_find(const pp_ruleset *rs, const char *id);

/* The title of a response set's source article ("" when it has none). */
const char *pp_rules_article(const pp_ruleset *rs, const char *set_id);

/* ---- matching (no session; used by check, tests and the bench) --------- */

typedef struct pp_match {
    int rule;            /* index of the winning rule, -1 = none */
    int limit_hit;       /* some pattern hit the pcre2 match/depth limit */
    size_t start, end;   /* span of the winning match in the normalised text */
    int n_candidates;    /* rules whose patterns matched (before priority) */
    int budget_spent;    /* PP_STEP_BUDGET ran out: rules after were not tried */
    int spent_by[3];     /* then the rules that spent most of it, -1 = none */
    pp_role role;        /* the role the reply takes: the winner's, or for a
                            direct question the side the message leans to */
} pp_match;

/* Normalise bytes (see pp_input_normalize) and match them against every
 * rule, crisis rules first, the way a reply would; rules with `after:` are
 * skipped (they need a conversation).  0 or a negative error. */
int pp_match_text(const pp_ruleset *rs, const char *bytes, size_t len, pp_match *out);

/* Does rule i (any of its patterns, and none of its exclusions) match the
 * normalised bytes?  1 yes, 0 no; *limit_hit is set when a pattern hit the
 * PCRE2 limits. */
int pp_match_rule(const pp_ruleset *rs, size_t i, const char *bytes, size_t len,
                  int *limit_hit);

/* pp_match_rule for every rule at once, normalising the bytes once: adds 1
 * to counts[i] (room for pp_rules_count) for each rule i whose patterns hit
 * the PCRE2 limits on them.  0 or PP_ENOMEM. */
int pp_match_limits(const pp_ruleset *rs, const char *bytes, size_t len, size_t *counts);

/* ---- input ------------------------------------------------------------- */

/* Clean arbitrary bytes into bounded, valid, normalised UTF-8: invalid
 * sequences become U+FFFD, NUL and control characters become spaces, curly
 * quotes become straight, emoji become spaces, runs of white space become
 * one, and text past PP_MAX_INPUT bytes is cut on a character boundary.
 * Returns a malloc'd string (caller frees) and sets *notice to a constant
 * message when something was repaired or cut (else NULL). */
char *pp_input_normalize(const char *bytes, size_t len, size_t *out_len,
                         const char **notice);

/* ELIZA-style reflection: "I feel ignored by my wife" -> "you feel ignored
 * by your wife".  Returns a malloc'd string. */
char *pp_reflect(const char *text, size_t len);

/* ---- sessions ---------------------------------------------------------- */

typedef struct pp_session pp_session;

pp_session *pp_session_new(void);
void pp_session_free(pp_session *s);
/* /reset: forget the coaching state (role, framework, partner, safety
 * lock, used variants), keep the turn counter. */
void pp_session_reset(pp_session *s);
/* Make dst the same conversation as src (a copy to undo a turn with, or a
 * session read from the store), without a JSON round trip; dst keeps its
 * own working memory.  0, or PP_EINPUT for a NULL argument. */
int pp_session_copy(pp_session *dst, const pp_session *src);

/* Serialise to a JSON string (malloc'd) and back; for the store.  load
 * returns 0, or PP_ECORRUPT with a message in err. */
char *pp_session_save(const pp_session *s);
int pp_session_load(pp_session *s, const char *json, char *err, size_t errlen);

/* Read-only accessors. */
pp_role pp_session_role(const pp_session *s);
const char *pp_session_framework(const pp_session *s);   /* NULL if none */
unsigned pp_session_turns(const pp_session *s);
int pp_session_safety_locked(const pp_session *s);

/* ---- replies ----------------------------------------------------------- */

typedef struct pp_reply {
    char *text;          /* the reply to show; never NULL after success */
    char *input;         /* the normalised input the rules saw */
    const char *rule;    /* id of the rule that matched, NULL = none */
    const char *framework;   /* NULL = none */
    const char *set;         /* response set used */
    const char *article;     /* source article title, NULL = none */
    pp_role role;
    int safety;          /* 1 when the reply is a crisis/safety reply */
    int mixed;           /* both sides of the dance had weight ("we both do it") */
    const char *notice;  /* input repaired or cut, NULL = clean */
    const char *act;     /* the dialogue act recognised: a rule's `act:`
                            ("ask.how-long", "pushback", "tried"), "tell"
                            (a situation), "crisis", or "other" (no rule) */
    const char *topic;   /* the framework the session is in after the
                            turn, NULL = none yet */
} pp_reply;

/* One turn: updates the session.  Returns 0 or a negative error. */
int pp_reply_make(const pp_ruleset *rs, pp_session *s, const char *bytes,
                  size_t len, pp_reply *out);
void pp_reply_clear(pp_reply *r);

/* The disclaimer shown with the first reply of every session. */
const char *pp_disclaimer(const pp_ruleset *rs);
/* Crisis resources for the ruleset's region, as plain text lines. */
const char *pp_resources(const pp_ruleset *rs);

/* ---- reframing --------------------------------------------------------- */

#define PP_HORSEMAN_CRITICISM     0x1
#define PP_HORSEMAN_CONTEMPT      0x2
#define PP_HORSEMAN_DEFENSIVENESS 0x4
#define PP_HORSEMAN_STONEWALLING  0x8

typedef struct pp_reframe_result {
    char *text;          /* the complaint as given (normalised) */
    unsigned horsemen;   /* PP_HORSEMAN_* bits */
    char *rewrite;       /* the gentle start-up, or a template with blanks */
    char **notes;        /* one plain sentence per finding */
    size_t n_notes;
    int already_gentle;  /* 1: praised, not rewritten (rewrite = text) */
    int template_only;   /* 1: too little to go on, rewrite is a template */
    const pp_ruleset *rules;   /* the set it was read with: pp_reframe_format
                                  says its labels from its responses */
} pp_reframe_result;

/* Reframe one complaint with the word lists rs loaded (the *.words files
 * of its responses directory; docs/rules.md).  0 or a negative error;
 * PP_EINPUT when rs is NULL or has no word lists. */
int pp_reframe(const pp_ruleset *rs, const char *bytes, size_t len, pp_reframe_result *out);
void pp_reframe_clear(pp_reframe_result *r);
const char *pp_horseman_name(unsigned bit);  /* "criticism", ... */
/* The result as text for people: what was found, one line per note, then
 * the rewrite ("Try saying:") or the praise ("Keep saying:").  malloc'd;
 * NULL when out of memory.  Used by `pushpull reframe` and /reframe. */
char *pp_reframe_format(const pp_reframe_result *r);

/* ---- the state store (SQLite) ------------------------------------------ */

typedef struct pp_store pp_store;

/* Open (creating with mode 0600, WAL, busy timeout, migrations) the state
 * database at path.  NULL path = $XDG_STATE_HOME/pushpull/state.db.
 * Returns NULL with a message in err on failure; never overwrites a file it
 * cannot read. */
pp_store *pp_store_open(const char *path, char *err, size_t errlen);
void pp_store_close(pp_store *st);

/* Why a state database could not be used.  pp_store_open_ex returns one of
 * these (or PP_EIO: no state directory, path too long; PP_ENOMEM; PP_ESTORE:
 * anything else, e.g. a schema newer than this pushpull), and the calls
 * below return them when SQLite says why.  Only PP_ECORRUPT means the file
 * itself is bad; the others leave a healthy file that cannot be used here
 * and now. */
#define PP_STORE_EREADONLY  -20   /* read-only file, directory or file system */
#define PP_STORE_ECANTOPEN  -21   /* cannot be opened or created (permissions...) */
#define PP_STORE_EFULL      -22   /* the disk or quota is full */
#define PP_STORE_EBUSY      -23   /* another process held it locked past the busy timeout */
#define PP_STORE_EIOERR     -24   /* the disk reported an I/O error */
/* pp_store_open, with the class of a failure as the return (0: *out is the
 * store).  *existed (may be NULL) is set to 1 when a file was already at the
 * path, so a caller knows that rows it cannot reach may be there. */
int pp_store_open_ex(const char *path, pp_store **out, int *existed, char *err, size_t errlen);
/* What a user can do about a failure of that class, as a phrase
 * ("the disk is full; ..."); a constant string. */
const char *pp_store_advice(int code);
const char *pp_store_path(const pp_store *st);
/* The path pp_store_open(NULL, ...) opens, in buf: 0, or PP_EIO with a
 * message (no HOME, too long).  For a caller that only reads and would
 * rather not create the file. */
int pp_store_default_path(char *buf, size_t len, char *err, size_t errlen);

/* Load the session saved under key ("cli:default", "telegram:42", ...).
 * Returns 1 when found (s filled), 0 when absent (s untouched), negative on
 * error. */
int pp_store_load(pp_store *st, const char *key, pp_session *s, char *err, size_t errlen);

/* Save the session, and when cursor_name is not NULL also set that cursor
 * (e.g. "telegram.offset", "matrix.next_batch"), in one transaction.
 * When transcript_user/transcript_bot are not NULL (and transcripts are on)
 * they are appended to the transcript in the same transaction.
 * When another process saved key since s was loaded or last saved (two
 * terminals on one conversation), the row is merged into s first (see
 * pp_store_refresh) and the merged s is written: s changes. */
int pp_store_save(pp_store *st, const char *key, pp_session *s,
                  const char *cursor_name, const char *cursor_value,
                  const char *transcript_user, const char *transcript_bot,
                  char *err, size_t errlen);

/* Bring into s what another process saved under key since s was loaded or
 * last saved: a safety lock set there stays set here, the turns it counted
 * are added to those s counted, a partner s does not know yet is taken;
 * the rest of s (its role, framework, variants) is kept.  Returns 0 when
 * there was nothing new, else PP_STORE_MERGED, with PP_STORE_MERGED_LOCK
 * when the merge locked s; PP_STORE_FORGOTTEN when the row s stood on was
 * deleted by /forget in another process (s is then reset: nothing it held
 * is written back); negative on error (s untouched).  pp_store_save does
 * the same under its write lock. */
#define PP_STORE_MERGED       1
#define PP_STORE_MERGED_LOCK  2
#define PP_STORE_FORGOTTEN    4
int pp_store_refresh(pp_store *st, const char *key, pp_session *s, char *err, size_t errlen);
/* s starts afresh (--new) over key's row: the next save replaces what the
 * row holds now instead of merging with it.  0 or negative. */
int pp_store_start_over(pp_store *st, const char *key, pp_session *s, char *err, size_t errlen);

/* Cursors alone (Telegram offset, Matrix next_batch, handled event ids). */
int pp_store_get_cursor(pp_store *st, const char *name, char *buf, size_t buflen);
int pp_store_set_cursor(pp_store *st, const char *name, const char *value);

/* The bots' end-to-end encryption state (the Matrix bot's account and
 * sessions, pickled under a key that is not in this file, and its device
 * lists): named values too big for a cursor, up to 16 MB, about no one
 * conversation, so /forget keeps them.  get: 1 found (*out malloc'd,
 * caller frees), 0 absent (*out NULL), negative error; set: 0 or
 * negative. */
int pp_store_get_crypto(pp_store *st, const char *name, char **out);
int pp_store_set_crypto(pp_store *st, const char *name, const char *value);

/* Mark an external event (Telegram update id, Matrix event id) as handled,
 * returning 1 if it was already marked.  Old marks are pruned. */
int pp_store_seen(pp_store *st, const char *channel, const char *event_id);
/* The same, tying the mark to a session key so that pp_store_forget(key)
 * deletes it too (key may be NULL). */
int pp_store_seen_key(pp_store *st, const char *channel, const char *event_id,
                      const char *key);

void pp_store_keep_transcripts(pp_store *st, int on);
/* Delete every row about key (session, transcript, seen marks and settings
 * tied to it), zeroed on disk (secure_delete, WAL truncated). */
int pp_store_forget(pp_store *st, const char *key, char *err, size_t errlen);

/* Settings: a named value (e.g. the CLI's "cli.last_session"), each about
 * one conversation (key) or none (NULL): pp_store_forget(key) deletes the
 * settings about key, pp_store_export shows them.  get returns as
 * pp_store_get_cursor does; set 0 or negative.  Names up to 256 bytes,
 * values up to 8192. */
int pp_store_get_setting(pp_store *st, const char *name, char *buf, size_t buflen);
int pp_store_set_setting(pp_store *st, const char *name, const char *value, const char *key);

/* Every saved session whose key starts with prefix ("cli:"), the most
 * recently saved first: fn is called with each (its key is valid during
 * the call only) and stops the walk by returning nonzero.  0 or negative. */
typedef struct pp_store_entry {
    const char *key;
    long long updated;    /* Unix seconds of the last save */
    int turns;            /* -1 when the row cannot be read */
} pp_store_entry;
int pp_store_sessions(pp_store *st, const char *prefix,
                      int (*fn)(const pp_store_entry *e, void *arg), void *arg,
                      char *err, size_t errlen);

/* What is kept about the conversation key, as a JSON document for its
 * user (/export, `pushpull export`): the saved session (and the partner as
 * it knows them, in words), when it was saved, its transcript, the event
 * ids and settings tied to it; never another key's rows.  st NULL (no
 * state file): s, in memory, without the words the store would not keep.
 * max (0: none) caps its size in bytes: the oldest transcript lines that do
 * not fit are left out, and "transcript_left_out" counts them.  malloc'd
 * (caller frees); NULL with a message in err on failure.  The format is
 * described in docs/state.md. */
char *pp_store_export(pp_store *st, const char *key, const pp_session *s, size_t max,
                      char *err, size_t errlen);
/* The cap of /export's answer: a chat message, which the bots split
 * (Telegram sends at most 64 parts of 4096 units). */
#define PP_DIALOG_EXPORT_MAX 100000
/* The message of the last failure of a call that takes no err buffer
 * (get/set_cursor, seen, settings); owned by st. */
const char *pp_store_error(const pp_store *st);
/* Return values: pp_store_get_cursor gives 1 (found, copied into buf), 0
 * (absent, buf = "") or negative (error; also when the value does not fit).
 * Keys, channels and event ids are limited to 1024
 * bytes, cursor names to 256, cursor values to 8192. */

/* ---- programs and check-ins (programs/NAME.program, docs/programs.md) ---- */

/* A program is a series of steps a user takes over days or weeks (the
 * ten-week plan of "Why We Push Away the People We Love", ...); a check-in
 * is the 1-10 connection question, answered with a score kept in the store.
 * Time is always given: now is Unix seconds (app_now() in the front ends),
 * utc_offset the user's offset from UTC in seconds (0 when unknown), and a
 * "day" is the user's calendar day, (now + utc_offset) / 86400. */

size_t pp_programs_count(const pp_ruleset *rs);
typedef struct pp_program_info {
    const char *id, *title, *framework, *article, *summary;
    int days;                   /* how long it runs */
    size_t n_steps;
    const char *file;
    int line;
} pp_program_info;
/* 0, or PP_EINPUT when i is out of range.  Strings are owned by rs. */
int pp_programs_info(const pp_ruleset *rs, size_t i, pp_program_info *out);

/* What the coach would send the user of key today without being asked --
 * for a reminder: today's program step when a program is running and not
 * paused, else the check-in question when one is due today (a check-in day
 * of the program without a score yet), else nothing.  Never anything for a
 * safety-locked session or one the store does not hold.  Reads the
 * session saved under key and changes nothing: a reply with a number 1-10
 * on a day a check-in is due is taken as its answer without further ado.
 * Returns 1 with a malloc'd *text (caller frees), 0 with *text NULL when
 * there is nothing to send, or a negative error with a message in err. */
int pp_plan_nudge(const pp_ruleset *rs, pp_store *st, const char *key, long long now,
                  int utc_offset, char **text, char *err, size_t errlen);

/* Keep a check-in score (1-10) of key, with an optional note (one line,
 * the user's words; NULL = none), as given at now on the user's day.
 * The session's own note of the day is not changed: a dialog turn that
 * records one does that.  0, PP_EINPUT for a score outside 1-10, or a
 * negative store error with a message in err. */
int pp_checkin_record(pp_store *st, const char *key, int score, const char *note,
                      long long now, int utc_offset, char *err, size_t errlen);

/* Every check-in of key since the Unix second since (0: all), oldest
 * first: fn sees each (note NULL when none; valid during the call) and
 * stops the walk by returning nonzero.  0 or negative. */
typedef struct pp_checkin {
    long long at;               /* Unix seconds */
    long long day;              /* the user's day it was given on */
    int score;                  /* 1-10 */
    const char *note;
} pp_checkin;
int pp_store_checkins(pp_store *st, const char *key, long long since,
                      int (*fn)(const pp_checkin *c, void *arg), void *arg,
                      char *err, size_t errlen);
/* ---- reminders and pairing (the bots) ---------------------------------- */

/* A daily reminder (app/remind.c): the local time asked for, the zone it
 * is read in ("Europe/Berlin", "+02:00"), the Unix time of its next send,
 * and the local day ("2026-12-02") it was last sent or skipped on. */
#define PP_REMINDER_ZONE_MAX 63
typedef struct pp_reminder {
    char key[1025];
    int minute;                 /* 0..1439 after local midnight */
    char zone[PP_REMINDER_ZONE_MAX + 1];
    long long due;
    char last_day[16];
} pp_reminder;

/* Set (or replace) key's reminder: 0 or negative, message in err.  The
 * last day sent is kept across a replacement (no second send today). */
int pp_store_reminder_set(pp_store *st, const char *key, int minute, const char *zone,
                          long long due, char *err, size_t errlen);
/* 1 found (out filled), 0 none, negative on error. */
int pp_store_reminder_get(pp_store *st, const char *key, pp_reminder *out);
/* 1 deleted, 0 there was none, negative on error. */
int pp_store_reminder_delete(pp_store *st, const char *key);
/* Sent (or skipped) on last_day: the next send is at next_due.  0 or <0. */
int pp_store_reminder_done(pp_store *st, const char *key, const char *last_day, long long next_due);
/* The reminders of keys starting with prefix that are due at now (due <=
 * now), the earliest first, at most max into out; *n_out says how many.
 * 0 or negative. */
int pp_store_reminders_due(pp_store *st, const char *prefix, long long now,
                           pp_reminder *out, size_t max, size_t *n_out);

/* Pairing (app/pair.c): a one-time code offered by one conversation and
 * used by another pairs the two.  A code lives PP_PAIR_CODE_SECS. */
#define PP_PAIR_CODE_SECS (24 * 3600)
#define PP_STORE_PAIR_NOCODE 1   /* no such code, or it expired */
#define PP_STORE_PAIR_SELF   2   /* the code is the joiner's own */
#define PP_STORE_PAIR_BUSY   3   /* one of the two is paired already */
/* Offer code for key until expires (key's older codes and every expired
 * code are dropped): 0, 1 when the code is another's (pick another), <0. */
int pp_store_pair_offer(pp_store *st, const char *key, const char *code, long long expires);
/* key uses code at now: 0 paired (partner = the code's owner), else a
 * PP_STORE_PAIR_* reason (nothing changed) or negative on error.  The
 * codes of both are dropped. */
int pp_store_pair_join(pp_store *st, const char *code, const char *key, long long now,
                       char *partner, size_t len);
/* 1 key is paired (partner's key in buf), 0 not, <0 error. */
int pp_store_pair_partner(pp_store *st, const char *key, char *buf, size_t len);
/* End key's pairing (both rows): 1 ended (partner's key in buf), 0 there
 * was none, <0 error.  Answers stay with their writers until /forget. */
int pp_store_pair_end(pp_store *st, const char *key, char *partner, size_t len);
/* The words key gave after /answer on day (its local date), replacing an
 * earlier answer of that day.  0 or <0. */
int pp_store_pair_answer_put(pp_store *st, const char *key, const char *day, const char *answer);
/* 1 found (in buf), 0 none, <0 error. */
int pp_store_pair_answer_get(pp_store *st, const char *key, const char *day, char *buf, size_t len);

/* ---- the dialog turn shared by every front end ------------------------- */

typedef struct pp_dialog {
    const pp_ruleset *rules;   /* may be swapped between turns (SIGHUP) */
    pp_store *store;           /* NULL = in memory only */
    /* store is NULL although a state file exists, which could not be used:
     * why (its path and the reason).  /forget then says it could not
     * delete anything instead of "nothing was kept".  NULL = no such file. */
    const char *store_unusable;
    const char *key;           /* "cli:default", "telegram:42", ... */
    pp_session *session;       /* owned by the caller */
    int keep_transcripts;      /* store the text of each turn (off by default) */
    /* Bots: a cursor saved in the same transaction as the session change
     * this turn causes (e.g. "telegram.offset" = "1235"); NULL = none. */
    const char *cursor_name, *cursor_value;
    /* Programs and check-ins: the store the scores are written to and read
     * from (/checkin, /progress), which may be given when store is NULL
     * (the bots save the session themselves: through plans the dialog only
     * writes check-in rows, never the session).  NULL = none: the coach
     * says it cannot keep scores. */
    pp_store *plans;
    long long now;             /* Unix seconds: app_now(), never time(NULL) */
    int utc_offset;            /* the user's offset from UTC, seconds; 0 = unknown */
    int ascii;                 /* charts in ASCII (a terminal that is not UTF-8) */
} pp_dialog;

typedef struct pp_answer {
    char *text;        /* what to send back (malloc'd) */
    pp_reply reply;    /* filled when the turn went through pp_reply_make */
    int had_reply;     /* 1 when .reply is valid */
    int command;       /* 1 when the input was a command */
    int quit;          /* /quit was asked */
    int forgot;        /* /forget deleted the user's rows */
} pp_answer;

/* Handle one line: /help /why /reset /forget /reframe /start /quit
 * /export /new (also as !cmd and /cmd@botname), or an ordinary message.
 * Saves the session to the store when there is one (not after /export,
 * which only reads: pp_store_export of key, or of the session in memory
 * without a store).  0 or a negative error (answer->text still says
 * what went wrong in words a user can read). */
int pp_dialog_turn(pp_dialog *d, const char *bytes, size_t len, pp_answer *out);
void pp_answer_clear(pp_answer *a);

/* The commands pp_dialog_turn answers. */
typedef enum pp_command {
    PP_CMD_NONE,        /* not a command: an ordinary message */
    PP_CMD_HELP, PP_CMD_WHY, PP_CMD_RESET, PP_CMD_FORGET, PP_CMD_REFRAME,
    PP_CMD_START, PP_CMD_QUIT, PP_CMD_EXPORT, PP_CMD_NEW,
    PP_CMD_PLAN, PP_CMD_CHECKIN, PP_CMD_PROGRESS,
    /* The bots' own (app/remind.c, app/pair.c): a bot answers them before
     * the turn; pp_dialog_turn says they are only in the bots. */
    PP_CMD_REMIND, PP_CMD_TIMEZONE, PP_CMD_PAIR, PP_CMD_UNPAIR, PP_CMD_ANSWER,
    PP_CMD_UNKNOWN      /* "/word" the dialog does not know */
} pp_command;

/* Which command a line is, read exactly as pp_dialog_turn reads it (the one
 * command parser: a front end that must know before the turn -- e.g. to
 * give the dialog its store for /forget -- asks this, never its own
 * matching): "/cmd", "!cmd" or "/cmd@botname" after optional spaces, in any
 * case, then white space or the end.  Pure; bytes may be NULL. */
pp_command pp_dialog_command(const char *bytes, size_t len);
/* The same, and where the command's arguments start: bytes + *args_at,
 * len - *args_at bytes (0 when there are none). */
pp_command pp_dialog_command_args(const char *bytes, size_t len, size_t *args_at);

/* The sentence of response set id (responses/ *.responses) filled as the
 * dialog fills its own ({partner}, {resources}..., and vars: "name",
 * "value", ..., NULL): its variant number `variant` modulo the set's
 * count, or fallback (filled the same way) when the set is missing.  s
 * may be NULL (a conversation not loaded).  malloc'd; NULL out of memory.
 * For the front ends' sentences outside a turn (reminders, pairing). */
char *pp_dialog_say(const pp_ruleset *rs, const pp_session *s, const char *id,
                    unsigned long variant, const char *const *vars, const char *fallback);
/* How many variants set id has (0: no such set). */
size_t pp_rules_set_variants(const pp_ruleset *rs, const char *id);
/* Where variant i of set id is written, for a front end that reports a
 * variant it cannot use (the Telegram menu): its file (owned by rs) and
 * line.  0, or PP_EINPUT when there is no such set or variant. */
int pp_rules_variant_at(const pp_ruleset *rs, const char *id, size_t i,
                        const char **file, int *line);

/* Would the turn of this line read or write check-ins (d->plans)?  1 for
 * /plan, /checkin and /progress, for a line that may answer a check-in,
 * and for the first line of the user's day while a program runs; else 0.
 * A front end that must lock its store for that (the Telegram workers)
 * asks this before the turn.  Pure. */
int pp_dialog_wants_plans(const pp_session *s, const char *bytes, size_t len,
                          long long now, int utc_offset);

/* A check-in is due today for s (a program's check-in day without a
 * score yet): for the terminal chat's greeting.  Pure. */
int pp_plan_checkin_due(const pp_ruleset *rs, const pp_session *s, long long now, int utc_offset);

#endif
