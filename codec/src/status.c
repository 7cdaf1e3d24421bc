/*
 * status.c - classifying one status line: "+OK", "-ERR", a SASL continuation "+ ",
 * and the response code that may open its text.
 *
 * RFC 1939 section 3 (status indicators, upper case), RFC 2449 section 3 and 8
 * (resp-code syntax, hierarchical codes, unknown levels ignored), RFC 3206 (SYS/TEMP,
 * SYS/PERM, AUTH), RFC 6856 section 5 (UTF8), RFC 5034 section 4 ("+ " continuations).
 */
#include <string.h>

#include "pop3/error.h"
#include "pop3/wire.h"

/* ASCII-only, locale-free: the protocol is ASCII whatever the C locale says. */
static int lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

static int ascii_ieq(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);
    if (alen != blen) return 0;
    for (size_t i = 0; i < alen; i++)
        if (lower((unsigned char)a[i]) != lower((unsigned char)b[i])) return 0;
    return 1;
}

/* Does `line` start with `word` exactly (case_ok: in any case)? 1 exact, 2 other case. */
static int starts_with(const char *line, size_t len, const char *word)
{
    size_t n = strlen(word);
    if (len < n) return 0;
    if (memcmp(line, word, n) == 0) return 1;
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)line[i]) != lower((unsigned char)word[i])) return 0;
    return 2;
}

/* rchar = %x21-2E / %x30-5C / %x5E-7F (RFC 2449 section 9): no SP, "/" or "]". */
static int is_rchar(unsigned char c)
{
    return c >= 0x21 && c <= 0x7F && c != '/' && c != ']';
}

size_t pop3_parse_resp_code(const char *text, size_t len, pop3_resp_code *code,
                            pop3_view *code_text)
{
    *code = POP3_CODE_NONE;
    code_text->ptr = text;
    code_text->len = 0;
    if (len < 3 || text[0] != '[') return 0;

    /* Walk levels: each is 1*rchar, separated by single "/", closed by "]". */
    size_t i = 1, level_len = 0;
    const char *first = text + 1, *second = NULL;
    size_t first_len = 0, second_len = 0;
    int level = 0;
    for (;; i++) {
        if (i >= len) return 0; /* no "]": plain text that happens to start with "[" */
        unsigned char c = (unsigned char)text[i];
        if (c == '/' || c == ']') {
            if (level_len == 0) return 0;
            if (level == 0) first_len = level_len;
            if (level == 1) second_len = level_len;
            if (c == ']') break;
            level++;
            if (level == 1) second = text + i + 1;
            level_len = 0;
        } else if (is_rchar(c)) {
            level_len++;
        } else {
            return 0;
        }
    }

    if (ascii_ieq(first, first_len, "IN-USE"))
        *code = POP3_CODE_IN_USE;
    else if (ascii_ieq(first, first_len, "LOGIN-DELAY"))
        *code = POP3_CODE_LOGIN_DELAY;
    else if (ascii_ieq(first, first_len, "AUTH"))
        *code = POP3_CODE_AUTH;
    else if (ascii_ieq(first, first_len, "UTF8"))
        *code = POP3_CODE_UTF8;
    else if (ascii_ieq(first, first_len, "SYS")) {
        *code = POP3_CODE_SYS;
        if (second && ascii_ieq(second, second_len, "TEMP")) *code = POP3_CODE_SYS_TEMP;
        if (second && ascii_ieq(second, second_len, "PERM")) *code = POP3_CODE_SYS_PERM;
    } else
        *code = POP3_CODE_OTHER;
    code_text->ptr = text + 1;
    code_text->len = i - 1;
    return i + 1;
}

const char *pop3_resp_code_name(pop3_resp_code code)
{
    switch (code) {
    case POP3_CODE_NONE: return "";
    case POP3_CODE_IN_USE: return "IN-USE";
    case POP3_CODE_LOGIN_DELAY: return "LOGIN-DELAY";
    case POP3_CODE_SYS_TEMP: return "SYS/TEMP";
    case POP3_CODE_SYS_PERM: return "SYS/PERM";
    case POP3_CODE_SYS: return "SYS";
    case POP3_CODE_AUTH: return "AUTH";
    case POP3_CODE_UTF8: return "UTF8";
    case POP3_CODE_OTHER: return "OTHER";
    }
    return "";
}

/* Text after an indicator of `n` octets: one SP or HTAB is the separator. */
static void set_text(pop3_status_line *out, const char *line, size_t len, size_t n)
{
    size_t skip = n;
    if (skip < len && (line[skip] == ' ' || line[skip] == '\t')) skip++;
    out->text.ptr = line + skip;
    out->text.len = len - skip;
}

static int fail(const char **message, const char *why)
{
    if (message) *message = why;
    return POP3_EPROTO;
}

int pop3_parse_status(const char *line, size_t len, pop3_expect expect, unsigned tolerances,
                      pop3_status_line *out, unsigned *quirks, const char **message)
{
    unsigned seen = 0;
    memset(out, 0, sizeof *out);
    out->line.ptr = line;
    out->line.len = len;
    out->text.ptr = line + len;
    out->code_text.ptr = line;
    if (quirks) *quirks = 0;

    if (memchr(line, '\0', len)) return fail(message, "NUL octet in a status line (Q48)");

    int ok = starts_with(line, len, "+OK");
    int err = ok ? 0 : starts_with(line, len, "-ERR");
    size_t n = ok ? 3 : 4;
    if (ok || err) {
        int exact = ok ? ok == 1 : err == 1;
        /* "+OK" must stand alone: "+OKAY" or "-ERRor" are not indicators. */
        int delimited = n == len || line[n] == ' ' || line[n] == '\t';
        if (!delimited && ok && (tolerances & POP3_TOL_ANY_PLUS)) {
            seen |= POP3_TOL_ANY_PLUS;
        } else if (!delimited) {
            return fail(message, "status indicator not followed by a space or the line end");
        }
        if (!exact) {
            if (!(tolerances & POP3_TOL_STATUS_CASE))
                return fail(message,
                            "status indicator not in upper case (RFC 1939 section 3 requires +OK "
                            "or -ERR)");
            seen |= POP3_TOL_STATUS_CASE;
        }
        out->kind = ok ? POP3_STATUS_OK : POP3_STATUS_ERR;
        set_text(out, line, len, n);
        size_t used =
            pop3_parse_resp_code(out->text.ptr, out->text.len, &out->code, &out->code_text);
        if (used) {
            size_t rest = out->text.len - used;
            const char *p = out->text.ptr + used;
            if (rest > 0 && (*p == ' ' || *p == '\t')) p++, rest--;
            out->text.ptr = p;
            out->text.len = rest;
        }
        if (quirks) *quirks = seen;
        return POP3_OK;
    }

    if (len >= 1 && line[0] == '+') {
        int spaced = len >= 2 && line[1] == ' ';
        int bare = len == 1;
        if (expect == POP3_EXPECT_SASL && (spaced || bare)) {
            if (bare) {
                if (!(tolerances & POP3_TOL_BARE_PLUS))
                    return fail(message, "SASL continuation \"+\" without its space (RFC 5034 "
                                         "section 4, Q39)");
                seen |= POP3_TOL_BARE_PLUS;
            }
            out->kind = POP3_STATUS_CONTINUE;
            out->text.ptr = line + (bare ? 1 : 2);
            out->text.len = len - (bare ? 1 : 2);
            if (quirks) *quirks = seen;
            return POP3_OK;
        }
        if (tolerances & POP3_TOL_ANY_PLUS) {
            /* poplib counts any "+" line as success ("+ Hola mundo" in its tests). */
            out->kind = POP3_STATUS_OK;
            set_text(out, line, len, 1);
            if (quirks) *quirks = POP3_TOL_ANY_PLUS;
            return POP3_OK;
        }
        if (starts_with(line, len, "+ERR")) {
            if (quirks) *quirks = POP3_SEEN_PLUS_ERR;
            return fail(message, "\"+ERR\" is not a status indicator (Q40): neither +OK nor -ERR");
        }
        if (spaced || bare)
            return fail(message, "SASL continuation \"+\" where no authentication is running");
        return fail(message, "status line starts with \"+\" but not \"+OK\"");
    }
    return fail(message, "not a status line: expected +OK or -ERR");
}
