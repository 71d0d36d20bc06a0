/* index.c -- fuzz target: the candidate index (engine/index.c) never loses
 * a match.
 *
 * The input is split on the first line that is exactly "%%": every line
 * before it is a PCRE2 pattern (at most 64, each compiled as the engine
 * compiles rules: UTF, UCP, CASELESS, DUPNAMES; lines that do not compile,
 * or hold a NUL byte, which a rule file line cannot pass on, are skipped),
 * every line after it a text (at most 64), normalised as the engine
 * normalises input.  For each text the candidates must be ascending,
 * without repeats, and include every pattern that matches it: the index
 * may name too many patterns, never too few.  A match that hits the
 * target's PCRE2 limits decides nothing and is skipped.  The seeds in
 * tests/fuzz/index/ are the shipped rules' patterns (word classes
 * expanded) with corpus messages, and the unit test's tricky cases.
 */
#include "fuzz.h"
#include "index.h"

enum { FZ_IX_PATTERNS = 64, FZ_IX_TEXTS = 64 };

static int fz_ix_has(const uint32_t *out, size_t n, uint32_t id)
{
    for (size_t i = 0; i < n; i++) if (out[i] == id) return 1;
    return 0;
}

FUZZ_ENTRY(index)
{
    static pcre2_match_context *mctx;
    static pcre2_match_data *md;
    if (!mctx) {
        mctx = pcre2_match_context_create(NULL);
        md = pcre2_match_data_create(64, NULL);
        if (!mctx || !md) abort();
        pcre2_set_match_limit(mctx, 200000);
        pcre2_set_depth_limit(mctx, 2000);
    }
    pcre2_code *code[FZ_IX_PATTERNS];
    const char *text[FZ_IX_TEXTS];
    size_t text_len[FZ_IX_TEXTS];
    uint32_t np = 0, nt = 0;
    ppx_index *ix = ppx_new();
    FUZZ_CHECK(ix != NULL);
    const char *p = (const char *)data, *end = p + size;
    int texts = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (!texts && len == 2 && p[0] == '%' && p[1] == '%') {
            texts = 1;
        } else if (!texts) {
            if (np < FZ_IX_PATTERNS && !memchr(p, '\0', len)) {
                int err;
                PCRE2_SIZE off;
                pcre2_code *c = pcre2_compile((PCRE2_SPTR)p, len,
                                              PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS | PCRE2_DUPNAMES,
                                              &err, &off, NULL);
                if (c) {
                    char *src = malloc(len + 1);
                    FUZZ_CHECK(src != NULL);
                    memcpy(src, p, len);
                    src[len] = '\0';
                    FUZZ_CHECK(ppx_add(ix, np, src, c) == 0);
                    free(src);
                    code[np++] = c;
                }
            }
        } else if (nt < FZ_IX_TEXTS) {
            text[nt] = p;
            text_len[nt++] = len;
        }
        p += len + 1;
    }
    FUZZ_CHECK(ppx_finish(ix) == 0);
    ppx_scratch *sc = ppx_scratch_new(ix);
    FUZZ_CHECK(sc != NULL);
    uint32_t out[FZ_IX_PATTERNS + 1];
    for (uint32_t t = 0; t < nt; t++) {
        const char *notice;
        size_t n;
        char *norm = pp_input_normalize(text[t], text_len[t], &n, &notice);
        FUZZ_CHECK(norm != NULL);
        size_t k = ppx_candidates(ix, sc, norm, n, out);
        FUZZ_CHECK(k <= np);
        for (size_t i = 1; i < k; i++) FUZZ_CHECK(out[i - 1] < out[i]);
        for (uint32_t i = 0; i < np; i++) {
            int rc = pcre2_match(code[i], (PCRE2_SPTR)norm, n, 0, 0, md, mctx);
            if (rc >= 0 && !fz_ix_has(out, k, i)) {
                fprintf(stderr, "index: false negative: pattern %u matches text %u\n", i, t);
                FUZZ_CHECK(!"a matching pattern is not a candidate");
            }
        }
        free(norm);
    }
    ppx_scratch_free(sc);
    ppx_free(ix);
    for (uint32_t i = 0; i < np; i++) pcre2_code_free(code[i]);
    return 0;
}
