/*
 * test_roundtrip.c - the dot-stuffing encoder and the decoder are inverses (RFC 1939
 * section 3): any byte string, stuffed in any chunking into any output capacity, then
 * decoded in any chunking, comes back as it was (plus the CRLF the encoder must add to a
 * last line without one; bare LF becomes CRLF when the encoder normalises line ends).
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "pop3/encode.h"
#include "pop3/error.h"
#include "pop3/wire.h"

typedef struct buf {
    char *p;
    size_t len, cap;
} buf;

static void append(buf *b, const char *p, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 16;
        b->p = realloc(b->p, b->cap);
        cr_assert_not_null(b->p);
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

static unsigned long long rng_state = 0x9E3779B97F4A7C15ull;
static unsigned rnd(unsigned n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (unsigned)(rng_state % n);
}

/* Stuff `in` with random input chunks and a random output capacity (1..8). */
static void stuff(const char *in, size_t len, bool crlf, buf *wire)
{
    pop3_stuffer s;
    pop3_stuffer_init(&s, crlf);
    append(wire, "+OK\r\n", 5);
    size_t off = 0;
    while (off < len) {
        size_t n = 1 + rnd(7);
        if (n > len - off) n = len - off;
        size_t used_total = 0;
        while (used_total < n) {
            char out[8];
            size_t cap = 1 + rnd(8), used, made;
            pop3_stuff(&s, in + off + used_total, n - used_total, out, cap, &used, &made);
            cr_assert(made <= cap);
            append(wire, out, made);
            used_total += used;
        }
        off += n;
    }
    char tail[5];
    cr_assert_eq(pop3_stuffer_finish(&s, tail, 4 - 2), 0, "finish must refuse a short buffer");
    size_t t = pop3_stuffer_finish(&s, tail, sizeof tail);
    cr_assert(t == 3 || t == 5);
    append(wire, tail, t);
    cr_assert_eq(s.out_total + 5, wire->len);
}

/* Decode `wire` with random chunk sizes; returns the body. */
static void decode(const char *wire, size_t len, buf *body)
{
    pop3_decoder d;
    cr_assert_eq(pop3_decoder_init(&d, NULL), POP3_OK);
    pop3_decoder_expect(&d, POP3_EXPECT_MULTI);
    size_t off = 0;
    int ended = 0;
    while (off < len && !ended) {
        size_t n = 1 + rnd(9);
        if (n > len - off) n = len - off;
        size_t used_total = 0;
        while (used_total < n && !ended) {
            pop3_event ev;
            used_total += pop3_decode(&d, wire + off + used_total, n - used_total, &ev);
            if (ev.kind == POP3_EV_DATA) append(body, ev.data.ptr, ev.data.len);
            if (ev.kind == POP3_EV_END) ended = 1;
            cr_assert_neq(ev.kind, POP3_EV_ERROR, "%s", ev.message);
            if (ev.kind == POP3_EV_NEED_MORE) break;
        }
        off += used_total;
    }
    cr_assert(ended, "no end of body");
    cr_assert_eq(off, len, "octets left after the terminator");
    pop3_decoder_free(&d);
}

static void expected(const char *in, size_t len, bool crlf, buf *want)
{
    for (size_t i = 0; i < len; i++) {
        if (crlf && in[i] == '\n' && !(i > 0 && in[i - 1] == '\r')) append(want, "\r", 1);
        append(want, in + i, 1);
    }
    if (len > 0 && in[len - 1] != '\n') append(want, "\r\n", 2);
}

static void check(const char *in, size_t len, bool crlf)
{
    buf wire = {0}, body = {0}, want = {0};
    stuff(in, len, crlf, &wire);
    decode(wire.p, wire.len, &body);
    expected(in, len, crlf, &want);
    cr_assert_eq(body.len, want.len, "length %zu vs %zu", body.len, want.len);
    if (want.len) cr_assert_eq(memcmp(body.p, want.p, want.len), 0);
    free(wire.p);
    free(body.p);
    free(want.p);
}

Test(roundtrip, fixed_cases)
{
    static const char *cases[] = {"",        ".",      "..",          ".\r\n",     "\r\n.\r\n",
                                  "a\n.\n",  ".\r",    "\n",          "..\r\n..x", "a\r\n.\rb",
                                  "x\0.\n.", "\r\r\n", ".\n.\n.\r\n", "a.\r\n"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len = strlen(cases[i]);
        if (i == 10) len = 5; /* the case with a NUL */
        check(cases[i], len, false);
        check(cases[i], len, true);
    }
}

Test(roundtrip, random_strings)
{
    static const char alphabet[] = {'.', '.', '\r', '\n', '\n', 'a', ' ', '\0', (char)0xff};
    char in[64];
    for (int round = 0; round < 20000; round++) {
        size_t len = rnd(sizeof in);
        for (size_t i = 0; i < len; i++)
            in[i] = rnd(4) == 0 ? (char)rnd(256) : alphabet[rnd(sizeof alphabet)];
        check(in, len, round % 2 == 0);
    }
}

Test(roundtrip, wire_size_counts_crlf)
{
    bool cr = false;
    cr_assert_eq(pop3_wire_size("a\nb\r\n", 5, &cr), 6);
    /* A CR at the end of one chunk and the LF at the start of the next are one CRLF. */
    cr = false;
    uint64_t n = pop3_wire_size("a\r", 2, &cr) + pop3_wire_size("\nb\n", 3, &cr);
    cr_assert_eq(n, 6);
}
