/*
 * linescan.c - scans over message bodies that find line ends without a call per line:
 * the body decoder's search for the lines it must look at (linescan.h) and the
 * conversion of a body's CRLF line ends to LF (pop3_crlf_to_lf, pop3/wire.h).
 *
 * RFC 1939 section 3 frames a body as CRLF-ended lines, a "." at the start of a line
 * being stuffing or the terminator. A body of short lines (76 octets is usual, RFC 5322
 * section 2.1.1 asks for at most 78) costs about as much in the per-call overhead of
 * memchr as in the search itself, twice per line when both the decoder and the
 * conversion search. Where SSE2 is available (every x86-64) these look at 16 octets at
 * a time and reach for the single octets only where a decision is due; elsewhere, or
 * with POP3_LINESCAN_SCALAR defined, they fall back to memchr. Both paths give the
 * same results for every input (tests/test_linescan.c compares them with a model).
 */
#include <string.h>

#include "linescan.h"
#include "pop3/wire.h"

#if defined(__SSE2__) && !defined(POP3_LINESCAN_SCALAR)
#include <emmintrin.h>
#define LINESCAN_SSE2 1
#endif

/* Does the LF at in[q] need the decoder's (or the stuffer's) attention? */
static bool stop_here(const char *in, size_t len, size_t q, bool cr_before, bool bare_stops)
{
    bool cr = q > 0 ? in[q - 1] == '\r' : cr_before;
    return (bare_stops && !cr) || (q + 1 < len && in[q + 1] == '.');
}

size_t linescan_body_stop(const char *in, size_t len, size_t from, bool cr_before, bool bare_stops)
{
    size_t i = from;
#ifdef LINESCAN_SSE2
    if (i == 0 && len > 0) {
        if (in[0] == '\n' && stop_here(in, len, 0, cr_before, bare_stops)) return 0;
        i = 1;
    }
    /* A block is loaded once; only a block that holds an LF is loaded again one octet
     * earlier (for the CR) and one later (for the dot): the block at i reads
     * in[i - 1 .. i + 17). */
    const __m128i lf = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r'), dot = _mm_set1_epi8('.');
    /* Without bare_stops every octet counts as a CR before its LF. */
    const __m128i any_before = _mm_set1_epi8(bare_stops ? 0 : -1);
    while (i + 17 <= len) {
        __m128i is_lf =
            _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)(in + i)), lf);
        if (_mm_movemask_epi8(is_lf) == 0) { /* most blocks of a body hold no LF */
            i += 16;
            continue;
        }
        __m128i before = _mm_loadu_si128((const __m128i *)(const void *)(in + i - 1));
        __m128i after = _mm_loadu_si128((const __m128i *)(const void *)(in + i + 1));
        __m128i ordinary = _mm_andnot_si128(_mm_cmpeq_epi8(after, dot),
                                            _mm_or_si128(any_before, _mm_cmpeq_epi8(before, cr)));
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_andnot_si128(ordinary, is_lf));
        if (m) return i + (size_t)__builtin_ctz(m);
        i += 16;
    }
#endif
    while (i < len) {
        const char *nl = memchr(in + i, '\n', len - i);
        if (!nl) return len;
        size_t q = (size_t)(nl - in);
        if (stop_here(in, len, q, cr_before, bare_stops)) return q;
        i = q + 1;
    }
    return len;
}

size_t linescan_bare_lfs(const char *in, size_t len, bool cr_before)
{
    size_t bare = 0, i = 0;
    if (len > 0 && in[0] == '\n' && !cr_before) bare++;
#ifdef LINESCAN_SSE2
    /* The block at i reads in[i - 1 .. i + 16). */
    const __m128i lf = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r');
    for (i = 1; i + 16 <= len; i += 16) {
        __m128i here = _mm_loadu_si128((const __m128i *)(const void *)(in + i));
        __m128i before = _mm_loadu_si128((const __m128i *)(const void *)(in + i - 1));
        unsigned m = (unsigned)_mm_movemask_epi8(
            _mm_andnot_si128(_mm_cmpeq_epi8(before, cr), _mm_cmpeq_epi8(here, lf)));
        bare += (size_t)__builtin_popcount(m);
    }
#endif
    if (i == 0) i = 1; /* in[0] is counted above */
    while (i < len) {
        const char *q = memchr(in + i, '\n', len - i);
        if (!q) break;
        i = (size_t)(q - in);
        if (in[i - 1] != '\r') bare++;
        i++;
    }
    return bare;
}

/* The scalar conversion of in[i..len) into out[o..); returns the new o. */
static size_t crlf_tail(char *out, size_t o, const char *in, size_t i, size_t len, bool *held_cr)
{
    while (i < len) {
        const char *found = memchr(in + i, '\r', len - i);
        size_t q = found ? (size_t)(found - in) : len;
        memcpy(out + o, in + i, q - i);
        o += q - i;
        if (!found) break;
        if (q + 1 == len) {
            *held_cr = true; /* the next chunk says whether an LF follows */
            break;
        }
        if (in[q + 1] != '\n') out[o++] = '\r';
        i = q + 1;
    }
    return o;
}

size_t pop3_crlf_to_lf(char *out, const char *in, size_t len, bool *held_cr)
{
    if (len == 0) return 0;
    size_t o = 0, i = 0;
    if (*held_cr) {
        *held_cr = false;
        if (in[0] != '\n') out[o++] = '\r';
    }
#ifdef LINESCAN_SSE2
    /* Store each block whole, then close the gap of every CR that an LF follows by
     * storing the rest of the block again one octet lower. The block at i reads up to
     * in[i + 32) and writes below out[o + 32), o <= i + 1: both stay inside the
     * buffers while i + 32 <= len. */
    const __m128i cr = _mm_set1_epi8('\r'), lf = _mm_set1_epi8('\n');
    while (i + 32 <= len) {
        __m128i here = _mm_loadu_si128((const __m128i *)(const void *)(in + i));
        _mm_storeu_si128((__m128i *)(void *)(out + o), here);
        __m128i is_cr = _mm_cmpeq_epi8(here, cr);
        if (_mm_movemask_epi8(is_cr) == 0) { /* most blocks of a body hold no CR */
            o += 16;
            i += 16;
            continue;
        }
        __m128i after = _mm_loadu_si128((const __m128i *)(const void *)(in + i + 1));
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_and_si128(is_cr, _mm_cmpeq_epi8(after, lf)));
        size_t dropped = 0;
        while (m) {
            size_t k = (size_t)__builtin_ctz(m);
            m &= m - 1;
            _mm_storeu_si128((__m128i *)(void *)(out + o + k - dropped),
                             _mm_loadu_si128((const __m128i *)(const void *)(in + i + k + 1)));
            dropped++;
        }
        o += 16 - dropped;
        i += 16;
    }
#endif
    return crlf_tail(out, o, in, i, len, held_cr);
}
