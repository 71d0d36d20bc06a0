/* session.c -- the state of one conversation.
 *
 * A session is a fixed-size struct: no field grows with the conversation,
 * so a flood of messages cannot grow its memory.  It remembers the role
 * seen so far, the partner as the user named them and their pronouns, the
 * framework and response set of the last reply (so the next turn can
 * continue it), which variants of each set were used (so none repeats
 * before all have been seen; the table keeps the most recent
 * PP_SESSION_SETS sets), the safety lock, what kind of crisis the user
 * told of last ("disclosure": selfharm, abuse, other) and whether the whole
 * list of crisis lines has been shown ("resources_shown": later replies
 * point to one line of it), what the user tried or cannot do ("avoid":
 * the tags of suggestions never to offer again) and the facts they told
 * ("facts": how long together, children, ... in their words, reflected),
 * and what the last reply decided (for /why, with its dialogue act).  It is
 * saved as a small JSON object (jansson) for the store; a field missing
 * from an older record reads as none / false (a locked record without
 * "disclosure" was locked by abuse).
 *
 * It also remembers which stored row it came from (the row's "rev", and
 * the turn counter then), so that when another process saved the same
 * conversation meanwhile, pps_merge() can tell what each side
 * added: see store.c.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <jansson.h>

#include "internal.h"

pp_session *pp_session_new(void)
{
    pp_session *s = calloc(1, sizeof *s);
    return s;
}

void pp_session_free(pp_session *s)
{
    if (!s) return;
    free(s);
}

int pp_session_copy(pp_session *dst, const pp_session *src)
{
    if (!dst || !src) return PP_EINPUT;
    if (dst == src) return 0;
    *dst = *src;
    return 0;
}

void pp_session_reset(pp_session *s)
{
    unsigned turns = s->turns, store_turns = s->store_turns;
    uint64_t store_rev = s->store_rev;
    uint32_t store_key = s->store_key;
    int disclaimed = s->disclaimed;
    ppp_state plan = s->plan;  /* a program is the user's, not the topic's */
    memset(s, 0, sizeof *s);
    s->plan = plan;
    s->turns = turns;
    s->disclaimed = disclaimed;
    s->store_rev = store_rev;      /* the row it came from is still its base */
    s->store_turns = store_turns;
    s->store_key = store_key;
}

pp_role pp_session_role(const pp_session *s) { return s->role; }
const char *pp_session_framework(const pp_session *s) { return s->framework[0] ? s->framework : NULL; }
unsigned pp_session_turns(const pp_session *s) { return s->turns; }
int pp_session_safety_locked(const pp_session *s) { return s->safety_lock; }

static const char *const disclosure_names[] = { "", "selfharm", "abuse", "other", NULL };

static json_t *ids_json(const char (*ids)[PP_ID_MAX])
{
    json_t *a = json_array();
    for (int i = 0; i < 3 && ids[i][0]; i++) json_array_append_new(a, json_string(ids[i]));
    return a;
}

/* The kept /why decision.  "quote" is the user's words: the store drops
 * it unless transcripts are kept (store.c session_json). */
static json_t *decision_json(const ppm_decision *d)
{
    if (!d->made) return json_null();
    json_t *o = json_object();
    json_object_set_new(o, "rule", json_string(d->rule));
    json_object_set_new(o, "beat", ids_json(d->beat));
    json_object_set_new(o, "spent_by", ids_json(d->spent_by));
    json_object_set_new(o, "set", json_string(d->set));
    json_object_set_new(o, "evidence", json_pack("[ii]", d->evidence[0], d->evidence[1]));
    json_object_set_new(o, "mixed", json_boolean(d->mixed));
    json_object_set_new(o, "locked", json_boolean(d->locked));
    json_object_set_new(o, "limit_hit", json_boolean(d->limit_hit));
    json_object_set_new(o, "budget_spent", json_boolean(d->budget_spent));
    json_object_set_new(o, "quote", json_string(d->quote));
    json_object_set_new(o, "act", json_string(d->act));
    return o;
}

/* Programs and check-ins (program.c): where the user is, what was asked,
 * which programs were offered.  null when there is nothing. */
static json_t *plan_json(const ppp_state *p)
{
    json_t *offers = json_array();
    for (int i = 0; i < PP_PLAN_OFFERS && p->offers[i].program[0]; i++)
        json_array_append_new(offers, json_pack("{s:s, s:i, s:b}", "program", p->offers[i].program,
                                                "count", (int)p->offers[i].count,
                                                "offered", p->offers[i].offered != 0));
    if (!p->program[0] && !p->checkin_day && !p->pending && json_array_size(offers) == 0) {
        json_decref(offers);
        return json_null();
    }
    json_t *o = json_object();
    json_object_set_new(o, "program", json_string(p->program));
    json_object_set_new(o, "started", json_integer(p->started));
    json_object_set_new(o, "paused", json_boolean(p->paused));
    json_object_set_new(o, "paused_on", json_integer(p->paused_on));
    json_object_set_new(o, "paused_days", json_integer(p->paused_days));
    json_object_set_new(o, "seen_day", json_integer(p->seen_day));
    json_object_set_new(o, "checkin_day", json_integer(p->checkin_day));
    json_object_set_new(o, "pending", json_integer(p->pending));
    json_object_set_new(o, "asked_day", json_integer(p->asked_day));
    json_object_set_new(o, "note_at", json_integer(p->note_at));
    json_object_set_new(o, "offers", offers);
    return o;
}

char *pp_session_save(const pp_session *s)
{
    json_t *o = json_object(), *used = json_array();
    if (!o || !used) { json_decref(o); json_decref(used); return NULL; }
    json_object_set_new(o, "v", json_integer(1));
    json_object_set_new(o, "rev", json_integer((json_int_t)s->store_rev));
    json_object_set_new(o, "role", json_string(pp_role_name(s->role)));
    json_object_set_new(o, "framework", json_string(s->framework));
    json_object_set_new(o, "set", json_string(s->set));
    json_object_set_new(o, "rule", json_string(s->rule));
    json_object_set_new(o, "partner", json_string(s->partner));
    json_object_set_new(o, "pronoun", json_integer(s->pronoun));
    json_object_set_new(o, "pronoun_told", json_boolean(s->pronoun_told));
    json_object_set_new(o, "turns", json_integer(s->turns));
    json_object_set_new(o, "misses", json_integer(s->misses));
    json_object_set_new(o, "step", json_integer(s->step));
    json_object_set_new(o, "safety_lock", json_boolean(s->safety_lock));
    if (s->disclosure > PP_DISCLOSED_NONE && s->disclosure <= PP_DISCLOSED_OTHER)
        json_object_set_new(o, "disclosure", json_string(disclosure_names[s->disclosure]));
    json_object_set_new(o, "resources_shown", json_boolean(s->resources_shown));
    json_object_set_new(o, "disclaimed", json_boolean(s->disclaimed));
    json_object_set_new(o, "why", decision_json(&s->why));
    for (size_t k = 0; k < s->n_used; k++) {      /* oldest first */
        const ppm_used *e = &s->used[(s->used_oldest + k) % s->n_used];
        json_t *u = json_pack("{s:s, s:I, s:i}", "set", e->set, "mask",
                              (json_int_t)e->mask, "last", e->last);
        if (u) json_array_append_new(used, u);
    }
    json_object_set_new(o, "used", used);
    /* facts, not transcripts: what the user tried or cannot do, and the
     * facts they told (pps_fact); /forget deletes them with the row */
    json_t *avoid = json_array(), *facts = json_object();
    for (int i = 0; i < PP_SESSION_AVOID && s->avoid[i][0]; i++)
        json_array_append_new(avoid, json_string(s->avoid[i]));
    for (int i = 0; i < PP_SESSION_FACTS; i++)
        if (s->facts[i].kind[0])
            json_object_set_new(facts, s->facts[i].kind, json_pack("{s:s, s:b, s:i}", "text", s->facts[i].text,
                                                                   "recalled", (s->recalled >> i) & 1,
                                                                   "turn", (int)s->facts[i].turn));
    json_object_set_new(o, "avoid", avoid);
    json_object_set_new(o, "facts", facts);
    /* for a drafted start-up: the store drops "complaint" without transcripts */
    if (s->complaint[0]) json_object_set_new(o, "complaint", json_string(s->complaint));
    if (s->feeling[0]) json_object_set_new(o, "feeling", json_string(s->feeling));
    if (s->complaint[0]) json_object_set_new(o, "complaint_role", json_string(pp_role_name(s->complaint_role)));
    json_object_set_new(o, "plan", plan_json(&s->plan));
    char *out = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return out;
}

static int get_str(json_t *o, const char *key, char *dst, size_t size)
{
    json_t *v = json_object_get(o, key);
    if (!v) { dst[0] = '\0'; return 0; }
    if (!json_is_string(v)) return -1;
    ppe_strlcpy(dst, json_string_value(v), size);
    return 0;
}

static int get_int(json_t *o, const char *key, long long lo, long long hi, long long *out)
{
    json_t *v = json_object_get(o, key);
    if (!v) { *out = 0; return 0; }
    if (json_is_boolean(v)) { *out = json_is_true(v); return 0; }
    if (!json_is_integer(v)) return -1;
    long long x = json_integer_value(v);
    if (x < lo || x > hi) return -1;
    *out = x;
    return 0;
}

static int get_ids(json_t *o, const char *key, char (*ids)[PP_ID_MAX])
{
    json_t *a = json_object_get(o, key), *v;
    size_t i;
    if (!a) return 0;
    if (!json_is_array(a) || json_array_size(a) > 3) return -1;
    json_array_foreach(a, i, v) {
        if (!json_is_string(v)) return -1;
        ppe_strlcpy(ids[i], json_string_value(v), PP_ID_MAX);
    }
    return 0;
}

/* "why": the kept decision; null, missing, or the /why text of a record
 * written before 2026-12-02 (a string) read as none. */
static int get_decision(json_t *o, ppm_decision *d)
{
    json_t *w = json_object_get(o, "why");
    memset(d, 0, sizeof *d);
    if (!w || json_is_null(w) || json_is_string(w)) return 0;
    if (!json_is_object(w)) return -1;
    long long v[4];
    json_t *e = json_object_get(w, "evidence");
    if (e && (!json_is_array(e) || json_array_size(e) != 2 ||
              !json_is_integer(json_array_get(e, 0)) || !json_is_integer(json_array_get(e, 1))))
        return -1;
    int bad = get_str(w, "rule", d->rule, sizeof d->rule)
            | get_str(w, "set", d->set, sizeof d->set)
            | get_str(w, "quote", d->quote, sizeof d->quote)
            | get_str(w, "act", d->act, sizeof d->act)
            | get_ids(w, "beat", d->beat)
            | get_ids(w, "spent_by", d->spent_by)
            | get_int(w, "mixed", 0, 1, &v[0])
            | get_int(w, "locked", 0, 1, &v[1])
            | get_int(w, "limit_hit", 0, 1, &v[2])
            | get_int(w, "budget_spent", 0, 1, &v[3]);
    if (bad) return -1;
    if (e) {
        long long a = json_integer_value(json_array_get(e, 0)), b = json_integer_value(json_array_get(e, 1));
        if (a < 0 || b < 0 || a > 1000000000 || b > 1000000000) return -1;
        d->evidence[0] = (int)a;
        d->evidence[1] = (int)b;
    }
    d->made = 1;
    d->mixed = (int)v[0]; d->locked = (int)v[1]; d->limit_hit = (int)v[2]; d->budget_spent = (int)v[3];
    return 0;
}

static int get_plan(json_t *o, ppp_state *p)
{
    json_t *j = json_object_get(o, "plan");
    memset(p, 0, sizeof *p);
    if (!j || json_is_null(j)) return 0;
    if (!json_is_object(j)) return -1;
    const long long day = 1LL << 40;
    long long v[9];
    int bad = get_str(j, "program", p->program, sizeof p->program)
            | get_int(j, "started", -day, day, &v[0])
            | get_int(j, "paused", 0, 1, &v[1])
            | get_int(j, "paused_on", -day, day, &v[2])
            | get_int(j, "paused_days", 0, day, &v[3])
            | get_int(j, "seen_day", -day, day, &v[4])
            | get_int(j, "checkin_day", -day, day, &v[5])
            | get_int(j, "pending", 0, PP_PENDING_STEP, &v[6])
            | get_int(j, "asked_day", 0, 100000, &v[7])
            | get_int(j, "note_at", 0, 1LL << 50, &v[8]);
    if (bad) return -1;
    p->started = v[0]; p->paused = (int)v[1]; p->paused_on = v[2]; p->paused_days = v[3];
    p->seen_day = v[4]; p->checkin_day = v[5]; p->pending = (int)v[6];
    p->asked_day = (int)v[7]; p->note_at = v[8];
    json_t *offers = json_object_get(j, "offers"), *e;
    size_t i;
    if (offers && !json_is_array(offers)) return -1;
    if (offers) json_array_foreach(offers, i, e) {
        if (i >= PP_PLAN_OFFERS) break;
        long long c, off;
        if (!json_is_object(e) || get_str(e, "program", p->offers[i].program, PP_ID_MAX) ||
            get_int(e, "count", 0, 1000000, &c) || get_int(e, "offered", 0, 1, &off))
            return -1;
        p->offers[i].count = (unsigned)c;
        p->offers[i].offered = (unsigned)off;
    }
    return 0;
}

int pp_session_load(pp_session *s, const char *json, char *err, size_t errlen)
{
    json_error_t je;
    json_t *o = json ? json_loads(json, JSON_REJECT_DUPLICATES, &je) : NULL;
    if (!o || !json_is_object(o)) {
        if (err) snprintf(err, errlen, "session record is not a JSON object%s%s",
                          o ? "" : ": ", o ? "" : (json ? je.text : "(null)"));
        json_decref(o);
        return PP_ECORRUPT;
    }
    pp_session tmp;
    memset(&tmp, 0, sizeof tmp);
    char role[32], disclosure[16], complaint_role[32];
    long long v[9], rev;
    int bad = get_str(o, "role", role, sizeof role)
            | get_str(o, "framework", tmp.framework, sizeof tmp.framework)
            | get_str(o, "set", tmp.set, sizeof tmp.set)
            | get_str(o, "rule", tmp.rule, sizeof tmp.rule)
            | get_str(o, "partner", tmp.partner, sizeof tmp.partner)
            | get_str(o, "disclosure", disclosure, sizeof disclosure)
            | get_int(o, "pronoun", 0, 3, &v[0])
            | get_int(o, "turns", 0, 0xFFFFFFFFLL, &v[1])
            | get_int(o, "misses", 0, 1000000, &v[2])
            | get_int(o, "step", 0, 1000000, &v[3])
            | get_int(o, "safety_lock", 0, 1, &v[5])
            | get_int(o, "disclaimed", 0, 1, &v[6])
            | get_int(o, "resources_shown", 0, 1, &v[7])
            | get_int(o, "pronoun_told", 0, 1, &v[8])
            | get_int(o, "rev", 0, PP_SESSION_MAX_REV, &rev)
            | get_str(o, "complaint", tmp.complaint, sizeof tmp.complaint)
            | get_str(o, "feeling", tmp.feeling, sizeof tmp.feeling)
            | get_str(o, "complaint_role", complaint_role, sizeof complaint_role);
    if (!bad) bad = get_decision(o, &tmp.why);
    if (!bad) bad = get_plan(o, &tmp.plan);
    pp_role r = PP_ROLE_NONE;
    if (!bad && role[0] && pp_role_parse(role, &r)) bad = 1;
    pp_role cr = PP_ROLE_NONE;
    if (!bad && complaint_role[0] && pp_role_parse(complaint_role, &cr)) bad = 1;
    tmp.complaint_role = cr;
    int kind = PP_DISCLOSED_NONE;
    if (!bad && disclosure[0]) {
        while (disclosure_names[kind] && strcmp(disclosure_names[kind], disclosure) != 0) kind++;
        if (!disclosure_names[kind]) bad = 1;
    }
    json_t *used = json_object_get(o, "used");
    if (used && !json_is_array(used)) bad = 1;
    if (!bad && used) {
        size_t i;
        json_t *u;
        json_array_foreach(used, i, u) {
            if (tmp.n_used >= PP_SESSION_SETS) break;
            json_t *set = json_object_get(u, "set"), *mask = json_object_get(u, "mask");
            json_t *last = json_object_get(u, "last");
            if (!json_is_string(set) || !json_is_integer(mask) || (last && !json_is_integer(last))) { bad = 1; break; }
            ppm_used *e = &tmp.used[tmp.n_used++];
            ppe_strlcpy(e->set, json_string_value(set), sizeof e->set);
            e->hash = ppr_set_hash(e->set);
            e->mask = (uint64_t)json_integer_value(mask);
            e->last = last ? (int)json_integer_value(last) : -1;
            if (e->last < -1 || e->last > 63) { bad = 1; break; }
        }
    }
    json_t *avoid = json_object_get(o, "avoid"), *facts = json_object_get(o, "facts");
    if (!bad && avoid) {
        size_t i;
        json_t *a;
        if (!json_is_array(avoid)) bad = 1;
        else json_array_foreach(avoid, i, a) {
            if (!json_is_string(a)) { bad = 1; break; }
            if (i < PP_SESSION_AVOID) ppe_strlcpy(tmp.avoid[i], json_string_value(a), PP_TAG_MAX);
        }
    }
    if (!bad && facts) {
        const char *kind;
        json_t *f;
        int i = 0;
        if (!json_is_object(facts)) bad = 1;
        else json_object_foreach(facts, kind, f) {
            json_t *t = json_object_get(f, "text"), *rec = json_object_get(f, "recalled");
            json_t *turn = json_object_get(f, "turn");
            if (!json_is_object(f) || !json_is_string(t) || (rec && !json_is_boolean(rec)) ||
                (turn && (!json_is_integer(turn) || json_integer_value(turn) < 0))) { bad = 1; break; }
            if (i >= PP_SESSION_FACTS || !kind[0]) continue;
            ppe_strlcpy(tmp.facts[i].kind, kind, PP_TAG_MAX);
            ppe_strlcpy(tmp.facts[i].text, json_string_value(t), PP_FACT_MAX);
            if (json_is_true(rec)) tmp.recalled |= 1u << i;
            tmp.facts[i].turn = turn ? (unsigned)json_integer_value(turn) : 0;
            i++;
        }
    }
    json_decref(o);
    if (bad) {
        if (err) snprintf(err, errlen, "session record has a field of the wrong type or range");
        return PP_ECORRUPT;
    }
    tmp.role = r;
    tmp.pronoun = (int)v[0];
    tmp.pronoun_told = (int)v[8];
    tmp.turns = (unsigned)v[1];
    tmp.misses = (unsigned)v[2];
    tmp.step = (unsigned)v[3];
    tmp.safety_lock = (int)v[5];
    tmp.disclosure = kind == PP_DISCLOSED_NONE && tmp.safety_lock ? PP_DISCLOSED_ABUSE : kind;
    tmp.resources_shown = (int)v[7];
    tmp.disclaimed = (int)v[6];
    tmp.store_rev = (uint64_t)rev;
    tmp.store_turns = tmp.turns;
    tmp.store_key = s->store_key;   /* the store sets it: the JSON has no key */
    *s = tmp;
    return 0;
}

int pps_merge(pp_session *s, const pp_session *theirs)
{
    int got = PP_STORE_MERGED;
    if (theirs->safety_lock && !s->safety_lock) {
        s->safety_lock = 1;        /* once set, by either window, it holds */
        got |= PP_STORE_MERGED_LOCK;
    }
    if (theirs->disclaimed) s->disclaimed = 1;
    if (theirs->resources_shown) s->resources_shown = 1;
    if (s->disclosure == PP_DISCLOSED_NONE) s->disclosure = theirs->disclosure;
    if (!s->avoid[0][0]) memcpy(s->avoid, theirs->avoid, sizeof s->avoid);
    if (!s->facts[0].kind[0]) {
        memcpy(s->facts, theirs->facts, sizeof s->facts);
        s->recalled = theirs->recalled;
    }
    if (!s->plan.program[0] && theirs->plan.program[0]) s->plan = theirs->plan;
    if (theirs->plan.checkin_day > s->plan.checkin_day) s->plan.checkin_day = theirs->plan.checkin_day;
    if (!s->partner[0] && theirs->partner[0]) {
        memcpy(s->partner, theirs->partner, sizeof s->partner);
        s->pronoun = theirs->pronoun;
    }
    /* The turns s counted since its base, on top of theirs. */
    unsigned added = s->turns > s->store_turns ? s->turns - s->store_turns : 0;
    s->turns = theirs->turns > UINT_MAX - added ? UINT_MAX : theirs->turns + added;
    s->store_rev = theirs->store_rev;
    s->store_turns = theirs->turns;
    return got;
}
