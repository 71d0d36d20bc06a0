/* rules.c -- fuzz target: the rule and response file parser (pp_rules_load).
 *
 * The input is split on lines that are exactly "%%": the first part is
 * written as fuzz.rules, the second as fuzz.responses and the third as
 * resources.tsv, into a private temp dir, and the directory pair is loaded.
 * A part that is absent is taken from tests/fixtures/basic (and so is the
 * framework catalogue, always), so that a
 * mutated rule file is usually checked against valid responses (and the
 * other way round), which is where the cross-file checks live.  When the
 * load succeeds, every rule is read back with pp_rules_info and matched
 * against its own examples, so a rule set that loads must also be usable.
 */
#include "fuzz.h"

#include <errno.h>
#include <sys/stat.h>

static char *fz_rules_fixture(const char *name, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/fixtures/basic/%s", fz_src_dir(), name);
    char *s = fz_read_file(path, len);
    if (!s) {
        fprintf(stderr, "fuzz: cannot read %s (set PP_SRC)\n", path);
        abort();
    }
    return s;
}

/* Find the next "%%" line at or after from; returns its start or size. */
static size_t fz_rules_sep(const uint8_t *d, size_t size, size_t from, size_t *next)
{
    for (size_t i = from; i + 2 <= size; i++) {
        if ((i == from || d[i - 1] == '\n') && d[i] == '%' && d[i + 1] == '%' &&
            (i + 2 == size || d[i + 2] == '\n')) {
            *next = i + 2 < size ? i + 3 : size;
            return i;
        }
    }
    *next = size;
    return size;
}

FUZZ_ENTRY(rules)
{
    static char *resp, *res;
    static size_t resp_len, res_len;
    static char rdir[4200], sdir[4200], p_rules[4300], p_resp[4300], p_res[4300];
    if (!resp) {
        resp = fz_rules_fixture("responses/test.responses", &resp_len);
        res = fz_rules_fixture("responses/resources.tsv", &res_len);
        snprintf(rdir, sizeof rdir, "%s/rules", fz_tmp_dir());
        snprintf(sdir, sizeof sdir, "%s/responses", fz_tmp_dir());
        if ((mkdir(rdir, 0700) && errno != EEXIST) || (mkdir(sdir, 0700) && errno != EEXIST))
            abort();
        size_t cat_len;
        char *cat = fz_rules_fixture("rules/frameworks.catalog", &cat_len), p_cat[4300];
        snprintf(p_cat, sizeof p_cat, "%s/frameworks.catalog", rdir);
        fz_write_file(p_cat, (const uint8_t *)cat, cat_len);   /* the frameworks it names */
        free(cat);
        snprintf(p_rules, sizeof p_rules, "%s/fuzz.rules", rdir);
        snprintf(p_resp, sizeof p_resp, "%s/fuzz.responses", sdir);
        snprintf(p_res, sizeof p_res, "%s/resources.tsv", sdir);
    }
    size_t n1, n2, n3;
    size_t e1 = fz_rules_sep(data, size, 0, &n1);
    size_t e2 = fz_rules_sep(data, size, n1, &n2);
    size_t e3 = fz_rules_sep(data, size, n2, &n3);
    fz_write_file(p_rules, data, e1);
    if (n1 < size || e1 < size) fz_write_file(p_resp, data + n1, e2 - n1);
    else fz_write_file(p_resp, resp, resp_len);
    if (n2 < size || e2 < size) fz_write_file(p_res, data + n2, e3 - n2);
    else fz_write_file(p_res, res, res_len);

    pp_load_options o = { rdir, sdir, NULL };
    pp_errors e;
    pp_errors_init(&e);
    pp_ruleset *rs = pp_rules_load(&o, &e);
    if (!rs) {
        FUZZ_CHECK(e.count > 0);            /* a refusal always says why */
        for (size_t i = 0; i < e.count; i++) FUZZ_CHECK(e.msg[i] != NULL);
    } else {
        size_t n = pp_rules_count(rs);
        for (size_t i = 0; i < n; i++) {
            pp_rule_info info;
            FUZZ_CHECK(pp_rules_info(rs, i, &info) == 0);
            FUZZ_CHECK(info.id != NULL);
            for (size_t k = 0; k < info.n_examples && k < 4; k++) {
                int limit = 0;
                int m = pp_match_rule(rs, i, info.examples[k], strlen(info.examples[k]), &limit);
                FUZZ_CHECK(m == 0 || m == 1);
            }
            if (info.reply_set) (void)pp_rules_article(rs, info.reply_set);
        }
        pp_match pm;
        (void)pp_match_text(rs, (const char *)data, size < 512 ? size : 512, &pm);
        (void)pp_disclaimer(rs);
        (void)pp_resources(rs);
        pp_rules_free(rs);
    }
    pp_errors_clear(&e);
    return 0;
}
