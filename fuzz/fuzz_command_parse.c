/*
 * fuzz_command_parse.c - received command lines: pop3_parse_command (pop3/command.h).
 *
 * RFC 1939 section 3 (keyword of 3 or 4 characters, case-insensitive; arguments
 * separated by one SP; printable ASCII; 40-character arguments), RFC 2449 sections 3-4
 * (3*4VCHAR, 1*VCHAR, 255 octets with the CRLF), RFC 1939 section 7 (PASS takes the
 * rest of the line), RFC 6856 (8-bit arguments), and the server's side of Q42 (CR, LF
 * and NUL inside a line).
 *
 * Input: byte 0 bit 0: POP3_CMDTOL_SPACES, bit 1: POP3_CMDTOL_8BIT, bits 2-3: the
 * argument limit (0 none, 1 RFC 1939's 40, 2 and 3: byte 1 % 16 + 1); byte 1: max_line
 * (0: the default 255, else the value); the rest R is the line, given in a block of
 * exactly its size.
 *
 * Oracles:
 *  - a reference parser written from the header's rules (tokens split at every SP,
 *    empty tokens judged by where they stand) gives the same result, fault, fault
 *    offset, keyword, id, argument views, rest and quirks;
 *  - every view lies inside the line, arguments hold no SP and no control octet, rest
 *    runs to the end of the line;
 *  - parse then encode: a line parsed without tolerating spaces whose keyword is letters
 *    and digits (the encoder's keywords) re-encodes with pop3_encode_command to the
 *    same octets plus CRLF;
 *  - encode then parse: R split at NUL octets is a keyword and arguments; when the
 *    encoder takes them, the parser reads its line back: the same keyword, rest equal to
 *    the arguments joined by one SP, and the same arguments when none is empty or holds
 *    a SP.
 */
#include "fuzz_common.h"

#include "pop3/command.h"
#include "pop3/encode.h"
#include "pop3/error.h"

typedef struct ref {
    int rc;
    pop3_command_fault fault;
    size_t fault_at;
    char name[5];
    size_t nargs;
    size_t arg_off[POP3_COMMAND_ARGS_MAX], arg_len[POP3_COMMAND_ARGS_MAX];
    bool has_rest;
    unsigned quirks;
} ref;

static const char *const known[] = {"USER", "PASS", "APOP", "RPOP", "AUTH", "STLS",
                                    "CAPA", "UTF8", "LANG", "STAT", "LIST", "RETR",
                                    "DELE", "NOOP", "RSET", "TOP",  "UIDL", "QUIT"};

static ref refuse(pop3_command_fault f, int rc, size_t at)
{
    ref r = {.rc = rc, .fault = f, .fault_at = at};
    return r;
}

static ref ref_parse(const char *s, size_t len, const pop3_command_options *o)
{
    if (len == 0) return refuse(POP3_CMDF_EMPTY, POP3_EPROTO, 0);
    size_t max = o->max_line ? o->max_line : 255;
    if (len + 2 > max) return refuse(POP3_CMDF_TOO_LONG, POP3_ELIMIT, max < 2 ? 0 : max - 2);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == 0) return refuse(POP3_CMDF_NUL, POP3_EPROTO, i);
        if (c == '\r') return refuse(POP3_CMDF_CR, POP3_EPROTO, i);
        if (c == '\n') return refuse(POP3_CMDF_LF, POP3_EPROTO, i);
        if (c == '\t') return refuse(POP3_CMDF_TAB, POP3_EPROTO, i);
        if (c < 0x20 || c == 0x7f) return refuse(POP3_CMDF_CONTROL, POP3_EPROTO, i);
    }
    const char *sp = memchr(s, ' ', len);
    size_t kw = sp ? (size_t)(sp - s) : len;
    for (size_t i = 0; i < kw; i++)
        if ((unsigned char)s[i] >= 0x80) return refuse(POP3_CMDF_KEYWORD, POP3_EPROTO, i);
    if (kw < 3) return refuse(POP3_CMDF_KEYWORD, POP3_EPROTO, kw);
    if (kw > 4) return refuse(POP3_CMDF_KEYWORD, POP3_EPROTO, 4);

    ref r = {.rc = POP3_OK, .fault = POP3_CMDF_NONE};
    for (size_t i = 0; i < kw; i++)
        r.name[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]);
    if (kw == len) return r;
    r.has_rest = true;

    /* The tokens of the rest, split at every SP: k SPs give k + 1 tokens. */
    bool tol_sp = (o->tolerances & POP3_CMDTOL_SPACES) != 0;
    size_t start = kw + 1;
    size_t nsp = 0;
    for (size_t i = start; i < len; i++)
        nsp += s[i] == ' ';
    size_t t = 0, tok = start;
    while (true) {
        const char *end = memchr(s + tok, ' ', len - tok);
        size_t tend = end ? (size_t)(end - s) : len;
        if (tend == tok) {
            /* An empty token: the rest is empty (the SP after the keyword is the
             * offender), or a SP stands where a word starts, or the line ends in SP. */
            size_t at = start == len ? kw : (t < nsp ? tok : len - 1);
            if (!tol_sp) return refuse(POP3_CMDF_SPACES, POP3_EPROTO, at);
            r.quirks |= POP3_CMDTOL_SPACES;
        } else {
            for (size_t i = tok; i < tend; i++) {
                if ((unsigned char)s[i] < 0x80) continue;
                if ((o->tolerances & POP3_CMDTOL_8BIT) == 0)
                    return refuse(POP3_CMDF_EIGHT_BIT, POP3_EPROTO, i);
                r.quirks |= POP3_CMDTOL_8BIT;
            }
            if (o->max_arg && tend - tok > o->max_arg)
                return refuse(POP3_CMDF_ARG_TOO_LONG, POP3_ELIMIT, tok);
            if (r.nargs < POP3_COMMAND_ARGS_MAX) {
                r.arg_off[r.nargs] = tok;
                r.arg_len[r.nargs] = tend - tok;
            }
            r.nargs++;
        }
        if (end == NULL) break;
        tok = tend + 1;
        t++;
    }
    return r;
}

static bool alnum(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static void check_against_reference(const char *line, size_t len, const pop3_command_options *o)
{
    pop3_request c;
    const char *msg = NULL;
    int rc = pop3_parse_command(line, len, o, &c, &msg);
    ref r = ref_parse(line, len, o);
    FUZZ_CHECK(rc == r.rc);
    FUZZ_CHECK(c.fault == r.fault);
    if (rc != POP3_OK) {
        FUZZ_CHECK(c.fault_at == r.fault_at && c.fault_at <= len);
        FUZZ_CHECK(msg != NULL && strcmp(msg, pop3_command_fault_message(c.fault)) == 0);
        return;
    }
    FUZZ_CHECK(strcmp(c.name, r.name) == 0);
    FUZZ_CHECK(c.keyword.ptr == line && c.keyword.len == strlen(r.name));
    FUZZ_CHECK(fuzz_inside(c.rest.ptr, c.rest.len, line, len) || c.rest.ptr == NULL);
    pop3_command_id want = POP3_CMD_UNKNOWN;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(known[i], r.name) == 0) want = (pop3_command_id)(POP3_CMD_UNKNOWN + 1 + i);
    FUZZ_CHECK(c.id == want);
    FUZZ_CHECK(strcmp(pop3_command_name(c.id), want == POP3_CMD_UNKNOWN ? "" : r.name) == 0);
    FUZZ_CHECK(c.nargs == r.nargs && c.quirks == r.quirks);
    for (size_t i = 0; i < c.nargs && i < POP3_COMMAND_ARGS_MAX; i++) {
        FUZZ_CHECK(c.args[i].ptr == line + r.arg_off[i] && c.args[i].len == r.arg_len[i]);
        FUZZ_CHECK(c.args[i].len > 0 && memchr(c.args[i].ptr, ' ', c.args[i].len) == NULL);
        for (size_t k = 0; k < c.args[i].len; k++)
            FUZZ_CHECK((unsigned char)c.args[i].ptr[k] > 0x20 &&
                       (unsigned char)c.args[i].ptr[k] != 0x7f);
    }
    if (r.has_rest) {
        FUZZ_CHECK(c.rest.ptr == line + c.keyword.len + 1 && c.rest.ptr + c.rest.len == line + len);
    } else {
        FUZZ_CHECK(c.rest.ptr == NULL && c.rest.len == 0);
    }

    /* Parse then encode: the same octets, when the encoder can say this line. */
    bool encodable = (c.quirks & POP3_CMDTOL_SPACES) == 0 && c.nargs <= POP3_COMMAND_ARGS_MAX;
    for (size_t i = 0; i < c.keyword.len; i++)
        encodable = encodable && alnum(c.keyword.ptr[i]);
    if (!encodable) return;
    char kw[5];
    memcpy(kw, c.keyword.ptr, c.keyword.len);
    kw[c.keyword.len] = '\0';
    char *store[POP3_COMMAND_ARGS_MAX];
    for (size_t i = 0; i < c.nargs; i++) {
        store[i] = fuzz_xmalloc(c.args[i].len + 1);
        memcpy(store[i], c.args[i].ptr, c.args[i].len);
        store[i][c.args[i].len] = '\0';
    }
    size_t cap = len + 2;
    char *out = fuzz_xmalloc(cap);
    size_t n = 0;
    size_t max = o->max_line ? o->max_line : POP3_COMMAND_MAX;
    FUZZ_CHECK(pop3_encode_command(out, cap, &n, max, kw, (const char *const *)store, c.nargs,
                                   NULL) == POP3_OK);
    FUZZ_CHECK(n == len + 2 && memcmp(out, line, len) == 0 && out[len] == '\r' &&
               out[len + 1] == '\n');
    free(out);
    for (size_t i = 0; i < c.nargs; i++)
        free(store[i]);
}

/* Encode then parse: R cut at NUL octets into a keyword and up to 8 arguments. */
static void check_encode_then_parse(const uint8_t *p, size_t len)
{
    char *fields[1 + POP3_COMMAND_ARGS_MAX];
    size_t nf = 0, start = 0;
    while (nf < 1 + POP3_COMMAND_ARGS_MAX) {
        const uint8_t *nul = memchr(p + start, 0, len - start);
        size_t end = nul ? (size_t)(nul - p) : len;
        fields[nf++] = fuzz_strdup(p + start, end - start);
        if (nul == NULL) break;
        start = end + 1;
    }
    char out[POP3_COMMAND_MAX];
    size_t n = 0;
    if (pop3_encode_command(out, sizeof out, &n, 0, fields[0], (const char *const *)fields + 1,
                            nf - 1, NULL) == POP3_OK) {
        pop3_command_options o;
        pop3_command_options_default(&o);
        pop3_request c;
        FUZZ_CHECK(n >= 2 && pop3_parse_command(out, n - 2, &o, &c, NULL) == POP3_OK);
        FUZZ_CHECK(c.keyword.len == strlen(fields[0]) &&
                   memcmp(c.keyword.ptr, fields[0], c.keyword.len) == 0);
        FUZZ_CHECK((nf == 1) == (c.rest.ptr == NULL));
        size_t off = 0;
        bool plain = true;
        for (size_t i = 1; i < nf; i++) {
            size_t l = strlen(fields[i]);
            if (i > 1) FUZZ_CHECK(off < c.rest.len && c.rest.ptr[off++] == ' ');
            FUZZ_CHECK(off + l <= c.rest.len && memcmp(c.rest.ptr + off, fields[i], l) == 0);
            off += l;
            plain = plain && l > 0 && strchr(fields[i], ' ') == NULL;
        }
        FUZZ_CHECK(off == c.rest.len);
        if (plain) {
            FUZZ_CHECK(c.nargs == nf - 1);
            for (size_t i = 1; i < nf; i++)
                FUZZ_CHECK(c.args[i - 1].len == strlen(fields[i]) &&
                           memcmp(c.args[i - 1].ptr, fields[i], c.args[i - 1].len) == 0);
        }
    }
    for (size_t i = 0; i < nf; i++)
        free(fields[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    uint8_t flags = fuzz_byte(&in);
    uint8_t limit = fuzz_byte(&in);
    pop3_command_options o = {.max_line = limit, .tolerances = flags & 3u};
    switch ((flags >> 2) & 3u) {
    case 0: o.max_arg = 0; break;
    case 1: o.max_arg = POP3_ARG_MAX_RFC1939; break;
    default: o.max_arg = (size_t)(limit % 16u) + 1u; break;
    }
    char *line = fuzz_dup(in.p, in.len);
    check_against_reference(line, in.len, &o);
    free(line);
    check_encode_then_parse(in.p, in.len);
    return 0;
}
