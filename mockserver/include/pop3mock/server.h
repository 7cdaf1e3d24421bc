/*
 * pop3mock/server.h - the network side: one epoll loop serving many sessions.
 *
 * The loop accepts connections on one listening socket, asks a factory for a session per
 * connection, and performs the session's actions with non-blocking sockets (and
 * non-blocking OpenSSL for implicit TLS and STLS). It owns every timer: WAIT actions and
 * the per-session idle timeout (RFC 1939 section 3 autologout: at least 10 minutes by
 * default; on expiry the connection is closed without a reply and without UPDATE).
 */
#ifndef POP3MOCK_SERVER_H
#define POP3MOCK_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "pop3mock/session.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Why a connection ended, told to the factory. */
typedef enum pop3mock_end {
    POP3MOCK_END_SESSION = 0, /* the session closed it (QUIT, script end, fault) */
    POP3MOCK_END_CLIENT,      /* the client closed or reset the connection */
    POP3MOCK_END_TIMEOUT,     /* idle timeout */
    POP3MOCK_END_TLS,         /* the TLS handshake or a TLS record failed */
    POP3MOCK_END_SHUTDOWN,    /* the server is stopping (SIGTERM, SIGINT) */
} pop3mock_end;

/* Where sessions come from; the loop knows nothing of maildrops or scripts. */
typedef struct pop3mock_factory {
    /* A session for connection number `conn` (1, 2, ...), or NULL to refuse it. */
    pop3mock_session *(*open)(void *ctx, unsigned long conn);
    /* The connection ended; called before the session is freed. */
    void (*closed)(void *ctx, unsigned long conn, pop3mock_session *s, pop3mock_end why);
    /* True when the server has nothing more to do (every scripted session ran). */
    bool (*finished)(void *ctx);
    void *ctx;
} pop3mock_factory;

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
    FILE *ready;          /* where the ready line goes (stdout) */
} pop3mock_server_config;

void pop3mock_server_config_default(pop3mock_server_config *cfg);

/*
 * pop3mock_server_run - listen, print "pop3-mock listening on ADDR:PORT" to cfg->ready,
 * and serve until SIGTERM or SIGINT, until the first connection ends (once), or until
 * the factory says it is finished. Returns 0; -1 with `err` filled when the server could
 * not listen or the loop failed; -2 when the configuration is wrong (the certificate or
 * key cannot be loaded, the log file cannot be opened).
 */
int pop3mock_server_run(const pop3mock_server_config *cfg, const pop3mock_factory *f, char *err,
                        size_t errlen);

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
