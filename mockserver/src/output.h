/*
 * output.h - the queue of bytes and transport actions a session wants performed.
 *
 * A session never touches a socket. It appends bytes here, and "marks" at stream
 * offsets: pause, write boundary, drip mode, close, reset, half-close, TLS start,
 * stall. Whoever drives the session (the epoll loop, a test, a fuzz target) pulls
 * one action at a time and acknowledges it, BearSSL style. Marks keyed by offset let
 * a fault hit an exact byte of the stream (RFC 1939 section 3 terminator split at
 * every boundary, close after N octets) without the session knowing about writes.
 */
#ifndef POP3MOCK_OUTPUT_H
#define POP3MOCK_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pop3mock/session.h"

typedef enum pop3mock__mark_kind {
    POP3MOCK__MARK_PAUSE,      /* wait `ms` before sending what follows */
    POP3MOCK__MARK_BOUNDARY,   /* end the current write here */
    POP3MOCK__MARK_DRIP,       /* from here: `n` octets per write, `ms` pause; n 0 ends it */
    POP3MOCK__MARK_CLOSE,      /* close (FIN); what follows is discarded */
    POP3MOCK__MARK_RESET,      /* abort (RST) */
    POP3MOCK__MARK_HALF_CLOSE, /* shutdown the sending side, keep reading */
    POP3MOCK__MARK_START_TLS,  /* TLS handshake (server side) starts here */
    POP3MOCK__MARK_STALL,      /* send nothing more, ever */
} pop3mock__mark_kind;

typedef struct pop3mock__mark {
    uint64_t at; /* stream offset the mark applies before */
    pop3mock__mark_kind kind;
    unsigned n;
    unsigned ms;
    const pop3mock_tls_plan *tls; /* START_TLS: how the handshake goes (NULL: for real) */
} pop3mock__mark;

typedef struct pop3mock__output {
    char *buf;
    size_t start; /* first unsent octet in buf */
    size_t len;   /* unsent octets from start */
    size_t cap;
    uint64_t base; /* stream offset of buf[start] */
    pop3mock__mark *marks;
    size_t mhead, mlen, mcap; /* pending marks are marks[mhead .. mhead + mlen) */
    unsigned drip_n, drip_ms;
    bool drip_wait;  /* a drip write was done: the pause comes next */
    bool terminal;   /* a close, reset or stall was handed out: nothing follows */
    bool failed;     /* out of memory or over `max`: the session must end */
    bool over_limit; /* failed because `max` octets would have been queued */
    size_t max;      /* octets queued at most (0: no limit) */
} pop3mock__output;

void pop3mock__output_init(pop3mock__output *o);
void pop3mock__output_free(pop3mock__output *o);

/* Append octets; on allocation failure, or when more than `max` octets would be queued,
 * `failed` is set (and `over_limit` for the latter) and the octets are dropped. */
void pop3mock__output_append(pop3mock__output *o, const void *data, size_t len);
void pop3mock__output_str(pop3mock__output *o, const char *s);

/* Room for up to `len` octets at the end of the queue, for an encoder to write into
 * directly (one copy fewer than encoding into a buffer and appending it); then
 * pop3mock__output_commit with how many it wrote, before any other call on `o`. NULL
 * when the room would pass `max` (the caller appends instead, which fails the session
 * only if the octets made do) or cannot be had (`failed` is set). */
char *pop3mock__output_reserve(pop3mock__output *o, size_t len);
void pop3mock__output_commit(pop3mock__output *o, size_t len);

/* The stream offset of the next octet to be appended. */
uint64_t pop3mock__output_end(const pop3mock__output *o);

/* Add a mark at stream offset `at` (not before what was already sent); kept in order. */
void pop3mock__output_mark_at(pop3mock__output *o, uint64_t at, pop3mock__mark_kind kind,
                              unsigned n, unsigned ms);
void pop3mock__output_mark(pop3mock__output *o, pop3mock__mark_kind kind, unsigned n, unsigned ms);

/* A START_TLS mark at the end of the queue; `plan` (may be NULL) must outlive the
 * session. */
void pop3mock__output_mark_tls(pop3mock__output *o, const pop3mock_tls_plan *plan);

/* Octets queued and not yet sent. */
size_t pop3mock__output_pending(const pop3mock__output *o);

/* True when neither octets nor marks are pending. */
bool pop3mock__output_empty(const pop3mock__output *o);

/* The next action (IDLE when nothing is queued). */
void pop3mock__output_next(pop3mock__output *o, pop3mock_action *a);

/* Acknowledge the action handed out last: `n` octets of a SEND, or the other kinds. */
void pop3mock__output_ack(pop3mock__output *o, const pop3mock_action *a, size_t n);

#endif
