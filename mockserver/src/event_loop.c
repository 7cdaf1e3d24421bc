/*
 * event_loop.c - one epoll loop, non-blocking sockets, many sessions at once.
 *
 * Each connection holds one session (sans-I/O, see pop3mock/session.h) and performs
 * its actions: SEND as far as the socket takes it (EPOLLOUT when it is full, so a large
 * RETR never blocks other sessions), WAIT as a timer, START_TLS as a non-blocking
 * OpenSSL handshake (RFC 2595 section 4, RFC 8314 section 3.1), CLOSE, RESET (SO_LINGER
 * 0 gives an RST), HALF_CLOSE (shutdown SHUT_WR), STALL. A connection reads only while
 * its session has room, which pushes back on a client that pipelines faster than it
 * reads. A handshake can also fail on purpose (a script's TLS faults): the server reads
 * the ClientHello and answers it with garbage or a fatal alert record (RFC 8446 section
 * 6), or hangs up partway through, or sends only the first octets of its own flight
 * (OpenSSL writes into a memory BIO and the loop forwards a prefix of it). Each
 * handshake may take its own certificate (contexts are cached per certificate) and a
 * capped TLS version. RFC 1939 section 3 autologout: after idle_timeout seconds without activity
 * the connection is closed without a reply, and the session, freed without QUIT, applies nothing.
 * SIGTERM and SIGINT are only delivered inside epoll_pwait, so the loop stops between two events,
 * never in the middle of one.
 */
#define _POSIX_C_SOURCE 200809L
#include "pop3mock/server.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tls_server.h"
#include "transcript.h"

/* Octets written for one connection before the loop turns to the others. */
#define WRITE_BUDGET (1u << 20)
/* Octets read per read() call. */
#define READ_CHUNK   16384
/* Events handled per epoll_pwait call. */
#define MAX_EVENTS   256

typedef struct conn {
    struct conn *next;
    int fd;
    unsigned long id;
    pop3mock_session *s;
    SSL *ssl;
    bool handshaking;
    int hs_want;            /* what the handshake waits for */
    int io_want;            /* what a blocked SSL_write waits for */
    pop3mock_tls_plan plan; /* how the handshake goes */
    size_t hs_read;         /* faults: octets of the client's handshake read so far */
    unsigned char rec[5];   /* faults: the header of the client's first record */
    char *raw;              /* faults: octets sent outside TLS (garbage, alert, a prefix) */
    size_t raw_len, raw_off, raw_cap;
    size_t hs_sent;      /* TRUNCATE: octets of the server's flight queued so far */
    bool cut;            /* the fault has queued all it sends: close (or stall) once sent */
    pop3mock_action act; /* the action being performed */
    bool have_act;
    bool waiting;    /* a WAIT action is running */
    int64_t wake_at; /* ms, monotonic */
    int64_t idle_at; /* ms, monotonic; 0 = none */
    bool read_eof;
    bool stalled;
    bool write_blocked; /* the socket is full (or TLS wants to read) */
    bool more;          /* the write budget ran out with more to send */
    uint32_t events;
    bool dead;
} conn;

/* A context per certificate a script names (!tls-cert), made at its first handshake. */
typedef struct tls_ctx {
    struct tls_ctx *next;
    char *cert, *key;
    SSL_CTX *ctx;
} tls_ctx;

typedef struct loop {
    const pop3mock_server_config *cfg;
    const pop3mock_factory *f;
    int ep;
    int lfd;
    SSL_CTX *ctx; /* --tls-cert */
    tls_ctx *ctxs;
    pop3mock__log *log;
    conn *conns;
    size_t nconns;
    unsigned long next_id;
    bool stop;
    bool accepted_one;
} loop;

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
    got_signal = sig;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void pop3mock_server_config_default(pop3mock_server_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->listen = "127.0.0.1:0";
    cfg->idle_timeout = 600;
    cfg->max_sessions = 4096;
    cfg->ready = stdout;
}

static void touch(loop *l, conn *c)
{
    if (l->cfg->idle_timeout > 0) c->idle_at = now_ms() + (int64_t)l->cfg->idle_timeout * 1000;
}

static void set_events(loop *l, conn *c, uint32_t ev)
{
    if (c->dead || ev == c->events) return;
    struct epoll_event e = {.events = ev, .data.ptr = c};
    epoll_ctl(l->ep, EPOLL_CTL_MOD, c->fd, &e);
    c->events = ev;
}

static void update_events(loop *l, conn *c)
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
    set_events(l, c, ev);
}

static const char *end_name(pop3mock_end why)
{
    switch (why) {
    case POP3MOCK_END_SESSION: return "closed by the server";
    case POP3MOCK_END_CLIENT: return "closed by the client";
    case POP3MOCK_END_TIMEOUT: return "idle timeout";
    case POP3MOCK_END_TLS: return "TLS failure";
    case POP3MOCK_END_SHUTDOWN: return "server shutdown";
    }
    return "closed";
}

static void end_conn(loop *l, conn *c, pop3mock_end why, bool reset)
{
    if (c->dead) return;
    bool tls = c->ssl != NULL && !c->handshaking;
    pop3mock__log_event(l->log, c->id, tls, end_name(why));
    if (l->f->closed != NULL) l->f->closed(l->f->ctx, c->id, c->s, why);
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
    epoll_ctl(l->ep, EPOLL_CTL_DEL, c->fd, NULL);
    if (reset) {
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    close(c->fd);
    c->dead = true;
    l->nconns--;
    if (l->cfg->once) l->stop = true;
    if (l->f->finished != NULL && l->f->finished(l->f->ctx)) l->stop = true;
}

/* > 0 written, 0 blocked, -1 failed. */
static long conn_write(conn *c, const char *p, size_t n)
{
    if (c->ssl != NULL) {
        long w = pop3mock__tls_write(c->ssl, p, n, &c->io_want);
        return w;
    }
    c->io_want = POP3MOCK__TLS_WANT_WRITE;
    ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
    if (w >= 0) return (long)w;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return 0;
    return -1;
}

/* > 0 read, 0 would block, -1 end of stream or error (`*eof` tells which). */
static long conn_read(conn *c, char *buf, size_t n, bool *eof)
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
static SSL_CTX *ctx_for(loop *l, const char *cert, const char *key, char *err, size_t errlen)
{
    if (cert == NULL) {
        if (l->ctx == NULL) snprintf(err, errlen, "no TLS certificate configured");
        return l->ctx;
    }
    for (tls_ctx *t = l->ctxs; t != NULL; t = t->next)
        if (same(t->cert, cert) && same(t->key, key)) return t->ctx;
    tls_ctx *t = calloc(1, sizeof *t);
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
    t->next = l->ctxs;
    l->ctxs = t;
    return t->ctx;
}

/* Queue octets a fault sends outside TLS. False when out of memory. */
static bool raw_push(conn *c, const void *p, size_t n)
{
    if (c->raw_len + n > c->raw_cap) {
        size_t want = c->raw_cap == 0 ? 4096 : c->raw_cap;
        while (want < c->raw_len + n)
            want *= 2;
        char *nb = realloc(c->raw, want);
        if (nb == NULL) return false;
        c->raw = nb;
        c->raw_cap = want;
    }
    memcpy(c->raw + c->raw_len, p, n);
    c->raw_len += n;
    return true;
}

/* Send what raw_push queued: 1 all sent, 0 the socket is full, -1 the client is gone. */
static int raw_flush(loop *l, conn *c)
{
    while (c->raw_off < c->raw_len) {
        ssize_t w = send(c->fd, c->raw + c->raw_off, c->raw_len - c->raw_off, MSG_NOSIGNAL);
        if (w > 0) {
            pop3mock__log_data(l->log, c->id, 'S', false, c->raw + c->raw_off, (size_t)w);
            c->raw_off += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            c->hs_want = POP3MOCK__TLS_WANT_WRITE;
            return 0;
        }
        return -1;
    }
    c->raw_off = c->raw_len = 0;
    return 1;
}

/* Read the client's first TLS record (its ClientHello): 1 it is all in, or what arrived
 * is not a TLS handshake record; 0 wait for more; -1 the client left. */
static int read_hello(loop *l, conn *c)
{
    char buf[READ_CHUNK];
    for (;;) {
        ssize_t r = recv(c->fd, buf, sizeof buf, 0);
        if (r == 0) return -1;
        if (r < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
            return -1;
        }
        pop3mock__log_data(l->log, c->id, 'C', false, buf, (size_t)r);
        for (size_t i = 0; i < (size_t)r && c->hs_read + i < sizeof c->rec; i++)
            c->rec[c->hs_read + i] = (unsigned char)buf[i];
        c->hs_read += (size_t)r;
        if (c->hs_read < sizeof c->rec) continue;
        /* RFC 8446 section 5.1: type 22 is a handshake record; its length follows the
         * type and the two octets of legacy version. */
        if (c->rec[0] != 22) return 1;
        size_t want = sizeof c->rec + ((size_t)c->rec[3] << 8 | c->rec[4]);
        if (c->hs_read >= want) return 1;
    }
}

/* The fault sent all it was to send: hang up, or stall with the connection open. */
static void fault_done(loop *l, conn *c)
{
    if (c->plan.fault == POP3MOCK_TLS_TRUNCATE && c->plan.stall) {
        /* No close_notify and no more TLS: the socket is now only read and dropped. */
        SSL_free(c->ssl);
        c->ssl = NULL;
        c->handshaking = false;
        c->stalled = true;
        pop3mock__log_event(l->log, c->id, false, "stall");
        return;
    }
    end_conn(l, c, POP3MOCK_END_SESSION, false);
}

/* TRUNCATE: run the handshake into the memory BIO, forward at most plan.n octets. */
static void truncate_step(loop *l, conn *c)
{
    if (!c->cut) {
        int rc = pop3mock__tls_handshake(c->ssl, &c->hs_want);
        if (rc < 0) {
            char why[256];
            pop3mock__log_event(l->log, c->id, false, pop3mock__tls_error(why, sizeof why));
        } else if (rc > 0) {
            pop3mock__log_event(l->log, c->id, false, "handshake done before the cut");
        }
        char buf[READ_CHUNK];
        int n;
        bool flight = false;
        while ((n = BIO_read(SSL_get_wbio(c->ssl), buf, (int)sizeof buf)) > 0) {
            flight = true;
            size_t take = (size_t)n;
            if (take > c->plan.n - c->hs_sent) take = c->plan.n - c->hs_sent;
            if (take > 0 && !raw_push(c, buf, take)) {
                end_conn(l, c, POP3MOCK_END_SESSION, true);
                return;
            }
            c->hs_sent += take;
        }
        /* Cut once n octets are queued (n = 0: once the ClientHello was answered), or
         * when OpenSSL has nothing more to say. */
        if ((flight && c->hs_sent >= c->plan.n) || rc != 0) {
            c->cut = true;
            pop3mock__log_event(l->log, c->id, false, "handshake cut");
        }
    }
    int f = raw_flush(l, c);
    if (f < 0) {
        end_conn(l, c, POP3MOCK_END_CLIENT, false);
        return;
    }
    if (f > 0 && c->cut) {
        fault_done(l, c);
        return;
    }
    /* A memory BIO never blocks a write: the handshake waits for the client. */
    if (f > 0) c->hs_want = POP3MOCK__TLS_WANT_READ;
}

/* GARBAGE, ALERT: wait for the ClientHello, answer it, hang up. */
static void answer_hello(loop *l, conn *c)
{
    if (!c->cut) {
        int r = read_hello(l, c);
        if (r < 0) {
            end_conn(l, c, POP3MOCK_END_CLIENT, false);
            return;
        }
        c->hs_want = POP3MOCK__TLS_WANT_READ;
        if (r == 0) return;
        bool ok;
        if (c->plan.fault == POP3MOCK_TLS_ALERT) {
            /* RFC 8446 sections 5.1 and 6: an alert record, legacy version 3.3, two
             * octets: level fatal (2) and the description. */
            unsigned char alert[7] = {21, 3, 3, 0, 2, 2, (unsigned char)c->plan.n};
            ok = raw_push(c, alert, sizeof alert);
        } else {
            ok = raw_push(c, c->plan.garbage.ptr, c->plan.garbage.len);
        }
        if (!ok) {
            end_conn(l, c, POP3MOCK_END_SESSION, true);
            return;
        }
        c->cut = true;
    }
    int f = raw_flush(l, c);
    if (f < 0)
        end_conn(l, c, POP3MOCK_END_CLIENT, false);
    else if (f > 0)
        fault_done(l, c);
}

/* One step of the handshake; true when it completed. */
static bool handshake(loop *l, conn *c)
{
    switch (c->plan.fault) {
    case POP3MOCK_TLS_ABORT: {
        /* A truncated handshake: read part of the ClientHello, then hang up. */
        char buf[READ_CHUNK];
        ssize_t r = recv(c->fd, buf, sizeof buf, 0);
        if (r > 0) {
            pop3mock__log_data(l->log, c->id, 'C', false, buf, (size_t)r);
            c->hs_read += (size_t)r;
        }
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR) || c->hs_read >= c->plan.n)
            end_conn(l, c, POP3MOCK_END_SESSION, false);
        c->hs_want = POP3MOCK__TLS_WANT_READ;
        return false;
    }
    case POP3MOCK_TLS_GARBAGE:
    case POP3MOCK_TLS_ALERT: answer_hello(l, c); return false;
    case POP3MOCK_TLS_TRUNCATE: truncate_step(l, c); return false;
    case POP3MOCK_TLS_HANDSHAKE: break;
    }
    int rc = pop3mock__tls_handshake(c->ssl, &c->hs_want);
    if (rc == 0) return false;
    if (rc < 0) {
        char why[256];
        pop3mock__log_event(l->log, c->id, false, pop3mock__tls_error(why, sizeof why));
        end_conn(l, c, POP3MOCK_END_TLS, false);
        return false;
    }
    c->handshaking = false;
    pop3mock__log_event(l->log, c->id, true, SSL_get_version(c->ssl));
    pop3mock_session_ack(c->s, &c->act, 0);
    c->have_act = false;
    touch(l, c);
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

static void start_tls(loop *l, conn *c)
{
    if (c->act.tls != NULL) {
        c->plan = *c->act.tls;
    } else {
        /* A driver of the older kind: abort_after alone says "abort". */
        memset(&c->plan, 0, sizeof c->plan);
        c->plan.fault = c->act.abort_after > 0 ? POP3MOCK_TLS_ABORT : POP3MOCK_TLS_HANDSHAKE;
        c->plan.n = c->act.abort_after;
    }
    pop3mock__log_event(l->log, c->id, false, fault_name(c->plan.fault));
    c->handshaking = true;
    c->hs_want = POP3MOCK__TLS_WANT_READ;
    c->hs_read = c->hs_sent = 0;
    c->raw_len = c->raw_off = 0;
    c->cut = false;
    if (c->plan.fault != POP3MOCK_TLS_HANDSHAKE && c->plan.fault != POP3MOCK_TLS_TRUNCATE)
        return; /* these never reach OpenSSL */
    char err[512];
    SSL_CTX *ctx = ctx_for(l, c->plan.cert, c->plan.key, err, sizeof err);
    if (ctx == NULL || (c->ssl = SSL_new(ctx)) == NULL) {
        pop3mock__log_event(l->log, c->id, false, ctx == NULL ? err : "SSL_new failed");
        end_conn(l, c, POP3MOCK_END_TLS, false);
        return;
    }
    unsigned max = c->plan.max_version != 0 ? c->plan.max_version : l->cfg->tls_max_version;
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
        ok = SSL_set_fd(c->ssl, c->fd) == 1;
    }
    if (!ok) {
        char why[256];
        pop3mock__log_event(l->log, c->id, false, pop3mock__tls_error(why, sizeof why));
        end_conn(l, c, POP3MOCK_END_TLS, false);
        return;
    }
    SSL_set_accept_state(c->ssl);
}

/* Perform the session's actions until one has to wait. */
static void pump(loop *l, conn *c)
{
    size_t budget = WRITE_BUDGET;
    c->more = false;
    while (!c->dead) {
        if (c->handshaking) {
            if (!handshake(l, c)) break;
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
                end_conn(l, c, POP3MOCK_END_CLIENT, false);
                return;
            }
            if (n == 0) {
                c->write_blocked = true;
                update_events(l, c);
                return;
            }
            c->write_blocked = false;
            pop3mock__log_data(l->log, c->id, 'S', c->ssl != NULL, a->data.ptr, (size_t)n);
            pop3mock_session_ack(c->s, a, (size_t)n);
            c->have_act = false;
            touch(l, c);
            if ((size_t)n >= budget) {
                c->more = true;
                update_events(l, c);
                return;
            }
            budget -= (size_t)n;
            continue;
        }
        case POP3MOCK_ACT_WAIT:
            c->waiting = true;
            c->wake_at = now_ms() + a->ms;
            break;
        case POP3MOCK_ACT_START_TLS: start_tls(l, c); continue;
        case POP3MOCK_ACT_CLOSE:
            pop3mock_session_ack(c->s, a, 0);
            end_conn(l, c, POP3MOCK_END_SESSION, false);
            return;
        case POP3MOCK_ACT_RESET:
            pop3mock_session_ack(c->s, a, 0);
            end_conn(l, c, POP3MOCK_END_SESSION, true);
            return;
        case POP3MOCK_ACT_HALF_CLOSE:
            if (c->ssl != NULL) SSL_shutdown(c->ssl);
            shutdown(c->fd, SHUT_WR);
            pop3mock__log_event(l->log, c->id, c->ssl != NULL, "half-close");
            pop3mock_session_ack(c->s, a, 0);
            c->have_act = false;
            continue;
        case POP3MOCK_ACT_STALL:
            pop3mock_session_ack(c->s, a, 0);
            pop3mock__log_event(l->log, c->id, c->ssl != NULL, "stall");
            c->have_act = false;
            c->stalled = true;
            break;
        case POP3MOCK_ACT_IDLE:
            c->have_act = false;
            if (c->read_eof && pop3mock_session_done(c->s)) {
                end_conn(l, c, POP3MOCK_END_SESSION, false);
                return;
            }
            break;
        }
        break;
    }
    update_events(l, c);
}

static void readable(loop *l, conn *c)
{
    if (c->handshaking || (c->write_blocked && c->io_want == POP3MOCK__TLS_WANT_READ)) {
        pump(l, c);
        return;
    }
    char buf[READ_CHUNK];
    for (int round = 0; round < 8 && !c->dead && !c->read_eof; round++) {
        size_t room = c->stalled ? sizeof buf : pop3mock_session_room(c->s);
        if (room == 0) break;
        bool eof;
        long n = conn_read(c, buf, room < sizeof buf ? room : sizeof buf, &eof);
        if (n > 0) {
            pop3mock__log_data(l->log, c->id, 'C', c->ssl != NULL, buf, (size_t)n);
            touch(l, c);
            if (!c->stalled) pop3mock_session_feed(c->s, buf, (size_t)n);
            continue;
        }
        if (n == 0) break;
        c->read_eof = true;
        pop3mock__log_event(l->log, c->id, c->ssl != NULL, eof ? "client eof" : "read error");
        if (c->stalled || !eof) {
            end_conn(l, c, POP3MOCK_END_CLIENT, false);
            return;
        }
        pop3mock_session_eof(c->s);
    }
    pump(l, c);
}

static void accept_all(loop *l)
{
    for (;;) {
        int fd = accept(l->lfd, NULL, NULL);
        if (fd < 0) return; /* EAGAIN, or out of descriptors: try again later */
        int fl = fcntl(fd, F_GETFL);
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        int one = 1;
        /* Each write goes out at once, so split and drip faults reach the wire as made. */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (l->nconns >= l->cfg->max_sessions || l->stop) {
            close(fd);
            continue;
        }
        unsigned long id = ++l->next_id;
        pop3mock_session *s = l->f->open(l->f->ctx, id);
        if (s == NULL) {
            close(fd);
            continue;
        }
        conn *c = calloc(1, sizeof *c);
        if (c == NULL) {
            pop3mock_session_free(s);
            close(fd);
            continue;
        }
        c->fd = fd;
        c->id = id;
        c->s = s;
        c->events = EPOLLIN;
        c->next = l->conns;
        l->conns = c;
        l->nconns++;
        struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &e);
        pop3mock__log_event(l->log, id, false, "connect");
        touch(l, c);
        pump(l, c);
        if (l->cfg->once) {
            /* One session only: stop listening so a second client is refused. */
            epoll_ctl(l->ep, EPOLL_CTL_DEL, l->lfd, NULL);
            close(l->lfd);
            l->lfd = -1;
            return;
        }
    }
}

/* Free the connections that ended during the last batch of events. */
static void reap(loop *l)
{
    conn **pp = &l->conns;
    while (*pp != NULL) {
        conn *c = *pp;
        if (c->dead) {
            *pp = c->next;
            free(c);
        } else {
            pp = &c->next;
        }
    }
}

static void timers(loop *l)
{
    int64_t now = now_ms();
    for (conn *c = l->conns; c != NULL; c = c->next) {
        if (c->dead) continue;
        if (c->waiting && now >= c->wake_at) {
            c->waiting = false;
            pop3mock_session_ack(c->s, &c->act, 0);
            c->have_act = false;
            pump(l, c);
        }
        if (!c->dead && c->idle_at != 0 && now >= c->idle_at)
            end_conn(l, c, POP3MOCK_END_TIMEOUT, false);
    }
}

static int next_timeout(const loop *l)
{
    int64_t now = now_ms();
    int64_t best = -1;
    for (const conn *c = l->conns; c != NULL; c = c->next) {
        if (c->dead) continue;
        if (c->waiting && (best < 0 || c->wake_at < best)) best = c->wake_at;
        if (c->idle_at != 0 && (best < 0 || c->idle_at < best)) best = c->idle_at;
    }
    if (best < 0) return -1;
    if (best <= now) return 0;
    return best - now > 60000 ? 60000 : (int)(best - now);
}

/* "ADDR:PORT" or "[ADDR]:PORT" into a bound, listening socket. */
static int open_listener(const char *spec, char *err, size_t errlen)
{
    char host[256];
    const char *port;
    if (spec[0] == '[') {
        const char *close_br = strchr(spec, ']');
        if (close_br == NULL || close_br[1] != ':' ||
            (size_t)(close_br - spec - 1) >= sizeof host) {
            snprintf(err, errlen, "--listen %s: want ADDR:PORT or [ADDR]:PORT", spec);
            return -1;
        }
        memcpy(host, spec + 1, (size_t)(close_br - spec - 1));
        host[close_br - spec - 1] = '\0';
        port = close_br + 2;
    } else {
        const char *colon = strrchr(spec, ':');
        if (colon == NULL || (size_t)(colon - spec) >= sizeof host) {
            snprintf(err, errlen, "--listen %s: want ADDR:PORT", spec);
            return -1;
        }
        memcpy(host, spec, (size_t)(colon - spec));
        host[colon - spec] = '\0';
        port = colon + 1;
    }
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host[0] != '\0' ? host : NULL, port, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "--listen %s: %s", spec, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) continue;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
            snprintf(err, errlen, "--listen %s: %s", spec, strerror(errno));
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0) return -1;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    return fd;
}

static void print_ready(FILE *out, int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char host[256] = "?", serv[32] = "?";
    if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
        getnameinfo((struct sockaddr *)&ss, len, host, sizeof host, serv, sizeof serv,
                    NI_NUMERICHOST | NI_NUMERICSERV);
    if (ss.ss_family == AF_INET6)
        fprintf(out, "pop3-mock listening on [%s]:%s\n", host, serv);
    else
        fprintf(out, "pop3-mock listening on %s:%s\n", host, serv);
    fflush(out);
}

/* Many sessions need many descriptors: take the hard limit (load tests run 1000). */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int pop3mock_server_run(const pop3mock_server_config *cfg, const pop3mock_factory *f, char *err,
                        size_t errlen)
{
    loop l = {.cfg = cfg, .f = f, .ep = -1, .lfd = -1};
    int status = -1;
    raise_fd_limit();
    if (cfg->tls_cert != NULL) {
        l.ctx = pop3mock__tls_ctx_new(
            cfg->tls_cert, cfg->tls_key != NULL ? cfg->tls_key : cfg->tls_cert, err, errlen);
        if (l.ctx == NULL) return -2;
    }
    if (cfg->log_path != NULL) {
        l.log = pop3mock__log_open(cfg->log_path, cfg->log_json, err, errlen);
        if (l.log == NULL) {
            status = -2;
            goto out;
        }
    }
    l.lfd = open_listener(cfg->listen, err, errlen);
    if (l.lfd < 0) goto out;
    l.ep = epoll_create1(EPOLL_CLOEXEC);
    if (l.ep < 0) {
        snprintf(err, errlen, "epoll: %s", strerror(errno));
        goto out;
    }
    struct epoll_event le = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(l.ep, EPOLL_CTL_ADD, l.lfd, &le);

    /* SIGPIPE would kill the server when a client vanishes under an SSL_write. */
    struct sigaction ign = {.sa_handler = SIG_IGN};
    sigaction(SIGPIPE, &ign, NULL);
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigset_t block, waitmask;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigprocmask(SIG_BLOCK, &block, &waitmask);
    sigdelset(&waitmask, SIGTERM);
    sigdelset(&waitmask, SIGINT);
    got_signal = 0;

    print_ready(cfg->ready != NULL ? cfg->ready : stdout, l.lfd);
    status = 0;
    struct epoll_event evs[MAX_EVENTS];
    while (!l.stop && got_signal == 0) {
        int n = epoll_pwait(l.ep, evs, MAX_EVENTS, next_timeout(&l), &waitmask);
        if (n < 0 && errno != EINTR) {
            snprintf(err, errlen, "epoll_pwait: %s", strerror(errno));
            status = -1;
            break;
        }
        for (int i = 0; i < n && !l.stop; i++) {
            conn *c = evs[i].data.ptr;
            if (c == NULL) {
                accept_all(&l);
                continue;
            }
            if (c->dead) continue;
            uint32_t ev = evs[i].events;
            if (ev & (EPOLLOUT)) {
                c->write_blocked = false;
                pump(&l, c);
            }
            if (!c->dead && (ev & (EPOLLIN | EPOLLHUP | EPOLLERR))) readable(&l, c);
            /* A hung-up socket with nothing left to read or write to would wake the loop
             * forever (level-triggered): the client is gone. */
            if (!c->dead && (ev & (EPOLLHUP | EPOLLERR)) &&
                (c->read_eof || c->waiting || c->stalled))
                end_conn(&l, c, POP3MOCK_END_CLIENT, false);
        }
        timers(&l);
        reap(&l);
    }
    for (conn *c = l.conns; c != NULL; c = c->next)
        end_conn(&l, c, POP3MOCK_END_SHUTDOWN, false);
    reap(&l);
    sigprocmask(SIG_UNBLOCK, &block, NULL);
out:
    if (l.ep >= 0) close(l.ep);
    if (l.lfd >= 0) close(l.lfd);
    pop3mock__log_close(l.log);
    if (l.ctx != NULL) SSL_CTX_free(l.ctx);
    while (l.ctxs != NULL) {
        tls_ctx *t = l.ctxs;
        l.ctxs = t->next;
        SSL_CTX_free(t->ctx);
        free(t->cert);
        free(t->key);
        free(t);
    }
    return status;
}

int pop3mock_server_tls_check(const char *cert, const char *key, char *err, size_t errlen)
{
    SSL_CTX *ctx = pop3mock__tls_ctx_new(cert, key != NULL ? key : cert, err, errlen);
    if (ctx == NULL) return -1;
    SSL_CTX_free(ctx);
    return 0;
}
