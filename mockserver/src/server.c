/*
 * server.c - the server object: listening socket, epoll loop, timers, stop and wake.
 *
 * One epoll set holds the listening socket, an eventfd that pop3mock_server_stop and
 * pop3mock_server_wake write to (from any thread or a signal handler), and every
 * connection (connection.c). A step waits for the first of: a network event, the
 * earliest timer (a WAIT action, an idle timeout: RFC 1939 section 3 autologout closes
 * the connection without a reply, and the session, freed without QUIT, applies nothing),
 * a wake-up. The library touches nothing of the process: no signal disposition, no
 * resource limit, no output (see pop3mock/server.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pop3/error.h"
#include "pop3/parse.h"
#include "server_internal.h"
#include "tls_server.h"

/* Events handled per epoll_wait call. */
#define MAX_EVENTS   256
/* The longest a step sleeps without a timer due: timers are recomputed at least this
 * often (ms). */
#define MAX_SLEEP_MS 60000

/* epoll data pointers of the two descriptors that are not connections. */
static char listen_tag, wake_tag;

int64_t pop3mock__now_ms(void)
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
}

const char *pop3mock_end_name(pop3mock_end why)
{
    switch (why) {
    case POP3MOCK_END_SESSION: return "closed by the server";
    case POP3MOCK_END_CLIENT: return "closed by the client";
    case POP3MOCK_END_TIMEOUT: return "idle timeout";
    case POP3MOCK_END_TLS: return "TLS failure";
    case POP3MOCK_END_SHUTDOWN: return "server shutdown";
    case POP3MOCK_END_LIMIT: return "output over the max-output limit";
    }
    return "closed";
}

void pop3mock__trace_data(pop3mock_server *srv, unsigned long conn, char dir, bool tls,
                          const char *p, size_t n)
{
    pop3mock__log_data(srv->log, conn, dir, tls, p, n);
    if (srv->cfg.on_transcript != NULL)
        srv->cfg.on_transcript(srv->cfg.callback_ctx, conn, dir, tls, p, n);
}

void pop3mock__trace_event(pop3mock_server *srv, unsigned long conn, bool tls, const char *what)
{
    pop3mock__log_event(srv->log, conn, tls, what);
    if (srv->cfg.on_transcript != NULL)
        srv->cfg.on_transcript(srv->cfg.callback_ctx, conn, POP3MOCK_DIR_EVENT, tls, what,
                               strlen(what));
}

/* The longest host part of a listening address. */
#define LISTEN_HOST_MAX 255

/* "ADDR:PORT" or "[ADDR]:PORT" into its host and its port. The port is a number from 0
 * to 65535 read by the codec's number parser: digits only, so that "+110", " 110",
 * "0x6e" or "99999" is a configuration error rather than whatever the resolver makes
 * of it (a service name, or a port cut to 16 bits). */
static int split_listen(const char *spec, char host[LISTEN_HOST_MAX + 1], const char **port,
                        char *err, size_t errlen)
{
    const char *colon;
    if (spec[0] == '[') {
        const char *close_br = strchr(spec, ']');
        if (close_br == NULL || close_br[1] != ':' ||
            (size_t)(close_br - spec - 1) > LISTEN_HOST_MAX) {
            snprintf(err, errlen, "--listen %s: want ADDR:PORT or [ADDR]:PORT", spec);
            return -1;
        }
        memcpy(host, spec + 1, (size_t)(close_br - spec - 1));
        host[close_br - spec - 1] = '\0';
        colon = close_br + 1;
    } else {
        colon = strrchr(spec, ':');
        if (colon == NULL || (size_t)(colon - spec) > LISTEN_HOST_MAX) {
            snprintf(err, errlen, "--listen %s: want ADDR:PORT", spec);
            return -1;
        }
        memcpy(host, spec, (size_t)(colon - spec));
        host[colon - spec] = '\0';
    }
    *port = colon + 1;
    uint64_t v;
    if (pop3_parse_number(*port, strlen(*port), &v) != POP3_OK || v > 65535) {
        snprintf(err, errlen, "--listen %s: want a port number from 0 to 65535 (0: any free)",
                 spec);
        return -1;
    }
    return 0;
}

pop3mock_server *pop3mock_server_new(const pop3mock_server_config *cfg, const pop3mock_factory *f,
                                     char *err, size_t errlen)
{
    pop3mock_server *srv = calloc(1, sizeof *srv);
    if (srv == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    srv->cfg = *cfg;
    srv->f = *f;
    srv->ep = srv->lfd = -1;
    atomic_init(&srv->stop_request, false);
    srv->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (srv->wakefd < 0) {
        snprintf(err, errlen, "eventfd: %s", strerror(errno));
        goto fail;
    }
    /* A listening address that cannot be right is a configuration error, found here
     * rather than at bind. */
    char host[LISTEN_HOST_MAX + 1];
    const char *port;
    if (cfg->listen == NULL) {
        snprintf(err, errlen, "no listening address");
        goto fail;
    }
    if (split_listen(cfg->listen, host, &port, err, errlen) != 0) goto fail;
    if (cfg->tls_cert != NULL) {
        srv->ctx = pop3mock__tls_ctx_new(
            cfg->tls_cert, cfg->tls_key != NULL ? cfg->tls_key : cfg->tls_cert, err, errlen);
        if (srv->ctx == NULL) goto fail;
    }
    if (cfg->log_path != NULL) {
        srv->log = pop3mock__log_open(cfg->log_path, cfg->log_json, err, errlen);
        if (srv->log == NULL) goto fail;
    }
    return srv;
fail:
    pop3mock_server_free(srv);
    return NULL;
}

/* "ADDR:PORT" or "[ADDR]:PORT" into a bound, listening socket. */
static int open_listener(const char *spec, char *err, size_t errlen)
{
    char host[LISTEN_HOST_MAX + 1];
    const char *port;
    if (split_listen(spec, host, &port, err, errlen) != 0) return -1;
    /* AI_NUMERICSERV: the port was checked above, no service database lookup. */
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host[0] != '\0' ? host : NULL, port, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "--listen %s: %s", spec, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
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
    return fd;
}

int pop3mock_server_bind(pop3mock_server *srv, char *err, size_t errlen)
{
    if (srv->lfd >= 0 || srv->ep >= 0) {
        snprintf(err, errlen, "the server is already bound");
        return -1;
    }
    srv->ep = epoll_create1(EPOLL_CLOEXEC);
    if (srv->ep < 0) {
        snprintf(err, errlen, "epoll: %s", strerror(errno));
        return -1;
    }
    struct epoll_event we = {.events = EPOLLIN, .data.ptr = &wake_tag};
    if (epoll_ctl(srv->ep, EPOLL_CTL_ADD, srv->wakefd, &we) != 0) {
        snprintf(err, errlen, "epoll: %s", strerror(errno));
        return -1;
    }
    srv->lfd = open_listener(srv->cfg.listen, err, errlen);
    if (srv->lfd < 0) return -1;
    struct epoll_event le = {.events = EPOLLIN, .data.ptr = &listen_tag};
    epoll_ctl(srv->ep, EPOLL_CTL_ADD, srv->lfd, &le);

    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char host[256] = "?", serv[32] = "0";
    if (getsockname(srv->lfd, (struct sockaddr *)&ss, &len) == 0)
        getnameinfo((struct sockaddr *)&ss, len, host, sizeof host, serv, sizeof serv,
                    NI_NUMERICHOST | NI_NUMERICSERV);
    /* The port from the address itself: nothing to parse. */
    if (ss.ss_family == AF_INET6)
        srv->port = ntohs(((const struct sockaddr_in6 *)&ss)->sin6_port);
    else if (ss.ss_family == AF_INET)
        srv->port = ntohs(((const struct sockaddr_in *)&ss)->sin_port);
    snprintf(srv->address, sizeof srv->address, ss.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s",
             host, serv);
    return 0;
}

unsigned pop3mock_server_port(const pop3mock_server *srv)
{
    return srv->port;
}

void pop3mock_server_address(const pop3mock_server *srv, char *buf, size_t len)
{
    snprintf(buf, len, "%s", srv->address);
}

size_t pop3mock_server_connections(const pop3mock_server *srv)
{
    return srv->nconns;
}

static void accept_all(pop3mock_server *srv)
{
    for (;;) {
        int fd = accept4(srv->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return; /* EAGAIN, or out of descriptors: try again later */
        int one = 1;
        /* Each write goes out at once, so split and drip faults reach the wire as made. */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (srv->nconns >= srv->cfg.max_sessions || srv->done) {
            close(fd);
            continue;
        }
        unsigned long id = ++srv->next_id;
        pop3mock_session *s = srv->f.open(srv->f.ctx, id);
        if (s == NULL) {
            close(fd);
            continue;
        }
        pop3mock__conn *c = calloc(1, sizeof *c);
        if (c == NULL) {
            pop3mock_session_free(s);
            close(fd);
            continue;
        }
        c->fd = fd;
        c->id = id;
        c->s = s;
        c->events = EPOLLIN;
        c->next = srv->conns;
        srv->conns = c;
        srv->nconns++;
        struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(srv->ep, EPOLL_CTL_ADD, fd, &e);
        pop3mock__trace_event(srv, id, false, "connect");
        pop3mock__conn_touch(srv, c);
        pop3mock__conn_pump(srv, c);
        if (srv->cfg.once) {
            /* One session only: stop listening so a second client is refused. */
            epoll_ctl(srv->ep, EPOLL_CTL_DEL, srv->lfd, NULL);
            close(srv->lfd);
            srv->lfd = -1;
            return;
        }
    }
}

/* Free the connections that ended during the last batch of events. */
static void reap(pop3mock_server *srv)
{
    pop3mock__conn **pp = &srv->conns;
    while (*pp != NULL) {
        pop3mock__conn *c = *pp;
        if (c->dead) {
            *pp = c->next;
            free(c);
        } else {
            pp = &c->next;
        }
    }
}

static void timers(pop3mock_server *srv)
{
    int64_t now = pop3mock__now_ms();
    for (pop3mock__conn *c = srv->conns; c != NULL; c = c->next) {
        if (c->dead) continue;
        if (c->waiting && now >= c->wake_at) {
            c->waiting = false;
            pop3mock_session_ack(c->s, &c->act, 0);
            c->have_act = false;
            pop3mock__conn_pump(srv, c);
        }
        if (!c->dead && c->idle_at != 0 && now >= c->idle_at)
            pop3mock__conn_end(srv, c, POP3MOCK_END_TIMEOUT, false);
    }
}

/* Milliseconds until the earliest timer, capped by `limit` (-1: none). */
static int next_timeout(const pop3mock_server *srv, int limit)
{
    int64_t now = pop3mock__now_ms();
    int64_t best = -1;
    for (const pop3mock__conn *c = srv->conns; c != NULL; c = c->next) {
        if (c->dead) continue;
        if (c->waiting && (best < 0 || c->wake_at < best)) best = c->wake_at;
        if (c->idle_at != 0 && (best < 0 || c->idle_at < best)) best = c->idle_at;
    }
    int64_t wait = best < 0 ? MAX_SLEEP_MS : best <= now ? 0 : best - now;
    if (wait > MAX_SLEEP_MS) wait = MAX_SLEEP_MS;
    if (limit >= 0 && wait > limit) wait = limit;
    return (int)wait;
}

/* Does this session wait for its client and nothing else: no octet to send, no pause
 * or handshake running, nothing unread on its socket? A stalled session (it never sends
 * again) waits too. */
static bool conn_waits_for_client(const pop3mock__conn *c)
{
    if (c->dead) return true;
    if (c->handshaking || c->waiting || c->write_blocked || c->more) return false;
    /* After an IDLE action the pump leaves it in `act` (have_act false): the session has
     * nothing to do until the client sends more. */
    if (!c->stalled && (c->have_act || c->act.kind != POP3MOCK_ACT_IDLE)) return false;
    if (c->ssl != NULL && SSL_has_pending(c->ssl)) return false;
    int unread = 0;
    return ioctl(c->fd, FIONREAD, &unread) == 0 && unread == 0;
}

/* Kept at the end of every step, for pop3mock_server_quiet_since. */
static void note_quiet(pop3mock_server *srv)
{
    bool quiet = true;
    for (const pop3mock__conn *c = srv->conns; c != NULL && quiet; c = c->next)
        quiet = conn_waits_for_client(c);
    if (!quiet)
        atomic_store(&srv->quiet_since, 0);
    else if (atomic_load(&srv->quiet_since) == 0)
        atomic_store(&srv->quiet_since, pop3mock__now_ms());
}

int64_t pop3mock_server_quiet_since(const pop3mock_server *srv)
{
    return atomic_load(&((pop3mock_server *)srv)->quiet_since);
}

static void end_all(pop3mock_server *srv)
{
    for (pop3mock__conn *c = srv->conns; c != NULL; c = c->next)
        pop3mock__conn_end(srv, c, POP3MOCK_END_SHUTDOWN, false);
    reap(srv);
}

static void drain_wake(pop3mock_server *srv)
{
    uint64_t v;
    while (read(srv->wakefd, &v, sizeof v) == (ssize_t)sizeof v)
        ;
}

int pop3mock_server_step(pop3mock_server *srv, int timeout_ms, char *err, size_t errlen)
{
    if (srv->finished) return 0;
    if (srv->ep < 0) {
        snprintf(err, errlen, "the server is not bound");
        return -1;
    }
    if (!srv->done && !atomic_load(&srv->stop_request)) {
        struct epoll_event evs[MAX_EVENTS];
        int n = epoll_wait(srv->ep, evs, MAX_EVENTS, next_timeout(srv, timeout_ms));
        if (n < 0 && errno != EINTR) {
            snprintf(err, errlen, "epoll_wait: %s", strerror(errno));
            return -1;
        }
        for (int i = 0; i < n && !srv->done; i++) {
            void *tag = evs[i].data.ptr;
            if (tag == &wake_tag) {
                drain_wake(srv);
                continue;
            }
            if (tag == &listen_tag) {
                accept_all(srv);
                continue;
            }
            pop3mock__conn *c = tag;
            if (c->dead) continue;
            uint32_t ev = evs[i].events;
            if (ev & EPOLLOUT) {
                c->write_blocked = false;
                pop3mock__conn_pump(srv, c);
            }
            if (!c->dead && (ev & (EPOLLIN | EPOLLHUP | EPOLLERR))) pop3mock__conn_readable(srv, c);
            /* A hung-up socket with nothing left to read or write to would wake the loop
             * forever (level-triggered): the client is gone. */
            if (!c->dead && (ev & (EPOLLHUP | EPOLLERR)) &&
                (c->read_eof || c->waiting || c->stalled))
                pop3mock__conn_end(srv, c, POP3MOCK_END_CLIENT, false);
        }
        timers(srv);
        reap(srv);
        note_quiet(srv);
    }
    if (srv->done || atomic_load(&srv->stop_request)) {
        srv->done = true;
        end_all(srv);
        srv->finished = true;
        return 0;
    }
    return 1;
}

int pop3mock_server_run(pop3mock_server *srv, char *err, size_t errlen)
{
    int rc;
    while ((rc = pop3mock_server_step(srv, -1, err, errlen)) == 1)
        ;
    return rc;
}

void pop3mock_server_stop(pop3mock_server *srv)
{
    atomic_store(&srv->stop_request, true);
    pop3mock_server_wake(srv);
}

void pop3mock_server_wake(pop3mock_server *srv)
{
    uint64_t one = 1;
    /* A full counter (EAGAIN) already wakes the loop. */
    ssize_t w = write(srv->wakefd, &one, sizeof one);
    (void)w;
}

void pop3mock_server_free(pop3mock_server *srv)
{
    if (srv == NULL) return;
    if (srv->ep >= 0) end_all(srv);
    if (srv->ep >= 0) close(srv->ep);
    if (srv->lfd >= 0) close(srv->lfd);
    if (srv->wakefd >= 0) close(srv->wakefd);
    pop3mock__log_close(srv->log);
    if (srv->ctx != NULL) SSL_CTX_free(srv->ctx);
    while (srv->ctxs != NULL) {
        pop3mock__tls_ctx *t = srv->ctxs;
        srv->ctxs = t->next;
        SSL_CTX_free(t->ctx);
        free(t->cert);
        free(t->key);
        free(t);
    }
    free(srv);
}

int pop3mock_server_tls_check(const char *cert, const char *key, char *err, size_t errlen)
{
    SSL_CTX *ctx = pop3mock__tls_ctx_new(cert, key != NULL ? key : cert, err, errlen);
    if (ctx == NULL) return -1;
    SSL_CTX_free(ctx);
    return 0;
}
