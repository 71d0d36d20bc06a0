/* rules.c -- load rule files and response files into an immutable rule set.
 *
 * Loading runs in passes so that every error in a directory is reported at
 * once, as "file:line: message":
 *   0. read the framework catalogue (every *.catalog file: which frameworks
 *      exist, which are locked after abuse) and the *.lexicon files;
 *   1. read every *.rules file: word classes (`define`) and rules (only
 *      regular files are opened, never waiting on a FIFO: read_file);
 *   2. read every *.responses file: response sets and their variants;
 *   3. expand {word classes} in patterns (cycles and unknown names are
 *      errors), compile each pattern once with UTF|UCP|CASELESS|DUPNAMES and
 *      JIT it;
 *   4. check references: frameworks, reply sets, `after:` ids, and that every
 *      placeholder of a set is built in or a named capture of every rule
 *      that answers with it;
 *   5. order patterns for evaluation (crisis first, then by priority) and
 *      build the candidate index.
 * A set with any error is freed and NULL returned: never half-used.
 * Everything a set holds is bounded: each file (MAX_FILE_BYTES), each
 * expanded pattern (MAX_EXPANDED), and the whole set (MAX_SET_BYTES,
 * counted as it is built by spend()), so that no rule file can make a
 * start take gigabytes or minutes.
 * Loading does not judge what a set is for: the fail-safe that every front
 * end runs on a loaded set (it must hold crisis rules, see crisis_kinds) is
 * pp_rules_check_crisis, a read-only view at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <strings.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "internal.h"

#define MAX_FILE_BYTES (8u << 20)
#define MAX_EXPANDED   (64u << 10)    /* one pattern, word classes expanded */
#define MAX_SET_BYTES  (128u << 20)   /* the whole set: see spend() */
#define MAX_DEPTH      16

static const char *const builtin_placeholders[] = {
    "partner", "they", "them", "their", "theirs", "theyre", "theyve", "theyll",
    "themself", "s", "es", "is", "isnt", "was", "wasnt", "has", "does",
    "doesnt", "said", "resources", "article", "recall", "fact", "draft", NULL
};

/* ---- reading files ----------------------------------------------------- */

/* The whole of a regular file, or NULL with the error added.  Opened with
 * O_NONBLOCK and checked with fstat before any read, as the store does: a
 * FIFO, device or directory named x.rules is refused ("not a regular
 * file") instead of hanging every start.  missing_ok: a file that does
 * not exist is no error (resources.tsv is optional). */
static char *read_file(const char *path, size_t *len, int missing_ok, pp_errors *errs)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (!(missing_ok && errno == ENOENT)) pp_errors_add(errs, path, 0, "cannot open");
        return NULL;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        pp_errors_add(errs, path, 0, "not a regular file");
        close(fd);
        return NULL;
    }
    ppb_buf b = {0};
    char chunk[8192];
    ssize_t n;
    int failed = 0;
    while (!failed && (n = read(fd, chunk, sizeof chunk)) != 0) {
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            pp_errors_add(errs, path, 0, "cannot read");
            failed = 1;
        } else if (b.len + (size_t)n > MAX_FILE_BYTES) {
            pp_errors_add(errs, path, 0, "file larger than %u bytes", MAX_FILE_BYTES);
            failed = 1;
        } else {
            ppb_add(&b, chunk, (size_t)n);
        }
    }
    close(fd);
    if (!failed && b.oom) pp_errors_add(errs, path, 0, "out of memory");
    if (failed || b.oom) { free(b.s); return NULL; }
    *len = b.len;
    return b.s ? b.s : ppe_strdup("");
}

/* 0 when buf is valid UTF-8, else the 1-based line of the first bad byte.
 * Rule and response files are text a coach edits; a stray Latin-1 byte is
 * reported, never passed on to PCRE2 or into a reply. */
static int bad_utf8_line(const char *buf, size_t len)
{
    int line = 1;
    const unsigned char *p = (const unsigned char *)buf;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = ppu_decode(p + i, len - i, &cp);
        if (n == 0) return line;
        if (cp == '\n') line++;
        i += n;
    }
    return 0;
}

/* A rule, response or resources file: a regular file, no NUL bytes, valid
 * UTF-8; a byte order mark at its start (editors on Windows write one) is
 * dropped, so the first line reads as written.  *len: its length. */
static char *read_text(const char *path, size_t *len, int missing_ok, pp_errors *errs)
{
    char *buf = read_file(path, len, missing_ok, errs);
    if (!buf) return NULL;
    if (*len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) {
        *len -= 3;
        memmove(buf, buf + 3, *len + 1);
    }
    int bad;
    if (memchr(buf, '\0', *len)) pp_errors_add(errs, path, 0, "file contains a NUL byte");
    else if ((bad = bad_utf8_line(buf, *len)) != 0)
        pp_errors_add(errs, path, bad, "not valid UTF-8 (save the file as UTF-8)");
    else return buf;
    free(buf);
    return NULL;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a > b && strcmp(s + a - b, suffix) == 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted list of dir/NAME for files ending in suffix.  Caller frees. */
static char **list_dir(const char *dir, const char *suffix, size_t *n, pp_errors *errs)
{
    DIR *d = opendir(dir);
    *n = 0;
    if (!d) { pp_errors_add(errs, dir, 0, "cannot open directory"); return NULL; }
    char **names = NULL;
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || !ends_with(e->d_name, suffix)) continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            char **p = realloc(names, cap * sizeof *p);
            if (!p) break;
            names = p;
        }
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        char *path = malloc(len);
        if (!path) break;
        snprintf(path, len, "%s/%s", dir, e->d_name);
        names[(*n)++] = path;
    }
    closedir(d);
    if (*n) qsort(names, *n, sizeof *names, cmp_str);
    return names;
}

static void free_list(char **l, size_t n)
{
    for (size_t i = 0; i < n; i++) free(l[i]);
    free(l);
}

/* Iterate the lines of buf in place: returns the next line (NUL-ended,
 * trailing \r and spaces removed) or NULL at the end. */
static char *next_line(char **cursor, int *lineno)
{
    char *p = *cursor;
    if (!p || !*p) return NULL;
    char *nl = strchr(p, '\n');
    if (nl) { *nl = '\0'; *cursor = nl + 1; }
    else *cursor = p + strlen(p);
    size_t n = strlen(p);
    while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == ' ' || p[n - 1] == '\t')) p[--n] = '\0';
    (*lineno)++;
    return p;
}

char *ppr_next_line(char **cursor, int *lineno)
{
    return next_line(cursor, lineno);
}

char *ppr_skip_space(char *p)
{
    while (*p == ' ' || *p == '\t') p++;
    return p;
}

int ppr_valid_id(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        unsigned char c = (unsigned char)s[n];
        if (!(islower(c) || isdigit(c) || c == '.' || c == '_' || c == '-')) return 0;
    }
    return n > 0 && n < PP_ID_MAX;
}

/* ---- growable arrays --------------------------------------------------- */

/* A rule file named as rules/x.rules (its directory and name), wherever
 * the rules directory is. */
static const char *shown_file(const char *file)
{
    if (!file) return "";
    const char *p = strrchr(file, '/');
    if (!p) return file;
    while (p > file && p[-1] != '/') p--;
    return p;
}

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return 0;
    size_t nc = *cap ? *cap * 2 : 8;
    while (nc < need) nc *= 2;
    void *p = realloc(*arr, nc * elem);
    if (!p) return -1;
    memset((char *)p + *cap * elem, 0, (nc - *cap) * elem);
    *arr = p;
    *cap = nc;
    return 0;
}

static int push_str(char ***arr, int **lines, size_t *n, const char *s, int line)
{
    char **a = realloc(*arr, (*n + 1) * sizeof **arr);
    if (!a) return -1;
    *arr = a;
    if (lines) {
        int *l = realloc(*lines, (*n + 1) * sizeof **lines);
        if (!l) return -1;
        *lines = l;
        l[*n] = line;
    }
    a[*n] = ppe_strdup(s);
    if (!a[*n]) return -1;
    (*n)++;
    return 0;
}

/* ---- the loader's working state ---------------------------------------- */

typedef struct raw_pattern {
    char *src;        /* as written (a `clause:` line: compiled from it) */
    char *not_after;  /* its `not_after:` lines joined with |, or NULL */
    int rule, line, is_unless, on_clauses;
} raw_pattern;

typedef struct loader {
    pp_ruleset *rs;
    pp_errors *errs;
    pcre2_compile_context *cctx;
    size_t rules_cap, sets_cap, defines_cap, paths_cap, frameworks_cap;
    const char *no_catalog;        /* the rules directory, when it has no *.catalog */
    raw_pattern *raw;
    size_t n_raw, raw_cap;
    size_t bytes;                  /* counted against MAX_SET_BYTES */
    int over;                      /* ... and it was passed */
} loader;

/* Count n more bytes of the rule set against MAX_SET_BYTES: the files it
 * reads, its rules, and every pattern's expanded source, compiled code and
 * JIT code.  Each pattern is bounded on its own (MAX_EXPANDED), but word
 * classes multiply, and thousands of bounded patterns once made a 366 KB
 * file take 919 MB and 17 s to load: the whole needs a bound too.  The
 * first time the total passes it the error says where (file:line); -1
 * from then on, and the loader stops compiling. */
static int spend(loader *L, size_t n, const char *file, int line)
{
    if (L->over) return -1;
    L->bytes += n;
    if (L->bytes <= MAX_SET_BYTES) return 0;
    L->over = 1;
    pp_errors_add(L->errs, file, line, "the rule set passes %u MiB here, counting rule text, "
                  "expanded patterns and compiled code (word classes that multiply?)",
                  MAX_SET_BYTES >> 20);
    return -1;
}

static int add_raw(loader *L, const char *src, int rule, int line, int is_unless)
{
    if (grow((void **)&L->raw, &L->raw_cap, L->n_raw + 1, sizeof *L->raw)) return -1;
    raw_pattern *r = &L->raw[L->n_raw++];
    r->src = ppe_strdup(src);
    r->rule = rule;
    r->line = line;
    r->is_unless = is_unless;
    r->on_clauses = 0;
    r->not_after = NULL;
    return r->src ? 0 : -1;
}

static int find_define(const pp_ruleset *rs, const char *name, size_t len)
{
    for (size_t i = 0; i < rs->n_defines; i++)
        if (strlen(rs->defines[i].name) == len && memcmp(rs->defines[i].name, name, len) == 0)
            return (int)i;
    return -1;
}

/* The bit of suggestion tag name (a variant's `asks:`, a rule's `avoid:`),
 * added to rs->tags the first time it is seen; 0 with the error added. */
static uint32_t tag_bit(loader *L, const char *name, const char *path, int lineno)
{
    pp_ruleset *rs = L->rs;
    size_t n = strlen(name);
    if (!ppr_valid_id(name) || n >= PP_TAG_MAX) {
        pp_errors_add(L->errs, path, lineno, "bad tag '%s' (lowercase, digits, '-', at most %d bytes)",
                      name, PP_TAG_MAX - 1);
        return 0;
    }
    for (size_t i = 0; i < rs->n_tags; i++)
        if (strcmp(rs->tags[i], name) == 0) return 1u << i;
    if (rs->n_tags >= PP_MAX_TAGS) {
        pp_errors_add(L->errs, path, lineno, "more than %d tags", PP_MAX_TAGS);
        return 0;
    }
    ppe_strlcpy(rs->tags[rs->n_tags], name, PP_TAG_MAX);
    return 1u << rs->n_tags++;
}

/* ---- pass 1: rule files ------------------------------------------------ */

/* A rule's framework when its `framework:` line named none we know (the
 * error is reported there; this keeps "has no framework" quiet). */
static const char unknown_framework[] = "?";
/* `framework: none`: a dialogue act (thanks, "are you a bot?"), which
 * belongs to no framework; the session keeps the one it has (reply.c). */
static const char no_framework[] = "none";

static void check_rule_complete(loader *L, int r)
{
    if (r < 0) return;
    ppr_rule *rule = &L->rs->rules[r];
    if (!rule->framework)
        pp_errors_add(L->errs, rule->file, rule->line, "rule %s has no framework:", rule->id);
    if (rule->role == (pp_role)-1)
        pp_errors_add(L->errs, rule->file, rule->line, "rule %s has no role:", rule->id);
    if (rule->n_patterns == 0)
        pp_errors_add(L->errs, rule->file, rule->line, "rule %s has no match: pattern", rule->id);
}

/* The rule set's own copy of a file's path, one per file: rules, sets and
 * word classes point to it (a reply's /why text reads it, and ten thousand
 * rules in one file need not carry ten thousand copies).  NULL: no memory. */
static const char *keep_path(loader *L, const char *path)
{
    pp_ruleset *rs = L->rs;
    char *copy = ppe_strdup(path);
    if (!copy || grow((void **)&rs->paths, &L->paths_cap, rs->n_paths + 1, sizeof *rs->paths)) {
        free(copy);
        pp_errors_add(L->errs, path, 0, "out of memory");
        return NULL;
    }
    return rs->paths[rs->n_paths++] = copy;
}

/* The text of a rule or response file, counted against the set's size;
 * NULL when it cannot be read (the error is added). */
static char *read_counted(loader *L, const char *path, int missing_ok)
{
    size_t len;
    char *buf = read_text(path, &len, missing_ok, L->errs);
    if (buf && spend(L, len, path, 0)) { free(buf); return NULL; }
    return buf;
}

/* A file of the set (rules, responses, catalogue, lexicon, words): the
 * set's copy of its path in *path, and its text, counted; NULL when it
 * cannot be read (the error is added).  Every parser starts here and then
 * walks the text with next_line(). */
static char *read_set_file(loader *L, const char *file, const char **path)
{
    *path = keep_path(L, file);
    return *path ? read_counted(L, *path, 0) : NULL;
}

static void lexicon_error(void *ctx, const char *file, int line, const char *msg)
{
    pp_errors_add(ctx, file, line, "%s", msg);
}

/* A .lexicon file: read like every file of the set (regular files only,
 * bounded, counted), parsed by the language layer. */
static void parse_lexicon_file(loader *L, const char *file)
{
    const char *path;
    char *buf = read_set_file(L, file, &path);
    if (!buf) return;
    ppl_lexicon_parse(L->rs->lexicon, path, buf, lexicon_error, L->errs);
    free(buf);
}

/* ---- pass 0: the framework catalogue ----------------------------------- */

const ppr_framework *ppr_framework_find(const pp_ruleset *rs, const char *id)
{
    for (size_t i = 0; id && i < rs->n_frameworks; i++)
        if (strcmp(id, rs->frameworks[i].id) == 0) return &rs->frameworks[i];
    return NULL;
}

int ppr_framework_locked(const pp_ruleset *rs, const char *id)
{
    const ppr_framework *f = ppr_framework_find(rs, id);
    return f && f->locked;
}

/* A .catalog file: `framework ID` blocks of `key: value` lines (the
 * format of rules/frameworks.catalog, docs/rules.md).  Read before the
 * rules, so that the array is final when rules point into it. */
static void parse_catalog_file(loader *L, const char *file)
{
    const char *path;
    char *buf = read_set_file(L, file, &path);
    if (!buf) return;
    pp_ruleset *rs = L->rs;
    char *cur = buf, *line;
    int lineno = 0;
    ppr_framework *fw = NULL;
    while ((line = next_line(&cur, &lineno)) != NULL) {
        char *p = ppr_skip_space(line);
        if (*p == '\0' || *p == '#') continue;
        if (strncmp(p, "framework", 9) == 0 && (p[9] == ' ' || p[9] == '\t')) {
            char *id = ppr_skip_space(p + 9);
            fw = NULL;
            if (!ppr_valid_id(id)) {
                pp_errors_add(L->errs, path, lineno, "bad framework id '%s' (use a-z, 0-9, . _ -)", id);
                continue;
            }
            const ppr_framework *old = ppr_framework_find(rs, id);
            if (old) {
                pp_errors_add(L->errs, path, lineno, "duplicate framework %s (first at %s:%d)",
                              id, old->file, old->line);
                continue;
            }
            if (grow((void **)&rs->frameworks, &L->frameworks_cap, rs->n_frameworks + 1,
                     sizeof *rs->frameworks)) break;
            fw = &rs->frameworks[rs->n_frameworks++];
            ppe_strlcpy(fw->id, id, sizeof fw->id);
            fw->file = path;
            fw->line = lineno;
            continue;
        }
        char *colon = strchr(p, ':');
        if (!colon) {
            pp_errors_add(L->errs, path, lineno, "expected 'framework ID' or 'key: value'");
            continue;
        }
        *colon = '\0';
        char *key = p, *value = ppr_skip_space(colon + 1);
        if (!fw) {
            pp_errors_add(L->errs, path, lineno, "'%s:' outside a framework block", key);
            continue;
        }
        if (strcmp(key, "article") == 0 || strcmp(key, "source") == 0) {
            char **slot = key[0] == 'a' ? &fw->article : &fw->source;
            if (!*value) { pp_errors_add(L->errs, path, lineno, "empty %s:", key); continue; }
            free(*slot);
            *slot = ppe_strdup(value);
        } else if (strcmp(key, "role") == 0) {
            char *save = NULL;
            fw->roles = 0;
            for (char *tok = strtok_r(value, " \t,", &save); tok; tok = strtok_r(NULL, " \t,", &save)) {
                pp_role role;
                if (pp_role_parse(tok, &role))
                    pp_errors_add(L->errs, path, lineno, "unknown role '%s' (pursuer, withdrawer, crisis, none)", tok);
                else fw->roles |= 1u << role;
            }
        } else if (strcmp(key, "locked-after-abuse") == 0) {
            if (strcmp(value, "yes") == 0) fw->locked = 1;
            else if (strcmp(value, "no") == 0) fw->locked = 0;
            else pp_errors_add(L->errs, path, lineno, "locked-after-abuse: is yes or no, not '%s'", value);
        } else {
            pp_errors_add(L->errs, path, lineno, "unknown key '%s' (article, source, role, locked-after-abuse)", key);
        }
    }
    free(buf);
}

/* The catalogue's copy of a framework id named at path:lineno, or NULL
 * with the error added. */
static const char *known_framework(loader *L, const char *id, const char *path, int lineno)
{
    const ppr_framework *f = ppr_framework_find(L->rs, id);
    if (f) return f->id;
    if (L->no_catalog)
        pp_errors_add(L->errs, path, lineno, "unknown framework '%s': %s has no *.catalog file, "
                      "the framework catalogue (see docs/rules.md)", id, L->no_catalog);
    else
        pp_errors_add(L->errs, path, lineno, "unknown framework '%s' (not in the framework catalogue, *.catalog)", id);
    return NULL;
}

/* `define NAME = PATTERN` (p: after "define"): a word class, global
 * across the set's files.  -1 when out of memory. */
static int add_define(loader *L, const char *path, int lineno, char *p)
{
    pp_ruleset *rs = L->rs;
    char *name = ppr_skip_space(p);
    char *eq = strchr(name, '=');
    if (!eq) { pp_errors_add(L->errs, path, lineno, "define needs: define NAME = PATTERN"); return 0; }
    char *end = eq;
    while (end > name && (end[-1] == ' ' || end[-1] == '\t')) end--;
    *end = '\0';
    char *value = ppr_skip_space(eq + 1);
    int ok = *name != '\0';
    for (char *q = name; *q; q++)
        if (!(islower((unsigned char)*q) || isdigit((unsigned char)*q) || *q == '_')) ok = 0;
    if (!ok) { pp_errors_add(L->errs, path, lineno, "bad word class name '%s' (use a-z, 0-9, _)", name); return 0; }
    if (!*value) { pp_errors_add(L->errs, path, lineno, "word class %s is empty", name); return 0; }
    int old = find_define(rs, name, strlen(name));
    if (old >= 0) {
        pp_errors_add(L->errs, path, lineno, "word class %s already defined at %s:%d",
                      name, rs->defines[old].file, rs->defines[old].line);
        return 0;
    }
    if (grow((void **)&rs->defines, &L->defines_cap, rs->n_defines + 1, sizeof *rs->defines)) return -1;
    ppr_define *d = &rs->defines[rs->n_defines++];
    d->name = ppe_strdup(name);
    d->value = ppe_strdup(value);
    d->file = path;
    d->line = lineno;
    return 0;
}

static void parse_rules_file(loader *L, const char *file)
{
    const char *path;
    char *buf = read_set_file(L, file, &path);
    if (!buf) return;
    pp_ruleset *rs = L->rs;
    char *cur = buf, *line;
    int lineno = 0, r = -1;
    while ((line = next_line(&cur, &lineno)) != NULL) {
        char *p = ppr_skip_space(line);
        if (*p == '\0' || *p == '#') continue;
        if (strncmp(p, "define", 6) == 0 && (p[6] == ' ' || p[6] == '\t')) {
            check_rule_complete(L, r);
            r = -1;
            if (add_define(L, path, lineno, p + 6)) break;
            continue;
        }
        if (strncmp(p, "rule", 4) == 0 && (p[4] == ' ' || p[4] == '\t')) {
            check_rule_complete(L, r);
            char *id = ppr_skip_space(p + 4);
            if (!ppr_valid_id(id)) {
                pp_errors_add(L->errs, path, lineno, "bad rule id '%s' (use a-z, 0-9, . _ -)", id);
                r = -1;
                continue;
            }
            if (spend(L, sizeof *rs->rules, path, lineno) ||
                grow((void **)&rs->rules, &L->rules_cap, rs->n_rules + 1, sizeof *rs->rules)) break;
            r = (int)rs->n_rules++;
            ppr_rule *rule = &rs->rules[r];
            ppe_strlcpy(rule->id, id, sizeof rule->id);
            rule->file = path;
            rule->shown_file = shown_file(rule->file);
            rule->line = lineno;
            rule->role = (pp_role)-1;
            rule->set = -1;
            continue;
        }
        char *colon = strchr(p, ':');
        if (!colon) {
            pp_errors_add(L->errs, path, lineno, "expected 'rule ID', 'define NAME = ...' or 'key: value'");
            continue;
        }
        *colon = '\0';
        char *key = p, *value = ppr_skip_space(colon + 1);
        if (r < 0) {
            pp_errors_add(L->errs, path, lineno, "'%s:' outside a rule", key);
            continue;
        }
        ppr_rule *rule = &rs->rules[r];
        if (strcmp(key, "role") == 0) {
            if (pp_role_parse(value, &rule->role)) {
                pp_errors_add(L->errs, path, lineno, "unknown role '%s' (pursuer, withdrawer, crisis, none)", value);
                rule->role = PP_ROLE_NONE;   /* reported once, not again as missing */
            }
        } else if (strcmp(key, "framework") == 0) {
            if (strcmp(value, "none") == 0) rule->framework = no_framework;
            else rule->framework = known_framework(L, value, path, lineno);
            if (!rule->framework) rule->framework = unknown_framework;
        } else if (strcmp(key, "priority") == 0) {
            char *end;
            long v = strtol(value, &end, 10);
            if (*value == '\0' || *end != '\0' || v < -1000000 || v > 1000000)
                pp_errors_add(L->errs, path, lineno, "priority must be a whole number, not '%s'", value);
            else rule->priority = (int)v;
        } else if (strcmp(key, "match") == 0 || strcmp(key, "unless") == 0) {
            if (!*value) { pp_errors_add(L->errs, path, lineno, "empty pattern"); continue; }
            int is_unless = key[0] == 'u';
            add_raw(L, value, r, lineno, is_unless);
            if (!is_unless) rule->n_patterns++;
        } else if (strcmp(key, "not_after") == 0) {
            /* refines the match: line right above it (docs/rules.md) */
            raw_pattern *last = L->n_raw ? &L->raw[L->n_raw - 1] : NULL;
            if (!*value) pp_errors_add(L->errs, path, lineno, "empty pattern");
            else if (!last || last->rule != r || last->is_unless || last->on_clauses)
                pp_errors_add(L->errs, path, lineno, "not_after: must follow a match: line of its rule");
            else {
                ppb_buf b = {0};
                if (last->not_after) { ppb_adds(&b, last->not_after); ppb_adds(&b, "|"); }
                ppb_adds(&b, "(?:"); ppb_adds(&b, value); ppb_adds(&b, ")");
                free(last->not_after);
                last->not_after = ppb_take(&b);
            }
        } else if (strcmp(key, "clause") == 0) {
            /* who does what, over the language layer (docs/language.md) */
            char pat[4096], msg[256];
            int col = 0;
            if (!rs->lexicon)
                pp_errors_add(L->errs, path, lineno, "clause: needs the language layer: "
                              "no .lexicon file in the rules directory");
            else if (ppl_clause_pattern(rs->lexicon, value, pat, sizeof pat, &col, msg, sizeof msg))
                pp_errors_add(L->errs, path, lineno, "column %d: %s", (int)(value - line) + col, msg);
            else if (add_raw(L, pat, r, lineno, 0) == 0) {
                L->raw[L->n_raw - 1].on_clauses = 1;
                rule->n_patterns++;
            }
        } else if (strcmp(key, "example") == 0) {
            push_str(&rule->examples, &rule->example_lines, &rule->n_examples, value, lineno);
        } else if (strcmp(key, "not") == 0) {
            push_str(&rule->counter, &rule->counter_lines, &rule->n_counter, value, lineno);
        } else if (strcmp(key, "reply") == 0) {
            if (!ppr_valid_id(value)) pp_errors_add(L->errs, path, lineno, "bad reply set id '%s'", value);
            free(rule->reply_set);
            rule->reply_set = ppe_strdup(value);
        } else if (strcmp(key, "after") == 0) {
            char *tok, *save = NULL;
            for (tok = strtok_r(value, " \t,", &save); tok; tok = strtok_r(NULL, " \t,", &save))
                push_str(&rule->after, NULL, &rule->n_after, tok, lineno);
            if (rule->n_after == 0) pp_errors_add(L->errs, path, lineno, "after: needs set or framework ids");
        } else if (strcmp(key, "flag") == 0) {
            if (strcmp(value, "abuse") == 0) rule->flag_abuse = 1;
            else pp_errors_add(L->errs, path, lineno, "unknown flag '%s' (abuse)", value);
        } else if (strcmp(key, "act") == 0) {
            if (!ppr_valid_id(value) || strlen(value) >= sizeof rule->act)
                pp_errors_add(L->errs, path, lineno, "bad act '%s'", value);
            else ppe_strlcpy(rule->act, value, sizeof rule->act);
        } else if (strcmp(key, "avoid") == 0) {
            char *tok, *save = NULL;
            for (tok = strtok_r(value, " \t,", &save); tok; tok = strtok_r(NULL, " \t,", &save)) {
                if (strcmp(tok, "last") == 0) rule->avoid_last = 1;
                else rule->avoid |= tag_bit(L, tok, path, lineno);
            }
        } else {
            pp_errors_add(L->errs, path, lineno, "unknown key '%s' (role, framework, priority, match, not_after, unless, clause, example, not, reply, after, flag, act, avoid)", key);
        }
    }
    check_rule_complete(L, r);
    free(buf);
}

/* ---- pass 2: response files -------------------------------------------- */

static void finish_variant(loader *L, ppr_set *set, ppb_buf *text, const char *path)
{
    if (!set || !set->n_variants) return;
    ppr_variant *v = &set->variants[set->n_variants - 1];
    if (v->text) return;
    /* trim trailing paragraph breaks / spaces */
    while (text->len > 0 && (text->s[text->len - 1] == ' ' || text->s[text->len - 1] == '\n'))
        text->s[--text->len] = '\0';
    if (text->len == 0) {
        pp_errors_add(L->errs, path, v->line, "variant in set %s has no text (indent its lines)", set->id);
        v->text = ppe_strdup("");
        free(text->s);
        memset(text, 0, sizeof *text);
        return;
    }
    v->text = ppb_take(text);
}

static void parse_responses_file(loader *L, const char *file)
{
    const char *path;
    char *buf = read_set_file(L, file, &path);
    if (!buf) return;
    pp_ruleset *rs = L->rs;
    char *cur = buf, *line;
    int lineno = 0;
    ppr_set *set = NULL;
    int in_variant = 0;
    ppb_buf text = {0};
    while ((line = next_line(&cur, &lineno)) != NULL) {
        int indented = line[0] == ' ' || line[0] == '\t';
        char *p = ppr_skip_space(line);
        if (*p == '#' && !(in_variant && indented)) continue;
        if (*p == '\0') continue;
        if (in_variant && indented) {
            if (strcmp(p, "|") == 0) {
                while (text.len > 0 && text.s[text.len - 1] == ' ') text.s[--text.len] = '\0';
                ppb_adds(&text, "\n\n");
            } else {
                if (text.len > 0 && text.s[text.len - 1] != '\n') ppb_adds(&text, " ");
                ppb_adds(&text, p);
            }
            continue;
        }
        if (in_variant) { finish_variant(L, set, &text, path); in_variant = 0; }
        if (strncmp(p, "set", 3) == 0 && (p[3] == ' ' || p[3] == '\t')) {
            char *id = ppr_skip_space(p + 3);
            set = NULL;
            if (!ppr_valid_id(id)) { pp_errors_add(L->errs, path, lineno, "bad set id '%s'", id); continue; }
            if (grow((void **)&rs->sets, &L->sets_cap, rs->n_sets + 1, sizeof *rs->sets)) break;
            set = &rs->sets[rs->n_sets++];
            ppe_strlcpy(set->id, id, sizeof set->id);
            set->file = path;
            set->line = lineno;
            continue;
        }
        if (!set) {
            pp_errors_add(L->errs, path, lineno, "expected 'set ID' first");
            continue;
        }
        if (strncmp(p, "variant", 7) == 0 && (p[7] == '\0' || p[7] == ' ' || p[7] == '\t')) {
            ppr_variant *v = realloc(set->variants, (set->n_variants + 1) * sizeof *v);
            if (!v) break;
            set->variants = v;
            v = &set->variants[set->n_variants++];
            memset(v, 0, sizeof *v);
            v->line = lineno;
            char *save = NULL;
            for (char *tok = strtok_r(p + 7, " \t,", &save); tok; tok = strtok_r(NULL, " \t,", &save)) {
                pp_role role;
                if (strncmp(tok, "asks:", 5) == 0)      /* what the suggestion asks of the user */
                    v->asks |= tag_bit(L, tok + 5, path, lineno);
                else if (pp_role_parse(tok, &role))
                    pp_errors_add(L->errs, path, lineno, "unknown role '%s' after variant", tok);
                else v->roles |= 1u << role;
            }
            in_variant = 1;
            continue;
        }
        char *colon = strchr(p, ':');
        if (colon) {
            *colon = '\0';
            char *value = ppr_skip_space(colon + 1);
            if (strcmp(p, "article") == 0) {
                free(set->article);
                set->article = ppe_strdup(value);
                continue;
            }
            if (strcmp(p, "framework") == 0) {
                /* the set's framework: checked, and its article cited
                 * unless the set names its own */
                const ppr_framework *f = known_framework(L, value, path, lineno)
                                        ? ppr_framework_find(rs, value) : NULL;
                if (f && f->article && !set->article) set->article = ppe_strdup(f->article);
                continue;
            }
            pp_errors_add(L->errs, path, lineno, "unknown key '%s' (article, framework)", p);
            continue;
        }
        pp_errors_add(L->errs, path, lineno, "expected 'set ID', 'variant [roles]', 'article: ...' or indented text");
    }
    if (in_variant) finish_variant(L, set, &text, path);
    free(text.s);
    free(buf);
}

/* Duplicate ids, found by sorting (linear scans would be quadratic in the
 * number of rules).  Sorts an array of indices; the rules keep file order. */
static int cmp_rule_ptr(const void *a, const void *b)
{
    const ppr_rule *x = *(ppr_rule *const *)a, *y = *(ppr_rule *const *)b;
    int c = strcmp(x->id, y->id);
    return c ? c : (x < y ? -1 : x > y);
}

static void check_duplicate_rules(loader *L)
{
    pp_ruleset *rs = L->rs;
    ppr_rule **v = malloc((rs->n_rules ? rs->n_rules : 1) * sizeof *v);
    if (!v) return;
    for (size_t i = 0; i < rs->n_rules; i++) v[i] = &rs->rules[i];
    if (rs->n_rules > 1) qsort(v, rs->n_rules, sizeof *v, cmp_rule_ptr);
    for (size_t i = 1; i < rs->n_rules; i++)
        if (strcmp(v[i]->id, v[i - 1]->id) == 0) {
            size_t first = i - 1;
            while (first > 0 && strcmp(v[first - 1]->id, v[i]->id) == 0) first--;
            pp_errors_add(L->errs, v[i]->file, v[i]->line, "duplicate rule id %s (first at %s:%d)",
                          v[i]->id, v[first]->file, v[first]->line);
        }
    free(v);
}

/* ---- pass 3: word classes and compiling -------------------------------- */

static int expand(loader *L, const char *src, ppb_buf *out, int depth,
                  const char *file, int line)
{
    if (depth > MAX_DEPTH) {
        pp_errors_add(L->errs, file, line, "word classes nest too deep (a cycle?)");
        return -1;
    }
    for (const char *p = src; *p;) {
        if (*p == '\\' && p[1]) { ppb_add(out, p, 2); p += 2; continue; }
        if (*p == '{' && (islower((unsigned char)p[1]) || p[1] == '_')) {
            const char *q = p + 1;
            while (islower((unsigned char)*q) || isdigit((unsigned char)*q) || *q == '_') q++;
            if (*q == '}') {
                int d = find_define(L->rs, p + 1, (size_t)(q - p - 1));
                if (d < 0) {
                    pp_errors_add(L->errs, file, line, "unknown word class {%.*s}", (int)(q - p - 1), p + 1);
                    return -1;
                }
                ppb_adds(out, "(?:");
                if (expand(L, L->rs->defines[d].value, out, depth + 1,
                           L->rs->defines[d].file, L->rs->defines[d].line))
                    return -1;
                ppb_adds(out, ")");
                p = q + 1;
                continue;
            }
        }
        ppb_add(out, p, 1);
        p++;
    }
    if (out->len > MAX_EXPANDED) {
        pp_errors_add(L->errs, file, line, "pattern longer than %u bytes after expanding word classes", MAX_EXPANDED);
        return -1;
    }
    return 0;
}

#define PP_JIT_MIN_SIZE 320   /* bytes of compiled pattern */

static pcre2_code *compile(loader *L, const char *src, const char *file, int line,
                           int anchored, char **expanded_out)
{
    if (L->over) return NULL;
    ppb_buf b = {0};
    if (anchored) ppb_adds(&b, "^(?:");
    if (expand(L, src, &b, 0, file, line)) { free(b.s); return NULL; }
    if (anchored) ppb_adds(&b, ")$");
    if (b.oom || spend(L, b.len, file, line)) { free(b.s); return NULL; }
    int err;
    PCRE2_SIZE off;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)b.s, b.len,
                                     PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS | PCRE2_DUPNAMES,
                                     &err, &off, L->cctx);
    if (!code) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(err, msg, sizeof msg);
        pp_errors_add(L->errs, file, line, "bad pattern: %s at offset %zu", (char *)msg, (size_t)off);
        free(b.s);
        return NULL;
    }
    /* JIT only where it pays: a small pattern runs as fast in the
     * interpreter, whose bytecode sits next to the pattern, while JIT code
     * lives on its own executable pages -- with thousands of rules each
     * reply then pays cache and TLB misses, plus ~8 us a pattern to
     * compile (docs/architecture.md has the figures). */
    size_t size = 0, jit = 0;
    pcre2_pattern_info(code, PCRE2_INFO_SIZE, &size);
    if (size >= PP_JIT_MIN_SIZE)
        pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);   /* the interpreter when JIT is absent */
    pcre2_pattern_info(code, PCRE2_INFO_JITSIZE, &jit);
    if (spend(L, size + jit, file, line)) {
        pcre2_code_free(code);
        free(b.s);
        return NULL;
    }
    uint32_t pairs = 0;
    pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &pairs);
    if (pairs + 1 > L->rs->max_pairs) L->rs->max_pairs = pairs + 1;
    if (expanded_out) *expanded_out = ppb_take(&b);
    else free(b.s);
    return code;
}

/* Does code have a capture group called name? */
static int has_group(const pcre2_code *code, const char *name)
{
    return pcre2_substring_number_from_name(code, (PCRE2_SPTR)name) >= 0;
}

/* ---- pass 4: references ------------------------------------------------ */

static int cmp_set(const void *a, const void *b)
{
    return strcmp(((const ppr_set *)a)->id, ((const ppr_set *)b)->id);
}

static int set_find_index(const pp_ruleset *rs, const char *id)
{
    size_t lo = 0, hi = rs->n_sets;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(id, rs->sets[mid].id);
        if (c == 0) return (int)mid;
        if (c < 0) hi = mid; else lo = mid + 1;
    }
    return -1;
}

const ppr_set *ppr_find_set(const pp_ruleset *rs, const char *id)
{
    int i = id ? set_find_index(rs, id) : -1;
    return i < 0 ? NULL : &rs->sets[i];
}

static int is_builtin(const char *name, size_t len)
{
    char low[32];
    if (len == 0 || len >= sizeof low) return 0;
    for (size_t i = 0; i < len; i++) low[i] = (char)tolower((unsigned char)name[i]);
    low[len] = '\0';
    for (int i = 0; builtin_placeholders[i]; i++)
        if (strcmp(low, builtin_placeholders[i]) == 0) return 1;
    return 0;
}

/* What a command fills into a system.* set (dialog.c, reply.c's /why). */
static int is_system_var(const char *name, size_t n)
{
    static const char *const vars[] = {
        "error", "command", "rule", "file", "line", "quote", "role", "framework", "priority",
        "set", "beat", "reaching", "stepping", "rules", "act", "topic", "article",
        /* programs and check-ins (plan.c) */
        "title", "program", "days", "day", "step", "summary", "score", "count", "since",
        "weeks", "before", "now", "all", "near", NULL
    };
    for (int i = 0; vars[i]; i++)
        if (strlen(vars[i]) == n && strncmp(name, vars[i], n) == 0) return 1;
    return 0;
}

/* What the bots' reminder and pairing sentences are filled with
 * (app/remind.c, app/pair.c: responses/bots.responses). */
static int is_bot_var(const char *name, size_t n)
{
    static const char *const vars[] = {
        "time", "zone", "next", "now", "text", "code", "hours", "question", "answer", "error", NULL
    };
    for (int i = 0; vars[i]; i++)
        if (strlen(vars[i]) == n && strncmp(name, vars[i], n) == 0) return 1;
    return 0;
}

static int reframe_placeholder(const char *name, size_t n)
{
    static const char *const names[] = { "feeling", "situation", "need", "request", "about", "horsemen", NULL };
    for (int i = 0; names[i]; i++)
        if (strlen(names[i]) == n && strncmp(name, names[i], n) == 0) return 1;
    return 0;
}

static void check_placeholders(loader *L, const ppr_set *set)
{
    pp_ruleset *rs = L->rs;
    for (size_t v = 0; v < set->n_variants; v++) {
        const char *t = set->variants[v].text;
        for (const char *p = t ? strchr(t, '{') : NULL; p; p = strchr(p + 1, '{')) {
            const char *q = p + 1;
            while (isalnum((unsigned char)*q) || *q == '_') q++;
            if (*q != '}' || q == p + 1) {
                pp_errors_add(L->errs, set->file, set->variants[v].line,
                              "set %s: '{' without a placeholder name and '}'", set->id);
                break;
            }
            size_t n = (size_t)(q - p - 1);
            if (is_builtin(p + 1, n)) continue;
            /* what a command fills in (dialog.c) */
            if (strncmp(set->id, "system.", 7) == 0 && is_system_var(p + 1, n)) continue;
            if ((strncmp(set->id, "remind.", 7) == 0 || strncmp(set->id, "pair.", 5) == 0) &&
                is_bot_var(p + 1, n)) continue;
            /* what a rewrite fills in (reframe.c) */
            if (strncmp(set->id, "reframe.", 8) == 0 && reframe_placeholder(p + 1, n)) continue;
            char name[64];
            if (n >= sizeof name) n = sizeof name - 1;
            memcpy(name, p + 1, n);
            name[n] = '\0';
            int users = 0, missing = 0;
            for (size_t k = 0; k < rs->n_patterns; k++) {
                ppr_rule *rule = &rs->rules[rs->patterns[k].rule];
                if (!rule->reply_set || strcmp(rule->reply_set, set->id)) continue;
                users++;
                if (!has_group(rs->patterns[k].code, name)) missing++;
            }
            if (users == 0 || missing)
                pp_errors_add(L->errs, set->file, set->variants[v].line,
                              "set %s: placeholder {%s} is not built in and not a named capture of %s",
                              set->id, name, users ? "every rule that answers with it" : "any rule (none answers with it)");
        }
    }
}

/* ---- pass 5: evaluation order ------------------------------------------ */

static int cmp_eval(const pp_ruleset *rs, const ppr_pattern *x, const ppr_pattern *y)
{
    const ppr_rule *rx = &rs->rules[x->rule], *ry = &rs->rules[y->rule];
    int cx = rx->role == PP_ROLE_CRISIS, cy = ry->role == PP_ROLE_CRISIS;
    if (cx != cy) return cy - cx;
    if (rx->priority != ry->priority) return rx->priority > ry->priority ? -1 : 1;
    if (x->rule != y->rule) return x->rule < y->rule ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

/* A stable merge sort; qsort has no context argument in C11 and the loader
 * keeps no globals. */
static void order_patterns(pp_ruleset *rs)
{
    size_t n = rs->n_patterns;
    ppr_pattern *tmp = malloc((n ? n : 1) * sizeof *tmp);
    if (!tmp) return;
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                tmp[k++] = cmp_eval(rs, &rs->patterns[j], &rs->patterns[i]) < 0
                           ? rs->patterns[j++] : rs->patterns[i++];
            while (i < mid) tmp[k++] = rs->patterns[i++];
            while (j < hi) tmp[k++] = rs->patterns[j++];
        }
        memcpy(rs->patterns, tmp, n * sizeof *tmp);
    }
    free(tmp);
}

/* ---- resources --------------------------------------------------------- */

static void load_resources(loader *L, const char *dir, const char *region)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/resources.tsv", dir);
    char *buf = read_counted(L, path, 1);   /* optional: built-in default text is used */
    if (!buf) return;
    ppb_buf want = {0}, def = {0};
    char *cur = buf, *line;
    int lineno = 0;
    while ((line = next_line(&cur, &lineno)) != NULL) {
        if (!*line || *line == '#') continue;
        char *tab = strchr(line, '\t');
        if (!tab) { pp_errors_add(L->errs, path, lineno, "expected region<TAB>text"); continue; }
        *tab = '\0';
        const char *text = ppr_skip_space(tab + 1);
        if (region && strcasecmp(line, region) == 0) { ppb_adds(&want, text); ppb_adds(&want, "\n"); }
        if (strcmp(line, "default") == 0) { ppb_adds(&def, text); ppb_adds(&def, "\n"); }
    }
    if (def.len == 0) pp_errors_add(L->errs, path, 0, "no 'default' region");
    if (want.len) { L->rs->resources = ppb_take(&want); free(def.s); }
    else { L->rs->resources = ppb_take(&def); free(want.s); }
    if (L->rs->resources) {
        size_t n = strlen(L->rs->resources);
        if (n && L->rs->resources[n - 1] == '\n') L->rs->resources[n - 1] = '\0';
    }
    free(buf);
}

/* ---- pass 2b: reframe word lists (*.words) ----------------------------- */

static const char *const horseman_names[4] = { "criticism", "contempt", "defensiveness", "stonewalling" };

static int horseman_index(const char *name)
{
    for (int k = 0; k < 4; k++)
        if (strcmp(name, horseman_names[k]) == 0) return k;
    return -1;
}

/* *slot = a copy of value; an error when it was set already. */
static void set_text(loader *L, char **slot, const char *value, const char *what,
                     const char *path, int lineno)
{
    if (*slot) { pp_errors_add(L->errs, path, lineno, "%s given twice", what); return; }
    *slot = ppe_strdup(value);
}

static void set_pattern(loader *L, ppf_pattern *re, const char *value, const char *what,
                        const char *path, int lineno)
{
    if (!*value) { pp_errors_add(L->errs, path, lineno, "empty pattern"); return; }
    set_text(L, &re->src, value, what, path, lineno);
    re->file = path;
    re->line = lineno;
}

/* `words NAME: phrase, phrase, ...`: lines of one name add up.  1 when out
 * of memory. */
static int add_word_list(loader *L, ppf_words *w, const char *path, int lineno, char *rest)
{
    char *colon = strchr(rest, ':');
    char *end = colon ? colon : rest;
    while (end > rest && (end[-1] == ' ' || end[-1] == '\t')) end--;
    if (!colon || end == rest) { pp_errors_add(L->errs, path, lineno, "expected 'words NAME: phrase, phrase, ...'"); return 0; }
    *end = '\0';
    if (!ppr_valid_id(rest)) { pp_errors_add(L->errs, path, lineno, "bad list name '%s'", rest); return 0; }
    ppf_list *list = NULL;
    for (size_t i = 0; i < w->n_lists; i++)
        if (strcmp(w->lists[i].name, rest) == 0) list = &w->lists[i];
    if (!list) {
        if (grow((void **)&w->lists, &w->lists_cap, w->n_lists + 1, sizeof *w->lists)) return 1;
        list = &w->lists[w->n_lists++];
        memset(list, 0, sizeof *list);
        ppe_strlcpy(list->name, rest, sizeof list->name);
    }
    for (char *item = colon + 1, *next; item; item = next) {
        next = strchr(item, ',');
        if (next) *next++ = '\0';
        /* lowercase, single spaces, trimmed */
        char phrase[128];
        size_t n = 0;
        for (char *c = item; *c && n + 1 < sizeof phrase; c++) {
            char ch = *c == '\t' ? ' ' : (char)tolower((unsigned char)*c);
            if (ch == ' ' && (n == 0 || phrase[n - 1] == ' ')) continue;
            phrase[n++] = ch;
        }
        while (n && phrase[n - 1] == ' ') n--;
        phrase[n] = '\0';
        if (!n) continue;
        if (grow((void **)&list->phrases, &list->cap, list->n_phrases + 1, sizeof *list->phrases)) return 1;
        if (!(list->phrases[list->n_phrases] = ppe_strdup(phrase))) return 1;
        list->n_phrases++;
    }
    return 0;
}

/* A .words file of the responses directory: the word lists of pp_reframe()
 * (the format of responses/reframe.words, docs/rules.md).  Several files
 * add up; each single entry (past-tense:, a note, template:) is given once
 * in all of them. */
static void parse_words_file(loader *L, const char *file)
{
    const char *path;
    char *buf = read_set_file(L, file, &path);
    if (!buf) return;
    ppf_words *w = L->rs->reframe;
    if (!w && !(w = L->rs->reframe = calloc(1, sizeof *w))) {
        pp_errors_add(L->errs, path, 0, "out of memory");
        free(buf);
        return;
    }
    char *cur = buf, *line;
    int lineno = 0;
    ppf_horseman block = {0}, *horse = NULL;   /* the block lines belong to */
    ppf_topic *topic = NULL;
    while ((line = next_line(&cur, &lineno)) != NULL) {
        char *p = ppr_skip_space(line);
        if (*p == '\0' || *p == '#') continue;
        char *sp = p + strcspn(p, " \t:");
        char word[32];
        snprintf(word, sizeof word, "%.*s", (int)(sp - p), p);
        if (*sp == ' ' || *sp == '\t') {
            char *rest = ppr_skip_space(sp);
            if (strcmp(word, "define") == 0) {
                horse = NULL; topic = NULL;
                if (add_define(L, path, lineno, rest)) break;
                continue;
            }
            if (strcmp(word, "horseman") == 0) {
                topic = NULL; horse = NULL;
                char *opt = rest + strcspn(rest, " \t");
                int cs = 0;
                if (*opt) { *opt = '\0'; opt = ppr_skip_space(opt + 1); cs = strcmp(opt, "case-sensitive") == 0; }
                int k = horseman_index(rest);
                if (k < 0 || (*opt && !cs)) {
                    pp_errors_add(L->errs, path, lineno, "expected 'horseman NAME [case-sensitive]' "
                                  "(criticism, contempt, defensiveness, stonewalling)");
                    continue;
                }
                /* each match: line of the block adds an entry */
                horse = &block;
                horse->horseman = 1u << k;
                horse->case_sensitive = cs;
                continue;
            }
            if (strcmp(word, "topic") == 0) {
                horse = NULL; topic = NULL;
                if (!ppr_valid_id(rest)) { pp_errors_add(L->errs, path, lineno, "bad topic id '%s'", rest); continue; }
                if (grow((void **)&w->topics, &w->topics_cap, w->n_topics + 1, sizeof *w->topics)) break;
                topic = &w->topics[w->n_topics++];
                ppe_strlcpy(topic->id, rest, sizeof topic->id);
                topic->re.file = path;
                topic->re.line = lineno;
                continue;
            }
            if (strcmp(word, "words") == 0) {
                horse = NULL; topic = NULL;
                if (add_word_list(L, w, path, lineno, rest)) break;
                continue;
            }
            if (strcmp(word, "object") == 0 || strcmp(word, "objects") == 0 || strcmp(word, "note") == 0) {
                horse = NULL; topic = NULL;
                char *colon = strchr(rest, ':');
                if (!colon) { pp_errors_add(L->errs, path, lineno, "expected '%s NAME: TEXT'", word); continue; }
                char *end = colon;
                while (end > rest && (end[-1] == ' ' || end[-1] == '\t')) end--;
                *end = '\0';
                char *value = ppr_skip_space(colon + 1);
                if (!*rest || !*value) { pp_errors_add(L->errs, path, lineno, "expected '%s NAME: TEXT'", word); continue; }
                if (word[0] == 'o') {
                    if (grow((void **)&w->objects, &w->objects_cap, w->n_objects + 1, sizeof *w->objects)) break;
                    ppf_object *o = &w->objects[w->n_objects++];
                    o->word = ppe_strdup(rest);
                    o->phrase = ppe_strdup(value);
                    o->plural = word[6] == 's';
                    continue;
                }
                int k = horseman_index(rest);
                char **slot = k >= 0 ? &w->note_horseman[k]
                            : strcmp(rest, "gentle") == 0 ? &w->note_gentle
                            : strcmp(rest, "template") == 0 ? &w->note_template
                            : strcmp(rest, "neutral") == 0 ? &w->note_neutral
                            : strcmp(rest, "source") == 0 ? &w->note_source
                            : strcmp(rest, "feeling") == 0 ? &w->note_feeling : NULL;
                if (!slot) pp_errors_add(L->errs, path, lineno, "unknown note '%s' (a horseman, gentle, template, neutral, source, feeling)", rest);
                else set_text(L, slot, value, "this note", path, lineno);
                continue;
            }
        }
        char *colon = strchr(p, ':');
        if (!colon) {
            pp_errors_add(L->errs, path, lineno, "expected 'horseman NAME', 'topic ID', 'object WORD: PHRASE', "
                          "'note NAME: TEXT', 'define NAME = ...' or 'key: value'");
            continue;
        }
        *colon = '\0';
        char *key = p, *value = ppr_skip_space(colon + 1);
        if (strcmp(key, "past-tense") == 0 || strcmp(key, "i-statement") == 0 || strcmp(key, "asks") == 0) {
            horse = NULL; topic = NULL;
            set_pattern(L, key[0] == 'p' ? &w->past : key[0] == 'i' ? &w->istatement : &w->request,
                        value, key, path, lineno);
        } else if (strcmp(key, "template") == 0) {
            horse = NULL; topic = NULL;
            set_text(L, &w->template_text, value, "template:", path, lineno);
        } else if (horse && strcmp(key, "match") == 0) {
            if (!*value) { pp_errors_add(L->errs, path, lineno, "empty pattern"); continue; }
            if (grow((void **)&w->horsemen, &w->horsemen_cap, w->n_horsemen + 1, sizeof *w->horsemen)) break;
            ppf_horseman *h = &w->horsemen[w->n_horsemen++];
            h->horseman = horse->horseman;
            h->case_sensitive = horse->case_sensitive;
            set_pattern(L, &h->re, value, "match:", path, lineno);
        } else if (topic) {
            char **slot = strcmp(key, "object") == 0 ? &topic->default_obj
                        : strcmp(key, "feeling") == 0 ? &topic->feeling
                        : strcmp(key, "now") == 0 ? &topic->sit_now
                        : strcmp(key, "past") == 0 ? &topic->sit_past
                        : strcmp(key, "need") == 0 ? &topic->need
                        : strcmp(key, "request") == 0 ? &topic->request
                        : strcmp(key, "label") == 0 ? &topic->label : NULL;
            if (strcmp(key, "match") == 0) {
                if (topic->re.src) pp_errors_add(L->errs, path, lineno, "a topic has one match:");
                else set_pattern(L, &topic->re, value, "match:", path, lineno);
            } else if (strcmp(key, "plural") == 0) {
                if (strcmp(value, "yes") == 0) topic->default_plural = 1;
                else if (strcmp(value, "no") != 0) pp_errors_add(L->errs, path, lineno, "plural: is yes or no");
            } else if (slot) {
                set_text(L, slot, value, key, path, lineno);
            } else {
                pp_errors_add(L->errs, path, lineno, "unknown key '%s' (match, object, plural, feeling, now, "
                              "past, need, request, label)", key);
            }
        } else {
            pp_errors_add(L->errs, path, lineno, "'%s:' outside a horseman or topic block", key);
        }
    }
    free(buf);
}

/* Every topic whole, every single entry there, every pattern compiled
 * (case-sensitive ones with (?-i) in front: the same as compiling without
 * CASELESS). */
static void compile_words(loader *L, const char *sdir)
{
    ppf_words *w = L->rs->reframe;
    if (!w) return;
    for (size_t i = 0; i < w->n_topics; i++) {
        ppf_topic *t = &w->topics[i];
        const char *missing = !t->re.src ? "match" : !t->feeling ? "feeling" : !t->sit_now ? "now"
                            : !t->sit_past ? "past" : !t->need ? "need" : !t->request ? "request"
                            : !t->label ? "label" : NULL;
        if (missing) pp_errors_add(L->errs, t->re.file, t->re.line, "topic %s has no %s:", t->id, missing);
        if (!t->default_obj) t->default_obj = ppe_strdup("");
    }
    struct { const void *got; const char *what; } need[] = {
        { w->past.src, "past-tense:" }, { w->istatement.src, "i-statement:" }, { w->request.src, "asks:" },
        { w->template_text, "template:" }, { w->note_horseman[0], "note criticism:" },
        { w->note_horseman[1], "note contempt:" }, { w->note_horseman[2], "note defensiveness:" },
        { w->note_horseman[3], "note stonewalling:" }, { w->note_gentle, "note gentle:" },
        { w->note_template, "note template:" }, { w->note_neutral, "note neutral:" },
        { w->note_source, "note source:" }, { w->note_feeling, "note feeling:" },
    };
    for (size_t k = 0; k < sizeof need / sizeof need[0]; k++)
        if (!need[k].got) pp_errors_add(L->errs, sdir, 0, "the reframe word lists (*.words) have no %s", need[k].what);
    for (size_t i = 0; i < w->n_horsemen; i++) {
        ppf_pattern *re = &w->horsemen[i].re;
        if (!re->src) continue;
        if (w->horsemen[i].case_sensitive) {
            ppb_buf b = {0};
            ppb_adds(&b, "(?-i)");
            ppb_adds(&b, re->src);
            char *src = ppb_take(&b);
            if (src) re->code = compile(L, src, re->file, re->line, 0, NULL);
            free(src);
        } else {
            re->code = compile(L, re->src, re->file, re->line, 0, NULL);
        }
    }
    for (size_t i = 0; i < w->n_topics; i++)
        if (w->topics[i].re.src)
            w->topics[i].re.code = compile(L, w->topics[i].re.src, w->topics[i].re.file, w->topics[i].re.line, 0, NULL);
    ppf_pattern *one[] = { &w->past, &w->istatement, &w->request };
    for (size_t k = 0; k < 3; k++)
        if (one[k]->src) one[k]->code = compile(L, one[k]->src, one[k]->file, one[k]->line, 0, NULL);
}

static void free_pattern(ppf_pattern *re)
{
    free(re->src);
    pcre2_code_free(re->code);
}

static void free_words(ppf_words *w)
{
    if (!w) return;
    for (size_t i = 0; i < w->n_horsemen; i++) free_pattern(&w->horsemen[i].re);
    free(w->horsemen);
    for (size_t i = 0; i < w->n_topics; i++) {
        ppf_topic *t = &w->topics[i];
        free_pattern(&t->re);
        free(t->default_obj); free(t->feeling); free(t->sit_now); free(t->sit_past);
        free(t->need); free(t->request); free(t->label);
    }
    free(w->topics);
    for (size_t i = 0; i < w->n_objects; i++) { free(w->objects[i].word); free(w->objects[i].phrase); }
    free(w->objects);
    free_pattern(&w->past); free_pattern(&w->istatement); free_pattern(&w->request);
    for (size_t i = 0; i < w->n_lists; i++) {
        for (size_t k = 0; k < w->lists[i].n_phrases; k++) free(w->lists[i].phrases[k]);
        free(w->lists[i].phrases);
    }
    free(w->lists);
    free(w->note_feeling);
    for (int k = 0; k < 4; k++) free(w->note_horseman[k]);
    free(w->note_gentle); free(w->note_template); free(w->note_neutral); free(w->note_source);
    free(w->template_text);
    free(w);
}

/* ---- the whole load ---------------------------------------------------- */

static void compile_all(loader *L)
{
    pp_ruleset *rs = L->rs;
    size_t n = 0;
    for (size_t i = 0; i < L->n_raw; i++) n += !L->raw[i].is_unless;
    rs->patterns = calloc(n ? n : 1, sizeof *rs->patterns);
    if (!rs->patterns) return;
    for (size_t i = 0; i < L->n_raw; i++) {
        raw_pattern *rp = &L->raw[i];
        ppr_rule *rule = &rs->rules[rp->rule];
        char *expanded = NULL;
        pcre2_code *code = compile(L, rp->src, rule->file, rp->line, 0,
                                   rp->is_unless ? NULL : &expanded);
        if (!code) continue;
        if (rp->is_unless) {
            pcre2_code **u = realloc(rule->unless, (rule->n_unless + 1) * sizeof *u);
            if (!u) { pcre2_code_free(code); continue; }
            rule->unless = u;
            u[rule->n_unless++] = code;
        } else {
            ppr_pattern *p = &rs->patterns[rs->n_patterns++];
            p->code = code;
            p->rule = rp->rule;
            p->line = rp->line;
            p->src = expanded;
            p->on_clauses = (unsigned char)rp->on_clauses;
            int g = pcre2_substring_number_from_name(code, (PCRE2_SPTR)"partner");
            p->partner_group = g > 0 ? g : 0;   /* none, or not one (DUPNAMES) */
            rs->n_clause_patterns += rp->on_clauses != 0;
            if (rp->not_after)
                p->not_after = compile(L, rp->not_after, rule->file, rp->line, 0, NULL);
        }
    }
}

static void check_references(loader *L)
{
    pp_ruleset *rs = L->rs;
    if (rs->n_sets > 1) qsort(rs->sets, rs->n_sets, sizeof *rs->sets, cmp_set);
    for (size_t i = 1; i < rs->n_sets; i++)
        if (strcmp(rs->sets[i].id, rs->sets[i - 1].id) == 0)
            pp_errors_add(L->errs, rs->sets[i].file, rs->sets[i].line, "duplicate set %s (also at %s:%d)",
                          rs->sets[i].id, rs->sets[i - 1].file, rs->sets[i - 1].line);
    for (size_t i = 0; i < rs->n_sets; i++) {
        if (rs->sets[i].n_variants == 0)
            pp_errors_add(L->errs, rs->sets[i].file, rs->sets[i].line, "set %s has no variant", rs->sets[i].id);
    }
    for (size_t i = 0; i < rs->n_rules; i++) {
        ppr_rule *r = &rs->rules[i];
        if (!r->reply_set && r->framework && r->framework != unknown_framework &&
            r->framework != no_framework)
            r->reply_set = ppe_strdup(r->framework);
        if (!r->reply_set && r->framework == no_framework)
            pp_errors_add(L->errs, r->file, r->line, "rule %s: framework none needs reply:", r->id);
        if (!r->reply_set) continue;
        r->set = set_find_index(rs, r->reply_set);
        if (r->set < 0 && r->role != PP_ROLE_CRISIS)
            pp_errors_add(L->errs, r->file, r->line, "rule %s: no response set '%s' in the responses", r->id, r->reply_set);
        if (r->set < 0 && r->role == PP_ROLE_CRISIS) {
            r->set = set_find_index(rs, "safety");
            if (r->set < 0)
                pp_errors_add(L->errs, r->file, r->line, "rule %s: crisis rules need a '%s' or 'safety' set", r->id, r->reply_set);
        }
        for (size_t a = 0; a < r->n_after; a++)
            if (set_find_index(rs, r->after[a]) < 0 && !ppr_framework_find(rs, r->after[a]))
                pp_errors_add(L->errs, r->file, r->line, "rule %s: after: '%s' is neither a set nor a framework", r->id, r->after[a]);
        if (r->role == PP_ROLE_CRISIS && r->framework && r->framework != unknown_framework &&
            strcmp(r->framework, "safety") != 0)
            pp_errors_add(L->errs, r->file, r->line, "rule %s: crisis rules use framework safety", r->id);
    }
    /* over the size limit, patterns are missing: every placeholder would
     * look unused */
    for (size_t i = 0; i < rs->n_sets && !L->over; i++) check_placeholders(L, &rs->sets[i]);
}

uint32_t ppr_set_hash(const char *id)
{
    uint32_t h = 2166136261u;
    for (; *id; id++) h = (h ^ (unsigned char)*id) * 16777619u;
    return h;
}

/* Move an array of n elements (each a whole number of cache lines, see
 * internal.h) to memory that starts on a cache line, so that no element
 * straddles one more line than it needs.  On failure it stays put. */
static void *align_lines(void *p, size_t n, size_t elem)
{
    void *q;
    if (!p || !n || posix_memalign(&q, 64, n * elem)) return p;
    memcpy(q, p, n * elem);
    free(p);
    return q;
}

/* Where the next block of n bytes goes in the variant arena: after off,
 * aligned for ppr_variant, and on a fresh line when it would otherwise
 * cross one it fits in. */
static size_t block_at(size_t off, size_t n)
{
    off = (off + _Alignof(ppr_variant) - 1) & ~(size_t)(_Alignof(ppr_variant) - 1);
    if (n <= 64 && off / 64 != (off + n - 1) / 64) off = (off + 63) & ~(size_t)63;
    return off;
}

static size_t block_size(const ppr_set *set)
{
    size_t n = set->n_variants * sizeof *set->variants;
    for (size_t v = 0; v < set->n_variants; v++)
        if (set->variants[v].text) n += strlen(set->variants[v].text) + 1;
    return n;
}

/* Each set's variants and their texts, moved next to each other into one
 * arena (rs->variant_arena) in set order: a reply that picks a variant reads
 * one block, usually one cache line, instead of an array and then a string
 * somewhere else.  On failure (no memory) the sets keep their own blocks. */
static void pack_variants(pp_ruleset *rs)
{
    size_t total = 0;
    for (size_t i = 0; i < rs->n_sets; i++) {
        size_t n = block_size(&rs->sets[i]);
        total = block_at(total, n) + n;
    }
    char *arena;
    if (total == 0 || posix_memalign((void **)&arena, 64, total)) return;
    size_t off = 0;
    for (size_t i = 0; i < rs->n_sets; i++) {
        ppr_set *set = &rs->sets[i];
        size_t n = block_size(set);
        off = block_at(off, n);
        ppr_variant *vs = (ppr_variant *)(void *)(arena + off);
        char *t = (char *)(vs + set->n_variants);
        for (size_t v = 0; v < set->n_variants; v++) {
            vs[v] = set->variants[v];
            if (!set->variants[v].text) continue;
            size_t len = strlen(set->variants[v].text) + 1;
            memcpy(t, set->variants[v].text, len);
            vs[v].text = t;
            t += len;
            free(set->variants[v].text);
        }
        free(set->variants);
        set->variants = set->n_variants ? vs : NULL;
        off += n;
    }
    rs->variant_arena = arena;
}

/* What a turn needs from the rules and sets, worked out once: both arrays
 * on cache lines, each set's hash and, per role, which variants fit it;
 * and where the sets the turn falls back on are. */
static void prepare_sets(pp_ruleset *rs)
{
    rs->rules = align_lines(rs->rules, rs->n_rules, sizeof *rs->rules);
    rs->sets = align_lines(rs->sets, rs->n_sets, sizeof *rs->sets);
    for (size_t i = 0; i < rs->n_sets; i++) {
        ppr_set *set = &rs->sets[i];
        set->hash = ppr_set_hash(set->id);
        size_t n = set->n_variants < 64 ? set->n_variants : 64;
        for (int role = 0; role <= PP_ROLE_CRISIS; role++) {
            uint64_t fit = 0;
            for (size_t v = 0; v < n; v++) {
                unsigned roles = set->variants[v].roles;
                if (roles == 0 || (roles & (1u << role))) fit |= 1ull << v;
            }
            set->fit[role] = fit;
        }
    }
    pack_variants(rs);
    rs->set_fallback = set_find_index(rs, "fallback");
    rs->set_topics = set_find_index(rs, "fallback-topics");
    rs->set_support = set_find_index(rs, "safety-support");
    if (rs->set_support < 0) rs->set_support = set_find_index(rs, "safety");
}

/* The fact_KIND word classes (what the session keeps: how long together,
 * children, ...), the told_he / told_she / told_they ones (the user says
 * which pronoun the partner uses), and every `avoid:` tag asked by some
 * variant (else nothing would be held back). */
static void compile_facts(loader *L)
{
    static const char *const told[3] = { "told_he", "told_she", "told_they" };
    pp_ruleset *rs = L->rs;
    for (size_t d = 0; d < rs->n_defines; d++) {
        const ppr_define *def = &rs->defines[d];
        if (strncmp(def->name, "fact_", 5) != 0) continue;
        if (rs->n_facts >= PP_MAX_FACTS || strlen(def->name + 5) >= PP_TAG_MAX) {
            pp_errors_add(L->errs, def->file, def->line, "too many fact_ word classes or too long a name");
            continue;
        }
        char src[PP_ID_MAX + 4];
        snprintf(src, sizeof src, "{%s}", def->name);
        ppr_fact_kind *f = &rs->facts[rs->n_facts];
        if (!(f->code = compile(L, src, def->file, def->line, 0, NULL))) continue;
        ppe_strlcpy(f->name, def->name + 5, sizeof f->name);
        rs->n_facts++;
    }
    for (int i = 0; i < 3; i++) {
        int d = find_define(rs, told[i], strlen(told[i]));
        if (d < 0) continue;
        char src[32];
        snprintf(src, sizeof src, "{%s}", told[i]);
        rs->pronoun_told[i] = compile(L, src, rs->defines[d].file, rs->defines[d].line, 0, NULL);
    }
    uint32_t asked = 0, avoided = 0;
    for (size_t i = 0; i < rs->n_sets; i++)
        for (size_t v = 0; v < rs->sets[i].n_variants; v++) asked |= rs->sets[i].variants[v].asks;
    for (size_t i = 0; i < rs->n_rules; i++) {
        uint32_t lone = rs->rules[i].avoid & ~asked & ~avoided;
        for (size_t t = 0; t < rs->n_tags; t++)
            if (lone & (1u << t))
                pp_errors_add(L->errs, rs->rules[i].file, rs->rules[i].line,
                              "rule %s: avoid: %s, but no variant asks: %s", rs->rules[i].id,
                              rs->tags[t], rs->tags[t]);
        avoided |= lone;
    }
}

static void compile_partner(loader *L)
{
    static const char *const names[4] = { "partner_he", "partner_she", "partner_they", "partner_name" };
    pp_ruleset *rs = L->rs;
    if (find_define(rs, "partner", 7) >= 0)
        rs->partner_re = compile(L, "{partner}", "(word class partner)", 0, 0, NULL);
    for (int i = 0; i < 4; i++) {
        int d = find_define(rs, names[i], strlen(names[i]));
        if (d < 0) continue;
        char src[32];
        snprintf(src, sizeof src, "{%s}", names[i]);
        rs->pronoun_re[i] = compile(L, src, rs->defines[d].file, rs->defines[d].line, 1, NULL);
    }
}

void pp_rules_free(pp_ruleset *rs)
{
    if (!rs) return;
    for (ppm_work *w = rs->spare, *next; w; w = next) {
        next = w->next;
        ppm_work_free(w);
    }
    pthread_mutex_destroy(&rs->work_mu);
    ppl_lexicon_free(rs->lexicon);
    for (size_t i = 0; i < rs->n_rules; i++) {
        ppr_rule *r = &rs->rules[i];
        free(r->reply_set);
        for (size_t k = 0; k < r->n_unless; k++) pcre2_code_free(r->unless[k]);
        free(r->unless);
        for (size_t k = 0; k < r->n_after; k++) free(r->after[k]);
        free(r->after);
        free(r->after_hash);
        for (size_t k = 0; k < r->n_examples; k++) free(r->examples[k]);
        for (size_t k = 0; k < r->n_counter; k++) free(r->counter[k]);
        free(r->examples); free(r->counter); free(r->example_lines); free(r->counter_lines);
    }
    free(rs->rules);
    for (size_t i = 0; i < rs->n_patterns; i++) {
        pcre2_code_free(rs->patterns[i].code);
        pcre2_code_free(rs->patterns[i].not_after);
        free(rs->patterns[i].src);
    }
    free(rs->patterns);
    for (size_t i = 0; i < rs->n_sets; i++) {
        ppr_set *s = &rs->sets[i];
        if (!rs->variant_arena) {
            for (size_t k = 0; k < s->n_variants; k++) free(s->variants[k].text);
            free(s->variants);
        }
        free(s->article);
    }
    free(rs->sets);
    free(rs->variant_arena);
    for (size_t i = 0; i < rs->n_defines; i++) {
        free(rs->defines[i].name); free(rs->defines[i].value);
    }
    free(rs->defines);
    for (size_t i = 0; i < rs->n_frameworks; i++) {
        free(rs->frameworks[i].article); free(rs->frameworks[i].source);
    }
    free(rs->frameworks);
    free_words(rs->reframe);
    ppp_free(rs);
    for (size_t i = 0; i < rs->n_paths; i++) free(rs->paths[i]);
    free(rs->paths);
    pcre2_code_free(rs->partner_re);
    for (int i = 0; i < 4; i++) pcre2_code_free(rs->pronoun_re[i]);
    for (size_t i = 0; i < rs->n_facts; i++) pcre2_code_free(rs->facts[i].code);
    for (int i = 0; i < 3; i++) pcre2_code_free(rs->pronoun_told[i]);
    pcre2_match_context_free(rs->mctx);
    ppx_free(rs->index);
    free(rs->resources);
    free(rs->disclaimer);
    free(rs);
}

pp_ruleset *pp_rules_load(const pp_load_options *opt, pp_errors *errs)
{
    loader L;
    memset(&L, 0, sizeof L);
    L.errs = errs;
    size_t before = errs->count;
    pp_ruleset *rs = calloc(1, sizeof *rs);
    if (!rs) { pp_errors_add(errs, NULL, 0, "out of memory"); return NULL; }
    pthread_mutex_init(&rs->work_mu, NULL);
    L.rs = rs;
    L.cctx = pcre2_compile_context_create(NULL);
    if (!L.cctx) { pp_errors_add(errs, NULL, 0, "out of memory"); free(rs); return NULL; }
    const char *rdir = opt && opt->rules_dir ? opt->rules_dir : "rules";
    const char *sdir = opt && opt->responses_dir ? opt->responses_dir : "responses";

    size_t nf;
    /* The framework catalogue first: rules and sets name its frameworks.
     * A directory without one has no frameworks, so every rule of it is an
     * error saying the catalogue is missing (an empty directory loads, and
     * the crisis check refuses it). */
    char **files = list_dir(rdir, ".catalog", &nf, errs);
    if (nf == 0) L.no_catalog = rdir;
    for (size_t i = 0; i < nf; i++) parse_catalog_file(&L, files[i]);
    free_list(files, nf);
    /* The language layer next: `clause:` lines compile against it.  A set
     * without .lexicon files has none (and pays nothing for it). */
    files = list_dir(rdir, ".lexicon", &nf, errs);
    if (nf && !(rs->lexicon = ppl_lexicon_new(NULL, NULL))) pp_errors_add(errs, NULL, 0, "out of memory");
    for (size_t i = 0; i < nf && rs->lexicon; i++) parse_lexicon_file(&L, files[i]);
    free_list(files, nf);
    files = list_dir(rdir, ".rules", &nf, errs);
    if (files && nf == 0) pp_errors_add(errs, rdir, 0, "no *.rules files");
    for (size_t i = 0; i < nf; i++) parse_rules_file(&L, files[i]);
    free_list(files, nf);
    files = list_dir(sdir, ".responses", &nf, errs);
    for (size_t i = 0; i < nf; i++) parse_responses_file(&L, files[i]);
    free_list(files, nf);
    /* reframe's word lists: optional (pp_reframe refuses a set without) */
    files = list_dir(sdir, ".words", &nf, errs);
    for (size_t i = 0; i < nf; i++) parse_words_file(&L, files[i]);
    free_list(files, nf);

    if (rs->lexicon && ppl_lexicon_seal(rs->lexicon)) pp_errors_add(errs, NULL, 0, "out of memory");
    check_duplicate_rules(&L);
    compile_all(&L);
    compile_words(&L, sdir);
    compile_partner(&L);
    compile_facts(&L);
    check_references(&L);
    load_resources(&L, sdir, opt ? opt->region : NULL);
    order_patterns(rs);
    for (size_t i = 0; i < rs->n_rules; i++) {
        ppr_rule *r = &rs->rules[i];
        r->order = -1;
        if (!r->n_after) continue;
        r->after_hash = malloc(sizeof *r->after_hash * r->n_after);
        if (!r->after_hash) { pp_errors_add(errs, NULL, 0, "out of memory"); break; }
        for (size_t a = 0; a < r->n_after; a++) r->after_hash[a] = ppr_set_hash(r->after[a]);
    }
    for (size_t i = 0; i < rs->n_patterns; i++) {
        ppr_pattern *p = &rs->patterns[i];
        ppr_rule *r = &rs->rules[p->rule];
        if (r->order < 0) r->order = (int)i;
        p->priority = r->priority;
        p->set = r->set;
        p->crisis = r->role == PP_ROLE_CRISIS;
        p->has_after = r->n_after > 0;
    }
    prepare_sets(rs);
    for (size_t i = 0; i < rs->n_patterns; i++) {
        ppr_pattern *p = &rs->patterns[i];
        p->variants = p->set >= 0 ? rs->sets[p->set].variants : NULL;
    }
    rs->mctx = pcre2_match_context_create(NULL);
    rs->index = ppx_new();
    if (!rs->mctx || !rs->index) pp_errors_add(errs, NULL, 0, "out of memory");
    else {
        pcre2_set_match_limit(rs->mctx, PP_MATCH_LIMIT);
        pcre2_set_depth_limit(rs->mctx, PP_DEPTH_LIMIT);
        pcre2_set_heap_limit(rs->mctx, 20000);   /* KiB */
        for (size_t i = 0; i < rs->n_patterns; i++)
            if (ppx_add(rs->index, (uint32_t)i, rs->patterns[i].src, rs->patterns[i].code))
                pp_errors_add(errs, NULL, 0, "out of memory building the index");
        ppx_finish(rs->index);
    }
    if (!rs->resources)
        rs->resources = ppe_strdup("If you are in danger now, call your local emergency number. "
                                  "To find a crisis line in your country: https://findahelpline.com");
    const ppr_set *disc = ppr_find_set(rs, "disclaimer");
    rs->disclaimer = ppe_strdup(disc && disc->n_variants ? disc->variants[0].text
                               : "I'm a coach, not a therapist or an emergency service.");

    for (size_t i = 0; i < L.n_raw; i++) { free(L.raw[i].src); free(L.raw[i].not_after); }
    free(L.raw);
    pcre2_compile_context_free(L.cctx);
    if (errs->count > before) { pp_rules_free(rs); return NULL; }
    return rs;
}

/* ---- programs ----------------------------------------------------------- */

int pp_rules_load_programs(pp_ruleset *rs, const char *dir, pp_errors *errs)
{
    if (!rs || !dir || !errs) return PP_EINPUT;
    /* a loader of its own: paths kept by the set, bytes bounded */
    loader L;
    memset(&L, 0, sizeof L);
    L.rs = rs;
    L.errs = errs;
    L.paths_cap = rs->n_paths;
    size_t nf;
    char **files = list_dir(dir, ".program", &nf, errs);
    for (size_t i = 0; i < nf; i++) {
        const char *path = keep_path(&L, files[i]);
        char *buf = path ? read_counted(&L, path, 0) : NULL;
        if (buf) ppp_parse(rs, path, buf, errs);
        free(buf);
    }
    free_list(files, nf);
    return (int)rs->n_programs;
}

/* ---- read-only views --------------------------------------------------- */

size_t pp_rules_count(const pp_ruleset *rs) { return rs ? rs->n_rules : 0; }

int pp_rules_info(const pp_ruleset *rs, size_t i, pp_rule_info *out)
{
    if (!rs || i >= rs->n_rules) return PP_EINPUT;
    const ppr_rule *r = &rs->rules[i];
    out->id = r->id;
    out->file = r->file;
    out->line = r->line;
    out->role = r->role;
    out->framework = r->framework;
    out->reply_set = r->reply_set;
    out->priority = r->priority;
    out->contextual = r->n_after > 0;
    out->n_examples = r->n_examples;
    out->n_counter = r->n_counter;
    out->examples = (const char *const *)r->examples;
    out->counter = (const char *const *)r->counter;
    out->example_lines = r->example_lines;
    out->counter_lines = r->counter_lines;
    return 0;
}

/* The kinds of danger every front end must be able to answer (see
 * pp_rules_check_crisis): a kind is covered by a crisis rule that can fire
 * on a first message (no `after:`) and answers with the kind's own set, or
 * with the generic `safety` set, which is written for any danger.  A crisis
 * rule whose set is missing answers from `safety` (check_references), so it
 * is counted by the set it really uses. */
static const struct { const char *set, *what; } crisis_kinds[] = {
    { "safety.selfharm", "suicide or self-harm" },
    { "safety.violence", "violence or threats" },
};

int pp_rules_check_crisis(const pp_ruleset *rs, char *err, size_t errlen)
{
    enum { N_KINDS = sizeof crisis_kinds / sizeof crisis_kinds[0] };
    size_t covered[N_KINDS] = {0};
    int n = 0;
    for (size_t i = 0; rs && i < rs->n_rules; i++) {
        const ppr_rule *r = &rs->rules[i];
        if (r->role != PP_ROLE_CRISIS || r->n_after || r->set < 0) continue;
        n++;
        const char *id = rs->sets[r->set].id;
        for (size_t k = 0; k < N_KINDS; k++)
            if (strcmp(id, "safety") == 0 || strcmp(id, crisis_kinds[k].set) == 0) covered[k]++;
    }
    if (n == 0) {
        size_t total = rs ? rs->n_rules : 0;
        if (total == 0)
            snprintf(err, errlen, "no rules at all, so no crisis rules (role: crisis): a message "
                     "about suicide or violence would get no crisis resources");
        else
            snprintf(err, errlen, "no crisis rules (role: crisis), only %zu coaching rule%s: a "
                     "message about suicide or violence would get coaching instead of crisis "
                     "resources", total, total == 1 ? "" : "s");
        return PP_EINPUT;
    }
    for (size_t k = 0; k < N_KINDS; k++)
        if (!covered[k]) {
            snprintf(err, errlen, "none of the %d crisis rules answers %s (role: crisis with "
                     "reply: %s or safety)", n, crisis_kinds[k].what, crisis_kinds[k].set);
            return PP_EINPUT;
        }
    return n;
}

size_t pp_rules_framework_count(const pp_ruleset *rs) { return rs ? rs->n_frameworks : 0; }

int pp_rules_framework(const pp_ruleset *rs, size_t i, pp_framework_info *out)
{
    if (!rs || i >= rs->n_frameworks) return PP_EINPUT;
    const ppr_framework *f = &rs->frameworks[i];
    out->id = f->id;
    out->article = f->article ? f->article : "";
    out->source = f->source ? f->source : "";
    out->roles = f->roles;
    out->locked_after_abuse = f->locked;
    out->file = f->file;
    out->line = f->line;
    return 0;
}

int pp_rules_framework_find(const pp_ruleset *rs, const char *id)
{
    const ppr_framework *f = rs ? ppr_framework_find(rs, id) : NULL;
    return f ? (int)(f - rs->frameworks) : -1;
}

const char *pp_rules_article(const pp_ruleset *rs, const char *set_id)
{
    const ppr_set *s = ppr_find_set(rs, set_id);
    return s && s->article ? s->article : "";
}

const char *pp_disclaimer(const pp_ruleset *rs) { return rs->disclaimer; }
const char *pp_resources(const pp_ruleset *rs) { return rs->resources; }
