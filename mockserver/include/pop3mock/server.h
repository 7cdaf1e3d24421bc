/*
 * pop3mock/server.h - the network side: one epoll loop serving many sessions, as an
 * object a test program embeds.
 *
 * The server accepts connections on one listening socket, asks a factory for a session
 * per connection, and performs the session's actions with non-blocking sockets (and
 * non-blocking OpenSSL for implicit TLS and STLS). It owns every timer: WAIT actions and
 * the per-session idle timeout (RFC 1939 section 3 autologout: at least 10 minutes by
 * default; on expiry the connection is closed without a reply and without UPDATE).
 *
 * Lifecycle:
 *
 *     pop3mock_server *srv = pop3mock_server_new(&cfg, &factory, err, sizeof err);
 *     pop3mock_server_bind(srv, err, sizeof err);   // listening: the port is known
 *     unsigned port = pop3mock_server_port(srv);
 *     pop3mock_server_run(srv, err, sizeof err);    // or pop3mock_server_step in a loop
 *     pop3mock_server_free(srv);
 *
 * pop3mock_server_stop may be called from any thread, or from a signal handler, while
 * run or step is blocked in another: it writes to a wake-up descriptor (an eventfd) that
 * the loop watches. The library installs no signal handler, changes no resource limit
 * and writes nothing to stdout or stderr: what it has to say goes to the callbacks, the
 * transcript file and the `err` buffers. Writes never raise SIGPIPE (MSG_NOSIGNAL, also
 * under TLS).
 */
#ifndef POP3MOCK_SERVER_H
#define POP3MOCK_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pop3mock/script.h"
#include "pop3mock/session.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Why a connection ended, told to the factory and to on_session_end. */
typedef enum pop3mock_end {
    POP3MOCK_END_SESSION = 0, /* the session closed it (QUIT, script end, fault) */
    POP3MOCK_END_CLIENT,      /* the client closed or reset the connection */
    POP3MOCK_END_TIMEOUT,     /* idle timeout */
    POP3MOCK_END_TLS,         /* the TLS handshake or a TLS record failed */
    POP3MOCK_END_SHUTDOWN,    /* the server is stopping (pop3mock_server_stop, free) */
    POP3MOCK_END_LIMIT,       /* the session's output passed limits.max_output */
} pop3mock_end;

/* "closed by the client", ...: the text used in transcripts and script reports. */
const char *pop3mock_end_name(pop3mock_end why);

/* Where sessions come from; the loop knows nothing of maildrops or scripts. */
typedef struct pop3mock_factory {
    /* A session for connection number `conn` (1, 2, ...), or NULL to refuse it. */
    pop3mock_session *(*open)(void *ctx, unsigned long conn);
    /* The connection ended; called before the session is freed. May be NULL. */
    void (*closed)(void *ctx, unsigned long conn, pop3mock_session *s, pop3mock_end why);
    /* True when the server has nothing more to do (every scripted session ran). May be
     * NULL. */
    bool (*finished)(void *ctx);
    void *ctx;
} pop3mock_factory;

/* How a session ended, for on_session_end. Valid during the call only. */
typedef struct pop3mock_session_end {
    unsigned long conn;
    pop3mock_end why;
    /* A script session: POP3MOCK_SCRIPT_PASSED, or POP3MOCK_SCRIPT_DEPARTED with
     * `report` saying where the client parted from the script. A maildrop session has
     * no script to follow: POP3MOCK_SCRIPT_RUNNING and "". */
    pop3mock_script_result verdict;
    const char *report;
} pop3mock_session_end;

/* Transcript directions given to on_transcript. */
#define POP3MOCK_DIR_CLIENT 'C' /* octets the client sent */
#define POP3MOCK_DIR_SERVER 'S' /* octets the server sent */
#define POP3MOCK_DIR_EVENT  'E' /* text: "connect", "tls-start", "client eof", ... */

typedef struct pop3mock_server_config {
    const char *listen;    /* "ADDR:PORT", "[V6ADDR]:PORT" ("127.0.0.1:0") */
    unsigned idle_timeout; /* seconds without client activity (600); 0 = none */
    bool once;             /* serve one connection, then stop */
    size_t max_sessions;   /* connections at once (4096); more are closed at once */
    const char *tls_cert;  /* PEM certificate chain, or NULL */
    const char *tls_key;   /* PEM private key, or NULL */
    /* Highest TLS version offered, POP3MOCK_TLS_1_x (pop3mock/session.h); 0 = OpenSSL's
     * highest. A script's !tls-max overrides it for its handshakes. */
    unsigned tls_max_version;
    const char *log_path; /* transcript file, or NULL */
    bool log_json;        /* JSON lines instead of text */
    /* Called on the thread that runs the server, in order, for every chunk of octets
     * each way and every connection event (`dir` POP3MOCK_DIR_*). May be NULL. */
    void (*on_transcript)(void *ctx, unsigned long conn, char dir, bool tls, const char *data,
                          size_t len);
    /* Called once per connection, after the factory's `closed`. May be NULL. */
    void (*on_session_end)(void *ctx, const pop3mock_session_end *end);
    void *callback_ctx;
} pop3mock_server_config;

void pop3mock_server_config_default(pop3mock_server_config *cfg);

typedef struct pop3mock_server pop3mock_server;

/*
 * pop3mock_server_new - a server that will serve `f`'s sessions as `cfg` says. Checks
 * the listening address (PORT is digits, 0 to 65535), loads the certificate and opens
 * the transcript file, so a configuration error shows before anything listens. The strings of `cfg`
 * and the factory's context must outlive the server; both structs are copied. Returns NULL with
 * `err` filled.
 */
pop3mock_server *pop3mock_server_new(const pop3mock_server_config *cfg, const pop3mock_factory *f,
                                     char *err, size_t errlen);

/*
 * pop3mock_server_bind - create the listening socket (cfg->listen). From its return the
 * kernel queues connections, so a client may connect before run or step is called.
 * Returns 0, or -1 with `err` filled (address in use, bad address).
 */
int pop3mock_server_bind(pop3mock_server *srv, char *err, size_t errlen);

/* The bound port (0 before bind). */
unsigned pop3mock_server_port(const pop3mock_server *srv);

/* The bound address as "ADDR:PORT" or "[ADDR]:PORT" into `buf` ("" before bind). */
void pop3mock_server_address(const pop3mock_server *srv, char *buf, size_t len);

/*
 * pop3mock_server_step - one turn of the loop: wait up to `timeout_ms` (-1: until
 * something happens) for network events, timers or a wake-up, and handle them. Returns 1
 * while the server goes on, 0 once it has finished (stopped, `once` served, the factory
 * finished; every connection was then ended), -1 with `err` filled on a failure of the
 * loop itself.
 */
int pop3mock_server_step(pop3mock_server *srv, int timeout_ms, char *err, size_t errlen);

/* Step until the server finishes. Returns 0, or -1 with `err` filled. */
int pop3mock_server_run(pop3mock_server *srv, char *err, size_t errlen);

/*
 * pop3mock_server_stop - ask the server to finish: run returns (and step returns 0) at
 * its next turn, ending every connection with POP3MOCK_END_SHUTDOWN. Safe from any
 * thread and from a signal handler (an atomic flag and a write to an eventfd).
 */
void pop3mock_server_stop(pop3mock_server *srv);

/*
 * pop3mock_server_quiet_since - since when (CLOCK_MONOTONIC milliseconds) every session
 * has been waiting for its client: nothing left to send, no pause (!delay, !drip) or TLS
 * handshake running, nothing unread on its socket; a stalled session counts as waiting,
 * and so does a server without sessions. 0 while some session has something to do. Kept
 * at the end of every step, readable from any thread: a test harness that also sees its
 * client blocked can tell a dialogue that stands still from one that is only slow.
 */
int64_t pop3mock_server_quiet_since(const pop3mock_server *srv);

/* Wake a blocked step or run without stopping it (a signal handler that wants the
 * loop's thread to look at something). Async-signal-safe, like stop. */
void pop3mock_server_wake(pop3mock_server *srv);

/* Number of connections open now. */
size_t pop3mock_server_connections(const pop3mock_server *srv);

/* End every connection (POP3MOCK_END_SHUTDOWN), close every descriptor, free. NULL is
 * ignored. Not to be called while run or step is running in another thread. */
void pop3mock_server_free(pop3mock_server *srv);

/*
 * pop3mock_server_tls_check - can the server use this certificate chain and key (PEM;
 * `key` NULL: in the `cert` file)? For certificates a script names, checked before the
 * server listens. Returns 0, or -1 with "FILE: OpenSSL's reason" in `err`.
 */
int pop3mock_server_tls_check(const char *cert, const char *key, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
