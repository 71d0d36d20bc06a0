/* dialog.c -- one turn as every front end sees it.
 *
 * The chat, `pushpull reply` and both bots hand each incoming line to
 * pp_dialog_turn(): commands (/help /why /reset /forget /reframe /start
 * /quit /export /new, also written !cmd or /cmd@botname as group chats do) are answered
 * here; anything else goes through pp_reply_make().  This parser is the one
 * every front end uses: one that must know the command before the turn
 * asks pp_dialog_command(), which reads a line as the turn does.  When the
 * dialog has a store, the session is saved after the turn in one
 * transaction together with the bot's cursor, so a crash never separates
 * the two.  Message text reaches the store only when transcripts were
 * turned on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>

#include "internal.h"

/* The commands are public (pushpull.h: pp_command); short names here. */
typedef pp_command cmd;
#define CMD_NONE    PP_CMD_NONE
#define CMD_HELP    PP_CMD_HELP
#define CMD_WHY     PP_CMD_WHY
#define CMD_RESET   PP_CMD_RESET
#define CMD_FORGET  PP_CMD_FORGET
#define CMD_REFRAME PP_CMD_REFRAME
#define CMD_START   PP_CMD_START
#define CMD_QUIT    PP_CMD_QUIT
#define CMD_EXPORT  PP_CMD_EXPORT
#define CMD_NEW     PP_CMD_NEW
#define CMD_PLAN    PP_CMD_PLAN
#define CMD_CHECKIN PP_CMD_CHECKIN
#define CMD_PROGRESS PP_CMD_PROGRESS
#define CMD_UNKNOWN PP_CMD_UNKNOWN

static const struct { const char *name; cmd c; } commands[] = {
    {"help", CMD_HELP}, {"why", CMD_WHY}, {"reset", CMD_RESET},
    {"forget", CMD_FORGET}, {"reframe", CMD_REFRAME}, {"start", CMD_START},
    {"quit", CMD_QUIT}, {"exit", CMD_QUIT}, {"export", CMD_EXPORT}, {"new", CMD_NEW},
    {"plan", CMD_PLAN}, {"checkin", CMD_CHECKIN}, {"progress", CMD_PROGRESS},
    {"remind", PP_CMD_REMIND}, {"timezone", PP_CMD_TIMEZONE}, {"pair", PP_CMD_PAIR},
    {"unpair", PP_CMD_UNPAIR}, {"answer", PP_CMD_ANSWER},
    {NULL, CMD_NONE}
};

/* Recognise "/cmd", "!cmd", "/cmd@botname" followed by a space or the end;
 * *args points after it. */
static cmd parse_command(const char *t, size_t n, const char **args, char *name, size_t namesz)
{
    size_t i = 0;
    while (i < n && (t[i] == ' ' || t[i] == '\t')) i++;
    if (i >= n || (t[i] != '/' && t[i] != '!')) return CMD_NONE;
    size_t w = ++i;
    while (i < n && isalpha((unsigned char)t[i])) i++;
    if (i == w) return CMD_NONE;
    size_t wl = i - w;
    if (i < n && t[i] == '@') while (i < n && t[i] != ' ') i++;
    if (i < n && t[i] != ' ' && t[i] != '\t' && t[i] != '\n') return CMD_NONE;
    while (i < n && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n')) i++;
    *args = t + i;
    snprintf(name, namesz, "%.*s", (int)(wl < 32 ? wl : 32), t + w);
    for (size_t k = 0; name[k]; k++) name[k] = (char)tolower((unsigned char)name[k]);
    for (int k = 0; commands[k].name; k++)
        if (strcmp(name, commands[k].name) == 0) return commands[k].c;
    return CMD_UNKNOWN;
}

/* The command a whole line is: only its first 64 bytes are read. */
static cmd command_of(const char *bytes, size_t len, const char **args, char *name, size_t namesz)
{
    size_t scan = len < 64 ? len : 64;
    return bytes ? parse_command(bytes, scan, args, name, namesz) : CMD_NONE;
}

pp_command pp_dialog_command(const char *bytes, size_t len)
{
    const char *args;
    char name[40];
    return command_of(bytes, len, &args, name, sizeof name);
}

pp_command pp_dialog_command_args(const char *bytes, size_t len, size_t *args_at)
{
    const char *args = NULL;
    char name[40];
    cmd c = command_of(bytes, len, &args, name, sizeof name);
    *args_at = c != CMD_NONE && args ? (size_t)(args - bytes) : len;
    return c;
}

char *pp_dialog_say(const pp_ruleset *rs, const pp_session *s, const char *id,
                    unsigned long variant, const char *const *vars, const char *fallback)
{
    pp_session *fresh = s ? NULL : pp_session_new();
    if (!s && !fresh) return NULL;
    ppb_buf b = {0};
    ppy_system_text_at(&b, rs, s ? s : fresh, id, variant, vars, fallback);
    pp_session_free(fresh);
    return ppb_take(&b);
}

size_t pp_rules_set_variants(const pp_ruleset *rs, const char *id)
{
    const ppr_set *set = rs && id ? ppr_find_set(rs, id) : NULL;
    return set ? set->n_variants : 0;
}

int pp_rules_variant_at(const pp_ruleset *rs, const char *id, size_t i,
                        const char **file, int *line)
{
    const ppr_set *set = rs && id ? ppr_find_set(rs, id) : NULL;
    if (!set || i >= set->n_variants) return PP_EINPUT;
    if (file) *file = set->file;
    if (line) *line = set->variants[i].line;
    return 0;
}

/* system.went-wrong's fallback, said also when memory ran out. */
#define PP_DIALOG_WENT_WRONG "Sorry, something went wrong on my side; please try again."

/* What the commands say is data: the sets of responses/system.responses
 * (and `help`), filled like replies ({partner}, {resources}, and {error} or
 * {command} where given).  The C sentence after each set id is the short
 * fallback for a responses directory without that set. */
#define SAY(b, d, id, fallback) ppy_system_text(b, (d)->rules, (d)->session, id, NULL, fallback)

/* /help: the `help` set, then -- unless it showed the crisis lines itself
 * -- system.help-resources: /help always says how to get help now. */
static void help_text(ppb_buf *b, const pp_dialog *d)
{
    size_t mark = b->len;
    SAY(b, d, "help", "Tell me what is happening between you and your partner, and I'll "
                      "help you see the pattern. Commands: /why /reset /new /forget /export "
                      "/reframe /quit.");
    if (!b->oom && strstr(b->s + mark, d->rules->resources)) return;
    ppb_adds(b, "\n\n");
    SAY(b, d, "system.help-resources", "If you are in danger, please reach out now:");
    ppb_adds(b, "\n");
    ppb_adds(b, d->rules->resources);
}

static void reframe_text(ppb_buf *b, const pp_dialog *d, const char *args, size_t n)
{
    if (n == 0) {
        SAY(b, d, "system.reframe-empty", "Give me the sentence after /reframe.");
        return;
    }
    pp_reframe_result r;
    if (pp_reframe(d->rules, args, n, &r) != 0) {
        SAY(b, d, "system.reframe-failed", "Sorry, I couldn't work on that sentence.");
        return;
    }
    char *text = pp_reframe_format(&r);
    if (text) ppb_adds(b, text);
    else b->oom = 1;
    free(text);
    pp_reframe_clear(&r);
}

/* /reframe screens its text first, as `pushpull reframe` does: a
 * "complaint" a crisis rule answers as a first message ("he choked me,
 * make it sound nicer") is answered in this conversation as that message
 * (the safety reply, the lock, the check-in), never rewritten.  1 when
 * out->reply holds that answer, 0 to reframe, -1 when the screen failed. */
static int reframe_crisis(pp_dialog *d, const char *args, size_t n, pp_answer *out)
{
    pp_session *fresh = pp_session_new();
    pp_reply r;
    if (!fresh || pp_reply_make(d->rules, fresh, args, n, &r) != 0) {
        pp_session_free(fresh);
        return -1;
    }
    int crisis = r.safety;
    pp_reply_clear(&r);
    pp_session_free(fresh);
    if (!crisis) return 0;
    if (pp_reply_make(d->rules, d->session, args, n, &out->reply) != 0) return -1;
    out->had_reply = 1;
    return 1;
}

/* Another window on this conversation (a second terminal) may have saved
 * it since this one read it: take that in before the turn, so that a safety
 * lock set there answers here from the next line on, and say so. */
static void sync_in(pp_dialog *d, ppb_buf *b)
{
    char err[256];
    int got = d->store ? pp_store_refresh(d->store, d->key, d->session, err, sizeof err) : 0;
    if (got > 0 && (got & PP_STORE_FORGOTTEN)) {
        SAY(b, d, "system.forgotten-elsewhere", "(This conversation was deleted with /forget in "
                                                "another window; we're starting afresh.)");
        ppb_adds(b, "\n\n");
    } else if (got > 0 && (got & PP_STORE_MERGED_LOCK)) {
        SAY(b, d, "system.merged-elsewhere", "(What you said in another window is with me here too.)");
        ppb_adds(b, "\n\n");
    }
}

/* The save also merges what another window saved meanwhile (store.c). */
static int save(pp_dialog *d, const char *user, const char *bot, char *err, size_t errlen)
{
    if (!d->store) return 0;
    int keep = d->keep_transcripts;
    return pp_store_save(d->store, d->key, d->session, d->cursor_name, d->cursor_value,
                         keep ? user : NULL, keep ? bot : NULL, err, errlen);
}

void pp_answer_clear(pp_answer *a)
{
    if (!a) return;
    free(a->text);
    if (a->had_reply) pp_reply_clear(&a->reply);
    memset(a, 0, sizeof *a);
}

int pp_dialog_turn(pp_dialog *d, const char *bytes, size_t len, pp_answer *out)
{
    memset(out, 0, sizeof *out);
    const char *args = NULL;
    char name[40] = "";
    cmd c = command_of(bytes, len, &args, name, sizeof name);
    ppb_buf b = {0};
    char err[256] = "";
    int rc = 0;
    sync_in(d, &b);
    if (c == CMD_NONE && ppp_answer(d, bytes, len, &b)) {
        /* a score, its note, how a step went: kept, not coached */
        if (b.oom) return PP_ENOMEM;
        if (save(d, NULL, NULL, err, sizeof err)) rc = PP_ESTORE;
    } else if (c == CMD_NONE) {
        rc = pp_reply_make(d->rules, d->session, bytes ? bytes : "", bytes ? len : 0, &out->reply);
        if (rc) {
            /* The sentence stays in C too: it may be out of memory, with
             * no room to fill the set. */
            SAY(&b, d, "system.went-wrong", PP_DIALOG_WENT_WRONG);
            out->text = ppb_take(&b);
            if (!out->text) out->text = ppe_strdup(PP_DIALOG_WENT_WRONG);
            return rc;
        }
        out->had_reply = 1;
        ppb_adds(&b, out->reply.text);
        ppp_after(d, &out->reply, &b);
        if (save(d, out->reply.input, out->reply.text, err, sizeof err))
            rc = PP_ESTORE;
    } else {
        out->command = 1;
        size_t alen = (size_t)(bytes + len - args);
        switch (c) {
        case CMD_HELP: help_text(&b, d); break;
        case CMD_START:
            ppb_adds(&b, d->rules->disclaimer);
            ppb_adds(&b, "\n\n");
            help_text(&b, d);
            d->session->disclaimed = 1;
            break;
        case CMD_WHY:
            if (d->session->why.made) ppy_why_render(&b, d->rules, d->session);
            else SAY(&b, d, "system.why-nothing", "There's nothing to explain yet.");
            break;
        case CMD_RESET:
            pp_session_reset(d->session);
            SAY(&b, d, "system.reset", "Okay, we're starting fresh.");
            break;
        case CMD_FORGET: {
            int ok = 1;
            if (d->store && pp_store_forget(d->store, d->key, err, sizeof err)) ok = 0;
            if (!d->store && d->store_unusable) {
                /* A state file is there and may hold this conversation:
                 * "I kept nothing on disk" would not be true. */
                const char *vars[] = { "error", d->store_unusable, NULL };
                ppy_system_text(&b, d->rules, d->session, "system.forget-unusable", vars,
                               "I couldn't delete anything: {error}.");
                rc = PP_ESTORE;
                break;
            }
            if (ok) {
                pp_session *s = d->session;
                char e2[256];
                /* the scores too, when they live in a store of their own */
                if (d->plans && d->plans != d->store) pp_store_forget(d->plans, d->key, e2, sizeof e2);
                pp_session_reset(s);
                memset(&s->plan, 0, sizeof s->plan);
                s->turns = 0;
                s->disclaimed = 0;
                s->store_rev = 0;          /* the row is gone: no base any more */
                s->store_turns = 0;
                out->forgot = 1;
                if (d->store) SAY(&b, d, "system.forget-done", "Done: I've deleted everything I kept.");
                else SAY(&b, d, "system.forget-done-memory", "Done: I kept nothing on disk, and I've cleared it from memory.");
                if (d->store && d->cursor_name)
                    pp_store_set_cursor(d->store, d->cursor_name, d->cursor_value);
            } else {
                const char *vars[] = { "error", err, NULL };
                ppy_system_text(&b, d->rules, d->session, "system.forget-failed", vars,
                               "I couldn't delete your data: {error}");
                rc = PP_ESTORE;
            }
            break;
        }
        case CMD_REFRAME: {
            /* the text after the command, capped like any message */
            size_t n = alen > PP_MAX_INPUT * 2 ? PP_MAX_INPUT * 2 : alen;
            int crisis = n ? reframe_crisis(d, args, n, out) : 0;
            if (crisis > 0) ppb_adds(&b, out->reply.text);
            else if (crisis < 0) SAY(&b, d, "system.reframe-failed", "Sorry, I couldn't work on that sentence.");
            else reframe_text(&b, d, args, n);
            break;
        }
        case CMD_EXPORT: {
            /* What is kept about this conversation, as JSON; a state file
             * that could not be opened may hold more: say so, not "{}". */
            char *json = NULL;
            if (d->store || !d->store_unusable)
                json = pp_store_export(d->store, d->key, d->session, PP_DIALOG_EXPORT_MAX,
                                       err, sizeof err);
            if (json) {
                ppb_adds(&b, json);
                free(json);
                break;
            }
            const char *vars[] = { "error", d->store_unusable ? d->store_unusable : err, NULL };
            ppy_system_text(&b, d->rules, d->session, "system.export-failed", vars,
                           "I couldn't read what I kept: {error}");
            rc = PP_ESTORE;
            break;
        }
        case CMD_NEW: {
            /* A new conversation in place of this one, as --new starts
             * one: the next save replaces the row instead of merging. */
            pp_session *s = d->session;
            pp_session_reset(s);
            s->turns = 0;
            s->store_turns = 0;
            if (d->store) pp_store_start_over(d->store, d->key, s, err, sizeof err);
            SAY(&b, d, "system.new", "Okay, a new conversation. What would you like to talk about?");
            break;
        }
        case CMD_PLAN: ppp_cmd(&b, d, args, alen > 200 ? 200 : alen); break;
        case CMD_CHECKIN: ppp_checkin_cmd(&b, d); break;
        case CMD_PROGRESS: ppp_progress_cmd(&b, d); break;
        case PP_CMD_REMIND: case PP_CMD_TIMEZONE: case PP_CMD_PAIR: case PP_CMD_UNPAIR:
        case PP_CMD_ANSWER: {
            /* answered by the bots before the turn (app/remind.c, pair.c) */
            const char *vars[] = { "command", name, NULL };
            ppy_system_text(&b, d->rules, d->session, "system.bot-only", vars,
                           "/{command} works in the Telegram and Matrix bots.");
            break;
        }
        case CMD_QUIT:
            out->quit = 1;
            SAY(&b, d, "system.quit", "Take care of yourself.");
            break;
        default: {
            const char *vars[] = { "command", name, NULL };
            ppy_system_text(&b, d->rules, d->session, "system.unknown-command", vars,
                           "I don't know the command {command}. Try /help.");
            break;
        }
        }
        if (c != CMD_FORGET && c != CMD_EXPORT && save(d, NULL, NULL, err, sizeof err))
            rc = PP_ESTORE;
    }
    out->text = ppb_take(&b);
    if (!out->text) return PP_ENOMEM;
    return rc;
}
