/*
 * bench_codec.c - throughput of the multi-line decoder (RFC 1939 section 3 framing and
 * byte-stuffing) against the practical ceiling: a plain memchr line scan of the same
 * buffer, in the same run.
 *
 * The body is N MiB (256 by default) of 76-octet lines (74 octets and CRLF), 3% of them
 * starting with "." and therefore stuffed on the wire, fed to the decoder in 64 KiB
 * chunks as a socket would deliver them. Prints MB/s for both and their ratio; the
 * target is a ratio of at least 0.5. Then the conversion of the same octets to LF line
 * ends (pop3_crlf_to_lf, what `pop3 fetch` does before writing a Maildir file) against
 * a memcpy of them in the same chunks, the least a copying conversion can cost.
 * Usage: bench_codec [MiB] [rounds]
 */
#define _POSIX_C_SOURCE 200809L
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pop3/error.h"
#include "pop3/parse.h"
#include "pop3/wire.h"

#define CHUNK (64u * 1024u)
#define LINE  76u

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* "+OK\r\n", the stuffed body, ".\r\n". Returns the wire length; *body gets the
 * un-stuffed body length the decoder must deliver. */
static size_t build(char *buf, size_t target, size_t *body)
{
    size_t n = 0, out = 0;
    unsigned seed = 12345;
    memcpy(buf, "+OK\r\n", 5);
    n = 5;
    while (out + LINE <= target) {
        seed = seed * 1103515245u + 12345u;
        int dotted = (seed >> 16) % 100 < 3;
        if (dotted) buf[n++] = '.'; /* the stuffing octet */
        for (unsigned i = 0; i < LINE - 2; i++)
            buf[n + i] = (char)('a' + (i + out) % 26);
        if (dotted) buf[n] = '.';
        buf[n + LINE - 2] = '\r';
        buf[n + LINE - 1] = '\n';
        n += LINE;
        out += LINE;
    }
    memcpy(buf + n, ".\r\n", 3);
    *body = out;
    return n + 3;
}

static size_t decode_all(const char *buf, size_t len, size_t *delivered)
{
    pop3_decoder d;
    if (pop3_decoder_init(&d, NULL) != POP3_OK) exit(1);
    pop3_decoder_expect(&d, POP3_EXPECT_MULTI);
    size_t total = 0, events = 0;
    int ended = 0;
    for (size_t off = 0; off < len && !ended;) {
        size_t step = len - off < CHUNK ? len - off : CHUNK;
        const char *p = buf + off;
        size_t left = step;
        while (left > 0) {
            pop3_event ev;
            size_t used = pop3_decode(&d, p, left, &ev);
            p += used;
            left -= used;
            events++;
            if (ev.kind == POP3_EV_DATA) total += ev.data.len;
            if (ev.kind == POP3_EV_END) {
                ended = 1;
                break;
            }
            if (ev.kind == POP3_EV_ERROR) {
                fprintf(stderr, "decode error: %s\n", ev.message);
                exit(1);
            }
        }
        off += step;
    }
    pop3_decoder_free(&d);
    *delivered = total;
    return ended ? events : 0;
}

/* The ceiling: find every line end with memchr, also in 64 KiB chunks. */
static size_t memchr_lines(const char *buf, size_t len)
{
    size_t lines = 0;
    for (size_t off = 0; off < len; off += CHUNK) {
        size_t step = len - off < CHUNK ? len - off : CHUNK;
        const char *p = buf + off, *end = p + step;
        while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
            lines++;
            p++;
        }
    }
    return lines;
}

/* CRLF -> LF of the whole buffer in 64 KiB chunks; returns the octets written. */
static size_t convert_all(const char *buf, size_t len, char *out)
{
    size_t total = 0;
    bool held = false;
    for (size_t off = 0; off < len; off += CHUNK) {
        size_t step = len - off < CHUNK ? len - off : CHUNK;
        total += pop3_crlf_to_lf(out, buf + off, step, &held);
    }
    return total;
}

/* The copy the conversion is measured against: the same chunks, memcpy'd. */
static size_t copy_all(const char *buf, size_t len, char *out)
{
    size_t total = 0;
    for (size_t off = 0; off < len; off += CHUNK) {
        size_t step = len - off < CHUNK ? len - off : CHUNK;
        memcpy(out, buf + off, step);
        total += (unsigned char)out[step - 1];
    }
    return total;
}

int main(int argc, char **argv)
{
    /* Both numbers read by the codec's one decimal parser; 1 GiB and 1000 rounds at most. */
    uint64_t mib = 256, rounds = 5;
    bool ok = (argc < 2 || pop3_parse_number(argv[1], strlen(argv[1]), &mib) == POP3_OK) &&
              (argc < 3 || pop3_parse_number(argv[2], strlen(argv[2]), &rounds) == POP3_OK);
    if (!ok || argc > 3 || mib == 0 || mib > 1024 || rounds == 0 || rounds > 1000) {
        fprintf(stderr, "usage: bench_codec [MiB] [rounds]\n");
        return 2;
    }
    size_t target = (size_t)mib << 20;
    char *buf = malloc(target + target / 20 + 64);
    if (!buf) return 1;
    size_t body = 0, len = build(buf, target, &body);

    static char out[CHUNK + 1];
    double best_dec = 1e30, best_scan = 1e30, best_conv = 1e30, best_copy = 1e30;
    size_t lines = 0, delivered = 0, converted = 0, copied = 0;
    for (uint64_t r = 0; r < rounds; r++) {
        double t0 = now();
        if (!decode_all(buf, len, &delivered)) {
            fprintf(stderr, "no end of body\n");
            return 1;
        }
        double t1 = now();
        lines = memchr_lines(buf, len);
        double t2 = now();
        converted = convert_all(buf, len, out);
        double t3 = now();
        copied += copy_all(buf, len, out);
        double t4 = now();
        if (t1 - t0 < best_dec) best_dec = t1 - t0;
        if (t2 - t1 < best_scan) best_scan = t2 - t1;
        if (t3 - t2 < best_conv) best_conv = t3 - t2;
        if (t4 - t3 < best_copy) best_copy = t4 - t3;
    }
    if (delivered != body) {
        fprintf(stderr, "decoder delivered %zu octets, expected %zu\n", delivered, body);
        return 1;
    }
    double mb = (double)len / 1e6;
    double dec = mb / best_dec, scan = mb / best_scan;
    printf("body: %llu MiB wire, %zu lines of %u octets, 3%% dot-stuffed, 64 KiB chunks, best of "
           "%llu\n",
           (unsigned long long)mib, lines, LINE, (unsigned long long)rounds);
    printf("pop3_decode   %9.1f MB/s\n", dec);
    printf("memchr lines  %9.1f MB/s\n", scan);
    printf("ratio decoder/memchr: %.2f (target >= 0.50)\n", dec / scan);
    /* Each CRLF loses its CR, so the conversion writes len - lines - 1 (the
     * terminator's CRLF too) octets; `copied` only keeps the copy from being elided. */
    if (converted != len - lines) {
        fprintf(stderr, "conversion wrote %zu octets, expected %zu\n", converted, len - lines);
        return 1;
    }
    double conv = mb / best_conv, copy = mb / best_copy;
    printf("pop3_crlf_to_lf %7.1f MB/s\n", conv);
    printf("memcpy          %7.1f MB/s (%s)\n", copy, copied ? "64 KiB chunks" : "-");
    printf("ratio conversion/memcpy: %.2f\n", conv / copy);
    free(buf);
    return 0;
}
