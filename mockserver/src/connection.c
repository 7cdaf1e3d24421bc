/*
 * connection.c - one connection of the server: a session's actions on a non-blocking
 * socket.
 *
 * SEND goes as far as the socket takes it (EPOLLOUT when it is full, so a large RETR
 * never blocks other sessions), WAIT is a timer, START_TLS a non-blocking OpenSSL
 * handshake (RFC 2595 section 4, RFC 8314 section 3.1) or one of the handshake faults of
 * tls_faults.c, CLOSE, RESET (SO_LINGER 0 gives an RST), HALF_CLOSE (shutdown SHUT_WR),
 * STALL. A connection reads only while its session has room, which pushes back on a
 * client that pipelines faster than it reads. Each handshake may take its own
 * certificate (contexts are cached per certificate) and a capped TLS version.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server_internal.h"
#include "tls_server.h"

/* Octets written for one connection before the loop turns to the others. */
#define WRITE_BUDGET (1u << 20)

void pop3mock__conn_touch(pop3mock_server *srv, pop3mock__conn *c)
{
    if (srv->cfg.idle_timeout > 0)
        c->idle_at = pop3mock__now_ms() + (int64_t)srv->cfg.idle_timeout * 1000;
}

static void set_events(pop3mock_server *srv, pop3mock__conn *c, uint32_t ev)
{
    if (c->dead || ev == c->events) return;
    struct epoll_event e = {.events = ev, .data.ptr = c};
    epoll_ctl(srv->ep, EPOLL_CTL_MOD, c->fd, &e);
    c->events = ev;
}

void pop3mock__conn_update_events(pop3mock_server *srv, pop3mock__conn *c)
{
    if (c->dead) return;
    uint32_t ev = 0;
    if (c->handshaking) {
        ev = c->hs_want == POP3MOCK__TLS_WANT_WRITE ? EPOLLOUT : EPOLLIN;
    } else {
        if (!c->read_eof && (c->stalled || pop3mock_session_room(c->s) > 0)) ev |= EPOLLIN;
        if (c->write_blocked || c->more)
            ev |= c->io_want == POP3MOCK__TLS_WANT_READ ? EPOLLIN : EPOLLOUT;
    }
    set_events(srv, c, ev);
}

void pop3mock__conn_end(pop3mock_server *srv, pop3mock__conn *c, pop3mock_end why, bool reset)
{
    if (c->dead) return;
    bool tls = c->ssl != NULL && !c->handshaking;
    const char *name = pop3mock_end_name(why);
    pop3mock__trace_event(srv, c->id, tls, name);
    /* A script session settles its verdict with the reason (a no-op for a maildrop). */
    pop3mock_script_session_finish(c->s, name);
    if (srv->f.closed != NULL) srv->f.closed(srv->f.ctx, c->id, c->s, why);
    if (srv->cfg.on_session_end != NULL) {
        pop3mock_session_end e = {.conn = c->id, .why = why, .report = ""};
        e.verdict = pop3mock_script_session_result(c->s, &e.report);
        srv->cfg.on_session_end(srv->cfg.callback_ctx, &e);
    }
    pop3mock_session_free(c->s);
    c->s = NULL;
    if (c->ssl != NULL) {
        /* RFC 8314 section 3.4: close_notify before closing, best effort. */
        if (tls && !reset && why == POP3MOCK_END_SESSION) SSL_shutdown(c->ssl);
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    free(c->raw);
    c->raw = NULL;
    epoll_ctl(srv->ep, EPOLL_CTL_DEL, c->fd, NULL);
    if (reset) {
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    close(c->fd);
    c->dead = true;
    srv->nconns--;
    if (srv->cfg.once) srv->done = true;
    if (srv->f.finished != NULL && srv->f.finished(srv->f.ctx)) srv->done = true;
}

/* > 0 written, 0 blocked, -1 failed. */
static long conn_write(pop3mock__conn *c, const char *p, size_t n)
{
    if (c->ssl != NULL) return pop3mock__tls_write(c->ssl, p, n, &c->io_want);
    c->io_want = POP3MOCK__TLS_WANT_WRITE;
    ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
    if (w >= 0) return (long)w;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return 0;
    return -1;
}

/* > 0 read, 0 would block, -1 end of stream or error (`*eof` tells which). */
static long conn_read(pop3mock__conn *c, char *buf, size_t n, bool *eof)
{
    *eof = false;
    if (c->ssl != NULL) {
        int want;
        long r = pop3mock__tls_read(c->ssl, buf, n, &want);
        if (r > 0) return r;
        if (r == 0 && want != POP3MOCK__TLS_WANT_NONE) {
            if (want == POP3MOCK__TLS_WANT_WRITE) c->io_want = want;
            return 0;
        }
        *eof = r == 0;
        return -1;
    }
    ssize_t r = recv(c->fd, buf, n, 0);
    if (r > 0) return (long)r;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return 0;
    *eof = r == 0;
    return -1;
}

static bool same(const char *a, const char *b)
{
    return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* The context for a certificate (NULL: --tls-cert's), or NULL with `err` filled. */
static SSL_CTX *ctx_for(pop3mock_server *srv, const char *cert, const char *key, char *err,
                        size_t errlen)
{
    if (cert == NULL) {
        if (srv->ctx == NULL) snprintf(err, errlen, "no TLS certificate configured");
        return srv->ctx;
    }
    for (pop3mock__tls_ctx *t = srv->ctxs; t != NULL; t = t->next)
        if (same(t->cert, cert) && same(t->key, key)) return t->ctx;
    pop3mock__tls_ctx *t = calloc(1, sizeof *t);
    if (t == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    t->cert = strdup(cert);
    t->key = key != NULL ? strdup(key) : NULL;
    if (t->cert == NULL || (key != NULL && t->key == NULL)) {
        snprintf(err, errlen, "out of memory");
    } else {
        t->ctx = pop3mock__tls_ctx_new(cert, key != NULL ? key : cert, err, errlen);
    }
    if (t->ctx == NULL) {
        free(t->cert);
        free(t->key);
        free(t);
        return NULL;
    }
    t->next = srv->ctxs;
    srv->ctxs = t;
    return t->ctx;
}

/* One step of the handshake; true when it completed. */
static bool handshake(pop3mock_server *srv, pop3mock__conn *c)
{
    if (c->plan.fault != POP3MOCK_TLS_HANDSHAKE) {
        pop3mock__tls_fault_step(srv, c);
        return false;
    }
    int rc = pop3mock__tls_handshake(c->ssl, &c->hs_want);
    if (rc == 0) return false;
    if (rc < 0) {
        char why[256];
        pop3mock__trace_event(srv, c->id, false, pop3mock__tls_error(why, sizeof why));
        pop3mock__conn_end(srv, c, POP3MOCK_END_TLS, false);
        return false;
    }
    c->handshaking = false;
    pop3mock__trace_event(srv, c->id, true, SSL_get_version(c->ssl));
    pop3mock_session_ack(c->s, &c->act, 0);
    c->have_act = false;
    pop3mock__conn_touch(srv, c);
    return true;
}

static const char *fault_name(pop3mock_tls_fault f)
{
    switch (f) {
    case POP3MOCK_TLS_HANDSHAKE: return "tls-start";
    case POP3MOCK_TLS_ABORT: return "tls-start (fault: abort)";
    case POP3MOCK_TLS_GARBAGE: return "tls-start (fault: garbage)";
    case POP3MOCK_TLS_ALERT: return "tls-start (fault: alert)";
    case POP3MOCK_TLS_TRUNCATE: return "tls-start (fault: truncate)";
    }
    return "tls-start";
}

static void start_tls(pop3mock_server *srv, pop3mock__conn *c)
{
    if (c->act.tls != NULL) {
        c->plan = *c->act.tls;
    } else {
        memset(&c->plan, 0, sizeof c->plan); /* a real handshake, the server's settings */
    }
    pop3mock__trace_event(srv, c->id, false, fault_name(c->plan.fault));
    c->handshaking = true;
    c->hs_want = POP3MOCK__TLS_WANT_READ;
    c->hs_read = c->hs_sent = 0;
    c->raw_len = c->raw_off = 0;
    c->cut = false;
    if (c->plan.fault != POP3MOCK_TLS_HANDSHAKE && c->plan.fault != POP3MOCK_TLS_TRUNCATE)
        return; /* these never reach OpenSSL */
    char err[512];
    SSL_CTX *ctx = ctx_for(srv, c->plan.cert, c->plan.key, err, sizeof err);
    if (ctx == NULL || (c->ssl = SSL_new(ctx)) == NULL) {
        pop3mock__trace_event(srv, c->id, false, ctx == NULL ? err : "SSL_new failed");
        pop3mock__conn_end(srv, c, POP3MOCK_END_TLS, false);
        return;
    }
    unsigned max = c->plan.max_version != 0 ? c->plan.max_version : srv->cfg.tls_max_version;
    bool ok = pop3mock__tls_cap(c->ssl, max) == 0;
    if (ok && c->plan.fault == POP3MOCK_TLS_TRUNCATE) {
        /* Reads come from the socket; writes go to memory, so that only a prefix of the
         * server's flight reaches the client. */
        BIO *rb = BIO_new_socket(c->fd, BIO_NOCLOSE);
        BIO *wb = BIO_new(BIO_s_mem());
        if (rb != NULL && wb != NULL) {
            SSL_set_bio(c->ssl, rb, wb);
        } else {
            BIO_free(rb);
            BIO_free(wb);
            ok = false;
        }
    } else if (ok) {
        BIO *b = pop3mock__tls_socket_bio(c->fd);
        if (b != NULL)
            SSL_set_bio(c->ssl, b, b);
        else
            ok = false;
    }
    if (!ok) {
        char why[256];
        pop3mock__trace_event(srv, c->id, false, pop3mock__tls_error(why, sizeof why));
        pop3mock__conn_end(srv, c, POP3MOCK_END_TLS, false);
        return;
    }
    SSL_set_accept_state(c->ssl);
}

/* Perform the session's actions until one has to wait. */
void pop3mock__conn_pump(pop3mock_server *srv, pop3mock__conn *c)
{
    size_t budget = WRITE_BUDGET;
    c->more = false;
    while (!c->dead) {
        if (c->handshaking) {
            if (!handshake(srv, c)) break;
            continue;
        }
        if (c->waiting || c->stalled) break;
        if (!c->have_act) {
            pop3mock_session_next(c->s, &c->act);
            c->have_act = true;
        }
        pop3mock_action *a = &c->act;
        switch (a->kind) {
        case POP3MOCK_ACT_SEND: {
            long n = conn_write(c, a->data.ptr, a->data.len);
            if (n < 0) {
                pop3mock__conn_end(srv, c, POP3MOCK_END_CLIENT, false);
                return;
            }
            if (n == 0) {
                c->write_blocked = true;
                pop3mock__conn_update_events(srv, c);
                return;
            }
            c->write_blocked = false;
            pop3mock__trace_data(srv, c->id, 'S', c->ssl != NULL, a->data.ptr, (size_t)n);
            pop3mock_session_ack(c->s, a, (size_t)n);
            c->have_act = false;
            pop3mock__conn_touch(srv, c);
            if ((size_t)n >= budget) {
                c->more = true;
                pop3mock__conn_update_events(srv, c);
                return;
            }
            budget -= (size_t)n;
            continue;
        }
        case POP3MOCK_ACT_WAIT:
            c->waiting = true;
            c->wake_at = pop3mock__now_ms() + a->ms;
            break;
        case POP3MOCK_ACT_START_TLS: start_tls(srv, c); continue;
        case POP3MOCK_ACT_CLOSE:
            pop3mock_session_ack(c->s, a, 0);
            pop3mock__conn_end(srv, c, POP3MOCK_END_SESSION, false);
            return;
        case POP3MOCK_ACT_RESET:
            pop3mock_session_ack(c->s, a, 0);
            pop3mock__conn_end(srv, c,
                               pop3mock_session_over_limit(c->s) ? POP3MOCK_END_LIMIT
                                                                 : POP3MOCK_END_SESSION,
                               true);
            return;
        case POP3MOCK_ACT_HALF_CLOSE:
            if (c->ssl != NULL) SSL_shutdown(c->ssl);
            shutdown(c->fd, SHUT_WR);
            pop3mock__trace_event(srv, c->id, c->ssl != NULL, "half-close");
            pop3mock_session_ack(c->s, a, 0);
            c->have_act = false;
            continue;
        case POP3MOCK_ACT_STALL:
            pop3mock_session_ack(c->s, a, 0);
            pop3mock__trace_event(srv, c->id, c->ssl != NULL, "stall");
            c->have_act = false;
            c->stalled = true;
            break;
        case POP3MOCK_ACT_IDLE:
            c->have_act = false;
            if (c->read_eof && pop3mock_session_done(c->s)) {
                pop3mock__conn_end(srv, c, POP3MOCK_END_SESSION, false);
                return;
            }
            break;
        }
        break;
    }
    pop3mock__conn_update_events(srv, c);
}

void pop3mock__conn_readable(pop3mock_server *srv, pop3mock__conn *c)
{
    if (c->handshaking || (c->write_blocked && c->io_want == POP3MOCK__TLS_WANT_READ)) {
        pop3mock__conn_pump(srv, c);
        return;
    }
    char buf[POP3MOCK__READ_CHUNK];
    for (int round = 0; round < 8 && !c->dead && !c->read_eof; round++) {
        size_t room = c->stalled ? sizeof buf : pop3mock_session_room(c->s);
        if (room == 0) break;
        bool eof;
        long n = conn_read(c, buf, room < sizeof buf ? room : sizeof buf, &eof);
        if (n > 0) {
            pop3mock__trace_data(srv, c->id, 'C', c->ssl != NULL, buf, (size_t)n);
            pop3mock__conn_touch(srv, c);
            if (!c->stalled) pop3mock_session_feed(c->s, buf, (size_t)n);
            continue;
        }
        if (n == 0) break;
        c->read_eof = true;
        pop3mock__trace_event(srv, c->id, c->ssl != NULL, eof ? "client eof" : "read error");
        if (c->stalled || !eof) {
            pop3mock__conn_end(srv, c, POP3MOCK_END_CLIENT, false);
            return;
        }
        pop3mock_session_eof(c->s);
    }
    pop3mock__conn_pump(srv, c);
}
