/*
 * tls_faults.c - TLS handshakes that fail on purpose (a script's !tls-fault directives).
 *
 * Each fault leaves the client with a TLS failure it must report rather than fall back to
 * plaintext (RFC 2595 section 4, RFC 8314 section 3): the server reads part of the
 * ClientHello and hangs up (abort), answers it with octets that are not TLS (garbage) or
 * with a fatal alert record (RFC 8446 sections 5.1 and 6), or sends only the first
 * octets of its own flight and then closes or stalls (truncate: OpenSSL writes into a
 * memory BIO and only a prefix of it is forwarded).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "pop3/buf.h"
#include "server_internal.h"
#include "tls_server.h"

/* Queue octets a fault sends outside TLS: at most POP3MOCK_TLS_FAULT_MAX (a plan built
 * by a program rather than parsed from a script may ask for more). False when that
 * limit is passed or memory is short: the connection then ends. */
static bool raw_push(pop3mock__conn *c, const void *p, size_t n)
{
    int rc;
    char *nb =
        pop3_array_grow(c->raw, &c->raw_cap, c->raw_len + n, 1, 4096, POP3MOCK_TLS_FAULT_MAX, &rc);
    if (nb == NULL) return false;
    c->raw = nb;
    memcpy(c->raw + c->raw_len, p, n);
    c->raw_len += n;
    return true;
}

/* Send what raw_push queued: 1 all sent, 0 the socket is full, -1 the client is gone. */
static int raw_flush(pop3mock_server *srv, pop3mock__conn *c)
{
    while (c->raw_off < c->raw_len) {
        ssize_t w = send(c->fd, c->raw + c->raw_off, c->raw_len - c->raw_off, MSG_NOSIGNAL);
        if (w > 0) {
            pop3mock__trace_data(srv, c->id, 'S', false, c->raw + c->raw_off, (size_t)w);
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
static int read_hello(pop3mock_server *srv, pop3mock__conn *c)
{
    char buf[POP3MOCK__READ_CHUNK];
    for (;;) {
        ssize_t r = recv(c->fd, buf, sizeof buf, 0);
        if (r == 0) return -1;
        if (r < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
            return -1;
        }
        pop3mock__trace_data(srv, c->id, 'C', false, buf, (size_t)r);
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
static void fault_done(pop3mock_server *srv, pop3mock__conn *c)
{
    if (c->plan.fault == POP3MOCK_TLS_TRUNCATE && c->plan.stall) {
        /* No close_notify and no more TLS: the socket is now only read and dropped. */
        SSL_free(c->ssl);
        c->ssl = NULL;
        c->handshaking = false;
        c->stalled = true;
        pop3mock__trace_event(srv, c->id, false, "stall");
        return;
    }
    pop3mock__conn_end(srv, c, POP3MOCK_END_SESSION, false);
}

/* TRUNCATE: run the handshake into the memory BIO, forward at most plan.n octets. */
static void truncate_step(pop3mock_server *srv, pop3mock__conn *c)
{
    if (!c->cut) {
        int rc = pop3mock__tls_handshake(c->ssl, &c->hs_want);
        if (rc < 0) {
            char why[256];
            pop3mock__trace_event(srv, c->id, false, pop3mock__tls_error(why, sizeof why));
        } else if (rc > 0) {
            pop3mock__trace_event(srv, c->id, false, "handshake done before the cut");
        }
        char buf[POP3MOCK__READ_CHUNK];
        int n;
        bool flight = false;
        while ((n = BIO_read(SSL_get_wbio(c->ssl), buf, (int)sizeof buf)) > 0) {
            flight = true;
            size_t take = (size_t)n;
            if (take > c->plan.n - c->hs_sent) take = c->plan.n - c->hs_sent;
            if (take > 0 && !raw_push(c, buf, take)) {
                pop3mock__conn_end(srv, c, POP3MOCK_END_SESSION, true);
                return;
            }
            c->hs_sent += take;
        }
        /* Cut once n octets are queued (n = 0: once the ClientHello was answered), or
         * when OpenSSL has nothing more to say. */
        if ((flight && c->hs_sent >= c->plan.n) || rc != 0) {
            c->cut = true;
            pop3mock__trace_event(srv, c->id, false, "handshake cut");
        }
    }
    int f = raw_flush(srv, c);
    if (f < 0) {
        pop3mock__conn_end(srv, c, POP3MOCK_END_CLIENT, false);
        return;
    }
    if (f > 0 && c->cut) {
        fault_done(srv, c);
        return;
    }
    /* A memory BIO never blocks a write: the handshake waits for the client. */
    if (f > 0) c->hs_want = POP3MOCK__TLS_WANT_READ;
}

/* GARBAGE, ALERT: wait for the ClientHello, answer it, hang up. */
static void answer_hello(pop3mock_server *srv, pop3mock__conn *c)
{
    if (!c->cut) {
        int r = read_hello(srv, c);
        if (r < 0) {
            pop3mock__conn_end(srv, c, POP3MOCK_END_CLIENT, false);
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
            pop3mock__conn_end(srv, c, POP3MOCK_END_SESSION, true);
            return;
        }
        c->cut = true;
    }
    int f = raw_flush(srv, c);
    if (f < 0)
        pop3mock__conn_end(srv, c, POP3MOCK_END_CLIENT, false);
    else if (f > 0)
        fault_done(srv, c);
}

/* ABORT: a truncated handshake: read part of the ClientHello, then hang up. */
static void abort_step(pop3mock_server *srv, pop3mock__conn *c)
{
    char buf[POP3MOCK__READ_CHUNK];
    ssize_t r = recv(c->fd, buf, sizeof buf, 0);
    if (r > 0) {
        pop3mock__trace_data(srv, c->id, 'C', false, buf, (size_t)r);
        c->hs_read += (size_t)r;
    }
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR) || c->hs_read >= c->plan.n)
        pop3mock__conn_end(srv, c, POP3MOCK_END_SESSION, false);
    c->hs_want = POP3MOCK__TLS_WANT_READ;
}

void pop3mock__tls_fault_step(pop3mock_server *srv, pop3mock__conn *c)
{
    switch (c->plan.fault) {
    case POP3MOCK_TLS_ABORT: abort_step(srv, c); break;
    case POP3MOCK_TLS_GARBAGE:
    case POP3MOCK_TLS_ALERT: answer_hello(srv, c); break;
    case POP3MOCK_TLS_TRUNCATE: truncate_step(srv, c); break;
    case POP3MOCK_TLS_HANDSHAKE: break; /* not a fault: connection.c runs it */
    }
}
