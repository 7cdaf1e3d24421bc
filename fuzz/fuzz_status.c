/*
 * fuzz_status.c - status lines and response codes.
 *
 * Exercises pop3_parse_status, pop3_parse_resp_code and pop3_encode_status: RFC 1939
 * section 3 (status indicators "+OK" and "-ERR" in upper case), RFC 2449 sections 3, 8
 * and 9 (resp-code syntax, hierarchical codes, unknown levels ignored), RFC 3206 (SYS,
 * AUTH), RFC 6856 section 5 (UTF8), RFC 5034 section 4 ("+ " continuations), and the
 * quirks Q39 (bare "+"), Q40 ("+ERR"), Q48 (NUL in a status line).
 *
 * Input: byte 0 chooses the expectation (mod 6), byte 1 the tolerances (low six bits);
 * the rest is one line without its line end.
 *
 * Oracles:
 *  - every view the parser returns lies inside the line, the text is a suffix of it;
 *  - an error never passes for success: a line starting "-" or "+ERR" is never +OK
 *    (unless poplib's any-"+" rule was asked for), and a tolerance that was not granted
 *    is never used;
 *  - without the case and any-"+" tolerances, acceptance equals the RFC 1939 rule,
 *    written out plainly below;
 *  - the response code equals that of a separate reference parser of RFC 2449 section 9;
 *  - what was parsed, encoded again with pop3_encode_status, parses to the same fields;
 *  - the decoder, fed the line and CRLF, reports the same status line (or the banner
 *    or error the parse result implies).
 */
#include "fuzz_common.h"

#include "pop3/encode.h"
#include "pop3/error.h"
#include "pop3/wire.h"

#define TOL_MASK  0x3Fu
#define SEEN_MASK (POP3_SEEN_DOT_NOT_STUFFED | POP3_SEEN_PLUS_ERR)

static int upper(int c)
{
    return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
}

/* Does the line start with `word`, ignoring ASCII case? */
static bool prefix_ci(const char *s, size_t len, const char *word)
{
    size_t n = strlen(word);
    if (len < n) return false;
    for (size_t i = 0; i < n; i++)
        if (upper((unsigned char)s[i]) != upper((unsigned char)word[i])) return false;
    return true;
}

static bool prefix_exact(const char *s, size_t len, const char *word)
{
    size_t n = strlen(word);
    return len >= n && memcmp(s, word, n) == 0;
}

static bool is_sep(char c)
{
    return c == ' ' || c == '\t';
}

/* RFC 1939 section 3, to the letter: "+OK" or "-ERR", then the end or a separator. */
static bool rfc_indicator(const char *s, size_t len, const char *word)
{
    size_t n = strlen(word);
    return prefix_exact(s, len, word) && (len == n || is_sep(s[n]));
}

/*
 * Reference resp-code parser, written from RFC 2449 section 9 rather than from
 * status.c: "[" then levels of rchar (%x21-2E / %x30-5C / %x5E-7F) separated by single
 * "/", closed by the first "]". Returns the octets spanned, 0 when there is no code.
 */
typedef struct ref_code {
    size_t span;
    pop3_resp_code code;
} ref_code;

static bool rchar(unsigned char c)
{
    return (c >= 0x21 && c <= 0x2E) || (c >= 0x30 && c <= 0x5C) || (c >= 0x5E && c <= 0x7F);
}

static bool level_is(const char *p, size_t n, const char *name)
{
    return n == strlen(name) && prefix_ci(p, n, name);
}

static ref_code ref_resp_code(const char *t, size_t len)
{
    ref_code r = {0, POP3_CODE_NONE};
    if (len == 0 || t[0] != '[') return r;
    const char *close = memchr(t, ']', len);
    if (close == NULL) return r;
    size_t end = (size_t)(close - t);
    /* Split [1, end) at "/" and check every level. */
    size_t starts[3] = {0, 0, 0}, lens[3] = {0, 0, 0};
    size_t level = 0, start = 1;
    for (size_t i = 1; i <= end; i++) {
        if (i == end || t[i] == '/') {
            if (i == start) return r; /* empty level */
            if (level < 3) {
                starts[level] = start;
                lens[level] = i - start;
            }
            level++;
            start = i + 1;
        } else if (!rchar((unsigned char)t[i])) {
            return r;
        }
    }
    const char *first = t + starts[0];
    if (level_is(first, lens[0], "IN-USE"))
        r.code = POP3_CODE_IN_USE;
    else if (level_is(first, lens[0], "LOGIN-DELAY"))
        r.code = POP3_CODE_LOGIN_DELAY;
    else if (level_is(first, lens[0], "AUTH"))
        r.code = POP3_CODE_AUTH;
    else if (level_is(first, lens[0], "UTF8"))
        r.code = POP3_CODE_UTF8;
    else if (level_is(first, lens[0], "SYS")) {
        r.code = POP3_CODE_SYS;
        if (level >= 2 && level_is(t + starts[1], lens[1], "TEMP")) r.code = POP3_CODE_SYS_TEMP;
        if (level >= 2 && level_is(t + starts[1], lens[1], "PERM")) r.code = POP3_CODE_SYS_PERM;
    } else
        r.code = POP3_CODE_OTHER;
    r.span = end + 1;
    return r;
}

static void check_resp_code(const char *t, size_t len)
{
    pop3_resp_code code;
    pop3_view code_text;
    size_t span = pop3_parse_resp_code(t, len, &code, &code_text);
    ref_code ref = ref_resp_code(t, len);
    FUZZ_CHECK(span == ref.span);
    FUZZ_CHECK(code == ref.code);
    if (span == 0) {
        FUZZ_CHECK(code_text.len == 0);
    } else {
        FUZZ_CHECK(code_text.ptr == t + 1 && code_text.len == span - 2);
    }
    FUZZ_CHECK(pop3_resp_code_name(code) != NULL);
}

static bool views_equal(pop3_view a, pop3_view b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* A known code's name is its first levels as the RFCs spell them; others are named. */
static void check_code_name(const pop3_status_line *st)
{
    const char *name = pop3_resp_code_name(st->code);
    FUZZ_CHECK(name != NULL);
    FUZZ_CHECK((name[0] == '\0') == (st->code == POP3_CODE_NONE));
    if (st->code == POP3_CODE_NONE || st->code == POP3_CODE_OTHER) return;
    size_t n = strlen(name);
    const char *t = st->code_text.ptr;
    size_t len = st->code_text.len;
    if (st->code == POP3_CODE_SYS) {
        FUZZ_CHECK(len >= 3 && prefix_ci(t, len, "SYS") && (len == 3 || t[3] == '/'));
        return;
    }
    FUZZ_CHECK(len >= n && prefix_ci(t, len, name) && (len == n || t[n] == '/'));
}

/* Encode what was parsed and parse it again: the fields must survive. */
static void check_reencode(const pop3_status_line *st)
{
    if (memchr(st->text.ptr, '\r', st->text.len) || memchr(st->text.ptr, '\n', st->text.len))
        return; /* the encoder refuses these by contract; the parser need not */
    char *code =
        st->code != POP3_CODE_NONE ? fuzz_strdup(st->code_text.ptr, st->code_text.len) : NULL;
    size_t cap = st->line.len + 16;
    char *out = fuzz_xmalloc(cap);
    size_t out_len = 0;
    const char *message = NULL;
    int rc = pop3_encode_status(out, cap, &out_len, st->kind, code, st->text.ptr, st->text.len,
                                &message);
    FUZZ_CHECK(rc == POP3_OK);
    FUZZ_CHECK(out_len >= 2 && out[out_len - 2] == '\r' && out[out_len - 1] == '\n');
    char *again_line = fuzz_dup(out, out_len - 2);
    pop3_status_line again;
    unsigned quirks = 0;
    pop3_expect expect = st->kind == POP3_STATUS_CONTINUE ? POP3_EXPECT_SASL : POP3_EXPECT_SINGLE;
    rc = pop3_parse_status(again_line, out_len - 2, expect, POP3_TOL_STRICT, &again, &quirks,
                           &message);
    FUZZ_CHECK(rc == POP3_OK);
    FUZZ_CHECK(quirks == 0);
    FUZZ_CHECK(again.kind == st->kind);
    FUZZ_CHECK(again.code == st->code);
    FUZZ_CHECK(views_equal(again.code_text, st->code_text));
    FUZZ_CHECK(views_equal(again.text, st->text));
    free(again_line);
    free(out);
    free(code);
}

/* The decoder must say about "line CRLF" what the parser says about the line. */
static void check_decoder(const char *line, size_t len, pop3_expect expect, unsigned tol, int rc,
                          const pop3_status_line *st, unsigned quirks, const char *message)
{
    if (memchr(line, '\n', len)) return; /* it would be two lines */
    pop3_decoder_options opt;
    pop3_decoder_options_default(&opt);
    opt.tolerances = tol;
    pop3_decoder d;
    /* With the default tolerances, the defaults as pop3_decoder_init(NULL) gives them. */
    FUZZ_CHECK(pop3_decoder_init(&d, tol == POP3_TOL_DEFAULT ? NULL : &opt) == POP3_OK);
    FUZZ_CHECK(pop3_decoder_expect(&d, expect) == POP3_OK);
    char *wire = fuzz_xmalloc(len + 2);
    memcpy(wire, line, len);
    wire[len] = '\r';
    wire[len + 1] = '\n';
    pop3_event ev;
    size_t used = pop3_decode(&d, wire, len + 2, &ev);

    if (expect == POP3_EXPECT_NONE) {
        FUZZ_CHECK(ev.kind == POP3_EV_IDLE && used == 0);
    } else if (len + 2 > opt.max_line) {
        FUZZ_CHECK(ev.kind == POP3_EV_ERROR && ev.error == POP3_ELIMIT);
    } else if (rc == POP3_OK) {
        FUZZ_CHECK(used == len + 2);
        FUZZ_CHECK(ev.kind == POP3_EV_STATUS);
        FUZZ_CHECK(ev.status.kind == st->kind && ev.status.code == st->code);
        FUZZ_CHECK(views_equal(ev.status.line, st->line));
        FUZZ_CHECK(views_equal(ev.status.text, st->text));
        FUZZ_CHECK(views_equal(ev.status.code_text, st->code_text));
        FUZZ_CHECK(ev.quirks == quirks);
        bool body = st->kind == POP3_STATUS_OK &&
                    (expect == POP3_EXPECT_MULTI || expect == POP3_EXPECT_LISTING);
        FUZZ_CHECK(pop3_decoder_idle(&d) == !body);
    } else if (expect == POP3_EXPECT_GREETING && (tol & POP3_TOL_BANNER) && len > 0 &&
               line[0] != '+' && line[0] != '-') {
        if (memchr(line, '\0', len)) {
            FUZZ_CHECK(ev.kind == POP3_EV_ERROR && ev.error == POP3_EPROTO);
        } else {
            FUZZ_CHECK(ev.kind == POP3_EV_BANNER);
            FUZZ_CHECK(ev.line.len == len && memcmp(ev.line.ptr, line, len) == 0);
            FUZZ_CHECK(ev.quirks == POP3_TOL_BANNER);
        }
    } else {
        FUZZ_CHECK(ev.kind == POP3_EV_ERROR && ev.error == rc && ev.message == message);
    }
    free(wire);
    pop3_decoder_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    pop3_expect expect = (pop3_expect)(fuzz_byte(&in) % 6);
    unsigned tol = fuzz_byte(&in) & TOL_MASK;
    const char *line = (const char *)in.p;
    size_t len = in.len;

    /* The payload alone, as the text after an indicator. */
    check_resp_code(line, len);

    pop3_status_line st;
    unsigned quirks = 0xdeadu;
    const char *message = NULL;
    int rc = pop3_parse_status(line, len, expect, tol, &st, &quirks, &message);
    FUZZ_CHECK(rc == POP3_OK || rc == POP3_EPROTO);
    FUZZ_CHECK((quirks & ~(TOL_MASK | SEEN_MASK)) == 0);
    FUZZ_CHECK((quirks & TOL_MASK & ~tol) == 0);
    FUZZ_CHECK(fuzz_inside(st.line.ptr, st.line.len, line, len) && st.line.len == len);

    bool has_nul = memchr(line, '\0', len) != NULL;
    bool plus_err = prefix_ci(line, len, "+ERR");
    bool any_plus = (tol & POP3_TOL_ANY_PLUS) != 0;

    if (rc != POP3_OK) {
        FUZZ_CHECK(message != NULL);
    } else {
        FUZZ_CHECK(!has_nul);
        FUZZ_CHECK(fuzz_inside(st.text.ptr, st.text.len, line, len));
        FUZZ_CHECK(st.text.ptr + st.text.len == line + len);
        FUZZ_CHECK(fuzz_inside(st.code_text.ptr, st.code_text.len, line, len));
        FUZZ_CHECK((quirks & POP3_SEEN_PLUS_ERR) == 0);
        switch (st.kind) {
        case POP3_STATUS_ERR:
            FUZZ_CHECK(prefix_ci(line, len, "-ERR") && (len == 4 || is_sep(line[4])));
            FUZZ_CHECK(prefix_exact(line, len, "-ERR") || (quirks & POP3_TOL_STATUS_CASE));
            break;
        case POP3_STATUS_OK:
            FUZZ_CHECK(line[0] == '+');
            FUZZ_CHECK(!plus_err || any_plus);
            if (!(quirks & POP3_TOL_ANY_PLUS)) {
                FUZZ_CHECK(prefix_ci(line, len, "+OK") && (len == 3 || is_sep(line[3])));
                FUZZ_CHECK(prefix_exact(line, len, "+OK") || (quirks & POP3_TOL_STATUS_CASE));
            }
            break;
        case POP3_STATUS_CONTINUE:
            FUZZ_CHECK(expect == POP3_EXPECT_SASL && line[0] == '+');
            FUZZ_CHECK((len == 1 && (quirks & POP3_TOL_BARE_PLUS)) || (len >= 2 && line[1] == ' '));
            FUZZ_CHECK(st.text.ptr == line + (len == 1 ? 1 : 2));
            FUZZ_CHECK(st.code == POP3_CODE_NONE);
            break;
        default: FUZZ_UNREACHABLE("unknown status kind");
        }

        /* The code and the text, recomputed from the reference code parser. */
        if (st.kind != POP3_STATUS_CONTINUE && !(quirks & POP3_TOL_ANY_PLUS)) {
            size_t n = st.kind == POP3_STATUS_OK ? 3 : 4;
            const char *rest = line + n;
            size_t rest_len = len - n;
            if (rest_len > 0 && is_sep(rest[0])) rest++, rest_len--;
            ref_code ref = ref_resp_code(rest, rest_len);
            FUZZ_CHECK(st.code == ref.code);
            if (ref.span > 0) {
                FUZZ_CHECK(st.code_text.ptr == rest + 1 && st.code_text.len == ref.span - 2);
                rest += ref.span;
                rest_len -= ref.span;
                if (rest_len > 0 && is_sep(rest[0])) rest++, rest_len--;
            }
            FUZZ_CHECK(st.text.ptr == rest && st.text.len == rest_len);
        }
        if (!(quirks & POP3_TOL_ANY_PLUS)) check_reencode(&st);
        check_code_name(&st);
    }

    /* An error must never pass for success. */
    if (len > 0 && line[0] == '-') FUZZ_CHECK(rc != POP3_OK || st.kind == POP3_STATUS_ERR);

    /* Without the two tolerances that widen acceptance, RFC 1939 decides exactly. */
    if (!(tol & (POP3_TOL_STATUS_CASE | POP3_TOL_ANY_PLUS))) {
        bool rfc_ok = !has_nul && rfc_indicator(line, len, "+OK");
        bool rfc_err = !has_nul && rfc_indicator(line, len, "-ERR");
        bool rfc_cont = !has_nul && expect == POP3_EXPECT_SASL && len >= 1 && line[0] == '+' &&
                        ((len >= 2 && line[1] == ' ') || (len == 1 && (tol & POP3_TOL_BARE_PLUS)));
        FUZZ_CHECK((rc == POP3_OK) == (rfc_ok || rfc_err || rfc_cont));
        if (rfc_ok) FUZZ_CHECK(st.kind == POP3_STATUS_OK);
        if (rfc_err) FUZZ_CHECK(st.kind == POP3_STATUS_ERR);
        if (rfc_cont) FUZZ_CHECK(st.kind == POP3_STATUS_CONTINUE);
        FUZZ_CHECK((quirks & POP3_SEEN_PLUS_ERR) ==
                   (plus_err && !has_nul ? POP3_SEEN_PLUS_ERR : 0u));
    }

    check_decoder(line, len, expect, tol, rc, &st, quirks, message);
    return 0;
}
