/* reframe.c -- fuzz target: pp_reframe on arbitrary bytes, with the
 * shipped word lists (responses/reframe.words, loaded with the rules).
 *
 * Invariants: success fills text and rewrite, only known horsemen bits
 * are set, every note is a string, "already gentle" means the rewrite is
 * the text itself, and each horseman bit has a name.
 */
#include "fuzz.h"

FUZZ_ENTRY(reframe)
{
    pp_reframe_result r;
    memset(&r, 0, sizeof r);
    int rc = pp_reframe(fz_shipped_rules(), (const char *)data, size, &r);
    if (rc == 0) {
        FUZZ_CHECK(r.text != NULL);
        FUZZ_CHECK(r.rewrite != NULL);
        FUZZ_CHECK((r.horsemen & ~0xfu) == 0);
        FUZZ_CHECK(r.n_notes == 0 || r.notes != NULL);
        for (size_t i = 0; i < r.n_notes; i++) FUZZ_CHECK(r.notes[i] != NULL);
        if (r.already_gentle) FUZZ_CHECK(strcmp(r.rewrite, r.text) == 0);
        for (unsigned b = 1; b <= 8; b <<= 1)
            if (r.horsemen & b) FUZZ_CHECK(pp_horseman_name(b) != NULL);
    }
    pp_reframe_clear(&r);
    return 0;
}
