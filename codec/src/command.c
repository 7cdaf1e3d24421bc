/*
 * command.c - client command lines and SASL response lines (pop3/encode.h).
 *
 * RFC 1939 section 3: a command is a keyword, arguments separated by a single SP, and
 * CRLF; RFC 1939 section 7: PASS takes the rest of the line, so its one argument may
 * contain spaces. RFC 2449 section 4: a command line is at most 255 octets with its CRLF
 * unless a capability allows more. RFC 5034 section 4: SASL responses are lines of their
 * own ("*" to cancel, base64, or empty) with no length limit.
 *
 * Every argument is checked before anything is written: an argument that carries CR or
 * LF would smuggle a second command onto the wire ("user\r\nDELE 1", CVE-2025-15367,
 * quirk Q42), so all control octets are refused as poplib now does. Outputs are written
 * only on success.
 */
#include "pop3/encode.h"

#include <string.h>

#include "pop3/error.h"

/* Why an octet cannot go into a line; the octets that split commands get their names. */
enum bad_octet { BAD_NONE, BAD_NUL, BAD_TAB, BAD_LF, BAD_CR, BAD_DEL, BAD_CTL, BAD_SP };

static enum bad_octet classify(unsigned char c, bool allow_space)
{
    switch (c) {
    case 0x00: return BAD_NUL;
    case 0x09: return BAD_TAB;
    case 0x0a: return BAD_LF;
    case 0x0d: return BAD_CR;
    case 0x7f: return BAD_DEL;
    case 0x20: return allow_space ? BAD_NONE : BAD_SP;
    default: return c < 0x20 ? BAD_CTL : BAD_NONE;
    }
}

/* The first refused octet of `s`, or BAD_NONE. 8-bit octets pass (RFC 6856 UTF-8). */
static enum bad_octet scan(const char *s, size_t len, bool allow_space)
{
    for (size_t i = 0; i < len; i++) {
        enum bad_octet bad = classify((unsigned char)s[i], allow_space);
        if (bad != BAD_NONE) return bad;
    }
    return BAD_NONE;
}

static const char *const arg_messages[] = {
    [BAD_NONE] = "argument is acceptable",
    [BAD_NUL] = "argument contains NUL",
    [BAD_TAB] = "argument contains TAB",
    [BAD_LF] = "argument contains LF",
    [BAD_CR] = "argument contains CR",
    [BAD_DEL] = "argument contains DEL",
    [BAD_CTL] = "argument contains a control octet",
    [BAD_SP] = "argument contains SP",
};

static const char *const line_messages[] = {
    [BAD_NONE] = "line is acceptable",
    [BAD_NUL] = "line contains NUL",
    [BAD_TAB] = "line contains TAB",
    [BAD_LF] = "line contains LF",
    [BAD_CR] = "line contains CR",
    [BAD_DEL] = "line contains DEL",
    [BAD_CTL] = "line contains a control octet",
    [BAD_SP] = "line contains SP",
};

static int fail(const char **message, const char *why, int error)
{
    if (message != NULL) *message = why;
    return error;
}

int pop3_check_arg(const char *arg, size_t len, bool allow_space, const char **message)
{
    if (arg == NULL && len > 0) return fail(message, "argument is NULL", POP3_EUSAGE);
    enum bad_octet bad = scan(arg, len, allow_space);
    if (bad != BAD_NONE) return fail(message, arg_messages[bad], POP3_EUSAGE);
    return POP3_OK;
}

static bool is_keyword_char(char ch)
{
    unsigned char c = (unsigned char)ch;
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

int pop3_encode_command(char *out, size_t cap, size_t *out_len, size_t max, const char *keyword,
                        const char *const *args, size_t nargs, const char **message)
{
    if (keyword == NULL) return fail(message, "keyword is NULL", POP3_EUSAGE);
    size_t kw_len = strlen(keyword);
    /* RFC 2449 allows 3*4VCHAR; every keyword in use is letters and digits (RFC 6856's
     * UTF8), which cannot be mistaken for an argument separator or a line end. */
    if (kw_len < 3 || kw_len > 4)
        return fail(message, "keyword must be 3 or 4 letters or digits", POP3_EUSAGE);
    for (size_t i = 0; i < kw_len; i++)
        if (!is_keyword_char(keyword[i]))
            return fail(message, "keyword must be 3 or 4 letters or digits", POP3_EUSAGE);
    if (args == NULL && nargs > 0) return fail(message, "arguments are NULL", POP3_EUSAGE);

    /* Every argument is judged before any length, so that a hostile argument is named as
     * such even when it is also too long. */
    for (size_t i = 0; i < nargs; i++) {
        if (args[i] == NULL) return fail(message, "argument is NULL", POP3_EUSAGE);
        bool last = i + 1 == nargs;
        size_t len = strlen(args[i]);
        /* An empty argument before the last would put two SPs in a row, which a server
         * reads as a different argument list. The last may be empty: "PASS " with an
         * empty password is a legal line (RFC 1939 section 7). */
        if (!last && len == 0) return fail(message, "empty argument before the last", POP3_EUSAGE);
        int rc = pop3_check_arg(args[i], len, last, message);
        if (rc != POP3_OK) return rc;
    }

    size_t limit = max == 0 ? POP3_COMMAND_MAX : max;
    size_t total = kw_len + 2;
    for (size_t i = 0; i < nargs; i++) {
        size_t len = strlen(args[i]);
        /* Compared as a difference so that absurd lengths cannot wrap the sum. */
        if (total > limit || len >= limit - total)
            return fail(message, "command line longer than the limit (RFC 2449 section 4)",
                        POP3_ELIMIT);
        total += 1 + len;
    }
    if (total > limit)
        return fail(message, "command line longer than the limit (RFC 2449 section 4)",
                    POP3_ELIMIT);
    if (out == NULL || total > cap)
        return fail(message, "output buffer too small for the command line", POP3_ELIMIT);

    size_t o = 0;
    memcpy(out, keyword, kw_len);
    o += kw_len;
    for (size_t i = 0; i < nargs; i++) {
        size_t len = strlen(args[i]);
        out[o++] = ' ';
        memcpy(out + o, args[i], len);
        o += len;
    }
    out[o++] = '\r';
    out[o++] = '\n';
    if (out_len != NULL) *out_len = o;
    return POP3_OK;
}

int pop3_encode_line(char *out, size_t cap, size_t *out_len, const char *line, size_t len,
                     const char **message)
{
    if (line == NULL && len > 0) return fail(message, "line is NULL", POP3_EUSAGE);
    enum bad_octet bad = scan(line, len, true);
    if (bad != BAD_NONE) return fail(message, line_messages[bad], POP3_EUSAGE);
    if (out == NULL || cap < 2 || len > cap - 2)
        return fail(message, "output buffer too small for the line", POP3_ELIMIT);
    if (len > 0) memcpy(out, line, len);
    out[len] = '\r';
    out[len + 1] = '\n';
    if (out_len != NULL) *out_len = len + 2;
    return POP3_OK;
}
