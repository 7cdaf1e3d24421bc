/*
 * fuzz_common.h - what every fuzz target shares: the entry point's prototype, the
 * invariant check that turns a broken promise into a crash libFuzzer can file, a reader
 * for the header bytes that choose a target's settings, and copies of input pieces into
 * blocks of exactly their size, so that AddressSanitizer sees any read past a piece.
 *
 * Header only and static inline: each target is one translation unit plus the library
 * (and, without libFuzzer, replay_main.c).
 */
#ifndef POP3_FUZZ_COMMON_H
#define POP3_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * An invariant of the code under test does not hold. abort() rather than return: the
 * fuzzer files the input as a crash, and the replay driver fails the ctest entry. The
 * message says which promise broke, so a crash report is readable without a debugger.
 */
#define FUZZ_CHECK(cond)                                   \
    do {                                                   \
        if (!(cond)) fuzz_fail(#cond, __FILE__, __LINE__); \
    } while (0)

/* A branch the code under test must never take. */
#define FUZZ_UNREACHABLE(why) fuzz_fail(why, __FILE__, __LINE__)

static inline _Noreturn void fuzz_fail(const char *what, const char *file, int line)
{
    fprintf(stderr, "fuzz invariant broken: %s (%s:%d)\n", what, file, line);
    fflush(stderr);
    abort();
}

/* Out of memory in the harness itself is not a finding: stop loudly all the same. */
static inline void *fuzz_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL) fuzz_fail("harness malloc", __FILE__, __LINE__);
    return p;
}

/*
 * A copy of `n` octets in a block of exactly `n` octets (one when empty). The one octet
 * of an empty copy is set all the same: callers hand the block on as `const char *`, and
 * a compiler that sees an unwritten block passed to a reader (gcc -O2
 * -Wmaybe-uninitialized) is right that nothing defined it.
 */
static inline char *fuzz_dup(const void *p, size_t n)
{
    char *q = fuzz_xmalloc(n);
    if (n)
        memcpy(q, p, n);
    else
        q[0] = '\0';
    return q;
}

/* A NUL-terminated copy, for APIs that take C strings. */
static inline char *fuzz_strdup(const void *p, size_t n)
{
    char *q = fuzz_xmalloc(n + 1);
    if (n) memcpy(q, p, n);
    q[n] = '\0';
    return q;
}

/* The input, consumed from the front: header bytes first, the payload is what remains. */
typedef struct fuzz_input {
    const uint8_t *p;
    size_t len;
} fuzz_input;

/* The next header byte, or 0 once the input is exhausted (short inputs stay valid). */
static inline uint8_t fuzz_byte(fuzz_input *in)
{
    if (in->len == 0) return 0;
    in->len--;
    return *in->p++;
}

/* Is view [p, p+n) inside [base, base+len]? An empty view may sit at the end. */
static inline bool fuzz_inside(const void *p, size_t n, const void *base, size_t len)
{
    uintptr_t a = (uintptr_t)p, b = (uintptr_t)base;
    return a >= b && a <= b + len && n <= b + len - a;
}

/* A growable byte string for transcripts and expected outputs. */
typedef struct fuzz_buf {
    char *p;
    size_t len, cap;
} fuzz_buf;

static inline void fuzz_put(fuzz_buf *b, const void *p, size_t n)
{
    if (n > b->cap - b->len) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->len < n)
            cap *= 2;
        char *q = realloc(b->p, cap);
        if (q == NULL) fuzz_fail("harness realloc", __FILE__, __LINE__);
        b->p = q;
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->len, p, n);
    b->len += n;
}

static inline void fuzz_put_byte(fuzz_buf *b, uint8_t c)
{
    fuzz_put(b, &c, 1);
}

/* A length-prefixed field, so that two transcripts are equal only field by field. */
static inline void fuzz_put_field(fuzz_buf *b, const void *p, size_t n)
{
    uint64_t len = n;
    fuzz_put(b, &len, sizeof len);
    fuzz_put(b, p, n);
}

static inline void fuzz_put_u64(fuzz_buf *b, uint64_t v)
{
    fuzz_put(b, &v, sizeof v);
}

static inline bool fuzz_buf_eq(const fuzz_buf *a, const fuzz_buf *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
}

static inline void fuzz_buf_free(fuzz_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

#endif
