/*
 * fuzz_stuffing.c - dot-stuffing, then decoding, gives any byte string back.
 *
 * Exercises pop3_stuffer_init, pop3_stuff, pop3_stuffer_finish and pop3_wire_size (the
 * server side of RFC 1939 section 3: byte-stuffing and the terminating ".", section 11:
 * sizes count CRLF as two octets) against the decoder of pop3/wire.h (the client side).
 *
 * Input: byte 0 bit 0: the stuffer turns bare LF into CRLF; bytes 1-3: input chunk
 * sizes (1 + byte); bytes 4-6: output capacities (1 + byte); bytes 7-9: chunk sizes for
 * the decoder (1 + byte); the rest is the message body, any octets.
 *
 * Oracles:
 *  - the wire bytes equal those of a one-line-at-a-time reference stuffer written from
 *    RFC 1939 section 3, whatever the input chunking and the output capacity (whole with
 *    2 * len + 1 octets of room, the chunk plans above, one octet in and out at a time);
 *  - no call writes beyond its capacity or consumes beyond its input, every call makes
 *    progress, the running totals match, pop3_stuffer_finish refuses a short buffer
 *    without writing;
 *  - decoding the wire gives the body back as the round-trip note of pop3/encode.h
 *    says: the input, bare LF as CRLF when asked, plus CRLF when the last line had no
 *    line end; the terminator is the last thing on the wire; strict decoding succeeds
 *    whenever no bare LF reaches the wire;
 *  - pop3_wire_size counts each bare LF as two octets, in any chunking.
 */
#include "fuzz_common.h"

#include "pop3/encode.h"
#include "pop3/error.h"
#include "pop3/wire.h"

#define NPLAN   3
#define MAX_CAP 256

typedef struct plan {
    size_t in[NPLAN], cap[NPLAN], dec[NPLAN];
} plan;

/* RFC 1939 section 3, one octet at a time, no streaming concerns. */
static void reference_stuff(const char *in, size_t len, bool crlf, fuzz_buf *wire)
{
    bool line_start = true, prev_cr = false;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (line_start && c == '.') fuzz_put_byte(wire, '.');
        if (c == '\n' && crlf && !prev_cr) fuzz_put_byte(wire, '\r');
        fuzz_put_byte(wire, (uint8_t)c);
        line_start = c == '\n';
        prev_cr = c == '\r';
    }
    if (len > 0 && in[len - 1] != '\n') fuzz_put(wire, "\r\n", 2);
    fuzz_put(wire, ".\r\n", 3);
}

/* What the decoder must give back (pop3/encode.h, round-trip note). */
static void expected_body(const char *in, size_t len, bool crlf, fuzz_buf *body)
{
    for (size_t i = 0; i < len; i++) {
        if (crlf && in[i] == '\n' && !(i > 0 && in[i - 1] == '\r')) fuzz_put_byte(body, '\r');
        fuzz_put_byte(body, (uint8_t)in[i]);
    }
    if (len > 0 && in[len - 1] != '\n') fuzz_put(body, "\r\n", 2);
}

static void finish(pop3_stuffer *s, fuzz_buf *wire)
{
    /* Too small for any ending: refused, nothing written. */
    char *small = fuzz_xmalloc(2);
    small[0] = small[1] = 'x';
    FUZZ_CHECK(pop3_stuffer_finish(s, small, 2) == 0);
    FUZZ_CHECK(small[0] == 'x' && small[1] == 'x');
    free(small);

    char *tail = fuzz_xmalloc(5);
    uint64_t before = s->out_total;
    size_t n = pop3_stuffer_finish(s, tail, 5);
    FUZZ_CHECK(n == 3 || n == 5);
    FUZZ_CHECK(s->out_total == before + n);
    fuzz_put(wire, tail, n);
    free(tail);
}

/* Stuff `in` in input chunks `ins` with output capacities `caps` (both cycled). */
static void stuff(const char *in, size_t len, bool crlf, const size_t *ins, size_t nins,
                  const size_t *caps, size_t ncaps, fuzz_buf *wire)
{
    pop3_stuffer s;
    pop3_stuffer_init(&s, crlf);
    char *in_block = fuzz_xmalloc(len);
    char *out_block = fuzz_xmalloc(MAX_CAP);
    size_t off = 0, k = 0, c = 0;
    while (off < len) {
        size_t n = ins[k++ % nins];
        if (n > len - off) n = len - off;
        /* Blocks end where the chunk and the room end: ASan sees any overrun. */
        char *chunk = in_block + len - n;
        memcpy(chunk, in + off, n);
        size_t done = 0;
        while (done < n) {
            size_t cap = caps[c++ % ncaps];
            char *out = out_block + MAX_CAP - cap;
            size_t consumed = 0, produced = 0;
            pop3_stuff(&s, chunk + done, n - done, out, cap, &consumed, &produced);
            FUZZ_CHECK(consumed <= n - done && produced <= cap);
            FUZZ_CHECK(produced > 0);
            /* An inserted octet consumes nothing, and never two in a row. */
            FUZZ_CHECK(produced <= 2 * consumed + 1);
            fuzz_put(wire, out, produced);
            done += consumed;
        }
        off += n;
    }
    FUZZ_CHECK(s.in_total == len);
    FUZZ_CHECK(s.out_total == wire->len);
    finish(&s, wire);
    FUZZ_CHECK(s.out_total == wire->len);
    free(in_block);
    free(out_block);
}

/* One call with room for everything must take everything. */
static void stuff_whole(const char *in, size_t len, bool crlf, fuzz_buf *wire)
{
    pop3_stuffer s;
    pop3_stuffer_init(&s, crlf);
    size_t cap = 2 * len + 1;
    char *out = fuzz_xmalloc(cap);
    size_t consumed = 0, produced = 0;
    pop3_stuff(&s, in, len, out, cap, &consumed, &produced);
    FUZZ_CHECK(consumed == len && produced <= cap);
    fuzz_put(wire, out, produced);
    finish(&s, wire);
    free(out);
}

/* Decode "+OK\r\n" + wire in chunks `sizes`; the body must end exactly at the end. */
static void decode(const fuzz_buf *wire, unsigned tolerances, const size_t *sizes, size_t n,
                   fuzz_buf *body, unsigned *end_quirks)
{
    fuzz_buf all = {0};
    fuzz_put(&all, "+OK\r\n", 5);
    fuzz_put(&all, wire->p, wire->len);
    char *block = fuzz_xmalloc(all.len);

    pop3_decoder_options opt;
    pop3_decoder_options_default(&opt);
    opt.tolerances = tolerances;
    pop3_decoder d;
    FUZZ_CHECK(pop3_decoder_init(&d, &opt) == POP3_OK);
    FUZZ_CHECK(pop3_decoder_expect(&d, POP3_EXPECT_MULTI) == POP3_OK);
    bool ended = false, status = false;
    size_t off = 0, k = 0;
    while (off < all.len) {
        size_t len = sizes[k++ % n];
        if (len > all.len - off) len = all.len - off;
        char *chunk = block + all.len - len;
        memcpy(chunk, all.p + off, len);
        size_t pos = 0;
        while (pos < len) {
            FUZZ_CHECK(!ended); /* nothing may follow the terminator */
            pop3_event ev;
            size_t used = pop3_decode(&d, chunk + pos, len - pos, &ev);
            FUZZ_CHECK(used <= len - pos);
            pos += used;
            switch (ev.kind) {
            case POP3_EV_NEED_MORE: FUZZ_CHECK(pos == len); break;
            case POP3_EV_STATUS:
                FUZZ_CHECK(!status && ev.status.kind == POP3_STATUS_OK);
                status = true;
                break;
            case POP3_EV_DATA: fuzz_put(body, ev.data.ptr, ev.data.len); break;
            case POP3_EV_END:
                ended = true;
                *end_quirks = ev.quirks;
                break;
            default: FUZZ_UNREACHABLE("stuffed body did not decode"); break;
            }
        }
        off += len;
    }
    FUZZ_CHECK(ended && pop3_decoder_idle(&d));
    pop3_decoder_free(&d);
    free(block);
    fuzz_buf_free(&all);
}

static void check_wire_size(const char *in, size_t len, const size_t *sizes, size_t n)
{
    uint64_t bare = 0;
    for (size_t i = 0; i < len; i++)
        if (in[i] == '\n' && !(i > 0 && in[i - 1] == '\r')) bare++;
    bool cr = false;
    FUZZ_CHECK(pop3_wire_size(in, len, &cr) == len + bare);
    FUZZ_CHECK(cr == (len > 0 && in[len - 1] == '\r'));
    FUZZ_CHECK(pop3_wire_size(in, len, NULL) == len + bare);

    uint64_t total = 0;
    cr = false;
    size_t off = 0, k = 0;
    while (off < len) {
        size_t m = sizes[k++ % n];
        if (m > len - off) m = len - off;
        total += pop3_wire_size(in + off, m, &cr);
        off += m;
    }
    FUZZ_CHECK(total == len + bare);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    bool crlf = (fuzz_byte(&in) & 1) != 0;
    plan p;
    for (size_t i = 0; i < NPLAN; i++)
        p.in[i] = 1u + fuzz_byte(&in);
    for (size_t i = 0; i < NPLAN; i++)
        p.cap[i] = 1u + fuzz_byte(&in);
    for (size_t i = 0; i < NPLAN; i++)
        p.dec[i] = 1u + fuzz_byte(&in);
    const char *body = (const char *)in.p;
    size_t len = in.len;

    fuzz_buf ref = {0}, whole = {0}, chunked = {0}, bytes = {0};
    reference_stuff(body, len, crlf, &ref);
    stuff_whole(body, len, crlf, &whole);
    stuff(body, len, crlf, p.in, NPLAN, p.cap, NPLAN, &chunked);
    static const size_t one = 1;
    stuff(body, len, crlf, &one, 1, &one, 1, &bytes);
    FUZZ_CHECK(fuzz_buf_eq(&ref, &whole));
    FUZZ_CHECK(fuzz_buf_eq(&ref, &chunked));
    FUZZ_CHECK(fuzz_buf_eq(&ref, &bytes));

    fuzz_buf want = {0}, got = {0};
    expected_body(body, len, crlf, &want);
    unsigned quirks = 0;
    decode(&ref, POP3_TOL_DEFAULT, p.dec, NPLAN, &got, &quirks);
    FUZZ_CHECK(fuzz_buf_eq(&want, &got));
    FUZZ_CHECK((quirks & POP3_SEEN_DOT_NOT_STUFFED) == 0);

    /* Every line end on the wire is CRLF unless a bare LF was passed through. */
    bool bare_on_wire = false;
    for (size_t i = 0; i < ref.len; i++)
        if (ref.p[i] == '\n' && !(i > 0 && ref.p[i - 1] == '\r')) bare_on_wire = true;
    FUZZ_CHECK(!crlf || !bare_on_wire);
    FUZZ_CHECK(((quirks & POP3_TOL_BARE_LF) != 0) == bare_on_wire);
    if (!bare_on_wire) {
        got.len = 0;
        decode(&ref, POP3_TOL_STRICT, &one, 1, &got, &quirks);
        FUZZ_CHECK(fuzz_buf_eq(&want, &got));
        FUZZ_CHECK(quirks == 0);
    }

    check_wire_size(body, len, p.in, NPLAN);
    if (crlf) {
        /* The size a server reports is the body as decoded, before the added CRLF. */
        size_t added = len > 0 && body[len - 1] != '\n' ? 2 : 0;
        FUZZ_CHECK(pop3_wire_size(body, len, NULL) == want.len - added);
    }

    fuzz_buf_free(&ref);
    fuzz_buf_free(&whole);
    fuzz_buf_free(&chunked);
    fuzz_buf_free(&bytes);
    fuzz_buf_free(&want);
    fuzz_buf_free(&got);
    return 0;
}
