/*
 * quirk_names.c - the quirk catalogue's names by id, for reports. The catalogue itself,
 * with what each server does and where it was seen, is conformance/QUIRKS.md; the test
 * conformance/tests/quirks.py checks that this table and its headings agree.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "pop3/error.h"
#include "pop3/parse.h"
#include "quirk_names.h"

static const char *const names[POP3CONFORM_QUIRK_MAX + 1] = {
    [1] = "dot-no-crlf",
    [2] = "dot-cr",
    [3] = "empty-listing",
    [4] = "no-dot-stuffing",
    [5] = "split-terminator",
    [6] = "bare-lf",
    [7] = "extra-blank-line",
    [8] = "truncated-lines",
    [9] = "lying-sizes",
    [10] = "rounded-sizes",
    [11] = "sizes-lf",
    [12] = "missing-attachments",
    [13] = "huge-sizes",
    [14] = "top-truncated",
    [15] = "top-ten-lines",
    [16] = "top-one-line",
    [17] = "top-sometimes-short",
    [18] = "top-twice",
    [19] = "top-marks-seen",
    [20] = "top-count-overflow",
    [21] = "deletes-on-disconnect",
    [22] = "undeletes-after-drop",
    [23] = "loses-queue-on-drop",
    [24] = "lock-busy",
    [25] = "undocumented-reply",
    [26] = "message-inserted",
    [27] = "pseudo-message",
    [28] = "continuation-first-header",
    [29] = "needs-fetchall",
    [30] = "capa-err",
    [31] = "capa-after-login",
    [32] = "capa-changes-after-stls",
    [33] = "bogus-apop-timestamp",
    [34] = "apop-refused",
    [35] = "banner",
    [36] = "strict-arguments",
    [37] = "unusable-mechanism",
    [38] = "obsolete-capability",
    [39] = "bare-plus",
    [40] = "plus-err",
    [41] = "stls-injection",
    [42] = "command-injection",
    [43] = "long-lines",
    [44] = "apop-redos",
    [45] = "msgno-zero",
    [46] = "odd-uids",
    [47] = "hostile-counts",
    [48] = "nul-bytes",
    [49] = "single-line-replies",
    [50] = "capa-dot-line",
    [51] = "empty-blank-line",
    [52] = "unterminated-size",
    [53] = "capa-drops-auth",
    [54] = "no-lock",
};

const char *pop3conform_quirk_name(unsigned id)
{
    return id <= POP3CONFORM_QUIRK_MAX ? names[id] : NULL;
}

const char *pop3conform_quirk_token_name(const char *tok, size_t len)
{
    /* "Q" and the number with no leading zero: the ids as the catalogue writes them. */
    uint64_t id = 0;
    if (len < 2 || tok[0] != 'Q' || tok[1] == '0' ||
        pop3_parse_number(tok + 1, len - 1, &id) != POP3_OK || id > POP3CONFORM_QUIRK_MAX)
        return NULL;
    return pop3conform_quirk_name((unsigned)id);
}

bool pop3conform_quirk_ids_only(const char *quirk)
{
    return quirk != NULL && pop3conform_quirk_token_name(quirk, strcspn(quirk, " ")) != NULL;
}

static int is_word(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

/* Is `name` a whole word of `text`? */
static int has_word(const char *text, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = strstr(text, name); p != NULL; p = strstr(p + 1, name))
        if ((p == text || !is_word(p[-1])) && !is_word(p[n])) return 1;
    return 0;
}

char *pop3conform_quirk_annotate(const char *text, char *out, size_t len)
{
    size_t o = 0;
    if (len == 0) return out;
    for (const char *p = text; *p != '\0';) {
        size_t w = 0;
        while (is_word(p[w]))
            w++;
        if (w == 0) w = 1; /* one separator octet */
        int n = snprintf(out + o, len - o, "%.*s", (int)w, p);
        if (n < 0 || (size_t)n >= len - o) return out;
        o += (size_t)n;
        const char *name = pop3conform_quirk_token_name(p, w);
        if (name != NULL && !has_word(text, name)) {
            n = snprintf(out + o, len - o, " (%s)", name);
            if (n < 0 || (size_t)n >= len - o) return out;
            o += (size_t)n;
        }
        p += w;
    }
    out[o] = '\0';
    return out;
}
