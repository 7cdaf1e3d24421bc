/*
 * session.h - one relayed session: the client's connection, the upstream's, and the
 * script written from what passes between them.
 */
#ifndef POP3RECORD_SESSION_H
#define POP3RECORD_SESSION_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

#include "script_writer.h"
#include "tracker.h"
#include "upstream.h"

/* Default for --timeout: how long the upstream may stay silent while a reply is due
 * (and how long a write or a handshake may take), in seconds. */
#define REC_DEFAULT_TIMEOUT_S 30
/* Default for --max-line: the longest client line, CRLF included. pop3-mock's script
 * mode reads client lines up to its --max-sasl-line (16384), so a longer one could not
 * be replayed. */
#define REC_DEFAULT_MAX_LINE  16384

typedef struct rec_config {
    const char *up_host;
    unsigned up_port;
    rec_up_mode up_mode;
    pop3_tls_options tls;        /* the upstream's trust: --cafile, --insecure */
    SSL_CTX *server_ctx;         /* --tls-cert/--tls-key; NULL: the client cannot have TLS */
    bool implicit_tls;           /* --implicit-tls: the client's handshake comes first */
    int timeout_ms;              /* --timeout */
    size_t max_line;             /* --max-line */
    volatile sig_atomic_t *stop; /* set by a signal: end the session, marked partial */
    /* Case building (--case): told what each reply was; may be NULL. */
    const rec_track_hooks *hooks;
    void *hooks_ctx;
} rec_config;

typedef enum rec_end {
    REC_END_COMPLETE = 0, /* everything relayed is recorded, the session ended normally */
    REC_END_PARTIAL,      /* ended early (timeout, client gone mid-reply, signal, ...) */
    REC_END_UPSTREAM,     /* the upstream could not be reached */
    REC_END_FILE,         /* the script could not be written */
} rec_end;

/*
 * rec_session_run - relay between the accepted client socket `client_fd` (taken over and
 * closed) and the upstream, writing the dialogue to `w`. Returns how the session ended;
 * `why` gets a one-line reason for anything but REC_END_COMPLETE.
 */
rec_end rec_session_run(const rec_config *cfg, int client_fd, rec_writer *w, char *why,
                        size_t whylen);

#endif
