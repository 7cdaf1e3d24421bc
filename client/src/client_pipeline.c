/*
 * client_pipeline.c - bulk retrieval: RETR a set of messages, DELE the ones the caller
 * has safely stored; pipelined when the server allows it (RFC 2449 section 6.6).
 *
 * RFC2449-6.6a/b: a PIPELINING server answers strictly in order, so the client keeps a
 * FIFO of the commands in flight and pairs each reply with the head of it. Commands are
 * queued and written in one batch before the next wait for input (client_io.c), at most
 * pipeline_window of them and at most pipeline_max_bytes of command octets in flight,
 * refilled when half the window has been answered.
 * That byte bound is what keeps the pipeline from deadlocking: our writes can only block
 * once the server stops reading, which it does only when its replies to us back up; with
 * a few kilobytes of commands outstanding, the kernel buffers between us and the server
 * hold them all, so a write never waits on a server that waits on us.
 * Without pipelining the window is one command, which gives RETR 1, DELE 1, RETR 2, ...
 * A DELE is only ever queued after the handler's `done` said the body is safe, and a
 * DELE waiting to be sent goes before the next RETR.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdlib.h>
#include <string.h>

#include "client_internal.h"

typedef struct inflight {
    uint64_t msg;
    bool dele;
    size_t bytes;
} inflight;

bool pop3_pipelining_active(const pop3_client *c)
{
    switch (c->opt.pipelining) {
    case POP3_PIPELINING_ON: return true;
    case POP3_PIPELINING_OFF: return false;
    default: return c->capa_known && pop3_capa_find(&c->capa, "PIPELINING") != NULL;
    }
}

/* AUTO and no fresh word on PIPELINING: ask CAPA once in this state. Some servers list
 * PIPELINING only after login (Q31, pop.gmail.com). */
static int refresh_capa(pop3_client *c)
{
    if (c->opt.pipelining != POP3_PIPELINING_AUTO || c->capa_tried) return POP3_OK;
    bool stale = !c->capa_known || (c->capa_after_auth != c->authenticated &&
                                    pop3_capa_find(&c->capa, "PIPELINING") == NULL);
    if (!stale) return POP3_OK;
    int rc = pop3_capa(c, NULL);
    return c->t == NULL ? rc : POP3_OK; /* -ERR: no CAPA, no pipelining */
}

typedef struct sink_ctx {
    const pop3_retrieve_handler *h;
    uint64_t msg;
} sink_ctx;

static int to_handler(void *ud, const char *data, size_t len)
{
    sink_ctx *s = ud;
    return s->h->data(s->h->ud, s->msg, data, len);
}

/* Read the reply at the head of the pipeline. Returns POP3_OK or a fatal error;
 * `*status` gets the per-message outcome. */
static int read_retr(pop3_client *c, const pop3_retrieve_handler *h, uint64_t msg, bool drop,
                     int *status)
{
    snprintf(c->cmdname, sizeof c->cmdname, "RETR");
    int rc = pop3__expect(c, POP3_EXPECT_MULTI, false);
    if (rc != POP3_OK) return rc;
    pop3_status_line st;
    rc = pop3__read_status(c, &st);
    if (rc == POP3_ESERVER) {
        *status = POP3_ESERVER;
        return POP3_OK;
    }
    if (rc != POP3_OK) return rc;
    int verdict = POP3_OK;
    if (!drop && h->begin) {
        verdict = pop3__callback_error(h->begin(h->ud, msg));
    }
    sink_ctx s = {h, msg};
    bool deliver = !drop && verdict == POP3_OK;
    rc = pop3__read_body(c, deliver ? to_handler : NULL, &s);
    if (c->t == NULL) return rc;
    *status = verdict != POP3_OK ? verdict : rc;
    return POP3_OK;
}

static int read_dele(pop3_client *c, const pop3_retrieve_handler *h, uint64_t msg)
{
    snprintf(c->cmdname, sizeof c->cmdname, "DELE");
    int rc = pop3__expect(c, POP3_EXPECT_SINGLE, false);
    if (rc != POP3_OK) return rc;
    pop3_status_line st;
    rc = pop3__read_status(c, &st);
    if (rc != POP3_OK && rc != POP3_ESERVER) return rc;
    if (h->deleted) h->deleted(h->ud, msg, rc);
    return POP3_OK;
}

int pop3_retrieve(pop3_client *c, const uint64_t *msgs, size_t count,
                  const pop3_retrieve_handler *h)
{
    int rc = pop3__need_connection(c);
    if (rc != POP3_OK) return rc;
    snprintf(c->cmdname, sizeof c->cmdname, "RETR");
    if (h == NULL || h->data == NULL || h->done == NULL || (msgs == NULL && count > 0))
        return pop3__fail(c, POP3_EUSAGE, "retrieve: a handler with data and done is needed");
    if (pop3_decoder_idle(c->dec)) {
        rc = pop3__check_unsolicited(c, "before the retrieval");
        if (rc != POP3_OK) return rc;
    }
    rc = refresh_capa(c);
    if (rc != POP3_OK) return rc;

    bool pipe = pop3_pipelining_active(c);
    size_t window = pipe ? c->opt.pipeline_window : 1;
    size_t max_bytes = pipe ? c->opt.pipeline_max_bytes : SIZE_MAX;
    inflight *ring = malloc(window * sizeof *ring);
    uint64_t *dq = malloc((count ? count : 1) * sizeof *dq);
    if (ring == NULL || dq == NULL) {
        free(ring);
        free(dq);
        return pop3__fail(c, POP3_ENOMEM, "out of memory");
    }
    pop3__trace(c, 1, "*retrieve* %zu messages, %s (window %zu)", count,
                pipe ? "pipelined" : "one command at a time", window);

    size_t head = 0, n = 0, bytes = 0; /* the ring: oldest at head, n in flight */
    size_t next = 0, dq_head = 0, dq_tail = 0;
    int stop = POP3_OK;
    rc = POP3_OK;
    for (;;) {
        /* Refill once the window is half empty (mpop's min/max scheme), so commands go
         * out in batches rather than one write per reply. Deletions first, so that a
         * DELE follows its RETR closely. */
        bool refill = n <= window / 2;
        while (refill && n < window) {
            bool dele = dq_head < dq_tail;
            if (!dele && (stop != POP3_OK || next >= count)) break;
            uint64_t msg = dele ? dq[dq_head] : msgs[next];
            char num[24];
            pop3__u64(num, sizeof num, msg);
            size_t len = 4 + 1 + strlen(num) + 2;
            if (n > 0 && bytes + len > max_bytes) break;
            const char *args[] = {num};
            rc = pop3__send(c, dele ? "DELE" : "RETR", args, 1, POP3__SEND_QUEUE, &len);
            if (rc != POP3_OK) {
                /* Replies still due could no longer be paired with their commands. */
                if (n > 0 && c->t) pop3__fatal(c, rc, "%s", c->errmsg);
                goto out;
            }
            if (dele)
                dq_head++;
            else
                next++;
            ring[(head + n) % window] = (inflight){msg, dele, len};
            n++;
            bytes += len;
        }
        if (n == 0) break;

        inflight e = ring[head];
        head = (head + 1) % window;
        n--;
        bytes -= e.bytes;
        if (e.dele) {
            rc = read_dele(c, h, e.msg);
            if (rc != POP3_OK) goto out;
            continue;
        }
        int status = POP3_OK;
        rc = read_retr(c, h, e.msg, stop != POP3_OK, &status);
        if (rc != POP3_OK) goto out;
        if (stop != POP3_OK) continue; /* the run was stopped: replies are only drained */
        int verdict = h->done(h->ud, e.msg, status);
        if (verdict < 0)
            stop = pop3__callback_error(verdict);
        else if (verdict == POP3_DELETE && status == POP3_OK)
            dq[dq_tail++] = e.msg;
    }
    if (stop != POP3_OK)
        rc = pop3__fail(c, stop, "retrieve: stopped by the handler (%s) after %zu of %zu RETR",
                        pop3_errname(stop), next, count);
    else
        rc = pop3__ok(c);
out:
    free(ring);
    free(dq);
    return rc;
}
