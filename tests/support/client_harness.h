/*
 * client_harness.h - test support for the client tests: a client on the in-memory
 * transport playing a scripted server, the way curl's test files script one: reply k
 * is released after the client's k-th write, so every reply waits for its command.
 *
 * Header-only (static inline) so that each test file stays one translation unit.
 */
#ifndef POP3_TEST_CLIENT_HARNESS_H
#define POP3_TEST_CLIENT_HARNESS_H

#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "pop3/client.h"
#include "pop3/error.h"
#include "pop3/transport_memory.h"

/* Delivery modes every scripted test runs in: whole replies, then one octet a read. */
static const size_t harness_chunks[] = {0, 1};
#define HARNESS_NCHUNKS 2

typedef struct harness {
    pop3_transport *t;
    pop3_client *c;
    int rc; /* what connect returned */
} harness;

/*
 * Open a client on a scripted server. `replies` is NULL-terminated: replies[0] (the
 * greeting) is released at once, replies[k] after the client's k-th write. `opt` may be
 * NULL. The harness owns both ends; close with harness_close.
 */
static inline harness harness_open(const char *const *replies, size_t chunk,
                                   const pop3_options *opt)
{
    harness h = {0};
    h.t = pop3_transport_memory_new();
    cr_assert(h.t != NULL);
    for (unsigned i = 0; replies && replies[i]; i++)
        cr_assert_eq(pop3_transport_memory_add_str(h.t, replies[i], i), POP3_OK);
    pop3_transport_memory_set_chunk(h.t, chunk);
    cr_assert_eq(pop3_client_new(&h.c, opt), POP3_OK);
    h.rc = pop3_connect_transport(h.c, h.t, "pop.example.org", 110);
    return h;
}

/* As harness_open, and the greeting must be accepted. */
static inline harness harness_start(const char *const *replies, size_t chunk,
                                    const pop3_options *opt)
{
    harness h = harness_open(replies, chunk, opt);
    cr_assert_eq(h.rc, POP3_OK, "connect: %s (%s)", pop3_errname(h.rc), pop3_errmsg(h.c));
    return h;
}

/* Everything the client wrote. */
static inline const char *harness_out(const harness *h)
{
    return pop3_transport_memory_output(h->t, NULL);
}

static inline void harness_close(harness *h)
{
    pop3_client_free(h->c);
    pop3_transport_memory_free(h->t);
    h->c = NULL;
    h->t = NULL;
}

/* A sink that appends to a growing buffer. */
typedef struct harness_buf {
    char *p;
    size_t len, cap;
    unsigned calls;
} harness_buf;

static inline int harness_sink(void *ud, const char *data, size_t len)
{
    harness_buf *b = ud;
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->len + len + 1)
            cap *= 2;
        b->p = realloc(b->p, cap);
        cr_assert(b->p != NULL);
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, len);
    b->len += len;
    b->p[b->len] = '\0';
    b->calls++;
    return POP3_OK;
}

static inline void harness_buf_free(harness_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* Does `hay` contain `needle`? */
static inline bool harness_has(const char *hay, const char *needle)
{
    return strstr(hay, needle) != NULL;
}

#define ASSERT_RC(expr, want)                                                           \
    do {                                                                                \
        int rc_ = (expr);                                                               \
        cr_assert_eq(rc_, (want), "%s: got %s, want %s (%s)", #expr, pop3_errname(rc_), \
                     pop3_errname(want), h.c ? pop3_errmsg(h.c) : "");                  \
    } while (0)

#endif
