/*
 * buf.c - bounded growth of memory (pop3/buf.h): the capacity policy, arrays, and the
 * byte buffer.
 *
 * No RFC describes this; the limits it enforces are the ones the RFCs leave to
 * implementations (RFC 1939 section 5 puts no bound on a listing, RFC 2449 section 5 none
 * on a CAPA response) and that a client or server must set against a hostile peer.
 */
#include "pop3/buf.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pop3/error.h"

int pop3_grow_cap(size_t cap, size_t need, size_t min, size_t elem, size_t limit, size_t *out)
{
    if (elem == 0) return POP3_EUSAGE;
    /* The largest count whose size in octets is representable: a hard limit of its own. */
    size_t most = SIZE_MAX / elem;
    if (limit == 0 || limit > most) limit = most;
    if (need > limit) return POP3_ELIMIT;
    size_t next = cap > min ? cap : min;
    if (next == 0) next = 1;
    while (next < need) {
        if (next > limit / 2) {
            next = limit; /* doubling would pass the limit: stop at it (>= need) */
            break;
        }
        next *= 2;
    }
    if (next > limit) next = limit;
    *out = next;
    return POP3_OK;
}

void *pop3_array_grow(void *ptr, size_t *cap, size_t need, size_t elem, size_t min, size_t limit,
                      int *error)
{
    int rc = POP3_OK;
    if (need == 0 || elem == 0) {
        rc = POP3_EUSAGE;
    } else if (need <= *cap) {
        return ptr;
    } else {
        size_t next = 0;
        rc = pop3_grow_cap(*cap, need, min, elem, limit, &next);
        if (rc == POP3_OK) {
            void *p = realloc(ptr, next * elem); /* next * elem fits: pop3_grow_cap says so */
            if (p != NULL) {
                *cap = next;
                return p;
            }
            rc = POP3_ENOMEM;
        }
    }
    if (error != NULL) *error = rc;
    return NULL;
}

void pop3_buf_init(pop3_buf *b, size_t limit)
{
    memset(b, 0, sizeof *b);
    b->limit = limit;
}

int pop3_buf_reserve(pop3_buf *b, size_t more)
{
    /* One octet more than the limit allows, always, for the NUL after the contents. */
    size_t limit = b->limit != 0 && b->limit < SIZE_MAX - 1 ? b->limit : SIZE_MAX - 1;
    if (more > limit - b->len) return POP3_ELIMIT;
    size_t need = b->len + more + 1;
    if (b->ptr != NULL && need <= b->cap + 1) return POP3_OK;
    size_t block = b->ptr != NULL ? b->cap + 1 : 0;
    size_t next = 0;
    int rc = pop3_grow_cap(block, need, POP3_BUF_MIN, 1, limit + 1, &next);
    if (rc != POP3_OK) return rc;
    char *p = realloc(b->ptr, next);
    if (p == NULL) return POP3_ENOMEM;
    if (b->ptr == NULL) p[0] = '\0';
    b->ptr = p;
    b->cap = next - 1;
    return POP3_OK;
}

int pop3_buf_append(pop3_buf *b, const void *p, size_t n)
{
    /* Bytes of our own block would move with it: remember where they are as an offset. */
    uintptr_t src = (uintptr_t)p, base = (uintptr_t)b->ptr;
    bool own = b->ptr != NULL && n > 0 && src >= base && src < base + b->cap + 1;
    size_t off = own ? (size_t)(src - base) : 0;
    int rc = pop3_buf_reserve(b, n);
    if (rc != POP3_OK) return rc;
    if (n > 0) memmove(b->ptr + b->len, own ? b->ptr + off : p, n);
    b->len += n;
    b->ptr[b->len] = '\0';
    return POP3_OK;
}

int pop3_buf_putc(pop3_buf *b, char c)
{
    return pop3_buf_append(b, &c, 1);
}

int pop3_buf_vprintf(pop3_buf *b, const char *fmt, va_list ap)
{
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    int rc = n < 0 ? POP3_EUSAGE : pop3_buf_reserve(b, (size_t)n);
    if (rc == POP3_OK) {
        vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, again);
        b->len += (size_t)n;
    }
    va_end(again);
    return rc;
}

int pop3_buf_printf(pop3_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = pop3_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

void pop3_buf_reset(pop3_buf *b)
{
    b->len = 0;
    if (b->ptr != NULL) b->ptr[0] = '\0';
}

void pop3_buf_free(pop3_buf *b)
{
    free(b->ptr);
    pop3_buf_init(b, b->limit);
}

char *pop3_buf_detach(pop3_buf *b, size_t *len)
{
    char *p = b->ptr;
    size_t n = b->len;
    if (p == NULL) {
        p = malloc(1);
        if (p != NULL) p[0] = '\0';
        n = 0;
    }
    if (len != NULL) *len = n;
    pop3_buf_init(b, b->limit);
    return p;
}
