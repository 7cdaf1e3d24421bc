/*
 * pop3mock/session.h - one POP3 server session, sans-I/O.
 *
 * A session is fed the octets a client sent and hands out, one at a time, the actions
 * a transport must perform: send these octets, wait, start TLS, close, reset,
 * half-close, stall. It owns no socket, no clock and no global state, so the epoll
 * server, the unit tests and a fuzz target drive the same code. Two kinds exist: a
 * maildrop session (a correct RFC 1939 / 2449 / 2595 / 5034 / 6856 server, with
 * optional quirks) and a script session (replays a dialogue, see pop3mock/script.h).
 *
 * Driving it:
 *
 *     for (;;) {
 *         pop3mock_session_next(s, &a);
 *         switch (a.kind) {
 *         case POP3MOCK_ACT_SEND: n = write(fd, a.data.ptr, a.data.len); break;
 *         case POP3MOCK_ACT_IDLE: feed what the client sends, up to pop3mock_session_room;
 *         ...
 *         }
 *         pop3mock_session_ack(s, &a, n);
 *     }
 *
 * Back-pressure: a session stops consuming commands while its output is above
 * limits.output_high and produces a long body (RETR) only as its output drains, so the
 * memory of a session is bounded whatever the client does and however large a message is.
 */
#ifndef POP3MOCK_SESSION_H
#define POP3MOCK_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pop3/wire.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Limits of one session; defaults in parentheses (pop3mock_limits_default). */
typedef struct pop3mock_limits {
    /* Longest command line, CRLF included (255, RFC 2449 section 4). A longer one is
     * answered -ERR and discarded as it arrives, without being buffered. */
    size_t max_command;
    /* Longest SASL response line (RFC 5034 section 4 has no limit) (16384). */
    size_t max_sasl_line;
    /* Client octets buffered and not yet answered, pipelined commands (65536). */
    size_t max_input;
    /* Output queued before the session stops producing (65536); a multi-line
     * response is generated in chunks as this drains. */
    size_t output_high;
    /* Output queued at most, octets (16777216). One reply a script or a listing gives
     * whole may pass output_high; past this the session ends (POP3MOCK_END_LIMIT) instead
     * of queueing without bound. 0: the default. */
    size_t max_output;
} pop3mock_limits;

void pop3mock_limits_default(pop3mock_limits *l);

typedef enum pop3mock_action_kind {
    POP3MOCK_ACT_IDLE = 0,   /* nothing to do until the client sends more (or ever: `done`) */
    POP3MOCK_ACT_SEND,       /* send `data`; acknowledge with the octets written */
    POP3MOCK_ACT_WAIT,       /* pause `ms` milliseconds, then acknowledge */
    POP3MOCK_ACT_START_TLS,  /* run the server TLS handshake, then acknowledge */
    POP3MOCK_ACT_CLOSE,      /* close the connection (FIN) */
    POP3MOCK_ACT_RESET,      /* abort the connection (RST, SO_LINGER 0) */
    POP3MOCK_ACT_HALF_CLOSE, /* shut down the sending side, keep reading; then acknowledge */
    POP3MOCK_ACT_STALL,      /* send nothing ever again; keep the connection open */
} pop3mock_action_kind;

/* How a START_TLS handshake goes: a real one, or one of the handshake faults of a
 * dialogue script (mockserver/README.md, "TLS"). Each fault leaves the client with a
 * TLS failure: RFC 8446 section 6 (alerts), RFC 2595 section 4, RFC 8314 section 3. */
typedef enum pop3mock_tls_fault {
    POP3MOCK_TLS_HANDSHAKE = 0, /* a real handshake */
    POP3MOCK_TLS_ABORT,         /* read `n` octets of the client's handshake, then close */
    POP3MOCK_TLS_GARBAGE,       /* answer the ClientHello with `garbage` (not TLS), then close */
    POP3MOCK_TLS_ALERT,         /* answer the ClientHello with fatal alert `n`, then close */
    POP3MOCK_TLS_TRUNCATE,      /* send the first `n` octets of the server's handshake
                                 * flight, then close (or stall, with `stall`) */
} pop3mock_tls_fault;

/* Highest TLS versions a handshake may be capped at (the TLS wire versions, which are
 * also OpenSSL's TLS1_x_VERSION values). */
#define POP3MOCK_TLS_1_0 0x0301u
#define POP3MOCK_TLS_1_1 0x0302u
#define POP3MOCK_TLS_1_2 0x0303u
#define POP3MOCK_TLS_1_3 0x0304u

/* Most octets a TLS fault reads or sends (ABORT's and TRUNCATE's `n`, GARBAGE's octets):
 * 1 GiB. A script asking for more is refused; a plan asking for more ends the
 * connection when the fault runs. */
#define POP3MOCK_TLS_FAULT_MAX (1u << 30)

typedef struct pop3mock_tls_plan {
    pop3mock_tls_fault fault;
    unsigned n;        /* ABORT, TRUNCATE: octets; ALERT: the alert description */
    bool stall;        /* TRUNCATE: stall instead of closing */
    pop3_view garbage; /* GARBAGE: the octets sent */
    const char *cert;  /* PEM chain for this handshake; NULL: the server's (--tls-cert) */
    const char *key;   /* its PEM key; NULL: in the `cert` file */
    /* Highest version offered, POP3MOCK_TLS_1_x; 0: the server's setting (--tls-max).
     * Below 1.2 the server also accepts 1.0 and drops to OpenSSL security level 0, the
     * only level at which OpenSSL 3 still speaks those versions. */
    unsigned max_version;
} pop3mock_tls_plan;

typedef struct pop3mock_action {
    pop3mock_action_kind kind;
    pop3_view data; /* SEND: valid until the next call on the session */
    unsigned ms;    /* WAIT */
    /* START_TLS only: how the handshake goes, or NULL for a real handshake with the
     * server's certificate and settings. Owned by the session's script or options; valid
     * for the life of the session. */
    const pop3mock_tls_plan *tls;
} pop3mock_action;

typedef struct pop3mock_session pop3mock_session;

/* Free a session of any kind. A maildrop session that did not reach QUIT applies
 * nothing (RFC 1939 section 6) and releases its lock. NULL is ignored. */
void pop3mock_session_free(pop3mock_session *s);

/* How many client octets the session accepts now (0 while it is backed up). */
size_t pop3mock_session_room(const pop3mock_session *s);

/* Give the session client octets (at most pop3mock_session_room). Returns how many
 * were taken. Octets beyond a line limit are discarded, never buffered. */
size_t pop3mock_session_feed(pop3mock_session *s, const char *in, size_t len);

/* The client closed its sending side (or the connection dropped). */
void pop3mock_session_eof(pop3mock_session *s);

/* The next action. Only one is outstanding: acknowledge it before asking again. */
void pop3mock_session_next(pop3mock_session *s, pop3mock_action *a);

/* Acknowledge `a`: for SEND, `sent` octets went out (possibly fewer than offered). */
void pop3mock_session_ack(pop3mock_session *s, const pop3mock_action *a, size_t sent);

/* True when the session ended because its output passed limits.max_output. */
bool pop3mock_session_over_limit(const pop3mock_session *s);

/* True once the session has nothing left to do: closed, reset, or the client left. */
bool pop3mock_session_done(const pop3mock_session *s);

/* True while TLS is active on the session (implicit TLS, or after STLS). */
bool pop3mock_session_tls(const pop3mock_session *s);

/*
 * pop3mock_session_run - drive a session in memory: feed `in`, perform every action
 * (WAITs are skipped, START_TLS is acknowledged as if a handshake happened), and append
 * every octet sent to `out` up to `cap` (the rest is counted but dropped). Returns the
 * octets the session produced. For unit tests and fuzz targets.
 */
size_t pop3mock_session_run(pop3mock_session *s, const char *in, size_t len, char *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
