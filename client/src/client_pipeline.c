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
 * A DELE is only ever queued after the handler's `done` said the body is safe, or later
 * through pop3_retrieve_delete for a message received whole and kept (a sink that syncs
 * in batches), and a DELE waiting to be sent goes before the next RETR.
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

/* What pop3_retrieve_delete needs of the run under way (c->run). */
typedef struct pop3__retrieve_run {
    uint64_t *dq; /* DELE to send: dq[dq_head..dq_tail) */
    size_t dq_head, dq_tail;
    /* Received whole and kept: the messages pop3_retrieve_delete may still delete, in
     * the order they completed (a batch is usually made safe in that order too). */
    uint64_t *kept;
    size_t kept_head, kept_tail;
    bool stopped;
} pop3__retrieve_run;

/* Move `msg` from the kept set to the DELE queue. False when it is not kept. The
 * search runs from the newest: `done` deletes the message it was just given. */
static bool delete_kept(pop3__retrieve_run *run, uint64_t msg)
{
    for (size_t i = run->kept_tail; i-- > run->kept_head;) {
        if (run->kept[i] != msg) continue;
        run->kept[i] = run->kept[run->kept_head++]; /* the oldest takes its place */
        run->dq[run->dq_tail++] = msg;
        return true;
    }
    return false;
}

int pop3_retrieve_delete(pop3_client *c, uint64_t msg)
{
    pop3__retrieve_run *run = c->run;
    if (run == NULL || run->stopped || !delete_kept(run, msg)) return POP3_EUSAGE;
    return POP3_OK;
}

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
    pop3__retrieve_run run = {0};
    /* Every message is queued for DELE at most once, and kept at most once. */
    run.dq = malloc((count ? count : 1) * sizeof *run.dq);
    run.kept = malloc((count ? count : 1) * sizeof *run.kept);
    if (ring == NULL || run.dq == NULL || run.kept == NULL) {
        free(ring);
        free(run.dq);
        free(run.kept);
        return pop3__fail(c, POP3_ENOMEM, "out of memory");
    }
    c->run = &run;
    pop3__trace(c, 1, "*retrieve* %zu messages, %s (window %zu)", count,
                pipe ? "pipelined" : "one command at a time", window);

    size_t head = 0, n = 0, bytes = 0; /* the ring: oldest at head, n in flight */
    size_t next = 0;
    int stop = POP3_OK;
    rc = POP3_OK;
    for (;;) {
        /* Refill once the window is half empty (mpop's min/max scheme), so commands go
         * out in batches rather than one write per reply. Deletions first, so that a
         * DELE follows its RETR closely. */
        bool refill = n <= window / 2;
        while (refill && n < window) {
            bool dele = run.dq_head < run.dq_tail;
            if (!dele && (stop != POP3_OK || next >= count)) break;
            uint64_t msg = dele ? run.dq[run.dq_head] : msgs[next];
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
                run.dq_head++;
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
        /* Kept before `done` runs, so that a sink flushing its batch right there can
         * already delete this message too. */
        if (status == POP3_OK) run.kept[run.kept_tail++] = e.msg;
        int verdict = h->done(h->ud, e.msg, status);
        if (verdict < 0) {
            stop = pop3__callback_error(verdict);
            run.stopped = true;
        } else if (verdict == POP3_DELETE && status == POP3_OK) {
            (void)delete_kept(&run, e.msg); /* not found: done deleted it already */
        }
    }
    if (stop != POP3_OK)
        rc = pop3__fail(c, stop, "retrieve: stopped by the handler (%s) after %zu of %zu RETR",
                        pop3_errname(stop), next, count);
    else
        rc = pop3__ok(c);
out:
    c->run = NULL;
    free(ring);
    free(run.dq);
    free(run.kept);
    return rc;
}
