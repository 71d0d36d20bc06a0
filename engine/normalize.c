/* normalize.c -- from hostile bytes to the text rules are written against,
 * and ELIZA-style reflection for replies that quote the user.
 *
 * pp_input_normalize() makes one pass over the input, decoding UTF-8
 * strictly (overlongs, surrogates and values past U+10FFFF are invalid) and
 * writing into a buffer that never exceeds PP_MAX_INPUT bytes, so a 1 MiB
 * line costs one bounded scan and a 4 KiB allocation.  What phones type
 * (curly apostrophes, non-breaking spaces, emoji, zero-width joiners) is
 * folded into plain ASCII punctuation and spaces.  Format characters that
 * only steer display are dropped: the direction marks, embeddings,
 * overrides and isolates (U+200E/F, U+061C, U+202A-E, U+2066-9) would
 * otherwise hide words from the rules ("want to<RLM> die") and reorder the
 * text around them when a reply quotes it back.  Case is kept: matching
 * is caseless (PCRE2 does the Unicode case folding) and names stay visible.
 */
#include <stdlib.h>
#include <string.h>
#include <ctype.h>

#include "internal.h"

static const char NOTICE_CUT[] =
    "Your message was long, so I read only its first part.";
static const char NOTICE_UTF8[] =
    "Part of your message was not valid text (UTF-8); I replaced it.";

/* What a code point becomes: a replacement string, "" to drop it, " " for
 * a space, or NULL to keep it as it is. */
static const char *fold(uint32_t cp)
{
    if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0)) return " ";
    switch (cp) {
    case 0x2018: case 0x2019: case 0x201A: case 0x201B: case 0x2032:
    case 0x02BC: case 0xFF07: case 0x0060: case 0x00B4:
        return "'";
    case 0x201C: case 0x201D: case 0x201E: case 0x201F: case 0x2033:
    case 0x00AB: case 0x00BB:
        return "\"";
    case 0x2010: case 0x2011: case 0x2012: case 0x2013: case 0x2014:
    case 0x2015: case 0x2212:
        return "-";
    case 0x2026: return "...";
    case 0x00A0: case 0x1680: case 0x202F: case 0x205F: case 0x3000:
    case 0x2028: case 0x2029:
        return " ";
    case 0x200B: case 0x200C: case 0x200D: case 0x2060: case 0xFEFF:
    case 0x00AD:
    case 0x200E: case 0x200F: case 0x061C:                 /* LRM, RLM, ALM */
        return "";
    default: break;
    }
    if ((cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069))
        return "";                                          /* embeddings, isolates */
    if (cp >= 0x2000 && cp <= 0x200A) return " ";
    if (cp >= 0xFE00 && cp <= 0xFE0F) return "";           /* variation selectors */
    if (cp >= 0x1F3FB && cp <= 0x1F3FF) return "";         /* skin tones */
    if (cp >= 0xE0000 && cp <= 0xE007F) return "";         /* tag characters */
    if ((cp >= 0x1F000 && cp <= 0x1FAFF) ||                 /* emoji, symbols */
        (cp >= 0x2600 && cp <= 0x27BF) ||
        (cp >= 0x2B00 && cp <= 0x2BFF) ||
        (cp >= 0x2190 && cp <= 0x21FF) ||
        (cp >= 0x2300 && cp <= 0x23FF) ||
        (cp >= 0x25A0 && cp <= 0x25FF) || cp == 0xFFFD)
        return cp == 0xFFFD ? NULL : " ";
    return NULL;
}

char *pp_input_normalize(const char *bytes, size_t len, size_t *out_len,
                         const char **notice)
{
    const unsigned char *in = (const unsigned char *)bytes;
    char *out = malloc(PP_MAX_INPUT + 1);
    size_t o = 0;
    int space = 1;   /* suppress leading spaces and runs */
    *notice = NULL;
    if (!out) return NULL;
    if (!in) len = 0;
    for (size_t i = 0; i < len;) {
        unsigned char c = in[i];
        if (c > 0x20 && c < 0x7F && c != 0x60 && o < PP_MAX_INPUT) {
            out[o++] = (char)c;     /* printable ASCII but the backtick: itself */
            space = 0;
            i++;
            continue;
        }
        uint32_t cp;
        size_t n = ppu_decode(in + i, len - i, &cp);
        char enc[4];
        const char *rep;
        size_t rlen;
        if (n == 0) {
            cp = 0xFFFD;
            n = 1;
            if (!*notice) *notice = NOTICE_UTF8;
        }
        i += n;
        rep = fold(cp);
        if (rep == NULL) { rlen = ppu_encode(cp, enc); rep = enc; }
        else rlen = strlen(rep);
        if (rlen == 1 && rep[0] == ' ') {
            if (space) continue;
            space = 1;
        } else if (rlen == 0) {
            continue;
        } else {
            space = 0;
        }
        if (o + rlen > PP_MAX_INPUT) {
            /* the rest is cut; only say so when something real is lost */
            size_t k = i;
            while (k < len && (in[k] == ' ' || in[k] == '\n' || in[k] == '\t' || in[k] == '\r'))
                k++;
            if (k < len || rlen) *notice = NOTICE_CUT;
            break;
        }
        memcpy(out + o, rep, rlen);
        o += rlen;
    }
    while (o > 0 && out[o - 1] == ' ') o--;
    out[o] = '\0';
    /* Compatibility forms folded and format characters dropped (NFKC,
     * utf8proc, in the language layer): full-width "ｉ ｗａｎｔ ｔｏ ｄｉｅ",
     * mathematical bold letters and a zero-width joiner inside a word all
     * read as the plain words the rules are written for.  ASCII is already
     * folded. */
    size_t k = 0;
    while (k < o && (unsigned char)out[k] < 0x80) k++;
    if (k < o) {
        size_t fl;
        char *f = ppl_fold(out, o, &fl);
        if (f) {
            size_t w = 0;
            for (size_t r = 0; r < fl; r++)     /* a folded space may meet another */
                if (!(f[r] == ' ' && (w == 0 || f[w - 1] == ' '))) f[w++] = f[r];
            while (w > 0 && f[w - 1] == ' ') w--;
            if (w > PP_MAX_INPUT) {
                w = ppu_cut(f, PP_MAX_INPUT);
                *notice = NOTICE_CUT;
            }
            f[w] = '\0';
            free(out);
            out = f;
            o = w;
        }
    }
    if (out_len) *out_len = o;
    return out;
}

/* ---- reflection -------------------------------------------------------- */

struct swap { const char *from, *to; };

/* Lowercase word -> its reflection.  "you" is handled separately. */
static const struct swap swaps[] = {
    {"i", "you"}, {"me", "you"}, {"my", "your"}, {"mine", "yours"},
    {"myself", "yourself"}, {"am", "are"}, {"i'm", "you're"}, {"im", "you're"},
    {"i've", "you've"}, {"ive", "you've"}, {"i'll", "you'll"}, {"i'd", "you'd"},
    {"your", "my"}, {"yours", "mine"}, {"yourself", "myself"},
    {"you're", "I'm"}, {"youre", "I'm"}, {"you've", "I've"}, {"you'll", "I'll"},
    {"you'd", "I'd"}, {"ur", "my"}, {"u", "you"}, {"our", "your"},
    {"ours", "yours"}, {"we", "you"}, {"us", "you"}, {"ourselves", "yourselves"},
    {"we're", "you're"}, {"we've", "you've"}, {"we'll", "you'll"},
    {NULL, NULL}
};

static int is_word_byte(unsigned char c)
{
    return isalnum(c) || c == '\'' || c >= 0x80;
}

char *pp_reflect(const char *text, size_t len)
{
    ppb_buf b = {0};
    char prev[16] = "";
    int clause_start = 1;
    for (size_t i = 0; i < len;) {
        if (!is_word_byte((unsigned char)text[i])) {
            char c = text[i];
            if (c == '.' || c == ',' || c == ';' || c == '!' || c == '?' || c == ':')
                clause_start = 1;
            ppb_add(&b, &text[i], 1);
            i++;
            continue;
        }
        size_t j = i;
        while (j < len && is_word_byte((unsigned char)text[j])) j++;
        char w[32];
        size_t wl = j - i;
        const char *rep = NULL;
        if (wl < sizeof w) {
            for (size_t k = 0; k < wl; k++) w[k] = (char)tolower((unsigned char)text[i + k]);
            w[wl] = '\0';
            if (strcmp(w, "you") == 0) {
                rep = clause_start || strcmp(prev, "and") == 0 || strcmp(prev, "but") == 0
                      || strcmp(prev, "that") == 0 || strcmp(prev, "when") == 0
                      || strcmp(prev, "if") == 0 ? "I" : "me";
            } else if (strcmp(w, "are") == 0 && strcmp(prev, "you") == 0) {
                rep = "am";
            } else if (strcmp(w, "was") == 0 && strcmp(prev, "i") == 0) {
                rep = "were";
            } else if (strcmp(w, "were") == 0 && strcmp(prev, "you") == 0 && clause_start == 0) {
                rep = "was";
            } else {
                for (const struct swap *s = swaps; s->from; s++)
                    if (strcmp(w, s->from) == 0) { rep = s->to; break; }
            }
            ppe_strlcpy(prev, w, sizeof prev);
        } else {
            prev[0] = '\0';
        }
        if (rep) ppb_adds(&b, rep);
        else ppb_add(&b, text + i, wl);
        clause_start = 0;
        i = j;
    }
    return ppb_take(&b);
}
