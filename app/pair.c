/* pair.c -- a paired partner's daily question (pair.h).
 *
 * Everything a partner is shown passes through one function, partner_quiet():
 * when either conversation is safety-locked nothing crosses.  Codes are 8
 * characters from 31 that cannot be misread (no 0/O, 1/I/L), from
 * getrandom(), stored with their expiry; a code is used once. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "pair.h"
#include "remind.h"

#define PAIR_CODE_LEN 8
#define PAIR_ANSWER_MAX 2000   /* bytes of one answer kept */
static const char pair_alphabet[] = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";

static char *say(const pp_ruleset *rs, const pp_session *s, const char *id,
                 const char *const *vars, const char *fallback)
{
    return pp_dialog_say(rs, s, id, 0, vars, fallback);
}

void app_pair_out_clear(app_pair_out *o)
{
    free(o->text);
    free(o->partner_text);
    memset(o, 0, sizeof *o);
}

/* Is key's saved conversation safety-locked? */
static int locked_in_store(pp_store *st, const char *key)
{
    pp_session *s = pp_session_new();
    int locked = s && pp_store_load(st, key, s, NULL, 0) == 1 && pp_session_safety_locked(s);
    pp_session_free(s);
    return locked;
}

/* Nothing crosses between the two while either is locked. */
static int partner_quiet(pp_store *st, const pp_session *s, const char *partner)
{
    return pp_session_safety_locked(s) || locked_in_store(st, partner);
}

/* The shared day (pair.h) into day, and its question number. */
static unsigned long pair_day(pp_store *st, const char *key, const char *partner, long long now,
                              char *day, size_t len)
{
    char zone[PP_REMINDER_ZONE_MAX + 1];
    app_zone_of(st, strcmp(key, partner) < 0 ? key : partner, zone, sizeof zone);
    app_zone_local(zone, now, day, len, NULL);
    struct tm tm = { 0 };
    if (sscanf(day, "%d-%d-%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday) != 3) return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    long long t = (long long)timegm(&tm);
    return t > 0 ? (unsigned long)(t / 86400) : 0;
}

static char *question(const pp_ruleset *rs, unsigned long index)
{
    return pp_dialog_say(rs, NULL, "pair.daily", index, NULL,
                         "What is one feeling you had today that you didn't say out loud?");
}

char *app_pair_reminder(pp_store *st, const pp_ruleset *rs, const pp_session *s,
                        const char *key, long long now)
{
    char partner[1025], day[16], mine[8];
    if (!st || pp_store_pair_partner(st, key, partner, sizeof partner) != 1) return NULL;
    if (partner_quiet(st, s, partner)) return NULL;
    unsigned long qi = pair_day(st, key, partner, now, day, sizeof day);
    if (pp_store_pair_answer_get(st, key, day, mine, sizeof mine) != 0) return NULL;
    char *q = question(rs, qi);
    if (!q) return NULL;
    const char *vars[] = { "question", q, NULL };
    char *out = say(rs, s, "remind.pair", vars, "Today's question for you both: {question}");
    free(q);
    return out;
}

/* A code from getrandom(): 0, or -1. */
static int make_code(char *code)
{
    unsigned char r[PAIR_CODE_LEN];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) return -1;
    for (int i = 0; i < PAIR_CODE_LEN; i++)
        code[i] = pair_alphabet[r[i] % (sizeof pair_alphabet - 1)];
    code[PAIR_CODE_LEN] = '\0';
    return 0;
}

static int fail_text(app_pair_out *out, const pp_ruleset *rs, const pp_session *s, pp_store *st)
{
    const char *vars[] = { "error", pp_store_error(st), NULL };
    out->text = say(rs, s, "pair.failed", vars, "Sorry, I couldn't do that just now: {error}.");
    return out->text ? 0 : -1;
}

static int pair_offer(pp_store *st, const pp_ruleset *rs, pp_session *s, const char *key,
                      long long now, app_pair_out *out)
{
    char partner[1025], code[PAIR_CODE_LEN + 1], hours[16];
    snprintf(hours, sizeof hours, "%d", PP_PAIR_CODE_SECS / 3600);
    const char *vars[] = { "code", code, "hours", hours, NULL };
    int got = pp_store_pair_partner(st, key, partner, sizeof partner);
    if (got < 0) return fail_text(out, rs, s, st);
    if (got == 1) {
        out->text = say(rs, s, "pair.already", vars, "You're already paired. /unpair ends it.");
        return out->text ? 0 : -1;
    }
    int rc = 1;
    for (int tries = 0; rc == 1 && tries < 5; tries++) {
        if (make_code(code) != 0) return fail_text(out, rs, s, st);
        rc = pp_store_pair_offer(st, key, code, now + PP_PAIR_CODE_SECS);
    }
    if (rc != 0) return fail_text(out, rs, s, st);
    out->text = say(rs, s, "pair.code", vars, "Your pairing code is {code}; your partner sends /pair {code}.");
    return out->text ? 0 : -1;
}

static int pair_join(pp_store *st, const pp_ruleset *rs, pp_session *s, const char *key,
                     const char *args, size_t n, long long now, app_pair_out *out)
{
    char code[32], hours[16], day[16];
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < sizeof code; i++)
        if (isalnum((unsigned char)args[i])) code[k++] = (char)toupper((unsigned char)args[i]);
    code[k] = '\0';
    snprintf(hours, sizeof hours, "%d", PP_PAIR_CODE_SECS / 3600);
    const char *vars[] = { "hours", hours, "question", "", NULL };
    /* a code of another prefix ("matrix:" in the Telegram bot) cannot be
     * in this bot's store: each bot has its own state file */
    int rc = pp_store_pair_join(st, code, key, now, out->partner, sizeof out->partner);
    if (rc < 0) return fail_text(out, rs, s, st);
    if (rc > 0) {
        out->partner[0] = '\0';
        const char *id = rc == PP_STORE_PAIR_SELF ? "pair.self" : rc == PP_STORE_PAIR_BUSY
                       ? "pair.busy" : "pair.bad-code";
        out->text = say(rs, s, id, vars, "That code doesn't work.");
        return out->text ? 0 : -1;
    }
    char *q = question(rs, pair_day(st, key, out->partner, now, day, sizeof day));
    vars[3] = q ? q : "";
    out->text = say(rs, s, "pair.joined", vars, "You're paired now. /unpair ends it.");
    out->partner_text = say(rs, NULL, "pair.joined-other", vars, "Your partner used your code: you're paired now.");
    free(q);
    return out->text && out->partner_text ? 0 : -1;
}

static int pair_answer(pp_store *st, const pp_ruleset *rs, pp_session *s, const char *key,
                       const char *args, size_t n, long long now, app_pair_out *out)
{
    char partner[1025], day[16], theirs[PAIR_ANSWER_MAX + 8], mine[8];
    int got = pp_store_pair_partner(st, key, partner, sizeof partner);
    if (got < 0) return fail_text(out, rs, s, st);
    if (got == 0) {
        out->text = say(rs, s, "pair.not-paired", NULL, "You're not paired. /pair gives you a code.");
        return out->text ? 0 : -1;
    }
    if (n) {
        /* a danger in the answer is answered as a message in this
         * conversation (the safety reply, the lock), never kept or shown */
        pp_session *fresh = pp_session_new();
        pp_reply r;
        int crisis = -1;
        if (fresh && pp_reply_make(rs, fresh, args, n, &r) == 0) {
            crisis = r.safety;
            pp_reply_clear(&r);
        }
        pp_session_free(fresh);
        if (crisis < 0) return -1;
        if (crisis) {
            if (pp_reply_make(rs, s, args, n, &r) != 0) return -1;
            out->text = strdup(r.text);
            pp_reply_clear(&r);
            out->turned = 1;
            return out->text ? 0 : -1;
        }
    }
    if (pp_session_safety_locked(s)) {
        out->text = say(rs, s, "pair.locked", NULL, "Let's leave the shared question for now.\n\n{resources}");
        return out->text ? 0 : -1;
    }
    unsigned long qi = pair_day(st, key, partner, now, day, sizeof day);
    int quiet = locked_in_store(st, partner);
    int they = quiet ? 0 : pp_store_pair_answer_get(st, partner, day, theirs, sizeof theirs);
    if (they < 0) they = 0;         /* too long or unreadable: as unanswered */
    if (n == 0) {
        int me = pp_store_pair_answer_get(st, key, day, mine, sizeof mine);
        if (me == 1 && they == 1) {
            const char *vars[] = { "answer", theirs, NULL };
            out->text = say(rs, s, "pair.both", vars, "Your partner's answer: \"{answer}\"");
        } else if (me == 1) {
            out->text = say(rs, s, "pair.waiting", NULL, "You've answered; waiting for your partner.");
        } else {
            char *q = question(rs, qi);
            const char *vars[] = { "question", q ? q : "", NULL };
            out->text = say(rs, s, "pair.question", vars, "Today's question: {question}");
            free(q);
        }
        return out->text ? 0 : -1;
    }
    size_t len;
    const char *notice;
    char *clean = pp_input_normalize(args, n < PAIR_ANSWER_MAX ? n : PAIR_ANSWER_MAX, &len, &notice);
    if (!clean) return -1;
    int rc = pp_store_pair_answer_put(st, key, day, clean);
    if (rc) {
        free(clean);
        return fail_text(out, rs, s, st);
    }
    if (they == 1) {
        const char *vars[] = { "answer", theirs, NULL };
        const char *pvars[] = { "answer", clean, NULL };
        out->text = say(rs, s, "pair.both", vars, "Your partner's answer: \"{answer}\"");
        out->partner_text = say(rs, NULL, "pair.both-other", pvars,
                                "Your partner has answered today's question too: \"{answer}\"");
        snprintf(out->partner, sizeof out->partner, "%s", partner);
    } else {
        out->text = say(rs, s, "pair.answered", NULL, "Thank you; you'll see your partner's answer once they've answered too.");
    }
    free(clean);
    return out->text && (they != 1 || out->partner_text) ? 0 : -1;
}

int app_pair_command(pp_store *st, const pp_ruleset *rs, pp_session *s, const char *key,
                     pp_command c, const char *args, size_t n, long long now,
                     app_pair_out *out)
{
    memset(out, 0, sizeof *out);
    while (n && isspace((unsigned char)*args)) { args++; n--; }
    while (n && isspace((unsigned char)args[n - 1])) n--;
    if (!st) {
        out->text = say(rs, s, "remind.no-store", NULL, "Pairing needs the state file.");
        return out->text ? 0 : -1;
    }
    if (c == PP_CMD_ANSWER) return pair_answer(st, rs, s, key, args, n, now, out);
    if (c == PP_CMD_UNPAIR) {
        int rc = pp_store_pair_end(st, key, out->partner, sizeof out->partner);
        if (rc < 0) return fail_text(out, rs, s, st);
        if (rc == 0) {
            out->partner[0] = '\0';
            out->text = say(rs, s, "pair.not-paired", NULL, "You're not paired.");
            return out->text ? 0 : -1;
        }
        out->text = say(rs, s, "pair.ended", NULL, "Okay, the pairing has ended.");
        out->partner_text = say(rs, NULL, "pair.ended-other", NULL, "The pairing has ended.");
        return out->text && out->partner_text ? 0 : -1;
    }
    if (pp_session_safety_locked(s)) {
        out->text = say(rs, s, "pair.locked", NULL, "Let's leave pairing for now.\n\n{resources}");
        return out->text ? 0 : -1;
    }
    if (n == 0) return pair_offer(st, rs, s, key, now, out);
    return pair_join(st, rs, s, key, args, n, now, out);
}

int app_pair_forgetting(pp_store *st, const pp_ruleset *rs, const char *key, app_pair_out *out)
{
    memset(out, 0, sizeof *out);
    if (!st || pp_store_pair_partner(st, key, out->partner, sizeof out->partner) != 1) {
        out->partner[0] = '\0';
        return 0;
    }
    out->partner_text = say(rs, NULL, "pair.ended-other", NULL, "The pairing has ended.");
    return out->partner_text != NULL;
}
