/*
 * output.c - the session's outgoing octets and the transport faults placed among them.
 *
 * Octets live in one growable buffer, compacted as they are sent. A session stops
 * generating output above its output_high limit (see session.c), but one reply given
 * whole (a script's reply, a long listing) can pass it: `max` (limits.max_output) is the
 * hard cap, and passing it ends the session instead of growing without bound. Marks are kept
 * sorted by stream offset; a SEND never crosses a mark, which is how a write boundary,
 * a pause or a close lands on an exact octet.
 */
#include "output.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pop3/buf.h"
#include "pop3/error.h"

void pop3mock__output_init(pop3mock__output *o)
{
    memset(o, 0, sizeof *o);
}

void pop3mock__output_free(pop3mock__output *o)
{
    free(o->buf);
    free(o->marks);
    memset(o, 0, sizeof *o);
}

uint64_t pop3mock__output_end(const pop3mock__output *o)
{
    return o->base + o->len;
}

size_t pop3mock__output_pending(const pop3mock__output *o)
{
    return o->len;
}

bool pop3mock__output_empty(const pop3mock__output *o)
{
    return o->len == 0 && o->mlen == 0 && !o->drip_wait;
}

/* Room for `len` octets at the end of the buffer; NULL, with `failed` set, when there can
 * be none (allocation, or more than `max` octets would be queued). */
static char *room_for(pop3mock__output *o, size_t len)
{
    if (o->failed) return NULL;
    if (o->start > 0 && o->start + o->len + len > o->cap) {
        /* Compact before growing: sent octets are never needed again. */
        memmove(o->buf, o->buf + o->start, o->len);
        o->start = 0;
    }
    if (len > SIZE_MAX - o->start - o->len) {
        o->failed = true;
        return NULL;
    }
    if (o->max != 0 && len > o->max - (o->len < o->max ? o->len : o->max)) {
        o->failed = true;
        o->over_limit = true;
        return NULL;
    }
    int rc = POP3_OK;
    char *nb = pop3_array_grow(o->buf, &o->cap, o->start + o->len + len, 1, 4096, 0, &rc);
    if (nb == NULL) {
        o->failed = true;
        return NULL;
    }
    o->buf = nb;
    return o->buf + o->start + o->len;
}

void pop3mock__output_append(pop3mock__output *o, const void *data, size_t len)
{
    if (len == 0) return;
    char *p = room_for(o, len);
    if (p == NULL) return;
    memcpy(p, data, len);
    o->len += len;
}

char *pop3mock__output_reserve(pop3mock__output *o, size_t len)
{
    if (o->failed || len == 0) return NULL;
    /* Reserving must not fail a session that the octets actually made would not:
     * near the limit the caller appends instead. */
    if (o->max != 0 && len > o->max - (o->len < o->max ? o->len : o->max)) return NULL;
    return room_for(o, len);
}

void pop3mock__output_commit(pop3mock__output *o, size_t len)
{
    o->len += len;
}

void pop3mock__output_str(pop3mock__output *o, const char *s)
{
    pop3mock__output_append(o, s, strlen(s));
}

/* Insert a mark; returns it (valid until the next mark is added), or NULL on OOM. */
static pop3mock__mark *insert_mark(pop3mock__output *o, uint64_t at, pop3mock__mark_kind kind,
                                   unsigned n, unsigned ms)
{
    if (o->failed) return NULL;
    if (at < o->base) at = o->base;
    if (o->mhead > 0 && o->mhead + o->mlen == o->mcap) {
        memmove(o->marks, o->marks + o->mhead, o->mlen * sizeof *o->marks);
        o->mhead = 0;
    }
    int rc = POP3_OK;
    pop3mock__mark *nm =
        pop3_array_grow(o->marks, &o->mcap, o->mhead + o->mlen + 1, sizeof *nm, 16, 0, &rc);
    if (nm == NULL) {
        o->failed = true;
        return NULL;
    }
    o->marks = nm;
    /* Insert after every mark at the same or an earlier offset: marks at one offset
     * apply in the order they were given. */
    size_t i = o->mlen;
    pop3mock__mark *m = o->marks + o->mhead;
    while (i > 0 && m[i - 1].at > at) {
        m[i] = m[i - 1];
        i--;
    }
    m[i] = (pop3mock__mark){.at = at, .kind = kind, .n = n, .ms = ms, .tls = NULL};
    o->mlen++;
    return &m[i];
}

void pop3mock__output_mark_at(pop3mock__output *o, uint64_t at, pop3mock__mark_kind kind,
                              unsigned n, unsigned ms)
{
    insert_mark(o, at, kind, n, ms);
}

void pop3mock__output_mark(pop3mock__output *o, pop3mock__mark_kind kind, unsigned n, unsigned ms)
{
    pop3mock__output_mark_at(o, pop3mock__output_end(o), kind, n, ms);
}

void pop3mock__output_mark_tls(pop3mock__output *o, const pop3mock_tls_plan *plan)
{
    unsigned n = plan != NULL && plan->fault == POP3MOCK_TLS_ABORT ? plan->n : 0;
    pop3mock__mark *m = insert_mark(o, pop3mock__output_end(o), POP3MOCK__MARK_START_TLS, n, 0);
    if (m != NULL) m->tls = plan;
}

static void pop_mark(pop3mock__output *o)
{
    o->mhead++;
    o->mlen--;
    if (o->mlen == 0) o->mhead = 0;
}

void pop3mock__output_next(pop3mock__output *o, pop3mock_action *a)
{
    memset(a, 0, sizeof *a);
    if (o->failed) {
        a->kind = POP3MOCK_ACT_RESET;
        return;
    }
    if (o->drip_wait) {
        a->kind = POP3MOCK_ACT_WAIT;
        a->ms = o->drip_ms;
        return;
    }
    while (o->mlen > 0 && o->marks[o->mhead].at <= o->base) {
        const pop3mock__mark *m = &o->marks[o->mhead];
        switch (m->kind) {
        case POP3MOCK__MARK_BOUNDARY: pop_mark(o); continue;
        case POP3MOCK__MARK_DRIP:
            o->drip_n = m->n;
            o->drip_ms = m->ms;
            pop_mark(o);
            continue;
        case POP3MOCK__MARK_PAUSE:
            a->kind = POP3MOCK_ACT_WAIT;
            a->ms = m->ms;
            return;
        case POP3MOCK__MARK_CLOSE: a->kind = POP3MOCK_ACT_CLOSE; return;
        case POP3MOCK__MARK_RESET: a->kind = POP3MOCK_ACT_RESET; return;
        case POP3MOCK__MARK_HALF_CLOSE: a->kind = POP3MOCK_ACT_HALF_CLOSE; return;
        case POP3MOCK__MARK_START_TLS:
            a->kind = POP3MOCK_ACT_START_TLS;
            a->tls = m->tls;
            return;
        case POP3MOCK__MARK_STALL: a->kind = POP3MOCK_ACT_STALL; return;
        }
    }
    if (o->len == 0) {
        a->kind = POP3MOCK_ACT_IDLE;
        return;
    }
    size_t n = o->len;
    if (o->mlen > 0 && o->marks[o->mhead].at - o->base < n)
        n = (size_t)(o->marks[o->mhead].at - o->base);
    if (o->drip_n > 0 && n > o->drip_n) n = o->drip_n;
    a->kind = POP3MOCK_ACT_SEND;
    a->data.ptr = o->buf + o->start;
    a->data.len = n;
}

void pop3mock__output_ack(pop3mock__output *o, const pop3mock_action *a, size_t n)
{
    switch (a->kind) {
    case POP3MOCK_ACT_SEND:
        if (n > o->len) n = o->len;
        o->start += n;
        o->len -= n;
        o->base += n;
        if (o->len == 0) o->start = 0;
        /* A drip pause follows every full drip write, not a short socket write. */
        if (o->drip_n > 0 && n > 0 && o->drip_ms > 0) o->drip_wait = true;
        break;
    case POP3MOCK_ACT_WAIT:
        if (o->drip_wait) {
            o->drip_wait = false;
            break;
        }
        if (o->mlen > 0) pop_mark(o);
        break;
    case POP3MOCK_ACT_START_TLS:
    case POP3MOCK_ACT_HALF_CLOSE:
        if (o->mlen > 0) pop_mark(o);
        break;
    case POP3MOCK_ACT_CLOSE:
    case POP3MOCK_ACT_RESET:
    case POP3MOCK_ACT_STALL: o->terminal = true; break;
    case POP3MOCK_ACT_IDLE: break;
    }
}
