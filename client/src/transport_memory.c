/*
 * transport_memory.c - the in-memory transport of pop3/transport_memory.h, for tests.
 *
 * A scripted server: segments of server octets released after the client's n-th write
 * (curl-fuzzer's scheme, so a reply can wait for its command), a read size cap to deliver
 * everything one octet at a time, a record of everything the client wrote, and a marker
 * of where STLS (RFC 2595 section 4) started. starttls refuses to "handshake" over
 * released plaintext the client has not read, as a real TLS handshake would fail on it;
 * the client must catch such bytes itself first (RFC2595-4.8). Failures (a write, the
 * handshake, the end of the stream) can be injected.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pop3/buf.h"
#include "pop3/error.h"
#include "pop3/transport_memory.h"

typedef struct segment {
    char *data;
    size_t len;
    unsigned after_writes;
} segment;

typedef struct memory {
    pop3_transport base;
    segment *segs;
    size_t nsegs, cap;
    size_t cur;   /* segment being read */
    size_t off;   /* octets of it already read */
    size_t chunk; /* read size cap, 0 for none */
    char *out;    /* everything written, NUL-terminated */
    size_t out_len, out_cap;
    unsigned writes;
    unsigned fail_write_nth;
    int fail_write_error;
    int fail_tls_error;
    int end_error;
    bool tls;
    bool closed;
    size_t tls_offset;
    pop3_memory_responder_fn responder;
    void *responder_ud;
} memory;

static memory *as_memory(pop3_transport *t)
{
    return (memory *)t;
}

static bool released(const memory *m, size_t i)
{
    return i < m->nsegs && m->segs[i].after_writes <= m->writes;
}

/* Skip fully read segments. */
static void advance(memory *m)
{
    while (m->cur < m->nsegs && m->off >= m->segs[m->cur].len && released(m, m->cur)) {
        m->cur++;
        m->off = 0;
    }
}

static int mem_read(pop3_transport *t, char *buf, size_t cap, size_t *got, int timeout_ms)
{
    (void)timeout_ms;
    memory *m = as_memory(t);
    *got = 0;
    if (m->closed) {
        strcpy(t->error, "memory transport: read after close");
        return POP3_EIO;
    }
    advance(m);
    if (m->cur >= m->nsegs) {
        strcpy(t->error, m->end_error == POP3_ETLS
                             ? "memory transport: TLS stream ended without close_notify"
                             : "memory transport: end of the scripted server data");
        return m->end_error;
    }
    if (!released(m, m->cur)) {
        strcpy(t->error, "memory transport: no data (the next segment waits for a write)");
        return POP3_ETIMEOUT;
    }
    const segment *s = &m->segs[m->cur];
    size_t n = s->len - m->off;
    if (n > cap) n = cap;
    if (m->chunk && n > m->chunk) n = m->chunk;
    memcpy(buf, s->data + m->off, n);
    m->off += n;
    *got = n;
    return POP3_OK;
}

static int append_out(memory *m, const char *buf, size_t len)
{
    /* The output and its NUL; unbounded but for size_t, as a test may write a lot. */
    int rc = POP3_OK;
    if (len > SIZE_MAX - 1 - m->out_len) return POP3_ELIMIT;
    char *p = pop3_array_grow(m->out, &m->out_cap, m->out_len + len + 1, 1, 256, 0, &rc);
    if (p == NULL) return rc;
    m->out = p;
    memcpy(m->out + m->out_len, buf, len);
    m->out_len += len;
    m->out[m->out_len] = '\0';
    return POP3_OK;
}

static int mem_write(pop3_transport *t, const char *buf, size_t len, int timeout_ms)
{
    (void)timeout_ms;
    memory *m = as_memory(t);
    if (m->closed) {
        strcpy(t->error, "memory transport: write after close");
        return POP3_EIO;
    }
    if (m->fail_write_nth && m->writes + 1 == m->fail_write_nth) {
        m->writes++;
        strcpy(t->error, "memory transport: injected write failure");
        return m->fail_write_error;
    }
    if (append_out(m, buf, len) != POP3_OK) {
        strcpy(t->error, "memory transport: out of memory");
        return POP3_EIO;
    }
    m->writes++;
    if (m->responder) m->responder(m->responder_ud, t, buf, len);
    return POP3_OK;
}

size_t pop3_transport_memory_unread(const pop3_transport *t)
{
    const memory *m = (const memory *)t;
    size_t n = 0;
    for (size_t i = m->cur; i < m->nsegs && released(m, i); i++)
        n += m->segs[i].len - (i == m->cur ? m->off : 0);
    return n;
}

static int mem_starttls(pop3_transport *t, const pop3_tls_options *tls, int timeout_ms)
{
    (void)tls, (void)timeout_ms;
    memory *m = as_memory(t);
    if (m->tls) {
        strcpy(t->error, "TLS session already established");
        return POP3_ESTATE;
    }
    if (m->fail_tls_error != POP3_OK) {
        strcpy(t->error, "memory transport: injected TLS handshake failure");
        return m->fail_tls_error;
    }
    if (pop3_transport_memory_unread(t) > 0) {
        strcpy(t->error, "memory transport: plaintext octets pending at the TLS handshake");
        return POP3_ETLS;
    }
    m->tls = true;
    m->tls_offset = m->out_len;
    return POP3_OK;
}

static bool mem_is_tls(const pop3_transport *t)
{
    return ((const memory *)t)->tls;
}

static void mem_close(pop3_transport *t)
{
    as_memory(t)->closed = true;
}

static const pop3_transport_ops memory_ops = {
    .read = mem_read,
    .write = mem_write,
    .starttls = mem_starttls,
    .is_tls = mem_is_tls,
    .close = mem_close,
};

pop3_transport *pop3_transport_memory_new(void)
{
    memory *m = calloc(1, sizeof *m);
    if (m == NULL) return NULL;
    m->base.ops = &memory_ops;
    m->end_error = POP3_ECLOSED;
    m->tls_offset = (size_t)-1;
    return &m->base;
}

void pop3_transport_memory_free(pop3_transport *t)
{
    if (t == NULL) return;
    memory *m = as_memory(t);
    for (size_t i = 0; i < m->nsegs; i++)
        free(m->segs[i].data);
    free(m->segs);
    free(m->out);
    free(m);
}

int pop3_transport_memory_add(pop3_transport *t, const void *data, size_t len,
                              unsigned after_writes)
{
    memory *m = as_memory(t);
    int rc = POP3_OK;
    segment *p = pop3_array_grow(m->segs, &m->cap, m->nsegs + 1, sizeof *p, 8, 0, &rc);
    if (p == NULL) return rc;
    m->segs = p;
    char *copy = malloc(len ? len : 1);
    if (copy == NULL) return POP3_ENOMEM;
    if (len) memcpy(copy, data, len);
    m->segs[m->nsegs++] = (segment){copy, len, after_writes};
    return POP3_OK;
}

int pop3_transport_memory_add_str(pop3_transport *t, const char *s, unsigned after_writes)
{
    return pop3_transport_memory_add(t, s, strlen(s), after_writes);
}

void pop3_transport_memory_set_chunk(pop3_transport *t, size_t chunk)
{
    as_memory(t)->chunk = chunk;
}

void pop3_transport_memory_set_tls(pop3_transport *t, bool active)
{
    as_memory(t)->tls = active;
}

void pop3_transport_memory_set_end(pop3_transport *t, int error)
{
    as_memory(t)->end_error = error;
}

void pop3_transport_memory_fail_write(pop3_transport *t, unsigned nth, int error)
{
    as_memory(t)->fail_write_nth = nth;
    as_memory(t)->fail_write_error = error;
}

void pop3_transport_memory_fail_starttls(pop3_transport *t, int error)
{
    as_memory(t)->fail_tls_error = error;
}

void pop3_transport_memory_set_responder(pop3_transport *t, pop3_memory_responder_fn fn, void *ud)
{
    as_memory(t)->responder = fn;
    as_memory(t)->responder_ud = ud;
}

const char *pop3_transport_memory_output(const pop3_transport *t, size_t *len)
{
    const memory *m = (const memory *)t;
    if (len) *len = m->out_len;
    return m->out ? m->out : "";
}

unsigned pop3_transport_memory_writes(const pop3_transport *t)
{
    return ((const memory *)t)->writes;
}

size_t pop3_transport_memory_tls_offset(const pop3_transport *t)
{
    return ((const memory *)t)->tls_offset;
}

bool pop3_transport_memory_closed(const pop3_transport *t)
{
    return ((const memory *)t)->closed;
}
