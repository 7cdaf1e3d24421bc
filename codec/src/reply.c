/*
 * reply.c - server status lines (pop3/encode.h), for the mock server.
 *
 * RFC 1939 section 3: "+OK" or "-ERR", optionally SP and text, then CRLF. RFC 2449
 * section 8 (syntax in section 9): a response code "[" resp-level *("/" resp-level) "]"
 * at the start of the text, resp-level = 1*rchar, rchar = %x21-2E / %x30-5C / %x5E-7F.
 * RFC 5034 section 4: a SASL continuation is "+" SP and a base64 challenge, and an empty
 * challenge is "+ " (RFC5034-4.6), so the SP is written even when the text is empty.
 *
 * The 512-octet limit of RFC 1939 section 3 / RFC 2449 section 4 is not enforced here:
 * the mock must be able to send over-long status lines to test clients (RFC1939-3.3).
 * Only what would break the line framing itself (CR, LF, NUL) is refused. Outputs are
 * written only on success.
 */
#include "pop3/encode.h"

#include <string.h>

#include "pop3/error.h"

static int fail(const char **message, const char *why, int error)
{
    if (message != NULL) *message = why;
    return error;
}

/* RFC 2449 section 9 rchar: printable ASCII except "/" and "]" (SP is not printable). */
static bool is_rchar(unsigned char c)
{
    return (c >= 0x21 && c <= 0x2e) || (c >= 0x30 && c <= 0x5c) || (c >= 0x5e && c <= 0x7f);
}

/* resp-level *("/" resp-level): no empty level, so no leading, trailing or double "/". */
static bool valid_code(const char *code, size_t len)
{
    size_t level = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)code[i];
        if (c == '/') {
            if (level == 0) return false;
            level = 0;
        } else if (is_rchar(c)) {
            level++;
        } else {
            return false;
        }
    }
    return level > 0;
}

int pop3_encode_status(char *out, size_t cap, size_t *out_len, pop3_status_kind kind,
                       const char *code_text, const char *text, size_t text_len,
                       const char **message)
{
    const char *indicator;
    switch (kind) {
    case POP3_STATUS_OK: indicator = "+OK"; break;
    case POP3_STATUS_ERR: indicator = "-ERR"; break;
    case POP3_STATUS_CONTINUE: indicator = "+"; break;
    default: return fail(message, "unknown status kind", POP3_EUSAGE);
    }
    size_t code_len = code_text == NULL ? 0 : strlen(code_text);
    if (code_len > 0 && kind == POP3_STATUS_CONTINUE)
        return fail(message, "a SASL continuation carries no response code", POP3_EUSAGE);
    if (code_len > 0 && !valid_code(code_text, code_len))
        return fail(message, "response code is not a valid RFC 2449 resp-code", POP3_EUSAGE);
    if (text == NULL && text_len > 0) return fail(message, "text is NULL", POP3_EUSAGE);
    for (size_t i = 0; i < text_len; i++) {
        switch (text[i]) {
        case '\0': return fail(message, "text contains NUL", POP3_EUSAGE);
        case '\n': return fail(message, "text contains LF", POP3_EUSAGE);
        case '\r': return fail(message, "text contains CR", POP3_EUSAGE);
        default: break;
        }
    }

    size_t ind_len = strlen(indicator);
    bool sp_text = text_len > 0 || kind == POP3_STATUS_CONTINUE;
    /* Each part is small except text_len, so only the last step can wrap. */
    size_t fixed = ind_len + (code_len > 0 ? code_len + 3 : 0) + (sp_text ? 1 : 0) + 2;
    if (code_len > cap || out == NULL || fixed > cap || text_len > cap - fixed)
        return fail(message, "output buffer too small for the status line", POP3_ELIMIT);

    size_t o = 0;
    memcpy(out, indicator, ind_len);
    o += ind_len;
    if (code_len > 0) {
        out[o++] = ' ';
        out[o++] = '[';
        memcpy(out + o, code_text, code_len);
        o += code_len;
        out[o++] = ']';
    }
    if (sp_text) out[o++] = ' ';
    if (text_len > 0) {
        memcpy(out + o, text, text_len);
        o += text_len;
    }
    out[o++] = '\r';
    out[o++] = '\n';
    if (out_len != NULL) *out_len = o;
    return POP3_OK;
}
