/* index.h -- internal to the engine: the candidate index.
 *
 * Given a message, the index names the patterns that *may* match it, so the
 * matcher runs the full PCRE2 match only on those.  A pattern the index does
 * not report must be unable to match (no false negatives); reporting extra
 * patterns only costs time.  The index is built once at load time and is
 * read-only afterwards; per-call working memory lives in a scratch owned by
 * the caller (one per session), so the index can be shared across threads.
 */
#ifndef PP_INDEX_H
#define PP_INDEX_H

#include <stddef.h>
#include <stdint.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

typedef struct ppx_index ppx_index;
typedef struct ppx_scratch ppx_scratch;

ppx_index *ppx_new(void);
void ppx_free(ppx_index *ix);

/* Add pattern `id` (ids are 0, 1, 2, ... in order).  `source` is the
 * pattern text with word classes expanded, `code` its compiled form
 * (compiled caseless, UTF, UCP).  0 ok, negative on allocation failure. */
int ppx_add(ppx_index *ix, uint32_t id, const char *source, const pcre2_code *code);

/* Call once after the last add. */
int ppx_finish(ppx_index *ix);

/* Working memory for ppx_candidates; one per thread or session. */
ppx_scratch *ppx_scratch_new(const ppx_index *ix);
void ppx_scratch_free(ppx_scratch *sc);

/* Write into out (room for every pattern) the ids of the patterns that may
 * match text, in ascending order, and return how many. */
size_t ppx_candidates(const ppx_index *ix, ppx_scratch *sc,
                           const char *text, size_t len, uint32_t *out);

/* Number of patterns that are always candidates (no required literal). */
size_t ppx_always(const ppx_index *ix);

/* 1 when pattern id is always a candidate (its source gave no usable
 * required word, or it was never added); for tests and `check`. */
int ppx_is_always(const ppx_index *ix, uint32_t id);

#endif
