/* index.c -- the candidate index: which patterns can possibly match a text.
 *
 * Cost per message must not grow with the number of rules, so at load time
 * every pattern's expanded source is parsed (conservatively) into a small
 * tree, and from the tree we compute a requirement in conjunctive normal
 * form: "the text contains word A or word B, and word C".  A "word" is a key
 * on the text's *tokens*: maximal runs of ASCII letters and digits (plus the
 * two non-ASCII letters that fold to ASCII ones under Unicode caseless
 * matching, KELVIN SIGN -> k and LATIN SMALL LONG S -> s), lowercased.  A
 * literal run in a pattern gives an EXACT key when the pattern guarantees a
 * token boundary on both sides of it (\b, ^, $, white space, punctuation),
 * a PREFIX key when only on the left ("pull" in pull(?:s|ed)?), a SUFFIX key
 * when only on the right, and nothing otherwise.  A sequence ANDs its
 * parts' clauses; an alternation (A1 and A2) or (B1 and B2) becomes the
 * clauses (Ai or Bj).  Both keep at most IX_CLAUSES clauses of at most
 * IX_CLAUSE_MAX keys, dropping the likeliest-true ones (short words are in
 * most messages), which only weakens the requirement.
 *
 * The index is a hash table from key to the ascending list of pattern ids:
 * each pattern is posted under the keys of ONE clause, the one least
 * likely to be in a message, and its other clauses are checked at match
 * time ("verification"): a crisis pattern posted under its verbs ("hit",
 * "slap*", ...) is dropped for "a bit late" because it also needs "me".
 *
 * At match time the text is tokenised once; each token is looked up as an
 * exact key, and as prefix/suffix keys only at the lengths some key has
 * (bit masks), with incremental hashing.  A key found is marked present (a
 * bit per key in the caller's scratch) and its patterns become candidates,
 * deduplicated with a bit per pattern; after the last token each candidate
 * must have a present key in every other clause, the patterns with no
 * usable requirement (the "always" list) are added, and the ids are put in
 * order.
 *
 * Safety over cleverness: anything the parser does not fully understand
 * (non-ASCII pattern characters, classes, escapes like \x, \p, backrefs) is
 * treated as "some unknown text", which never adds a requirement and never
 * proves a boundary (a positive lookaround adds what it looks for, which
 * must be in the text too, but proves no boundary after it); syntax it cannot follow at all ((?x), \Q, verbs,
 * conditionals, recursion) puts the whole pattern on the always list.  A
 * requirement may only ever be weakened, never invented: no false negatives.
 */
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "index.h"

#define IX_WORD_MAX   48      /* longest key; longer literals are cut (<= 64:
                                 the tokeniser keeps a 64-byte ring) */
_Static_assert(IX_WORD_MAX <= 64, "the tokeniser ring holds 64 bytes");
#define IX_DEPTH_MAX  32      /* group nesting we follow */
#define IX_CLAUSES    8       /* clauses kept in a requirement */
#define IX_CLAUSE_MAX 128     /* keys in one clause ("any of these words") */

enum { K_EXACT = 0, K_PREFIX = 1, K_SUFFIX = 2 };

/* ---- the key table ----------------------------------------------------- */

typedef struct ix_key {
    uint32_t off;             /* into ix->chars; suffix keys stored reversed */
    uint32_t hash;
    uint16_t len;
    uint8_t kind;
    uint32_t df;              /* patterns whose requirement names the key */
    uint32_t post, npost;     /* into ix->post (pairs) after finish */
} ix_key;

#define NO_VER UINT32_MAX

/* After finish, what a lookup needs of a key, in the hash table itself: a
 * probe reads one entry, not a slot and then the key. */
typedef struct ix_entry {
    uint32_t hash;            /* as ix_key */
    uint32_t key;             /* index into ix->keys + 1; 0 = empty */
    uint32_t post, npost;     /* as ix_key, but when npost is 1, post is the
                                 pattern id itself and ver its clauses to
                                 verify (offset into ix->ver, or NO_VER) */
    uint32_t ver;
    uint16_t len;
    uint8_t kind;
} ix_entry;

struct ppx_index {
    uint32_t n;               /* patterns (max id + 1) */
    ix_key *keys;
    size_t nkeys, capkeys;
    uint64_t *slots;          /* open addressing: hash << 32 | key index + 1;
                                 0 = empty.  A probe only reads the key
                                 when the whole hash agrees. */
    size_t nslots;            /* power of two */
    ix_entry *ent;            /* after finish: the keys that matter, open
                                 addressing (the build's slots are freed) */
    size_t nent;              /* power of two */
    uint64_t *filter;         /* after finish: bit (hash >> filter_shift)
                                 set for every key that matters; most
                                 lookups stop here, in a few KiB */
    int filter_shift;
    char *chars;
    size_t nchars, capchars;
    /* requirements before finish: per pattern, offset into req or UINT32_MAX
     * for "always"; req holds [nclauses, (nk, key...)...] */
    uint32_t *req_at;
    uint8_t *added;
    size_t capn;
    uint32_t *req;
    size_t nreq, capreq;
    /* after finish: a posting is a pattern id and the offset in ver of the
     * clauses left to verify, or NO_VER */
    uint32_t *post;           /* pairs (id, ver) */
    uint32_t *ver;            /* [nclauses, clause id...] */
    uint32_t *cl;             /* the clauses: [nk, key...] each */
    uint32_t *cl_at;          /* clause id -> offset in cl */
    uint32_t ncl;
    size_t ncl_words;
    uint32_t *always;
    size_t nalways;
    uint64_t prefix_lens, suffix_lens;   /* bit l: some key of length l */
    int has_exact;
    int finished;
};

struct ppx_scratch {
    uint64_t *seen;           /* bit per pattern: already a candidate */
    uint32_t *ver;            /* per candidate slot: clauses to verify */
    uint64_t *present;        /* bit per key: some token is that key */
    uint32_t *found;          /* the keys marked present, to clear them */
    uint32_t *memo;           /* per clause: gen << 1 | holds, this text */
    uint32_t gen;
    uint32_t n, nkeys, ncl;
};

static uint32_t hash_step(uint32_t h, unsigned char c)
{
    return (h ^ c) * 16777619u;
}

static uint32_t hash_final(uint32_t h, int kind)
{
    h ^= (uint32_t)(kind + 1) * 0x9e3779b9u;
    h ^= h >> 16; h *= 0x85ebca6bu; h ^= h >> 13; h *= 0xc2b2ae35u; h ^= h >> 16;
    return h;
}

#define HASH_INIT 2166136261u

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return 0;
    size_t nc = *cap ? *cap : 16;
    while (nc < need) {
        if (nc > SIZE_MAX / 2 / elem) return -1;
        nc *= 2;
    }
    void *q = realloc(*p, nc * elem);
    if (!q) return -1;
    *p = q;
    *cap = nc;
    return 0;
}

/* While building: the key (w, kind) with hash h, or -1.  verify compares
 * the text; without it, any key of that hash, kind and length (see
 * key_intern). */
static long key_find(const ppx_index *ix, const char *w, size_t len, int kind, uint32_t h,
                     int verify)
{
    if (!ix->nslots) return -1;
    size_t mask = ix->nslots - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        uint64_t s = ix->slots[i];
        if (!s) return -1;
        if ((uint32_t)(s >> 32) != h) continue;
        uint32_t at = (uint32_t)s - 1;
        const ix_key *k = &ix->keys[at];
        if (k->kind == kind && k->len == len &&
            (!verify || memcmp(ix->chars + k->off, w, len) == 0))
            return (long)at;
    }
}

static int rehash(ppx_index *ix, size_t nslots)
{
    uint64_t *slots = calloc(nslots, sizeof *slots);
    if (!slots) return -1;
    for (size_t k = 0; k < ix->nkeys; k++) {
        size_t i = ix->keys[k].hash & (nslots - 1);
        while (slots[i]) i = (i + 1) & (nslots - 1);
        slots[i] = (uint64_t)ix->keys[k].hash << 32 | ((uint32_t)k + 1);
    }
    free(ix->slots);
    ix->slots = slots;
    ix->nslots = nslots;
    return 0;
}

/* Intern key (w, kind); w is already in storage order.  Index or -1. */
static long key_intern(ppx_index *ix, const char *w, size_t len, int kind)
{
    uint32_t h = HASH_INIT;
    for (size_t i = 0; i < len; i++) h = hash_step(h, (unsigned char)w[i]);
    h = hash_final(h, kind);
    long at = key_find(ix, w, len, kind, h, 1);
    if (at >= 0) return at;
    /* Another key with the same hash, kind and length: a lookup cannot tell
     * them apart, so they share one key -- which only adds candidates. */
    at = key_find(ix, w, len, kind, h, 0);
    if (at >= 0) return at;
    if ((ix->nkeys + 1) * 2 > ix->nslots && rehash(ix, ix->nslots ? ix->nslots * 2 : 64))
        return -1;
    if (grow((void **)&ix->keys, &ix->capkeys, ix->nkeys + 1, sizeof *ix->keys) ||
        grow((void **)&ix->chars, &ix->capchars, ix->nchars + len, 1))
        return -1;
    memcpy(ix->chars + ix->nchars, w, len);
    ix_key *k = &ix->keys[ix->nkeys];
    memset(k, 0, sizeof *k);
    k->off = (uint32_t)ix->nchars;
    k->len = (uint16_t)len;
    k->kind = (uint8_t)kind;
    k->hash = h;
    ix->nchars += len;
    size_t i = h & (ix->nslots - 1);
    while (ix->slots[i]) i = (i + 1) & (ix->nslots - 1);
    ix->slots[i] = (uint64_t)h << 32 | ((uint32_t)ix->nkeys + 1);
    return (long)ix->nkeys++;
}

/* ---- the pattern tree -------------------------------------------------- */

enum {
    N_LIT,      /* one ASCII letter or digit (lowercased) */
    N_SEP,      /* consumes 1+ characters, every one a token separator */
    N_ANY,      /* consumes something unknown (maybe nothing) */
    N_BOUND,    /* zero-width, proves a token boundary: \b ^ $ \A \z \Z */
    N_ZW,       /* zero-width, proves nothing: lookarounds, \B, (?i) ... */
    N_GROUP,    /* alternatives: children are N_SEQ */
    N_SEQ,      /* concatenation */
    N_REPEAT    /* child {min,max} */
};

/* Edge facts: does a match of the node guarantee a separator (or the end
 * of the text) right at its start / end?  PASS: either yes, or the node
 * matched nothing and the neighbour decides. */
enum { E_NO = 0, E_YES = 1, E_PASS = 2 };

typedef struct ix_node {
    uint8_t kind, ch, starts, ends;
    uint8_t look;             /* an N_ZW that is a positive lookaround: what
                                 it looks for is in the text all the same */
    int min, max;
    int child, last, next;    /* first child, last child, next sibling */
} ix_node;

typedef struct ix_parser {
    const char *p, *end;
    ix_node *nodes;
    int n, cap;
    int ucp;
    int bail;                 /* syntax we do not follow: always-run */
} ix_parser;

static int node_new(ix_parser *ps, int kind)
{
    if (ps->n >= ps->cap) { ps->bail = 1; return -1; }
    ix_node *nd = &ps->nodes[ps->n];
    memset(nd, 0, sizeof *nd);
    nd->kind = (uint8_t)kind;
    nd->child = nd->last = nd->next = -1;
    nd->min = nd->max = 1;
    switch (kind) {
    case N_SEP: case N_BOUND: nd->starts = nd->ends = E_YES; break;
    case N_ZW: nd->starts = nd->ends = E_PASS; break;
    default: nd->starts = nd->ends = E_NO; break;
    }
    return ps->n++;
}

static void node_append(ix_parser *ps, int parent, int child)
{
    ix_node *p = &ps->nodes[parent];
    if (p->last < 0) p->child = child;
    else ps->nodes[p->last].next = child;
    p->last = child;
}

static int is_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

static int is_hex(unsigned char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Skip "{...}" starting at *p (which is '{'); 0 ok, -1 unterminated. */
static int skip_braces(ix_parser *ps)
{
    const char *q = memchr(ps->p, '}', (size_t)(ps->end - ps->p));
    if (!q) return -1;
    ps->p = q + 1;
    return 0;
}

/* After a backslash (ps->p at the escaped char): classify the escape and
 * step over it.  Returns a node kind, or -1 to bail.  in_class: \b is a
 * backspace there, and assertions are not allowed. */
static int parse_escape(ix_parser *ps, int in_class)
{
    if (ps->p >= ps->end) return -1;
    unsigned char c = (unsigned char)*ps->p++;
    switch (c) {
    case 'b': return in_class ? N_SEP : (ps->ucp ? N_BOUND : N_ZW);
    case 'A': case 'z': case 'Z': return in_class ? -1 : N_BOUND;
    case 'B': case 'G': case 'K': return in_class ? -1 : N_ZW;
    case 's': case 'h': case 'v': case 'R':
    case 'n': case 't': case 'r': case 'f': case 'e': case 'a':
        return N_SEP;
    case 'W': return ps->ucp ? N_SEP : N_ANY;
    case 'w': case 'd': case 'D': case 'S': case 'H': case 'V': case 'X': case 'C':
        return N_ANY;
    case 'N':
        if (ps->p < ps->end && *ps->p == '{' && skip_braces(ps)) return -1;
        return N_ANY;
    case 'p': case 'P':
        if (ps->p >= ps->end) return -1;
        if (*ps->p == '{') { if (skip_braces(ps)) return -1; }
        else ps->p++;
        return N_ANY;
    case 'x':
        if (ps->p < ps->end && *ps->p == '{') { if (skip_braces(ps)) return -1; }
        else for (int i = 0; i < 2 && ps->p < ps->end && is_hex((unsigned char)*ps->p); i++) ps->p++;
        return N_ANY;
    case 'o':
        if (ps->p >= ps->end || *ps->p != '{' || skip_braces(ps)) return -1;
        return N_ANY;
    case 'c':
        if (ps->p >= ps->end) return -1;
        ps->p++;
        return N_ANY;
    case 'g': case 'k':
        if (in_class || ps->p >= ps->end) return -1;
        if (*ps->p == '{') { if (skip_braces(ps)) return -1; return N_ANY; }
        if (c == 'k' && (*ps->p == '<' || *ps->p == '\'')) {
            char close = *ps->p == '<' ? '>' : '\'';
            const char *q = memchr(ps->p + 1, close, (size_t)(ps->end - ps->p - 1));
            if (!q) return -1;
            ps->p = q + 1;
            return N_ANY;
        }
        if (c == 'g' && (*ps->p == '<' || *ps->p == '\'')) return -1;  /* subroutine call */
        if (*ps->p == '+' || *ps->p == '-') ps->p++;
        while (ps->p < ps->end && is_digit((unsigned char)*ps->p)) ps->p++;
        return N_ANY;
    case 'Q': case 'E': return -1;
    default:
        if (is_digit(c)) {      /* backreference or octal */
            while (ps->p < ps->end && is_digit((unsigned char)*ps->p)) ps->p++;
            return N_ANY;
        }
        if (c >= 0x80) {        /* escaped non-ASCII character */
            while (ps->p < ps->end && ((unsigned char)*ps->p & 0xC0) == 0x80) ps->p++;
            return N_ANY;
        }
        if (is_alnum(c) || c == '_') return -1;   /* some escape we do not know */
        return N_SEP;           /* escaped ASCII punctuation or space */
    }
}

/* A character class, ps->p just after '['.  N_SEP when it can only match
 * token separators, else N_ANY; -1 to bail. */
static int parse_class(ix_parser *ps)
{
    int sep = 1, members = 0;
    if (ps->p < ps->end && *ps->p == '^') { sep = 0; ps->p++; }
    int first = 1;
    while (ps->p < ps->end) {
        unsigned char c = (unsigned char)*ps->p;
        if (c == ']' && !first) { ps->p++; return sep && members ? N_SEP : N_ANY; }
        first = 0;
        if (c == '[' && ps->p + 1 < ps->end &&
            (ps->p[1] == ':' || ps->p[1] == '.' || ps->p[1] == '=')) {
            char kind = ps->p[1];
            const char *q = ps->p + 2;
            while (q + 1 < ps->end && !(q[0] == kind && q[1] == ']')) q++;
            if (q + 1 >= ps->end) return -1;
            ps->p = q + 2;
            sep = 0; members++;
            continue;
        }
        if (c == '\\') {
            ps->p++;
            int k = parse_escape(ps, 1);
            if (k < 0) return -1;
            if (k != N_SEP) sep = 0;
        } else {
            ps->p++;
            if (c >= 0x80 || is_alnum(c)) sep = 0;
        }
        members++;
        /* A '-' between two members is a range: not understood. */
        if (ps->p + 1 < ps->end && *ps->p == '-' && ps->p[1] != ']') {
            sep = 0;
            ps->p++;
            if (*ps->p == '\\') {
                ps->p++;
                if (parse_escape(ps, 1) < 0) return -1;
            } else if (*ps->p == '[') {
                return -1;
            } else {
                ps->p++;
            }
        }
    }
    return -1;
}

static int parse_alts(ix_parser *ps, int depth);

/* Parse "(?flags)" / "(?flags:" after "(?"; ps->p at the first flag.
 * Returns 1 for a flag setting (no group), 2 for a group, -1 to bail. */
static int parse_flags(ix_parser *ps)
{
    while (ps->p < ps->end) {
        char c = *ps->p++;
        if (c == ')') return 1;
        if (c == ':') return 2;
        if (c == 'x') return -1;    /* extended: white space and # change meaning */
        if (!strchr("imnsJU-^", c)) return -1;
    }
    return -1;
}

/* One atom (without quantifier).  Returns a node, or -1 (bail set), or -2
 * at '|' / ')' / end (nothing consumed). */
static int parse_atom(ix_parser *ps, int depth)
{
    if (ps->p >= ps->end) return -2;
    unsigned char c = (unsigned char)*ps->p;
    if (c == '|' || c == ')') return -2;
    ps->p++;
    int k;
    switch (c) {
    case '\\':
        k = parse_escape(ps, 0);
        if (k < 0) { ps->bail = 1; return -1; }
        return node_new(ps, k);
    case '.': return node_new(ps, N_ANY);
    case '^': case '$': return node_new(ps, N_BOUND);
    case '[':
        k = parse_class(ps);
        if (k < 0) { ps->bail = 1; return -1; }
        return node_new(ps, k);
    case '*': case '+': case '?': case '{':
        ps->bail = 1;           /* quantifier with nothing before it, or a literal '{' */
        return -1;
    case '(': {
        if (depth >= IX_DEPTH_MAX) { ps->bail = 1; return -1; }
        int zero_width = 0, look = 0;
        if (ps->p < ps->end && *ps->p == '*') { ps->bail = 1; return -1; }
        if (ps->p < ps->end && *ps->p == '?') {
            ps->p++;
            if (ps->p >= ps->end) { ps->bail = 1; return -1; }
            char t = *ps->p;
            if (t == ':' || t == '>' || t == '|') ps->p++;
            else if (t == '=' || t == '!') { ps->p++; zero_width = 1; look = t == '='; }
            else if (t == '<' && ps->p + 1 < ps->end && (ps->p[1] == '=' || ps->p[1] == '!')) {
                look = ps->p[1] == '=';
                ps->p += 2; zero_width = 1;
            } else if (t == '<' || t == '\'' || (t == 'P' && ps->p + 1 < ps->end && ps->p[1] == '<')) {
                char close = t == '\'' ? '\'' : '>';
                const char *q = ps->p + 1;
                while (q < ps->end && *q != close) {
                    if (!is_alnum((unsigned char)*q) && *q != '_' && *q != '<') { ps->bail = 1; return -1; }
                    q++;
                }
                if (q >= ps->end) { ps->bail = 1; return -1; }
                ps->p = q + 1;
            } else if (t == 'P' && ps->p + 1 < ps->end && ps->p[1] == '=') {
                const char *q = memchr(ps->p, ')', (size_t)(ps->end - ps->p));
                if (!q) { ps->bail = 1; return -1; }
                ps->p = q + 1;
                return node_new(ps, N_ANY);          /* (?P=name) backreference */
            } else if (t == '#') {
                const char *q = memchr(ps->p, ')', (size_t)(ps->end - ps->p));
                if (!q) { ps->bail = 1; return -1; }
                ps->p = q + 1;
                return node_new(ps, N_ZW);
            } else if (strchr("imnsJU-^", t)) {
                int f = parse_flags(ps);
                if (f < 0) { ps->bail = 1; return -1; }
                if (f == 1) return node_new(ps, N_ZW);
            } else {
                ps->bail = 1;     /* conditionals, recursion, callouts ... */
                return -1;
            }
        }
        int g = parse_alts(ps, depth + 1);
        if (g < 0) return -1;
        if (ps->p >= ps->end || *ps->p != ')') { ps->bail = 1; return -1; }
        ps->p++;
        if (zero_width) ps->nodes[g].kind = N_ZW, ps->nodes[g].look = (uint8_t)look,
                        ps->nodes[g].starts = ps->nodes[g].ends = E_PASS;
        return g;
    }
    default:
        if (c >= 0x80) {
            while (ps->p < ps->end && ((unsigned char)*ps->p & 0xC0) == 0x80) ps->p++;
            return node_new(ps, N_ANY);
        }
        if (is_alnum(c)) {
            int n = node_new(ps, N_LIT);
            if (n >= 0) ps->nodes[n].ch = (uint8_t)(c >= 'A' && c <= 'Z' ? c + 32 : c);
            return n;
        }
        return node_new(ps, N_SEP);
    }
}

/* A quantifier at ps->p?  Fills min/max and steps over it (with a trailing
 * lazy/possessive mark).  0: none, 1: yes, -1: bail. */
static int parse_quant(ix_parser *ps, int *min, int *max)
{
    if (ps->p >= ps->end) return 0;
    char c = *ps->p;
    if (c == '?') { *min = 0; *max = 1; }
    else if (c == '*') { *min = 0; *max = INT_MAX; }
    else if (c == '+') { *min = 1; *max = INT_MAX; }
    else if (c == '{') {
        const char *q = ps->p + 1;
        long a = 0, b;
        if (q >= ps->end || !is_digit((unsigned char)*q)) return -1;
        while (q < ps->end && is_digit((unsigned char)*q)) { if (a < 100000) a = a * 10 + (*q - '0'); q++; }
        if (q < ps->end && *q == '}') b = a;
        else if (q < ps->end && *q == ',') {
            q++;
            if (q < ps->end && *q == '}') b = INT_MAX;
            else {
                b = 0;
                if (q >= ps->end || !is_digit((unsigned char)*q)) return -1;
                while (q < ps->end && is_digit((unsigned char)*q)) { if (b < 100000) b = b * 10 + (*q - '0'); q++; }
                if (q >= ps->end || *q != '}') return -1;
            }
        } else return -1;
        ps->p = q;              /* at '}' */
        *min = (int)a; *max = (int)b;
    } else return 0;
    ps->p++;
    if (ps->p < ps->end && (*ps->p == '?' || *ps->p == '+')) ps->p++;
    return 1;
}

static int fold_seq_starts(const ix_parser *ps, int seq)
{
    for (int i = ps->nodes[seq].child; i >= 0; i = ps->nodes[i].next) {
        int e = ps->nodes[i].starts;
        if (e != E_PASS) return e;
    }
    return E_PASS;
}

/* ends needs the items right to left; sequences are short, walk them. */
static int fold_seq_ends(const ix_parser *ps, int seq)
{
    int r = E_PASS;
    for (int i = ps->nodes[seq].child; i >= 0; i = ps->nodes[i].next) {
        int e = ps->nodes[i].ends;
        if (e != E_PASS) r = e;
    }
    return r;
}

static int combine(int a, int b)
{
    if (a == E_NO || b == E_NO) return E_NO;
    if (a == E_YES && b == E_YES) return E_YES;
    return E_PASS;
}

static int parse_seq(ix_parser *ps, int depth)
{
    int seq = node_new(ps, N_SEQ);
    if (seq < 0) return -1;
    for (;;) {
        int a = parse_atom(ps, depth);
        if (a == -2) break;
        if (a < 0) return -1;
        int min, max, q;
        while ((q = parse_quant(ps, &min, &max)) == 1) {
            int r = node_new(ps, N_REPEAT);
            if (r < 0) return -1;
            ix_node *rn = &ps->nodes[r];
            rn->child = rn->last = a;
            rn->min = min; rn->max = max;
            int s = ps->nodes[a].starts, e = ps->nodes[a].ends;
            if (max == 0) s = e = E_PASS;
            else if (min == 0) { s = s == E_NO ? E_NO : E_PASS; e = e == E_NO ? E_NO : E_PASS; }
            rn->starts = (uint8_t)s; rn->ends = (uint8_t)e;
            a = r;
        }
        if (q < 0) { ps->bail = 1; return -1; }
        node_append(ps, seq, a);
    }
    ps->nodes[seq].starts = (uint8_t)fold_seq_starts(ps, seq);
    ps->nodes[seq].ends = (uint8_t)fold_seq_ends(ps, seq);
    return seq;
}

static int parse_alts(ix_parser *ps, int depth)
{
    int g = node_new(ps, N_GROUP);
    if (g < 0) return -1;
    int s = E_YES, e = E_YES, first = 1;
    for (;;) {
        int seq = parse_seq(ps, depth);
        if (seq < 0) return -1;
        node_append(ps, g, seq);
        if (first) { s = ps->nodes[seq].starts; e = ps->nodes[seq].ends; first = 0; }
        else { s = combine(s, ps->nodes[seq].starts); e = combine(e, ps->nodes[seq].ends); }
        if (ps->p < ps->end && *ps->p == '|') { ps->p++; continue; }
        break;
    }
    ps->nodes[g].starts = (uint8_t)s;
    ps->nodes[g].ends = (uint8_t)e;
    return g;
}

/* ---- requirements (CNF over keys) -------------------------------------- */

typedef struct ix_clause {
    int n;
    uint32_t k[IX_CLAUSE_MAX];    /* ascending, no repeats */
} ix_clause;

typedef struct ix_cnf {
    int n;                        /* clauses; none means "true" */
    ix_clause c[IX_CLAUSES];
} ix_cnf;

/* How likely a key is to be in a message, roughly, before any text is
 * seen: short words ("he", "my", "me") are in most messages, long ones
 * ("isolates") in few, and a prefix or suffix key covers more words than
 * an exact one. */
static unsigned key_weight(const ix_key *k)
{
    static const unsigned by_len[] = { 256, 128, 64, 24, 10, 5, 3 };
    unsigned w = by_len[k->len < 6 ? k->len : 6];
    return k->kind == K_EXACT ? w : 2 * w;
}

static unsigned clause_weight(const ppx_index *ix, const ix_clause *c)
{
    unsigned w = 0;
    for (int i = 0; i < c->n; i++) w += key_weight(&ix->keys[c->k[i]]);
    return w;
}

/* Is every key of a also in b? */
static int clause_subset(const ix_clause *a, const ix_clause *b)
{
    int j = 0;
    for (int i = 0; i < a->n; i++) {
        while (j < b->n && b->k[j] < a->k[i]) j++;
        if (j == b->n || b->k[j] != a->k[i]) return 0;
    }
    return 1;
}

/* out = a OR b; -1 when that is more keys than a clause holds. */
static int clause_union(ix_clause *out, const ix_clause *a, const ix_clause *b)
{
    int i = 0, j = 0, n = 0;
    while (i < a->n || j < b->n) {
        uint32_t k;
        if (j == b->n || (i < a->n && a->k[i] < b->k[j])) k = a->k[i++];
        else if (i == a->n || b->k[j] < a->k[i]) k = b->k[j++];
        else { k = a->k[i++]; j++; }
        if (n == IX_CLAUSE_MAX) return -1;
        out->k[n++] = k;
    }
    out->n = n;
    return 0;
}

/* d = d AND c.  A clause implied by another is not kept; when d is full,
 * the likeliest-true clause goes (dropping one only weakens). */
static void cnf_add(const ppx_index *ix, ix_cnf *d, const ix_clause *c)
{
    for (int i = 0; i < d->n; i++)
        if (clause_subset(&d->c[i], c)) return;
    int m = 0;
    for (int i = 0; i < d->n; i++)
        if (!clause_subset(c, &d->c[i])) {
            if (m != i) d->c[m] = d->c[i];
            m++;
        }
    d->n = m;
    if (d->n < IX_CLAUSES) { d->c[d->n++] = *c; return; }
    int worst = 0;
    unsigned ww = clause_weight(ix, &d->c[0]);
    for (int i = 1; i < d->n; i++) {
        unsigned w = clause_weight(ix, &d->c[i]);
        if (w > ww) { ww = w; worst = i; }
    }
    if (clause_weight(ix, c) < ww) d->c[worst] = *c;
}

static void cnf_and(const ppx_index *ix, ix_cnf *d, const ix_cnf *e)
{
    for (int j = 0; j < e->n; j++) cnf_add(ix, d, &e->c[j]);
}

/* d = d OR e: (D1 and D2) or (E1 and E2) implies every (Di or Ej); tmp is
 * working room.  Unions too big to keep are left out (weaker). */
static void cnf_or(const ppx_index *ix, ix_cnf *d, const ix_cnf *e, ix_cnf *tmp)
{
    if (d->n == 0) return;
    if (e->n == 0) { d->n = 0; return; }
    ix_clause u;
    tmp->n = 0;
    for (int i = 0; i < d->n; i++)
        for (int j = 0; j < e->n; j++)
            if (clause_union(&u, &d->c[i], &e->c[j]) == 0) cnf_add(ix, tmp, &u);
    memcpy(d, tmp, offsetof(ix_cnf, c) + sizeof tmp->c[0] * (size_t)tmp->n);
}

typedef struct ix_an {
    ppx_index *ix;
    const ix_parser *ps;
    int oom;
} ix_an;

static void req_node(ix_an *an, int node, int L, int R, ix_cnf *out);
static void req_alts(ix_an *an, int node, int L, int R, ix_cnf *out);

/* The key for a literal run of runlen characters with boundary facts L
 * (left) and R (right), ANDed into out.  w holds the run, or for a long
 * run its first IX_WORD_MAX characters (its last ones when only R holds). */
static void run_key(ix_an *an, const char *w, size_t wlen, size_t runlen,
                    int L, int R, ix_cnf *out)
{
    char buf[IX_WORD_MAX];
    int kind;
    if (L && R && runlen <= IX_WORD_MAX) kind = K_EXACT;
    else if (L) kind = K_PREFIX;
    else if (R) kind = K_SUFFIX;
    else return;
    if (kind == K_SUFFIX) for (size_t i = 0; i < wlen; i++) buf[i] = w[wlen - 1 - i];
    else memcpy(buf, w, wlen);
    long k = key_intern(an->ix, buf, wlen, kind);
    if (k < 0) { an->oom = 1; return; }
    ix_clause c;
    c.n = 1;
    c.k[0] = (uint32_t)k;
    cnf_add(an->ix, out, &c);
}

/* Does a separator (or the end) follow, from item i on, else R? */
static int right_ctx(const ix_node *nodes, int i, int R)
{
    for (; i >= 0; i = nodes[i].next)
        if (nodes[i].starts != E_PASS) return nodes[i].starts == E_YES;
    return R;
}

static void req_seq(ix_an *an, int seq, int L, int R, ix_cnf *out)
{
    const ix_node *nodes = an->ps->nodes;
    int lc = L;               /* a separator (or the start) precedes item i */
    out->n = 0;
    for (int i = nodes[seq].child; i >= 0;) {
        const ix_node *nd = &nodes[i];
        if (nd->kind == N_LIT) {
            int j = i;
            size_t runlen = 0;
            while (j >= 0 && nodes[j].kind == N_LIT) { runlen++; j = nodes[j].next; }
            int rc = right_ctx(nodes, j, R);
            size_t skip = runlen > IX_WORD_MAX && !lc && rc ? runlen - IX_WORD_MAX : 0;
            char w[IX_WORD_MAX];
            size_t wl = 0, pos = 0;
            for (int x = i; x != j; x = nodes[x].next, pos++)
                if (pos >= skip && wl < IX_WORD_MAX) w[wl++] = (char)nodes[x].ch;
            run_key(an, w, wl, runlen, lc, rc, out);
            lc = 0;
            i = j;
            continue;
        }
        if (nd->kind == N_GROUP || nd->kind == N_REPEAT || (nd->kind == N_ZW && nd->look)) {
            ix_cnf *sub = malloc(sizeof *sub);
            if (!sub) { an->oom = 1; return; }
            if (nd->kind == N_ZW)      /* (?=...), (?<=...): its text is there, */
                req_alts(an, i, lc, 0, sub);   /* what follows it unknown */
            else
                req_node(an, i, lc, right_ctx(nodes, nd->next, R), sub);
            cnf_and(an->ix, out, sub);
            free(sub);
        }
        if (nd->ends != E_PASS) lc = nd->ends == E_YES;
        i = nd->next;
    }
}

static void req_node(ix_an *an, int node, int L, int R, ix_cnf *out)
{
    const ix_node *nd = &an->ps->nodes[node];
    out->n = 0;
    if (nd->kind == N_SEQ) { req_seq(an, node, L, R, out); return; }
    if (nd->kind == N_GROUP) { req_alts(an, node, L, R, out); return; }
    if (nd->kind == N_REPEAT && nd->min >= 1) {
        const ix_node *ch = &an->ps->nodes[nd->child];
        int rc = R && (nd->max == 1 || ch->starts != E_NO);
        if (ch->kind == N_LIT) {       /* x{2,}: a run of its own */
            char w = (char)ch->ch;
            if (nd->max == 1) run_key(an, &w, 1, 1, L, rc, out);
            return;
        }
        req_node(an, nd->child, L, rc, out);
        return;
    }
}

/* The alternatives under a group (or a positive lookaround): any one. */
static void req_alts(ix_an *an, int node, int L, int R, ix_cnf *out)
{
    const ix_node *nd = &an->ps->nodes[node];
    int first = 1;
    out->n = 0;
    ix_cnf *sub = malloc(2 * sizeof *sub);
    if (!sub) { an->oom = 1; return; }
    for (int c = nd->child; c >= 0; c = an->ps->nodes[c].next) {
        req_node(an, c, L, R, first ? out : sub);
        if (!first) cnf_or(an->ix, out, sub, sub + 1);
        first = 0;
        if (out->n == 0) break;            /* true or anything: true */
    }
    free(sub);
}

/* ---- the public API ---------------------------------------------------- */

ppx_index *ppx_new(void)
{
    return calloc(1, sizeof(ppx_index));
}

void ppx_free(ppx_index *ix)
{
    if (!ix) return;
    free(ix->keys); free(ix->slots); free(ix->chars); free(ix->filter); free(ix->ent);
    free(ix->req_at); free(ix->added); free(ix->req);
    free(ix->post); free(ix->ver); free(ix->cl); free(ix->cl_at); free(ix->always);
    free(ix);
}

static int req_push(ppx_index *ix, uint32_t v)
{
    if (grow((void **)&ix->req, &ix->capreq, ix->nreq + 1, sizeof *ix->req)) return -1;
    ix->req[ix->nreq++] = v;
    return 0;
}

int ppx_add(ppx_index *ix, uint32_t id, const char *source, const pcre2_code *code)
{
    if (!ix || ix->finished || id == UINT32_MAX) return -1;
    if (id >= ix->capn) {
        size_t oc = ix->capn, nc = ix->capn;
        if (grow((void **)&ix->req_at, &nc, (size_t)id + 1, sizeof *ix->req_at)) return -1;
        nc = oc;
        if (grow((void **)&ix->added, &nc, (size_t)id + 1, 1)) return -1;
        memset(ix->added + oc, 0, nc - oc);
        ix->capn = nc;
    }
    if (id + 1 > ix->n) ix->n = id + 1;
    ix->added[id] = 1;
    ix->req_at[id] = UINT32_MAX;              /* always, unless shown otherwise */
    if (!source) return 0;

    int ucp = 1;
    if (code) {
        uint32_t opts = 0;
        if (pcre2_pattern_info(code, PCRE2_INFO_ALLOPTIONS, &opts) != 0) return 0;
        if (opts & (PCRE2_EXTENDED | PCRE2_EXTENDED_MORE | PCRE2_LITERAL |
                    PCRE2_ALLOW_EMPTY_CLASS | PCRE2_ALT_BSUX))
            return 0;
        ucp = (opts & PCRE2_UCP) != 0;
        uint32_t xo = 0;
        if (pcre2_pattern_info(code, PCRE2_INFO_EXTRAOPTIONS, &xo) != 0) return 0;
        if (xo & (PCRE2_EXTRA_ALT_BSUX | PCRE2_EXTRA_ALLOW_LOOKAROUND_BSK)) return 0;
    }

    size_t len = strlen(source);
    if (len > (size_t)INT_MAX / 4) return 0;
    ix_parser ps = { source, source + len, NULL, 0, (int)(len * 2 + 16), ucp, 0 };
    ps.nodes = malloc(sizeof *ps.nodes * (size_t)ps.cap);
    if (!ps.nodes) return -1;
    int root = parse_alts(&ps, 0);
    if (root < 0 || ps.bail || ps.p != ps.end) { free(ps.nodes); return 0; }

    ix_an an = { ix, &ps, 0 };
    ix_cnf *d = malloc(sizeof *d);
    if (!d) { free(ps.nodes); return -1; }
    req_node(&an, root, 0, 0, d);
    free(ps.nodes);
    if (an.oom) { free(d); return -1; }
    if (d->n == 0) { free(d); return 0; }        /* some way to match with no key */

    size_t at = ix->nreq;
    int rc = req_push(ix, (uint32_t)d->n);
    for (int c = 0; !rc && c < d->n; c++) {
        rc = req_push(ix, (uint32_t)d->c[c].n);
        for (int x = 0; !rc && x < d->c[c].n; x++) rc = req_push(ix, d->c[c].k[x]);
    }
    if (rc) { free(d); return -1; }
    /* document frequency: once per pattern per key */
    for (int c = 0; c < d->n; c++)
        for (int x = 0; x < d->c[c].n; x++) {
            uint32_t k = d->c[c].k[x];
            int seen = 0;
            for (int b = 0; b < c && !seen; b++)
                for (int y = 0; y < d->c[b].n; y++) if (d->c[b].k[y] == k) { seen = 1; break; }
            if (!seen) ix->keys[k].df++;
        }
    free(d);
    ix->req_at[id] = (uint32_t)at;
    return 0;
}

/* The clause of the requirement at req[at] to post the pattern under: the
 * one least likely to be in a message.  A key's weight guesses how common
 * the word is in text; its document frequency (how many patterns name it)
 * says how many candidates it brings when it is: "hello" in 2,500
 * patterns is a poor key even where it is rare in messages. */
static uint32_t post_clause(const ppx_index *ix, size_t at)
{
    uint32_t nc = ix->req[at++], best = 0;
    double best_cost = 0;
    for (uint32_t c = 0; c < nc; c++) {
        uint32_t nk = ix->req[at];
        double cost = 0;
        for (uint32_t x = 0; x < nk; x++) {
            const ix_key *k = &ix->keys[ix->req[at + 1 + x]];
            cost += (double)key_weight(k) * k->df;
        }
        if (c == 0 || cost < best_cost) { best = c; best_cost = cost; }
        at += 1 + nk;
    }
    return best;
}

/* Clauses are stored once (a word class is a clause in many patterns) so
 * a message tests each at most once.  The table maps a clause's words to
 * its id while the index is built. */
typedef struct cl_table {
    uint32_t *slot;           /* clause id + 1; 0 empty */
    size_t nslots;
    uint32_t *w;              /* weight of each clause */
} cl_table;

static uint32_t cl_hash(const uint32_t *c)
{
    uint32_t h = HASH_INIT;
    for (uint32_t i = 0; i <= c[0]; i++) h = (h ^ c[i]) * 16777619u;
    return h ^ h >> 15;
}

/* The id of clause c ([nk, key...], keys ascending), added if new (the
 * caller made room in ix->cl, ix->cl_at and the table). */
static uint32_t cl_intern(ppx_index *ix, cl_table *t, const uint32_t *c)
{
    size_t mask = t->nslots - 1, i = cl_hash(c) & mask, len = 1 + (size_t)c[0];
    for (; t->slot[i]; i = (i + 1) & mask) {
        uint32_t id = t->slot[i] - 1;
        if (memcmp(ix->cl + ix->cl_at[id], c, len * sizeof *c) == 0) return id;
    }
    uint32_t id = ix->ncl++;
    ix->cl_at[id] = (uint32_t)ix->ncl_words;
    memcpy(ix->cl + ix->ncl_words, c, len * sizeof *c);
    ix->ncl_words += len;
    t->w[id] = 0;
    for (uint32_t x = 1; x <= c[0]; x++) t->w[id] += key_weight(&ix->keys[c[x]]);
    t->slot[i] = id + 1;
    return id;
}

int ppx_finish(ppx_index *ix)
{
    if (!ix) return -1;
    if (ix->finished) return 0;
    size_t total = 0, nver = 0, nclauses = 0, clwords = 0;
    for (size_t k = 0; k < ix->nkeys; k++) ix->keys[k].npost = 0;
    /* pass 1: count postings, and the room the verified clauses take */
    ix->nalways = 0;
    for (uint32_t id = 0; id < ix->n; id++) {
        if (!ix->added[id] || ix->req_at[id] == UINT32_MAX) { ix->nalways++; continue; }
        size_t at = ix->req_at[id];
        uint32_t nc = ix->req[at], pick = post_clause(ix, at);
        int verify = nc > 1;
        at++;
        if (verify) nver += nc;
        for (uint32_t c = 0; c < nc; c++) {
            uint32_t nk = ix->req[at];
            if (c == pick) {
                for (uint32_t x = 0; x < nk; x++) ix->keys[ix->req[at + 1 + x]].npost++;
                total += nk;
            } else if (verify) {
                nclauses++;
                clwords += 1 + nk;
            }
            at += 1 + nk;
        }
    }
    cl_table t = { NULL, 16, NULL };
    while (t.nslots < 2 * nclauses) t.nslots *= 2;
    t.slot = calloc(t.nslots, sizeof *t.slot);
    t.w = malloc(sizeof *t.w * (nclauses ? nclauses : 1));
    ix->post = malloc(2 * sizeof *ix->post * (total ? total : 1));
    ix->ver = malloc(sizeof *ix->ver * (nver ? nver : 1));
    ix->cl = malloc(sizeof *ix->cl * (clwords ? clwords : 1));
    ix->cl_at = malloc(sizeof *ix->cl_at * (nclauses ? nclauses : 1));
    ix->always = malloc(sizeof *ix->always * (ix->nalways ? ix->nalways : 1));
    if (!t.slot || !t.w || !ix->post || !ix->ver || !ix->cl || !ix->cl_at || !ix->always) {
        free(t.slot); free(t.w);
        return -1;
    }
    size_t off = 0;
    for (size_t k = 0; k < ix->nkeys; k++) {
        ix->keys[k].post = (uint32_t)off;
        off += ix->keys[k].npost;
        ix->keys[k].npost = 0;
    }
    /* pass 2: fill, ids ascending (each clause's keys are distinct) */
    size_t na = 0, nv = 0;
    for (uint32_t id = 0; id < ix->n; id++) {
        if (!ix->added[id] || ix->req_at[id] == UINT32_MAX) { ix->always[na++] = id; continue; }
        size_t at = ix->req_at[id];
        uint32_t nc = ix->req[at], pick = post_clause(ix, at);
        int verify = nc > 1;
        at++;
        uint32_t ver = NO_VER;
        if (verify) {
            ver = (uint32_t)nv;
            ix->ver[nv++] = nc - 1;
        }
        size_t pick_at = 0;
        for (uint32_t c = 0; c < nc; c++) {
            uint32_t nk = ix->req[at];
            if (c == pick) {
                pick_at = at;
            } else if (verify) {
                /* clauses in the order likeliest to fail first: lightest */
                uint32_t cid = cl_intern(ix, &t, ix->req + at);
                size_t j = nv++;
                while (j > ver + 1 && t.w[ix->ver[j - 1]] > t.w[cid]) { ix->ver[j] = ix->ver[j - 1]; j--; }
                ix->ver[j] = cid;
            }
            at += 1 + nk;
        }
        for (uint32_t x = 0; x < ix->req[pick_at]; x++) {
            ix_key *k = &ix->keys[ix->req[pick_at + 1 + x]];
            uint32_t *e = ix->post + 2 * ((size_t)k->post + k->npost++);
            e[0] = id;
            e[1] = ver;
        }
    }
    free(t.slot);
    free(t.w);
    /* keys with one posting hold it; every key some requirement names is
     * looked up (the others can never matter) */
    size_t fbits = 1024;
    int shift = 32 - 10;
    while (fbits < 16 * ix->nkeys && shift > 6) fbits *= 2, shift--;
    ix->filter = calloc(fbits / 64, sizeof *ix->filter);
    ix->nent = 16;
    while (ix->nent < 2 * ix->nkeys) ix->nent *= 2;
    ix->ent = calloc(ix->nent, sizeof *ix->ent);
    if (!ix->filter || !ix->ent) return -1;
    ix->filter_shift = shift;
    for (size_t k = 0; k < ix->nkeys; k++) {
        const ix_key *key = &ix->keys[k];
        if (!key->df) continue;
        uint32_t post = key->post, ver = NO_VER;
        if (key->npost == 1) {
            const uint32_t *e = ix->post + 2 * (size_t)key->post;
            post = e[0];
            ver = e[1];
        }
        uint32_t f = key->hash >> shift;
        ix->filter[f >> 6] |= 1ull << (f & 63);
        size_t e = key->hash & (ix->nent - 1);
        while (ix->ent[e].key) e = (e + 1) & (ix->nent - 1);
        ix->ent[e] = (ix_entry){ key->hash, (uint32_t)k + 1, post, key->npost, ver,
                                 key->len, key->kind };
        if (key->kind == K_EXACT) ix->has_exact = 1;
        else if (key->kind == K_PREFIX) ix->prefix_lens |= (uint64_t)1 << key->len;
        else ix->suffix_lens |= (uint64_t)1 << key->len;
    }
    free(ix->req); ix->req = NULL; ix->nreq = ix->capreq = 0;
    free(ix->slots); ix->slots = NULL; ix->nslots = 0;
    ix->finished = 1;
    return 0;
}

ppx_scratch *ppx_scratch_new(const ppx_index *ix)
{
    ppx_scratch *sc = calloc(1, sizeof *sc);
    if (!sc) return NULL;
    sc->n = ix ? ix->n : 0;
    sc->nkeys = ix ? (uint32_t)ix->nkeys : 0;
    sc->ncl = ix ? ix->ncl : 0;
    sc->memo = calloc(sc->ncl ? sc->ncl : 1, sizeof *sc->memo);
    sc->seen = calloc(sc->n / 64 + 1, sizeof *sc->seen);
    sc->ver = malloc(sizeof *sc->ver * (sc->n ? sc->n : 1));
    sc->present = calloc(sc->nkeys / 64 + 1, sizeof *sc->present);
    sc->found = malloc(sizeof *sc->found * (sc->nkeys ? sc->nkeys : 1));
    if (!sc->seen || !sc->ver || !sc->present || !sc->found || !sc->memo) {
        ppx_scratch_free(sc);
        return NULL;
    }
    return sc;
}

void ppx_scratch_free(ppx_scratch *sc)
{
    if (!sc) return;
    free(sc->seen);
    free(sc->ver);
    free(sc->present);
    free(sc->found);
    free(sc->memo);
    free(sc);
}

/* Key k (or -1) is in the text: mark it present, and its patterns
 * candidates, with the clauses each still has to pass. */
static size_t take(const ppx_index *ix, ppx_scratch *sc, const ix_entry *key,
                   uint32_t *out, size_t n, uint32_t *nfound)
{
    if (!key) return n;
    uint32_t k = key->key - 1;
    uint64_t kbit = 1ull << (k & 63);
    if (sc->present[k >> 6] & kbit) return n;   /* its patterns are in already */
    sc->present[k >> 6] |= kbit;
    sc->found[(*nfound)++] = k;
    if (key->npost == 1) {
        uint32_t id = key->post;
        uint64_t bit = 1ull << (id & 63);
        if (!(sc->seen[id >> 6] & bit)) {
            sc->seen[id >> 6] |= bit;
            sc->ver[n] = key->ver;
            out[n++] = id;
            if (key->ver != NO_VER) __builtin_prefetch(ix->ver + key->ver);   /* read after the last token */
        }
        return n;
    }
    const uint32_t *e = ix->post + 2 * (size_t)key->post;
    for (uint32_t i = 0; i < key->npost; i++, e += 2) {
        uint32_t id = e[0];
        uint64_t bit = 1ull << (id & 63);
        if (!(sc->seen[id >> 6] & bit)) { sc->seen[id >> 6] |= bit; sc->ver[n] = e[1]; out[n++] = id; }
    }
    return n;
}

/* Does every clause listed at ix->ver[at] have a key present in the
 * text?  Each clause is read at most once per text (sc->memo). */
static int verified(const ppx_index *ix, ppx_scratch *sc, uint32_t at)
{
    const uint32_t *v = ix->ver + at;
    uint32_t nc = *v++;
    for (uint32_t c = 0; c < nc; c++) {
        uint32_t cid = v[c], m = sc->memo[cid];
        if (m >> 1 == sc->gen) {
            if (!(m & 1)) return 0;
            continue;
        }
        const uint32_t *k = ix->cl + ix->cl_at[cid];
        uint32_t nk = *k++, x = 0;
        while (x < nk && !(sc->present[k[x] >> 6] >> (k[x] & 63) & 1)) x++;
        sc->memo[cid] = sc->gen << 1 | (x < nk);
        if (x == nk) return 0;
    }
    return 1;
}

/* At match time: the key of hash h, kind and length len, or NULL.  The
 * filter answers most misses; a hit trusts hash, kind and length without
 * reading characters (keys that agree in all three were merged when the
 * index was built, so this can only add candidates). */
static const ix_entry *ent_find(const ppx_index *ix, size_t len, int kind, uint32_t h)
{
    if (!(ix->filter[h >> ix->filter_shift >> 6] >> (h >> ix->filter_shift & 63) & 1))
        return NULL;
    size_t mask = ix->nent - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        const ix_entry *e = &ix->ent[i];
        if (!e->key) return NULL;
        if (e->hash == h && e->kind == kind && e->len == len) return e;
    }
}

/* One token (mapped, lowercased): look it up as every kind of key. */
static size_t lookup_token(const ppx_index *ix, ppx_scratch *sc, const char *head,
                           size_t hlen, const char *tail_rev, size_t tlen,
                           size_t toklen, uint32_t *out, size_t n, uint32_t *nfound)
{
    uint32_t h = HASH_INIT;
    for (size_t l = 1; l <= hlen; l++) {
        h = hash_step(h, (unsigned char)head[l - 1]);
        if (ix->prefix_lens >> l & 1) {
            uint32_t hk = hash_final(h, K_PREFIX);
            n = take(ix, sc, ent_find(ix, l, K_PREFIX, hk), out, n, nfound);
        }
    }
    if (ix->has_exact && toklen <= IX_WORD_MAX)
        n = take(ix, sc, ent_find(ix, hlen, K_EXACT, hash_final(h, K_EXACT)), out, n, nfound);
    if (ix->suffix_lens) {
        h = HASH_INIT;
        for (size_t l = 1; l <= tlen; l++) {
            h = hash_step(h, (unsigned char)tail_rev[l - 1]);
            if (ix->suffix_lens >> l & 1)
                n = take(ix, sc, ent_find(ix, l, K_SUFFIX, hash_final(h, K_SUFFIX)), out, n, nfound);
        }
    }
    return n;
}

size_t ppx_candidates(const ppx_index *ix, ppx_scratch *sc,
                           const char *text, size_t len, uint32_t *out)
{
    if (!ix || !sc || !ix->finished || sc->n < ix->n || sc->nkeys < ix->nkeys || sc->ncl < ix->ncl) {
        /* unusable: everything is a candidate */
        for (uint32_t i = 0; ix && i < ix->n; i++) out[i] = i;
        return ix ? ix->n : 0;
    }
    size_t n = 0;
    uint32_t nfound = 0;
    const unsigned char *t = (const unsigned char *)text;
    char head[IX_WORD_MAX], ring[64], tail[IX_WORD_MAX];   /* ring: the last 64 */
    size_t toklen = 0;
    for (size_t i = 0; text && i <= len; i++) {
        int c = -1;           /* the mapped word character at i, or -1 */
        size_t step = 1;
        if (i < len) {
            unsigned char b = t[i];
            if (b < 0x80) {
                if (is_alnum(b)) c = b >= 'A' && b <= 'Z' ? b + 32 : b;
            } else if (b == 0xE2 && i + 2 < len && t[i + 1] == 0x84 && t[i + 2] == 0xAA) {
                c = 'k'; step = 3;                  /* U+212A KELVIN SIGN */
            } else if (b == 0xC5 && i + 1 < len && t[i + 1] == 0xBF) {
                c = 's'; step = 2;                  /* U+017F LATIN SMALL LETTER LONG S */
            }
        }
        if (c >= 0) {
            if (toklen < IX_WORD_MAX) head[toklen] = (char)c;
            ring[toklen & 63] = (char)c;
            toklen++;
            i += step - 1;
            continue;
        }
        if (toklen) {
            size_t hlen = toklen < IX_WORD_MAX ? toklen : IX_WORD_MAX;
            if (ix->suffix_lens)
                for (size_t x = 0; x < hlen; x++)   /* last hlen chars, reversed */
                    tail[x] = ring[(toklen - 1 - x) & 63];
            n = lookup_token(ix, sc, head, hlen, tail, hlen, toklen, out, n, &nfound);
            toklen = 0;
        }
    }
    /* every clause but the one posted under must hold too */
    if (++sc->gen >= 1u << 31) {
        memset(sc->memo, 0, sizeof *sc->memo * (sc->ncl ? sc->ncl : 1));
        sc->gen = 1;
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t id = out[i];
        if (sc->ver[i] != NO_VER && !verified(ix, sc, sc->ver[i])) {
            sc->seen[id >> 6] &= ~(1ull << (id & 63));
            continue;
        }
        out[m++] = id;
    }
    n = m;
    for (uint32_t f = 0; f < nfound; f++) sc->present[sc->found[f] >> 6] = 0;
    for (size_t a = 0; a < ix->nalways; a++) {
        uint32_t id = ix->always[a];
        uint64_t bit = 1ull << (id & 63);
        if (!(sc->seen[id >> 6] & bit)) { sc->seen[id >> 6] |= bit; out[n++] = id; }
    }
    /* Evaluation order, and the seen bits cleared for the next text: few
     * candidates are sorted in place; many are read off the bit set in
     * order, which is cheaper than sorting them. */
    if (n <= 32) {
        for (size_t i = 1; i < n; i++) {
            uint32_t v = out[i];
            size_t j = i;
            while (j && out[j - 1] > v) { out[j] = out[j - 1]; j--; }
            out[j] = v;
        }
        for (size_t i = 0; i < n; i++) sc->seen[out[i] >> 6] = 0;
    } else {
        n = 0;
        for (uint32_t w = 0; w <= ix->n / 64; w++) {
            for (uint64_t bits = sc->seen[w]; bits; bits &= bits - 1)
                out[n++] = w * 64 + (uint32_t)__builtin_ctzll(bits);
            sc->seen[w] = 0;
        }
    }
    return n;
}

size_t ppx_always(const ppx_index *ix)
{
    if (!ix) return 0;
    if (ix->finished) return ix->nalways;
    size_t n = 0;
    for (uint32_t id = 0; id < ix->n; id++)
        if (!ix->added[id] || ix->req_at[id] == UINT32_MAX) n++;
    return n;
}

int ppx_is_always(const ppx_index *ix, uint32_t id)
{
    if (!ix || id >= ix->n) return 1;
    return !ix->added[id] || ix->req_at[id] == UINT32_MAX;
}
