/*
 * server_internal.h - what the server's files share: the server object, one connection,
 * and the few calls between the loop (server.c), the connections (connection.c) and
 * the TLS handshake faults (tls_faults.c).
 */
#ifndef POP3MOCK_SERVER_INTERNAL_H
#define POP3MOCK_SERVER_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "pop3mock/server.h"
#include "transcript.h"

/* Octets read per read() call. */
#define POP3MOCK__READ_CHUNK 16384

typedef struct pop3mock__conn {
    struct pop3mock__conn *next;
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
} pop3mock__conn;

/* A context per certificate a script names (!tls-cert), made at its first handshake. */
typedef struct pop3mock__tls_ctx {
    struct pop3mock__tls_ctx *next;
    char *cert, *key;
    SSL_CTX *ctx;
} pop3mock__tls_ctx;

struct pop3mock_server {
    pop3mock_server_config cfg;
    pop3mock_factory f;
    int ep;
    int lfd;
    int wakefd; /* eventfd: stop and wake write to it */
    unsigned port;
    char address[300];
    SSL_CTX *ctx; /* --tls-cert */
    pop3mock__tls_ctx *ctxs;
    pop3mock__log *log;
    pop3mock__conn *conns;
    size_t nconns;
    unsigned long next_id;
    bool done;                /* the loop decided to finish (once, factory finished) */
    atomic_bool stop_request; /* pop3mock_server_stop */
    /* pop3mock_server_quiet_since: ms since every session waits for its client, 0 if not */
    _Atomic int64_t quiet_since;
    bool finished; /* every connection was ended after done or stop */
};

int64_t pop3mock__now_ms(void);

/* Record octets or an event in the transcript file and the on_transcript callback. */
void pop3mock__trace_data(pop3mock_server *srv, unsigned long conn, char dir, bool tls,
                          const char *p, size_t n);
void pop3mock__trace_event(pop3mock_server *srv, unsigned long conn, bool tls, const char *what);

/* connection.c */
void pop3mock__conn_end(pop3mock_server *srv, pop3mock__conn *c, pop3mock_end why, bool reset);
void pop3mock__conn_touch(pop3mock_server *srv, pop3mock__conn *c);
void pop3mock__conn_pump(pop3mock_server *srv, pop3mock__conn *c);
void pop3mock__conn_readable(pop3mock_server *srv, pop3mock__conn *c);
void pop3mock__conn_update_events(pop3mock_server *srv, pop3mock__conn *c);

/* tls_faults.c: one step of a handshake that fails on purpose (plan.fault is not
 * POP3MOCK_TLS_HANDSHAKE). Ends the connection, or leaves it stalled, when done. */
void pop3mock__tls_fault_step(pop3mock_server *srv, pop3mock__conn *c);

#endif
