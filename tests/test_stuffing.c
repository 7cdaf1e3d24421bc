/*
 * test_stuffing.c - the byte-stuffing encoder and RFC 1939 section 11 sizes
 * (codec/src/stuffing.c).
 *
 * RFC 1939 section 3 (a "." before every line that starts with "."; the ".\r\n"
 * terminator; line starts after every LF, bare or not, quirk Q6), RFC 1939 section 11
 * (a bare LF counts as CRLF). Every row is encoded whole, split at every offset (and
 * every pair of offsets for short rows), one octet at a time, and into output buffers
 * down to one octet; every way must give the same bytes. Each input chunk and each
 * output buffer is a heap block of exactly its size, so AddressSanitizer catches any
 * read or write past it. The round trip through the response decoder (pop3/wire.h)
 * gives back the input as encode.h promises.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pop3/encode.h"
#include "pop3/error.h"
#include "pop3/wire.h"

/* ---- helpers ------------------------------------------------------------------------- */

typedef struct buf {
    char *p;
    size_t len;
    size_t cap;
} buf;

static void buf_add(buf *b, const char *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        cr_assert_not_null(b->p);
    }
    if (n > 0) memcpy(b->p + b->len, p, n);
    b->len += n;
}

/*
 * Encode `in` fed as chunks ending at `cuts` (ascending offsets inside the input), with
 * output buffers of `ocap` octets. Checks the per-call contract on the way: never more
 * than `ocap` produced, and stopping early only with a full buffer.
 */
static buf encode_split(bool crlf, const char *in, size_t len, const size_t *cuts, size_t ncuts,
                        size_t ocap, pop3_stuffer *state)
{
    buf out = {0};
    pop3_stuffer s;
    pop3_stuffer_init(&s, crlf);
    size_t start = 0;
    for (size_t k = 0; k <= ncuts; k++) {
        size_t end = k < ncuts ? cuts[k] : len;
        size_t n = end - start;
        char *chunk = malloc(n > 0 ? n : 1);
        cr_assert_not_null(chunk);
        if (n > 0) memcpy(chunk, in + start, n);
        size_t off = 0;
        while (off < n) {
            char *ob = malloc(ocap);
            cr_assert_not_null(ob);
            size_t consumed = SIZE_MAX, produced = SIZE_MAX;
            pop3_stuff(&s, chunk + off, n - off, ob, ocap, &consumed, &produced);
            cr_assert_leq(produced, ocap);
            cr_assert_leq(consumed, n - off);
            if (consumed < n - off) cr_assert_eq(produced, ocap, "stopped early with room left");
            cr_assert(produced > 0 || consumed > 0, "no progress");
            buf_add(&out, ob, produced);
            free(ob);
            off += consumed;
        }
        /* A zero-length feed is a no-op. */
        size_t consumed = 1, produced = 1;
        pop3_stuff(&s, chunk + n, 0, NULL, 0, &consumed, &produced);
        cr_assert(consumed == 0 && produced == 0);
        free(chunk);
        start = end;
    }
    /* finish either writes all of the end or nothing. */
    char *fb = malloc(ocap);
    size_t fin = pop3_stuffer_finish(&s, fb, ocap);
    if (fin == 0) {
        free(fb);
        fb = malloc(5);
        fin = pop3_stuffer_finish(&s, fb, 5);
    }
    cr_assert(fin == 3 || fin == 5);
    buf_add(&out, fb, fin);
    free(fb);
    if (state != NULL) *state = s;
    return out;
}

static buf encode_whole(bool crlf, const char *in, size_t len)
{
    return encode_split(crlf, in, len, NULL, 0, 2 * len + 8, NULL);
}

/* What a decoder must give back (encode.h): bare LF as CRLF with `crlf`, and "\r\n"
 * after a non-empty body that does not end with LF. */
static buf expected_body(bool crlf, const char *in, size_t len)
{
    buf b = {0};
    for (size_t i = 0; i < len; i++) {
        if (crlf && in[i] == '\n' && (i == 0 || in[i - 1] != '\r')) buf_add(&b, "\r", 1);
        buf_add(&b, in + i, 1);
    }
    if (len > 0 && in[len - 1] != '\n') buf_add(&b, "\r\n", 2);
    return b;
}

/* An independent un-stuffer: lines end at LF; the first line that is "." with an
 * optional CR ends the body; otherwise one leading "." is dropped. */
static bool reference_unstuff(const char *w, size_t n, buf *body)
{
    size_t i = 0;
    while (i < n) {
        const char *lf = memchr(w + i, '\n', n - i);
        if (lf == NULL) return false;
        size_t line_end = (size_t)(lf - w) + 1;
        size_t line_len = line_end - i;
        if (w[i] == '.' && (line_len == 2 || (line_len == 3 && w[i + 1] == '\r')))
            return line_end == n;
        size_t skip = w[i] == '.' ? 1 : 0;
        buf_add(body, w + i + skip, line_len - skip);
        i = line_end;
    }
    return false;
}

/* The real decoder, bare-LF tolerant, over "+OK\r\n" and the encoder's output. */
static bool decoder_unstuff(const char *w, size_t n, buf *body, unsigned *quirks)
{
    pop3_decoder_options opt;
    pop3_decoder_options_default(&opt);
    opt.tolerances = POP3_TOL_BARE_LF;
    pop3_decoder d;
    if (pop3_decoder_init(&d, &opt) != POP3_OK) return false;
    bool ok = pop3_decoder_expect(&d, POP3_EXPECT_MULTI) == POP3_OK;
    buf wire = {0};
    buf_add(&wire, "+OK\r\n", 5);
    buf_add(&wire, w, n);
    const char *p = wire.p;
    size_t left = wire.len;
    bool ended = false;
    while (ok && !ended) {
        pop3_event ev;
        size_t used = pop3_decode(&d, p, left, &ev);
        p += used;
        left -= used;
        switch (ev.kind) {
        case POP3_EV_STATUS: ok = ev.status.kind == POP3_STATUS_OK; break;
        case POP3_EV_DATA: buf_add(body, ev.data.ptr, ev.data.len); break;
        case POP3_EV_END:
            ended = true;
            *quirks = ev.quirks;
            break;
        case POP3_EV_NEED_MORE: ok = left > 0; break;
        default: ok = false; break;
        }
    }
    ok = ok && ended && left == 0 && pop3_decoder_idle(&d);
    pop3_decoder_free(&d);
    free(wire.p);
    return ok;
}

static bool same(const buf *a, const char *p, size_t n)
{
    return a->len == n && (n == 0 || memcmp(a->p, p, n) == 0);
}

/* ---- rows ---------------------------------------------------------------------------- */

#define ROW(what, crlf, in, out)                             \
    {                                                        \
        what, crlf, in, sizeof(in) - 1, out, sizeof(out) - 1 \
    }

static const struct {
    const char *what;
    bool crlf;
    const char *in;
    size_t in_len;
    const char *out;
    size_t out_len;
} rows[] = {
    ROW("empty body", false, "", ".\r\n"),
    ROW("empty body, crlf", true, "", ".\r\n"),
    ROW("one line", false, "a\r\n", "a\r\n.\r\n"),
    ROW("no final line end", false, "a", "a\r\n.\r\n"),
    ROW("lone dot line", false, ".\r\n", "..\r\n.\r\n"),
    ROW("lone dot, no line end", false, ".", "..\r\n.\r\n"),
    ROW("already-dotted line", false, "..x\r\n", "...x\r\n.\r\n"),
    ROW("dot line inside", false, "a\r\n.\r\nb\r\n", "a\r\n..\r\nb\r\n.\r\n"),
    ROW("dot-space", false, ". \r\n", ".. \r\n.\r\n"),
    ROW("dot not at a line start", false, "a.b\r\n .\r\n", "a.b\r\n .\r\n.\r\n"),
    ROW("terminator-like content", false, "x\r\n.\r\n.\r\n", "x\r\n..\r\n..\r\n.\r\n"),
    ROW("bare LF kept", false, "a\n.b\n", "a\n..b\n.\r\n"),
    ROW("bare LF to CRLF", true, "a\n.b\n", "a\r\n..b\r\n.\r\n"),
    ROW("CRLF stays CRLF", true, "a\r\nb\n", "a\r\nb\r\n.\r\n"),
    ROW("only LF", true, "\n", "\r\n.\r\n"),
    ROW("only LF, kept", false, "\n", "\n.\r\n"),
    ROW("LFs then dot", true, "\n\n.", "\r\n\r\n..\r\n.\r\n"),
    ROW("CR is not a line end", false, "a\r.b", "a\r.b\r\n.\r\n"),
    ROW("final CR", true, "a\r", "a\r\r\n.\r\n"),
    ROW("CR CR LF", true, "\r\r\n", "\r\r\n.\r\n"),
    ROW("CR then bare LF later", true, "\ra\n", "\ra\r\n.\r\n"),
    ROW("NUL and 8-bit", false, "\0.\n.\xff\r\n", "\0.\n..\xff\r\n.\r\n"),
    ROW("dots everywhere", true, "..\n..\r\n.", "...\r\n...\r\n..\r\n.\r\n"),
    ROW("headers and body", false, "Subject: x\r\n\r\n.hidden\r\nend\r\n",
        "Subject: x\r\n\r\n..hidden\r\nend\r\n.\r\n"),
};

static size_t nrows(void)
{
    return sizeof rows / sizeof rows[0];
}

Test(stuffing, whole)
{
    for (size_t r = 0; r < nrows(); r++) {
        pop3_stuffer s;
        buf out = encode_split(rows[r].crlf, rows[r].in, rows[r].in_len, NULL, 0,
                               2 * rows[r].in_len + 5, &s);
        cr_expect(same(&out, rows[r].out, rows[r].out_len), "%s: got %zu octets, want %zu",
                  rows[r].what, out.len, rows[r].out_len);
        cr_expect_eq(s.in_total, rows[r].in_len, "%s: in_total", rows[r].what);
        cr_expect_eq(s.out_total, rows[r].out_len, "%s: out_total", rows[r].what);
        free(out.p);
    }
}

Test(stuffing, every_split)
{
    for (size_t r = 0; r < nrows(); r++) {
        size_t len = rows[r].in_len;
        for (size_t a = 1; a < len; a++) {
            size_t cuts[1] = {a};
            buf out = encode_split(rows[r].crlf, rows[r].in, len, cuts, 1, 2 * len + 5, NULL);
            cr_expect(same(&out, rows[r].out, rows[r].out_len), "%s: split at %zu", rows[r].what,
                      a);
            free(out.p);
            for (size_t b = a + 1; b < len && len <= 16; b++) {
                size_t cuts2[2] = {a, b};
                buf out2 = encode_split(rows[r].crlf, rows[r].in, len, cuts2, 2, 2 * len + 5, NULL);
                cr_expect(same(&out2, rows[r].out, rows[r].out_len), "%s: split at %zu,%zu",
                          rows[r].what, a, b);
                free(out2.p);
            }
        }
    }
}

/* Output buffers from one octet up: an inserted "." or CR must not be lost or doubled
 * when the buffer fills right before or after it. */
Test(stuffing, every_output_capacity)
{
    for (size_t r = 0; r < nrows(); r++) {
        size_t len = rows[r].in_len;
        size_t octets[64];
        for (size_t i = 0; i + 1 < len && i < 64; i++)
            octets[i] = i + 1;
        size_t nocts = len > 0 ? len - 1 : 0;
        for (size_t ocap = 1; ocap <= 7; ocap++) {
            buf whole = encode_split(rows[r].crlf, rows[r].in, len, NULL, 0, ocap, NULL);
            cr_expect(same(&whole, rows[r].out, rows[r].out_len), "%s: cap %zu", rows[r].what,
                      ocap);
            free(whole.p);
            /* and one octet of input at a time */
            buf bytes = encode_split(rows[r].crlf, rows[r].in, len, octets, nocts, ocap, NULL);
            cr_expect(same(&bytes, rows[r].out, rows[r].out_len), "%s: bytewise, cap %zu",
                      rows[r].what, ocap);
            free(bytes.p);
        }
    }
}

/* encode.h: an output buffer of 2 * len + 1 octets always takes everything, whatever
 * state earlier chunks left behind. */
Test(stuffing, double_plus_one_takes_all)
{
    for (size_t r = 0; r < nrows(); r++) {
        for (size_t a = 0; a <= rows[r].in_len; a++) {
            pop3_stuffer s;
            pop3_stuffer_init(&s, rows[r].crlf);
            char out[256];
            size_t consumed = 0, produced = 0;
            pop3_stuff(&s, rows[r].in, a, out, 2 * a + 1, &consumed, &produced);
            cr_expect_eq(consumed, a, "%s: first %zu", rows[r].what, a);
            size_t rest = rows[r].in_len - a;
            pop3_stuff(&s, rows[r].in + a, rest, out + produced, 2 * rest + 1, &consumed,
                       &produced);
            cr_expect_eq(consumed, rest, "%s: rest after %zu", rows[r].what, a);
        }
    }
}

Test(stuffing, finish_needs_room)
{
    pop3_stuffer s;
    char out[8];
    /* Nothing consumed, or after an LF: 3 octets. */
    pop3_stuffer_init(&s, false);
    memset(out, 'Q', sizeof out);
    cr_expect_eq(pop3_stuffer_finish(&s, out, 2), 0);
    cr_expect_eq(out[0], 'Q', "written although too small");
    cr_expect_eq(s.out_total, 0);
    cr_expect_eq(pop3_stuffer_finish(&s, out, 3), 3);
    cr_expect(memcmp(out, ".\r\n", 3) == 0);
    cr_expect_eq(s.out_total, 3);
    /* An open line: 5 octets. */
    pop3_stuffer_init(&s, true);
    size_t c, p;
    pop3_stuff(&s, "x", 1, out, sizeof out, &c, &p);
    memset(out, 'Q', sizeof out);
    cr_expect_eq(pop3_stuffer_finish(&s, out, 4), 0);
    cr_expect_eq(out[0], 'Q', "written although too small");
    cr_expect_eq(pop3_stuffer_finish(&s, out, 5), 5);
    cr_expect(memcmp(out, "\r\n.\r\n", 5) == 0);
    cr_expect_eq(pop3_stuffer_finish(&s, NULL, 0), 0);
}

/* ---- random inputs: all chunkings agree, round trip through two decoders -------------- */

static uint32_t lcg(uint32_t *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return *seed >> 16;
}

Test(stuffing, random_round_trip)
{
    static const char alphabet[] = {'.', '\r', '\n', 'a', '\0', '\xff', '.', '\n'};
    uint32_t seed = 20260101u;
    for (int iter = 0; iter < 3000; iter++) {
        char in[24];
        size_t len = lcg(&seed) % (sizeof in + 1);
        for (size_t i = 0; i < len; i++)
            in[i] = alphabet[lcg(&seed) % sizeof alphabet];
        bool crlf = (iter & 1) != 0;

        buf whole = encode_whole(crlf, in, len);
        /* random chunking, random output capacity */
        size_t cuts[24];
        size_t ncuts = 0;
        for (size_t i = 1; i < len; i++)
            if (lcg(&seed) % 3 == 0) cuts[ncuts++] = i;
        size_t ocap = 1 + lcg(&seed) % 6;
        buf split = encode_split(crlf, in, len, cuts, ncuts, ocap, NULL);
        cr_assert(same(&split, whole.p, whole.len), "iter %d: chunking changed the output", iter);

        buf want = expected_body(crlf, in, len);
        buf ref = {0};
        cr_assert(reference_unstuff(whole.p, whole.len, &ref), "iter %d: no terminator", iter);
        cr_assert(same(&ref, want.p, want.len), "iter %d: reference round trip", iter);

        buf dec = {0};
        unsigned quirks = 0;
        cr_assert(decoder_unstuff(whole.p, whole.len, &dec, &quirks), "iter %d: decoder failed",
                  iter);
        cr_assert(same(&dec, want.p, want.len), "iter %d: decoder round trip", iter);
        cr_assert_eq(quirks & POP3_SEEN_DOT_NOT_STUFFED, 0, "iter %d: unstuffed dot", iter);

        /* RFC 1939 section 11: the size is that of the body with CRLF line ends. */
        buf crlf_body = expected_body(true, in, len);
        size_t body_len = crlf_body.len - (len > 0 && in[len - 1] != '\n' ? 2 : 0);
        bool saw_cr = false;
        uint64_t size = 0;
        size_t start = 0;
        for (size_t k = 0; k <= ncuts; k++) {
            size_t end = k < ncuts ? cuts[k] : len;
            size += pop3_wire_size(in + start, end - start, &saw_cr);
            start = end;
        }
        cr_assert_eq(size, body_len, "iter %d: wire size", iter);

        free(whole.p);
        free(split.p);
        free(want.p);
        free(ref.p);
        free(dec.p);
        free(crlf_body.p);
    }
}

Test(stuffing, rows_round_trip_through_decoder)
{
    for (size_t r = 0; r < nrows(); r++) {
        buf want = expected_body(rows[r].crlf, rows[r].in, rows[r].in_len);
        buf dec = {0};
        unsigned quirks = 0;
        cr_expect(decoder_unstuff(rows[r].out, rows[r].out_len, &dec, &quirks), "%s: decoder",
                  rows[r].what);
        cr_expect(same(&dec, want.p, want.len), "%s: round trip", rows[r].what);
        free(want.p);
        free(dec.p);
    }
}

/* ---- pop3_wire_size ------------------------------------------------------------------ */

static const struct {
    const char *in;
    size_t len;
    uint64_t size;
    bool saw_cr_after;
} size_rows[] = {
    {"", 0, 0, false},         {"a", 1, 1, false},      {"a\n", 2, 3, false},
    {"a\r\n", 3, 3, false},    {"\n\n", 2, 4, false},   {"\r", 1, 1, true},
    {"\r\r\n", 3, 3, false},   {"a\rb\n", 4, 5, false}, {"x\r", 2, 2, true},
    {"\n\r\n\n", 4, 6, false}, {"..\n", 3, 4, false},   {"\0\n", 2, 3, false},
};

Test(wire_size, rows_and_carry)
{
    for (size_t r = 0; r < sizeof size_rows / sizeof size_rows[0]; r++) {
        bool saw_cr = false;
        cr_expect_eq(pop3_wire_size(size_rows[r].in, size_rows[r].len, &saw_cr), size_rows[r].size,
                     "row %zu", r);
        cr_expect_eq(saw_cr, size_rows[r].saw_cr_after, "row %zu saw_cr", r);
        /* split at every offset: the two parts add up */
        for (size_t a = 0; a <= size_rows[r].len; a++) {
            saw_cr = false;
            uint64_t s = pop3_wire_size(size_rows[r].in, a, &saw_cr);
            s += pop3_wire_size(size_rows[r].in + a, size_rows[r].len - a, &saw_cr);
            cr_expect_eq(s, size_rows[r].size, "row %zu split %zu", r, a);
        }
    }
    /* A CR at the end of one chunk makes the LF that starts the next one a CRLF. */
    bool saw_cr = false;
    cr_expect_eq(pop3_wire_size("a\r", 2, &saw_cr), 2);
    cr_expect_eq(pop3_wire_size("\n", 1, &saw_cr), 1);
    saw_cr = false;
    cr_expect_eq(pop3_wire_size("a", 1, &saw_cr), 1);
    cr_expect_eq(pop3_wire_size("\n", 1, &saw_cr), 2);
    /* An empty chunk keeps the carry. */
    saw_cr = true;
    cr_expect_eq(pop3_wire_size("", 0, &saw_cr), 0);
    cr_expect(saw_cr);
    cr_expect_eq(pop3_wire_size("\n", 1, NULL), 2);
}
