/*
 * test_linescan.c - the body scans of codec/src/linescan.c (RFC 1939 section 3 line
 * ends and dot lines): the decoder's search for the LFs it must stop at and the CRLF to
 * LF conversion, in both builds of the file (16 octets at a time with SSE2, and the
 * memchr fallback, compiled here side by side under other names), against plain
 * octet-by-octet models, on random bodies rich in CR, LF and "." and at every length
 * around the 16- and 32-octet blocks. Then the decoder on such bodies, whole and split,
 * against a model of RFC 1939 unstuffing.
 */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chunking.h"
#include "pop3/encode.h"
#include "pop3/error.h"
#include "pop3/wire.h"

/* The file twice, each copy under names of its own. */
size_t fast_body_stop(const char *in, size_t len, size_t from, bool cr_before, bool bare_stops);
size_t fast_crlf_to_lf(char *out, const char *in, size_t len, bool *held_cr);
size_t plain_body_stop(const char *in, size_t len, size_t from, bool cr_before, bool bare_stops);
size_t plain_crlf_to_lf(char *out, const char *in, size_t len, bool *held_cr);
size_t fast_bare_lfs(const char *in, size_t len, bool cr_before);
size_t plain_bare_lfs(const char *in, size_t len, bool cr_before);

#define linescan_body_stop fast_body_stop
#define linescan_bare_lfs  fast_bare_lfs
#define pop3_crlf_to_lf    fast_crlf_to_lf
#define stop_here          fast_stop_here
#define crlf_tail          fast_crlf_tail
#include "../codec/src/linescan.c"
#undef linescan_body_stop
#undef linescan_bare_lfs
#undef pop3_crlf_to_lf
#undef stop_here
#undef crlf_tail
#undef LINESCAN_SSE2

#define POP3_LINESCAN_SCALAR
#define linescan_body_stop plain_body_stop
#define linescan_bare_lfs  plain_bare_lfs
#define pop3_crlf_to_lf    plain_crlf_to_lf
#define stop_here          plain_stop_here
#define crlf_tail          plain_crlf_tail
#include "../codec/src/linescan.c"
#undef linescan_body_stop
#undef linescan_bare_lfs
#undef pop3_crlf_to_lf
#undef stop_here
#undef crlf_tail

static uint64_t rng = 0x9E3779B97F4A7C15u;

static uint32_t next_random(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 32);
}

/* A body where CR, LF and "." are common, so that blocks hold none, one or many. */
static void random_body(char *p, size_t n)
{
    static const char alphabet[] = "\r\n.ab\r\n.\n";
    unsigned dense = next_random() % 4; /* 0: mostly letters, 3: mostly line ends */
    for (size_t i = 0; i < n; i++) {
        if (next_random() % 8 <= dense)
            p[i] = alphabet[next_random() % (sizeof alphabet - 1)];
        else
            p[i] = (char)('a' + next_random() % 26);
    }
}

static size_t model_body_stop(const char *in, size_t len, size_t from, bool cr_before,
                              bool bare_stops)
{
    for (size_t q = from; q < len; q++) {
        if (in[q] != '\n') continue;
        bool cr = q > 0 ? in[q - 1] == '\r' : cr_before;
        if ((bare_stops && !cr) || (q + 1 < len && in[q + 1] == '.')) return q;
    }
    return len;
}

/* Each input in a heap block of exactly its size, so that ASan sees a read past it. */
static char *exact_copy(const char *p, size_t n)
{
    char *c = malloc(n ? n : 1);
    cr_assert_not_null(c);
    memcpy(c, p, n);
    return c;
}

Test(linescan, body_stop_matches_model)
{
    char body[300];
    for (int round = 0; round < 40000; round++) {
        size_t len = next_random() % 200;
        random_body(body, len);
        size_t from = len ? next_random() % (len + 1) : 0;
        bool cr_before = next_random() & 1, bare_stops = next_random() % 4 != 0;
        char *in = exact_copy(body, len);
        size_t want = model_body_stop(in, len, from, cr_before, bare_stops);
        cr_assert_eq(fast_body_stop(in, len, from, cr_before, bare_stops), want, "len %zu from %zu",
                     len, from);
        cr_assert_eq(plain_body_stop(in, len, from, cr_before, bare_stops), want,
                     "len %zu from %zu", len, from);
        free(in);
    }
}

Test(linescan, body_stop_finds_every_kind_at_every_offset)
{
    /* Ordinary CRLF lines with one notable LF planted at each offset of 0..70. */
    char body[80];
    for (size_t at = 0; at < 70; at++) {
        for (int kind = 0; kind < 3; kind++) {
            for (size_t i = 0; i < sizeof body; i++)
                body[i] = i % 10 == 9 ? '\n' : i % 10 == 8 ? '\r' : 'x';
            size_t want = sizeof body;
            if (kind == 0) {                              /* a bare LF */
                if (at == 0 || body[at] != 'x') continue; /* index 0 follows a CR */
                body[at] = '\n';
                want = at;
            } else if (kind == 1) { /* a dot after an ordinary line end */
                size_t lf = at / 10 * 10 + 9;
                if (lf + 1 >= sizeof body) continue;
                body[lf + 1] = '.';
                want = lf;
            } else { /* nothing planted */
                want = sizeof body;
            }
            char *in = exact_copy(body, sizeof body);
            for (size_t from = 0; from <= want && from < sizeof body; from++) {
                size_t model = model_body_stop(in, sizeof body, from, true, true);
                cr_assert_eq(fast_body_stop(in, sizeof body, from, true, true), model);
                cr_assert_eq(plain_body_stop(in, sizeof body, from, true, true), model);
            }
            cr_assert_eq(model_body_stop(in, sizeof body, 0, true, true), want, "at %zu kind %d",
                         at, kind);
            free(in);
        }
    }
}

Test(linescan, bare_lfs_match_model_and_size)
{
    char body[300];
    for (int round = 0; round < 40000; round++) {
        size_t len = next_random() % 200;
        random_body(body, len);
        bool cr_before = next_random() & 1;
        size_t want = 0;
        for (size_t q = 0; q < len; q++)
            if (body[q] == '\n' && !(q > 0 ? body[q - 1] == '\r' : cr_before)) want++;
        char *in = exact_copy(body, len);
        cr_assert_eq(fast_bare_lfs(in, len, cr_before), want, "len %zu", len);
        cr_assert_eq(plain_bare_lfs(in, len, cr_before), want, "len %zu", len);
        /* pop3_wire_size is the octets plus one CR per bare LF, and carries the CR. */
        bool saw_cr = cr_before;
        cr_assert_eq(pop3_wire_size(in, len, &saw_cr), len + want);
        cr_assert_eq(saw_cr, len ? body[len - 1] == '\r' : cr_before);
        free(in);
    }
}

/* The whole body converted at once by a model: every CRLF becomes LF. */
static size_t model_crlf_to_lf(char *out, const char *in, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (in[i] == '\r' && i + 1 < len && in[i + 1] == '\n') continue;
        out[o++] = in[i];
    }
    return o;
}

typedef size_t (*convert_fn)(char *, const char *, size_t, bool *);

/* Convert `body` given in random chunks; a CR held at the end is written as itself. */
static size_t convert_chunked(convert_fn fn, char *out, const char *body, size_t len)
{
    bool held = false;
    size_t o = 0, i = 0;
    while (i < len || i == 0) {
        size_t n = len - i;
        if (n > 1 && next_random() % 3) n = 1 + next_random() % n;
        char *in = exact_copy(body + i, n);
        /* Exactly n + 1 octets of room, as the contract asks, plus a guard. */
        char *room = malloc(n + 1 + 16);
        cr_assert_not_null(room);
        memset(room, 0x5A, n + 1 + 16);
        size_t w = fn(room, in, n, &held);
        cr_assert_leq(w, n + 1);
        for (size_t g = n + 1; g < n + 1 + 16; g++)
            cr_assert_eq(room[g], 0x5A, "wrote past len + 1");
        memcpy(out + o, room, w);
        o += w;
        free(room);
        free(in);
        i += n;
        if (len == 0) break;
    }
    if (held) out[o++] = '\r';
    return o;
}

Test(linescan, crlf_to_lf_matches_model_in_any_chunking)
{
    static char body[400], want[400], got[420];
    convert_fn fns[] = {fast_crlf_to_lf, plain_crlf_to_lf, pop3_crlf_to_lf};
    for (int round = 0; round < 20000; round++) {
        size_t len = next_random() % 300;
        random_body(body, len);
        size_t wn = model_crlf_to_lf(want, body, len);
        for (size_t f = 0; f < sizeof fns / sizeof fns[0]; f++) {
            size_t gn = convert_chunked(fns[f], got, body, len);
            cr_assert_eq(gn, wn, "function %zu, len %zu", f, len);
            cr_assert(memcmp(got, want, wn) == 0, "function %zu, len %zu", f, len);
        }
    }
}

Test(linescan, crlf_to_lf_held_cr)
{
    char out[8];
    bool held = false;
    cr_assert_eq(pop3_crlf_to_lf(out, "a\r", 2, &held), 1);
    cr_assert(held);
    cr_assert_eq(pop3_crlf_to_lf(out, "", 0, &held), 0);
    cr_assert(held, "an empty chunk keeps the CR held");
    cr_assert_eq(pop3_crlf_to_lf(out, "\nb", 2, &held), 2);
    cr_assert(memcmp(out, "\nb", 2) == 0 && !held);
    cr_assert_eq(pop3_crlf_to_lf(out, "\r", 1, &held), 0);
    cr_assert_eq(pop3_crlf_to_lf(out, "x\r\r\n", 4, &held), 4);
    cr_assert(memcmp(out, "\rx\r\n", 4) == 0 && !held, "a held CR before x is kept");
}

/* RFC 1939 section 3 on a body in the clear: each line starting with "." loses it. */
static size_t model_unstuff(char *out, const char *wire, size_t len)
{
    size_t o = 0;
    bool bol = true;
    for (size_t i = 0; i < len; i++) {
        if (bol && wire[i] == '.') {
            bol = false;
            continue;
        }
        out[o++] = wire[i];
        bol = wire[i] == '\n';
    }
    return o;
}

Test(linescan, decoder_unstuffs_random_bodies_in_any_chunking)
{
    static char body[600], wire[1400], want[1400];
    pop3_expect expect = POP3_EXPECT_MULTI;
    for (int round = 0; round < 3000; round++) {
        /* A body of CRLF lines, some starting with ".." (stuffed), some long. */
        size_t n = 0, target = next_random() % 500;
        while (n < target) {
            if (next_random() % 3 == 0) body[n++] = '.';
            size_t run = next_random() % 40;
            for (size_t k = 0; k < run && n < target; k++)
                body[n++] = (char)('a' + next_random() % 26);
            if (n + 2 > sizeof body) break;
            body[n++] = '\r';
            body[n++] = '\n';
        }
        size_t w = 0;
        memcpy(wire, "+OK\r\n", 5);
        w = 5;
        bool bol = true;
        for (size_t i = 0; i < n; i++) {
            if (bol && body[i] == '.') wire[w++] = '.';
            wire[w++] = body[i];
            bol = body[i] == '\n';
        }
        if (!bol) {
            wire[w++] = '\r';
            wire[w++] = '\n';
        }
        memcpy(wire + w, ".\r\n", 3);
        w += 3;
        size_t wn = model_unstuff(want, wire + 5, w - 5 - 3);

        char *whole = pop3t_whole(wire, w, &expect, 1, NULL);
        size_t cuts[6], ncuts = 1 + next_random() % 5;
        for (size_t c = 0; c < ncuts; c++)
            cuts[c] = 1 + next_random() % (w - 1);
        for (size_t a = 1; a < ncuts; a++) /* ascending, as the helper asks */
            for (size_t b = a; b > 0 && cuts[b - 1] > cuts[b]; b--) {
                size_t t = cuts[b];
                cuts[b] = cuts[b - 1];
                cuts[b - 1] = t;
            }
        size_t kept = 1; /* and each once */
        for (size_t c = 1; c < ncuts; c++)
            if (cuts[c] != cuts[kept - 1]) cuts[kept++] = cuts[c];
        ncuts = kept;
        char *split = pop3t_transcript(wire, w, &expect, 1, NULL, cuts, ncuts);
        cr_assert_str_eq(split, whole);

        /* The body the decoder hands out is the model's. */
        pop3_decoder d;
        cr_assert_eq(pop3_decoder_init(&d, NULL), POP3_OK);
        cr_assert_eq(pop3_decoder_expect(&d, POP3_EXPECT_MULTI), POP3_OK);
        static char got[1400];
        size_t gn = 0, at = 0;
        bool ended = false;
        while (at < w && !ended) {
            pop3_event ev;
            at += pop3_decode(&d, wire + at, w - at, &ev);
            if (ev.kind == POP3_EV_DATA) {
                memcpy(got + gn, ev.data.ptr, ev.data.len);
                gn += ev.data.len;
            }
            cr_assert_neq(ev.kind, POP3_EV_ERROR, "%s", ev.message);
            ended = ev.kind == POP3_EV_END;
        }
        cr_assert(ended);
        cr_assert_eq(gn, wn);
        cr_assert(memcmp(got, want, wn) == 0);
        pop3_decoder_free(&d);
        free(whole);
        free(split);
    }
}
