/* pair.h -- two conversations of one bot paired (/pair, /unpair,
 * /answer): the same daily question to both, and each sees the other's
 * answer only once both have answered.  Shared by bots/telegram.c and
 * bots/matrix.c, which call these hooks and send what they return.
 *
 * The privacy promise (docs/deploy.md, "Pairing"; /help): only the words
 * a user writes after /answer are ever shown to the partner.  Nothing said
 * in the coaching conversation is, nor that the partner disclosed danger:
 * while either side's conversation is safety-locked, the pairing goes
 * quiet toward the other (their answers are not shown, theirs is not
 * asked; the other side just sees "not answered yet"), and an /answer
 * that a crisis rule answers gets the safety reply and is never kept.
 * /forget by either deletes the link, that user's answers and codes.
 *
 * The shared day is the local date in the zone of the pair's first key
 * (in byte order), so both sides agree on "today" whatever their zones;
 * the question of a day is pair.daily's variant number (days since
 * 1970-01-01 of that date) modulo its count. */
#ifndef PP_APP_PAIR_H
#define PP_APP_PAIR_H

#include <stddef.h>
#include "pushpull.h"

typedef struct app_pair_out {
    char *text;             /* to the user (malloc'd) */
    char partner[1025];     /* "": nothing to tell anyone else */
    char *partner_text;     /* to the partner (malloc'd), NULL: nothing */
    int turned;             /* s changed (a safety reply): save it */
} app_pair_out;

/* /pair [CODE], /unpair, /answer [WORDS]: 0, or -1 out of memory (out
 * still cleared).  st NULL: --no-state.  s is the user's session, which a
 * safety reply changes (out->turned). */
int app_pair_command(pp_store *st, const pp_ruleset *rs, pp_session *s, const char *key,
                     pp_command c, const char *args, size_t n, long long now,
                     app_pair_out *out);
/* /forget of key is about to delete its rows: when key is paired, out
 * says what to tell the partner (that the pairing ended, nothing more).
 * 1 when there is a partner to tell, 0 none. */
int app_pair_forgetting(pp_store *st, const pp_ruleset *rs, const char *key, app_pair_out *out);
void app_pair_out_clear(app_pair_out *o);

/* What a paired user's reminder adds (today's question), malloc'd, or
 * NULL when key is not paired, either side is locked, or key answered. */
char *app_pair_reminder(pp_store *st, const pp_ruleset *rs, const pp_session *s,
                        const char *key, long long now);

#endif
