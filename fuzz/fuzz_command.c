/*
 * fuzz_command.c - the line encoders: commands, SASL responses, server status lines.
 *
 * Exercises pop3_check_arg, pop3_encode_command, pop3_encode_line and
 * pop3_encode_status: RFC 1939 section 3 (keyword, arguments separated by one SP, CRLF),
 * section 7 (PASS takes the rest of the line), RFC 2449 section 4 (255 octets with the
 * CRLF), RFC 5034 section 4 (SASL response lines, no length limit), RFC 2449 sections
 * 8 and 9 (resp-code syntax), and quirk Q42 (CR, LF or NUL in an argument would smuggle
 * a second command onto the wire: CVE-2025-15367).
 *
 * Input: byte 0 bits 0-1: status kind (0 is not a kind and must be refused), bit 2:
 * pop3_check_arg allows SP, bit 3: pass a response code to pop3_encode_status; byte 1:
 * the command length limit (0: the default); byte 2: the output capacity (255 means
 * 1024); the rest R is split at NUL octets into fields F0 F1 ... (at most 9 used).
 *   pop3_check_arg and pop3_encode_line get R whole; pop3_encode_command gets F0 as the
 *   keyword and the other fields as arguments; pop3_encode_status gets F0 as the
 *   response code and what follows the first NUL as the text.
 *
 * Oracles: acceptance and error kind agree with reference predicates written from the
 * RFCs and pop3/encode.h; an accepted line is exactly the expected octets, holds no CR,
 * LF, NUL or other control octet except its final CRLF, and fits the limit and the
 * capacity; a refused call writes nothing; an encoded status line parses back to the
 * same kind, code and text.
 */
#include "fuzz_common.h"

#include "pop3/encode.h"
#include "pop3/error.h"
#include "pop3/wire.h"

#define MAX_FIELDS 9
#define CANARY     0x5A

static bool control(unsigned char c)
{
    return c < 0x20 || c == 0x7F;
}

static int ref_arg(const char *s, size_t n, bool allow_space)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (control(c) || (c == ' ' && !allow_space)) return POP3_EUSAGE;
    }
    return POP3_OK;
}

/* pop3/encode.h: a keyword is 3 or 4 letters or digits (RFC 6856 has "UTF8"). */
static bool keyword_chars(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
              (s[i] >= '0' && s[i] <= '9')))
            return false;
    return true;
}

/* A capacity-sized block filled with a canary, placed so that writing past it faults. */
typedef struct outbuf {
    char *block;
    size_t cap;
} outbuf;

static outbuf out_new(size_t cap)
{
    outbuf o = {fuzz_xmalloc(cap), cap};
    memset(o.block, CANARY, cap);
    return o;
}

static bool untouched(const outbuf *o)
{
    for (size_t i = 0; i < o->cap; i++)
        if ((unsigned char)o->block[i] != CANARY) return false;
    return true;
}

/* Only the final CRLF may be a control octet. */
static void check_line_octets(const char *p, size_t n)
{
    FUZZ_CHECK(n >= 2 && p[n - 2] == '\r' && p[n - 1] == '\n');
    for (size_t i = 0; i + 2 < n; i++)
        FUZZ_CHECK(!control((unsigned char)p[i]));
}

static void check_command(char **fields, size_t *lens, size_t nfields, size_t max, size_t cap)
{
    const char *keyword = fields[0];
    const char *const *args = (const char *const *)(fields + 1);
    size_t nargs = nfields - 1;

    int want = POP3_OK;
    if (lens[0] < 3 || lens[0] > 4 || !keyword_chars(keyword, lens[0])) want = POP3_EUSAGE;
    size_t total = lens[0] + 2;
    for (size_t i = 0; i < nargs && want == POP3_OK; i++) {
        bool last = i + 1 == nargs;
        if (!last && lens[i + 1] == 0) want = POP3_EUSAGE;
        if (ref_arg(args[i], lens[i + 1], last) != POP3_OK) want = POP3_EUSAGE;
        total += 1 + lens[i + 1];
    }
    size_t limit = max == 0 ? POP3_COMMAND_MAX : max;
    if (want == POP3_OK && (total > limit || total > cap)) want = POP3_ELIMIT;

    outbuf o = out_new(cap);
    size_t out_len = 12345;
    const char *message = NULL;
    int rc = pop3_encode_command(o.block, cap, &out_len, max, keyword, args, nargs, &message);
    FUZZ_CHECK(rc == want);
    if (rc != POP3_OK) {
        FUZZ_CHECK(message != NULL && out_len == 12345 && untouched(&o));
    } else {
        FUZZ_CHECK(out_len == total && out_len <= limit && out_len <= cap);
        fuzz_buf line = {0};
        fuzz_put(&line, keyword, lens[0]);
        for (size_t i = 0; i < nargs; i++) {
            fuzz_put_byte(&line, ' ');
            fuzz_put(&line, args[i], lens[i + 1]);
        }
        fuzz_put(&line, "\r\n", 2);
        FUZZ_CHECK(line.len == out_len && memcmp(line.p, o.block, out_len) == 0);
        check_line_octets(o.block, out_len);
        fuzz_buf_free(&line);
    }
    /* Without an output buffer nothing can be written, whatever else is true. */
    rc = pop3_encode_command(NULL, 0, NULL, max, keyword, args, nargs, NULL);
    FUZZ_CHECK(rc == (want == POP3_OK ? POP3_ELIMIT : want));
    free(o.block);
}

static void check_line(const char *r, size_t len, size_t cap)
{
    int want = ref_arg(r, len, true);
    if (want == POP3_OK && len + 2 > cap) want = POP3_ELIMIT;
    outbuf o = out_new(cap);
    size_t out_len = 12345;
    const char *message = NULL;
    int rc = pop3_encode_line(o.block, cap, &out_len, r, len, &message);
    FUZZ_CHECK(rc == want);
    if (rc != POP3_OK) {
        FUZZ_CHECK(message != NULL && out_len == 12345 && untouched(&o));
    } else {
        FUZZ_CHECK(out_len == len + 2 && memcmp(o.block, r, len) == 0);
        check_line_octets(o.block, out_len);
    }
    free(o.block);
}

static bool ref_code_ok(const char *code, size_t n)
{
    /* RFC 2449 section 9: resp-level *("/" resp-level), resp-level = 1*rchar. */
    size_t level = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)code[i];
        if (c == '/') {
            if (level == 0) return false;
            level = 0;
        } else if ((c >= 0x21 && c <= 0x2E) || (c >= 0x30 && c <= 0x5C) ||
                   (c >= 0x5E && c <= 0x7F)) {
            level++;
        } else {
            return false;
        }
    }
    return level > 0;
}

static void check_status(unsigned kind_byte, const char *code, size_t code_len, const char *text,
                         size_t text_len, size_t cap)
{
    pop3_status_kind kind = (pop3_status_kind)kind_byte;
    const char *indicator = kind == POP3_STATUS_OK ? "+OK" : kind == POP3_STATUS_ERR ? "-ERR" : "+";
    int want = POP3_OK;
    if (kind_byte < POP3_STATUS_OK || kind_byte > POP3_STATUS_CONTINUE) want = POP3_EUSAGE;
    if (code_len > 0 && (kind == POP3_STATUS_CONTINUE || !ref_code_ok(code, code_len)))
        want = POP3_EUSAGE;
    if (memchr(text, '\0', text_len) || memchr(text, '\r', text_len) ||
        memchr(text, '\n', text_len))
        want = POP3_EUSAGE;
    fuzz_buf line = {0};
    fuzz_put(&line, indicator, strlen(indicator));
    if (code_len > 0) {
        fuzz_put(&line, " [", 2);
        fuzz_put(&line, code, code_len);
        fuzz_put(&line, "]", 1);
    }
    if (text_len > 0 || kind == POP3_STATUS_CONTINUE) fuzz_put(&line, " ", 1);
    fuzz_put(&line, text, text_len);
    fuzz_put(&line, "\r\n", 2);
    if (want == POP3_OK && line.len > cap) want = POP3_ELIMIT;

    outbuf o = out_new(cap);
    size_t out_len = 12345;
    const char *message = NULL;
    int rc = pop3_encode_status(o.block, cap, &out_len, kind, code, text, text_len, &message);
    FUZZ_CHECK(rc == want);
    if (rc != POP3_OK) {
        FUZZ_CHECK(message != NULL && out_len == 12345 && untouched(&o));
    } else {
        FUZZ_CHECK(out_len == line.len && memcmp(o.block, line.p, out_len) == 0);
        FUZZ_CHECK(memchr(o.block, '\0', out_len) == NULL);
        FUZZ_CHECK(memchr(o.block, '\n', out_len) == o.block + out_len - 1);

        /* The client reads back what the server meant. */
        pop3_status_line st;
        unsigned quirks = 0;
        pop3_expect expect = kind == POP3_STATUS_CONTINUE ? POP3_EXPECT_SASL : POP3_EXPECT_SINGLE;
        FUZZ_CHECK(pop3_parse_status(o.block, out_len - 2, expect, POP3_TOL_STRICT, &st, &quirks,
                                     NULL) == POP3_OK);
        FUZZ_CHECK(st.kind == kind && quirks == 0);
        pop3_resp_code ignored;
        pop3_view v;
        /* A text that itself starts with a valid "[code]" reads as one: by design. */
        bool text_looks_coded = kind != POP3_STATUS_CONTINUE && code_len == 0 &&
                                pop3_parse_resp_code(text, text_len, &ignored, &v) > 0;
        if (!text_looks_coded) {
            FUZZ_CHECK(st.text.len == text_len && memcmp(st.text.ptr, text, text_len) == 0);
            FUZZ_CHECK(st.code_text.len == code_len);
            FUZZ_CHECK(code_len == 0 || memcmp(st.code_text.ptr, code, code_len) == 0);
        }
    }
    fuzz_buf_free(&line);
    free(o.block);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    uint8_t flags = fuzz_byte(&in);
    size_t max = fuzz_byte(&in);
    size_t cap = fuzz_byte(&in);
    if (cap == 255) cap = 1024;
    const char *r = (const char *)in.p;
    size_t len = in.len;

    /* pop3_check_arg on everything. */
    bool allow_space = (flags & 4) != 0;
    const char *message = NULL;
    char *whole = fuzz_dup(r, len);
    int rc = pop3_check_arg(whole, len, allow_space, &message);
    FUZZ_CHECK(rc == ref_arg(whole, len, allow_space));
    FUZZ_CHECK(rc == POP3_OK || message != NULL);
    check_line(whole, len, cap);
    free(whole);

    /* Fields at NUL octets, as C strings in blocks of their own size. */
    char *fields[MAX_FIELDS];
    size_t lens[MAX_FIELDS];
    size_t nfields = 0, start = 0;
    while (nfields < MAX_FIELDS) {
        const char *nul = memchr(r + start, '\0', len - start);
        size_t end = nul ? (size_t)(nul - r) : len;
        fields[nfields] = fuzz_strdup(r + start, end - start);
        lens[nfields++] = end - start;
        if (nul == NULL) break;
        start = end + 1;
    }
    check_command(fields, lens, nfields, max, cap);

    const char *first_nul = memchr(r, '\0', len);
    const char *text = first_nul ? first_nul + 1 : r + len;
    size_t text_len = (size_t)(r + len - text);
    char *text_copy = fuzz_dup(text, text_len);
    bool with_code = (flags & 8) != 0;
    check_status(flags & 3u, with_code ? fields[0] : NULL, with_code ? lens[0] : 0, text_copy,
                 text_len, cap);
    free(text_copy);

    for (size_t i = 0; i < nfields; i++)
        free(fields[i]);
    return 0;
}
